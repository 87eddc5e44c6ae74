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

Hand-written: finding where each wanted element's text starts and ends. Marks put
around those elements and found in lexbor's text content (in C); or, where marks
cannot be trusted, one pass over the tree in Python (linear in the page's size).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

#: a character outside the Basic Multilingual Plane (two UTF-16 code units)
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
#: marks put around wanted elements (see _marked): private-use characters
_OPEN, _SHUT = "\ue000", "\ue001"
_MARKS = re.compile("[\ue000\ue001]")


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
    text, spans = "", {}
    if body is not None and body.tag == "body":
        found = _marked(body, wanted)
        text, spans = found if found is not None else _walked(body, wanted)
    # (A regular expression, not a loop over the characters: it runs in C, and a page's
    # text is tens of thousands of characters, almost never astral.)
    astral = [m.start() for m in _ASTRAL.finditer(text)] if not text.isascii() else []
    return PageText(text, spans, astral)


def _marked(body: LexborNode, wanted: set[str]
            ) -> tuple[str, dict[str, tuple[int, int]]] | None:
    """The body's text and the spans of ``wanted`` ids, all found by lexbor in C: a mark
    (a private-use character) is put as a text node before and after each wanted element,
    and the marks are found in the body's text content. None when that cannot be trusted
    (the text holds a mark already; a wanted element whose marks are not in the text):
    :func:`_walked` then gives the same in Python, about ten times slower."""
    text = body.text(deep=True, separator="", strip=False)  # textContent, as _walked
    if not wanted:
        return text, {}
    if _OPEN in text or _SHUT in text:
        return None
    first: dict[str, LexborNode] = {}  # the first element with each id, in tree order
    for node in body.css("[id]"):
        ident = node.id
        if ident in wanted and ident not in first:
            first[ident] = node
    if not first:
        return text, {}
    for node in first.values():  # in tree order, so that marks of neighbours nest
        node.insert_before(_OPEN)
        node.insert_after(_SHUT)
    marked = body.text(deep=True, separator="", strip=False)
    order = iter(first)
    spans: dict[str, tuple[int, int]] = {}
    open_: list[tuple[str, int]] = []
    for count, mark in enumerate(_MARKS.finditer(marked)):
        at = mark.start() - count  # where it falls in the text without marks
        if mark[0] == _OPEN:
            ident = next(order, None)
            if ident is None:
                return None
            open_.append((ident, at))
        elif open_:
            ident, start = open_.pop()
            spans[ident] = (start, at)
        else:
            return None
    if open_ or len(spans) != len(first) or _MARKS.sub("", marked) != text:
        return None
    return text, spans


def _walked(body: LexborNode, wanted: set[str]) -> tuple[str, dict[str, tuple[int, int]]]:
    pieces: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    _walk(body, wanted, pieces, spans)
    return "".join(pieces), spans


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
