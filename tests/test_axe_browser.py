"""axe-core (npm, the committed lockfile) on the example archive in Debian's chromium:
no violation and nothing left "needs review" (axe's *incomplete*), with axe's default
rules, none disabled and no element excluded, on the home page, an article with margin
notes, an entity page, the timeline and the search page (empty, and with the results
and filters of a query), at a phone's width and a desktop's, in light and dark mode.

One build and one browser for the module; one context per width and colour scheme.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anchor_support import REPO, WAIT_MS, chromium, serve_folder, unavailable

from builder.pipeline import BuildOptions, build
from conftest import copy_example

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
#: articles with margin notes, corrections and related articles, and with a code block
#: wider than a phone; an entity page
PAGES = ["", "articles/pakistan-covert-iskp-let-alliance/", "articles/geolocating-a-photograph/",
         "entities/inter-services-intelligence/", "timeline/", "search/", "search/?q=Lashkar"]
#: a page whose script fills it in after loading: checked once this holds
FILLED = {"search/?q=Lashkar": "document.querySelectorAll('#search-results li').length > 0 && "
                               "document.querySelectorAll('#search-facets details').length > 0"}
#: axe.run's options: its defaults, plus one experimental rule the heading links once
#: failed (label-content-name-mismatch); nothing turned off
OPTIONS = {"rules": {"label-content-name-mismatch": {"enabled": True}}}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = copy_example(tmp_path_factory.mktemp("axe") / "site")
    build(root, BuildOptions(output=root / "public", cache=False, jobs=1))
    return root / "public"


@pytest.fixture(scope="module")
def axe() -> str:
    if not AXE.is_file():
        unavailable("npm package missing: axe-core (run npm ci)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(out) -> Iterator[str]:
    with serve_folder(out) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def test_the_pages_checked_exist(out):
    assert all((out / page.split("?")[0] / "index.html").is_file() for page in PAGES)
    article = (out / PAGES[1] / "index.html").read_text(encoding="utf-8")
    assert 'class="sidenote"' in article and "kind-insertion" in article
    assert "<pre" in (out / PAGES[2] / "index.html").read_text(encoding="utf-8")


def describe(found: dict) -> str:
    """One line per rule and element: enough to find and fix it."""
    return "\n".join(f"  {found['id']} ({found['impact']}): {node['target']} "
                     f"{node['failureSummary'] or ''}".replace("\n", " ")
                     for node in found["nodes"])


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
def test_axe_finds_nothing_to_fix_or_to_review(browser, site, out, axe, width, scheme):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    problems = []
    try:
        for address in PAGES:
            page.goto(site + address)
            if address in FILLED:
                page.wait_for_function(FILLED[address])
            page.add_script_tag(content=axe)
            results = page.evaluate("(options) => axe.run(document, options)", OPTIONS)
            assert results["testEngine"]["name"] == "axe-core"
            assert results["url"] == site + address
            assert len(results["passes"]) > 20  # it did run its rules
            for kind in ("violations", "incomplete"):
                problems += [f"/{address} {kind}:\n{describe(found)}"
                             for found in results[kind]]
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
