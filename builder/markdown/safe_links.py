"""Markdown links and images whose URL a browser would not open safely.

markdown-it's own ``validateLink`` silently refuses ``javascript:``,
``vbscript:``, ``file:`` and most ``data:`` URLs, so the link stays as its
source text and nobody hears of it. Postil lets every destination through
that test and judges it here instead (:func:`builder.safeurl.check_url`), so
each is reported with its line: a script URL is an error, an unknown scheme a
warning, and either is shown as text, never as a link.

Runs right after inline parsing, before Postil's own rules give links their
placeholders (``postil-ref:``, ``postil-wiki:``; a link written with one of
those is reported by :mod:`builder.markdown.internal_links`).
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from builder.markdown.internal_links import RESERVED
from builder.safeurl import check_url


def safe_links_plugin(md: MarkdownIt) -> None:
    md.validateLink = lambda url: True  # judged by _check_links, with a line number
    md.core.ruler.after("inline", "postil_safe_links", _check_links)


def _check_links(state: StateCore) -> None:
    env = state.env
    first_line = env.get("first_line", 1)
    for block in state.tokens:
        if block.type != "inline" or not block.children or \
                ("[" not in block.content and "<" not in block.content):  # no link in it
            continue
        line = first_line + (block.map[0] if block.map else 0)
        children = block.children
        for index, child in enumerate(children):
            kind = child.type
            if kind in ("softbreak", "hardbreak"):
                line += 1
            elif kind == "link_open" or kind == "image":
                image = kind == "image"
                url = child.attrGet("src" if image else "href")
                if not isinstance(url, str) or url.lower().startswith(RESERVED):
                    continue
                verdict = check_url(url, embed=image)
                if verdict.ok:
                    continue
                what = "image" if image else "link"
                env.setdefault("url_problems", []).append(
                    (line, verdict.message(what, url), verdict.level == "error"))
                if image:
                    _as_text(child, child.content)
                else:
                    _unlink(children, index)


def _as_text(token: Token, text: str) -> None:
    token.type, token.tag, token.nesting = "text", "", 0
    token.attrs, token.children, token.content = {}, None, text


def _unlink(children: list[Token], index: int) -> None:
    """The link at ``index`` becomes its text: its opening and closing tokens render nothing."""
    depth = 0
    for position in range(index, len(children)):
        kind = children[position].type
        if kind == "link_open":
            depth += 1
        elif kind == "link_close":
            depth -= 1
            if depth == 0:
                _as_text(children[position], "")
                break
    _as_text(children[index], "")
