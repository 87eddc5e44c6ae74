"""Search (builder/search.py): the Pagefind index is part of the build's files.

What it holds is read back from Pagefind's own files (gzip'd CBOR): the text of each
page's fragment, so a word can be found in or missing from the index without a browser
(tests/test_search_browser.py searches in chromium). Each site here is small; Pagefind
runs in well under a second on it.
"""

from __future__ import annotations

import gzip
import json
import threading
from pathlib import Path

import pytest

import builder.search as search
from builder.cli import main
from builder.pipeline import BuildOptions, build
from builder.writer import MANIFEST
from conftest import SITE_YML, article

ENTITY = "---\nname: Nasir Mengal\ntype: person\naliases: [Mengal]\n---\nA tribal elder.\n"


def files_of(result) -> dict[str, bytes]:
    return {name: result.files[name] for name in result.files}


def index_text(files: dict[str, bytes]) -> str:
    """Every indexed page's content, as Pagefind stored it (its fragments), joined."""
    texts = []
    for name, data in files.items():
        if name.startswith("pagefind/fragment/"):
            raw = gzip.decompress(data)[len(b"pagefind_dcd"):]
            texts.append(json.loads(raw)["content"] if raw.startswith(b"{")
                         else raw.decode("utf-8", "replace"))
    return "\n".join(texts)


def on_disk(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != MANIFEST}


@pytest.fixture
def runs(monkeypatch) -> list[Path]:
    """Every run of Pagefind (the folder it indexed), counted as it happens."""
    calls: list[Path] = []
    real = search.run_pagefind

    def counted(site: Path, output: Path, language: str) -> None:
        calls.append(site)
        real(site, output, language)

    monkeypatch.setattr(search, "run_pagefind", counted)
    return calls


@pytest.fixture
def small(site):
    site({
        "content/a.md": article("Alpha", "2024-01-01", "Zanzibarian caravans crossed.",
                                tags="[trade]"),
        "content/b.md": article("Beta", "2023-02-02", "Nasir Mengal spoke of roads.",
                                tags="[roads]"),
        "content/d.md": article("Draft", "2024-03-03", "Quixotically secret words.",
                                draft="true"),
        "content/entities/nasir-mengal.md": ENTITY,
    })
    return site


def test_the_index_is_built_with_the_site_and_in_its_manifest(small, tmp_path):
    out = tmp_path / "out"
    result = small.build(output=out)
    files = on_disk(out)
    names = [n for n in files if n.startswith("pagefind/")]
    assert "pagefind/pagefind.js" in names and "pagefind/pagefind-entry.json" in names
    assert not any("pagefind-ui" in n for n in names)  # the theme's own interface instead
    manifest = json.loads((out / MANIFEST).read_text())["files"]
    assert set(names) <= set(manifest)
    text = index_text(files)
    assert "Zanzibarian" in text and "tribal elder" in text  # articles and entity pages
    assert "Quixotically" not in text  # drafts never, in a production build
    assert "search/index.html" in files
    assert b'action="../../search/"' in files["articles/a/index.html"]
    assert result.timings["search"] >= 0


def test_drafts_are_not_indexed_even_when_shown(small):
    result = small.build(write=False, drafts=True)
    assert "articles/d/index.html" in result.files  # shown, as postil serve shows it
    assert "Quixotically" not in index_text(files_of(result))


def test_lists_the_timeline_and_notes_are_not_indexed(small):
    result = small.build(write=False)
    entry = json.loads(result.files["pagefind/pagefind-entry.json"])
    # two articles and one entity: no list, tag, timeline, notes or search page
    assert [lang["page_count"] for lang in entry["languages"].values()] == [3]


def test_search_false_builds_no_index_and_no_interface(site, tmp_path):
    site({"content/a.md": article("Alpha", body="Words.")}, config=SITE_YML + "search: false\n")
    site.build(output=tmp_path / "out")
    files = on_disk(tmp_path / "out")
    assert not any(n.startswith(("pagefind/", "search/")) for n in files)
    for name in ("index.html", "articles/a/index.html"):
        assert b'role="search"' not in files[name] and b"data-pagefind-body" not in files[name]
    assert "js/search.js" in files  # a theme file like any other; no page loads it


def test_the_same_pages_give_the_same_index_bytes(small, tmp_path):
    small.build(output=tmp_path / "one", cache=False)
    small.build(output=tmp_path / "two", cache=False)
    one, two = on_disk(tmp_path / "one"), on_disk(tmp_path / "two")
    assert one == two
    import cbor2

    filters = [cbor2.loads(gzip.decompress(d)[len(b"pagefind_dcd"):])
               for n, d in one.items() if n.startswith("pagefind/filter/")]
    assert {name for name, _ in filters} >= {"tag", "year"}
    for name, values in filters:  # in a fixed order, not a hash map's of the run
        assert [value for value, _ in values] == sorted(value for value, _ in values), name


def test_pagefind_runs_only_when_an_indexed_page_changed(small, runs, tmp_path):
    out = tmp_path / "out"
    small.build(output=out)
    assert len(runs) == 1
    small.write("static/notes.txt", "a new static file: a build, no indexed page changed")
    result = small.build(output=out)
    assert "notes.txt" in result.files and len(runs) == 1
    assert result.report.written == ["notes.txt"]  # the index files were kept as they were
    small.write("content/a.md", article("Alpha", "2024-01-01", "Kilimanjaro now.",
                                        tags="[trade]"))
    small.build(output=out)
    assert len(runs) == 2
    assert "Kilimanjaro" in index_text(on_disk(out))


