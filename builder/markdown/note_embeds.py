"""Note embeds: a line holding only ``![[Note]]``, ``![[Note#Heading]]`` or
``![[Note#^block]]`` (Obsidian's transclusion).

The embedded text is another article's, known only once every file is read,
so parsing leaves a placeholder, ``<div class="postil-embed"><a
href="postil-embed:N">label</a></div>`` (N indexes the body's ``embeds``), which
:mod:`builder.embeds` replaces when the site is indexed. A name with a file
extension (``![[cat.png]]``) is no note: it is left to the rule for files.
An embed inside running text is a link (see :mod:`builder.markdown.wikilinks`).
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock

from builder.markdown.wikilinks import is_file_target

#: href prefix of an embed's placeholder, replaced when the site is indexed
EMBED_PREFIX = "postil-embed:"
_LINE = re.compile(r"!\[\[([^\[\]\n|]+)(?:\|([^\[\]\n]*))?\]\][ \t]*")


def note_embeds_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before("paragraph", "postil_embed", _embed,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.add_render_rule("postil_embed", _render)


def _embed(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start_line] + state.tShift[start_line]
    if state.src[begin:begin + 3] != "![[" or not state.env.get("embeds_allowed", False):
        return False
    found = _LINE.fullmatch(state.src, begin, state.eMarks[start_line])
    if found is None or not found[1].strip() or found[1].strip() == "#" or \
            is_file_target(found[1]):
        return False
    if silent:
        return True
    env = state.env
    embeds = env.setdefault("embeds", [])
    target = found[1].strip()
    token = state.push("postil_embed", "div", 0)
    token.map = [start_line, start_line + 1]
    # The label, if one is written; else the index shows the embedded article's title.
    token.meta = {"number": len(embeds), "label": (found[2] or "").strip()}
    embeds.append((env.get("first_line", 1) + start_line, target))
    state.line = start_line + 1
    return True


def _render(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    meta = tokens[idx].meta
    return (f'<div class="postil-embed"><a href="{EMBED_PREFIX}{meta["number"]}">'
            f'{escapeHtml(meta["label"])}</a></div>\n')
