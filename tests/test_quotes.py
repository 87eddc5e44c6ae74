"""Quotations: the {"…"} syntax, which highlights are quotations, and how they match."""

from __future__ import annotations

import pytest

from builder.markdown import render
from builder.quotes import SourceText, closest, find, fragment_url, not_found

SOURCE = SourceText.of(
    "NEW DELHI: In May 2015, Pakistani investigators interrogating a young jihadist named\n"
    "Saad Aziz stumbled upon a clue that seemed peripheral.\n"
    "\n"
    "The JIT’s final report, dated 22 May 2015, marked the findings as “BLACK,” the code\n"
    "for confirmed involvement — between mid-May and early June.\n"
    "   \n"
    "A well-known, tried & true method.\n")


def matched(quotation: str) -> str | None:
    span = find(quotation, SOURCE)
    return None if span is None else " ".join(SOURCE.text[span[0]:span[1]].split())


@pytest.mark.parametrize("quotation, words", [
    ("stumbled upon a clue", "stumbled upon a clue"),
    ("STUMBLED   upon\na clue", "stumbled upon a clue"),  # case and whitespace
    ("The JIT's final report", "The JIT’s final report,"),  # quote styles; whole words
    ('as "BLACK", the code', "as “BLACK,” the code"),
    ("involvement - between", "involvement — between"),  # dash styles
    ("well–known, tried", "A well-known, tried"[2:]),
    ("In May 2015 … stumbled upon", "In May 2015, Pakistani investigators interrogating a "
     "young jihadist named Saad Aziz stumbled upon"),  # an ellipsis within one paragraph
    ("In May 2015... a clue", "In May 2015, Pakistani investigators interrogating a young "
     "jihadist named Saad Aziz stumbled upon a clue"),
    ("[The] final report … [was] dated 22 May", "final report, dated 22 May"),
    ("Saad Aziz [a graduate] stumbled", "Saad Aziz stumbled"),  # an insertion, skipped
])
def test_what_matches(quotation, words):
    assert matched(quotation) == words


@pytest.mark.parametrize("quotation", [
    "mid-May to early June",  # the digest's misquote
    "a clue … final report",  # an ellipsis does not cross a paragraph
    "peripheral. The JIT",  # nor does a quotation
    "…", "[sic]", "“ ”",  # nothing to look for
    "stumbled upon a clue that seemed central",
])
def test_what_does_not(quotation):
    assert find(quotation, SOURCE) is None


def test_the_closest_text_is_the_sources():
    assert closest("mid-May to early June", SOURCE) == "mid-May and early June."
    assert not_found("mid-May to early June", SOURCE) == \
        'quote not found in source: "mid-May to early June" (closest: "mid-May and early June.")'
    long = "word " * 300
    assert len(not_found(long, SOURCE)) < 300  # both texts shortened


def test_a_fragment_carries_the_words_given_percent_encoded():
    assert fragment_url("https://x.org/a#top", "well-known, tried & true") == \
        "https://x.org/a#:~:text=well%2Dknown%2C%20tried%20%26%20true"
    assert fragment_url("https://x.org/a", " ".join(f"w{i}" for i in range(30))) == \
        "https://x.org/a#:~:text=w0%20w1%20w2%20w3%20w4,w25%20w26%20w27%20w28%20w29"
    assert fragment_url("", "words") == "" and fragment_url("https://x.org/", " ") == ""


def quotations(body: str) -> list[tuple[str, str, str, int]]:
    return [(q.id, q.kind, q.text, q.line) for q in render(body).quotations]


def test_highlights_in_blockquotes_and_inline_quotes_are_quotations():
    body = ('My {==own words==}{>>a note quoting {"between *mid-May* and early June"}<<}.\n'
            "\n"
            "> Quoted {==source\n"
            "> words==}{>>and {\"more\"}<<} then {==a {>>note inside<<} b==}\n")
    assert quotations(body) == [
        ("q-1", "inline", "between mid-May and early June", 1),
        ("hl-2", "highlight", "source words", 3),
        ("q-2", "inline", "more", 4),
        ("hl-3", "highlight", "a b", 4),  # a margin note inside is the author's, left out
    ]
    html = render(body).html
    assert '<q class="verbatim" id="q-1">between <em>mid-May</em> and early June</q>' in html


@pytest.mark.parametrize("body", ['{"unclosed', '{""}', '`{"code"}`', '{ "spaced" }'])
def test_what_is_no_inline_quote(body):
    assert quotations(body) == []
    assert "<q" not in render(body).html
