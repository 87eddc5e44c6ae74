"""``postil publish``: the warning for a base_url of this machine, and ``publish.keep``
(files of the target that publishing leaves alone) with a real bare git repository and a
real rsync to a local folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_publish_git import clone, git

from builder.cli import main
from builder.problems import BuildFailed
from builder.publish.command import is_local_host
from conftest import article

#: every test commits as a known committer, with no user git configuration
pytestmark = pytest.mark.usefixtures("git_identity")

KEEP = "publish:\n  keep: [CNAME, /.well-known/, verify.html]\n"
CONFIG = "title: Pages\nbase_url: https://archive.example.org/\n" + KEEP


def run(capsys, *args: str) -> tuple[int, list[str], list[str]]:
    code = main(["publish", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


# --- base_url on this machine ---------------------------------------------------------

@pytest.mark.parametrize("host", [
    "localhost", "LOCALHOST", "localhost.", "site.localhost", "a.b.localhost", "127.0.0.1",
    "127.1.2.3", "127.255.255.254", "::1", "[::1]", "0.0.0.0", "::", "::ffff:127.0.0.1"])
def test_addresses_of_this_machine(host):
    assert is_local_host(host)


@pytest.mark.parametrize("host", [
    "example.org", "localhost.example.org", "mylocalhost", "128.0.0.1", "10.0.0.1",
    "192.168.1.2", "::2", "2001:db8::1", "126.255.255.255", ""])
def test_other_addresses(host):
    assert not is_local_host(host)


@pytest.mark.parametrize("url", ["http://localhost:8000/", "http://127.0.0.1:8000/blog/",
                                 "http://[::1]:8000/", "http://0.0.0.0/",
                                 "http://archive.localhost/"])
def test_publishing_with_a_local_base_url_warns_and_strict_refuses(site, tmp_path, capsys, url):
    site({"content/a.md": article("A")}, config=f"title: T\n\nbase_url: {url}\n")
    www = tmp_path / "www"
    code, out, err = run(capsys, str(site.root), "--dir", str(www))
    assert code == 0 and out[-1].startswith(f"published to dir {www}")
    assert err == [f"site.yml:3: warning: base_url {url} is an address of this machine: the "
                   "feed, the sitemap and the canonical links will point at it; set base_url "
                   "to the site's public address"]
    shutil.rmtree(www)
    code, out, err = run(capsys, str(site.root), "--dir", str(www), "--strict")
    assert code == 1 and err[0].startswith("site.yml:3: warning: base_url ")
    assert err[-1] == "publish refused: the build has warnings and --strict; nothing was published"
    assert not www.exists()


def test_a_public_base_url_gives_no_warning(site, tmp_path, capsys):
    site({"content/a.md": article("A")})  # https://example.org/
    code, _, err = run(capsys, str(site.root), "--dir", str(tmp_path / "www"), "--strict")
    assert code == 0 and err == []


# --- publish.keep in site.yml ---------------------------------------------------------

def test_keep_is_checked(site):
    from builder.config import load_config

    site({}, config="title: T\npublish:\n  keep: CNAME\n")
    assert load_config(site.root)[0].publish_keep == ("CNAME",)
    for bad in ("[../x]", "['*.html']", "[a//b]", "[{x: 1}]", "[' ']", "3", "[/]"):
        site({}, config=f"title: T\npublish:\n  keep: {bad}\n")
        with pytest.raises(BuildFailed) as failed:
            load_config(site.root)
        assert [str(p) for p in failed.value.problems] == [
            "site.yml:2: publish.keep must list paths on the site such as CNAME or "
            ".well-known/ (no .., no wildcards)"], bad


def test_git_keeps_the_files_keep_names_on_the_branch(site, tmp_path, capsys):
    site({"content/a.md": article("A"), "content/b.md": article("B")}, config=CONFIG)
    remote = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(remote))
    assert run(capsys, str(site.root), "--git", str(remote))[0] == 0
    work = tmp_path / "work"
    clone(remote, work)
    (work / "CNAME").write_text("reading.example.org\n")  # made by hand on the branch
    (work / ".well-known").mkdir()
    (work / ".well-known/security.txt").write_text("Contact: mailto:a@example.org\n")
    (work / "stray.txt").write_text("not kept\n")
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "By hand", cwd=work)
    git("push", "--quiet", "origin", "gh-pages", cwd=work)

    before = {p.relative_to(work).as_posix() for p in work.rglob("*")
              if p.is_file() and ".git" not in p.relative_to(work).parts}

    (site.root / "content/b.md").unlink()
    code, out, _ = run(capsys, str(site.root), "--git", str(remote))
    assert code == 0
    after = clone(remote, tmp_path / "after")
    assert after["CNAME"] == b"reading.example.org\n"
    assert after[".well-known/security.txt"] == b"Contact: mailto:a@example.org\n"
    assert "stray.txt" not in after and "articles/b/index.html" not in after
    site_files = site.build(write=False).files
    assert set(after) == set(site_files) | {".nojekyll", "CNAME", ".well-known/security.txt"}
    removed = before - set(after)
    assert "stray.txt" in removed and "CNAME" not in removed
    assert out[-1].rsplit(", ", 1)[1] == \
        f"{len(removed)} removed"
    code, out, _ = run(capsys, str(site.root), "--git", str(remote))
    assert code == 0 and out[-1].endswith("up to date, nothing to commit")


needs_rsync = pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync not installed")


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


@needs_rsync
def test_rsync_protects_the_files_keep_names(site, tmp_path, capsys):
    site({"content/a.md": article("A"), "content/b.md": article("B")}, config=CONFIG)
    target = tmp_path / "mirror"
    assert run(capsys, str(site.root), "--rsync", str(target))[0] == 0
    (target / "CNAME").write_text("reading.example.org\n")
    (target / ".well-known/acme").mkdir(parents=True)
    (target / ".well-known/acme/token").write_text("t\n")
    (target / "verify.html").write_text("v\n")
    (target / "stray.txt").write_text("not kept\n")
    (site.root / "content/b.md").unlink()
    code, out, _ = run(capsys, str(site.root), "--rsync", str(target), "--dry-run")
    assert code == 0
    listed = [line.strip() for line in out if line.startswith("  - ")]
    assert "- stray.txt" in listed and "- articles/b/index.html" in listed
    assert not any("CNAME" in line or "well-known" in line or "verify" in line
                   for line in listed)
    assert run(capsys, str(site.root), "--rsync", str(target))[0] == 0
    kept = {"CNAME": b"reading.example.org\n", ".well-known/acme/token": b"t\n",
            "verify.html": b"v\n"}
    assert files_in(target) == {**site.build(write=False).files, **kept}


def test_git_without_keep_removes_what_the_branch_had(site, tmp_path, capsys):
    """The contrast: without publish.keep the branch holds exactly the site."""
    site({"content/a.md": article("A")},
         config="title: Pages\nbase_url: https://archive.example.org/\n")
    remote = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(remote))
    assert run(capsys, str(site.root), "--git", str(remote))[0] == 0
    work = tmp_path / "work"
    clone(remote, work)
    (work / "CNAME").write_text("reading.example.org\n")
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "By hand", cwd=work)
    git("push", "--quiet", "origin", "gh-pages", cwd=work)
    assert run(capsys, str(site.root), "--git", str(remote))[0] == 0
    assert "CNAME" not in clone(remote, tmp_path / "after")
