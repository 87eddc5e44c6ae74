"""Whole sites with an entity registry: pages, deep links, errors, structured data."""

import json

import pytest

from builder.linkcheck import find_broken, page_url
from builder.model import Highlight, Quote
from builder.structured import text_fragment_url
from conftest import article, fails_with, hrefs, parse_html, text_of

CONFIG = ("title: T\nauthor: T Reader\nbase_url: https://example.org/\npaginate: 5\n"
          "entities:\n  autolink: true\n")


def entity(name, kind="person", **meta):
    lines = ["---", f"name: {name}", f"type: {kind}"]
    lines += [f"{key}: {value}" for key, value in meta.items()]
    return "\n".join(lines + ["---", "Notes on " + name + ".", ""])


@pytest.fixture
def archive(site):
    site({
        "content/entities/mir-shafiq-mengal.md": entity("Mir Shafiq Mengal",
                                                        weak_aliases="[Mengal]"),
        "content/entities/lashkar-e-taiba.md": entity(
            "Lashkar-e-Taiba", "organization", aliases="[LeT]", case_sensitive="[LeT]",
            wikidata="Q843"),
        "content/entities/khuzdar.md": entity("Khuzdar", "place"),
        "content/entities/jit-report.md": entity("JIT report", "event", date='"2015-05-22"',
                                                 location="khuzdar",
                                                 participants="[mir-shafiq-mengal]"),
        "content/a.md": article("Alpha", "2025-10-07", entities="[mir-shafiq-mengal]",
                                source="https://news.example.com/story",
                                snapshot="sources/story.txt",
                                events='[{date: "2025-06", text: "LeT leaders visit", '
                                       "entities: [lashkar-e-taiba]}]",
                                body="""
                                Mir Shafiq Mengal worked from Khuzdar with LeT.
                                Later [[mir-shafiq-mengal|Mengal]] met LeT again.

                                > {==a photograph, sent & dated==}{>>Described, not shown.<<}
                                """),
        "sources/story.txt": "It said that a photograph, sent &\ndated by hand, exists.\n",
        "content/b.md": article("Beta", "2024-01-01", tags="[x]",
                                body="Khuzdar and Mir Shafiq Mengal, in [[Alpha]]."),
        "content/c.md": article("Gamma", "2023-01-01", tags="[x]", body="Nothing named."),
    }, config=CONFIG)
    return site


def test_entity_pages_link_to_mentions_that_exist(archive):
    result = archive.build()
    assert find_broken(result.files) == []
    ids = {}
    for name, data in result.files.items():
        if name.startswith("articles/") and name.endswith(".html"):
            ids[page_url(name)] = {el.get("id") for el in parse_html(data).iter() if el.get("id")}
    page = parse_html(result.files["entities/mir-shafiq-mengal/index.html"])
    deep = [h for h in hrefs(page, ".//section[@class='mentions']//blockquote//a")]
    assert deep == ["../../articles/a/#m-mir-shafiq-mengal-1",
                    "../../articles/a/#m-mir-shafiq-mengal-2",
                    "../../articles/b/#m-mir-shafiq-mengal-1"]
    for link in deep:
        target, fragment = link.replace("../../", "/").split("#")
        assert fragment in ids[target]
    passages = [text_of(b) for b in page.iterfind(".//blockquote")]
    assert passages[0].startswith("Mir Shafiq Mengal worked from Khuzdar")  # one per paragraph
    assert [text_of(s) for s in page.iterfind(".//blockquote//strong")] == [
        "Mir Shafiq Mengal", "Mengal", "Mir Shafiq Mengal"]


def test_entity_page_details_co_mentions_and_timeline(archive):
    page = parse_html(archive.build().files["entities/lashkar-e-taiba/index.html"])
    assert text_of(page.find(".//h1")) == "Organisation Lashkar-e-Taiba"
    assert page.find(".//a[@href='https://www.wikidata.org/wiki/Q843']") is not None
    assert text_of(page.find(".//section[@class='entity-notes article-body']")) == \
        "Notes on Lashkar-e-Taiba."
    co = [text_of(a) for a in page.iterfind(".//section[@class='co-mentions']//a")]
    assert co == ["Khuzdar 1", "Mir Shafiq Mengal 1"]
    events = [text_of(li.find("time")) for li in page.iterfind(".//ol[@class='timeline']/li")]
    assert events == ["June 2025"]
    data = json.loads(page.find(".//script[@type='application/ld+json']").text)
    assert data["@type"] == "Organization" and data["alternateName"] == ["LeT"]
    assert data["sameAs"] == "https://www.wikidata.org/wiki/Q843"


def test_entities_index_groups_by_type_with_counts(archive):
    page = parse_html(archive.build().files["entities/index.html"])
    groups = [text_of(h) for h in page.iterfind(".//section[@class='entity-group']/h2")]
    assert groups == ["People", "Organisations", "Places", "Events"]
    first = page.find(".//section[@class='entity-group']//li")
    assert "3 mentions in 2 articles" in text_of(first)


