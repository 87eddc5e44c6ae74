"""The sync engine of ``postil build`` and ``publish --dir`` (builder.writer.OutputFolder).

Real files in tmp_path, no timing: failures and crashes come from the writer's
test hook (``POSTIL_FAULT``), and "unchanged" is proved with mtimes set by hand.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder import manifest
from builder.publish import PublishError, sync_folder
from builder.writer import (
    LOCK,
    MANIFEST,
    STAGING,
    OutputBusy,
    OutputFolder,
    UnsafePath,
    WriteFailed,
    read_manifest,
)
from conftest import REPO

OLD = {"a.html": b"A old", "d/b.html": b"B", "gone.html": b"G", "d/e/gone.html": b"G2"}
NEW = {"a.html": b"A new!", "d/b.html": b"B", "n/e/w.html": b"new", "z.html": b"Z"}


def state(root: Path) -> dict[str, object]:
    """Every entry under ``root``, links not followed: a file → (bytes, mtime_ns),
    a folder → "dir", a link → ("link", where it points)."""
    found: dict[str, object] = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = (path.read_bytes(), path.lstat().st_mtime_ns)
    return found


def site_files(root: Path) -> dict[str, bytes]:
    """The files under ``root`` without the folder's bookkeeping (manifest, lock, staging)."""
    return {name: value[0] for name, value in state(root).items()
            if isinstance(value, tuple) and value[0] != "link" and name not in (MANIFEST, LOCK)
            and not name.startswith(STAGING)}


def exactly(files: dict[str, bytes]) -> dict[str, object]:
    """What a folder holding exactly ``files`` and the manifest lists (bytes, no mtimes)."""
    listing: dict[str, object] = {MANIFEST: "manifest"}
    for name, data in files.items():
        listing[name] = data
        parts = name.split("/")
        listing.update({"/".join(parts[:i]): "dir" for i in range(1, len(parts))})
    return listing


def listing(root: Path) -> dict[str, object]:
    return {name: "manifest" if name == MANIFEST else value[0] if isinstance(value, tuple)
            else value for name, value in state(root).items()}


def synced(root: Path, files: dict[str, bytes], signatures: dict[str, str] | None = None):
    report = OutputFolder(root).sync(files, signatures)
    assert listing(root) == exactly(files)
    return report


def old_mtimes(root: Path) -> None:
    """Give every file an mtime long past: a rewrite cannot keep it by chance."""
    for name, value in state(root).items():
        if isinstance(value, tuple) and value[0] != "link":
            os.utime(root / name, ns=(10**9, 10**9))


# --- what is written ---------------------------------------------------------------------

def test_only_changed_files_are_written_and_owned_stale_ones_removed(tmp_path):
    root = tmp_path / "out"
    assert synced(root, OLD).added == sorted(OLD)
    (root / "d/e/theirs.txt").write_bytes(b"a user's file")  # keeps d/e/ alive
    old_mtimes(root)
    report = OutputFolder(root).sync(NEW)
    assert (report.written, report.added, report.unchanged, report.removed) == \
        (["a.html", "n/e/w.html", "z.html"], ["n/e/w.html", "z.html"], 1,
         ["d/e/gone.html", "gone.html"])
    assert site_files(root) == {**NEW, "d/e/theirs.txt": b"a user's file"}
    assert (root / "d/b.html").stat().st_mtime_ns == 10**9  # unchanged: not rewritten
    again = OutputFolder(root).sync(NEW)
    assert (again.written, again.removed, again.unchanged) == ([], [], 4)
    assert not (root / LOCK).exists()


