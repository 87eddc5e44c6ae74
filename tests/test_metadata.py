"""Whose page it is: JSON-LD, citation_* and OpenGraph tags name the archive's author for
a note about a source, and the source's author only as the source's (issue 12)."""

import json
import subprocess
import sys

import pytest

from builder.pipeline import BuildOptions, build
from conftest import REPO, SITE_YML, article, fails_with, parse_html, text_of

DIGEST = "articles/pakistan-covert-iskp-let-alliance/index.html"
SEED_AUTHOR = "Abhinandan Mishra"
CONFIG = SITE_YML + "author: Test Reader\n"


@pytest.fixture(scope="module")
def example():
    return build(REPO, BuildOptions(write=False))


def head_meta(page) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for element in page.find("head").iter("meta"):
        key = element.get("property") or element.get("name")
        if key:
            found.setdefault(key, []).append(element.get("content"))
    return found


def jsonld(page) -> dict:
    scripts = [s for s in page.iter("script") if s.get("type") == "application/ld+json"]
    assert len(scripts) == 1
    return json.loads(scripts[0].text)


def test_the_digest_is_the_archives_note_and_the_article_only_its_source(example):
    page = parse_html(example.files[DIGEST])
    data = jsonld(page)
    site_author = example.config.author
    assert site_author == "Postil example archive editors"
    assert data["@type"] == "Article"
    assert data["author"] == [{"@type": "Person", "name": site_author}]
    assert data["publisher"] == {"@type": "Organization", "name": "Postil example archive"}
    assert data["dateCreated"] == "2025-10-08"  # read:
    source = data["isBasedOn"]
    assert source["@type"] == "NewsArticle"
    assert source["author"] == [{"@type": "Person", "name": SEED_AUTHOR}]
    assert source["publisher"] == {"@type": "Organization", "name": "The Sunday Guardian"}
    assert source["url"].startswith("https://sundayguardianlive.com/news/pakistans-covert")
    # The seed gives only "Last Updated: October 7, 2025 17:19:20 IST".
    assert source["dateModified"] == "2025-10-07T17:19:20+05:30"
    assert "datePublished" not in source and "datePublished" not in data
    # The source's author appears nowhere else in the JSON-LD (isBasedOn alone names him).
    rest = {key: value for key, value in data.items() if key != "isBasedOn"}
    assert SEED_AUTHOR not in json.dumps(rest["author"]) + json.dumps(rest["publisher"])


def test_the_digests_citation_and_social_tags_describe_the_note(example):
    page = parse_html(example.files[DIGEST])
    tags = head_meta(page)
    assert tags["citation_author"] == ["Postil example archive editors"]
    assert not any(SEED_AUTHOR in value for key, values in tags.items()
                   if key.startswith(("citation_", "article:", "author")) for value in values)
    assert "citation_journal_title" not in tags  # the note is in no journal
    assert "citation_publication_date" not in tags and "citation_date" not in tags
    assert "article:published_time" not in tags and "article:author" not in tags
    assert tags["author"] == ["Postil example archive editors"]


def test_the_digest_says_last_updated_never_published(example):
    page = parse_html(example.files[DIGEST])
    byline = text_of(page.find(".//p[@class='byline']"))
    assert byline.startswith("Last updated 7 October 2025")
    assert "ublished" not in text_of(page.find(".//header"))
    notes = text_of(page.find(".//p[@class='meta notes-by']"))
    assert notes.startswith("Notes by Postil example archive editors, read 8 October 2025")
    # Its card on the home page and the archive say so too.
    for name in ("index.html", "archive/index.html"):
        listing = parse_html(example.files[name])
        item = next(li for li in listing.iter("li")
                    if "Pakistan’s covert" in text_of(li))
        assert "updated" in text_of(item).split()


