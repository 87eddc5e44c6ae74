"""Each article's annotations as W3C Web Annotations (``annotations.json``).

Highlights, notes, corrections and entity mentions target the article page.
Their selectors are taken from the page as rendered, not from the Markdown:
a client (Hypothesis, ``dom-anchor-text-position``, ``dom-anchor-text-quote``)
counts a ``TextPositionSelector`` over ``document.body.textContent``, in
UTF-16 code units, and looks for a ``TextQuoteSelector`` in that same text
(see :mod:`builder.domtext`). So each annotation's ``exact`` is the text of
the element carrying its id (``hl-<n>`` on a ``<mark>``, ``<ins>``, ``<del>``
or a margin note on its own; ``m-<entity>-<n>`` on a mention), ``start`` and
``end`` are where that element's text sits in the body's text, and ``prefix``
and ``suffix`` are the 32 characters around it there, which tell it apart from
its copies elsewhere on the page (the "Highlights and notes" list, a tag link in
the header). The page is an input: ``annotations.json`` is made again whenever
the page's bytes may have changed (:func:`builder.site_files.annotation_files`).

Entity mentions are annotations with the motivation "identifying" whose body
is a ``SpecificResource`` with the entity page as its one ``source``.
"""

from __future__ import annotations

from typing import Any

import orjson

from builder.config import SiteConfig
from builder.domtext import PageText, page_text
from builder.model import Article
from builder.urls import absolute, annotations_path

CONTEXT_URL = "http://www.w3.org/ns/anno.jsonld"
MOTIVATIONS = {"highlight": "highlighting", "note": "commenting", "insertion": "editing",
               "deletion": "editing"}
#: UTF-16 code units of prefix and suffix: what Hypothesis keeps, and the most that
#: ``dom-anchor-text-quote`` can search for (diff-match-patch's bitap takes 32)
CONTEXT = 32


def _before(text: PageText, start: int) -> str:
    """The longest end of ``text.text[:start]`` of at most :data:`CONTEXT` UTF-16 units
    that does not split a character."""
    cut = max(0, start - CONTEXT)
    while text.utf16(start) - text.utf16(cut) > CONTEXT:
        cut += 1
    return text.text[cut:start]


def _after(text: PageText, end: int) -> str:
    """The longest start of ``text.text[end:]`` of at most :data:`CONTEXT` UTF-16 units."""
    cut = min(len(text.text), end + CONTEXT)
    while text.utf16(cut) - text.utf16(end) > CONTEXT:
        cut -= 1
    return text.text[end:cut]


def _target(page: str, text: PageText | None, ident: str) -> dict[str, Any] | str:
    """The target of the annotation on the element ``ident``: the page with a quote and
    a position, or the bare page when the page has no such element (a theme that leaves
    out the body, say)."""
    span = text.spans.get(ident) if text is not None else None
    if span is None:
        return page
    start, end = span
    return {"source": page, "selector": [
        {"type": "TextQuoteSelector", "exact": text.text[start:end],
         "prefix": _before(text, start), "suffix": _after(text, end)},
        {"type": "TextPositionSelector", "start": text.utf16(start), "end": text.utf16(end)},
    ]}


def targets(page: str, page_html: bytes | None, ids: list[str]) -> dict[str, Any]:
    """Each id's annotation target on the page at URL ``page`` whose bytes (UTF-8 HTML) are
    ``page_html``: ``{"source": page, "selector": [quote, position]}``, or ``page`` alone
    for an id on no element (and for every id when ``page_html`` is None). Linear in the
    page's size plus the number of ids."""
    text = page_text(page_html, ids) if page_html is not None and ids else None
    return {ident: _target(page, text, ident) for ident in ids}


def annotation_page(config: SiteConfig, article: Article, page_html: bytes | None
                    ) -> dict[str, Any]:
    """The ``AnnotationPage`` of ``article``, whose page (as written: UTF-8 bytes) is
    ``page_html``; with None (no page of that name) the targets have no selectors."""
    page = absolute(config.base_url, article.url)
    found = targets(page, page_html,
                    [h.id for h in article.highlights] + [m.id for m in article.mentions])
    items: list[dict[str, Any]] = []
    for highlight in article.highlights:
        item: dict[str, Any] = {
            "id": f"{page}#{highlight.id}", "type": "Annotation",
            "motivation": "commenting" if highlight.note else MOTIVATIONS[highlight.kind],
            "target": found[highlight.id],
        }
        if highlight.note:
            item["body"] = {"type": "TextualBody", "value": highlight.note, "format": "text/plain",
                            "purpose": "commenting"}
        elif highlight.kind in ("insertion", "deletion"):
            item["body"] = {"type": "TextualBody", "value": f"{highlight.kind}: {highlight.text}",
                            "purpose": "editing"}
        items.append(item)
    for mention in article.mentions:
        items.append({
            "id": f"{page}#{mention.id}", "type": "Annotation", "motivation": "identifying",
            "body": {"type": "SpecificResource", "purpose": "identifying",
                     "source": absolute(config.base_url, f"/entities/{mention.entity}/")},
            "target": found[mention.id],
        })
    return {"@context": CONTEXT_URL, "id": absolute(config.base_url, annotations_path(article.url)),
            "type": "AnnotationPage", "partOf": {"id": page, "type": "AnnotationCollection"},
            "items": items}


def annotation_file(config: SiteConfig, article: Article, page_html: bytes | None) -> bytes:
    """``annotations.json`` (UTF-8 bytes) of ``article``: see :func:`annotation_page`."""
    return json_indented_1(annotation_page(config, article, page_html))


def json_indented_1(value: Any) -> bytes:
    """``json.dumps(value, ensure_ascii=False, indent=1)`` as UTF-8: the same bytes, from
    orjson (the standard library's encoder runs in Python once indented). orjson indents
    by two spaces; JSON text holds a newline only before an indentation (a newline in a
    string is escaped), so halving the spaces after each newline, one level at a time
    from the outermost, gives one space a level."""
    data = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    depth = 1
    # After the levels above ``depth`` are done, a line ``depth`` or more levels deep
    # starts with depth - 1 spaces and two more: make those two one.
    while (deeper := b"\n" + b" " * (depth + 1)) in data:
        data = data.replace(deeper, b"\n" + b" " * depth)
        depth += 1
    return data
