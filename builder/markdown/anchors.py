"""Heading ids and permalinks, as ``mdit_py_plugins.anchors`` gives them, in linear time.

The plugin makes an id unique by trying ``h``, ``h-1``, ``h-2``… from 1 for
every heading, so 20,000 headings "H" cost 200 million tries (minutes). Here
each base id remembers the next number to try. The ids are the same: the set
of ids taken only grows, so every number tried before for a base is still
taken. The plugin offers no hook for this, hence the copy of its core rule.

A heading's id must not be one the page holds already: the theme's landmarks and
sections (:data:`THEME_IDS`, checked against the templates by a test) and the ids
other syntax makes (:data:`_MADE_BY_SYNTAX`: mentions ``m-…``, highlights ``hl-N``,
margin notes ``sn-N``, footnotes ``fnN`` and ``fnrefN``). A heading "Highlights"
gets ``highlights-1``; one whose slug has the shape of another syntax's id gets the
prefix ``h-`` (``## fn1`` → ``h-fn1``), since no number after it could leave that shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# Every literal id="..." of the default theme's templates (tests/test_terms.py checks).
THEME_IDS = frozenset({"main", "highlights", "related", "in-this-article", "co-mentioned",
                       "entity-timeline", "mentioned-in", "site-search-q"})
# Ids made by other syntax, and by the theme from data (y2024, type-person).
_MADE_BY_SYNTAX = re.compile(r"m-.*|hl-\d+|sn-\d+|fn\d+|fnref\d+|y\d+|type-.*")


def reserved(ident: str) -> bool:
    """Whether a heading may not take ``ident`` as its id (see the module's notes)."""
    return ident in THEME_IDS or _MADE_BY_SYNTAX.fullmatch(ident) is not None


def anchors_plugin(md: MarkdownIt, *, min_level: int, max_level: int,
                   slug_func: Callable[[str], str], permalink_symbol: str) -> None:
    """Give headings of ``min_level``..``max_level`` an ``id`` (``slug_func`` of their
    text, de-duplicated as ``id``, ``id-1``, ``id-2``…) and a permalink after the text:
    ``<a class="header-anchor" href="#id">`` + ``permalink_symbol``, after a space; with
    no symbol, an empty link right after the text (a theme draws it)."""
    levels = range(min_level, max_level + 1)

    def give_ids(state: StateCore) -> None:
        tokens = state.tokens
        # Ids written in the source (an attributes plugin) are kept and reserved first.
        taken: set[str] = {str(t.attrGet("id")) for t in tokens
                           if t.type == "heading_open" and t.attrGet("id")}
        following: dict[str, int] = {}  # base id → the next suffix to try
        for index, token in enumerate(tokens):
            if token.type != "heading_open" or int(token.tag[1]) not in levels:
                continue
            inline = tokens[index + 1]
            children = inline.children if inline.children is not None else []
            slug = token.attrGet("id")
            if not slug:
                if len(children) == 1 and children[0].type == "text":  # most headings
                    title = children[0].content
                else:
                    title = "".join([c.content for c in children
                                     if c.type in ("text", "code_inline")])
                slug = _unique(slug_func(title), taken, following)
                token.attrSet("id", slug)
            link = Token("link_open", "a", 1)
            link.attrSet("class", "header-anchor")
            link.attrSet("href", f"#{slug}")
            if permalink_symbol:
                children.extend([Token("text", "", 0, content=" "), link,
                                 Token("html_block", "", 0, content=permalink_symbol)])
            else:
                children.append(link)
            children.append(Token("link_close", "a", -1))
            inline.children = children

    md.core.ruler.push("anchor", give_ids)


def _unique(base: str, taken: set[str], following: dict[str, int]) -> str:
    if _MADE_BY_SYNTAX.fullmatch(base):
        base = f"h-{base}"
    number = following.get(base, 0)
    candidate = base if number == 0 else f"{base}-{number}"
    while candidate in taken or candidate in THEME_IDS:
        number += 1
        candidate = f"{base}-{number}"
    following[base] = number + 1
    taken.add(candidate)
    return candidate
