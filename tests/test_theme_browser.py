"""The default theme as a reader meets it, in Debian's chromium: computed layout and what
the accessibility tree says (Chrome's own, through the DevTools protocol), not pictures.

One site, built once, under a sub-path base URL (``/sub/``) and served there by a server
that notes every path asked of it: a favicon, margin notes at and below the breakpoint,
numbered note toggles, labelled corrections, dates on one line, heading links.
"""

from __future__ import annotations

import functools
import http.server
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as ET

import pytest
from anchor_support import REPO, WAIT_MS, chromium, serve_folder

from builder.pipeline import BuildOptions, build
from conftest import article

#: the theme's documented breakpoint (README, style.css, js/notes.js): 64rem
BREAKPOINT = 1024
NOTES = """Intro.

## The first part

A first note{>>On the first part.<<} and ==a passage=={>>A note on the passage.<<}.

- An item with a note{>>In a list.<<} in it.

## The second part

Words {++added by the reader++} and {--struck out--}, then more words.

> A quotation with a note{>>On the quotation.<<} in it.
"""


class _Recording(http.server.SimpleHTTPRequestHandler):
    """Serves the built site under ``/sub/``; notes every path asked."""

    def __init__(self, *args: object, paths: list[str], **kwargs: object) -> None:
        self.paths = paths
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def translate_path(self, path: str) -> str:
        self.paths.append(unquote(urlsplit(path).path))
        inner = path[len("/sub"):] if path.startswith("/sub/") else "/nowhere-outside-sub"
        return super().translate_path(inner)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve_sub(folder: Path, paths: list[str]):
    """The built site under ``/sub/``, every path asked noted in ``paths``."""
    return serve_folder(folder, functools.partial(_Recording, directory=str(folder),
                                                  paths=paths), "/sub/")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("theme")
    files = {
        "site.yml": "title: Theme\nbase_url: https://example.org/sub/\ntimezone: UTC\n",
        "content/notes.md": article("Notes", "2022-08-15", NOTES, tags="[shared]"),
        "content/other.md": article("Other", "2022-08-17", tags="[shared]"),
        "content/third.md": article("Third", "2023-12-25", tags="[shared]"),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    build(root, BuildOptions(output=root / "out", cache=False, jobs=1))
    return root / "out"


@pytest.fixture(scope="module")
def paths() -> list[str]:
    return []


@pytest.fixture(scope="module")
def base(out, paths) -> Iterator[str]:
    with serve_sub(out, paths) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def open_page(browser):
    contexts = []

    def opened(url: str, width: int = 390, **options: object):  # noqa: ANN202 - a Page
        context = browser.new_context(viewport={"width": width, "height": 800}, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(url)
        return page

    yield opened
    for context in contexts:
        context.close()


def accessible(page, role: str) -> list[tuple[str, dict[str, object]]]:
    """(name, properties) of each node of ``role`` in Chrome's accessibility tree."""
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    session.detach()
    return [(node.get("name", {}).get("value", ""),
             {p["name"]: p["value"].get("value") for p in node.get("properties", [])})
            for node in nodes if node.get("role", {}).get("value") == role
            and not node.get("ignored")]


# --- the favicon ------------------------------------------------------------------------

def test_the_favicon_is_the_sites_own_file_under_a_sub_path(open_page, base, paths):
    """No request for /favicon.ico (a 404 on every page): the page names its icon."""
    page = open_page(base + "articles/notes/")
    page.wait_for_function("() => document.readyState === 'complete'")
    asked = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert asked == base + "favicon.svg"
    for _ in range(WAIT_MS // 100):  # chromium asks for the icon after the page loads
        if "/sub/favicon.svg" in paths:
            break
        page.wait_for_timeout(100)
    assert "/sub/favicon.svg" in paths
    assert not [path for path in paths if path.endswith("favicon.ico")]


def test_the_favicon_opens_from_disk(open_page, out):
    page = open_page((out / "articles/notes/index.html").as_uri())
    href = page.evaluate("document.querySelector('link[rel=icon]').href")
    icon = Path(unquote(urlsplit(href).path))
    assert icon == out / "favicon.svg"
    assert ET.fromstring(icon.read_bytes()).tag == "{http://www.w3.org/2000/svg}svg"


# --- dates and corrections --------------------------------------------------------------

LINES = """(selector) => [...document.querySelectorAll(selector)].map((element) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  return [element.textContent, tops.size];
})"""


@pytest.mark.parametrize("width", [390, 1280])
def test_related_article_dates_stay_on_one_line(open_page, base, width):
    page = open_page(base + "articles/notes/", width)
    dates = page.evaluate(LINES, ".related time")
    assert [text for text, _ in dates] == ["25 December 2023", "17 August 2022"]
    assert [lines for _, lines in dates] == [1, 1]
    archive = open_page(base + "archive/", width)
    assert {lines for _, lines in archive.evaluate(LINES, ".compact-list time")} == {1}


@pytest.mark.parametrize("address", ["articles/notes/", "annotations/"])
def test_corrections_in_highlights_and_notes_say_what_they_are(open_page, base, address):
    page = open_page(base + address)
    rows = page.locator(".highlight-list .highlight-link")
    names = [name for name, _ in accessible(page, "link")]
    for kind, label, words in (("insertion", "Inserted", "added by the reader"),
                               ("deletion", "Deleted", "struck out")):
        row = page.locator(f".kind-{kind} .highlight-link")
        label_element = row.locator(".highlight-kind")
        assert label_element.is_visible()
        assert label_element.text_content() == label
        assert f"{label} {words}" in names  # what a screen reader hears of the row
    assert rows.count() == 6  # (3 lone notes, a highlight with a note, 2 corrections)


# --- margin notes -----------------------------------------------------------------------

NOTE_LAYOUT = """() => {
  const body = document.querySelector('.article-body').getBoundingClientRect();
  const root = document.documentElement;
  return {
    width: root.clientWidth, scroll: root.scrollWidth, column: [body.left, body.right],
    notes: [...document.querySelectorAll('.sidenote')].map((note) => {
      const box = note.getBoundingClientRect();
      return {shown: note.checkVisibility(), float: getComputedStyle(note).float,
              left: box.left, right: box.right, width: box.width};
    }),
    toggles: [...document.querySelectorAll('.sidenote-toggle')].map((t) =>
      t.getAttribute('aria-expanded')),
  };
}"""


@pytest.mark.parametrize("width", [BREAKPOINT, 1100, 1280])
def test_at_or_above_the_breakpoint_every_note_is_in_the_margin(open_page, base, width):
    layout = open_page(base + "articles/notes/", width).evaluate(NOTE_LAYOUT)
    assert layout["scroll"] == layout["width"]  # nothing sticks out of the window
    assert len(layout["notes"]) == 4
    for note in layout["notes"]:
        assert note["shown"] and note["float"] == "right"
        assert note["left"] >= layout["column"][1] + 16  # right of the text, with a gap
        assert note["right"] <= layout["width"]  # inside the window
        assert note["width"] >= 150  # (10rem: a readable measure)
    assert layout["toggles"] == ["true"] * 4


def test_one_pixel_below_the_breakpoint_notes_fold_into_toggles(open_page, base):
    layout = open_page(base + "articles/notes/", BREAKPOINT - 1).evaluate(NOTE_LAYOUT)
    assert layout["scroll"] == layout["width"]
    assert [note["shown"] for note in layout["notes"]] == [False] * 4
    assert layout["toggles"] == ["false"] * 4


def test_the_readme_documents_the_breakpoint():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "64rem (1,024 px" in readme


@pytest.mark.parametrize(("width", "expanded"), [(390, False), (1280, True)])
def test_note_toggles_are_numbered_and_say_whether_open(open_page, base, width, expanded):
    page = open_page(base + "articles/notes/", width)
    page.wait_for_function("() => document.querySelector('.sidenote-toggle[aria-label]')")
    buttons = accessible(page, "button")
    assert buttons[0][0] == "Search"  # the header's search box, before the article
    assert [(name, props.get("expanded")) for name, props in buttons[1:]] == [
        (f"Note {n}", expanded) for n in range(1, 5)]
    if not expanded:
        page.locator(".sidenote-toggle").nth(2).click()
        buttons = accessible(page, "button")
        assert [props.get("expanded") for _, props in buttons[1:]] == \
            [False, False, True, False]


# --- heading links ----------------------------------------------------------------------

def test_heading_links_are_named_as_they_show(open_page, base):
    """WCAG 2.5.3, label in name: the "#" is drawn, not text, so the link shows no text its
    name ("Link to this section") leaves out; and the page's text holds no "#"."""
    page = open_page(base + "articles/notes/", 1280)
    anchors = page.locator(".article-body .header-anchor")
    assert anchors.count() == 2
    shown = page.evaluate("""() => [...document.querySelectorAll('.header-anchor')].map((a) =>
      [a.textContent, getComputedStyle(a, '::before').content])""")
    assert shown == [["", '"#" / ""']] * 2
    names = [name for name, _ in accessible(page, "link")]
    assert names.count("Link to this section") == 2
    headings = page.evaluate(
        "[...document.querySelectorAll('.article-body h2')].map((h) => h.textContent)")
    assert headings == ["The first part", "The second part"]
