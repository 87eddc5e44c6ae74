"""Citations of the sources (issue 12): ``source.json`` (CSL-JSON) and ``source.bib``
(biblatex) beside each article about a source, and ``/bibliography.json`` and
``/bibliography.bib``, read back with citeproc-py and bibtexparser."""

from __future__ import annotations

import json

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

from builder.citations import split_name
from builder.pipeline import BuildOptions, build
from conftest import REPO, SITE_YML, article, cold_files, output_files, parse_html

DIGEST = "articles/pakistan-covert-iskp-let-alliance/"
STYLE = "harvard-cite-them-right"  # bundled with citeproc-py
CONFIG = SITE_YML + "author: Test Reader\n"


@pytest.fixture(scope="module")
def example():
    return build(REPO, BuildOptions(write=False))


def rendered(items: list[dict]) -> dict[str, str]:
    """Each item's bibliography entry as citeproc-py renders it (plain text), by id."""
    bibliography = CitationStylesBibliography(CitationStylesStyle(STYLE, validate=False),
                                              CiteProcJSON(items), formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    entries = [str(entry) for entry in bibliography.bibliography()]  # in self.items' order
    return dict(zip([item.key for item in bibliography.items], entries, strict=True))


def bib(data: bytes, decode: bool = True):
    library = bibtexparser.parse_string(
        data.decode("utf-8"), append_middleware=[LatexDecodingMiddleware()] if decode else [])
    assert library.failed_blocks == []
    return library


def fields(entry) -> dict[str, str]:
    return {field.key: field.value for field in entry.fields}


def test_the_digests_source_renders_in_a_csl_style(example):
    items = json.loads(example.files[DIGEST + "source.json"])
    assert [item["id"] for item in items] == ["pakistan-covert-iskp-let-alliance"]
    entry = rendered(items)["pakistan-covert-iskp-let-alliance"]
    assert entry.startswith("Mishra, A. (no date) “Pakistan’s covert ISKP–LeT alliance "
                            "confirms Ehsanullah Ehsan’s warning”, The Sunday Guardian.")
    assert "Available at: https://sundayguardianlive.com/news/pakistans-covert" in entry
    assert "(Accessed: October 8, 2025)" in entry
    # The seed shows only when it was last updated: no publication date is claimed.
    assert "issued" not in items[0] and items[0]["note"] == "Last updated 2025-10-07"


def test_a_published_source_has_its_date(example):
    items = json.loads(example.files["articles/what-a-postil-was/source.json"])
    entry = rendered(items)[items[0]["id"]]
    assert entry.startswith("Halvorsen, S. (2019) “What a postil was")
    assert "The Archive Review, 21 November" in entry


def test_the_digests_bibtex_entry(example):
    library = bib(example.files[DIGEST + "source.bib"])
    [entry] = library.entries
    assert (entry.entry_type, entry.key) == ("article", "pakistan-covert-iskp-let-alliance")
    assert fields(entry) == {
        "author": "Mishra, Abhinandan",
        "title": "Pakistan’s covert ISKP–LeT alliance confirms Ehsanullah Ehsan’s warning",
        "journaltitle": "The Sunday Guardian",
        "url": "https://sundayguardianlive.com/news/pakistans-covert-iskp-let-alliance-"
               "confirms-ehsanullah-ehsans-warning",
        "urldate": "2025-10-08", "note": "Last updated 2025-10-07"}


def test_the_bibliography_holds_every_source_sorted_with_the_same_keys(example):
    items = json.loads(example.files["bibliography.json"])
    sourced = [a for a in example.site.articles if a.source_url]
    assert len(items) == len(sourced) >= 10
    keys = [item["id"] for item in items]
    assert len(set(keys)) == len(keys)
    families = [item["author"][0]["family"].casefold() for item in items]
    assert families == sorted(families)
    library = bib(example.files["bibliography.bib"])
    assert [entry.key for entry in library.entries] == keys
    for item in items:  # each article's own files hold the same entry
        page = next(a for a in sourced if a.source_url == item["URL"])
        assert json.loads(example.files[page.url.lstrip("/") + "source.json"]) == [item]
    entries = rendered(items)
    assert all(item["title"] in entries[item["id"]] for item in items)


def test_the_article_page_links_to_its_citations(example):
    page = parse_html(example.files[DIGEST + "index.html"])
    links = {a.get("href"): a.get("type") for a in page.iter("a")
             if "cite-source" in (a.get("class") or "")}
    assert links == {"source.bib": "application/x-bibtex",
                     "source.json": "application/vnd.citationstyles.csl+json"}
    notes = "articles/reading-joint-interrogation-reports/"  # no source: nothing to cite
    assert notes + "index.html" in example.files and notes + "source.bib" not in example.files
    assert b"cite-source" not in example.files[notes + "index.html"]


TRICKY = "Braces {x} & 50% of $5 #1 snake_case ~ ^ back\\slash: Zürich’s 张三 “quotes”"


def test_special_characters_are_escaped_and_read_back(site):
    site({"content/a.md": article(json.dumps(TRICKY), "2024-02-03",
                                  authors='["José Ñúñez", "Ludwig van Beethoven", '
                                          '"Martin Luther King, Jr.", "Reuters"]',
                                  publication='"Arts & Letters_ 100%"',
                                  source="https://example.com/a?x=1&y=%7B2%7D#frag",
                                  read="2024-03-01")}, config=CONFIG)
    result = site.build(write=False)
    raw = result.files["articles/a/source.bib"]
    undecoded = fields(bib(raw, decode=False).entries[0])
    for special in ("&", "%", "$", "#", "_"):  # never bare in a value but the URL
        assert f"\\{special}" in undecoded["title"]
    assert "\\{" in undecoded["title"] and "\\\"u" in undecoded["title"]
    entry = bib(raw).entries[0]
    values = fields(entry)
    # (pylatexenc reads \textasciicircum back as U+02C6; LaTeX prints it as "^")
    assert values["title"].replace("\u02c6", "^") == TRICKY
    assert values["journaltitle"] == "Arts & Letters_ 100%"
    assert values["author"] == ("Ñúñez, José and van Beethoven, Ludwig and King, Jr., "
                                "Martin Luther and Reuters")
    # biblatex reads url verbatim (no LaTeX decoding): as written, with its % and #
    assert undecoded["url"] == "https://example.com/a?x=1&y=%7B2%7D#frag"
    assert (values["date"], values["urldate"]) == ("2024-02-03", "2024-03-01")
    [item] = json.loads(result.files["articles/a/source.json"])
    assert item["title"] == TRICKY and item["type"] == "article-newspaper"
    entry_text = rendered([item])[item["id"]]
    assert entry_text.startswith("Ñúñez, J. et al. (2024)") or \
        entry_text.startswith("Ñúñez, J., van Beethoven, L., King, M.L., Jr. and Reuters (2024)")
    assert TRICKY in entry_text


@pytest.mark.parametrize(("name", "parts"), [
    ("Abhinandan Mishra", {"family": "Mishra", "given": "Abhinandan"}),
    ("Mishra, Abhinandan", {"family": "Mishra", "given": "Abhinandan"}),
    ("Ludwig van Beethoven", {"family": "Beethoven", "given": "Ludwig",
                              "non-dropping-particle": "van"}),
    ("Martin Luther King, Jr.", {"family": "King", "given": "Martin Luther",
                                 "suffix": "Jr."}),
    ("Reuters", {"literal": "Reuters"}),
])
def test_names_are_split_as_csl_wants_them(name, parts):
    assert split_name(name) == parts


def test_keys_come_from_the_url_alone(site):
    site({"content/a.md": article("A", source="https://example.com/a"),
          "content/about.md": article("About", source="https://example.com/b",
                                      permalink="/about/")}, config=CONFIG)
    first = site.build(write=False)
    keys = [item["id"] for item in json.loads(first.files["bibliography.json"])]
    assert sorted(keys) == [":about", "a"]
    site.write("content/b.md", article("B", source="https://example.com/c"))
    second = site.build(write=False)
    assert second.files["articles/a/source.bib"] == first.files["articles/a/source.bib"]


def test_citations_are_pruned_and_warm_builds_equal_cold_ones(site):
    root = site({"content/a.md": article("A", source="https://example.com/a"),
                 "content/b.md": article("B", source="https://example.com/b")}, config=CONFIG)
    site.build()
    public = root / "public"
    assert (public / "articles/a/source.json").is_file()
    site.write("content/a.md", article("A"))  # no longer about a source
    warm = site.build()
    assert not (public / "articles/a/source.json").exists()
    assert not (public / "articles/a/source.bib").exists()
    assert output_files(warm) == cold_files(root)
    assert [item["id"] for item in json.loads((public / "bibliography.json").read_bytes())] \
        == ["b"]
    site.write("content/b.md", article("B"))
    warm = site.build()
    assert not (public / "bibliography.json").exists()
    assert not (public / "bibliography.bib").exists()
    assert output_files(warm) == cold_files(root)


def test_a_static_file_of_the_same_name_wins(site):
    site({"content/a.md": article("A", source="https://example.com/a")}, config=CONFIG)
    site.write("static/bibliography.bib", "% my own\n")
    result = site.build(write=False)
    assert result.files["bibliography.bib"] == b"% my own\n"
    assert json.loads(result.files["bibliography.json"])[0]["id"] == "a"


def test_the_plain_text_shortcut_escapes_exactly_as_the_encoder_does():
    import random

    from builder.citations import _latex, escape

    encoder = _latex()
    rng = random.Random(9)
    alphabet = [chr(c) for c in range(32, 127)] + ["é", "\n", "–", "字"]
    cases = ["Plain words, (with) punctuation: a/b; c-d?", "50% & more", "a_b", "{x}", "~^",
             "\\", '"q"', "<>", "#1 $2", ""]
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
              for _ in range(3000)]
    for text in cases:
        assert escape(text) == encoder.unicode_to_latex(text), text
