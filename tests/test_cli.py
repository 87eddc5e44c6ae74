"""The command line as a user runs it: real processes, exit codes, messages."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from builder import __version__
from conftest import REPO, article, parse_html, snapshot, text_of


def postil(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "builder", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_version_and_help():
    assert postil("--version").stdout.strip() == f"postil {__version__}"
    for command in ("build", "check", "init", "new"):
        result = postil(command, "--help")
        assert result.returncode == 0 and "usage: postil " + command in result.stdout


def test_usage_errors_exit_2(tmp_path):
    assert postil("build", "--no-such-flag").returncode == 2
    result = postil("build", str(tmp_path))
    assert result.returncode == 2
    assert "no site.yml" in result.stderr


def test_build_prints_a_summary_and_defaults_to_the_current_folder(site):
    site({"content/a.md": article("A")})
    result = postil("build", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert "built 1 articles" in result.stdout and "0 warnings" in result.stdout
    assert (site.root / "public/articles/a/index.html").is_file()
    again = postil("build", cwd=site.root)
    assert " 0 written" in again.stdout


def test_build_options(site, tmp_path):
    site({"content/a.md": article("A"), "content/d.md": article("D", draft="true")})
    out = tmp_path / "elsewhere"
    result = postil("build", str(site.root), "-o", str(out), "--drafts",
                    "--base-url", "https://example.net/sub")
    assert result.returncode == 0, result.stderr
    page = parse_html(out / "articles/d/index.html")
    assert page.find("head/link[@rel='canonical']").get("href") == \
        "https://example.net/sub/articles/d/"


def test_content_error_exits_1_lists_problems_and_keeps_output(site):
    site({"content/a.md": article("A")})
    assert postil("build", str(site.root)).returncode == 0
    before = snapshot(site.root / "public")
    site.write("content/a.md", "---\ntitle: A\ndate: someday\n---\n")
    site.write("content/b.md", "---\ntitle: ''\ndate: 2024-01-01\n---\n")
    result = postil("build", str(site.root))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        'content/a.md:3: invalid date: "someday" is not a date: use YYYY-MM-DD or '
        "YYYY-MM-DD HH:MM[:SS][+HH:MM]",
        "content/b.md:2: title is empty",
        "build failed: 2 errors; nothing was written",
    ]
    assert snapshot(site.root / "public") == before


def test_check_validates_and_writes_nothing(site):
    site({"content/a.md": article("A")})
    result = postil("check", str(site.root))
    assert result.returncode == 0 and result.stdout.startswith("ok: 1 articles")
    assert not (site.root / "public").exists()
    site.write("content/a.md", article("A", "nope"))
    result = postil("check", str(site.root))
    assert result.returncode == 1 and "content/a.md:3: invalid date" in result.stderr


def test_init_then_new_then_build_anywhere(tmp_path):
    folder = tmp_path / "my site"
    result = postil("init", str(folder))
    assert result.returncode == 0, result.stderr
    ignored = [line for line in (folder / ".gitignore").read_text().splitlines()
               if line and not line.startswith("#")]
    assert ignored == ["public/", ".postil-cache/"]  # snapshots are kept unless told
    assert "# sources/" in (folder / ".gitignore").read_text().splitlines()
    assert postil("init", str(folder)).returncode == 2  # never overwrites
    result = postil("new", "Zürich: a field guide", str(folder))
    assert result.returncode == 0, result.stderr
    made = folder / "content/zurich-a-field-guide.md"
    text = made.read_text()
    assert 'title: "Zürich: a field guide"' in text and f"date: {date.today()}" in text
    again = postil("new", "Zürich: a field guide", str(folder))
    assert again.returncode == 2 and "exists already" in again.stderr
    assert made.read_text() == text
    result = postil("build", str(folder), "--drafts")
    assert result.returncode == 0, result.stderr
    home = parse_html(folder / "public/index.html")
    titles = [text_of(a) for a in home.iterfind(".//ol[@class='article-list']//h2/a")]
    assert sorted(titles) == ["Welcome to your reading archive", "Zürich: a field guide"]
    assert (folder / "public/css/style.css").is_file()  # the built-in theme



def test_no_cache_builds_everything_again_and_writes_only_what_changed(site, monkeypatch):
    """--no-cache ignores the parse cache and the built pages, and fills the cache anew."""
    import builder.sources
    from builder.cli import main

    site({"content/a.md": article("A"), "content/b.md": article("B", "2024-05-02")})
    assert main(["build", str(site.root), "-q"]) == 0
    before = snapshot(site.root / "public")
    parsed: list[str] = []
    real = builder.sources.read_article

    def counting(path, raw, settings, key=""):
        parsed.append(path)
        return real(path, raw, settings, key)

    monkeypatch.setattr(builder.sources, "read_article", counting)
    assert main(["build", str(site.root), "-q", "--no-cache"]) == 0
    assert sorted(parsed) == ["content/a.md", "content/b.md"]  # the cache was ignored
    assert snapshot(site.root / "public") == before  # same bytes: nothing rewritten
    parsed.clear()
    assert main(["build", str(site.root), "-q"]) == 0
    assert parsed == []  # and it was filled again


def test_a_first_build_that_fails_leaves_no_output_folder(site):
    from builder.cli import main

    site({"content/a.md": "---\ntitle: A\ndate: someday\n---\n"})
    assert main(["build", str(site.root), "-q"]) == 1
    assert not (site.root / "public").exists()
