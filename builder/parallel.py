"""Run pure stages over a forked process pool when the work is large enough.

Workers are forked, so they inherit the site model and templates instead of
unpickling them; only results travel back.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from builder.model import Page
from builder.problems import Problem
from builder.render import Rendered, Renderer, problem_key

#: below this many units of work a process pool costs more than it saves
PARALLEL_THRESHOLD = 200
RENDER_SLICE = 100


def pool_map(func: Callable, items: list, jobs: int | None, weight: int = 1) -> Iterator[Any]:
    """``map`` over a forked process pool when it pays, in order; plain map otherwise."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(items) * weight < PARALLEL_THRESHOLD or \
            "fork" not in multiprocessing.get_all_start_methods():
        yield from map(func, items)
        return
    context = multiprocessing.get_context("fork")
    chunk = max(1, len(items) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(func, items, chunksize=chunk)


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
    back, so that a spooling mapping (:class:`builder.outputs.Files`) never holds them all.
    """
    global _RENDERER, _PAGES
    slices = [(i, min(i + RENDER_SLICE, len(pages))) for i in range(0, len(pages), RENDER_SLICE)]
    files: MutableMapping[str, bytes] = {} if into is None else into
    problems: list[Problem] = []
    reads_site: set[str] = set()
    reads: dict[str, frozenset[str]] = {}
    shared: dict[frozenset[str], frozenset[str]] = {}  # one object per set, across slices
    reported: set[tuple] = set()
    _RENDERER, _PAGES = renderer, pages
    try:
        results: Iterable = pool_map(_render_slice, slices, jobs, weight=RENDER_SLICE)
        for done, (part, found, read, names) in enumerate(results, start=1):
            files.update(part)
            reads_site |= read
            reads.update((name, shared.setdefault(seen, seen)) for name, seen in names.items())
            for problem in found:
                if problem_key(problem) not in reported:
                    reported.add(problem_key(problem))
                    problems.append(problem)
            if progress:
                progress("rendering", min(done * RENDER_SLICE, len(pages)), len(pages))
    finally:
        _RENDERER, _PAGES = None, []
    return Rendered(files, problems, reads_site, reads)
