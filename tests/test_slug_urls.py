"""Slugs in URLs: ``slugs: unicode`` (native script, percent-encoded links, UTF-8 file
names), ``postil new`` with a title in another script, and the list of pages a build
removed (after slugs or permalinks change)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import feedparser

from builder import slugs
from builder.linkcheck import find_broken
from conftest import REPO, SITE_YML, article, parse_html

UNICODE_YML = SITE_YML + "slugs: unicode\n"


def postil(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "builder", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_unicode_slugs_keep_the_script_in_file_names_and_encode_links(site):
    site({"content/доклад.md": article("Доклад о науке", "2024-01-01", tags="[Наука]",
                                       author="Иван Петров",
                                       body="## Введение\n\nSee [[Другое]].\n"),
          "content/другое.md": article("Другое", "2024-01-02", tags="[наука]")},
         config=UNICODE_YML)
    try:
        result = site.build()
    finally:
        slugs.use("ascii")  # (the build set it for this process)
    assert {"articles/доклад/index.html", "tags/наука/index.html",
            "authors/иван-петров/index.html"} <= set(result.files)
    assert (site.root / "public/tags/наука/index.html").is_file()  # a UTF-8 file name
    root = parse_html(result.files["articles/доклад/index.html"])
    hrefs = {a.get("href") for a in root.iter("a")}
    assert "../../tags/%D0%BD%D0%B0%D1%83%D0%BA%D0%B0/" in hrefs
    assert "../../authors/%D0%B8%D0%B2%D0%B0%D0%BD-%D0%BF%D0%B5%D1%82%D1%80%D0%BE%D0%B2/" \
        in hrefs
    assert "../%D0%B4%D1%80%D1%83%D0%B3%D0%BE%D0%B5/" in hrefs  # the wikilink
    assert [h.get("id") for h in root.iter("h2") if h.get("id") != "related"] == ["введение"]
    assert not [link for link in hrefs if not link.isascii() and not link.startswith("#")]
    assert find_broken(result.files) == []  # every link reaches its file
    sitemap = result.files["sitemap.xml"].decode()
    assert "<loc>https://example.org/articles/%D0%B4%D0%BE%D0%BA%D0%BB%D0%B0%D0%B4/</loc>" \
        in sitemap
    feed = feedparser.parse(result.files["feed.xml"])
    assert feed.entries[1].link == \
        "https://example.org/articles/%D0%B4%D0%BE%D0%BA%D0%BB%D0%B0%D0%B4/"
    assert [t.term for t in feed.entries[1].tags] == ["наука"]
    canonical = root.find(".//link[@rel='canonical']")
    assert canonical.get("href") == \
        "https://example.org/articles/%D0%B4%D0%BE%D0%BA%D0%BB%D0%B0%D0%B4/"


def test_the_slugs_setting_is_checked(site):
    site({}, config=SITE_YML + "slugs: native\n")
    result = postil("build", str(site.root))
    assert result.returncode == 1
    assert 'site.yml:5: slugs must be "ascii" or "unicode", not "native"' in result.stderr


def test_postil_new_with_a_title_in_another_script(site):
    site()
    result = postil("new", "Тестовый доклад", str(site.root))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"wrote {site.root / 'content' / 'testovyy-doklad.md'}"
    (site.root / "site.yml").write_text(UNICODE_YML, encoding="utf-8")
    result = postil("new", "Тестовый доклад", str(site.root))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"wrote {site.root / 'content' / 'тестовый-доклад.md'}"
    result = postil("build", str(site.root), "--drafts")
    assert result.returncode == 0, result.stderr
    assert (site.root / "public/articles/тестовый-доклад/index.html").is_file()


def test_a_build_lists_the_pages_the_last_build_had_and_this_one_removed(site):
    files = {f"content/a{n:02}.md": article(f"Ночь {n}", "2024-01-01", slug=f"старый-{n:02}")
             for n in range(22)}
    site(files, config=UNICODE_YML)
    assert postil("build", str(site.root)).returncode == 0
    (site.root / "site.yml").write_text(SITE_YML, encoding="utf-8")  # slugs: ascii again
    result = postil("build", str(site.root))
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[1:] == [
        "22 pages of the last build removed:",
        *(f"  /articles/старый-{n:02}/" for n in range(20)),
        "  … and 2 more",
        "  if a page moved, keep its old URL working: list it under aliases: in the "
        "article's front matter (aliases: [/old/url/])"]
    assert not Path(site.root / "public/articles/старый-00").exists()
    assert (site.root / "public/articles/staryy-00/index.html").is_file()
