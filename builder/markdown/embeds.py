"""Obsidian file embeds: ``![[cat.png]]``, ``![[cat.png|A cat|300]]``, ``![[paper.pdf#page=3]]``.

Only a target whose suffix names a file Postil copies (:data:`builder.assets.KINDS`,
and SVG, which it copies only with ``html: trusted``) is taken here; any other
``![[…]]`` embeds a note (:mod:`builder.markdown.wikilinks`).

An image becomes ``<img alt>`` (the text after ``|``, else the file's name without
its suffix; a ``|300`` or ``|300x200`` part sets its width and height), audio and
video an ``<audio controls>`` or ``<video controls>`` holding a link to the file, and
anything else (PDF, CSV, JSON) a link named after the file. Its URL is a placeholder
numbered by :mod:`builder.markdown.internal_links` (which knows the line), resolved
at indexing against every published file, as Obsidian finds an attachment anywhere
in the vault (:class:`builder.assets.AssetTable`).
"""

from __future__ import annotations

import posixpath
import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token

from builder.assets import linked_kind
from builder.markdown.scan import find

_SIZE = re.compile(r"(\d{1,5})(?:x(\d{1,5}))?")


def embeds_plugin(md: MarkdownIt) -> None:
    """Register the rule before the wikilink rule, which takes the embeds of notes."""
    md.inline.ruler.before("wikilink", "file_embed", _embed)
    md.add_render_rule("file_media", _render_media)


def _embed(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if not src.startswith("![[", start) or state.linkLevel > 0 or \
            not isinstance(state.env.get("assets"), list):
        return False
    end = find(state, "]]", start + 3, state.posMax)  # not src.find: see scan.py
    if end < 0 or find(state, "[", start + 3, end) >= 0 or find(state, "\n", start + 3, end) >= 0:
        return False
    target, *labels = src[start + 3:end].split("|")
    path, hash_mark, fragment = target.partition("#")
    path = path.strip()
    kind = linked_kind(path)
    if kind is None:
        return False
    if not silent:
        name = posixpath.basename(path)
        meta = {"embed": path, "fragment": hash_mark + fragment.strip()}
        size = [label.strip() for label in labels if _SIZE.fullmatch(label.strip())]
        text = next((label.strip() for label in labels if label.strip() and
                     not _SIZE.fullmatch(label.strip())), "")
        if kind == "image":
            token = state.push("image", "img", 0)
            token.attrs = {"src": "", "alt": ""}
            alt = text or posixpath.splitext(name)[0]
            token.children = [Token("text", "", 0, content=alt)]
            token.content = alt
            if size:
                width, height = _SIZE.fullmatch(size[0]).groups()  # type: ignore[union-attr]
                token.attrSet("width", width)
                if height:
                    token.attrSet("height", height)
            token.meta = meta
        elif kind in ("audio", "video"):
            token = state.push("file_media", kind, 0)
            token.content = text or name
            token.meta = meta
        else:
            token = state.push("link_open", "a", 1)
            token.meta = meta
            state.push("text", "", 0).content = text or name
            state.push("link_close", "a", -1)
    state.pos = end + 2
    return True


def _render_media(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    token = tokens[idx]
    url = escapeHtml(token.attrGet("src") or "")
    return (f'<{token.tag} controls src="{url}"><a href="{url}">{escapeHtml(token.content)}'
            f"</a></{token.tag}>")
