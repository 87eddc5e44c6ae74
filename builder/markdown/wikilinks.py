"""Wikilinks: ``[[Mir Shafiq Mengal]]``, ``[[mir-shafiq-mengal|Mengal]]``.

The target is looked up in the entity registry (``env["lexicon"]``) while
parsing; a target that is no entity may name an article, which only the
index knows, so it is left as a placeholder link resolved there (and an
error there if it names nothing).
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline.state_inline import StateInline

from builder.markdown.scan import find

#: href prefix of a wikilink to an article (``postil-wiki:N``), replaced when the site is indexed
WIKI_PREFIX = "postil-wiki:"


def wikilinks_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("link", "wikilink", _wikilink)


def _wikilink(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if not src.startswith("[[", start) or state.linkLevel > 0:
        return False
    end = find(state, "]]", start + 2, state.posMax)  # not src.find: see scan.py
    # Looked up, not sliced and searched: in `[[ a [[ a … ]]` every opener
    # would read on to the same far closer.
    if end < 0 or find(state, "[", start + 2, end) >= 0 or find(state, "\n", start + 2, end) >= 0:
        return False
    inner = src[start + 2:end]
    if not inner.strip():
        return False
    target, _, label = inner.partition("|")
    target, label = target.strip(), (label.strip() or target.strip())
    if not target:
        return False
    if not silent:
        lexicon = state.env.get("lexicon")
        entity = lexicon.resolve(target)[0] if lexicon is not None else None
        opening = state.push("mention_open", "a", 1)
        opening.meta = {"entity": entity, "target": target, "explicit": True}
        if entity is None:  # numbered by builder.markdown.annotations, in document order
            opening.attrSet("href", WIKI_PREFIX)
        state.push("text", "", 0).content = label
        state.push("mention_close", "a", -1)
    state.pos = end + 2
    return True
