"""``postil build`` after editing articles, in a new process (builder.delta_build).

Each test copies the example archive (search off: a delta build leaves search to
the full build), builds it with the command, edits files and builds again with
the command, in this process as a new one would (nothing is kept in memory
between commands but what the build stores in ``.postil-cache/``). After every
build the output folder must hold exactly a cold build's files, byte for byte,
and a manifest that describes them; an edit that keeps every article's view
must be a delta build, any other a full one.
"""

from __future__ import annotations

import pickle
import sqlite3
from pathlib import Path

import pytest

import builder.delta_build as delta_build_module
from builder import manifest, state
from builder.cli import main
from builder.delta_build import DeltaBuilt
from builder.delta_store import database
from builder.pipeline import BuildOptions, SiteBuilder
from builder.rewrite import reached_articles
from builder.urls import output_file
from conftest import REPO, cold_files, copy_example, hrefs, parse_html, replace_once

ARTICLE = "content/afghanistan-after-august-2021.md"
OTHER = "content/attribution-verbs-in-allegation-reporting.md"
PAGE = "articles/afghanistan-after-august-2021/index.html"


@pytest.fixture
def example(tmp_path: Path, monkeypatch) -> Path:
    # Files just copied are "racy" (builder.state): no stamp would be recorded for them.
    monkeypatch.setattr(state, "RACY_SECONDS", 0.0)
    site = copy_example(tmp_path / "site")
    with (site / "site.yml").open("a", encoding="utf-8") as config:
        config.write("search: false\n")
    assert build(site) == "no stored build"  # (the first build: a full one)
    return site


_OUTCOMES: list = []  # what each command's delta build gave: a DeltaBuilt, or why not


@pytest.fixture(autouse=True)
def _spy(monkeypatch) -> None:
    _OUTCOMES.clear()
    original = delta_build_module.delta_build

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        _OUTCOMES.append(result)
        return result

    monkeypatch.setattr(delta_build_module, "delta_build", spy)


def build(site: Path) -> DeltaBuilt | str | None:
    """Run ``postil build`` on ``site``; what its delta build gave (None: none tried,
    as when the build stopped early or there was no earlier one)."""
    before = len(_OUTCOMES)
    assert main(["build", str(site), "-q"]) == 0
    return _OUTCOMES[-1] if len(_OUTCOMES) > before else None


def output(site: Path) -> dict[str, bytes]:
    folder = site / "public"
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in folder.rglob("*") if path.is_file()
            and path.name not in (manifest.MANIFEST, ".postil-lock")}


def assert_cold(site: Path) -> None:
    """The output folder holds a cold build's files, and its manifest describes them."""
    files = output(site)
    assert files == cold_files(site)
    raw, _ = manifest.read(site / "public")
    records, _ = manifest.parse(raw)
    assert records.keys() == files.keys()
    assert all(records[name].digest == manifest.digest(data) for name, data in files.items())


BODY_EDITS = [
    ("a passage beside a mention", "Quetta appears only once", "Quetta appears just once"),
    ("a margin note", "A gap the analysis shares", "A gap this analysis shares"),
    ("the summary", "Example entry: a digest of a fictional", "Example entry: a digest of an "
     "invented"),
]


@pytest.mark.parametrize(("what", "old", "new"), BODY_EDITS, ids=[e[0] for e in BODY_EDITS])
def test_a_body_edit_is_a_delta_build_equal_to_a_cold_build(example, what, old, new):
    before = output(example)
    replace_once(example, ARTICLE, old, new)
    result = build(example)
    assert isinstance(result, DeltaBuilt), result
    assert_cold(example)
    after = output(example)
    changed = {name for name in after if before[name] != after[name]}
    assert PAGE in changed
    assert set(result.report.written) == changed  # only files whose bytes changed
    # Rendered: only pages that show the article (their contexts hold it), its own first.
    assert PAGE in result.rendered
    site = SiteBuilder(example, BuildOptions(write=False, cache=False, jobs=1)).build().site
    showing = {output_file(page.url) for page in site.pages
               if ARTICLE in reached_articles(page.context)}
    assert set(result.rendered) <= showing
    assert len(result.rendered) < len(site.pages) / 3


def test_the_next_build_stops_early_and_the_next_edit_is_a_delta_build_again(example):
    replace_once(example, ARTICLE, "Quetta appears only once", "Quetta appears just once")
    assert isinstance(build(example), DeltaBuilt)
    key = state.condition(example, None, None, False, False)
    assert state.unchanged(example, key) is not None  # the stamp describes the output
    assert build(example) is None  # stopped early: no delta build tried
    _append(example / OTHER)
    assert isinstance(build(example), DeltaBuilt)
    assert_cold(example)
    replace_once(example, ARTICLE, "Quetta appears just once", "Quetta appears only once")
    assert isinstance(build(example), DeltaBuilt)  # back as it was: the first bytes again
    assert_cold(example)


def _append(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more sentence.\n",
                    encoding="utf-8")


@pytest.mark.parametrize("edit", ["tag", "new file", "template", "entity"])
def test_any_other_edit_is_a_full_build_equal_to_a_cold_build(example, edit):
    if edit == "tag":  # the article's view changes: it is filed under one more term
        replace_once(example, ARTICLE, "tags: [Afghanistan,", "tags: [Revisited, Afghanistan,")
    elif edit == "new file":
        (example / "content" / "new-note.md").write_text(
            "---\ntitle: A new note\ndate: 2024-01-02\n---\nSome text.\n", encoding="utf-8")
    elif edit == "template":
        (example / "templates").mkdir()
        theirs = (REPO / "themes" / "default" / "templates" / "_tags.html").read_text(
            encoding="utf-8")
        (example / "templates" / "_tags.html").write_text("<!-- ours -->" + theirs,
                                                          encoding="utf-8")
    else:
        entity = sorted((example / "content" / "entities").glob("*.md"))[0]
        _append(entity)
    result = build(example)
    assert isinstance(result, str), result
    assert_cold(example)
    _append(example / ARTICLE)  # and the stored build is the new one: a delta build again
    assert isinstance(build(example), DeltaBuilt)
    assert_cold(example)


