"""Run pure stages over a forked process pool when the work is large enough.

Workers are forked, so they inherit the site model and templates instead of
unpickling them; only results travel back. This process takes items too, beside
``jobs - 1`` workers: every forked worker ends up copying much of the heap it
inherits (see :func:`_shared_map`), so one worker fewer is one copy fewer.
Measured with ``bench/memory.py``: at 10,000 articles with 2,000 entities a cold
build's peak went from 831 to about 466 MiB (PSS summed over the processes). Rendering
forks a fresh worker for each of a few rounds of pages (:func:`_rounds`): about 480 to
410 MiB, with the records' repeated strings shared (builder.sources.share_strings).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping
from concurrent.futures import Future, ProcessPoolExecutor
from functools import cache
from typing import Any

from builder.model import Page
from builder.problems import Problem
from builder.render import Rendered, Renderer, problem_key

#: below this many units of work a process pool costs more than it saves
PARALLEL_THRESHOLD = 200
RENDER_SLICE = 100
ROUNDS = 4  # at most, of the article pages and of the other pages each (see _rounds)
ROUND_PAGES = 1000  # at least, in a round of its own


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``); a no-op
    where there is no such function.

    Reading a site leaves holes in the heap where each file's bytes, the workers'
    pickled results and the encoded cache entries were: at 10,000 articles about 60 MB,
    free but still resident, and inherited by every forked worker. Takes about 15 ms.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc; musl has none
    except (OSError, AttributeError):
        return None


def pool_map(func: Callable, items: list, jobs: int | None, weight: int = 1) -> Iterator[Any]:
    """``map`` in order, shared between this process and ``jobs - 1`` forked workers when
    it pays (see :func:`_shared_map`); plain map otherwise."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(items) * weight < PARALLEL_THRESHOLD or \
            "fork" not in multiprocessing.get_all_start_methods():
        yield from map(func, items)
        return
    # Small chunks: whichever process takes the last one, the other waits at most that long.
    size = max(1, len(items) // (workers * 32))
    chunks = [(func, items[i:i + size]) for i in range(0, len(items), size)]
    for part in _shared_map(_map_chunk, chunks, workers - 1):
        yield from part


def _map_chunk(job: tuple[Callable, list]) -> list:
    func, items = job
    return [func(item) for item in items]


# What forked workers of make_files inherit: set just before the pool starts.
_MAKES: list[Callable[[], bytes]] = []
MAKE_SLICE = 50  # files a worker makes per round trip


def _make_slice(bounds: tuple[int, int]) -> list[bytes]:
    start, end = bounds
    return [make() for make in _MAKES[start:end]]


def make_files(makes: list[tuple[str, Callable[[], bytes]]],
               into: MutableMapping[str, bytes], jobs: int | None = None) -> None:
    """Put each ``(name, make)``'s ``make()`` into ``into[name]``, in order, sharing the
    calls with forked workers when there are enough of them (see :func:`_shared_map`).

    Each ``make`` must be pure: it returns a file's bytes, and whatever else it changes
    in a worker is lost with the worker. Exceptions a ``make`` raises propagate.
    """
    global _MAKES
    if not makes:
        return
    slices = [(i, min(i + MAKE_SLICE, len(makes))) for i in range(0, len(makes), MAKE_SLICE)]
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    _MAKES = [make for _, make in makes]
    try:
        if workers <= 1 or len(makes) < PARALLEL_THRESHOLD or \
                "fork" not in multiprocessing.get_all_start_methods():
            parts: Iterator[list[bytes]] = map(_make_slice, slices)
        else:
            parts = _shared_map(_make_slice, slices, workers - 1)
        for (start, _), made in zip(slices, parts, strict=True):
            for (name, _), data in zip(makes[start:start + len(made)], made, strict=True):
                into[name] = data
    finally:
        _MAKES = []


# What forked render workers inherit: set just before the pool starts.
_RENDERER: Renderer | None = None
_PAGES: list[Page] = []


def _render_slice(bounds: tuple[int, int]) -> Rendered:
    assert _RENDERER is not None
    start, end = bounds
    return _RENDERER.render_all(_PAGES[start:end])


def render_pages(renderer: Renderer, pages: list[Page], jobs: int | None = None,
                 progress: Callable[[str, int, int], None] | None = None,
                 into: MutableMapping[str, bytes] | None = None) -> Rendered:
    """Render ``pages``: output file → bytes, every problem once (the same template
    error on many pages is one), the output files whose templates read ``site``, and
    what each page read of its articles (:mod:`builder.reads`).

    The files are put into ``into`` (a new dict if None) as each slice of pages comes
    back, in page order, so that a spooling mapping (:class:`builder.outputs.Files`)
    never holds them all. Shared with forked workers in rounds (see :func:`_rounds`).
    """
    global _RENDERER, _PAGES
    rounds = _rounds(pages, jobs)
    files: MutableMapping[str, bytes] = {} if into is None else into
    problems: list[Problem] = []
    reads_site: set[str] = set()
    reads: dict[str, frozenset[str]] = {}
    shared: dict[frozenset[str], frozenset[str]] = {}  # one object per set, across slices
    reported: set[tuple] = set()
    _RENDERER, _PAGES = renderer, pages
    try:
        bounds = [bound for _, slices in rounds for bound in slices]
        for (_, end), (part, found, read, names) in zip(bounds, _render_rounds(rounds, jobs),
                                                        strict=True):
            files.update(part)
            reads_site |= read
            reads.update((name, shared.setdefault(seen, seen)) for name, seen in names.items())
            for problem in found:
                if problem_key(problem) not in reported:
                    reported.add(problem_key(problem))
                    problems.append(problem)
            if progress:
                progress("rendering", end, len(pages))
    finally:
        _RENDERER, _PAGES = None, []
    return Rendered(files, problems, reads_site, reads)


def _rounds(pages: list[Page], jobs: int | None) -> list[tuple[bool, list[tuple[int, int]]]]:
    """The pages cut into rounds, each (shared with a fresh forked worker?, its slices as
    (start, end) indexes into ``pages``), in page order.

    A page of the heap that either process writes while a worker shares it is copied,
    and nearly every object of the site model is read, so written (its reference count),
    by one page or another: a worker that renders half of all pages ends up holding a
    copy of most of the model (see :func:`_shared_map`). A worker that lives for one
    round copies what that round reads, and its copies are freed before the next round's
    worker starts from this process's heap again: the peak holds one round's copies.
    Article pages (those with a ``source``) read each its own body and annotations, the
    rest cards, entity passages and paginators, so those are rounds of their own, each
    cut into up to :data:`ROUNDS` (of at least :data:`ROUND_PAGES` pages). At 10,000
    articles with 2,000 entities, measured with ``bench/memory.py``: one round 469 MiB,
    two 430, four 422, eight 406.
    """
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(pages) < PARALLEL_THRESHOLD or \
            "fork" not in multiprocessing.get_all_start_methods():
        return [(False, _slices(0, len(pages)))]
    cut = next((i for i, page in enumerate(pages) if not page.source), len(pages))
    groups = [(0, cut), (cut, len(pages))]
    if min(cut, len(pages) - cut) < PARALLEL_THRESHOLD:  # too few for a pool of their own
        groups = [(0, len(pages))]
    rounds = []
    for start, end in groups:
        count = max(1, min(ROUNDS, (end - start) // ROUND_PAGES))
        step = -(-(end - start) // count)
        rounds += [(True, _slices(low, min(low + step, end))) for low in range(start, end, step)]
    return rounds


def _slices(start: int, end: int) -> list[tuple[int, int]]:
    """``RENDER_SLICE`` pages each, the last ``2 * RENDER_SLICE`` in quarter slices: the
    process that is done first waits for the other's last slices (up to two), less so."""
    tail = max(start, end - 2 * RENDER_SLICE)
    small = max(1, RENDER_SLICE // 4)
    return [(i, min(i + RENDER_SLICE, tail)) for i in range(start, tail, RENDER_SLICE)] + \
        [(i, min(i + small, end)) for i in range(tail, end, small)]


def _render_rounds(rounds: list[tuple[bool, list[tuple[int, int]]]], jobs: int | None
                   ) -> Iterator[Rendered]:
    """:func:`_render_slice` over every round's slices, in order; a fresh pool per round."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    for pooled, slices in rounds:
        if pooled:
            yield from _shared_map(_render_slice, slices, workers - 1)
        else:
            yield from map(_render_slice, slices)


def _shared_map(func: Callable, items: list, workers: int) -> Iterator[Any]:
    """``map(func, items)``, in order, with ``workers`` forked processes (at least one)
    taking items beside this process.

    Each forked worker ends up with its own copy of much of what this process holds
    (reading an object writes its reference count, and the page holding it is copied),
    so with two cores one worker and this process, which would otherwise wait on the
    workers, hold two copies where two workers and a waiting parent held three.
    """
    release_free_memory()  # before the workers inherit the heap
    ahead = 2 * workers  # items queued in the pool, so a worker never waits for this process
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        queued: dict[int, Future] = {}  # item index → its result from a worker
        mine: dict[int, Any] = {}  # done here, ahead of the item being waited for
        given = 0  # items handed out so far, to the pool or to this process

        def top_up() -> None:
            nonlocal given
            while given < len(items) and len(queued) < ahead:
                queued[given] = pool.submit(func, items[given])
                given += 1

        for index in range(len(items)):
            top_up()  # every item before ``given`` is in ``queued`` or ``mine``
            if index in mine:
                yield mine.pop(index)
                continue
            future = queued.pop(index)
            while not future.done() and given < len(items):
                mine[given] = func(items[given])
                given += 1
                top_up()
            yield future.result()