def test_same_size_different_bytes_is_always_rewritten(tmp_path):
    """Never "unchanged" because of the size alone: not for new bytes of the same
    length, not for a file changed by hand to bytes of the same length."""
    root = tmp_path / "out"
    synced(root, {"404.html": b"Title one", "x.html": b"X"})
    old_mtimes(root)
    assert OutputFolder(root).sync({"404.html": b"Title two", "x.html": b"X"}).written == \
        ["404.html"]
    assert (root / "404.html").read_bytes() == b"Title two"
    (root / "404.html").write_bytes(b"Title 333")  # in place, by hand: same size and inode
    (root / "x.html").write_bytes(b"Y")
    assert OutputFolder(root).sync({"404.html": b"Title two", "x.html": b"X"}).written == \
        ["404.html", "x.html"]
    assert site_files(root) == {"404.html": b"Title two", "x.html": b"X"}


def test_identical_bytes_without_a_record_are_verified_and_kept(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    (root / "a.html").write_bytes(b"A")
    os.utime(root / "a.html", ns=(10**9, 10**9))
    report = synced(root, {"a.html": b"A"})
    assert (report.written, report.unchanged) == ([], 1)
    assert (root / "a.html").stat().st_mtime_ns == 10**9


def test_the_first_manifest_format_is_read(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    (root / "a.html").write_bytes(b"A")
    (root / "old.html").write_bytes(b"old")
    (root / MANIFEST).write_text(json.dumps({
        "generator": "postil", "files": {"a.html": manifest.digest(b"A"), "old.html": "x"},
        "signatures": {"a.html": "5151"}}))
    assert read_manifest(root, "signatures") == {"a.html": "5151"}
    assert OutputFolder(root).reusable("a.html", "5151") == b"A"  # verified by its digest
    report = synced(root, {"a.html": b"A"}, {"a.html": "5151"})
    assert (report.written, report.removed) == ([], ["old.html"])
    assert manifest.parse((root / MANIFEST).read_bytes())[1] == manifest.VERSION
    assert read_manifest(root) == {"a.html": manifest.digest(b"A")}


def test_reusable_needs_the_signature_and_an_untouched_file(tmp_path):
    root = tmp_path / "out"
    synced(root, {"p.html": b"page", "q.html": b"other"}, {"p.html": "01", "q.html": "02"})
    folder = OutputFolder(root)
    assert folder.reusable("p.html", "01") == b"page"
    assert folder.reusable("p.html", "99") is None
    assert folder.reusable("absent.html", "01") is None
    records = folder.records()
    os.utime(root / "p.html", ns=(10**9, 10**9))
    info = (root / "p.html").stat()
    # Stat recorded: trusted without reading the digest; no stat: verified by the digest.
    trusted = records["p.html"]._replace(size=info.st_size, mtime_ns=info.st_mtime_ns,
                                         inode=info.st_ino)
    unsettled = records["q.html"]._replace(size=None, mtime_ns=None, inode=None)
    (root / MANIFEST).write_bytes(manifest.dump({"p.html": trusted, "q.html": unsettled}))
    assert OutputFolder(root).reusable("p.html", "01") == b"page"
    assert OutputFolder(root).reusable("q.html", "02") == b"other"
    (root / "p.html").write_bytes(b"PAGE")  # same size, by hand
    (root / "q.html").write_bytes(b"OTHER")
    assert OutputFolder(root).reusable("p.html", "01") is None
    assert OutputFolder(root).reusable("q.html", "02") is None


# --- failures in phase 1 leave the folder as it was ----------------------------------------

def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert "\n" not in message and message
    return message


@pytest.mark.parametrize("k", [1, 2, 3])
def test_a_full_disk_leaves_the_folder_byte_identical(tmp_path, monkeypatch, k):
    root = tmp_path / "out"
    synced(root, OLD)
    before = state(root)
    monkeypatch.setenv("POSTIL_FAULT", f"enospc:{k}")
    with pytest.raises(WriteFailed) as caught:
        OutputFolder(root).sync(NEW)
    name = ["a.html", "n/e/w.html", "z.html"][k - 1]
    assert one_line(caught.value) == f"cannot write {name!r}: No space left on device"
    assert state(root) == before  # no staging folder, no temporary file, no new folder n/
    monkeypatch.delenv("POSTIL_FAULT")
    synced(root, NEW)


@pytest.mark.parametrize(("files", "message"), [
    ({"blog/x.html": b"x"}, "cannot write 'blog/x.html': blog is a file, not a folder"),
    ({"blog/deeper/x.html": b"x"},
     "cannot write 'blog/deeper/x.html': blog is a file, not a folder"),
    ({"mine/index.html/x": b"x"},
     "cannot write 'mine/index.html/x': mine/index.html is a file, not a folder"),
    ({"folder": b"x"}, "cannot write 'folder': a folder of that name is in the way"),
    ({"n/" + "x" * 300 + ".html": b"x"}, "a name in it is longer than the"),
    ({"x" * 300 + "/index.html": b"x"}, "a name in it is longer than the"),
    ({"a/b": b"1", "a/b/c": b"2"}, "cannot write 'a/b': the site also has files in it"),
])
def test_what_would_stop_a_rename_fails_before_anything_is_written(tmp_path, files, message):
    root = tmp_path / "out"
    synced(root, {"mine/index.html": b"mine", "0.html": b"zero"})
    (root / "blog").write_text("a file, where the new site needs a folder")
    (root / "folder").mkdir()
    before = state(root)
    with pytest.raises(WriteFailed) as caught:
        # An earlier file that changes too: it must not be written either.
        OutputFolder(root).sync({"0.html": b"changed", **files})
    assert message in one_line(caught.value)
    assert state(root) == before


@pytest.mark.parametrize("name", [MANIFEST, LOCK, f"{STAGING}x/y.html", "../x", "a//b"])
def test_names_that_are_not_the_sites_are_refused(tmp_path, name):
    root = tmp_path / "out"
    synced(root, {"a.html": b"A"})
    before = state(root)
    with pytest.raises(UnsafePath):
        OutputFolder(root).sync({"a.html": b"A2", name: b"x"})
    assert state(root) == before


# --- links are never followed ----------------------------------------------------------------

def outside_file(tmp_path: Path) -> Path:
    secret = tmp_path / "elsewhere" / "keep.txt"
    secret.parent.mkdir()
    secret.write_bytes(b"not the site's")
    return secret


def assert_untouched(secret: Path) -> None:
    assert secret.read_bytes() == b"not the site's"
    assert [p.name for p in secret.parent.iterdir()] == ["keep.txt"]


def test_links_at_temporary_names_and_in_the_output_are_never_followed(tmp_path):
    secret = outside_file(tmp_path)
    root = tmp_path / "out"
    synced(root, {"a.html": b"A", "d/b.html": b"B", "c.html": b"C"})
    traps = [".a.html.postil-tmp", "d/.b.html.postil-tmp", f".{MANIFEST}.postil-tmp",
             ".postil-manifest.json.postil-tmp", ".new.html.postil-tmp", "c.html",
             f"{STAGING}0123456789abcdef"]
    for trap in traps:
        (root / trap).unlink(missing_ok=True)
        (root / trap).symlink_to(secret if "staging" not in trap else secret.parent)
    (root / MANIFEST).rename(tmp_path / "saved")
    (root / MANIFEST).symlink_to(tmp_path / "saved")  # a link: no manifest of Postil's
    new = {"a.html": b"A2", "d/b.html": b"B2", "c.html": b"C2", "new.html": b"N"}
    OutputFolder(root).sync(new)
    assert_untouched(secret)
    assert site_files(root) == new
    assert not any((root / name).is_symlink() for name in [*new, MANIFEST])
    assert manifest.parse((root / MANIFEST).read_bytes())[0].keys() == new.keys()


@pytest.mark.parametrize("name", ["evil/x.html", "evil/new/deeper/x.html", "in/evil/x.html"])
def test_a_linked_folder_is_refused_even_when_it_leads_inside(tmp_path, name):
    secret = outside_file(tmp_path)
    root = tmp_path / "out"
    synced(root, {"in/a.html": b"A"})
    (root / "evil").symlink_to(secret.parent)
    (root / "in/evil").symlink_to(root / "in")
    before = state(root)
    with pytest.raises(UnsafePath) as caught:
        OutputFolder(root).sync({"in/a.html": b"A2", name: b"x"})
    assert "is a symbolic link" in one_line(caught.value)
    assert state(root) == before
    assert_untouched(secret)


def test_stale_files_behind_a_link_are_left_alone(tmp_path):
    secret = outside_file(tmp_path)
    (secret.parent / "sub").mkdir()
    (secret.parent / "sub/x.html").write_bytes(b"theirs")
    (secret.parent / "empty").mkdir()
    root = tmp_path / "out"
    synced(root, {"d/sub/x.html": b"X", "d/empty/y.html": b"Y", "keep.html": b"K"})
    (root / "d/sub/x.html").unlink()
    (root / "d/empty/y.html").unlink()
    (root / "d/sub").rmdir()
    (root / "d/empty").rmdir()
    (root / "d").rmdir()
    (root / "d").symlink_to(secret.parent)
    assert OutputFolder(root).sync({"keep.html": b"K"}).removed == []
    assert (secret.parent / "sub/x.html").read_bytes() == b"theirs"
    assert (secret.parent / "empty").is_dir()
    assert set(OutputFolder(root).records()) == {"keep.html"}


def test_a_link_at_the_lock_name_is_not_followed(tmp_path):
    secret = outside_file(tmp_path)
    root = tmp_path / "out"
    synced(root, {"a.html": b"A"})
    (root / LOCK).symlink_to(secret)
    with pytest.raises(WriteFailed) as caught:
        OutputFolder(root).sync({"a.html": b"A2"})
    assert one_line(caught.value).startswith("cannot lock ")
    assert_untouched(secret)
    assert (root / "a.html").read_bytes() == b"A"


# --- the lock ------------------------------------------------------------------------------

HOLDER = """\
import sys
from pathlib import Path
from builder.writer import OutputFolder
with OutputFolder(Path(sys.argv[1])).locked():
    print("locked", flush=True)
    sys.stdin.readline()
"""


def python(*args: str, **env: str) -> list[str]:
    return [sys.executable, *args]


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def test_a_second_holder_of_the_lock_is_refused_with_one_line(tmp_path):
    root = tmp_path / "out"
    synced(root, {"a.html": b"A"})
    before = state(root)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=child_env())
    try:
        assert holder.stdout.readline() == "locked\n"
        busy = (f"output folder {root.resolve()} is in use by another postil build; "
                "try again when it has finished")
        with pytest.raises(OutputBusy) as caught, OutputFolder(root).locked():
            pass
        assert one_line(caught.value) == busy
        with pytest.raises(OutputBusy):
            OutputFolder(root).sync({"a.html": b"A2", "b.html": b"B"})
        with pytest.raises(PublishError, match="is in use by another postil build"):
            sync_folder({"a.html": b"A2"}, root)
        assert {k: v for k, v in state(root).items() if k != LOCK} == before
    finally:
        holder.communicate("\n")
    assert holder.returncode == 0
    synced(root, {"a.html": b"A2"})  # free again; the lock file went with its holder


def test_a_lock_taken_on_the_lock_file_directly_is_respected(tmp_path):
    root = tmp_path / "out"
    synced(root, {"a.html": b"A"})
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(OutputBusy):
            OutputFolder(root).sync({"a.html": b"A2"})
    finally:
        os.close(fd)
    assert (root / "a.html").read_bytes() == b"A"
    OutputFolder(root).sync({"a.html": b"A2"})  # a lock file left behind does not stop it


# --- crashes ---------------------------------------------------------------------------------

CHILD = """\
import json, sys
from pathlib import Path
from builder.writer import OutputFolder
files = {name: text.encode() for name, text in json.loads(sys.argv[2]).items()}
OutputFolder(Path(sys.argv[1])).sync(files)
"""


def crash(root: Path, files: dict[str, bytes], fault: str) -> None:
    text = json.dumps({name: data.decode() for name, data in files.items()})
    run = subprocess.run([sys.executable, "-c", CHILD, str(root), text], cwd=REPO,
                         env=child_env(POSTIL_FAULT=fault), capture_output=True, text=True)
    assert run.returncode == 70, run.stderr


@pytest.mark.parametrize("k", [1, 3])
def test_a_crash_while_writing_leaves_the_old_site_and_is_repaired(tmp_path, k):
    root = tmp_path / "out"
    synced(root, OLD)
    before = site_files(root), {n: v for n, v in state(root).items() if n in OLD}
    crash(root, NEW, f"crash-write:{k}")
    assert (site_files(root), {n: v for n, v in state(root).items() if n in OLD}) == before
    # The files the run was about to create are already recorded as Postil's.
    assert {"n/e/w.html", "z.html"} <= set(OutputFolder(root).records())
    third = {"a.html": b"third", "d/b.html": b"B"}
    report = synced(root, third)  # no staging leftover, no empty n/e/, no lock file
    assert report.removed == ["d/e/gone.html", "gone.html"]


@pytest.mark.parametrize("k", [1, 2, 3])
def test_a_crash_while_renaming_may_mix_and_the_next_run_repairs_it(tmp_path, k):
    root = tmp_path / "out"
    synced(root, OLD)
    crash(root, NEW, f"crash-rename:{k}")
    mixed = site_files(root)
    for name, data in mixed.items():
        assert data in (OLD.get(name), NEW.get(name)), name
    assert sum(data == NEW.get(name) != OLD.get(name) for name, data in mixed.items()) == k
    report = synced(root, OLD)  # what the interrupted run added goes again
    assert sorted(report.removed) == sorted({"n/e/w.html", "z.html"} & set(mixed))
    crash(root, NEW, f"crash-rename:{k}")
    synced(root, NEW)


def test_a_failed_rename_says_the_folder_is_mixed(tmp_path, monkeypatch):
    root = tmp_path / "out"
    synced(root, OLD)
    real, calls = os.replace, []

    def failing(src, dst):
        calls.append(dst)
        if len(calls) == 3:  # the manifest listing the new files, a.html, then this
            raise PermissionError(13, "Permission denied")
        real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(WriteFailed) as caught:
        OutputFolder(root).sync(NEW)
    assert "mixes old and new files" in one_line(caught.value)
    monkeypatch.setattr(os, "replace", real)
    assert not [name for name in state(root) if name.startswith(STAGING)]
    synced(root, NEW)


# --- publish --dir ---------------------------------------------------------------------------

def test_publish_dir_never_follows_a_link_at_a_temporary_name(tmp_path):
    secret = outside_file(tmp_path)
    target = tmp_path / "www"
    sync_folder({"index.html": b"home", "a/index.html": b"a"}, target)
    for trap in (".index.html.postil-tmp", "a/.index.html.postil-tmp"):
        (target / trap).symlink_to(secret)
    changes = sync_folder({"index.html": b"home 2", "a/index.html": b"a 2"}, target)
    assert changes.changed == ["a/index.html", "index.html"]
    assert_untouched(secret)
    assert site_files(target) == {"index.html": b"home 2", "a/index.html": b"a 2"}


def test_publish_dir_on_a_full_disk_leaves_the_target_identical(tmp_path, monkeypatch):
    target = tmp_path / "www"
    sync_folder(OLD, target)
    before = state(target)
    monkeypatch.setenv("POSTIL_FAULT", "enospc:2")
    with pytest.raises(PublishError) as caught:
        sync_folder(NEW, target)
    assert one_line(caught.value) == "cannot write 'n/e/w.html': No space left on device"
    assert state(target) == before
