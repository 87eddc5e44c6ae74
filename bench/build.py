"""Measure Postil builds on generated corpora.

    python bench/build.py [--articles N ...] [--jobs J] [--seed S] [--keep DIR]

For each N (default 1000) it generates a corpus with ``bench/generate.py``
(into a temporary folder, or ``DIR/articles-N`` with ``--keep``), then times

* a **cold** build: into a fresh, empty output folder, with no parsed-article
  cache (``.postil-cache/`` in the site folder is deleted first), and
* a **no-change** build: the same site again into the same output folder and
  with the cache the cold build left; it must find every file unchanged and
  write none,

and prints a Markdown table per N, ready to paste into a note. See
``bench/README.md`` for what each figure means.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Run from anywhere without installing: the repository root holds ``builder/``
# and ``bench/``.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.generate import generate_site, read_stamp, stamp_for  # noqa: E402
from builder import __version__  # noqa: E402
from builder.pipeline import BuildOptions, build  # noqa: E402
from builder.problems import BuildFailed  # noqa: E402

try:  # the parsed-article cache, in the site folder; absent from older builders
    from builder.cache import CACHE_DIR  # noqa: E402
except ImportError:  # pragma: no cover
    CACHE_DIR = ".postil-cache"

#: ``ru_maxrss`` is in KiB on Linux and the BSDs, in bytes on macOS
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024


@dataclass
class Measure:
    """One timed build."""

    name: str
    articles: int
    pages: int  # .html files produced
    files: int  # every output file (pages, feeds, static files, ...)
    seconds: float
    written: int
    unchanged: int
    removed: int
    touched: list[str]  # a few of the written and removed names, for the no-change check
    rss_self: float  # MiB, high-water mark of this process so far
    rss_children: float  # MiB, high-water mark of the largest finished child so far

    @property
    def ms_per_article(self) -> float:
        return self.seconds * 1000 / self.articles if self.articles else 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def peak_rss() -> tuple[float, float]:
    """(this process, its largest waited-for child) peak resident set size, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own * _RSS_UNIT / 2**20, children * _RSS_UNIT / 2**20


def timed_build(name: str, site: Path, output: Path, jobs: int | None,
                use_cache: bool) -> Measure:
    """Build ``site`` into ``output`` once and measure it."""
    gc.collect()  # start each build from the same heap state
    options = BuildOptions(output=output, jobs=jobs)
    if not use_cache:
        options.cache = False  # checked to exist in main()
    started = time.perf_counter()
    result = build(site, options)
    seconds = time.perf_counter() - started
    report = result.report
    assert report is not None  # write=True always returns a report
    own, children = peak_rss()
    return Measure(
        name=name, articles=len(result.site.articles),
        pages=sum(1 for path in result.files if path.endswith(".html")),
        files=len(result.files), seconds=seconds, written=len(report.written),
        unchanged=report.unchanged, removed=len(report.removed),
        touched=(report.written + report.removed)[:5],
        rss_self=own, rss_children=children,
    )


def corpus(root: Path, articles: int, seed: int, entities: int = 0) -> tuple[Path, str]:
    """The site folder for ``articles``, generated unless a kept one already matches."""
    site = root / f"articles-{articles}" if not entities else \
        root / f"articles-{articles}-entities-{entities}"
    if read_stamp(site) == stamp_for(articles, seed, entities):
        return site, "reused from an earlier run"
    stats = generate_site(articles, site, seed=seed, entities=entities, force=True)
    if hasattr(os, "sync"):  # flush the fresh corpus now, not during the timed cold build
        os.sync()
    return site, (f"{stats.bytes / 2**20:.1f} MiB of Markdown, "
                  f"generated in {stats.seconds:.2f} s")


def _n(value: float, digits: int = 0) -> str:
    """A number with thousands separators: easy to read in a note."""
    return f"{value:,.{digits}f}"


def table(measures: list[Measure]) -> str:
    header = ("| build | articles | pages | files | seconds | ms/article | pages/s "
              "| written | unchanged | peak RSS MiB (self) | peak RSS MiB (children) |")
    rule = "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    rows = [header, rule]
    for m in measures:
        rows.append(f"| {m.name} | {_n(m.articles)} | {_n(m.pages)} | {_n(m.files)} "
                    f"| {m.seconds:.2f} | {m.ms_per_article:.2f} | {_n(m.pages_per_second)} "
                    f"| {_n(m.written)} | {_n(m.unchanged)} | {_n(m.rss_self)} "
                    f"| {_n(m.rss_children)} |")
    return "\n".join(rows)


def run(root: Path, sizes: list[int], jobs: int | None, seed: int, use_cache: bool,
        entities: int = 0) -> bool:
    """Measure every size; print as it goes. False if a build failed."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    print(f"## Postil {__version__} build benchmark\n")
    print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
          f"{os.cpu_count()} CPUs, jobs={workers}{'' if jobs else ' (default)'}, "
          f"seed {seed}, article cache {'on' if use_cache else 'off'}"
          f"{f', {entities} entities, autolink on' if entities else ''}\n", flush=True)
    for size in sizes:
        site, made = corpus(root, size, seed, entities)
        output = site / "public"
        # The cold build starts from nothing: no output and no parsed-article cache.
        shutil.rmtree(output, ignore_errors=True)
        shutil.rmtree(site / CACHE_DIR, ignore_errors=True)
        print(f"### {_n(size)} articles\n\ncorpus: {made}\n", flush=True)
        try:
            cold = timed_build("cold", site, output, jobs, use_cache)
            again = timed_build("no-change", site, output, jobs, use_cache)
        except BuildFailed as exc:
            print(f"build failed with {len(exc.problems)} problem(s):", file=sys.stderr)
            for problem in exc.problems[:20]:
                print(f"  {problem}", file=sys.stderr)
            return False
        print(table([cold, again]) + "\n", flush=True)
        if again.written or again.removed:
            print(f"note: the no-change build wrote {again.written} and removed "
                  f"{again.removed} file(s); it should touch none (unless the builder or "
                  f"theme was edited during the run): {', '.join(again.touched)}\n",
                  flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time cold and no-change Postil builds.")
    parser.add_argument("--articles", type=int, nargs="+", default=[1000], metavar="N",
                        help="corpus sizes to measure, smallest first (default 1000)")
    parser.add_argument("--jobs", type=int, default=None, metavar="J",
                        help="worker processes for the build (default: one per core)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--no-cache", dest="cache", action="store_false",
                        help="build without the parsed-article cache (BuildOptions.cache)")
    parser.add_argument("--entities", type=int, default=0, metavar="E",
                        help="also an entity registry of E entities, autolink on (default 0)")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="generate into DIR/articles-N and keep it (reused when the "
                             "size and seed match); default: a temporary folder")
    args = parser.parse_args(argv)
    if any(size < 1 for size in args.articles) or (args.jobs is not None and args.jobs < 1):
        parser.error("sizes and --jobs must be 1 or more")
    if not args.cache and not hasattr(BuildOptions(), "cache"):
        parser.error("--no-cache: this builder has no article cache")
    # Peak RSS only grows within a process: measure small corpora before large ones.
    sizes = sorted(dict.fromkeys(args.articles))
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return 0 if run(args.keep, sizes, args.jobs, args.seed, args.cache,
                        args.entities) else 1
    with tempfile.TemporaryDirectory(prefix="postil-bench-") as temp:
        return 0 if run(Path(temp), sizes, args.jobs, args.seed, args.cache,
                        args.entities) else 1


if __name__ == "__main__":
    sys.exit(main())
