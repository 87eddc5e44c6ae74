"""CriticMarkup: ``{==passage==}``, ``{>>margin note<<}``, ``{++insertion++}``, ``{--deletion--}``.

Each is an inline rule; the inside is parsed as Markdown (so a wikilink can
sit in a highlight or a note). An unterminated mark stays plain text. A
highlight followed at once by a note is one annotation with a margin note.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline.state_inline import StateInline

from builder.markdown.scan import append_text, find

# opener → (closer, token name, HTML tag, kind)
_FORMS = {
    "==": ("==}", "mark", "mark", "highlight"),
    ">>": ("<<}", "sidenote", "span", "note"),
    "++": ("++}", "ins", "ins", "insertion"),
    "--": ("--}", "del", "del", "deletion"),
}


def critic_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("link", "critic", _critic)


def _critic(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "{" or start + 3 > state.posMax:
        return False
    form = _FORMS.get(src[start + 1:start + 3])
    if form is None:
        return False
    closer, name, tag, kind = form
    end = find(state, closer, start + 3, state.posMax)  # not src.find: see scan.py
    if end < 0 or end == start + 3:
        # The "{" is text. Taken here as markdown-it would take it once every rule failed
        # (no rule after this one starts at "{"): 100,000 stray "{==" then skip seven
        # rules each, a sixth of the time (bench/pathological.py).
        if not silent:
            append_text(state, "{")
        state.pos += 1
        return True
    if not silent:
        opening = state.push(f"{name}_open", tag, 1)
        opening.markup = src[start:start + 3]
        opening.meta = {"kind": kind}
        limit = state.posMax
        state.pos, state.posMax = start + 3, end
        state.md.inline.tokenize(state)
        state.posMax = limit
        state.push(f"{name}_close", tag, -1).markup = closer
    state.pos = end + len(closer)
    return True
