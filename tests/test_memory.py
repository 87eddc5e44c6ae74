"""What keeps a cold build's memory down: the cache's pending entries on disk, the render
stage shared between this process and its workers, the collector's frozen model.

The memory itself is measured by ``bench/memory.py`` and ``bench/rebuild.py``, never
here: these tests check that each of those keeps the build's results what they were.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

import pytest

from builder import parallel, site_files, spill
from builder.cache import ArticleCache
from builder.model import Page
from builder.parallel import render_pages
from builder.pipeline import BuildOptions, SiteBuilder
from builder.problems import Problem
from builder.render import Rendered
from builder.spill import Spill
from tests.conftest import article, cold_files, output_files


def test_spill_gives_back_what_was_set_last_and_keeps_it_out_of_memory():
    pending = Spill()
    pending["a"] = b"first"
    pending["b"] = b""
    pending["a"] = b"second" * 1000
    pending["c"] = bytes(range(256))
    assert len(pending) == 3 and "a" in pending and "z" not in pending
    assert dict(pending.items()) == {"a": b"second" * 1000, "b": b"", "c": bytes(range(256))}
    assert pending._memory == {}  # every value is in the file
    pending.clear()
    assert len(pending) == 0 and not pending and list(pending.items()) == []
    pending["d"] = b"again"
    assert dict(pending.items()) == {"d": b"again"}


def test_spill_keep_forgets_the_rest_and_compacts_the_file():
    pending = Spill()
    big = b"x" * (1 << 20)
    for n in range(4):
        pending[f"k{n}"] = big + bytes([n])
    pending.keep({"k1", "absent"})
    assert dict(pending.items()) == {"k1": big + bytes([1])}
    assert pending.get("k0") is None and pending.get("k1") == big + bytes([1])
    assert pending._end == len(big) + 1  # copied into a new file: the rest is gone
    pending["k5"] = b"five"
    pending.keep({"k1", "k5"})  # little to forget: no copy
    assert pending._end == len(big) + 1 + 4
    assert dict(pending.items()) == {"k1": big + bytes([1]), "k5": b"five"}


def test_spill_keeps_values_in_memory_once_the_file_cannot_be_written(monkeypatch):
    pending = Spill()
    pending["a"] = b"on disk"
    calls = []

    def full_disk(fd: int, data: bytes, offset: int) -> int:
        calls.append(offset)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spill.os, "pwrite", full_disk)
    pending["b"] = b"in memory"
    pending["a"] = b"replaced, in memory"
    pending["c"] = b"in memory too"
    assert calls == [len(b"on disk")]  # tried once, then never again
    assert dict(pending.items()) == {"a": b"replaced, in memory", "b": b"in memory",
                                     "c": b"in memory too"}
    assert pending.get("b") == b"in memory"
    pending.keep({"c"})
    assert dict(pending.items()) == {"c": b"in memory too"}


def test_cache_entries_reach_the_database_only_at_flush_and_read_only_keeps_none(tmp_path):
    folder = tmp_path / "cache"
    cache = ArticleCache(folder, "settings")
    cache.put("k1", (None, [Problem("a.md", 1, "one")]))
    cache.put("k1", (None, [Problem("a.md", 2, "two")]))  # the last put wins
    cache.put("k2", (None, []))
    assert not (folder / "articles.sqlite3").exists()
    cache.flush()
    assert not cache.pending
    again = ArticleCache(folder, "settings")
    assert again.get_many(["k1", "k2"]) == {"k1": (None, [Problem("a.md", 2, "two")]),
                                            "k2": (None, [])}
    checking = ArticleCache(folder, "settings", read_only=True)
    checking.put("k3", (None, []))
    assert not checking.pending


def test_cache_stores_nothing_when_the_spill_cannot_be_read_back(tmp_path, monkeypatch):
    cache = ArticleCache(tmp_path, "settings")
    cache.put("k1", (None, []))

    def unreadable(fd: int, length: int, offset: int) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(spill.os, "pread", unreadable)
    cache.flush()  # no exception: the entries are only missing, as after a crash
    monkeypatch.undo()
    assert ArticleCache(tmp_path, "settings").get_many(["k1"]) == {}


class _Numbered:
    """Stands in for a Renderer: a page's bytes name it and the process that made it. A
    worker's first slice waits until this process has rendered one, so that both do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker
        self.parent = os.getpid()

    def render_all(self, pages):
        if os.getpid() == self.parent:
            self.marker.touch()
        else:
            waited = 0
            while not self.marker.exists() and waited < 3000:
                time.sleep(0.01)
                waited += 1
        files = {page.url: f"{page.url} {os.getpid()}".encode() for page in pages}
        problems = [Problem("t.html", 1, f"same (rendering {page.url})") for page in pages]
        return Rendered(files, problems, {page.url for page in pages if page.url.endswith("7")},
                        {})


