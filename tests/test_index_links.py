"""Link placeholders in a body: every one the parser writes is resolved, and any other
(written in raw HTML, in any case or quoting) is reported, never published."""

from __future__ import annotations

from datetime import date

import pytest

from builder.index import resolve_links
from builder.model import ArticleRecord
from builder.problems import Problem
from builder.wiki import WikiResolver


def _record(body: str, **fields) -> ArticleRecord:
    return ArticleRecord(**{"source": "content/a.md", "slug": "a", "title": "A",
                            "date": date(2024, 1, 2), "datetime": None, "body_html": body,
                            **fields})


def _resolve(record: ArticleRecord, urls: dict[str, str] | None = None):
    target = _record("", source="content/b.md", slug="b", title="B")
    records = [record, target]
    urls = urls if urls is not None else {"content/a.md": "/a/", "content/b.md": "/b/é&q/"}
    resolver = WikiResolver(None, [], records, records)
    problems: list[Problem] = []
    body, found = resolve_links(record, urls, set(), resolver, "postil-site:", problems)
    return body, found, problems


def test_every_kind_of_placeholder_is_resolved_escaped_and_encoded():
    record = _record('<a href="postil-ref:0">b</a> <a href="postil-wiki:0">B</a> '
                     '<a href="postil-tag:0">#x</a> <a href="postil-ref:1">again</a>'
                     ' <a href="postil-ref:0#part">part</a>"postil-tag:0',
                     links=[(1, "content/b.md"), (2, "content/b.md")],
                     wikilinks=[(3, "B")], hashtags=["Tag Name"])
    body, found, problems = _resolve(record)
    site_b = "postil-site:/b/%C3%A9&amp;q/"
    assert body == (f'<a href="{site_b}">b</a> <a href="{site_b}">B</a> '
                    f'<a href="postil-site:/tags/tag-name/">#x</a> <a href="{site_b}">again</a>'
                    f' <a href="{site_b}#part">part</a>"postil-site:/tags/tag-name/')
    assert found == ["content/b.md"]
    assert problems == []


def test_a_placeholder_not_in_an_attribute_value_is_left_as_text():
    record = _record("<p>postil-ref:0 and 'postil-ref:0</p>", links=[(1, "content/b.md")])
    body, _, problems = _resolve(record)
    assert body.startswith("<p>postil-ref:0 ")
    # A single-quoted one the parser never writes: reported, never resolved.
    assert [p.message for p in problems] == [
        "a link Postil could not resolve (a placeholder such as postil-ref:N or "
        "postil-wiki:N written in the text or raw HTML?)"]


@pytest.mark.parametrize("leftover", [
    '<a href="postil-ref:7">x</a>',  # a number with no link
    '<a href="postil-ref:">x</a>',
    "<a href='postil-wiki:0'>x</a>",
    '<a href=" \n postil-asset:0">x</a>',
    '<a href="POSTIL-TAG:0">x</a>',
    '<a href="Postil-Ref:0">x</a>',
    '<a href="po\u017ftil-a\u017f\u017fet:0">x</a>',  # long s: one in IGNORECASE's eyes
    '<a href="postil-wi\u212ai:0">x</a>',  # the Kelvin sign is a k to IGNORECASE
])
def test_a_placeholder_left_over_is_a_problem(leftover):
    record = _record('<a href="postil-ref:0">b</a>' + leftover, links=[(1, "content/b.md")])
    body, _, problems = _resolve(record)
    assert body.endswith(leftover)
    assert [(p.path, p.line) for p in problems] == [("content/a.md", 1)]
    assert "could not resolve" in problems[0].message


def test_a_leftover_of_a_link_already_reported_is_not_reported_again():
    record = _record('<a href="postil-ref:0">b</a>', links=[(4, "content/missing.md")])
    body, found, problems = _resolve(record)
    assert body == '<a href="postil-ref:0">b</a>'
    assert found == []
    assert [(p.line, p.message) for p in problems] == [
        (4, 'link to "content/missing.md": does not exist (did you mean "content/b.md"?)')]


def test_a_body_with_hyphens_and_colons_but_no_placeholder_is_not_a_problem():
    record = _record('<p>a well-referenced pre-wiki: "tag-asset: x" postil-site:/a/</p>')
    body, _, problems = _resolve(record)
    assert body == record.body_html
    assert problems == []
