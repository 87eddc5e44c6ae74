"""Automatic mention linking: registered names found in prose become mentions.

A core rule after inline parsing: it splits text tokens around each name the
lexicon finds, never inside code, links, headings or existing mentions.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

_SKIP_OPEN = {"link_open": "link_close", "mention_open": "mention_close",
              "hashtag_open": "hashtag_close"}


def autolink_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("postil_autolink", _autolink)


def _autolink(state: StateCore) -> None:
    lexicon = state.env.get("lexicon")
    if lexicon is None or not lexicon.phrases:
        return
    find = lexicon.find
    tokens = state.tokens
    for index, block in enumerate(tokens):
        if block.type != "inline" or not block.children:
            continue
        if index and tokens[index - 1].type == "heading_open":
            continue
        children: list[Token] | None = None  # a new list, once a name is found
        closing: list[str] = []
        for position, child in enumerate(block.children):
            kind = child.type
            if closing:
                if kind == closing[-1]:
                    closing.pop()
                elif kind in _SKIP_OPEN:
                    closing.append(_SKIP_OPEN[kind])
            elif kind in _SKIP_OPEN:
                closing.append(_SKIP_OPEN[kind])
            elif kind == "text" and child.content:
                found = find(child.content)
                if found:
                    if children is None:
                        children = block.children[:position]
                    children.extend(_split(child, found))
                    continue
            if children is not None:
                children.append(child)
        if children is not None:
            block.children = children


def _split(token: Token, found: list[tuple[int, int, str]]) -> list[Token]:
    if not found:
        return [token]
    text = token.content
    out: list[Token] = []
    last = 0
    for start, end, slug in found:
        if start > last:
            out.append(_text(token, text[last:start]))
        opening = Token("mention_open", "a", 1)
        opening.meta = {"entity": slug, "target": text[start:end], "explicit": False}
        out += [opening, _text(token, text[start:end]), Token("mention_close", "a", -1)]
        last = end
    if last < len(text):
        out.append(_text(token, text[last:]))
    return out


def _text(like: Token, content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    token.level = like.level
    return token
