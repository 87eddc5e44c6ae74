"""Links in bodies are relative to the page they are on (issue 12), like the theme's: the
site works from ``file://`` and under any base path, and feeds keep absolute URLs.

One body is shown at different depths (its article, embeds in other articles, entity
pages' passages, /annotations/), so every link of every page is checked where it is.
"""

from __future__ import annotations

import os
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
import pytest

from builder.pipeline import BuildOptions, build
from builder.urls import absolute, linker, resolve_site_links
from conftest import copy_example

CHROMIUM = os.environ.get("POSTIL_CHROMIUM", "/usr/bin/chromium")
ARTICLE = "articles/what-a-postil-was/index.html"
#: every kind of body link, added to one article of the example archive
EXTRA = """

A [[reading-joint-interrogation-reports|wikilink]], a
[Markdown link](isi-in-the-archives.md#kinds-of-source-ranked-by-the-author),
a [site path](/timeline/), ![a photograph](images/dot.png), ![[dot.png|an embed]],
[a table](images/table.csv) and #methods in passing.

![[clippings-to-notes-workflow]]
"""


def png() -> bytes:
    """A valid 1×1 PNG, so that a browser shows it (an image that fails has no width)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def example(root: Path, base_url: str = "https://example.org/") -> Path:
    """The example archive with one more paragraph of body links, built; its output."""
    copy_example(root)
    config = root / "site.yml"
    config.write_text(config.read_text().replace("https://example.org/", base_url))
    (root / "content/images").mkdir()
    (root / "content/images/dot.png").write_bytes(png())
    (root / "content/images/table.csv").write_text("a,b\n1,2\n")
    page = root / "content/what-a-postil-was.md"
    page.write_text(page.read_text() + EXTRA)
    build(root, BuildOptions())
    return root / "public"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            elif name in ("href", "src") and value is not None and tag != "base":
                self.links.append(value)


def _read(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _target(url: str) -> Path:
    """The file a ``file://`` URL opens: a folder's index.html."""
    path = Path(unquote(urlsplit(url).path))
    return path / "index.html" if url.split("#")[0].endswith("/") else path


def check_from_file_system(public: Path, pages: list[str]) -> int:
    """Every href and src of ``pages`` resolves from file:// to a file of ``public``, and
    its fragment to an id there. Returns how many links were checked."""
    checked = 0
    for name in pages:
        page = public / name
        base = page.as_uri()
        for link in _read(page).links:
            if link.startswith(("http://", "https://", "mailto:", "data:")):
                continue
            url = urljoin(base, link)
            assert url.startswith(public.as_uri() + "/"), (name, link)
            target = _target(url)
            assert target.is_file(), (name, link)
            fragment = unquote(urlsplit(url).fragment)
            if fragment and not fragment.startswith(":~:") and target.suffix == ".html":
                assert fragment in _read(target).ids, (name, link)
            checked += 1
    return checked


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example(tmp_path_factory.mktemp("relative") / "site")


@pytest.fixture(scope="module")
def sub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example(tmp_path_factory.mktemp("sub") / "site", "https://example.org/sub/")


def pages_to_check(public: Path) -> list[str]:
    names = [p.relative_to(public).as_posix() for p in public.rglob("index.html")]
    return sorted(n for n in names if n.startswith(("articles/", "entities/", "annotations/")))


def test_body_links_are_relative_to_their_page(public):
    text = (public / ARTICLE).read_text()
    for href in ('href="../reading-joint-interrogation-reports/"',
                 'href="../isi-archive-history/#kinds-of-source-ranked-by-the-author"',
                 'href="../../timeline/"',
                 'src="../../images/dot.png"', 'href="../../images/table.csv"',
                 'href="../../tags/methods/"', 'href="../../entities/'):
        assert href in text
    assert "postil-site:" not in text and 'href="/' not in text and 'src="/' not in text


def test_every_link_works_from_the_file_system(public):
    pages = pages_to_check(public)
    assert any(p.startswith("annotations/") for p in pages)
    assert sum(p.startswith("entities/") for p in pages) > 30
    assert check_from_file_system(public, pages) > 2000


def test_every_link_works_under_a_base_path(sub):
    """The same links with base_url under /sub/: from file://, and as served there."""
    pages = pages_to_check(sub)
    assert check_from_file_system(sub, pages) > 2000
    site = "https://example.org/sub/"
    for name in pages:
        page_url = site + name.removesuffix("index.html")
        for link in _read(sub / name).links:
            if link.startswith(("http://", "https://", "mailto:", "data:")):
                continue
            assert urljoin(page_url, link).startswith(site), (name, link)


def test_the_links_are_the_same_at_any_base_path(public, sub):
    for name in (ARTICLE, "entities/lashkar-e-taiba/index.html", "annotations/index.html"):
        links = [[link for link in _read(root / name).links if "://" not in link]
                 for root in (public, sub)]
        assert links[0] == links[1] and len(links[0]) > 20


def test_feeds_keep_absolute_urls(sub):
    feed = feedparser.parse((sub / "feed.xml").read_bytes())
    entry = next(e for e in feed.entries if e.link.endswith("/what-a-postil-was/"))
    parser = _Links()
    parser.feed(entry.content[0].value)
    assert len(parser.links) > 10
    for link in parser.links:
        assert link.startswith(("https://", "mailto:")), link
        if link.startswith("https://example.org/"):
            assert link.startswith("https://example.org/sub/"), link
            target = sub / unquote(urlsplit(link).path).removeprefix("/sub/")
            assert (target / "index.html" if link.split("#")[0].endswith("/")
                    else target).is_file(), link
    assert "https://example.org/sub/images/dot.png" in parser.links
    assert "https://example.org/sub/articles/isi-archive-history/" \
        "#kinds-of-source-ranked-by-the-author" in parser.links


def test_a_body_link_and_image_work_in_chromium_from_the_file_system(public):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"no chromium at {CHROMIUM}")
        pytest.skip(f"no chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, timeout=60_000,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto((public / ARTICLE).as_uri())
            width = page.eval_on_selector(".article-body img[alt='a photograph']",
                                          "img => img.complete && img.naturalWidth")
            assert width == 1
            mention = page.locator(".article-body a.mention").first
            name = mention.inner_text()
            mention.click()
            page.wait_for_load_state()
            assert page.url.startswith((public / "entities").as_uri())
            assert page.locator("h1").first.inner_text().strip() != ""
            assert name
            page.go_back()
            page.locator(".article-body a", has_text="Markdown link").click()
            page.wait_for_load_state()
            assert page.url == (public / "articles/isi-archive-history/index.html").as_uri() \
                + "#kinds-of-source-ranked-by-the-author"
        finally:
            browser.close()


def test_site_paths_become_each_page_s_links():
    body = ('<a href="postil-site:/entities/x/#m-x-1">x</a> <img src="postil-site:/f/q&amp;a.png">'
            ' <a href="#here">h</a> postil-site:/as/text "postil-site:/unterminated')
    assert resolve_site_links(body, linker("/articles/a/")) == (
        '<a href="../../entities/x/#m-x-1">x</a> <img src="../../f/q&amp;a.png">'
        ' <a href="#here">h</a> postil-site:/as/text "postil-site:/unterminated')
    assert resolve_site_links(body, linker("/")).startswith('<a href="entities/x/#m-x-1">')
    assert resolve_site_links(body, lambda p: absolute("https://example.org/sub/", p)) \
        .startswith('<a href="https://example.org/sub/entities/x/#m-x-1">')
    assert resolve_site_links("no links", linker("/")) == "no links"
