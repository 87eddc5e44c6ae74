"""The timeline's order: decades, and events that come "after" another of a coarser date."""

import json

import pytest

from builder.dates import PartialDate
from conftest import article, cold_files, copy_example, fails_with, parse_html, text_of

CONFIG = "title: T\nbase_url: https://example.org/\nentities:\n  autolink: true\n"


def event_entity(name: str, date: str, body: str = "Notes.") -> str:
    return f"---\nname: {name}\ntype: event\ndate: {date}\n---\n{body}\n"


def rows(result) -> list[tuple[str | None, str, str]]:
    page = parse_html(result.files["timeline/index.html"])
    return [(li.find("time").get("datetime"), text_of(li.find("time")),
             text_of(li.find(".//p[@class='event-text']")))
            for li in page.iterfind(".//ol[@class='timeline']/li")]


@pytest.mark.parametrize("text, label, iso", [("2000s", "2000s", "2000s"), ("1990s", "1990s",
                                                                             "1990s")])
def test_a_decade_reads_sorts_and_prints(text, label, iso) -> None:
    decade = PartialDate.parse(text)
    assert (decade.label, decade.iso, decade.datetime) == (label, iso, "")
    assert PartialDate.parse(decade.iso) == decade
    year = PartialDate.parse(int(text[:4]))
    assert decade < year < PartialDate.parse(f"{text[:4]}-01") and decade != year


@pytest.mark.parametrize("text", ["2001s", "200s", "20000s", "2000S"])
def test_what_is_not_a_decade_is_an_error(text) -> None:
    with pytest.raises(ValueError, match="decade such as 2000s"):
        PartialDate.parse(text)


def test_after_puts_a_coarser_date_behind_its_event_and_a_decade_first(site) -> None:
    site({
        "content/entities/gathering.md": event_entity("The gathering", '"2025-06"'),
        "content/entities/camp.md": event_entity("The camp", "2000s"),
        "content/entities/visit.md": event_entity("A visit", '"2025-07"'),
        "content/a.md": article("A", "2025-10-07", events=(
            '[{date: "2025", after: gathering, text: "A photograph surfaces"}, '
            '{date: "2025", text: "Something that year"}, '
            '{date: "2000", text: "The year 2000"}]')),
    }, config=CONFIG)
    assert rows(site.build()) == [
        (None, "2000s", "The camp"),
        ("2000", "2000", "The year 2000"),
        ("2025", "2025", "Something that year"),
        ("2025-06", "June 2025", "The gathering"),
        ("2025", "2025", "A photograph surfaces"),
        ("2025-07", "July 2025", "A visit"),
    ]
    page = parse_html(site.build().files["entities/camp/index.html"])
    data = json.loads(page.find(".//script[@type='application/ld+json']").text)
    assert "startDate" not in data  # a decade has no ISO 8601 form schema.org reads
    assert page.find(".//p[@class='meta']/time").get("datetime") is None


def test_after_must_name_a_dated_event_no_later_than_the_event(site) -> None:
    site({
        "content/entities/gathering.md": event_entity("The gathering", '"2025-06"'),
        "content/entities/khuzdar.md": "---\nname: Khuzdar\ntype: place\n---\n",
        "content/a.md": article("A", "2025-10-07", events=(
            '[{date: "2025", after: khuzdar, text: "x"}, '
            '{date: "2024", after: gathering, text: "y"}, '
            '{date: "2025-05", after: gathering, text: "z"}, '
            '{date: "2026-01", after: gathering, text: "a later year, an earlier month"}, '
            '{date: "2020s", after: gathering, text: "a decade that holds it"}]')),
    }, config=CONFIG)
    fails_with(site,
               'content/a.md:4: event 1: after: "khuzdar" is not a dated event entity',
               'content/a.md:4: event 2: an event dated 2024 cannot come after "The gathering" '
               "(June 2025)",
               'content/a.md:4: event 3: an event dated May 2025 cannot come after "The '
               'gathering" (June 2025)')
    site.write("content/a.md", article("A", "2025-10-07", events=(
        '[{date: "2025", after: [gathering], text: "z"}]')))
    fails_with(site, "content/a.md:4: event 1: after must be the slug of an event entity")


def test_an_event_cannot_end_before_it_begins(site) -> None:
    # "2000s – 1990s" on the timeline, and an endDate before the startDate in JSON-LD
    ended = "---\nname: {}\ntype: event\ndate: {}\nend: {}\n---\n"
    site({
        "content/entities/a.md": ended.format("A", "2010-05-01", "2005"),
        "content/entities/b.md": ended.format("B", "2000s", "1990s"),
        "content/entities/c.md": ended.format("C", "2000s", "2003"),  # within the decade
        "content/entities/d.md": ended.format("D", '"2025-06"', "2025"),  # the same year
        "content/x.md": article("X", "2025-10-07"),
    }, config=CONFIG)
    fails_with(site, "content/entities/a.md:5: end 2005 is before the date 1 May 2010",
               "content/entities/b.md:5: end 1990s is before the date 2000s")


def test_example_timeline_puts_the_photograph_after_the_gathering(tmp_path) -> None:
    files = cold_files(copy_example(tmp_path / "site"))
    page = parse_html(files["timeline/index.html"])
    texts = [text_of(li.find(".//p[@class='event-text']"))
             for li in page.iterfind(".//ol[@class='timeline']/li")]
    gathering = texts.index("LeT leaders' jirga in Balochistan")
    assert texts[gathering + 1].startswith("A photograph said to show Mir Shafiq Mengal")
    camp = texts.index("LeT training camp near Quetta")
    assert camp < texts.index("Yasin Bhatkal's training near Quetta")
    assert "Last update of the Sunday Guardian's ISKP–LeT article" in texts
    assert not any("published" in text.lower() for text in texts if "ISKP–LeT" in text)