def test_an_edit_under_an_unchanged_stat_is_left_to_the_full_build(example, monkeypatch):
    monkeypatch.setattr(state, "RACY_SECONDS", 3600.0)  # every file just changed: racy
    monkeypatch.setattr(state, "RACY_FILES", 10**6)
    _append(example / OTHER)
    assert build(example) is not None  # a full build, since the stamp had no racy file
    # Within one tick of the file system's clock an edit need not change a file's stat:
    # the snapshot is made to miss the edit of OTHER, which only its bytes tell.
    changed_files = state.changed_files
    monkeypatch.setattr(state, "changed_files", lambda before, after: [
        path for path in changed_files(before, after) if not path.endswith(OTHER)])
    _append(example / OTHER)
    _append(example / ARTICLE)
    result = build(example)
    assert isinstance(result, str) and "granularity" in result
    assert_cold(example)


def test_a_stored_value_of_a_foreign_class_is_never_loaded(example, tmp_path):
    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self):
            return (Path.touch, (marker,))

    with sqlite3.connect(database(example)) as db:
        db.execute("UPDATE meta SET value = ? WHERE name = 'settings'",
                   (pickle.dumps(Planted()),))
    _append(example / ARTICLE)
    result = build(example)
    assert isinstance(result, str) and "class" in result
    assert not marker.exists()
    assert_cold(example)


def test_a_damaged_stored_build_means_a_full_build(example):
    database(example).write_bytes(b"not a database")
    _append(example / ARTICLE)
    assert isinstance(build(example), str)
    assert_cold(example)
    _append(example / ARTICLE)
    assert isinstance(build(example), DeltaBuilt)  # stored again by the full build
    assert_cold(example)


def test_manifest_update_lines_are_read_and_one_cut_short_is_skipped(tmp_path):
    records = {"a.html": manifest.Record("d1", "s1", 1, 2, 3),
               "b\nc.html": manifest.Record("d2", "s2", 4, 5, 6)}
    (tmp_path / manifest.MANIFEST).write_bytes(manifest.dump(records))
    manifest.append(tmp_path, {"a.html": manifest.Record("d9", "s9", 7, 8, 9)})
    raw, _ = manifest.read(tmp_path)
    assert manifest.parse(raw) == ({**records, "a.html": manifest.Record("d9", "s9", 7, 8, 9)},
                                   manifest.VERSION)
    cut = raw + b'{"update": {"b\\nc.html": ["x", '
    assert manifest.parse(cut) == manifest.parse(raw)


def test_an_output_file_removed_since_is_made_again_by_the_full_build(example):
    (example / "public" / PAGE).unlink()
    _append(example / ARTICLE)
    assert main(["build", str(example), "-q"]) == 0  # the delta build gave way
    assert not any(isinstance(outcome, DeltaBuilt) for outcome in _OUTCOMES)
    assert_cold(example)


def test_a_delta_build_that_fails_to_record_its_files_is_repaired_next(example, monkeypatch):
    def fail(*_args, **_kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(manifest, "append", fail)
        _append(example / ARTICLE)
        assert main(["build", str(example), "-q"]) == 0  # written, then the full build
    assert_cold(example)
    _append(example / ARTICLE)
    assert isinstance(build(example), DeltaBuilt)
    assert_cold(example)


def test_the_fields_beyond_the_view_are_all_that_differs_between_records_of_equal_views():
    import dataclasses

    from builder.delta import BEYOND_VIEW, view

    site = SiteBuilder(REPO, BuildOptions(write=False, cache=False, jobs=1)).build().site
    record = next(a.record for a in site.articles if a.record.highlights and a.record.links)
    seen = view(record)
    # Two records of equal views differ at most in the fields the view does not keep as
    # they are: every one of them must be beyond the view (a page that read none of them
    # is never rendered by a delta build, and not even stored for one).
    replaced = {f.name for f in dataclasses.fields(record)
                if getattr(seen, f.name) is not getattr(record, f.name)}
    assert replaced <= BEYOND_VIEW


def test_an_inline_tag_a_tag_file_claims_links_to_its_page_after_a_delta_build(tmp_path,
                                                                                  monkeypatch):
    from conftest import is_delta, live_builder, output_files

    site = tmp_path / "site"
    (site / "content" / "tags").mkdir(parents=True)
    (site / "site.yml").write_text("title: T\nbase_url: https://example.org/\nsearch: false\n",
                                   encoding="utf-8")
    (site / "content" / "tags" / "big-apple.md").write_text(
        "---\ntitle: New York City\naliases: [nyc]\n---\nThe city.\n", encoding="utf-8")
    note = site / "content" / "note.md"
    note.write_text("---\ntitle: A note\ndate: 2024-05-01\n---\nAbout #nyc today.\n",
                    encoding="utf-8")
    live = live_builder(site)  # the preview server's delta builds
    assert build(site) == "no stored build"  # and postil build's
    note.write_text(note.read_text(encoding="utf-8") + "\nAnd more.\n", encoding="utf-8")
    result = live.build(saved=[str(note)])
    assert is_delta(result)
    assert output_files(result) == cold_files(site)
    assert isinstance(build(site), DeltaBuilt)
    assert output(site) == cold_files(site)
    page = output(site)["articles/note/index.html"]
    assert any(href.endswith("tags/big-apple/") for href in hrefs(parse_html(page)))
