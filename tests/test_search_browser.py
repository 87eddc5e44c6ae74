"""The /search/ page in Debian's chromium (Playwright), over the Pagefind index a build made.

One site per scenario, built once for the module: at the root of a host, under a sub-path,
and in Chinese. Each is served by a plain static server on 127.0.0.1, as a host would.
Skipped without Playwright or chromium; under ``CI=true`` those fail instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from anchor_support import WAIT_MS, chromium, serve_folder

from builder.pipeline import BuildOptions, build
from conftest import SITE_YML, SiteMaker, article

ENTITY = "---\nname: Nasir Mengal\ntype: person\naliases: [Mengal]\n---\nA tribal elder.\n"
ARTICLES = {
    "content/caravans.md": article(
        "Caravans of Zanzibar", "2021-05-01",
        "Nasir Mengal traded saffron along the coast road.",
        tags="[trade]", author="Ann Lee", publication="Coast Weekly",
        source="https://example.com/a"),
    "content/roads.md": article(
        "Roads in Kalat", "2023-03-01", "The saffron fields lie beyond the pass.",
        tags="[roads]", author="Bo Chan", publication="Hill Times",
        source="https://example.com/b"),
    "content/garden.md": article("Gardening notes", "2022-06-01", "Tomatoes and beans."),
    "content/secret.md": article("Secret draft", "2024-01-01", "Saffron smugglers, unpublished.",
                                 draft="true"),
    "content/entities/nasir-mengal.md": ENTITY,
}
CONFIG = SITE_YML + "author: The editors\nentities:\n  autolink: true\n"


def make_site(root: Path, files: dict[str, str], config: str) -> Path:
    maker = SiteMaker(root)
    maker(files, config)
    out = root.parent / (root.name + "-out")
    build(root, BuildOptions(output=out, jobs=1))
    return out


@pytest.fixture(scope="module")
def browser():
    with chromium() as found:
        yield found


@pytest.fixture(scope="module")
def root_site(tmp_path_factory):
    out = make_site(tmp_path_factory.mktemp("root") / "site", ARTICLES, CONFIG)
    with serve_folder(out) as url:
        yield url, out


@pytest.fixture(scope="module")
def sub_site(tmp_path_factory):
    work = tmp_path_factory.mktemp("sub")
    out = make_site(work / "site", ARTICLES, CONFIG.replace(
        "https://example.org/", "https://example.org/archive/sub/"))
    host = work / "host"
    (host / "archive").mkdir(parents=True)
    (host / "archive" / "sub").symlink_to(out, target_is_directory=True)
    with serve_folder(host) as url:
        yield url + "archive/sub/"


@pytest.fixture(scope="module")
def zh_site(tmp_path_factory):
    out = make_site(tmp_path_factory.mktemp("zh") / "site", {
        "content/beijing.md": article("北京之行", "2024-01-01", "我们每个月都去北京看朋友。"),
        "content/shanghai.md": article("上海天气", "2024-01-02", "上海的天气很好，我们喝茶。"),
    }, SITE_YML + "language: zh\n")
    with serve_folder(out) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context()
    found = context.new_page()
    found.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    found.on("pageerror", lambda error: errors.append(str(error)))
    found.errors = errors  # type: ignore[attr-defined]
    yield found
    context.close()


def settled(page, before: str = "") -> str:
    """The status line once a search has answered (different from ``before``)."""
    page.wait_for_function(
        "(before) => { const s = document.getElementById('search-status').textContent;"
        " return /result/.test(s) && s !== before; }", arg=before)
    return page.inner_text("#search-status")


def facet(page, name: str):
    """The facet's group of checkboxes, unfolded (each is a <details>, closed at first)."""
    summary = page.locator("#search-facets summary", has_text=re.compile(f"^{name}$"))
    if summary.locator("xpath=..").get_attribute("open") is None:
        summary.click()
    return page.get_by_role("group", name=name, exact=True)


def titles(page) -> list[str]:
    return page.locator("#search-results h3").all_inner_texts()


def test_a_query_lists_the_article_and_not_an_unrelated_one(root_site, page):
    url, _ = root_site
    page.goto(url + "search/?q=saffron")
    assert settled(page) == "2 results for \u201csaffron\u201d."
    assert sorted(titles(page)) == ["Caravans of Zanzibar", "Roads in Kalat"]  # no draft
    assert page.locator("#search-results mark").first.inner_text().lower() == "saffron"
    assert page.locator("#search-results time, #search-results .meta").first.inner_text()
    page.goto(url + "search/?q=tomatoes")
    settled(page)
    assert titles(page) == ["Gardening notes"]
    assert not page.errors


