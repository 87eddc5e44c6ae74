"""``==highlighted text==`` → ``<mark>``, a delimiter rule shaped like strikethrough."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline.state_inline import Delimiter, StateInline

_EQUALS = 0x3D


def mark_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("emphasis", "mark", _tokenize)
    md.inline.ruler2.before("emphasis", "mark", _post_process)


def _tokenize(state: StateInline, silent: bool) -> bool:
    if silent or state.src[state.pos] != "=":
        return False
    scanned = state.scanDelims(state.pos, True)
    length = scanned.length
    if length < 2:
        return False
    if length % 2:  # an odd run: the extra "=" is text
        state.push("text", "", 0).content = "="
        length -= 1
    for _ in range(0, length, 2):
        state.push("text", "", 0).content = "=="
        state.delimiters.append(Delimiter(marker=_EQUALS, length=0, token=len(state.tokens) - 1,
                                          end=-1, open=scanned.can_open,
                                          close=scanned.can_close))
    state.pos += scanned.length
    return True


def _pair(state: StateInline, delimiters: list[Delimiter]) -> None:
    for start in delimiters:
        if start.marker != _EQUALS or start.end == -1:
            continue
        end = delimiters[start.end]
        for index, kind, nesting in ((start.token, "mark_open", 1), (end.token, "mark_close", -1)):
            token = state.tokens[index]
            token.type, token.tag, token.nesting = kind, "mark", nesting
            token.markup, token.content = "==", ""
            token.meta = {"kind": "highlight"}


def _post_process(state: StateInline) -> None:
    _pair(state, state.delimiters)
    for meta in state.tokens_meta:
        if meta and "delimiters" in meta:
            _pair(state, meta["delimiters"])