def test_an_article_without_a_source_is_the_archives_own_writing(site):
    site({"content/essay.md": article("Essay", "2024-05-02", author="Ann Lee",
                                      updated="2024-06-01")})
    page = parse_html(site.build(write=False).files["articles/essay/index.html"])
    data = jsonld(page)
    assert data["author"] == [{"@type": "Person", "name": "Ann Lee"}]
    assert data["datePublished"] == "2024-05-02" and data["dateModified"] == "2024-06-01"
    assert "isBasedOn" not in data
    tags = head_meta(page)
    assert tags["citation_author"] == ["Ann Lee"]
    assert tags["citation_publication_date"] == ["2024/05/02"]
    assert tags["article:published_time"] == ["2024-05-02"]


def test_an_own_article_dated_only_by_updated_claims_no_publication(site):
    site({"content/note.md": "---\ntitle: Note\nupdated: 2024-06-01 10:00\n---\nText.\n"})
    result = site.build(write=False)
    page = parse_html(result.files["articles/note/index.html"])
    data = jsonld(page)
    assert "datePublished" not in data and data["dateModified"] == "2024-06-01T10:00:00+00:00"
    tags = head_meta(page)
    assert "citation_publication_date" not in tags and "article:published_time" not in tags
    assert tags["article:modified_time"] == ["2024-06-01T10:00:00+00:00"]
    assert text_of(page.find(".//p[@class='byline']")).startswith("Last updated 1 June 2024")
    feed = result.files["feed.xml"].decode()
    assert "<published>" not in feed and "<updated>2024-06-01T10:00:00Z</updated>" in feed


def test_a_source_without_an_author_is_not_given_the_sites(site):
    site({"content/a.md": article("A", "2024-05-02", source="https://example.com/a")},
         config=CONFIG)
    page = parse_html(site.build(write=False).files["articles/a/index.html"])
    data = jsonld(page)
    assert data["author"] == [{"@type": "Person", "name": "Test Reader"}]
    assert data["isBasedOn"]["@type"] == "CreativeWork"  # no publication
    assert "author" not in data["isBasedOn"]
    assert data["isBasedOn"]["datePublished"] == "2024-05-02"
    assert "Test Reader" not in text_of(page.find(".//p[@class='byline']"))


def test_an_events_location_is_the_places_name_and_url(site):
    site({"content/entities/khuzdar.md": "---\nname: Khuzdar District\ntype: place\n"
                                         "wikidata: Q1\n---\n",
          "content/entities/raid.md": "---\nname: The raid\ntype: event\ndate: 2015-05\n"
                                      "location: khuzdar\n---\n",
          "content/a.md": article("A", body="The raid happened.")},
         config="title: T\nbase_url: https://example.org/sub/\npaginate: 1\n")
    result = site.build(write=False)
    data = jsonld(parse_html(result.files["entities/raid/index.html"]))
    assert data["location"] == {"@type": "Place", "name": "Khuzdar District",
                                "url": "https://example.org/sub/entities/khuzdar/",
                                "sameAs": "https://www.wikidata.org/wiki/Q1"}


def test_site_author_is_required_once_an_article_has_a_source(site):
    site({"content/a.md": article("A", source="https://example.com/a"),
          "content/b.md": article("B", source="https://example.com/b"),
          "content/c.md": article("C", date="2024-13-01")},
         config='title: T\nbase_url: https://example.org/\nauthor: ""\n')
    (site.root / "public").mkdir()
    fails_with(site, 'content/c.md:3: invalid date: "2024-13-01" is not a date: use '
               "YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS][+HH:MM]",
               "site.yml:3: author is required once an article has a source "
               "(content/a.md:4 and 1 more): the pages are the archive's notes, by the "
               'site\'s author, and their metadata names them so; set author: "Your Name"')


def test_the_missing_author_is_reported_by_the_command_line(site):
    site({"content/a.md": article("A", source="https://example.com/a")},
         config="title: T\nbase_url: https://example.org/\n")
    done = subprocess.run([sys.executable, "-m", "builder", "check", str(site.root)],
                          capture_output=True, text=True, cwd=site.root)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith(
        "site.yml:1: author is required once an article has a source (content/a.md:4)")
    assert "Traceback" not in done.stderr


def test_no_author_is_needed_without_sources(site):
    site({"content/a.md": article("A")}, config="title: T\nbase_url: https://example.org/\n")
    assert site.build(write=False).files["articles/a/index.html"]
