"""Obsidian block ids: a paragraph or list item ending in `` ^quote-1`` gets the id
``^quote-1`` (the marker is not shown), so ``[[Page#^quote-1]]`` can link to it.

The id keeps its ``^``: a heading's id is a slug, which never holds one, so the two
cannot collide. Obsidian allows letters, digits and hyphens; anything else after
`` ^`` at the end of a paragraph is an error with its line, and so is an id used
twice in one body. The ids found are ``env["blocks"]``, in order.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

#: `` ^id`` at the very end of a paragraph (an id holds no space and no ``^``)
_MARKER = re.compile(r"(?:^|[ \t])\^([^\s^]+)$")
_VALID = re.compile(r"[A-Za-z0-9-]+")


def block_ids_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("postil_block_ids", _block_ids)


def _block_ids(state: StateCore) -> None:
    env = state.env
    tokens = state.tokens
    first_line = env.get("first_line", 1)
    seen: dict[str, int] = {}
    for index, block in enumerate(tokens):
        if block.type != "inline" or not block.children or index == 0 or \
                tokens[index - 1].type != "paragraph_open":
            continue
        last = block.children[-1]
        if last.type != "text" or "^" not in last.content:
            continue
        found = _MARKER.search(last.content)
        # At the start of a text: the id is on a line of its own, under the paragraph.
        alone = found is not None and last.content[found.start()] == "^"
        if found is None or alone and (len(block.children) < 2 or
                                       block.children[-2].type != "softbreak"):
            continue
        line = first_line + (block.map[1] - 1 if block.map else 0)
        ident = found[1]
        problems = env.setdefault("problems", [])
        if not _VALID.fullmatch(ident):
            problems.append((line, f'block id "^{ident[:40]}" may hold only letters, digits '
                                   "and hyphens"))
            continue
        if ident in seen:
            problems.append((line, f'block id "^{ident}" is used twice (line {seen[ident]} '
                                   "has it too)"))
            continue
        seen[ident] = line
        last.content = last.content[:found.start()].rstrip()
        if alone:
            del block.children[-2:]
        # A list item's first paragraph: the id goes on the item (a tight list's <p> is
        # not written at all).
        owner = tokens[index - 1]
        if index >= 2 and tokens[index - 2].type == "list_item_open":
            owner = tokens[index - 2]
        owner.attrSet("id", f"^{ident}")
        env.setdefault("blocks", []).append(ident)
