"""sitemap.xml, robots.txt, and the canonical/OpenGraph/Twitter/citation meta of pages."""

from xml.etree import ElementTree as ET

import pytest

from builder.linkcheck import page_url
from builder.pipeline import BuildOptions, build
from builder.sitemap import MAX_URLS, sitemap_files
from conftest import REPO, article, parse_html

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
CONFIG = """\
title: Site & map
description: A described archive.
base_url: https://example.org/sub/
timezone: Europe/Paris
paginate: 2
"""


@pytest.fixture
def built(site):
    site({
        "content/a.md": article("Alpha", "2024-05-01", tags="[T]", author="Ann Lee",
                                publication="The Paper", summary="About <alpha>."),
        "content/b.md": article("Bravo", "2024-05-02 10:30", updated="2024-06-01 09:00",
                                authors="[Bo, Ann Lee]", lang="fr"),
        "content/c.md": article("Charlie", "2023-01-01", tags="[T]"),
    }, config=CONFIG)
    site.write("static/about.html", "<!DOCTYPE html><title>About</title>")
    return site.build(write=False)


def urlset(data: bytes) -> dict[str, str | None]:
    root = ET.fromstring(data)  # raises on anything but well-formed XML
    assert root.tag == f"{SM}urlset"
    return {url.findtext(f"{SM}loc"): url.findtext(f"{SM}lastmod") for url in root}


def test_sitemap_lists_exactly_the_built_pages(built):
    listed = urlset(built.files["sitemap.xml"])
    pages = {"https://example.org/sub" + page_url(name) for name in built.files
             if name.endswith(".html") and name != "404.html"}
    assert set(listed) == pages
    assert "https://example.org/sub/about.html" in listed  # a static page is a page too
    assert "https://example.org/sub/404.html" not in listed
    assert list(listed)[0] == "https://example.org/sub/"


def test_lastmod_is_an_article_pages_own_date_or_update(built):
    """Not the newest date the page shows: its neighbours and related articles are
    on it too, and a 2023 article would claim its newer neighbour's date."""
    listed = urlset(built.files["sitemap.xml"])
    base = "https://example.org/sub/"
    assert listed[base + "articles/c/"] == "2023-01-01"  # not its newer neighbour a's
    assert listed[base + "articles/a/"] == "2024-05-01"  # not b's update
    assert listed[base + "articles/b/"] == "2024-06-01T09:00:00+02:00"  # its own update


def test_lastmod_of_other_pages_is_the_newest_date_they_show(built):
    listed = urlset(built.files["sitemap.xml"])
    base = "https://example.org/sub/"
    assert listed[base + "tags/t/"] == "2024-05-01"
    assert listed[base + "archive/"] == "2024-06-01T09:00:00+02:00"
    assert listed[base + "about.html"] is None  # nothing to date it by


def test_robots_txt_points_at_the_sitemap(built):
    lines = built.files["robots.txt"].decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Sitemap: https://example.org/sub/sitemap.xml" in lines


def test_a_static_robots_txt_wins(site):
    site({"content/a.md": article("A")})
    site.write("static/robots.txt", "User-agent: *\nDisallow: /\n")
    result = site.build(write=False)
    assert result.files["robots.txt"] == b"User-agent: *\nDisallow: /\n"


def test_a_huge_site_gets_a_sitemap_index(built, monkeypatch):
    monkeypatch.setattr("builder.sitemap.MAX_URLS", 5)
    made = sitemap_files(built.site, built.files)
    index = ET.fromstring(made["sitemap.xml"])
    assert index.tag == f"{SM}sitemapindex"
    parts = [s.findtext(f"{SM}loc") for s in index]
    assert parts[0] == "https://example.org/sub/sitemap-1.xml"
    listed = {}
    for number in range(1, len(parts) + 1):
        listed.update(urlset(made[f"sitemap-{number}.xml"]))
    assert listed == urlset(built.files["sitemap.xml"])
    assert MAX_URLS == 50_000


def meta(page: bytes) -> dict[str, list[str]]:
    head = parse_html(page).find("head")
    found: dict[str, list[str]] = {}
    for element in head.iter("meta"):
        key = element.get("property") or element.get("name")
        if key:
            found.setdefault(key, []).append(element.get("content"))
    return found


def test_article_pages_have_canonical_social_and_citation_meta(built):
    page = built.files["articles/b/index.html"]
    head = parse_html(page).find("head")
    assert [link.get("href") for link in head.iterfind("link[@rel='canonical']")] == \
        ["https://example.org/sub/articles/b/"]
    tags = meta(page)
    assert tags["og:type"] == ["article"]
    assert tags["og:title"] == ["Bravo"] and tags["twitter:title"] == ["Bravo"]
    assert tags["og:url"] == ["https://example.org/sub/articles/b/"]
    assert tags["og:site_name"] == ["Site & map"]
    assert tags["twitter:card"] == ["summary"]
    assert tags["article:published_time"] == ["2024-05-02T10:30:00+02:00"]
    assert tags["article:modified_time"] == ["2024-06-01T09:00:00+02:00"]
    assert tags["article:author"] == ["https://example.org/sub/authors/bo/",
                                      "https://example.org/sub/authors/ann-lee/"]
    assert tags["citation_title"] == ["Bravo"]
    assert tags["citation_author"] == ["Bo", "Ann Lee"]
    assert tags["citation_publication_date"] == ["2024/05/02"]
    assert tags["citation_language"] == ["fr"]


def test_citation_journal_and_descriptions(built):
    tags = meta(built.files["articles/a/index.html"])
    assert tags["citation_journal_title"] == ["The Paper"]
    assert tags["og:description"] == ["About <alpha>."]
    assert tags["twitter:description"] == ["About <alpha>."]
    assert tags["article:tag"] == ["T"]


def test_list_pages_are_websites_and_404_has_no_cards(built):
    home = meta(built.files["index.html"])
    assert home["og:type"] == ["website"] and home["og:title"] == ["Site & map"]
    assert home["og:description"] == ["A described archive."]
    assert "citation_title" not in home
    assert meta(built.files["tags/t/index.html"])["og:title"] == ["T"]
    assert "og:type" not in meta(built.files["404.html"])


def test_the_example_archive_sitemap_lists_every_page_under_a_sub_path():
    result = build(REPO, BuildOptions(write=False, base_url="https://example.org/archive/"))
    listed = urlset(result.files["sitemap.xml"])
    assert set(listed) == {"https://example.org/archive" + page_url(name)
                           for name in result.files
                           if name.endswith(".html") and name != "404.html"}
    assert listed["https://example.org/archive/articles/pakistan-covert-iskp-let-alliance/"]
