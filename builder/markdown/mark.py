"""``==highlighted text==`` → ``<mark>``, a delimiter rule shaped like strikethrough."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline.state_inline import Delimiter, StateInline

from builder.markdown.scan import append_text

_EQUALS = 0x3D
_SCOPES = "postil_mark_scopes"  # attribute of the inline state
#: markdown-it's isWhiteSpace (Unicode Zs and tab, LF, VT, FF, CR) as a string: a
#: membership test costs less than the call, for each of 100,000 stray ``{==``
_WHITE_SPACE = "".join(map(chr, (*range(0x09, 0x0E), 0x20, 0xA0, 0x1680,
                                 *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)))


def mark_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("emphasis", "mark", _tokenize)
    md.inline.ruler2.before("emphasis", "mark", _post_process)


def _tokenize(state: StateInline, silent: bool) -> bool:
    if silent or state.src[state.pos] != "=":
        return False
    src, start, limit = state.src, state.pos, state.posMax
    end = start
    while end < limit and src[end] == "=":
        end += 1
    length = end - start
    if length < 2:
        return False
    # A run that cannot open, with no opener before it in this scope, can never
    # pair: leave it as text, like any other character. Kept as a delimiter,
    # 100,000 stray `{==` made 200,000 tokens and delimiters for nothing.
    # (Ids of the delimiter lists holding an opener; a list freed and its id
    # reused only means taking the general path.) A run followed by white
    # space never opens, which spares scanning its flanking.
    scopes: set[int] = state.__dict__.setdefault(_SCOPES, set())
    if id(state.delimiters) not in scopes:
        if end >= limit or src[end] in _WHITE_SPACE:
            can_open = False
        else:
            scanned = state.scanDelims(start, True)
            can_open = scanned.can_open
        if not can_open:
            run = src[start:end]  # the whole run: its flanking is decided
            append_text(state, run)
            state.pos = end
            return True
    scanned = state.scanDelims(start, True)
    if scanned.can_open:
        scopes.add(id(state.delimiters))
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
