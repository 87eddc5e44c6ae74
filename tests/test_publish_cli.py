"""``postil publish`` as a command: targets, settings, refusals, exit codes."""

import os
import subprocess
import sys

from builder.cli import main
from conftest import REPO, article, snapshot


def run(*args: str, capsys) -> tuple[int, list[str], list[str]]:
    code = main(["publish", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def test_help_lists_every_option():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "builder", "publish", "--help"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("usage: postil publish")
    for option in ("--git REMOTE", "--branch BRANCH", "--dir PATH", "--rsync", "--dry-run"):
        assert option in done.stdout


def test_without_a_target_it_is_a_usage_error(site, capsys):
    site({"content/a.md": article("A")})
    code, _, err = run(str(site.root), capsys=capsys)
    assert code == 2 and err[0].startswith("postil publish: nothing to publish to")
    code, _, err = run(str(site.root), "--branch", "pages", capsys=capsys)
    assert code == 2 and "--branch needs --git" in err[0]
    assert run(str(site.root / "nowhere"), "--dir", "x", capsys=capsys)[0] == 2


def test_a_build_with_errors_is_never_published(site, tmp_path, capsys):
    site({"content/a.md": article("A"), "content/b.md": "---\ntitle: B\ndate: someday\n---\n"})
    code, _, err = run(str(site.root), "--dir", str(tmp_path / "www"), capsys=capsys)
    assert code == 1
    assert err == ['content/b.md:3: invalid date: "someday" is not a date: use YYYY-MM-DD or '
                   "YYYY-MM-DD HH:MM[:SS][+HH:MM]",
                   "publish refused: the build has 1 error; nothing was published"]
    assert not (tmp_path / "www").exists()


def test_a_production_build_no_drafts_and_the_configured_base_url(site, tmp_path, capsys):
    site({"content/a.md": article("A"), "content/d.md": article("D", draft="true")})
    assert main(["build", str(site.root), "--drafts", "--base-url", "http://localhost:1/"]) == 0
    capsys.readouterr()
    code, out, _ = run(str(site.root), "--dir", str(tmp_path / "www"), capsys=capsys)
    assert code == 0 and out[0] == "built 1 articles for https://example.org/"
    assert not (tmp_path / "www/articles/d").exists()
    assert b"https://example.org/articles/a/" in (tmp_path / "www/articles/a/index.html") \
        .read_bytes()
    assert not (site.root / "public/articles/d").exists()  # the output is the production build


def test_settings_from_site_yml_and_relative_paths(site, tmp_path, capsys):
    config = "title: T\nbase_url: https://example.org/\npublish:\n  dir: ../www\n  colour: red\n"
    site({"content/a.md": article("A")}, config=config)
    code, out, err = run(str(site.root), capsys=capsys)
    assert code == 0
    assert err == ['site.yml:3: warning: unknown key "publish.colour"']
    assert (site.root.parent / "www/articles/a/index.html").is_file()
    assert out[-1].startswith("published to dir ../www: ")


def test_invalid_publish_settings_are_reported_with_their_line(site, capsys):
    site({"content/a.md": article("A")},
         config="title: T\nbase_url: https://example.org/\npublish:\n  git: [a, b]\n"
         "domain: not a domain\n")
    code, _, err = run(str(site.root), capsys=capsys)
    assert code == 1
    assert err[:2] == ["site.yml:3: publish.git must be a non-empty string",
                       'site.yml:5: domain must be a host name such as "archive.example.org", '
                       'not "not a domain"']


def test_broken_links_warn_and_strict_refuses(site, tmp_path, capsys):
    site({"content/a.md": article("A", body="Intro.\n\n[gone](gone.html)")})
    www = tmp_path / "www"
    code, _, err = run(str(site.root), "--dir", str(www), "--strict", capsys=capsys)
    assert code == 1
    assert err == ["content/a.md:7: warning: broken link: articles/a/index.html → gone.html",
                   "publish refused: the build has warnings and --strict; nothing was published"]
    assert not www.exists()
    code, _, err = run(str(site.root), "--dir", str(www), capsys=capsys)
    assert code == 0 and len(err) == 1 and www.exists()


def test_a_domain_that_is_not_base_urls_host_warns(site, tmp_path, capsys):
    site({"content/a.md": article("A")},
         config="title: T\nbase_url: https://example.org/\ndomain: archive.example.net\n")
    before = snapshot(site.root / "content")
    code, _, err = run(str(site.root), "--dir", str(tmp_path / "www"), "-q", capsys=capsys)
    assert code == 0
    assert err == ['site.yml:1: warning: domain "archive.example.net" is not the host of '
                   "base_url (example.org): pages will link to the wrong address"]
    assert snapshot(site.root / "content") == before


def test_a_build_another_build_holds_is_never_published(site, tmp_path, capsys):
    """The output folder is busy: one line, exit 1, nothing published, nothing changed."""
    import fcntl

    site({"content/a.md": article("A")})
    assert main(["build", str(site.root), "-q"]) == 0
    before = snapshot(site.root / "public")
    with open(site.root / "public" / ".postil-lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        code, _, err = run(str(site.root), "--dir", str(tmp_path / "www"), capsys=capsys)
    assert code == 1
    assert err == [f"postil: cannot publish: output folder {(site.root / 'public').resolve()} "
                   "is in use by another postil build; try again when it has finished"]
    assert not (tmp_path / "www").exists()
    after = snapshot(site.root / "public")
    assert {k: v for k, v in after.items() if k != ".postil-lock"} == \
        {k: v for k, v in before.items() if k != ".postil-lock"}
