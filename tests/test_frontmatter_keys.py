"""Front matter as other tools write it: the keys Hugo, Jekyll, Pelican, Astro and
Obsidian use are read as Postil's own (issue 11, "Front matter as the anchors write it")."""

from datetime import date, datetime, timedelta, timezone

import pytest

from builder.reader import ReadSettings, read_article

SETTINGS = ReadSettings()


def read(front: str, body: str = "Text.\n"):
    record, problems = read_article("content/a.md", f"---\n{front}---\n{body}".encode(),
                                    SETTINGS)
    return record, [str(p) for p in problems]


def test_astro_pubdate_and_hugo_lastmod_and_description():
    record, problems = read("title: T\npubDate: 2024-03-01\nlastmod: 2024-04-02\n"
                            "description: What it is about.\n")
    assert problems == []
    assert record.date == date(2024, 3, 1) and record.updated == date(2024, 4, 2)
    assert record.summary == "What it is about."
    assert record.extra == {}


def test_own_keys_win_over_synonyms():
    record, _ = read("title: T\ndate: 2024-01-01\npubDate: 2020-01-01\nsummary: Mine.\n"
                     "description: Theirs.\nupdated: 2024-02-02\nmodified: 2020-02-02\n")
    assert record.date == date(2024, 1, 1) and record.summary == "Mine."
    assert record.updated == date(2024, 2, 2)


def test_a_synonym_problem_names_its_own_line():
    _, problems = read("title: T\npubDate: someday\n")
    assert problems[0].startswith('content/a.md:3: invalid date: "someday"')


def test_jekyll_date_with_offset_keeps_it():
    record, _ = read('title: T\ndate: "2013-05-06 02:12:52 +0200"\n')
    assert record.date == date(2013, 5, 6)
    assert record.datetime == datetime(2013, 5, 6, 2, 12, 52,
                                       tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize("front, draft", [
    ("published: false\n", True), ("published: true\n", False),
    ("published: 2024-01-01\n", False), ("status: draft\n", True),
    ("status: published\n", False), ("draft: true\npublished: true\n", True),
])
def test_drafts_as_jekyll_and_pelican_mark_them(front, draft):
    record, problems = read("title: T\ndate: 2024-01-01\n" + front)
    assert problems == [] and record.draft is draft


def test_a_draft_value_that_is_no_boolean_is_an_error():
    _, problems = read('title: T\ndate: 2024-01-01\nstatus: later\npublished: "no"\n')
    assert problems == ['content/a.md:5: published must be true, false or a date',
                        'content/a.md:4: status "later" is not "draft" or "published"']


def test_single_author_is_one_person_and_authors_may_be_a_list():
    record, _ = read('title: T\ndate: 2024-01-01\nauthor: "Martin Luther King, Jr."\n')
    assert record.authors == ["Martin Luther King, Jr."]
    record, _ = read("title: T\ndate: 2024-01-01\nauthors: Ann, Bo\n")
    assert record.authors == ["Ann", "Bo"]


def test_jekyll_category_and_categories_feed_one_list():
    record, _ = read("title: T\ndate: 2024-01-01\ncategory: release\n")
    assert record.categories == ["release"]
    record, _ = read("title: T\ndate: 2024-01-01\ncategories: [community, meta]\n")
    assert record.categories == ["community", "meta"]
    record, _ = read("title: T\ndate: 2024-01-01\ncategories: release community\n")
    assert record.categories == ["release", "community"]


def test_aliases_are_names_or_old_urls():
    record, problems = read("title: T\ndate: 2024-01-01\naliases: [Other name, /2019/old/]\n"
                            "redirect_from: [docs/old/]\n")
    assert problems == []
    assert record.aliases == ["Other name"]
    assert record.redirects == ["/2019/old/", "/docs/old/"]


@pytest.mark.parametrize("bad", ["//evil.example/", "/a/../b/", '"/a?b"'])
def test_an_old_url_must_be_a_plain_site_path(bad):
    _, problems = read(f"title: T\ndate: 2024-01-01\naliases: [{bad}]\n")
    assert len(problems) == 1 and problems[0].startswith("content/a.md:4: old URL")


def test_permalink_and_url():
    record, _ = read("title: T\ndate: 2024-01-01\npermalink: /about/\n")
    assert record.permalink == "/about/" and record.source_url == ""
    record, _ = read("title: T\ndate: 2024-01-01\nurl: https://example.com/story\n")
    assert record.permalink == "" and record.source_url == "https://example.com/story"
    _, problems = read("title: T\ndate: 2024-01-01\npermalink: about\n")
    assert problems == ['content/a.md:4: permalink "about" must be a site path such as '
                        '"/about/" or "/notes/page.html"']
