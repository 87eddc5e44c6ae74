"""What search costs: the Pagefind index (builder/search.py) on generated corpora.

    python bench/search.py [--articles N ...] [--entities E] [--keep DIR] [--jobs J]

For each N (default 1000) it generates a corpus with ``bench/generate.py`` (whose
``site.yml`` says ``search: false``: the speed goals are measured without search),
then builds it, each build in this process with ``builder.pipeline.build``:

1. cold, ``search: false`` (the speed issue's cold build);
2. cold, ``search: true``, into a fresh folder: the same plus the index; the
   ``search`` stage is the time Pagefind and Postil's handling of its files took;
3. no-change, ``search: true``: must not run Pagefind (counted, not timed);
4. one article's body edited, ``search: true``: Pagefind runs again on every
   indexed page (Pagefind has no incremental mode).

It prints one Markdown table: the search column is what search adds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import builder.search as search  # noqa: E402
from bench.generate import generate_site, read_stamp, stamp_for  # noqa: E402
from builder.pipeline import BuildOptions, build  # noqa: E402


def set_search(site: Path, on: bool) -> None:
    config = site / "site.yml"
    text = re.sub(r"(?m)^search: .*$", f"search: {'true' if on else 'false'}",
                  config.read_text(encoding="utf-8"))
    config.write_text(text, encoding="utf-8")


def timed(site: Path, out: Path, jobs: int | None, cold: bool) -> tuple[float, dict]:
    if cold:
        shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    result = build(site, BuildOptions(output=out, jobs=jobs, cache=not cold, fresh=cold))
    return time.perf_counter() - started, result.timings


def size_of(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def measure(n: int, entities: int, keep: Path | None, jobs: int | None) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="postil-search-bench-"))
    site = (keep / f"articles-{n}" if keep else work / "site")
    if not (keep and read_stamp(site) == stamp_for(n, 1, entities)):
        generate_site(n, site, 1, entities, force=True)
    runs: list[Path] = []
    real = search.run_pagefind

    def counted(pages: Path, output: Path, language: str) -> None:
        runs.append(pages)
        real(pages, output, language)

    search.run_pagefind = counted
    try:
        shutil.rmtree(site / ".postil-cache", ignore_errors=True)
        set_search(site, False)
        off, _ = timed(site, work / "off", jobs, cold=True)
        set_search(site, True)
        shutil.rmtree(site / ".postil-cache", ignore_errors=True)
        on, timings = timed(site, work / "on", jobs, cold=True)
        files, size = size_of(work / "on" / "pagefind")
        before = len(runs)
        same, same_t = timed(site, work / "on", jobs, cold=False)
        no_change_runs = len(runs) - before
        first = sorted((site / "content").glob("*.md"))[0]
        first.write_text(first.read_text(encoding="utf-8") + "\nOne more sentence.\n",
                         encoding="utf-8")
        edit, edit_t = timed(site, work / "on", jobs, cold=False)
    finally:
        search.run_pagefind = real
        set_search(site, False)
        shutil.rmtree(work, ignore_errors=True)
    return [f"| {n:,} | {entities:,} | {off:.2f} | {on:.2f} | {timings['search']:.2f} | "
            f"{100 * (on - off) / off:+.0f}% | {size / 2**20:.1f} | {files:,} | "
            f"{same:.2f} ({no_change_runs} runs) | {edit:.2f} ({edit_t.get('search', 0):.2f}) |"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1000])
    parser.add_argument("--entities", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{os.cpu_count()} cores, Pagefind {search.executable()}")
    print()
    print("| articles | entities | cold, search off (s) | cold, search on (s) | search stage (s) "
          "| search adds | index MiB | index files | no-change (s, Pagefind runs) "
          "| one article edited (s; search stage) |")
    print("| --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |")
    for n in sorted(args.articles):
        for line in measure(n, args.entities, args.keep, args.jobs):
            print(line, flush=True)
    print()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
