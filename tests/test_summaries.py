"""Automatic summaries read as the text does (issue 12): margin notes left out and
corrections made, wherever the summary goes (home page, meta tags, JSON-LD, feed)."""

from __future__ import annotations

import json

import feedparser

from builder.markdown.renderer import render
from tests.conftest import article, parse_html, text_of

BODY = ("The memo went to the board{>>which board?<<} in May, and a "
        "{--Jigra--}{++jirga++} met in June.\n\nA second paragraph.")
SUMMARY = "The memo went to the board in May, and a jirga met in June."


def test_the_first_paragraph_leaves_out_notes_and_deleted_text():
    assert render(BODY).first_paragraph == SUMMARY


def test_a_paragraph_that_is_only_a_note_is_not_the_summary():
    assert render("{>>only a note<<}\n\nThe text.").first_paragraph == "The text."


def test_the_summary_is_the_same_everywhere_it_is_shown(site):
    site({"content/a.md": article("A", body=BODY)})
    site.build()
    public = site.root / "public"
    home = parse_html(public / "index.html")
    cards = [text_of(p) for p in home.iter("p") if p.get("class") == "card-summary"]
    assert cards == [SUMMARY]
    page = parse_html(public / "articles/a/index.html")
    metas = {m.get("name") or m.get("property"): m.get("content") for m in page.iter("meta")}
    assert metas["description"] == metas["og:description"] == SUMMARY
    scripts = [json.loads(s.text) for s in page.iter("script")
               if s.get("type") == "application/ld+json"]
    descriptions = [item.get("description") for data in scripts
                    for item in (data.get("@graph", [data]) if isinstance(data, dict) else data)
                    if isinstance(item, dict) and item.get("@type") in ("Article", "BlogPosting")]
    assert descriptions == [SUMMARY]
    feed = feedparser.parse((public / "feed.xml").read_bytes())
    assert feed.entries[0].summary == SUMMARY
    # (annotations.json quotes the page's text as a client counts it, <del> and all)
    shown = b"".join(p.read_bytes() for p in public.rglob("*") if p.suffix in (".html", ".xml"))
    assert b"boardwhich" not in shown and b"Jigrajirga" not in shown
