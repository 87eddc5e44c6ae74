"""TOML (`+++`) front matter and Pelican's `Title:` header (issue 11, "Front matter as
the anchors write it"): read as YAML front matter is, with errors at their file line."""

from datetime import date, datetime, timedelta, timezone

import pytest

from builder.frontmatter import YamlError, split
from builder.reader import ReadSettings, read_article

SETTINGS = ReadSettings()


def read(text: str, path: str = "content/a.md"):
    record, problems = read_article(path, text.encode(), SETTINGS)
    return record, [str(p) for p in problems]


ZOLA = """\
+++
title = "Zola 0.17"
date = 2023-02-16
updated = 2023-03-01T10:20:00+01:00
description = "What is new."
draft = false
[taxonomies]
tags = ["release", "zola"]
categories = ["news"]
[extra]
toc = true
+++
Body *text*.
"""


def test_zola_toml_front_matter():
    record, problems = read(ZOLA)
    assert problems == []
    assert (record.title, record.date, record.datetime) == ("Zola 0.17", date(2023, 2, 16), None)
    assert record.updated == datetime(2023, 3, 1, 10, 20, tzinfo=timezone(timedelta(hours=1)))
    assert record.summary == "What is new."
    assert record.tags == ["release", "zola"] and record.categories == ["news"]
    assert record.extra == {"taxonomies": {"tags": ["release", "zola"], "categories": ["news"]},
                            "extra": {"toc": True}}
    assert record.lines == {"title": 2, "date": 3, "updated": 4, "description": 5,
                            "draft": 6, "taxonomies": 7, "tags": 8, "categories": 9,
                            "extra": 10, "summary": 5}
    assert "<em>text</em>" in record.body_html


def test_toml_datetime_without_offset_is_in_the_site_time_zone():
    record, _ = read('+++\ntitle = "T"\ndate = 2024-01-02T03:04:05\n+++\nx\n')
    assert record.datetime == datetime(2024, 1, 2, 3, 4, 5, tzinfo=record.datetime.tzinfo)
    assert str(record.datetime.tzinfo) == "UTC"


@pytest.mark.parametrize(("text", "expected"), [
    ('+++\ntitle = "T"\ndate = \n+++\n', "content/a.md:3: invalid TOML: invalid value"),
    ('+++\ntitle = "T"\ntitle = "U"\n+++\n',
     'content/a.md:3: duplicate key "title" on lines 2 and 3: keep one'),
    ('+++\ntitle = "T\n+++\n', "content/a.md:2: invalid TOML: unterminated string"),
    ('+++\ntitle = "T"\n', "content/a.md:1: front matter is not closed: add a '+++' line "
                           "after it"),
    ('+++\ntitle = "T"\ndate = 10:20:00\n+++\n',
     "content/a.md:3: invalid date: 10:20:00 is a time without a day: use YYYY-MM-DD or "
     "YYYY-MM-DDTHH:MM:SS"),
    ('+++\ntitle = "T"\n\n\ndate = "2024-13-01"\n+++\n',
     'content/a.md:5: invalid date: "2024-13-01" is not a date: use YYYY-MM-DD or '
     "YYYY-MM-DD HH:MM[:SS][+HH:MM]"),
])
def test_toml_errors_name_their_file_line(text, expected):
    record, problems = read(text)
    assert record is None and problems == [expected]


def test_toml_with_crlf_line_endings():
    record, problems = read('+++\r\ntitle = "T"\r\ndate = 2024-01-02\r\n+++\r\nBody\r\n')
    assert problems == [] and (record.title, record.date) == ("T", date(2024, 1, 2))


PELICAN = """\
Title: My super title
Date: 2010-12-03 10:20
Modified: 2010-12-05 19:30
Category: Python
Tags: pelican, publishing
Slug: my-super-post
Authors: Alexis Metaireau, Conference Bot
Summary: Short version for index and feeds
lang: fr
status: published

This is the content of my super blog post.
"""


def test_pelican_header():
    record, problems = read(PELICAN)
    assert problems == []
    assert record.title == "My super title" and record.slug == "my-super-post"
    assert record.date == date(2010, 12, 3) and record.datetime.isoformat() == \
        "2010-12-03T10:20:00+00:00"
    assert record.updated.isoformat() == "2010-12-05T19:30:00+00:00"
    assert record.categories == ["Python"] and record.tags == ["pelican", "publishing"]
    assert record.authors == ["Alexis Metaireau", "Conference Bot"]
    assert record.summary == "Short version for index and feeds"
    assert (record.lang, record.draft) == ("fr", False)
    assert record.lines["slug"] == 6 and record.lines["lang"] == 9
    assert record.body_html == "<p>This is the content of my super blog post.</p>\n"


def test_pelican_single_author_is_one_person_and_continuation_lines():
    doc = split("Title: T\nAuthor: Martin Luther King, Jr.\nSummary: one\n    two\n\nBody\n")
    assert doc.meta == {"title": "T", "author": "Martin Luther King, Jr.",
                        "summary": "one two"}
    assert (doc.body, doc.body_line) == ("Body\n", 6)


def test_pelican_header_ends_at_a_line_that_is_no_key():
    doc = split("Title: T\nDate: 2024-01-01\nNot a key line\nmore\n")
    assert doc.meta == {"title": "T", "date": "2024-01-01"}
    assert (doc.body, doc.body_line) == ("Not a key line\nmore\n", 3)


def test_pelican_draft_and_errors():
    record, problems = read("Title: T\nDate: 2024-01-01\nStatus: draft\n\nx\n")
    assert problems == [] and record.draft
    record, problems = read("Title: T\nDate: someday\ntags: a\nTAGS: b\n\nx\n")
    assert problems == ['content/a.md:4: duplicate key "TAGS" on lines 3 and 4: keep one']


@pytest.mark.parametrize("text", ["Hello\n", "", "# Heading\n", "TITLE: x\n",
                                  "Note: a line of prose.\nAnd more.\n"])
def test_a_file_without_front_matter_is_all_body(text):
    """Most notes of an Obsidian vault have no front matter: the title comes from the
    file name and the date from the name, git or the file (tests/test_file_dates.py)."""
    doc = split(text)
    assert (doc.meta, doc.body, doc.body_line, doc.warnings) == ({}, text, 1, [])


@pytest.mark.parametrize("text", ["title: T\ndate: 2024-01-01\n---\nx\n",
                                  "title: T\n---\nx\n"])
def test_front_matter_without_its_first_fence_is_a_warning(text):
    doc = split(text)
    assert (doc.meta, doc.body) == ({}, text)
    assert doc.warnings == [(1, "line 1 looks like front matter but has no '---' line above "
                                "it: it is read as text (put '---' lines around front matter)")]


def test_json_front_matter_is_named_not_read_as_text():
    with pytest.raises(YamlError) as caught:
        split('{\n  "title": "T",\n  "date": "2024-01-01"\n}\nBody\n')
    assert (caught.value.line, caught.value.message) == (
        1, "JSON front matter is not read: write it as YAML between '---' lines (or TOML "
           "between '+++' lines)")
    assert split("{not json}\n").meta == {}


def test_old_mac_line_endings_are_named_for_toml_too():
    with pytest.raises(YamlError) as caught:
        split('+++\rtitle = "T"\r+++\r')
    assert caught.value.message.startswith("the file has old Mac line endings")
