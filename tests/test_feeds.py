"""Atom feeds: the archive, each tag and author; absolute URLs, dates, content, links."""

from xml.etree import ElementTree as ET

import feedparser
import pytest

from builder.feeds import FeedSource, feed_files
from builder.linkcheck import resolve
from builder.pipeline import BuildOptions, build
from builder.problems import BuildFailed
from conftest import REPO, article, parse_html

ATOM = "{http://www.w3.org/2005/Atom}"
CONFIG = """\
title: Feeds & notes
author: The Reader
description: An archive <for> feeds.
base_url: https://example.org/sub/
timezone: Asia/Kolkata
publisher: The Readers
paginate: 2
"""


@pytest.fixture
def built(site):
    site({
        "content/a.md": article("Alpha <one> & two", "2024-05-01", tags="[Pakistan, maps]",
                                author="Ann Lee", body="""
            Intro with [B](b.md#part), [tags](/tags/), ![map](img/map.png) and[^1].

            Control\x0ccharacter from a PDF.

            [^1]: A footnote.
            """),
        "content/b.md": article("Bravo", "2024-05-02 10:30", updated="2024-06-01",
                                tags="[pakistan]", author="Bo", lang="fr",
                                source="https://news.example.com/b?x=1&y=2",
                                summary="Short summary."),
        "content/c.md": article("Charlie", "2024-04-01T08:00:00+02:00", author="Ann Lee"),
        "content/d.md": article("Draft", "2024-07-01", draft="true"),
        "content/img/map.png": b"\x89PNG",  # copied to /img/map.png (builder.assets)
    }, config=CONFIG)
    return site.build(write=False)


def parsed(result, name):
    feed = feedparser.parse(result.files[name])
    assert not feed.bozo, f"{name}: {feed.get('bozo_exception')}"
    return feed


def test_every_feed_parses_cleanly_with_absolute_urls(built):
    names = sorted(n for n in built.files if n.endswith("feed.xml"))
    assert names == ["authors/ann-lee/feed.xml", "authors/bo/feed.xml", "feed.xml",
                     "tags/maps/feed.xml", "tags/pakistan/feed.xml"]
    for name in names:
        feed = parsed(built, name)
        assert feed.feed.id == "https://example.org/sub/" + name
        for entry in feed.entries:
            assert entry.link.startswith("https://example.org/sub/articles/")
            assert entry.id == entry.link


def test_site_feed_entries_newest_first_without_drafts(built):
    feed = parsed(built, "feed.xml")
    assert feed.feed.title == "Feeds & notes"
    assert feed.feed.subtitle == "An archive <for> feeds."
    assert [e.title for e in feed.entries] == ["Bravo", "Alpha <one> & two", "Charlie"]
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": "https://example.org/sub/feed.xml",
                     "alternate": "https://example.org/sub/"}
    bravo = feed.entries[0]
    assert bravo.author == "The Reader"  # the note's; feedparser reads Bo as a contributor
    assert [c.name for c in bravo.contributors] == ["Bo"]
    assert [link.href for link in bravo.links if link.rel == "via"] == \
        ["https://news.example.com/b?x=1&y=2"]


def test_dates_are_rfc3339_and_date_only_means_midnight_in_the_site_zone(built):
    root = ET.fromstring(built.files["feed.xml"])
    entries = {e.findtext(f"{ATOM}title"): e for e in root.iter(f"{ATOM}entry")}
    stamps = {title: (e.findtext(f"{ATOM}published"), e.findtext(f"{ATOM}updated"))
              for title, e in entries.items()}
    assert stamps == {
        "Alpha <one> & two": ("2024-05-01T00:00:00+05:30", "2024-05-01T00:00:00+05:30"),
        "Bravo": ("2024-05-02T10:30:00+05:30", "2024-06-01T00:00:00+05:30"),
        "Charlie": ("2024-04-01T08:00:00+02:00", "2024-04-01T08:00:00+02:00"),
    }
    assert root.findtext(f"{ATOM}updated") == "2024-06-01T00:00:00+05:30"  # newest change
    tag = ET.fromstring(built.files["tags/maps/feed.xml"])
    assert tag.findtext(f"{ATOM}updated") == "2024-05-01T00:00:00+05:30"


def test_full_content_has_absolute_links_and_no_control_characters(built):
    entry = parsed(built, "feed.xml").entries[1]
    html = entry.content[0].value
    body = parse_html(f"<!DOCTYPE html><title>x</title>{html}")
    urls = [a.get("href") for a in body.iter("a")] + [i.get("src") for i in body.iter("img")]
    assert "https://example.org/sub/articles/b/#part" in urls
    assert "https://example.org/sub/tags/" in urls
    assert "https://example.org/sub/img/map.png" in urls
    assert all(url.startswith("https://example.org/sub/") for url in urls), urls
    assert "\x0c" not in html and "Controlcharacter" in html
    assert entry.summary.startswith("Intro with")


