"""The source's published and updated dates and the date it was read, told apart
(issue 12): ``date:``, ``updated:`` and ``read:`` (``accessed:``)."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta, timezone
from xml.etree import ElementTree as ET

from builder.reader import ReadSettings, read_article
from conftest import (
    SITE_YML,
    article,
    cold_files,
    copy_example,
    is_delta,
    live_builder,
    output_files,
    parse_html,
    replace_once,
    text_of,
)

SETTINGS = ReadSettings(timezone="Asia/Kolkata")
CONFIG = SITE_YML + "author: Test Reader\n"
IST = timezone(timedelta(hours=5, minutes=30))
JAN = int(datetime(2021, 1, 15, 12, 0, tzinfo=UTC).timestamp())
UPDATED_ONLY = ("---\ntitle: Only updated\nupdated: 2025-10-07T17:19:20+05:30\n"
                "read: 2025-10-08\nsource: https://example.com/a\n---\nText.\n")


def read(path: str, text: str):
    record, problems = read_article(path, text.encode(), SETTINGS)
    return record, [str(p) for p in problems]


def test_a_source_dated_only_by_its_update_is_filed_by_it_and_not_published():
    record, problems = read("content/a.md", UPDATED_ONLY)
    assert problems == []
    moment = datetime(2025, 10, 7, 17, 19, 20, tzinfo=IST)
    assert (record.date, record.datetime, record.updated) == (date(2025, 10, 7), moment, moment)
    assert record.dated_by == "updated" and record.published is None
    assert record.read == date(2025, 10, 8)


def test_published_updated_and_read_are_three_dates():
    record, problems = read("content/a.md", "---\ntitle: A\ndate: 2025-10-01\n"
                            "updated: 2025-10-07 17:19\nread: 2025-10-08 09:00\n---\nx\n")
    assert problems == []
    assert record.dated_by == "" and record.published == date(2025, 10, 1)
    assert record.updated == datetime(2025, 10, 7, 17, 19, tzinfo=IST)
    assert record.read == datetime(2025, 10, 8, 9, 0, tzinfo=IST)


def test_accessed_is_read_and_lastmod_is_updated_as_other_tools_name_them():
    record, problems = read("content/a.md", "---\ntitle: A\nlastmod: 2024-02-03\n"
                            "accessed: 2024-03-04\n---\nx\n")
    assert problems == []
    assert (record.date, record.dated_by, record.read) == (date(2024, 2, 3), "updated",
                                                           date(2024, 3, 4))
    assert "accessed" not in record.extra


def test_a_file_name_date_is_a_publication_date_and_wins_over_updated():
    record, _ = read("content/2024-01-02-a.md", "---\ntitle: A\nupdated: 2024-05-01\n---\nx\n")
    assert (record.date, record.dated_by, record.published) == (date(2024, 1, 2), "name",
                                                                date(2024, 1, 2))


def test_an_invalid_read_date_is_an_error_at_its_line():
    record, problems = read("content/a.md", "---\ntitle: A\ndate: 2024-01-01\nread: soon\n"
                            "---\nx\n")
    assert record is None
    assert problems == ['content/a.md:4: invalid read date: "soon" is not a date: use '
                        "YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS][+HH:MM]"]


def test_no_file_date_is_invented_for_an_article_dated_by_its_update(site):
    root = site({"content/only.md": UPDATED_ONLY, "content/undated.md": "---\ntitle: U\n---\nx\n"},
                config=CONFIG)
    for name in ("only.md", "undated.md"):
        os.utime(root / "content" / name, (JAN, JAN))
    result = site.build(write=False)
    dates = {a.source: (a.iso_date, a.dated_by) for a in result.site.articles}
    assert dates == {"content/only.md": ("2025-10-07T17:19:20+05:30", "updated"),
                     "content/undated.md": ("2021-01-15T12:00:00+00:00", "mtime")}


def test_sorting_feeds_and_sitemap_use_the_updated_date(site):
    site({"content/old.md": article("Old", "2025-01-01"),
          "content/only.md": UPDATED_ONLY,
          "content/new.md": article("New", "2025-12-01")}, config=CONFIG)
    result = site.build(write=False)
    assert [a.title for a in result.site.articles] == ["New", "Only updated", "Old"]
    home = parse_html(result.files["index.html"])
    cards = [text_of(li) for li in home.iter("li") if "article-card" in li.get("class", "")]
    assert [card.split()[0] for card in cards] == ["New", "Only", "Old"]
    assert "updated 7 October 2025" in cards[1] and "updated" not in cards[0]
    atom = "{http://www.w3.org/2005/Atom}"
    entries = {e.findtext(f"{atom}title"): e for e in
               ET.fromstring(result.files["feed.xml"]).iter(f"{atom}entry")}
    assert entries["Only updated"].find(f"{atom}published") is None
    assert entries["Only updated"].findtext(f"{atom}updated") == "2025-10-07T17:19:20+05:30"
    assert entries["Old"].findtext(f"{atom}published") == "2025-01-01T00:00:00Z"
    sitemap = ET.fromstring(result.files["sitemap.xml"])
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    lastmod = {u.findtext(f"{ns}loc"): u.findtext(f"{ns}lastmod") for u in sitemap}
    # an article page's own date, not its newer neighbour's (which the page shows too)
    assert lastmod["https://example.org/articles/old/"] == "2025-01-01"
    assert lastmod["https://example.org/articles/only/"] == "2025-10-07T17:19:20+05:30"
    assert lastmod["https://example.org/"] == "2025-12-01"  # the newest the home page shows


def test_the_read_date_is_in_the_delta_builds_view(tmp_path):
    """``read:`` changes the JSON-LD and source.json: a delta build must not keep them."""
    root = copy_example(tmp_path / "site")
    builder = live_builder(root)
    saved = replace_once(root, "content/pakistan-covert-iskp-let-alliance.md",
                         "read: 2025-10-08", "read: 2025-10-09")
    result = builder.build(saved=[saved])
    assert not is_delta(result)  # the view changed: a full build decides
    files = output_files(result)
    assert files == cold_files(root)
    item = json.loads(files["articles/pakistan-covert-iskp-let-alliance/source.json"])[0]
    assert item["accessed"] == {"date-parts": [[2025, 10, 9]]}