def test_timeline_sorts_partial_dates(archive):
    page = parse_html(archive.build().files["timeline/index.html"])
    rows = [(li.find("time").get("datetime"), text_of(li.find(".//p[@class='event-text']")))
            for li in page.iterfind(".//ol[@class='timeline']/li")]
    assert rows == [("2015-05-22", "JIT report"), ("2025-06", "LeT leaders visit")]


def test_article_page_lists_entities_highlights_related_and_json_ld(archive):
    result = archive.build()
    page = parse_html(result.files["articles/a/index.html"])
    box = page.find(".//section[@class='article-entities']")
    assert [text_of(h) for h in box.iter("h3")] == ["People", "Organisations", "Places"]
    original = page.find(".//a[@class='original-link']").get("href")
    assert original == ("https://news.example.com/story#:~:text="
                        "a%20photograph%2C%20sent%20%26%20dated")
    assert hrefs(page, ".//section[@class='related']//a") == ["../b/"]  # shares entities
    data = json.loads(page.find(".//head/script[@type='application/ld+json']").text)
    assert data["@type"] == "Article" and data["headline"] == "Alpha"
    assert [e["name"] for e in data["about"]] == ["Mir Shafiq Mengal"]
    mentioned = {e["name"]: e for e in data["mentions"]}
    assert mentioned["Lashkar-e-Taiba"]["sameAs"] == "https://www.wikidata.org/wiki/Q843"


def test_annotations_json_is_w3c_web_annotation(archive):
    result = archive.build()
    data = json.loads(result.files["articles/a/annotations.json"])
    assert data["type"] == "AnnotationPage"
    by_motivation = {}
    for item in data["items"]:
        by_motivation.setdefault(item["motivation"], []).append(item)
    [note] = by_motivation["commenting"]
    assert note["id"] == "https://example.org/articles/a/#hl-1"
    assert note["body"]["value"] == "Described, not shown."
    quote, position = note["target"]["selector"]
    assert quote["type"] == "TextQuoteSelector" and quote["exact"] == \
        "a photograph, sent & dated"
    assert position["type"] == "TextPositionSelector"
    assert position["end"] - position["start"] == len(quote["exact"])
    identifying = by_motivation["identifying"]
    assert identifying[0]["body"] == {"type": "SpecificResource", "purpose": "identifying",
                                      "source": "https://example.org/entities/mir-shafiq-mengal/"}
    assert identifying[0]["target"]["selector"][0]["exact"] == "Mir Shafiq Mengal"


def test_annotations_page_links_back(archive):
    page = parse_html(archive.build().files["annotations/index.html"])
    assert hrefs(page, ".//ol[@class='highlight-list']//a[@class='highlight-link']") == [
        "../articles/a/#hl-1"]


def test_text_fragment_encoding():
    highlight = Highlight("hl-1", "highlight", "well-known, tried & true", "", 1,
                          Quote("", "", "", 0, 0))
    assert text_fragment_url("https://x.org/a#top", highlight) == \
        "https://x.org/a#:~:text=well%2Dknown%2C%20tried%20%26%20true"
    long = Highlight("hl-2", "highlight", " ".join(f"w{i}" for i in range(30)), "", 1,
                     Quote("", "", "", 0, 0))
    assert text_fragment_url("https://x.org/a", long) == \
        "https://x.org/a#:~:text=w0%20w1%20w2%20w3%20w4,w25%20w26%20w27%20w28%20w29"


def test_broken_wikilink_is_an_error_with_its_line(archive):
    archive.build()
    archive.write("content/c.md", article("Gamma", "2023-01-01",
                                          body="Intro.\n\n[[Mir Shafik Mengal]]"))
    fails_with(archive, 'content/c.md:7: unknown entity or article "Mir Shafik Mengal" '
                        '(did you mean "Mir Shafiq Mengal"?)')


def test_alias_claimed_by_two_entities_names_both_files(archive):
    archive.build()
    archive.write("content/entities/let2.md", entity("Lashkar Two", "organization",
                                                     aliases="[LeT]"))
    fails_with(archive, 'content/entities/let2.md:4: alias "LeT" is also claimed by '
                        'content/entities/lashkar-e-taiba.md ("Lashkar-e-Taiba")')


def test_unknown_entities_and_bad_registry_values(archive):
    archive.build()
    archive.write("content/c.md", article("Gamma", "2023-01-01", entities="[khuzdr]"))
    archive.write("content/entities/bad.md", "---\ntype: planet\nwikidata: 843\n---\n")
    fails_with(archive,
               "content/c.md:4: unknown entity \"khuzdr\" (did you mean \"khuzdar\"?)",
               "content/entities/bad.md:1: missing name in entity front matter",
               'content/entities/bad.md:2: unknown type "planet" (use one of: person, '
               "organization, place, event, work, other)",
               'content/entities/bad.md:3: wikidata must be a Wikidata id like Q843, not "843"')
