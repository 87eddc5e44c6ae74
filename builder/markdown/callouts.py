"""Callouts (Obsidian) and alerts (GitHub): a block quote whose first line is
``[!type]``, with an optional ``+`` or ``-`` (foldable, open or closed) and title.

    > [!warning] Check the date
    > The archive copy is older than the article.

renders as a note set apart from the text::

    <div class="callout callout-warning" role="note">
    <p class="callout-title"><span class="callout-type">Warning: </span>Check the date</p>
    <p>The archive copy is older than the article.</p>
    </div>

and ``[!tip]-`` as ``<details class="callout callout-tip">`` with the title in its
``<summary>`` (``+``: ``<details open>``). ``role="note"`` says what the box is;
the type is said in words (hidden on screen when a title is given, where the
colour says it), since a colour alone says nothing to a screen reader. The
type is letters, digits and hyphens only, so nothing from the text can reach an
attribute but that class name; the title is Markdown, escaped as any text.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

_MARKER = re.compile(r"\[!([A-Za-z][A-Za-z0-9-]{0,40})\]([+-]?)(?:[ \t]+(.*))?")


def callouts_plugin(md: MarkdownIt) -> None:
    # Before inline parsing: the title is a line of the first paragraph made an inline
    # token of its own, parsed as any other.
    md.core.ruler.after("block", "postil_callouts", _callouts)
    md.add_render_rule("callout_open", _render_open)
    md.add_render_rule("callout_close", _render_close)
    md.add_render_rule("callout_title_open", _render_title_open)
    md.add_render_rule("callout_title_close", _render_title_close)


def _callouts(state: StateCore) -> None:
    tokens = state.tokens
    if not any(t.type == "blockquote_open" for t in tokens):
        return
    out: list[Token] = []
    closers: list[tuple[int, Token | None]] = []  # per open quote: (level, its callout)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "blockquote_close":
            _, opened = closers.pop()
            if opened is not None:
                token.type, token.tag, token.meta = "callout_close", "div", opened.meta
            out.append(token)
            index += 1
            continue
        if token.type != "blockquote_open":
            out.append(token)
            index += 1
            continue
        found = None
        if index + 2 < len(tokens) and tokens[index + 1].type == "paragraph_open":
            inline = tokens[index + 2]
            first, _, rest = inline.content.partition("\n")
            found = _MARKER.fullmatch(first.rstrip())
        closers.append((token.level, token if found is not None else None))
        out.append(token)
        index += 1
        if found is None:
            continue
        kind, fold, title = found[1], found[2], (found[3] or "").strip()
        token.type, token.tag = "callout_open", "div"
        token.meta = {"kind": kind.lower(), "fold": fold,
                      "label": kind[:1].upper() + kind[1:].lower(), "titled": bool(title)}
        opening = Token("callout_title_open", "p", 1)
        opening.meta, opening.level, opening.block = token.meta, token.level + 1, True
        heading = Token("inline", "", 0)
        heading.content, heading.map, heading.children = title, inline.map, []
        heading.level = token.level + 2
        closing = Token("callout_title_close", "p", -1)
        closing.meta, closing.level, closing.block = token.meta, token.level + 1, True
        out += [opening, heading, closing]
        if rest.strip():  # the rest of the first paragraph is the callout's text
            inline.content = rest
            if inline.map:
                inline.map = [inline.map[0] + 1, inline.map[1]]
                tokens[index].map = inline.map
            continue
        index += 3  # the first paragraph was only the marker: left out
    state.tokens = out


def _render_open(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    meta = tokens[idx].meta
    if meta["fold"]:
        opened = " open" if meta["fold"] == "+" else ""
        return f'<details class="callout callout-{meta["kind"]}"{opened}>\n'
    return f'<div class="callout callout-{meta["kind"]}" role="note">\n'


def _render_close(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    return "</details>\n" if tokens[idx].meta["fold"] else "</div>\n"


def _render_title_open(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    meta = tokens[idx].meta
    tag = "summary" if meta["fold"] else "p"
    label = escapeHtml(meta["label"])
    if not meta["titled"]:
        return f'<{tag} class="callout-title"><span class="callout-type">{label}</span>'
    return (f'<{tag} class="callout-title"><span class="callout-type visually-hidden">'
            f'{label}: </span>')


def _render_title_close(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    return "</summary>\n" if tokens[idx].meta["fold"] else "</p>\n"
