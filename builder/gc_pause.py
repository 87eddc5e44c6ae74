"""Pause Python's cycle collector while many small objects without cycles are made.

Parsing a body makes a great many small objects (tokens, their attribute dicts
and children lists), and so does encoding or decoding a manifest (a tuple or list
per output file); none is in a reference cycle. Each full pass of the cycle
collector walks every live object, and passes come as allocations grow, so on a
large body it walks the same tokens again and again (on 1 MB of headings that was
a third of the time), and in a build's process it walks millions of objects.
Reference counting still frees everything at once; the collector runs as usual
afterwards.

Standard library only: the no-change build's modules (builder.manifest) use it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off inside the block, restored afterwards, also when it
    raises. Safe across threads: only the block that turned the collector off turns it
    on again (a block entered while it was off leaves it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def gc_paused(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` run inside :func:`collector_paused`."""

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return function(*args, **kwargs)

    return paused
