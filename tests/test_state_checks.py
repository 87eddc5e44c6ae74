"""The no-change check's parts (``builder.state``) and the manifest's format
(``builder.manifest``), on small folders in tmp_path: no build, no timing.

The check that looks at part of the files in a forked child runs in a fresh
interpreter (pytest's workers run threads, and a process with threads never forks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builder import manifest, state
from builder.manifest import Record
from builder.writer import MANIFEST, OutputFolder
from conftest import REPO

FILES = {f"p{index:02}/index.html": f"page {index}".encode() for index in range(40)}


def make_state(site: Path, key: str = "k") -> state.Stamp:
    """A site with three inputs and an output folder of 40 files, synced, and its stamp
    recorded as a build records it."""
    (site / "content").mkdir(parents=True, exist_ok=True)
    for name in ("a.md", "b.md", "c.md"):
        (site / "content" / name).write_text(name)
    out = site / "out"
    report = OutputFolder(out).sync(FILES)
    roots = [str(site / "content")]
    names = sorted(FILES)
    stamp = state.Stamp(inputs=state.snapshot(roots)[0], roots=roots, output=str(out),
                        files=names, written=state.output_stats(out, names, report.records),
                        articles=3)
    state.record(site, key, stamp, {})
    return stamp


def test_stats_from_the_sync_records_are_those_on_disk_until_a_file_changes(tmp_path):
    out = tmp_path / "out"
    report = OutputFolder(out).sync(FILES)
    names = sorted(FILES)
    assert len(report.records) == len(FILES)
    from_records = state.output_stats(out, names, report.records)
    assert from_records == state.output_stats(out, names) is not None
    (out / names[7]).write_bytes(b"edited by hand")
    # The records tell the stat Postil left, the disk the new one: a later check differs.
    assert state.output_stats(out, names, report.records) == from_records
    assert state.output_stats(out, names) != from_records
    # A record without its stat (changed in the tick it was written in): lstat instead.
    bare = {**report.records, names[7]: Record(digest="x")}
    assert state.output_stats(out, names, bare) == state.output_stats(out, names)
    (out / names[7]).unlink()
    assert state.output_stats(out, names, bare) is None


def test_stats_of_a_file_dated_before_1970(tmp_path):
    out = tmp_path / "out"
    OutputFolder(out).sync(FILES)
    names = sorted(FILES)
    before = state.output_stats(out, names)
    os.utime(out / names[3], ns=(-10**9, -10**9))  # a negative mtime: a word of its own
    after = state.output_stats(out, names)
    assert after is not None and after != before
    infos = {name: (out / name).lstat() for name in names}
    records = {name: Record("d", None, info.st_size, info.st_mtime_ns, info.st_ino)
               for name, info in infos.items()}
    assert state.output_stats(out, names, records) == after


CHECK = """
import json, os, sys
from pathlib import Path
from builder import state
state.RACY_SECONDS = 0.0
forks = []
fork = os.fork
def counted():
    pid = fork()
    if pid:
        forks.append(pid)
    return pid
os.fork = counted
stamp = state.unchanged(Path(sys.argv[1]), "k")
print(json.dumps({"unchanged": stamp is not None, "forks": len(forks)}))
"""


def check(site: Path) -> dict:
    """``state.unchanged`` in a fresh interpreter (one thread): its answer, and the
    number of children it forked."""
    done = subprocess.run([sys.executable, "-c", CHECK, str(site)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1


@pytest.mark.parametrize("change", ["none", "first", "last", "manifest", "gone", "input"])
def test_the_check_shared_with_a_forked_child_sees_every_change(tmp_path, change):
    # A child looks at the first part of the output files; this process takes the
    # snapshot, then looks at the rest and the manifest. A change in any part is seen.
    site = tmp_path / "site"
    stamp = make_state(site)
    out, names = Path(stamp.output), stamp.files
    time.sleep(0.01)  # (an mtime of its own for the change)
    if change == "first":
        (out / names[0]).write_bytes(b"PAGE 0")
    elif change == "last":
        (out / names[-1]).write_bytes(b"page 39!")
    elif change == "manifest":
        os.utime(out / MANIFEST, ns=(10**9, 10**9))
    elif change == "gone":
        (out / names[2]).unlink()
    elif change == "input":
        (site / "content" / "b.md").write_text("b.md, edited")
    found = check(site)
    assert found["unchanged"] == (change == "none")
    assert found["forks"] == (1 if cores() > 1 else 0)


def test_a_forked_childs_result_the_fallback_when_it_fails_and_its_end():
    script = """
import os, time
from builder import stats
parent = os.getpid()
print(stats.Child(lambda: os.getpid()).result() != parent)
print(stats.Child(lambda: "here" if os.getpid() == parent else 1 / 0).result())
print(stats.Child(lambda: "here" if os.getpid() == parent else os._exit(3)).result())
child = stats.Child(lambda: time.sleep(60))
pid = child.pid
child.cancel()
try:
    print(os.waitpid(pid, os.WNOHANG) and "running" if pid else "serial")
except ChildProcessError:
    print("ended")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=30)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    forked = cores() > 1
    assert done.stdout.split() == [str(forked), "here", "here", "ended" if forked else "serial"]


def test_the_snapshot_of_a_check_that_found_a_change_is_used_once_by_the_build(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(state, "RACY_SECONDS", 0.0)
    site = tmp_path / "site"
    stamp = make_state(site)
    roots = stamp.roots
    (site / "content" / "a.md").write_text("a.md, edited")
    edits = iter(range(100))

    def reused(roots: list[str], since: int | None) -> bool:
        """Whether the build's snapshot is the check's, though a file changed between."""
        assert state.unchanged(site, "k") is None
        taken = state._taken
        assert taken is not None and taken[0] == stamp.roots
        (site / "content" / "c.md").write_text(f"c.md, edit {next(edits)}")
        found = state.snapshot(roots, taken[1] if since is None else since)[0]
        assert state._taken is None  # used once at most
        return found == taken[2]

    assert reused(roots, None)
    assert state.snapshot(roots, time.time_ns())[0] == state._snapshot(roots)[0]
    assert not reused(roots[:0], None)
    assert not reused(list(reversed([*roots, str(site / "other")])), None)
    assert not reused(roots, 1)  # a build that started before the check ended
    assert not reused(roots, time.time_ns() + int(state.SNAPSHOT_REUSE * 2e9))


# --- the manifest ------------------------------------------------------------------------

def test_the_manifest_reads_back_what_it_wrote_one_file_a_line():
    records = {"b.html": Record("d" * 32, "s+site:t", 5, -10**9, 2**64 + 3),
               'a "quoted"], "name.html': Record("e" * 32, None, None, None, None),
               "new.html": Record()}
    raw = manifest.dump(records)
    assert manifest.parse(raw) == (records, manifest.VERSION)
    assert raw.count(b"\n") == len(records)
    assert json.loads(raw)["files"]["new.html"] == [None] * 5


def test_the_second_manifest_format_is_read():
    raw = json.dumps({"generator": "postil", "version": 2, "files": {
        "a.html": {"digest": "d", "signature": "s", "size": 1, "mtime_ns": 2, "inode": 3},
        "b.html": {"digest": "e", "size": 1}, "c.html": {}}}).encode()
    assert manifest.parse(raw) == ({"a.html": Record("d", "s", 1, 2, 3),
                                    "b.html": Record("e"), "c.html": Record()}, 2)


@pytest.mark.parametrize(("bad", "kept"), [
    (["d", "s", 1, 2], Record()), (["d", "s", 1, 2, "3"], Record("d", "s")),
    ([7, "s", 1, 2, 3], Record(None, "s", 1, 2, 3)),
    (["d", ["s"], 1, 2, 3], Record("d", None, 1, 2, 3)),
    (["d", "s", True, 2, 3], Record("d", "s")), (["d", "s", 1.0, 2, 3], Record("d", "s")),
    (["d", "s", None, 2, 3], Record("d", "s")), ("d", Record("d")), ({}, Record()), (7, Record())])
def test_a_record_of_the_wrong_shape_keeps_only_its_trusted_fields(bad, kept):
    raw = json.dumps({"generator": "postil", "version": 3,
                      "files": {"a.html": ["d", "s", 1, 2, 3], "b.html": bad}}).encode()
    records, _ = manifest.parse(raw)
    assert records == {"a.html": Record("d", "s", 1, 2, 3), "b.html": kept}
