"""Mutation tests of the incremental logic: break it on purpose, see a test fail.

    python bench/mutations.py [--only NAME ...] [--list] [--keep]

Each mutation below is a small, deliberate bug in what decides whether earlier
work may be reused (a signature that leaves something out, a reuse that
trusts too much). For each, the script copies the working tree to a
temporary folder, applies the mutation there (the tree itself is never
touched), runs the rebuild tests against that copy and reports whether some
test failed ("killed") or none did ("survived"). A surviving mutation is a
hole in the tests. The script exits 1 if any survives, or if a mutation no
longer applies (the code it patches moved: update the mutation).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = ["tests/test_incremental.py", "tests/test_rebuild_regressions.py",
         "tests/test_writer_sync.py", "tests/test_cache.py", "tests/test_oracle.py",
         "tests/test_search.py"]


@dataclass(frozen=True)
class Mutation:
    name: str
    what: str  # the bug, in words
    path: str  # the file it patches, relative to the repository
    old: str  # text that must occur exactly once
    new: str


_SKIP = '''        name = item.name
'''
MUTATIONS = [
    Mutation("links", "a page no longer depends on the articles its body links to "
             "(resolved bodies and link targets left out of signatures)",
             "builder/fingerprint.py", _SKIP,
             _SKIP + '''        if name in ("body_html", "link_targets"):
            continue
'''),
    Mutation("related", "a page no longer depends on its related articles",
             "builder/fingerprint.py", _SKIP,
             _SKIP + '''        if name == "related":
            continue
'''),
    Mutation("neighbours", "an article page no longer depends on its neighbours",
             "builder/fingerprint.py", '''    for key in keys:
''', '''    for key in keys:
        if key in ("newer", "older"):
            continue
'''),
    Mutation("term-name", "a tag page's signature leaves out the tag's name",
             "builder/fingerprint.py", _SKIP,
             _SKIP + '''        if kind.__name__ == "Term" and name == "name":
            continue
'''),
    Mutation("term-count", "a tag page's signature leaves out the tag's count",
             "builder/fingerprint.py", _SKIP,
             _SKIP + '''        if kind.__name__ == "Term" and name == "count":
            continue
'''),
    Mutation("site", "a page whose template reads site does not depend on the site",
             "builder/outputs.py", '''        return f"{own}{SITE_MARK}{self.whole_site()}"''',
             '''        return own'''),
    Mutation("config", "signatures leave out the configuration",
             "builder/outputs.py", '''    return fingerprint((code_fingerprint(), config))''',
             '''    return fingerprint((code_fingerprint(),))'''),
    Mutation("search-pages", "the search index does not depend on the pages it indexes",
             "builder/search.py",
             '''tuple((name, signatures[name]) for name in names))''', '''())'''),
    Mutation("search-order", "Pagefind's filter files are kept in the order it wrote them",
             "builder/search.py", '''                data[1].sort(key=lambda value: value[0])
''', ""),
    Mutation("memory", "the preview's builder reuses a page whatever its signature",
             "builder/outputs.py",
             '''        return found[1] if found is not None and found[0] == signature else None''',
             '''        return found[1] if found is not None else None'''),
    Mutation("disk-bytes", "a page is reused from disk without checking its bytes or stat",
             "builder/writer.py",
             '''                    return handle.read() if record.matches(info) else None''',
             '''                    return handle.read()'''),
    Mutation("size-alone", "the writer keeps a file whose size matches, whatever its bytes",
             "builder/writer.py",
             '''                    and read_regular(self._base + name) == data:''',
             ''':'''),
    Mutation("stat-without-digest", "the writer trusts a file's recorded stat even when "
             "the new bytes differ from the recorded ones", "builder/writer.py",
             "if record is not None and record.inode is not None and record.digest == found:",
             "if record is not None and record.inode is not None:"),
    Mutation("no-pending-manifest", "files are created before the manifest names them, "
             "so a crash leaves files no build removes", "builder/writer.py",
             "        if new:  # known", "        if False:  # known"),
    Mutation("no-folder-rollback", "a failed first phase leaves the folders it made",
             "builder/writer.py", "                    os.rmdir(self._base + folder)",
             "                    pass"),
    Mutation("no-manifest-restore", "a failed first phase leaves the manifest changed",
             "builder/writer.py", "                staging.install(self._raw, self._info)",
             "                pass"),
    Mutation("no-leftover-removal", "a killed run's staging folder stays forever",
             "builder/writer.py", "            remove_staging_leftovers(self._base)\n", ""),
    Mutation("links-in-folders", "the writer writes through a symlinked folder",
             "builder/staging.py", '        if kind == "link":\n', "        if 0:\n"),
    Mutation("no-name-length-check", "a name too long fails in the rename phase, "
             "leaving a mix", "builder/staging.py",
             "if len(name) * 4 > self.name_max and", "if 0 and"),
    Mutation("cache-touch", "the preview forgets to mark reused parses as used "
             "(and the cache is pruned of them)",
             "builder/sources.py",
             "                    if self.cache:  # still in use: pruning must keep it\n"
             "                        self.cache.touch(previous.key)",
             "                    pass"),
]


def apply(mutation: Mutation, root: Path) -> bool:
    """Patch the copy at ``root``; False if the text to patch is not there exactly once."""
    path = root / mutation.path
    text = path.read_text(encoding="utf-8")
    if text.count(mutation.old) != 1:
        return False
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
    return True


def run(mutation: Mutation, keep: bool) -> tuple[str, float, str]:
    """(verdict, seconds, the first failing test) for one mutation."""
    folder = Path(tempfile.mkdtemp(prefix=f"postil-mutant-{mutation.name}-"))
    root = folder / "repo"
    shutil.copytree(REPO, root, ignore=shutil.ignore_patterns(
        ".git", "public", ".postil-cache", "__pycache__", ".pytest_cache", ".ruff_cache"))
    started = time.perf_counter()
    try:
        if not apply(mutation, root):
            return "did not apply", 0.0, ""
        # The copy's own builder/ comes first on the path (the current folder).
        env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p",
                               "no:cacheprovider", *TESTS], cwd=root, env=env,
                              capture_output=True, text=True)
        failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED")]
        verdict = "killed" if done.returncode != 0 else "survived"
        return verdict, time.perf_counter() - started, failed[0][7:] if failed else ""
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutations")
    parser.add_argument("--list", action="store_true", help="list the mutations and stop")
    parser.add_argument("--keep", action="store_true", help="keep the mutated copies")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    if args.list:
        for mutation in chosen:
            print(f"{mutation.name}: {mutation.what}")
        return 0
    print("| mutation | what it breaks | verdict | seconds | first failing test |")
    print("| --- | --- | --- | --: | --- |")
    bad = 0
    for mutation in chosen:
        verdict, seconds, first = run(mutation, args.keep)
        bad += verdict != "killed"
        print(f"| {mutation.name} | {mutation.what} | {verdict} | {seconds:.0f} | {first} |",
              flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
