"""Find a closing delimiter without rescanning the paragraph for every opener.

An inline rule that looks for its closer with ``src.find(closer, pos)`` reads
to the end of the paragraph each time the closer is missing: 100,000
unclosed ``{==`` cost 100,000 scans of the whole text. markdown-it's own
rules avoid this with per-paragraph caches (``state.cache``,
``state.backticks``); this is the same idea for Postil's rules: every
occurrence of a closer is listed once per paragraph, on first use, and each
look-up is a binary search.
"""

from __future__ import annotations

from bisect import bisect_left

from markdown_it.rules_inline.state_inline import StateInline

_ATTRIBUTE = "postil_occurrences"


def find(state: StateInline, needle: str, start: int, end: int) -> int:
    """``state.src.find(needle, start, end)``: the first index ≥ ``start`` where
    ``needle`` occurs wholly before ``end``, or -1.

    O(log n) per call, after one O(n) pass per needle and paragraph (the
    occurrences may overlap, as ``]]`` does in ``]]]``).
    """
    table: dict[str, list[int]] | None = getattr(state, _ATTRIBUTE, None)
    if table is None:
        table = {}
        setattr(state, _ATTRIBUTE, table)
    positions = table.get(needle)
    if positions is None:
        positions = table[needle] = _occurrences(state.src, needle)
    index = bisect_left(positions, start)
    if index == len(positions) or positions[index] + len(needle) > end:
        return -1
    return positions[index]


def _occurrences(text: str, needle: str) -> list[int]:
    found, position = [], text.find(needle)
    while position >= 0:
        found.append(position)
        position = text.find(needle, position + 1)
    return found


_APPEND_PENDING = hasattr(StateInline, "append_pending")


def append_text(state: StateInline, text: str) -> None:
    """Add ``text`` to the inline state's pending text, as markdown-it does with a
    character no rule takes: ``append_pending`` from markdown-it-py 4.1 is O(1), where
    ``pending +=`` copies the pending text (quadratic over 100,000 stray delimiters)."""
    if _APPEND_PENDING:
        state.append_pending(text)
    else:
        state.pending += text
