"""Source snapshots: the digest checked against the seed, "View in original" in the
snapshot's words, missing and misplaced snapshots, and rebuilds that see a snapshot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from builder import state
from builder.cli import main
from builder.config import load_config
from builder.pipeline import BuildOptions, SiteBuilder, build, input_roots
from builder.problems import BuildFailed
from builder.theme import find_theme
from conftest import REPO, article, cold_files, copy_example, output_files, parse_html

SEED = REPO.parent / "shared" / "seeds" / "000_a323bb9abf989816.txt"
DIGEST = "content/pakistan-covert-iskp-let-alliance.md"
SNAPSHOT = "sources/pakistan-covert-iskp-let-alliance.txt"
PAGE = "articles/pakistan-covert-iskp-let-alliance/index.html"
needs_seed = pytest.mark.skipif(not SEED.is_file(), reason="the seed article is not here")


@pytest.fixture
def digest_site(tmp_path: Path) -> Path:
    """The example archive with the seed article as the digest's snapshot."""
    root = copy_example(tmp_path / "site")
    (root / "sources").mkdir()
    shutil.copy(SEED, root / SNAPSHOT)
    return root


def fragments(page: bytes) -> list[list[str]]:
    """The text of each "View in original" link's fragment: [start] or [start, end]."""
    found = []
    for link in parse_html(page).iter("a"):
        if link.get("class") == "original-link":
            directive = link.get("href").split("#:~:text=", 1)[1]
            found.append([unquote(part) for part in directive.split(",")])
    return found


@needs_seed
def test_the_digest_quotes_the_seed_and_links_in_its_words(digest_site, capsys):
    assert main(["check", str(digest_site)]) == 0
    out, err = capsys.readouterr()
    assert "quote not found" not in err and "ok: " in out
    files = build(digest_site, BuildOptions(write=False)).files
    seed = " ".join(SEED.read_text(encoding="utf-8").split())
    found = fragments(files[PAGE])
    # one per highlight in a blockquote; none for the highlights of the digest's own prose
    assert len(found) == 5
    for parts in found:
        for part in parts:
            assert part in seed, part
    assert ["The JIT’s final report, dated 22 May 2015,"] in found  # the seed's apostrophe
    notes = fragments(files["annotations/index.html"])
    assert sorted(map(tuple, notes)) == sorted(map(tuple, found))


@needs_seed
def test_the_misquote_in_a_margin_note_is_reported_with_the_closest_text(digest_site, capsys):
    path = digest_site / DIGEST
    text = path.read_text(encoding="utf-8")
    assert text.count('{"between mid-May and early June"}') == 1
    path.write_text(text.replace('{"between mid-May and early June"}',
                                 '{"mid-May to early June"}'), encoding="utf-8")
    line = text[:text.index("mid-May")].count("\n") + 1
    assert main(["check", str(digest_site)]) == 1
    err = capsys.readouterr().err
    assert f'{DIGEST}:{line}: quote not found in source: "mid-May to early June" ' \
           '(closest: "mid-May and early June.")' in err.splitlines()
    assert "check failed: 1 unverified quotation" in err
    result = build(digest_site, BuildOptions(write=False))  # a build: a warning
    assert [p.line for p in result.warnings if "quote not found" in p.message] == [line]


def site_with(root: Path, body: str, snapshot_text: str | None, **meta: str) -> Path:
    root.mkdir(parents=True)
    # (an article with a source is the site author's note: site.yml names the author)
    (root / "site.yml").write_text("title: T\nbase_url: https://example.org/\nauthor: A\n",
                                   encoding="utf-8")
    (root / "content").mkdir()
    meta.setdefault("snapshot", "sources/a.txt")
    (root / "content" / "a.md").write_text(
        article("A", "2024-01-01", body=body, source="https://news.example/a", **meta),
        encoding="utf-8")
    if snapshot_text is not None:
        (root / "sources").mkdir()
        (root / "sources" / "a.txt").write_text(snapshot_text, encoding="utf-8")
    return root


def test_a_missing_snapshot_warns_in_build_and_fails_check_strict(tmp_path, capsys):
    root = site_with(tmp_path / "s", "> {==some words==}", None)
    result = build(root, BuildOptions(write=False))
    assert [str(p) for p in result.warnings] == [
        'content/a.md:5: warning: snapshot "sources/a.txt" not found: its quotations are not '
        "checked"]
    assert "original-link" not in result.files["articles/a/index.html"].decode()
    assert main(["check", str(root)]) == 0
    assert main(["check", "--strict", str(root)]) == 1
    assert "snapshot" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["../secret.txt", "/etc/hosts", "content/a.md",
                                   "sources/../site.yml", "sources/a.pdf", "[a]"])
