"""Passages on entity pages show what was written (issue 12): corrections applied, a
margin note's link text as written, and the cut made around the mention."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from builder.markdown.annotations import PASSAGE
from tests.conftest import article, copy_example, parse_html, text_of

ENTITY = "---\nname: Lashkar-e-Taiba\ntype: organization\naliases: [LeT]\n---\n"
CONFIG = "title: T\nbase_url: https://example.org/\ntimezone: UTC\n"


def passages(page: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each passage of an entity page: its text, and its emphasised (text, href)s."""
    root = parse_html(page)
    found = []
    for quote in root.iter("blockquote"):
        if quote.get("class") != "passage":
            continue
        marks = [(text_of(a), a.get("href")) for a in quote.iter("a")]
        found.append((text_of(quote), marks))
    return found


def entity_site(site, body: str) -> list[tuple[str, list[tuple[str, str]]]]:
    site({"content/entities/let.md": ENTITY, "content/a.md": article("A", body=body)}, CONFIG)
    site.build()
    return passages(site.root / "public/entities/let/index.html")


def words(count: int, start: int = 0) -> str:
    return " ".join(f"w{n}" for n in range(start, start + count))


# --- the example archive --------------------------------------------------------------

@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from builder.pipeline import BuildOptions, build

    root = copy_example(tmp_path_factory.mktemp("example") / "site")
    build(root, BuildOptions())
    return root / "public"


def test_a_correction_is_shown_corrected_in_the_example(example):
    shown = passages(example / "entities/lashkar-e-taiba/index.html")
    texts = [text for text, _ in shown]
    assert not any("Jigra" in text for text in texts)
    assert any("convened a jirga" in text for text in texts)


def test_every_mention_of_the_digest_is_in_a_passage(example):
    page = (example / "articles/pakistan-covert-iskp-let-alliance/index.html").read_text()
    ids = set(re.findall(r'id="(m-lashkar-e-taiba-\d+)"', page))
    assert len(ids) >= 10
    shown = passages(example / "entities/lashkar-e-taiba/index.html")
    linked = {href.split("#")[1] for _, marks in shown for _, href in marks
              if "pakistan-covert-iskp-let-alliance" in href}
    assert linked == ids


def test_passages_are_cut_to_the_limit_with_ellipses(example):
    for page in (example / "entities").glob("*/index.html"):
        for text, marks in passages(page):
            assert marks, page
            core = text.removeprefix("…").removesuffix("…")
            assert len(core) <= PASSAGE, (page, text)


def test_a_note_s_link_text_is_kept_as_written(example):
    shown = passages(example / "entities/let-leaders-balochistan-jirga/index.html")
    marks = [mark for _, found in shown for mark, _ in found]
    assert "LeT gathering" in marks  # [[let-leaders-balochistan-jirga|LeT gathering]]
    assert "LeT leaders' jirga in Balochistan" not in marks  # the entity's name


# --- small sites ----------------------------------------------------------------------

def test_deleted_text_is_left_out_and_inserted_text_kept(site):
    shown = entity_site(site, "The [[let|LeT]] convened a {--Jigra--}{++jirga++} in June.")
    assert [text for text, _ in shown] == ["The LeT convened a jirga in June."]


def test_deletions_inside_a_note_are_left_out_too(site):
    shown = entity_site(site, "Text.{>>A {--Jigra--}{++jirga++} of [[let|the group]].<<}")
    assert shown == [("A jirga of the group.", [("the group", "../../articles/a/#m-let-1")])]


def test_the_cut_is_made_around_the_mention_at_word_boundaries(site):
    body = f"{words(150)} [[let|LeT]] {words(150, 200)}"
    (text, marks), = entity_site(site, body)
    assert marks == [("LeT", "../../articles/a/#m-let-1")]
    assert text.startswith("…") and text.endswith("…")
    core = text[1:-1]
    assert len(core) <= PASSAGE and len(core) > PASSAGE - 12
    assert core.split()[0] in body.split() and core.split()[-1] in body.split()  # whole words
    before, after = core.split(" LeT ")
    assert abs(len(before) - len(after)) < 10  # centred


def test_a_mention_near_the_start_gives_the_room_to_the_words_after(site):
    (text, _), = entity_site(site, f"[[let|LeT]] {words(200)}")
    assert text.startswith("LeT w0 w1") and text.endswith("…")
    assert PASSAGE - 6 < len(text) - 1 <= PASSAGE


def test_a_mention_past_the_old_window_is_not_dropped(site):
    """Two mentions 1,000 characters apart in one paragraph: each gets a passage."""
    shown = entity_site(site, f"[[let|LeT]] {words(250)} [[let|Lashkar]] {words(20, 300)}")
    assert [marks for _, marks in shown] == [
        [("LeT", "../../articles/a/#m-let-1")], [("Lashkar", "../../articles/a/#m-let-2")]]
    assert shown[1][0].startswith("…") and "Lashkar w300" in shown[1][0]


def test_mentions_close_together_share_a_passage(site):
    shown = entity_site(site, f"{words(100)} [[let|LeT]] and then [[let|Lashkar]] {words(100)}")
    assert len(shown) == 1
    text, marks = shown[0]
    assert [m for m, _ in marks] == ["LeT", "Lashkar"]
    assert "LeT and then Lashkar" in text


def test_a_short_paragraph_is_shown_whole_without_ellipses(site):
    shown = entity_site(site, "Before it, the [[let|LeT]] & friends met.")
    assert shown == [("Before it, the LeT & friends met.", [("LeT", "../../articles/a/#m-let-1")])]
    page = (site.root / "public/entities/let/index.html").read_text()
    assert html.escape("&") + " friends" in page  # text still escaped