def test_an_entity_facet_narrows_the_results(root_site, page):
    url, _ = root_site
    page.goto(url + "search/?q=saffron")
    before = settled(page)
    group = facet(page, "Entity")
    assert group.get_by_text(re.compile(r"Nasir Mengal")).is_visible()
    group.get_by_label(re.compile("Nasir Mengal")).check()
    assert settled(page, before) == "1 result for \u201csaffron\u201d, filtered."
    assert titles(page) == ["Caravans of Zanzibar"]


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("Tag", "roads", ["Roads in Kalat"]),
    ("Author", "Ann Lee", ["Caravans of Zanzibar"]),
    ("Publication", "Hill Times", ["Roads in Kalat"]),
    ("Year", "2021", ["Caravans of Zanzibar"]),
    ("Entity type", "Person", ["Caravans of Zanzibar"]),
])
def test_the_other_facets(root_site, page, name, value, expected):
    url, _ = root_site
    page.goto(url + "search/?q=saffron")
    before = settled(page)
    facet(page, name).get_by_label(
        re.compile("^" + re.escape(value) + " ")).check()
    settled(page, before)
    assert titles(page) == expected


def test_sort_by_date(root_site, page):
    url, _ = root_site
    page.goto(url + "search/?q=saffron&sort=date")
    settled(page)
    assert titles(page) == ["Roads in Kalat", "Caravans of Zanzibar"]
    before = page.inner_text("#search-status")
    page.select_option("#search-sort", "date-asc")
    page.wait_for_function("document.querySelector('#search-results h3') && "
                           "document.querySelector('#search-results h3').textContent"
                           ".startsWith('Caravans')")
    assert titles(page) == ["Caravans of Zanzibar", "Roads in Kalat"]
    assert page.inner_text("#search-status") == before
    assert "sort=date-asc" in page.url


def test_a_linked_query_and_the_entity_page(root_site, page):
    url, _ = root_site
    page.goto(url + "articles/garden/")
    page.set_content(f'<a href="{url}search/?q=Mengal">search</a>')
    page.click("a")
    settled(page)
    assert page.input_value("#search-q") == "Mengal"
    assert "Nasir Mengal" in titles(page)  # the entity's own page
    assert "Caravans of Zanzibar" in titles(page)


def test_keyboard_use_and_announcements(root_site, page):
    url, _ = root_site
    page.goto(url + "articles/garden/")
    page.get_by_role("search").get_by_label("Search the archive").focus()
    page.keyboard.type("saffron")
    page.keyboard.press("Enter")  # the header box: a plain form to /search/
    page.wait_for_url(re.compile(r"/search/\?q=saffron"))
    status = page.locator("#search-status")
    assert status.get_attribute("role") == "status"
    assert status.get_attribute("aria-live") == "polite"
    before = settled(page)
    summary = page.locator("#search-facets summary", has_text="Tag")
    summary.focus()
    page.keyboard.press("Enter")  # unfolds the facet
    page.keyboard.press("Tab")  # its first value, "roads"
    assert page.evaluate("document.activeElement.value") == "roads"
    page.keyboard.press("Space")
    assert settled(page, before) == "1 result for \u201csaffron\u201d, filtered."
    page.focus("#search-q")
    page.keyboard.press("Tab")  # the button, then the order, and so on: all reachable
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "search-sort"
    link = page.locator("#search-results a").first
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/articles/roads/$"))


def test_markup_in_the_query_is_only_text(root_site, page):
    url, _ = root_site
    page.goto(url + "search/?q=" + "%3Cimg%20src%3Dx%20onerror%3Dwindow.hacked%3D1%3E")
    page.wait_for_function("document.getElementById('search-status').textContent.length > 0")
    assert "<img src=x onerror=window.hacked=1>" in page.inner_text("#search-status")
    assert page.locator("main img").count() == 0
    assert page.evaluate("window.hacked") is None


def test_from_the_file_system_the_page_says_a_server_is_needed(root_site, page):
    _, out = root_site
    page.goto((out / "search" / "index.html").as_uri() + "?q=saffron")
    notice = page.locator("#search-offline")
    notice.wait_for(state="visible")
    assert "needs a web server" in notice.inner_text()
    assert "postil serve" in notice.inner_text()


def test_under_a_sub_path(sub_site, page):
    page.goto(sub_site + "search/?q=saffron")
    before = settled(page)
    assert sorted(titles(page)) == ["Caravans of Zanzibar", "Roads in Kalat"]
    hrefs = page.eval_on_selector_all("#search-results h3 a", "l => l.map(a => a.href)")
    assert all(h.startswith(sub_site + "articles/") for h in hrefs)
    facet(page, "Entity").get_by_label(re.compile("Nasir Mengal")).check()
    settled(page, before)
    assert titles(page) == ["Caravans of Zanzibar"]
    page.click("#search-results h3 a")
    page.wait_for_url(sub_site + "articles/caravans/")
    assert page.locator("h1").inner_text() == "Caravans of Zanzibar"


def test_chinese_by_a_two_character_word(zh_site, page):
    page.goto(zh_site + "search/?q=北京")
    settled(page)
    assert titles(page) == ["北京之行"]