def test_a_snapshot_outside_sources_is_an_error(tmp_path, value):
    root = site_with(tmp_path / "s", "Text.", "x", snapshot=value)
    with pytest.raises(BuildFailed) as failed:
        build(root, BuildOptions(write=False))
    assert [(p.path, p.line, p.warning) for p in failed.value.problems] == \
        [("content/a.md", 5, False)]


@pytest.mark.parametrize("value", ["../secret.txt", "sources/a.pdf", "[a]"])
def test_a_bad_snapshot_is_reported_beside_the_files_other_errors(tmp_path, value):
    # All problems in one run: a file that fails to read for another reason (here a
    # bad read: date) still has its snapshot: value checked.
    root = site_with(tmp_path / "s", "Text.", "x", snapshot=value, read="2020-13-45")
    with pytest.raises(BuildFailed) as failed:
        build(root, BuildOptions(write=False))
    assert [(p.path, p.line, p.warning) for p in failed.value.problems] == \
        [("content/a.md", 5, False), ("content/a.md", 6, False)]
    assert "snapshot" in failed.value.problems[0].message


def test_no_snapshot_no_link_and_prose_highlights_are_no_quotations(tmp_path):
    root = site_with(tmp_path / "s", "{==my own words==} and\n\n> {==quoted words==}",
                     "Here are quoted words and my own words.")
    page = build(root, BuildOptions(write=False)).files["articles/a/index.html"]
    assert fragments(page) == [["quoted words"]]
    (root / "content" / "a.md").write_text(article(
        "A", "2024-01-01", body="> {==quoted words==}", source="https://news.example/a"))
    page = build(root, BuildOptions(write=False)).files["articles/a/index.html"]
    assert fragments(page) == []  # no snapshot: nothing is verified


def test_an_html_snapshot_is_matched_on_its_text(tmp_path):
    root = site_with(tmp_path / "s", '> {==cost 14.2 million==}\n\nA {"third more"}.', None,
                     snapshot="sources/a.html")
    (root / "sources").mkdir()
    shutil.copy(REPO / "tests/fixtures/clip/news.html", root / "sources/a.html")
    result = build(root, BuildOptions(write=False))
    assert result.warnings == []
    assert fragments(result.files["articles/a/index.html"]) == [["cost 14.2 million,"]]


def test_the_sources_folder_is_never_content(tmp_path):
    """With content_dir: "." the site folder is read as content, but never sources/."""
    root = tmp_path / "s"
    (root / "sources").mkdir(parents=True)
    (root / "site.yml").write_text('title: T\ncontent_dir: "."\noutput_dir: ../public\n'
                                   "author: R\n",
                                   encoding="utf-8")
    (root / "a.md").write_text(article("A", body="> {==a clue==}", snapshot="sources/b.md"),
                               encoding="utf-8")
    (root / "sources" / "b.md").write_text(article("B", body="It held a clue."),
                                           encoding="utf-8")
    (root / "sources" / "c.html").write_text("<p>a page</p>", encoding="utf-8")
    result = build(root, BuildOptions(write=False))
    assert [a.title for a in result.site.articles] == ["A"]
    assert not [name for name in result.files if "sources" in name or name.endswith("b/")]
    assert result.warnings == []


def test_snapshots_are_build_inputs(tmp_path):
    root = site_with(tmp_path / "s", "> {==the first words==}", "the first words of it")
    config = load_config(root)[0]
    roots = input_roots(config, find_theme(config))
    assert str(root / "sources") in roots
    before = state.snapshot(roots)
    (root / "sources" / "a.txt").write_text("other words", encoding="utf-8")
    assert state.snapshot(roots) != before


