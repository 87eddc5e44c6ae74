"""A vault written in every Obsidian form Postil reads (tests/fixtures/vault), built
for real: each link's href reaches the page it names, and its fragment is an id there.

Forms: ``[[Page]]``, ``[[Page#Heading]]``, ``[[#Heading]]``, ``[[Page#^block]]``,
``[[folder/Page]]``, ``[[folder/Page.md|label]]``, an alias, ``![[Note]]``,
``![[Note#Heading]]`` (nested two deep), ``![[Note#^block]]``, inline ``#tags``,
callouts (plain, GitHub's, foldable); ``![[cat.png]]`` from an attachments folder,
and a note with no front matter at all. Also the delta builds of such a vault: an
edit to an embedded note or a linked heading must reach the pages that show it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from builder.pipeline import BuildOptions, build
from conftest import (
    REPO,
    cold_files,
    is_delta,
    live_builder,
    output_files,
    parse_html,
    replace_once,
    text_of,
)

VAULT = REPO / "tests" / "fixtures" / "vault"
BASE = "https://example.org/notes/"


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vault") / "site"
    shutil.copytree(VAULT, root)
    result = build(root, BuildOptions(jobs=1))
    assert [str(p) for p in result.warnings] == []
    return root / "public"


def _page(public: Path, url: str) -> Path:
    path = unquote(urlsplit(url).path).removeprefix("/notes/")
    return public / (path + "index.html" if path.endswith("/") or not path else path)


def _ids(public: Path, url: str) -> set[str]:
    return {e.get("id") for e in parse_html(_page(public, url)).iter() if e.get("id")}


def _body(public: Path, slug: str):  # noqa: ANN202 - an Element
    root = parse_html(public / "articles" / slug / "index.html")
    return next(e for e in root.iter("div") if "article-body" in (e.get("class") or ""))


def test_every_link_in_every_body_reaches_an_id_on_its_page(vault):
    checked = 0
    for slug in ("home", "reading-list", "plan", "quote-of-the-day", "inbox-note"):
        page_url = f"{BASE}articles/{slug}/"
        for link in _body(vault, slug).iter("a"):
            url = urljoin(page_url, link.get("href"))
            assert url.startswith(BASE), (slug, link.get("href"))
            assert _page(vault, url).is_file(), (slug, link.get("href"))
            fragment = unquote(urlsplit(url).fragment)
            if fragment:
                assert fragment in _ids(vault, url), (slug, link.get("href"))
            checked += 1
    assert checked > 30


def test_each_form_links_where_it_says(vault):
    links = {text_of(a): a.get("href") for a in _body(vault, "home").iter("a")
             if "wikilink" in (a.get("class") or "")}
    assert links == {
        "Reading list": "../reading-list/",
        "next": "../reading-list/#next-up",
        "Summary": "#summary",
        "projects/Plan": "../plan/",
        "the plan": "../plan/",
        "Plan › ^goal-1": "../plan/#^goal-1",
        "Plan › Milestones": "../plan/#milestones",
        "RL": "../reading-list/",
        "Inbox note": "../inbox-note/",  # titled by its file name
        # inside the embeds: the embedded notes' own links
        "Home › Summary": "./#summary",
        "Later": "../plan/#later",  # not in the embedded section: its page
        "Reading list › ^middlemarch": "../reading-list/#^middlemarch",
    }


def test_embeds_show_the_text_with_a_link_back(vault):
    body = _body(vault, "home")
    figures = [f for f in body.iter("figure") if f.get("class") == "embed"]
    captions = [(text_of(f.find("figcaption")), f.find("figcaption/a").get("href"))
                for f in figures]
    assert captions == [
        ("Quote of the day", "../quote-of-the-day/"),
        ("Reading list › Done", "../reading-list/#done"),  # nested in the first
        ("Plan › Milestones", "../plan/#milestones"),
        ("Plan › ^goal-1", "../plan/#^goal-1"),
    ]
    quote, done, milestones, goal = (text_of(f.find("blockquote")) for f in figures)
    # (a heading's "#" link is drawn by the theme's CSS: it is no text)
    assert quote.startswith('"The past is never dead."[1] Done Austerlitz')
    assert done == "Done Austerlitz, see Home › Summary"
    # the section stops at the next heading of its level, with its sub-headings
    assert milestones == "Milestones Back to Later or Reading list › ^middlemarch. Q1 Start."
    assert goal == "Read more"
    ids = [e.get("id") for e in body.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    assert {"e1:fn1", "e1:fnref1", "e1:e1:done", "e2:milestones", "e2:q1",
            "e3:^goal-1"} <= set(ids)
    assert "!" not in text_of(body)  # no embed leaves its "!"


def test_a_file_embed_finds_the_attachment(vault):
    images = [(img.get("src"), img.get("alt")) for img in _body(vault, "home").iter("img")]
    assert images == [("../../attachments/cat.png", "A cat")]  # relative to the page
    assert _page(vault, urljoin(f"{BASE}articles/home/", images[0][0])).is_file()


def test_block_ids_are_on_their_elements_and_hidden(vault):
    body = _body(vault, "plan")
    assert [(e.tag, e.get("id"), text_of(e)) for e in body.iter()
            if (e.get("id") or "").startswith("^")] == [
        ("p", "^why", "Why this plan exists, in one line."),
        ("li", "^goal-1", "Read more")]


def test_inline_tags_are_tags_with_pages(vault):
    body = _body(vault, "home")
    tags = [(text_of(a), a.get("href")) for a in body.iter("a") if a.get("class") == "tag"]
    assert tags == [("#reading", "../../tags/reading/"),
                    ("#projects/active", "../../tags/projects-active/")]
    assert "but not C# nor #42 nor #fff." in text_of(body)
    assert (vault / "tags" / "projects-active" / "index.html").is_file()
    inbox = parse_html(vault / "tags" / "inbox" / "index.html")  # from a note with no front
    assert "Inbox note" in text_of(inbox)  # matter at all
    listed = parse_html(vault / "tags" / "reading" / "index.html")
    assert "Home" in text_of(listed) and "Reading list" in text_of(listed)


def test_callouts_are_notes_set_apart(vault):
    body = _body(vault, "home")
    boxes = [(e.tag, e.get("class"), e.get("role"), e.get("open"),
              text_of(e.find("p" if e.tag == "div" else "summary")))
             for e in body.iter() if "callout " in (e.get("class") or "") + " "]
    assert boxes == [
        ("div", "callout callout-tip", "note", None, "Tip: Keep it short"),
        ("div", "callout callout-warning", "note", None, "Warning"),
        ("details", "callout callout-faq", None, None, "Faq: Why a vault?"),
    ]


def _live(tmp_path: Path):  # noqa: ANN202
    root = tmp_path / "site"
    shutil.copytree(VAULT, root)
    return root, live_builder(root)


@pytest.mark.parametrize(("name", "old", "new"), [
    ("content/Reading list.md", "*Austerlitz*", "*Vertigo*"),  # embedded in two notes
    ("content/projects/Plan.md", "## Milestones", "## Stages"),  # linked heading: an error
    ("content/projects/Plan.md", "Start.", "Begin."),  # in an embedded section
    ("content/Home.md", "One idea per note.", "One idea a note."),  # embeds others
])
def test_edits_to_embedded_or_linked_notes_rebuild_what_shows_them(tmp_path, name, old, new):
    root, builder = _live(tmp_path)
    replace_once(root, name, old, new)
    if new == "## Stages":  # Home links to Plan#Milestones: the build says so
        from builder.problems import BuildFailed

        with pytest.raises(BuildFailed, match='no heading "Milestones" in '
                                              'content/projects/Plan.md'):
            builder.build(saved=[str(root / name)])
        return
    result = builder.build(saved=[str(root / name)])
    assert not is_delta(result)
    assert output_files(result) == cold_files(root)
    assert new.strip("*").encode() in result.files["articles/home/index.html"]
