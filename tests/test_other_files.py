"""The files made beside the pages (citations, ``annotations.json``, feeds, sitemap).

Their signatures sign what each file is made of, and nothing less: for each field a
file shows, changing it changes the file's bytes and its signature. And the faster ways
they are made give the bytes the plain ways gave (indented JSON, sitemap stamps). No
site is built: articles are made by hand, so these run in milliseconds."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from builder.citations import ENTRY_FIELDS, bibtex_entry, citation_files, csl_item, entry_signature
from builder.config import SiteConfig
from builder.feeds import FeedSource, FeedWriter
from builder.model import (
    Article,
    ArticleRecord,
    Entity,
    EntityRecord,
    Highlight,
    Mention,
    Page,
    Quote,
    Site,
)
from builder.outputs import Files, Made, Signer
from builder.site_files import annotation_signature
from builder.sitemap import lastmod
from builder.webannotation import annotation_file, annotation_page, json_indented_1

CONFIG = SiteConfig(site_dir=Path("."), author="Test Reader")
QUOTE = Quote("x", "", "", 0, 1)


def record(**changes: Any) -> ArticleRecord:
    """A record with every field an entry or an annotation can show set."""
    values: dict[str, Any] = dict(
        source="content/a.md", slug="a", title="A Title", date=date(2024, 2, 3),
        datetime=None, updated=date(2024, 2, 5), read=date(2024, 3, 1),
        authors=["Ada Lovelace"], tags=["maths"], source_url="https://example.com/a",
        publication="The Paper", lang="en-GB", body_html="<p>Some text.</p>",
        highlights=[Highlight("hl-1", "highlight", "Some", "", 3, QUOTE, owner="k1"),
                    Highlight("hl-2", "note", "", "A note.", 4, QUOTE, owner="k1")],
        mentions=[Mention("ada", "m-ada-1", 3, True, False, QUOTE, owner="k1")],
        key="k1")
    values.update(changes)
    return ArticleRecord(**values)


def card(**changes: Any) -> Article:
    """A card of :func:`record`; ``changes`` of the card's own fields or its record's."""
    own = {name: changes.pop(name) for name in ("url", "authors") if name in changes}
    base = record()
    return Article(record=replace(base, **changes) if changes else base,
                   **{"url": "/articles/a/", "authors": ["Ada Lovelace"],
                      "body_html": "<p>Some text.</p>", **own})


def signer() -> Signer:
    return Signer(Site(CONFIG, (), (), (), ()), b"p" * 16, b"s" * 16)


class Reads:
    """Stands for an article and notes each attribute read from it."""

    def __init__(self, article: Article) -> None:
        self._article, self._seen = article, set()

    def __getattr__(self, name: str) -> Any:
        self._seen.add(name)
        return getattr(self._article, name)


# -- citations ---------------------------------------------------------------------

def test_an_entry_reads_exactly_the_fields_it_is_signed_by():
    reads = Reads(card())
    csl_item(CONFIG, reads)
    assert reads._seen == set(ENTRY_FIELDS)


#: each field an entry shows → a change of the card that changes it
ENTRY_CHANGES = {
    "url": {"url": "/articles/b/"},
    "title": {"title": "Another Title"},
    "authors": {"authors": ["Grace Hopper"]},
    "publication": {"publication": "Another Paper"},
    "source_url": {"source_url": "https://example.com/b"},
    "published": {"date": date(2023, 1, 1)},
    "published (how dated)": {"dated_by": "updated"},
    "read": {"read": date(2024, 3, 2)},
    "updated": {"updated": date(2024, 2, 6)},
    "lang": {"lang": "fr"},
}


def citations(cards: list[Article]) -> tuple[dict[str, bytes], dict[str, str]]:
    """(name → bytes, name → signature) of the citation files of ``cards``."""
    files, signatures = Files(), {}
    site = Site(CONFIG, tuple(cards), (), (), years=((2024, tuple(cards)),))
    citation_files(CONFIG, site, signer(), Made(), None, files, signatures)
    return {name: files[name] for name in files}, signatures


def test_every_field_an_entry_shows_is_in_its_files_signatures():
    assert {name.split(" ")[0] for name in ENTRY_CHANGES} == set(ENTRY_FIELDS)
    other = card(url="/articles/other/", title="Other", source_url="https://example.com/o")
    before, signed = citations([card(), other])
    assert set(before) == {"articles/a/source.json", "articles/a/source.bib",
                           "articles/other/source.json", "articles/other/source.bib",
                           "bibliography.json", "bibliography.bib"}
    for field, changes in ENTRY_CHANGES.items():
        changed = card(**changes)
        assert entry_signature(signer(), changed) != entry_signature(signer(), card()), field
        after, resigned = citations([changed, other])
        folder = changed.url.strip("/")
        for name in (f"{folder}/source.json", f"{folder}/source.bib", "bibliography.json",
                     "bibliography.bib"):
            old = name.replace(folder, "articles/a")
            assert after[name] != before[old], (field, name)  # the bytes show it…
            assert resigned[name] != signed[old], (field, name)  # …so the signature must
        for name in ("articles/other/source.json", "articles/other/source.bib"):
            assert (after[name], resigned[name]) == (before[name], signed[name]), field


def test_an_edit_of_the_text_keeps_the_citations_signatures():
    _, signed = citations([card()])
    _, resigned = citations([card(body_html="<p>Other text.</p>", key="k2", tags=["x"])])
    assert resigned == signed


def test_the_two_files_of_an_entry_have_signatures_of_their_own():
    _, signed = citations([card()])
    assert len({signed["articles/a/source.json"], signed["articles/a/source.bib"]}) == 2


def test_a_reused_entry_is_not_made_again(monkeypatch):
    files, signatures = Files(), {}
    site = Site(CONFIG, (card(),), (), (), years=((2024, (card(),)),))
    made = Made()
    citation_files(CONFIG, site, signer(), made, None, files, signatures)
    made.remember(files, signatures)
    made_items = []
    monkeypatch.setattr("builder.citations.csl_item", lambda *a: made_items.append(a))
    again = Files()
    citation_files(CONFIG, site, signer(), made, None, again, {})
    assert made_items == [] and {name: again[name] for name in again} == \
        {name: files[name] for name in files}
    item = csl_item(CONFIG, card())
    assert files["articles/a/source.bib"] == bibtex_entry(item).encode()
    assert json.loads(files["articles/a/source.json"]) == [item]


# -- annotations.json ----------------------------------------------------------------

PAGE = b"<html><body><p><mark id='hl-1'>Some</mark> <a id='m-ada-1'>Ada</a></p></body></html>"


def test_annotations_read_only_the_url_and_the_records_fields():
    reads = Reads(card())
    annotation_page(CONFIG, reads, PAGE)
    record_fields = {item.name for item in fields(ArticleRecord)}
    # The URL is signed as it is; the rest must be the record's, which its key stands for.
    assert "url" in reads._seen and reads._seen - {"url"} <= record_fields


@pytest.mark.parametrize(("what", "changes"), [
    ("url", {"url": "/articles/b/"}),
    ("highlights", {"highlights": [Highlight("hl-1", "highlight", "Other", "", 3, QUOTE, "k2")],
                    "key": "k2"}),
    ("mentions", {"mentions": [], "key": "k2"}),
])
def test_annotations_are_signed_by_what_they_show(what, changes):
    base, changed = card(), card(**changes)
    assert annotation_file(CONFIG, changed, PAGE) != annotation_file(CONFIG, base, PAGE)
    assert annotation_signature(signer(), changed, "page") != \
        annotation_signature(signer(), base, "page")


def test_annotations_are_signed_by_their_pages_signature():
    assert annotation_signature(signer(), card(), "page") != \
        annotation_signature(signer(), card(), "page, changed")
    assert annotation_signature(signer(), card(), "page") == \
        annotation_signature(signer(), card(body_html="<p>Other.</p>"), "page")


# -- feeds -----------------------------------------------------------------------------

def writer(names: dict | None = None) -> FeedWriter:
    return FeedWriter(CONFIG, names or {}, sign=signer().of)


def test_a_feeds_signature_follows_its_head_and_each_entry():
    cards = [card(), card(url="/articles/b/", key="k2")]
    source = FeedSource("Feed", "/tags/x/", cards, "Sub")
    signed = writer().signature(source)
    assert writer().signature(FeedSource("Feed", "/tags/x/", list(cards), "Sub")) == signed
    for other in (FeedSource("Other", "/tags/x/", cards, "Sub"),
                  FeedSource("Feed", "/tags/y/", cards, "Sub"),
                  FeedSource("Feed", "/tags/x/index.html", cards, "Sub"),  # the same feed URL
                  FeedSource("Feed", "/tags/x/", cards, "Other"),
                  FeedSource("Feed", "/tags/x/", cards[::-1], "Sub"),
                  FeedSource("Feed", "/tags/x/", [cards[0], card(url="/c/", key="k3")], "Sub")):
        assert writer().signature(other) != signed
    # a term's shown name is in its entries (their <category label>)
    renamed = {"tags": {"maths": ("maths", "Mathematics")}}
    assert writer(renamed).signature(source) != signed
    assert writer(renamed).feed(source) != writer().feed(source)


def test_a_feed_entry_reads_only_its_records_fields_and_those_it_is_signed_by():
    reads = Reads(card())
    writer()._make_entry(reads)  # noqa: SLF001 - what making an entry reads
    record_fields = {item.name for item in fields(ArticleRecord)}
    own = {"url", "authors", "body_html"}  # the card's own fields that entry_inputs signs
    assert own <= reads._seen and reads._seen - own <= record_fields


#: two spellings of one author: one term, but an entry shows the name as written
ONE_AUTHOR = {"authors": {name: ("ada-lovelace", "Ada Lovelace")
                          for name in ("Ada Lovelace", "ada lovelace")}}


@pytest.mark.parametrize("changes", [
    {"url": "/articles/b/"}, {"authors": ["ada lovelace"]}, {"key": "k2", "title": "B"},
    {"own_body": "<p>Other text.</p>"},
])
def test_a_feed_entry_is_signed_by_what_it_shows(changes):
    if "own_body" in changes:  # the card's body (links resolved), not its record's
        changed = replace(card(), body_html=changes["own_body"])
    else:
        changed = card(**changes)
    feeds = writer(ONE_AUTHOR)
    assert feeds._make_entry(changed) != feeds._make_entry(card())  # noqa: SLF001
    assert feeds.entry_key(changed) != feeds.entry_key(card())


def test_an_entry_is_signed_once_however_many_feeds_list_it():
    feeds = writer()
    signed = []
    feeds._sign = lambda *parts: signed.append(parts[0]) or "x"  # noqa: SLF001 - counting
    entries = [card()]
    for page in ("/", "/tags/maths/", "/authors/ada/"):
        feeds.signature(FeedSource("Feed", page, entries))
    assert signed.count("feed entry") == 1 and signed.count("feed") == 3


# -- the same bytes, made faster ------------------------------------------------------

@pytest.mark.parametrize("value", [
    [], {}, {"a": []}, [[{}], {"b": [[]]}],
    {"@context": "x", "items": [{"id": 1, "target": {"selector": [
        {"exact": "two  spaces\nand a newline", "prefix": "  ", "suffix": "\t\u0001"},
        {"start": -1, "end": 10 ** 12, "none": None, "yes": True, "no": False}]}}]},
    ["é “quotes” \\ \" \u2028 \U0001f600 \x7f", {"deep": [[[[["five"]]]]]}],
])
def test_indented_json_is_the_standard_librarys(value):
    assert json_indented_1(value) == json.dumps(value, ensure_ascii=False, indent=1).encode()


def dated(slug: str, day: date, moment: datetime | None = None) -> Article:
    base = record(slug=slug, date=day, datetime=moment, updated=None, key=slug)
    return Article(record=base, url=f"/articles/{slug}/", authors=[], body_html="")


def test_lastmod_takes_the_first_shown_of_articles_at_the_same_instant():
    # the same instant, written as a date (midnight in the site's zone, UTC) and a time
    day = dated("day", date(2024, 1, 1))
    midnight = dated("midnight", date(2024, 1, 1), datetime(2024, 1, 1, tzinfo=UTC))
    older = dated("older", date(2023, 5, 1))
    entity = Entity(EntityRecord("content/entities/e.md", "e", "E", "person"))
    tz = CONFIG.tz

    def page(*shows: Any) -> Page:
        return Page("/tags/x/", "list.html", {}, shows=shows)
    assert lastmod(page(older, day, entity, midnight), tz) == "2024-01-01"
    assert lastmod(page(midnight, older, day), tz) == "2024-01-01T00:00:00+00:00"
    assert lastmod(page(entity), tz) is None and lastmod(page(), tz) is None
    newer = dated("newer", date(2024, 1, 1), datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert lastmod(page(day, newer, midnight), tz) == "2024-01-01T00:00:01+00:00"
    own = Page(day.url, "article.html", {"article": day}, shows=(day, newer))
    assert lastmod(own, tz) == "2024-01-01"