def test_editing_a_snapshot_rebuilds_as_a_cold_build_would(tmp_path):
    """A long-lived builder (postil serve), a new build into the last output, and a cold
    build give the same bytes after each edit of a snapshot."""
    root = site_with(tmp_path / "s", "> {==the first words==}\n\n> {==later words==}",
                     "the first words\n\nlater words")
    output = tmp_path / "out"
    live = SiteBuilder(root, BuildOptions(write=False, jobs=1, delta=True))
    live.build()
    build(root, BuildOptions(output=output, jobs=1))
    snapshot = root / "sources" / "a.txt"
    for text in ("the first words\n\nno more", "The  FIRST—words!\n\nlater\nwords", None,
                 "later words"):
        if text is None:
            snapshot.unlink()
        else:
            snapshot.write_text(text, encoding="utf-8")
            os.utime(snapshot, ns=(1, snapshot.stat().st_mtime_ns + 1))
        cold = cold_files(root)
        assert output_files(live.build(saved=[str(snapshot)])) == cold
        warm = build(root, BuildOptions(output=output, jobs=1))
        assert output_files(warm) == cold
        assert {p.relative_to(output).as_posix(): p.read_bytes()
                for p in output.rglob("*") if p.is_file() and ".postil" not in p.name} \
            == {name: data for name, data in cold.items()}


def test_snapshots_are_published_only_when_the_site_says_so(tmp_path):
    root = site_with(tmp_path / "s", "> {==a clue==}", "It held a clue <script>alert(1)</script>"
                     "\n\nand more.")
    (root / "content" / "b.md").write_text(article(
        "B", "2024-01-02", body="> {==cost 14.2 million==}", snapshot="sources/b.html",
        source="https://news.example/b"), encoding="utf-8")
    page = (REPO / "tests/fixtures/clip/news.html").read_text(encoding="utf-8")
    (root / "sources" / "b.html").write_text(page.replace(
        "<p>The works cost", '<p><img src=x onerror="alert(2)"><script>alert(3)</script>'
        "The works cost"), encoding="utf-8")
    files = build(root, BuildOptions(write=False)).files
    assert not [name for name in files if name.endswith("source.html")]
    with open(root / "site.yml", "a", encoding="utf-8") as config:
        config.write("snapshots: {publish: true}\n")
    files = build(root, BuildOptions(write=False)).files
    text = files["articles/a/source.html"].decode()
    assert "<p>It held a clue &lt;script&gt;alert(1)&lt;/script&gt;</p>" in text
    assert '<meta name="robots" content="noindex">' in text
    shown = files["articles/b/source.html"].decode()
    assert "The works cost 14.2 million" in shown
    assert "<script" not in shown and "onerror" not in shown and "alert(2)" not in shown


def test_snapshots_publish_must_be_true_or_false(tmp_path):
    root = site_with(tmp_path / "s", "x", "x")
    with open(root / "site.yml", "a", encoding="utf-8") as config:
        config.write("snapshots: {publish: yes, keep: 1}\n")
    with pytest.raises(BuildFailed) as failed:
        build(root, BuildOptions(write=False))
    assert [(p.line, p.message, p.warning) for p in failed.value.problems] == [
        (4, "snapshots.publish must be true or false", False),
        (4, 'unknown key "snapshots.keep"', True)]


def test_a_published_snapshots_links_lead_to_the_source_not_into_the_archive(tmp_path):
    # A page's relative links and images, published on this site as they were, would
    # lead to pages of the archive that do not exist: postil check would fail on them.
    root = site_with(tmp_path / "s", "Text.", None, snapshot="sources/a.html")
    (root / "site.yml").write_text("title: T\nbase_url: https://example.org/\nauthor: A\n"
                                   "snapshots: {publish: true}\n", encoding="utf-8")
    (root / "sources").mkdir()
    words = " ".join(["and more words of the article"] * 8)
    (root / "sources" / "a.html").write_text(
        f'<html><body><article><p>A <a href="/world/asia">section</a>, <a href="more.html">a '
        f'page</a>, <a href="#top">the top</a>, <a href="https://other.example/x">elsewhere</a>'
        f' <a href="javascript:alert(1)">js</a> {words}.</p></article></body></html>',
        encoding="utf-8")
    page = build(root, BuildOptions(write=False)).files["articles/a/source.html"].decode()
    links = [a.get("href") for a in parse_html(page.encode()).iter("a")]
    assert links == ["https://news.example/a", "https://news.example/world/asia",
                     "https://news.example/more.html", "https://news.example/a#top",
                     "https://other.example/x", None]
    assert main(["check", str(root)]) == 0
    (root / "content" / "a.md").write_text(article(  # no source: a relative link is dropped
        "A", "2024-01-01", body="Text.", snapshot="sources/a.html"), encoding="utf-8")
    page = build(root, BuildOptions(write=False)).files["articles/a/source.html"].decode()
    assert [a.get("href") for a in parse_html(page.encode()).iter("a")] == \
        [None, None, "#top", "https://other.example/x", None]
