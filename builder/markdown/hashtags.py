"""Inline tags: ``#reading`` or ``#topic/sub-topic`` in the text is a tag of the article.

Obsidian's rule: a tag starts at the start of a line or after a space, holds
letters, digits, ``_``, ``-`` and ``/``, and at least one letter; never in code
or in a link's text (the code rule and the link rules read those first). So
``C#`` and ``#42`` are no tags. Nor is a colour such as ``#fff`` or ``#c0ffee``
(3, 4, 6 or 8 hex digits): write such a tag in the front matter. A heading needs
a space after its ``#``, so ``# Title`` is a heading and ``#Title`` a tag.

The tag's page is known only to the index (a tag's slug is made there), so the
link is a placeholder ``postil-tag:N``, N the tag's place in ``env["hashtags"]``.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline.state_inline import StateInline

#: href prefix of a tag's link, replaced when the site is indexed
TAG_PREFIX = "postil-tag:"
_TAG = re.compile(r"#([\w/-]{1,200})")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_COLOUR = re.compile(r"(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


def hashtags_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("link", "postil_hashtag", _hashtag)
    md.core.ruler.after("inline", "postil_hashtag_lines", _lines)
    md.add_render_rule("hashtag_open", _render_open)
    md.add_render_rule("hashtag_close", lambda *a: "</a>")


def tag_name(text: str) -> str | None:
    """The tag ``text`` (after the ``#``) names, or None when it is none (see the module)."""
    name = text.strip("/")
    if not name or not _HAS_LETTER.search(name) or _COLOUR.fullmatch(name):
        return None
    return name


def _hashtag(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "#" or state.linkLevel > 0 or not state.env.get("hashtags_allowed"):
        return False
    if start > 0 and src[start - 1] not in " \t\n":
        return False
    found = _TAG.match(src, start, state.posMax)
    if found is None:
        return False
    name = tag_name(found[1])
    if name is None:
        return False
    if not silent:
        names: list[str] = state.env.setdefault("hashtags", [])
        numbers: dict[str, int] = state.env.setdefault("hashtag_numbers", {})
        if name not in numbers:
            numbers[name] = len(names)
            names.append(name)
        opening = state.push("hashtag_open", "a", 1)
        opening.meta = {"number": numbers[name]}
        state.push("text", "", 0).content = found[0]
        state.push("hashtag_close", "a", -1)
    state.pos = found.end()
    return True


def _lines(state: StateCore) -> None:
    """``env["hashtag_lines"]``: the line of each tag's first use, by its number (a term
    file's tag that no article has is reported there)."""
    if not state.env.get("hashtags"):
        return
    lines: dict[int, int] = state.env.setdefault("hashtag_lines", {})
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        line = state.env.get("first_line", 1) + (block.map[0] if block.map else 0)
        for child in block.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "hashtag_open":
                lines.setdefault(child.meta["number"], line)


def _render_open(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    return f'<a class="tag" href="{escapeHtml(TAG_PREFIX)}{tokens[idx].meta["number"]}">'
