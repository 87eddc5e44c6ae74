"""Pause Python's cycle collector while a body is parsed and rendered.

Parsing a body makes a great many small objects (tokens, their attribute
dicts and children lists) and no reference cycles. Each full pass of the
cycle collector walks every live object, and passes come as allocations
grow, so on a large body it walks the same tokens again and again: on 1 MB
of headings that was a third of the time. Reference counting still frees
everything at once; the collector runs as usual afterwards.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def gc_paused(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with the cycle collector off, restoring it afterwards,
    also when it raises. Safe across threads: only the call that turned the
    collector off turns it on again (a call made while it was off leaves it)."""

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused
