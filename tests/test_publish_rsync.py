"""``postil publish --rsync`` to a local path (rsync is installed by .ci/run)."""

import shutil

import pytest

from builder.cli import main
from conftest import SITE_YML, article, snapshot

needs_rsync = pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync not installed")


def files_in(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


@pytest.fixture
def mirrored(site, tmp_path, capfd):
    # (search: false: the counts below are of pages; the index is published like them)
    site({"content/a.md": article("A", "2024-01-01", tags="[t]"),
          "content/b.md": article("B", "2024-01-02", tags="[t]")},
         config=SITE_YML + "search: false\n")
    target = tmp_path / "mirror"
    assert main(["publish", str(site.root), "--rsync", str(target)]) == 0
    return site, target, capfd.readouterr().out


@needs_rsync
def test_rsync_mirrors_exactly_the_build(mirrored):
    site, target, out = mirrored
    built = site.build(write=False).files
    assert files_in(target) == built  # no manifest, nothing else
    assert f"published to rsync {target}: {len(built)} added" in out


@needs_rsync
def test_rsync_changes_removals_and_files_not_from_the_build(mirrored, capfd):
    site, target, _ = mirrored
    (site.root / "public/notes-to-self.txt").write_text("not part of the site")
    mtime = (target / "articles/a/index.html").stat().st_mtime_ns
    (site.root / "content/b.md").unlink()
    site.write("content/a.md", article("A", "2024-01-01", tags="[t]", body="Edited."))
    assert main(["publish", str(site.root), "--rsync", str(target)]) == 0
    out = capfd.readouterr().out
    assert files_in(target) == site.build(write=False).files
    assert not (target / "articles/b").exists()
    assert (target / "articles/a/index.html").stat().st_mtime_ns != mtime
    assert "removed" in out and "0 added" in out


@needs_rsync
def test_rsync_keeps_mtimes_of_unchanged_files(mirrored, capfd):
    site, target, _ = mirrored
    before = snapshot(target)
    assert main(["publish", str(site.root), "--rsync", str(target)]) == 0
    assert "0 added, 0 changed, 0 removed" in capfd.readouterr().out
    assert snapshot(target) == before


@needs_rsync
def test_rsync_dry_run_lists_and_touches_nothing(mirrored, capfd):
    site, target, _ = mirrored
    site.write("content/c.md", article("C", "2024-01-03"))
    before, output = snapshot(target), snapshot(site.root / "public")
    assert main(["publish", str(site.root), "--rsync", str(target), "--dry-run"]) == 0
    lines = capfd.readouterr().out.splitlines()
    assert "  + articles/c/index.html" in lines and "  ~ index.html" in lines
    assert "  ~ articles/a/index.html" not in lines
    assert snapshot(target) == before and snapshot(site.root / "public") == output


@needs_rsync
def test_rsync_failure_is_one_line(site, tmp_path, capfd):
    site({"content/a.md": article("A")})
    (tmp_path / "file").write_text("a file, not a folder")
    assert main(["publish", str(site.root), "--rsync", str(tmp_path / "file/sub/dir")]) == 1
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"postil: publish to rsync {tmp_path}")


def test_missing_rsync_is_one_line_before_building(site, tmp_path, monkeypatch, capfd):
    site({"content/a.md": article("A")})
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["publish", str(site.root), "--rsync", "host:/srv/www"]) == 1
    err = capfd.readouterr().err.splitlines()
    assert err == ["postil: cannot publish: rsync is not installed (or not on PATH); install "
                   "it (e.g. apt install rsync) or publish with --git or --dir"]
    assert not (site.root / "public").exists()
