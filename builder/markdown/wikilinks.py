"""Wikilinks: ``[[Mir Shafiq Mengal]]``, ``[[mir-shafiq-mengal|Mengal]]``, and
Obsidian's forms ``[[Page#Heading]]``, ``[[#Heading]]``, ``[[Page#^block]]``,
``[[folder/Page]]`` (a path under ``content/``, ``.md`` optional).

The target is looked up in the entity registry (``env["lexicon"]``) while
parsing; a target that is no entity may name an article, which only the
index knows, so it is left as a placeholder link resolved there (and an
error there if it names nothing). The target is kept whole, fragment
included: the index finds the heading or block on the target page.

``![[Note]]`` in running text (an embed is a block of its own, see
:mod:`builder.markdown.note_embeds`) is shown as a plain wikilink, with a warning,
so no stray ``!`` is left; ``![[file.png]]`` (a name with a file extension)
is left to the rule for embedded files.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token

from builder.markdown.scan import find

#: href prefix of a wikilink to an article (``postil-wiki:N``), replaced when the site is indexed
WIKI_PREFIX = "postil-wiki:"
#: a file name with an extension other than Markdown's (``cat.png``, ``a.pdf``): a file
#: embed, not a note. The extension holds a letter, so ``v1.2`` is a note's name.
_FILE = re.compile(r"\.(?!(?:md|markdown)$)(?=[A-Za-z0-9]{0,4}[A-Za-z])[A-Za-z0-9]{1,5}$",
                   re.IGNORECASE)


def wikilinks_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("link", "wikilink", _wikilink)
    md.inline.ruler.before("image", "wikiembed_inline", _inline_embed)


def is_file_target(target: str) -> bool:
    """Whether an embed's target names a file (``cat.png``), not a note."""
    page = target.split("#", 1)[0].split("|", 1)[0].strip()
    return _FILE.search(page) is not None


def split_target(target: str) -> tuple[str, str]:
    """``"folder/Page.md#Heading"`` → ``("folder/Page.md", "Heading")``."""
    page, _, fragment = target.partition("#")
    return page.strip(), fragment.strip()


def default_label(target: str) -> str:
    """What Obsidian shows for a link without a label: the page as written, without
    ``.md``, then the heading after " › " (``[[#Heading]]`` shows only the heading)."""
    page, fragment = split_target(target)
    page = re.sub(r"\.md$", "", page, flags=re.IGNORECASE)
    if not fragment:
        return page or target
    return f"{page} › {fragment}" if page else fragment


def _wikilink(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if not src.startswith("[[", start) or state.linkLevel > 0:
        return False
    end = _closer(state, start + 2)
    if end < 0:
        return False
    if not silent:
        _push_link(state, src[start + 2:end])
    state.pos = end + 2
    return True


def _closer(state: StateInline, start: int) -> int:
    """Where the ``]]`` of a wikilink whose text starts at ``start`` is, or -1 when
    there is none on the line, a ``[`` comes first, or the text is empty."""
    end = find(state, "]]", start, state.posMax)  # not src.find: see scan.py
    # Looked up, not sliced and searched: in `[[ a [[ a … ]]` every opener
    # would read on to the same far closer.
    if end < 0 or find(state, "[", start, end) >= 0 or find(state, "\n", start, end) >= 0:
        return -1
    inner = state.src[start:end]
    target = inner.partition("|")[0].strip()
    if not target or target == "#":
        return -1
    return end


def _push_link(state: StateInline, inner: str) -> Token:
    """Push the tokens of a wikilink; returns its opening token."""
    target, _, label = inner.partition("|")
    target = target.strip()
    label = label.strip() or default_label(target)
    lexicon = state.env.get("lexicon")
    # An entity is named by its name or slug alone: a link to a heading is to an article.
    entity = None
    if lexicon is not None and "#" not in target:
        entity = lexicon.resolve(target)[0]
    opening = state.push("mention_open", "a", 1)
    opening.meta = {"entity": entity, "target": target, "explicit": True}
    if entity is None:  # numbered by builder.markdown.annotations, in document order
        opening.attrSet("href", WIKI_PREFIX)
    state.push("text", "", 0).content = label
    state.push("mention_close", "a", -1)
    return opening


def _inline_embed(state: StateInline, silent: bool) -> bool:
    """``![[Note]]`` inside a paragraph: a wikilink, and a warning (see the module)."""
    src, start = state.src, state.pos
    if not src.startswith("![[", start) or state.linkLevel > 0:
        return False
    end = _closer(state, start + 3)
    if end < 0 or is_file_target(src[start + 3:end]):
        return False
    if not silent:  # the warning is given with its line by builder.markdown.liquid
        _push_link(state, src[start + 3:end]).meta["inline_embed"] = src[start:end + 2]
    state.pos = end + 2
    return True
