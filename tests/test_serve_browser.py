"""Live reload in a real browser: Debian's chromium, driven by Playwright's Python package.

Playwright never downloads a browser here: it is given ``/usr/bin/chromium``
(``POSTIL_CHROMIUM`` overrides the path). Without Playwright or chromium
these tests are skipped; ``.ci/run`` installs both. Every wait is on a
condition with a generous timeout, never a fixed sleep.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from builder.problems import BuildFailed
from conftest import SITE_YML, article

CHROMIUM = os.environ.get("POSTIL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 20_000
ARCHIVE_YML = SITE_YML.replace("https://example.org/", "https://example.org/archive/")

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect
if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS,
                                             timeout=60_000)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    yield page
    context.close()






FILES = {
    "content/a.md": article("Alpha", "2024-05-01", body="The first text.", tags="[one]"),
    "content/b.md": article("Beta", "2024-05-02", body="Another text.", tags="[one]"),
    "static/css/style.css": "body { background-color: rgb(255, 255, 255); }\n",
}


def connected(page) -> None:
    """Wait until the injected script has its event stream open."""
    page.wait_for_function("() => window.__postil && window.__postil.connected")


@pytest.mark.parametrize("config", [SITE_YML, ARCHIVE_YML], ids=["root", "base-path"])
def test_an_edited_article_shows_by_itself(serve, page, site, config):
    server = serve(FILES, config)
    page.goto(server.url + "articles/a/")
    expect(page.locator("h1")).to_have_text("Alpha")
    connected(page)
    site.write("content/a.md", article("Alpha, revised", "2024-05-01",
                                       body="Text written after the page was opened."))
    expect(page.locator("h1")).to_have_text("Alpha, revised")
    expect(page.locator("main")).to_contain_text("Text written after the page was opened.")


def test_a_build_error_shows_in_an_overlay_until_it_is_fixed(serve, page, site):
    server = serve(FILES)
    page.goto(server.url + "articles/a/")
    connected(page)
    site.write("content/a.md", "---\ntitle: [\ndate: 2024-05-01\n---\nBroken.\n")
    with pytest.raises(BuildFailed) as failure:
        site.build(write=False)
    expected = [str(problem) for problem in failure.value.problems]
    assert re.match(r"content/a\.md:\d+: invalid YAML", expected[0])
    overlay = page.locator("#postil-error-overlay")
    expect(overlay).to_be_visible()
    expect(overlay.locator("li")).to_have_text(expected)
    expect(page.locator("h1")).to_have_text("Alpha")  # the last good page stays
    site.write("content/a.md", article("Alpha, fixed", "2024-05-01"))
    expect(page.locator("h1")).to_have_text("Alpha, fixed")
    expect(overlay).to_have_count(0)


def test_the_first_failed_build_page_is_not_covered_by_the_overlay(serve, page, site):
    server = serve({"content/a.md": "---\ntitle: [\n---\n"})
    with pytest.raises(BuildFailed) as failure:
        site.build(write=False)
    expected = [str(problem) for problem in failure.value.problems]
    page.goto(server.url)
    connected(page)
    page.wait_for_function("() => window.__postil.errors.length > 0")  # the state came
    expect(page.locator("h1")).to_have_text("The site failed to build")
    expect(page.locator("#postil-error-overlay")).to_have_count(0)
    expect(page.locator("li")).to_have_text(expected)  # each problem once on the page
    expect(page.locator("body")).not_to_contain_text("last good build")
    site.write("content/a.md", article("Alpha", "2024-05-01"))
    expect(page.locator("h1")).to_have_text("Test archive")  # reloaded: the home page


def test_a_fixed_error_that_changes_nothing_just_removes_the_overlay(serve, page, site):
    server = serve(FILES)
    page.goto(server.url + "articles/b/")
    connected(page)
    page.evaluate("window.__marker = 'not reloaded'")
    good = (site.root / "content/a.md").read_text(encoding="utf-8")
    site.write("content/a.md", "---\ntitle: [\n---\n")
    overlay = page.locator("#postil-error-overlay")
    expect(overlay).to_contain_text("content/a.md:")
    site.write("content/a.md", good)
    expect(overlay).to_have_count(0)
    assert page.evaluate("window.__marker") == "not reloaded"


def test_a_stylesheet_change_is_swapped_in_without_a_reload(serve, page, site):
    server = serve(FILES)
    page.goto(server.url + "articles/a/")
    connected(page)
    page.evaluate("window.__marker = 'not reloaded'")
    loads: list[str] = []
    page.on("load", lambda _: loads.append("load"))
    site.write("static/css/style.css", "body { background-color: rgb(1, 2, 3); }\n")
    page.wait_for_function(
        "() => getComputedStyle(document.body).backgroundColor === 'rgb(1, 2, 3)'")
    assert page.evaluate("window.__marker") == "not reloaded"
    assert page.evaluate("window.__postil.swaps") == 1 and loads == []
    assert page.locator('link[rel="stylesheet"]').count() == 1  # the old one was removed


def test_a_page_without_head_reloads_too(serve, page, site):
    files = {**FILES, "templates/article.html": "<h1>{{ article.title }}</h1>"}
    server = serve(files)
    page.goto(server.url + "articles/a/")
    connected(page)
    site.write("content/a.md", article("Headless, revised", "2024-05-01"))
    expect(page.locator("h1")).to_have_text("Headless, revised")


def test_a_missing_page_turns_into_the_article_once_written(serve, page, site):
    server = serve(FILES)
    response = page.goto(server.url + "articles/c/")
    assert response is not None and response.status == 404
    connected(page)
    site.write("content/c.md", article("Gamma", "2024-05-03"))
    expect(page.locator("h1")).to_have_text("Gamma")


def test_after_a_server_restart_the_tab_reconnects_and_reloads(serve, page, site):
    server = serve(FILES)
    port = server.port
    page.goto(server.url + "articles/a/")
    connected(page)
    server.stop()
    page.wait_for_function("() => !window.__postil.connected")
    site.write("content/a.md", article("Alpha, while the server was down", "2024-05-01"))
    try:
        serve(port=port)
    except OSError as exc:  # someone else took the port meanwhile: nothing to test
        pytest.skip(f"port {port} was taken: {exc}")
    expect(page.locator("h1")).to_have_text("Alpha, while the server was down")
    connected(page)