def test_entries_carry_authors_categories_and_language(built):
    root = ET.fromstring(built.files["feed.xml"])
    bravo = next(e for e in root.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == "Bravo")
    assert bravo.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    category = bravo.find(f"{ATOM}category")
    assert (category.get("term"), category.get("label")) == ("pakistan", "Pakistan")
    # Bravo has a source: the entry is the archive's note, by the site's author; the
    # source's author is a contributor. Alpha, the archive's own writing, keeps its author.
    assert [(a.findtext(f"{ATOM}name"), a.findtext(f"{ATOM}uri"))
            for a in bravo.findall(f"{ATOM}author")] == [("The Reader", "https://example.org/sub/")]
    contributor = bravo.find(f"{ATOM}contributor")
    assert contributor.findtext(f"{ATOM}name") == "Bo"
    assert contributor.findtext(f"{ATOM}uri") == "https://example.org/sub/authors/bo/"
    alpha = next(e for e in root.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title").startswith(
        "Alpha"))
    assert [a.findtext(f"{ATOM}name") for a in alpha.findall(f"{ATOM}author")] == ["Ann Lee"]
    assert alpha.find(f"{ATOM}contributor") is None
    assert root.find(f"{ATOM}author").findtext(f"{ATOM}name") == "The Readers"


def test_summary_only_and_limit(site):
    config = CONFIG + "feed:\n  content: summary\n  limit: 2\n"
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}", tags="[t]") for i in range(1, 6)},
         config=config)
    result = site.build(write=False)
    for name in ("feed.xml", "tags/t/feed.xml"):
        feed = parsed(result, name)
        assert [e.title for e in feed.entries] == ["A5", "A4"]
        assert all("content" not in e for e in feed.entries)
        assert feed.entries[0].summary == "Some text."


def test_feed_settings_are_validated(site):
    site({"content/a.md": article("A")},
         config=CONFIG + "feed:\n  content: everything\n  limit: -1\n  size: 3\n")
    with pytest.raises(BuildFailed) as failure:
        site.build(write=False)
    messages = [str(p) for p in failure.value.problems]
    assert 'site.yml:8: feed.content must be "full" or "summary"' in messages
    assert "site.yml:8: feed.limit must be a whole number, 0 for every article" in messages
    assert 'site.yml:8: feed: unknown key "size" (use content, limit)' in messages


def alternates(page_bytes):
    head = parse_html(page_bytes).find("head")
    return [link.get("href") for link in head.iterfind("link[@rel='alternate']")
            if link.get("type") == "application/atom+xml"]


@pytest.mark.parametrize(("page", "feeds"), [
    ("index.html", ["feed.xml"]),
    ("page/2/index.html", ["feed.xml"]),
    ("tags/pakistan/index.html", ["tags/pakistan/feed.xml", "feed.xml"]),
    ("authors/ann-lee/index.html", ["authors/ann-lee/feed.xml", "feed.xml"]),
    ("articles/a/index.html", ["feed.xml"]),
])
def test_pages_link_to_their_feeds(built, page, feeds):
    from builder.linkcheck import page_url

    links = alternates(built.files[page])
    assert [resolve(page_url(page), href, "/sub/") for href in links] == feeds
    assert all(feed in built.files for feed in feeds)


def test_feeds_do_not_change_when_nothing_changed(site, built):
    again = site.build(write=False)
    for name, data in built.files.items():
        if name.endswith(".xml"):
            assert again.files[name] == data, name


def test_extra_feeds_for_other_pages(built):
    """How entities (or any page listing articles) get a feed: (title, url, articles)."""
    articles = built.site.articles[:2]
    files = feed_files(built.site, [("Entity E", "/entities/e/", articles),
                                    FeedSource("Other", "/other/", articles[:1])])
    feed = feedparser.parse(files["entities/e/feed.xml"])
    assert not feed.bozo and feed.feed.title == "Entity E"
    assert feed.feed.id == "https://example.org/sub/entities/e/feed.xml"
    assert [e.title for e in feed.entries] == [a.title for a in articles]
    assert "other/feed.xml" in files


def test_an_empty_archive_still_has_a_valid_feed(site):
    site({}, config=CONFIG)
    feed = parsed(site.build(write=False), "feed.xml")
    assert feed.entries == [] and feed.feed.updated == "1970-01-01T00:00:00Z"


def test_each_entity_named_in_articles_has_a_feed_linked_from_its_page(site):
    entity = "---\nname: {0}\ntype: place\n---\nNotes on {0}.\n"
    site({
        "content/entities/khuzdar.md": entity.format("Khuzdar"),
        "content/entities/kalat.md": entity.format("Kalat"),
        "content/a.md": article("A", "2024-01-01", body="Seen in [[khuzdar]]."),
        "content/b.md": article("B", "2024-01-02", body="Back in [[khuzdar]]."),
    }, config=CONFIG)
    result = site.build(write=False)
    feed = parsed(result, "entities/khuzdar/feed.xml")
    assert feed.feed.title == "Khuzdar · Feeds & notes"
    assert [e.title for e in feed.entries] == ["B", "A"]
    assert "entities/kalat/feed.xml" not in result.files  # no article mentions it
    links = alternates(result.files["entities/khuzdar/index.html"])
    assert [resolve("/entities/khuzdar/", href, "/sub/") for href in links] == \
        ["entities/khuzdar/feed.xml", "feed.xml"]
    assert alternates(result.files["entities/kalat/index.html"]) == ["../../feed.xml"]


def test_every_feed_of_the_example_archive_parses_cleanly():
    result = build(REPO, BuildOptions(write=False, base_url="https://example.org/archive/"))
    feeds = [name for name in result.files if name.endswith("feed.xml")]
    assert len(feeds) > len(result.site.tags) + len(result.site.authors)  # entities too
    for name in feeds:
        feed = parsed(result, name)
        assert feed.entries, name
        assert all(e.link.startswith("https://example.org/archive/") for e in feed.entries)