@pytest.mark.parametrize("count", [1, 150, 250, 1234])
def test_render_pages_shares_the_work_and_keeps_page_order(tmp_path, monkeypatch, count):
    monkeypatch.setattr(parallel, "RENDER_SLICE", 7)  # many slices, so the order is tested
    pages = [Page(f"p{n}", "t.html", {}) for n in range(count)]
    files, problems, reads_site, _ = render_pages(_Numbered(tmp_path / "m"), pages, jobs=2)
    assert list(files) == [f"p{n}" for n in range(count)]
    assert reads_site == {f"p{n}" for n in range(count) if str(n).endswith("7")}
    assert problems == [Problem("t.html", 1, "same (rendering p0)")]  # once, the first
    pids = {data.split()[1].decode() for data in files.values()}
    parallel_ = count >= parallel.PARALLEL_THRESHOLD
    assert str(os.getpid()) in pids and len(pids) == (2 if parallel_ else 1)
    serial = render_pages(_Numbered(tmp_path / "m"), pages, jobs=1).files
    assert [data.split()[0] for data in serial.values()] == \
        [data.split()[0] for data in files.values()]


def test_article_pages_and_the_rest_are_rendered_by_rounds_of_fresh_workers(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(parallel, "RENDER_SLICE", 7)
    monkeypatch.setattr(parallel, "ROUND_PAGES", 200)  # the articles in one round, the rest in two
    pages = [Page(f"a{n}", "t.html", {}, source=f"content/{n}.md") for n in range(250)] \
        + [Page(f"p{n}", "t.html", {}) for n in range(450)]
    files = render_pages(_Numbered(tmp_path / "m"), pages, jobs=2).files
    assert list(files) == [page.url for page in pages]
    made_by = {url: data.split()[1].decode() for url, data in files.items()}
    me = str(os.getpid())
    rounds = [{made_by[p.url] for p in pages[low:high]} for low, high in
              ((0, 250), (250, 475), (475, 700))]
    assert all(me in made and len(made) == 2 for made in rounds)
    workers = [(made - {me}).pop() for made in rounds]
    assert len(set(workers)) == 3  # a fresh worker for every round


@pytest.mark.parametrize(("articles", "others", "jobs", "expected"), [
    (250, 250, 2, [250, 250]),  # a round each
    (2500, 250, 2, [625, 625, 625, 625, 250]),  # at most ROUNDS, of ROUND_PAGES at least
    (250, 3100, 2, [250, 775, 775, 775, 775]),
    (250, 1500, 2, [250, 750, 750]),
    (50, 400, 2, [450]),  # too few articles for a pool of their own: one round
    (400, 150, 2, [550]),
    (150, 0, 2, []),  # too few for a pool at all
    (2500, 2500, 1, []),  # no workers
])
def test_the_rounds_cover_every_page_once_in_order(articles, others, jobs, expected,
                                                   monkeypatch):
    monkeypatch.setattr(parallel, "ROUND_PAGES", 600)
    pages = [Page(f"a{n}", "t.html", {}, source="a.md") for n in range(articles)] \
        + [Page(f"p{n}", "t.html", {}) for n in range(others)]
    rounds = parallel._rounds(pages, jobs)
    bounds = [bound for _, slices in rounds for bound in slices]
    assert [i for start, end in bounds for i in range(start, end)] == list(range(len(pages)))
    assert all(end - start <= parallel.RENDER_SLICE for start, end in bounds)
    pooled = [slices[-1][1] - slices[0][0] for in_pool, slices in rounds if in_pool]
    assert pooled == expected
    assert all(not in_pool for in_pool, _ in rounds) is (expected == [])


@pytest.mark.parametrize("enabled", [True, False])
def test_a_build_leaves_the_collector_as_it_found_it(site, enabled):
    site({"content/a.md": article("A", "2024-01-01", tags="[x]")})
    (gc.enable if enabled else gc.disable)()
    try:
        assert site.build(jobs=1).files
        assert gc.isenabled() is enabled and gc.get_freeze_count() == 0
    finally:
        gc.enable()


class _Broken:
    def render_all(self, pages):
        if any(page.url == "p150" for page in pages):
            raise ValueError("broken")
        return Rendered({page.url: b"" for page in pages}, [], set(), {})


def test_an_error_in_either_process_fails_the_render():
    pages = [Page(f"p{n}", "t.html", {}) for n in range(400)]
    for jobs in (1, 2):
        with pytest.raises(ValueError, match="broken"):
            render_pages(_Broken(), pages, jobs=jobs)


@pytest.mark.parametrize("count", [0, 150, 250, 777])
def test_make_files_shares_the_work_and_keeps_the_order(monkeypatch, count):
    monkeypatch.setattr(parallel, "MAKE_SLICE", 7)  # many slices, so the order is tested
    makes = [(f"f{n}", lambda n=n: f"{n} {os.getpid()}".encode()) for n in range(count)]
    files: dict[str, bytes] = {}
    parallel.make_files(makes, files, jobs=2)
    assert [(name, data.split()[0]) for name, data in files.items()] == \
        [(f"f{n}", str(n).encode()) for n in range(count)]
    pids = {data.split()[1].decode() for data in files.values()}
    assert len(pids) == (2 if count >= parallel.PARALLEL_THRESHOLD else min(count, 1))
    serial: dict[str, bytes] = {}
    parallel.make_files(makes, serial, jobs=1)
    assert {data.split()[1].decode() for data in serial.values()} <= {str(os.getpid())}
    assert parallel._MAKES == []  # nothing of the build held after it


def test_an_error_in_a_make_propagates_from_either_process():
    def make(n: int) -> bytes:
        if n == 300:
            raise OSError("gone")
        return b""
    makes = [(f"f{n}", lambda n=n: make(n)) for n in range(400)]
    for jobs in (1, 2):
        with pytest.raises(OSError, match="gone"):
            parallel.make_files(makes, {}, jobs=jobs)


def test_annotation_files_made_by_two_processes_are_a_cold_single_process_builds(
        site, monkeypatch):
    """Enough articles for the annotation files to be made beside a forked worker
    (builder.parallel.make_files): the same bytes as one process makes."""
    count = parallel.PARALLEL_THRESHOLD + 10
    site({f"content/a{n}.md": article(f"A {n}", f"2024-01-{n % 28 + 1:02d}",
                                      body=f"Text ==marked {n}=={{>>a note<<}} é \U0001F600.")
          for n in range(count)})
    made: list[tuple[int, int | None]] = []

    def counting(makes, into, jobs=None):
        made.append((len(makes), jobs))
        parallel.make_files(makes, into, jobs)

    monkeypatch.setattr(site_files, "make_files", counting)
    parallel_files = output_files(SiteBuilder(site.root, BuildOptions(
        write=False, cache=False, jobs=2)).build())
    assert made == [(count, 2)]  # every annotation file, shared with a worker
    assert sum(name.endswith("annotations.json") for name in parallel_files) == count
    assert parallel_files == cold_files(site.root)