def test_deleting_articles_leaves_no_stale_index_files(small, tmp_path):
    out = tmp_path / "out"
    small.build(output=out)
    before = {n for n in on_disk(out) if n.startswith("pagefind/")}
    (small.root / "content/a.md").unlink()
    (small.root / "content/b.md").unlink()
    small.build(output=out)
    after = {n for n in on_disk(out) if n.startswith("pagefind/")}
    small.build(output=tmp_path / "cold", cache=False)
    assert after == {n for n in on_disk(tmp_path / "cold") if n.startswith("pagefind/")}
    assert before - after  # the fragments of the deleted pages went
    assert "Zanzibarian" not in index_text(on_disk(out))


def test_a_failing_pagefind_fails_the_build_with_one_line(small, monkeypatch, tmp_path):
    def broken(site: Path, output: Path, language: str) -> None:
        raise search.SearchFailed("Pagefind failed: out of cheese")

    monkeypatch.setattr(search, "run_pagefind", broken)
    from builder.problems import BuildFailed

    with pytest.raises(BuildFailed) as failure:
        small.build(output=tmp_path / "out")
    assert [str(p) for p in failure.value.problems] == \
        ["site.yml:1: search: Pagefind failed: out of cheese"]


def test_pagefind_runs_while_the_other_files_are_made(small, monkeypatch, tmp_path):
    """Pagefind is a process of its own: it indexes while the build's one thread makes
    the feeds and the sitemap, not after them (no timing: the runner holds Pagefind
    until the sitemap has been made, which only a build that went on can do)."""
    import builder.pipeline as pipeline

    made = threading.Event()
    real_sitemap, real_run = pipeline.sitemap_files, search.run_pagefind
    seen = []

    def sitemap(*args, **kwargs):
        real_sitemap(*args, **kwargs)
        made.set()

    def held(site: Path, output: Path, language: str) -> None:
        seen.append(made.wait(timeout=120))
        real_run(site, output, language)

    monkeypatch.setattr(pipeline, "sitemap_files", sitemap)
    monkeypatch.setattr(search, "run_pagefind", held)
    result = small.build(output=tmp_path / "out")
    assert seen == [True]
    assert "Zanzibarian" in index_text(files_of(result))


def test_a_build_failing_while_pagefind_runs_leaves_nothing_running(small, monkeypatch,
                                                                    tmp_path):
    import builder.pipeline as pipeline

    ran = []

    def broken(*args, **kwargs):
        raise OSError("disk on fire")

    def slow(site: Path, output: Path, language: str) -> None:
        ran.append(site)
        search.run_pagefind.__wrapped__(site, output, language)

    slow.__wrapped__ = search.run_pagefind
    monkeypatch.setattr(pipeline, "sitemap_files", broken)
    monkeypatch.setattr(search, "run_pagefind", slow)
    with pytest.raises(OSError, match="disk on fire"):
        small.build(output=tmp_path / "out")
    assert ran and not ran[0].exists()  # waited for, and its folder removed
    assert not any(t.name == "postil-search" for t in threading.enumerate())


def test_publish_dir_and_git_carry_the_index(small, tmp_path, git_identity, capsys):
    import subprocess

    target = tmp_path / "www"
    assert main(["publish", str(small.root), "--dir", str(target)]) == 0
    assert (target / "pagefind/pagefind-entry.json").is_file()
    assert (target / "search/index.html").is_file()
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    assert main(["publish", str(small.root), "--git", str(remote)]) == 0
    listed = subprocess.run(["git", "--git-dir", str(remote), "ls-tree", "-r", "--name-only",
                             "gh-pages"], capture_output=True, text=True, check=True).stdout
    assert "pagefind/pagefind-entry.json" in listed.split()
    assert {n for n in listed.split() if n.startswith("pagefind/")} == \
        {n for n in on_disk(target) if n.startswith("pagefind/")}
    capsys.readouterr()


def test_chinese_is_segmented(site):
    site({"content/zh.md": article("北京之行", body="我们每个月都去北京看朋友。")},
         config=SITE_YML + "language: zh\n")
    result = site.build(write=False)
    entry = json.loads(result.files["pagefind/pagefind-entry.json"])
    assert list(entry["languages"]) == ["zh"]
    # (the browser test finds the article by the two-character word 北京)


def test_the_preview_indexes_in_the_background_never_before_the_reload(small, monkeypatch):
    """An edit is served, and the tab told, while Pagefind has not even finished; the
    index catches up afterwards (the search page says it may lag)."""
    from builder.serve.live import LiveSite

    live = LiveSite(small.root, drafts=False, out=lambda _: None, err=lambda _: None)
    assert live.build().ok  # the first build indexes at once
    assert "Zanzibarian" in index_text(dict(live.snapshot.files))
    release, started = threading.Event(), threading.Event()
    real = search.run_pagefind

    def held(site: Path, output: Path, language: str) -> None:
        started.set()
        assert release.wait(30)
        real(site, output, language)

    monkeypatch.setattr(search, "run_pagefind", held)
    path = small.write("content/a.md", article("Alpha", "2024-01-01", "Kilimanjaro now.",
                                               tags="[trade]"))
    record = live.build([str(path)])
    assert record.ok and "articles/a/index.html" in record.changed  # served: tab reloads
    assert started.wait(30)  # Pagefind is running, after the build returned
    assert "Kilimanjaro" not in index_text(dict(live.snapshot.files))  # lags, for now
    release.set()
    assert live.index.wait_idle(60)
    text = index_text(dict(live.snapshot.files))
    assert "Kilimanjaro" in text and "Zanzibarian" not in text
    live.close()


def test_build_api_exposes_search_stage(small):
    result = build(small.root, BuildOptions(write=False))
    assert "search" in result.timings
