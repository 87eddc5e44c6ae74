"""Search as a reader meets it after the site changed under an open search page.

A search page loads Pagefind's index once; when the site is rebuilt (``postil serve``
indexes in the background a moment after a save, a host is redeployed) the index's
chunk files get new names and the old ones are removed. The page must then read the
new index, not answer "No results" from the old one. Skipped without Playwright or
chromium; under ``CI=true`` those fail instead.
"""

from __future__ import annotations

import pytest
from anchor_support import WAIT_MS, chromium, serve_folder

from builder.pipeline import BuildOptions, build
from conftest import SITE_YML, SiteMaker, article


@pytest.fixture(scope="module")
def browser():
    with chromium() as found:
        yield found


def test_an_open_search_page_reads_the_index_made_after_it_loaded(tmp_path, browser):
    root = tmp_path / "site"
    maker = SiteMaker(root)
    maker({"content/caravans.md": article("Caravans", "2021-05-01", "Saffron on the road."),
           "content/garden.md": article("Garden", "2022-06-01", "Tomatoes and beans.")},
          SITE_YML)
    out = tmp_path / "out"
    build(root, BuildOptions(output=out, jobs=1))
    with serve_folder(out) as url:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(url + "search/?q=saffron")
        page.wait_for_function("/1 result/.test("
                               "document.getElementById('search-status').textContent)")
        # The site changes under the open page: its index's chunks are renamed.
        maker.write("content/garden.md",
                    article("Garden", "2022-06-01", "Tomatoes, beans and quokkas."))
        build(root, BuildOptions(output=out, jobs=1))
        page.fill("#search-q", "quokkas")
        page.press("#search-q", "Enter")
        page.wait_for_function("/quokkas/.test("
                               "document.getElementById('search-status').textContent)")
        assert page.inner_text("#search-status") == "1 result for \u201cquokkas\u201d."
        assert page.locator("#search-results h3").all_inner_texts() == ["Garden"]
        context.close()


def test_an_archive_with_nothing_to_index_says_so(tmp_path, browser):
    root = SiteMaker(tmp_path / "site")()  # a new archive: no article, no entity
    out = tmp_path / "out"
    build(root, BuildOptions(output=out, jobs=1))
    assert not (out / "pagefind").exists()
    with serve_folder(out) as url:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        for query in ("", "anything"):
            page.goto(url + "search/?q=" + query)
            page.wait_for_function(
                "document.getElementById('search-status').textContent.length > 0")
            assert "no search index" in page.inner_text("#search-status")
        assert errors == []  # the page with no query failed out of sight before
        context.close()
