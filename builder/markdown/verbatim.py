"""Verbatim quotations of the source: ``{"…"}`` inline, and highlights in blockquotes.

Two things count as the source's own words, checked against the article's
snapshot (:mod:`builder.snapshots`):

* a highlight ``{==…==}`` inside a blockquote (``> …``): quoted source text;
* ``{"words"}`` anywhere, a margin note included: an inline verbatim quote,
  shown as ``<q class="verbatim">``. The inside is Markdown, as in a highlight.

A highlight in the author's own prose is not a quotation. Runs after the
annotations rule (:mod:`builder.markdown.annotations`), which gives highlights
their ids; puts the :class:`~builder.model.Quotation` list in ``env["quotations"]``.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token

from builder.markdown.scan import append_text, find
from builder.model import Quotation

OPENER, CLOSER = '{"', '"}'
#: a character some inline rule starts at (markdown-it's terminators), or a line break
_SPECIAL = re.compile(r"[\n!#$%&*+\-:<=>@\[\\\]^_`{}~]")


def verbatim_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("link", "verbatim", _verbatim)
    md.core.ruler.push("postil_quotations", _collect)
    md.add_render_rule("verbatim_open", _render_open)
    md.add_render_rule("verbatim_close", lambda *a: "</q>")


def _verbatim(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if not src.startswith(OPENER, start):
        return False
    end = find(state, CLOSER, start + 2, state.posMax)  # one scan per paragraph (scan.py)
    if end < 0 or end == start + 2:
        if not silent:  # the "{" is text, as with an unclosed {== (critic.py)
            append_text(state, "{")
        state.pos += 1
        return True
    if not silent:
        state.push("verbatim_open", "q", 1).markup = OPENER
        # The inside is parsed on its own, not by narrowing posMax as critic.py does:
        # the text rule reads on to the next special character, and '"' is none.
        inside = src[start + 2:end]
        if _SPECIAL.search(inside) is None:  # plain words (most quotes): no parse needed
            state.push("text", "", 0).content = inside
        else:
            tokens: list[Token] = []
            state.md.inline.parse(inside, state.md, state.env, tokens)
            state.tokens.extend(tokens)
        state.push("verbatim_close", "q", -1).markup = CLOSER
    state.pos = end + len(CLOSER)
    return True


def _render_open(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    return f'<q class="verbatim" id="{tokens[idx].attrGet("id")}">'


def _collect(state: StateCore) -> None:
    """Every quotation, in document order (by where it starts)."""
    found: list[tuple[int, Quotation | None]] = []  # (slot, quotation): a slot is -1 until closed
    first_line = state.env.get("first_line", 1)
    quoted = 0  # blockquotes open
    inline = 0
    for block in state.tokens:
        if block.type == "blockquote_open":
            quoted += 1
        elif block.type == "blockquote_close":
            quoted -= 1
        elif block.type == "inline" and block.children:
            line = first_line + (block.map[0] if block.map else 0)
            inline = _walk(block.children, line, quoted > 0, found, inline)
    state.env["quotations"] = [quotation for slot, quotation in found if slot >= 0]


def _walk(children: list[Token], line: int, quoted: bool,
          found: list[tuple[int, Quotation | None]], inline: int) -> int:
    """Collect the quotations of one inline block; returns the count of inline quotes."""
    # Open quotations: (slot, kind, id, line, pieces, notes open when it opened); a text
    # piece goes to those opened in the same margin note (a note inside a highlight is
    # the author's, not the source's).
    open_: list[tuple[int, str, str, int, list[str], int]] = []
    depth: list[bool] = []  # for each open highlight: is it a quotation?
    notes = 0
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline", "softbreak", "hardbreak"):
            piece = child.content if kind in ("text", "code_inline") else " "
            line += kind not in ("text", "code_inline")
            for item in open_:
                if item[5] == notes:
                    item[4].append(piece)
        elif kind == "sidenote_open":
            notes += 1
        elif kind == "sidenote_close":
            notes -= 1
        elif kind == "verbatim_open":
            inline += 1
            child.attrSet("id", f"q-{inline}")
            open_.append((len(found), "inline", f"q-{inline}", line, [], notes))
            found.append((-1, None))  # a slot, filled when it closes
        elif kind == "mark_open":
            taken = quoted and bool(child.attrGet("id"))
            depth.append(taken)
            if taken:
                open_.append((len(found), "highlight", str(child.attrGet("id")), line, [],
                              notes))
                found.append((-1, None))
        elif kind == "mark_close" and depth:
            if depth.pop():
                _close(open_, "highlight", found)
        elif kind == "verbatim_close":
            _close(open_, "inline", found)
    return inline


def _close(open_: list[tuple[int, str, str, int, list[str], int]], kind: str,
           found: list[tuple[int, Quotation | None]]) -> None:
    for index in range(len(open_) - 1, -1, -1):
        slot, what, ident, line, pieces, _ = open_[index]
        if what == kind:
            del open_[index]
            text = " ".join("".join(pieces).split())
            found[slot] = (slot, Quotation(id=ident, kind=kind, text=text, line=line))
            return
