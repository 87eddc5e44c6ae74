"""The example archive in this repository builds cleanly and fully cross-linked."""

import pytest

from builder.linkcheck import find_broken
from builder.pipeline import BuildOptions, build
from conftest import REPO, parse_html, text_of


@pytest.fixture(scope="module")
def example():
    return build(REPO, BuildOptions(write=False))


def test_builds_with_no_warnings(example):
    # But one, expected: the digest's snapshot is not in the repository (README, "Source
    # snapshots"); tests copy the seed in as its snapshot (tests/test_snapshots.py).
    found = [str(p) for p in example.warnings]
    if (REPO / "sources" / "pakistan-covert-iskp-let-alliance.txt").is_file():
        assert found == []
    else:
        assert found == ["content/pakistan-covert-iskp-let-alliance.md:8: warning: snapshot "
                         '"sources/pakistan-covert-iskp-let-alliance.txt" not found: its '
                         "quotations are not checked"]
    assert len(example.site.articles) >= 11


@pytest.mark.parametrize("base_url", ["https://example.org/", "https://example.org/archive/"])
def test_every_internal_link_resolves(base_url):
    result = build(REPO, BuildOptions(write=False, base_url=base_url))
    assert find_broken(result.files, result.config.base_path) == []


def test_every_page_is_valid_html(example):
    for name, data in example.files.items():
        if name.endswith(".html"):
            parse_html(data)


def test_seed_digest_is_there_with_its_metadata(example):
    page = parse_html(example.files["articles/pakistan-covert-iskp-let-alliance/index.html"])
    assert text_of(page.find(".//h1")).startswith("Pakistan’s covert ISKP–LeT alliance")
    byline = text_of(page.find(".//p[@class='byline']"))
    assert "Abhinandan Mishra" in byline and "The Sunday Guardian" in byline
    # The seed shows only "Last Updated: October 7, 2025 17:19:20 IST": no publication date
    assert page.find(".//time").get("datetime") == "2025-10-07T17:19:20+05:30"
    assert byline.startswith("Last updated 7 October 2025") and "ublished" not in byline


def test_pagination_tags_and_authors_have_something_to_show(example):
    files = example.files
    assert "page/2/index.html" in files
    assert len(example.site.tags) >= 10 and len(example.site.authors) >= 6
    assert any(tag.count >= 3 for tag in example.site.tags)
    assert len(example.site.years) >= 4
