"""The text annotation clients count: ``document.body.textContent`` of a page.

Hypothesis and the ``dom-anchor-text-position`` / ``dom-anchor-text-quote``
libraries count a ``TextPositionSelector`` over the text content of the
page's ``<body>``: every text node in tree order (script and style text too,
text hidden by CSS too, nothing joined with extra newlines; not comments, not
the content of a ``<template>``), with offsets in UTF-16 code units, as
JavaScript strings count. Only a parse that builds the tree a browser builds
gives that text (entities decoded, the newline after ``<pre>`` dropped, text
moved out of tables, ``<noscript>`` read as raw text as a browser that runs
scripts reads it, the implicit ``<tbody>``…), so the page is parsed with
lexbor (through ``selectolax``), a WHATWG-conformant HTML parser, with
scripting on.

Hand-written: the walk below, which records where each wanted element's text
starts and ends in one pass over the tree (linear in the page's size).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode


@dataclass(frozen=True)
class PageText:
    """A page's body text and where elements with wanted ids sit in it.

    ``text`` is the body's text content (a Python ``str``: code points);
    ``spans`` maps an id to the (start, end) of its element's text in ``text``
    (code point offsets, end exclusive), for the first element in tree order
    with that id, as ``getElementById`` finds it; an id on no element is left
    out.
    """

    text: str
    spans: dict[str, tuple[int, int]]
    #: offsets in ``text`` of characters outside the Basic Multilingual Plane, which
    #: JavaScript counts as two code units each
    astral: list[int] = field(default_factory=list)

    def utf16(self, index: int) -> int:
        """The offset ``index`` of ``text`` (code points) in UTF-16 code units."""
        return index + bisect_left(self.astral, index)


def page_text(html: bytes | str, ids: Iterable[str]) -> PageText:
    """Parse a whole page (UTF-8 bytes, or text) as a browser does and return its body
    text with the spans of the elements carrying ``ids``. A page without a body (a
    frameset) has empty text."""
    wanted = set(ids)
    parser = LexborHTMLParser(html, scripting=True)
    body = parser.body
    pieces: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    if body is not None and body.tag == "body":
        _walk(body, wanted, pieces, spans)
    text = "".join(pieces)
    astral = [m.start() for m in _ASTRAL.finditer(text)] if not text.isascii() else []
    return PageText(text, spans, astral)


#: a character outside the Basic Multilingual Plane (found by the regex engine: a loop
#: over every character of every page in Python cost more than parsing the page)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _walk(body: LexborNode, wanted: set[str], pieces: list[str],
          spans: dict[str, tuple[int, int]]) -> None:
    """Append the text of ``body``'s descendants to ``pieces`` in tree order and fill
    ``spans``. Iterative (a page may nest deeper than Python's recursion limit)."""
    length = 0
    # the open elements from body down: (its id if wanted and not seen before, its start)
    open_: list[tuple[str | None, int]] = []
    node = body.child
    while node is not None:
        if node.is_text_node:
            piece = node.text_content or ""
            pieces.append(piece)
            length += len(piece)
        elif node.is_element_node:
            ident = node.id
            if ident in wanted and ident not in spans:
                spans[ident] = (length, -1)  # (the end is set on leaving it)
            else:
                ident = None
            child = node.child  # (a <template>'s content is not among its children)
            if child is not None:
                open_.append((ident, length))
                node = child
                continue
            if ident is not None:
                spans[ident] = (length, length)
        # Leave the node: to its next sibling, else up until an ancestor has one.
        sibling = node.next
        while sibling is None and open_:
            ident, start = open_.pop()
            if ident is not None:
                spans[ident] = (start, length)
            node = node.parent
            sibling = node.next
        node = sibling
