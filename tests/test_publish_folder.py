"""``postil publish --dir``: only changed files copied, stale ones removed, never half a file."""

import os

import pytest

from builder.cli import main
from builder.publish import PublishError, sync_folder
from builder.writer import MANIFEST
from conftest import article, snapshot


def files_in(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


def test_added_changed_and_removed(tmp_path):
    target = tmp_path / "www"
    first = {"index.html": b"home", "a/index.html": b"a", "b/index.html": b"b"}
    changes = sync_folder(first, target)
    assert sorted(changes.added) == sorted(first) and not changes.changed
    assert files_in(target) == {**first, MANIFEST: (target / MANIFEST).read_bytes()}
    keep_mtime = (target / "b/index.html").stat().st_mtime_ns
    os.utime(target / "b/index.html", ns=(1, 1))  # an old mtime: proves it is not rewritten

    second = {"index.html": b"home, changed", "b/index.html": b"b", "c/d/index.html": b"new"}
    changes = sync_folder(second, target)
    assert (changes.added, changes.changed, changes.removed) == \
        (["c/d/index.html"], ["index.html"], ["a/index.html"])
    assert {k: v for k, v in files_in(target).items() if k != MANIFEST} == second
    assert not (target / "a").exists()  # its emptied folder went too
    assert (target / "b/index.html").stat().st_mtime_ns == 1 != keep_mtime
    assert not sync_folder(second, target)  # nothing left to do


def test_files_postil_did_not_put_there_are_left_alone(tmp_path):
    target = tmp_path / "www"
    (target / ".well-known").mkdir(parents=True)
    (target / ".well-known/security.txt").write_text("contact")
    (target / "other-app.html").write_text("theirs")
    sync_folder({"index.html": b"home"}, target)
    changes = sync_folder({"new.html": b"new"}, target)
    assert changes.removed == ["index.html"]
    assert (target / ".well-known/security.txt").read_text() == "contact"
    assert (target / "other-app.html").read_text() == "theirs"


def test_dry_run_touches_nothing(tmp_path):
    target = tmp_path / "www"
    sync_folder({"index.html": b"home", "old.html": b"old"}, target)
    before = snapshot(target)
    changes = sync_folder({"index.html": b"home 2", "new.html": b"n"}, target, dry_run=True)
    assert (changes.added, changes.changed, changes.removed) == \
        (["new.html"], ["index.html"], ["old.html"])
    assert snapshot(target) == before
    assert sync_folder({"x": b"x"}, tmp_path / "absent", dry_run=True).added == ["x"]
    assert not (tmp_path / "absent").exists()


def test_an_interrupted_copy_leaves_no_partial_files(tmp_path, monkeypatch):
    target = tmp_path / "www"
    old = {f"p{i}/index.html": b"old " * 1000 for i in range(6)}
    sync_folder(old, target)
    new = {name: b"new " * 2000 for name in old} | {"added.html": b"added " * 500}
    calls = 0
    real_replace = os.replace

    def replace_then_die(src, dst):
        nonlocal calls
        calls += 1
        if calls == 4:  # the fourth rename: the copy dies after writing the temporary file
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        sync_folder(new, target)
    monkeypatch.setattr(os, "replace", real_replace)
    for name, data in files_in(target).items():
        assert not name.endswith(".postil-tmp"), name
        if name != MANIFEST:
            assert data in (old.get(name), new.get(name)), f"{name} is half-written"
    assert (target / "added.html").exists()  # written before the rename that failed
    # Even a file the broken run added is known to be Postil's, so it can go again.
    assert sync_folder(old, target).removed == ["added.html"]
    assert {k: v for k, v in files_in(target).items() if k != MANIFEST} == old


def test_temporary_files_of_a_killed_publish_are_cleaned_up(tmp_path):
    target = tmp_path / "www"
    sync_folder({"a/index.html": b"a"}, target)
    (target / "a/.index.html.postil-tmp").write_bytes(b"half")
    sync_folder({"a/index.html": b"a2"}, target)
    assert sorted(files_in(target)) == [MANIFEST, "a/index.html"]


def test_a_file_where_the_target_folder_should_be(tmp_path):
    (tmp_path / "www").write_text("not a folder")
    with pytest.raises(PublishError, match="is not a folder"):
        sync_folder({"index.html": b"x"}, tmp_path / "www")


def test_publish_dir_from_the_command_line(site, tmp_path, capsys):
    site({"content/a.md": article("A"), "content/b.md": article("B", "2024-01-01")})
    target = tmp_path / "www"
    assert main(["publish", str(site.root), "--dir", str(target)]) == 0
    out = capsys.readouterr().out
    built = site.build(write=False).files
    assert {k: v for k, v in files_in(target).items() if k != MANIFEST} == built
    assert f"published to dir {target}: {len(built)} added, 0 changed, 0 removed" in out

    (site.root / "content/b.md").unlink()
    assert main(["publish", str(site.root), "--dir", str(target), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "  - articles/b/index.html" in out and (target / "articles/b/index.html").exists()
    assert main(["publish", str(site.root), "--dir", str(target)]) == 0
    assert not (target / "articles/b").exists()


def test_publish_dir_refuses_the_sites_own_folders(site, capsys):
    site({"content/a.md": article("A")})
    for folder in (site.root, site.root / "content/x", site.root / "public", site.root.parent,
                   site.root / "static/www"):
        assert main(["publish", str(site.root), "--dir", str(folder)]) == 1
        [line] = capsys.readouterr().err.splitlines()
        assert line.startswith("postil: cannot publish: ")
    assert not (site.root / "public").exists()  # refused before building
    assert main(["publish", str(site.root), "--dir", str(site.root / "docs")]) == 0
    assert (site.root / "docs/index.html").is_file()
