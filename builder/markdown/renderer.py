"""Build the markdown-it parser once per process and render article bodies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from builder import sanitize
from builder.gc_pause import gc_paused
from builder.markdown.anchors import anchors_plugin
from builder.markdown.annotations import annotations_plugin
from builder.markdown.autolink import autolink_plugin
from builder.markdown.block_ids import block_ids_plugin
from builder.markdown.callouts import callouts_plugin
from builder.markdown.critic import critic_plugin
from builder.markdown.embeds import embeds_plugin
from builder.markdown.hashtags import hashtags_plugin
from builder.markdown.internal_links import internal_links_plugin
from builder.markdown.liquid import liquid_plugin
from builder.markdown.mark import mark_plugin
from builder.markdown.nesting import nesting_plugin
from builder.markdown.note_embeds import note_embeds_plugin
from builder.markdown.safe_links import safe_links_plugin
from builder.markdown.tasklists import tasklists_plugin
from builder.markdown.verbatim import verbatim_plugin
from builder.markdown.wikilinks import wikilinks_plugin
from builder.model import Highlight, Mention, Quotation
from builder.slugs import slugify


def _note_blocks(md: MarkdownIt) -> None:
    """``::: note`` … ``:::`` → ``<div class="note">`` for longer commentary."""
    container_plugin(md, "note")


#: Postil's own syntax plugins, applied in this order after the standard ones.
#: Core rules run in this order too: ids are given last, once mentions are found.
SYNTAX_PLUGINS = [internal_links_plugin, wikilinks_plugin, embeds_plugin, note_embeds_plugin,
                  hashtags_plugin, callouts_plugin, critic_plugin, mark_plugin, _note_blocks,
                  autolink_plugin, block_ids_plugin, liquid_plugin, annotations_plugin,
                  verbatim_plugin, nesting_plugin]


@dataclass
class Rendered:
    html: str
    words: int
    first_paragraph: str
    headings: list[dict[str, Any]] = field(default_factory=list)
    links: list[tuple[int, str]] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    highlights: list[Highlight] = field(default_factory=list)
    quotations: list[Quotation] = field(default_factory=list)  # builder.markdown.verbatim
    wikilinks: list[tuple[int, str]] = field(default_factory=list)
    embeds: list[tuple[int, str]] = field(default_factory=list)  # (line, target) of ![[…]]
    hashtags: list[str] = field(default_factory=list)  # inline #tags, first use order
    hashtag_lines: dict[int, int] = field(default_factory=dict)  # number → first line
    blocks: list[str] = field(default_factory=list)  # block ids (^id), without the ^
    assets: list[tuple[int, str, str]] = field(default_factory=list)  # builder.assets
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


_TEXT_TYPES = frozenset({"text", "code_inline", "softbreak", "hardbreak"})


#: what a summary leaves out: margin notes and deleted text (builder.markdown.critic)
_LEFT_OUT = {"sidenote_open": 1, "sidenote_close": -1, "del_open": 1, "del_close": -1}


def _shown_text(children: Any) -> str:
    """The plain text of a paragraph's inline tokens as it reads once corrections are
    made and margin notes left out: "the board{>>which board?<<} met" is "the board met",
    "{--Jigra--}{++jirga++}" is "jirga". Line breaks are spaces."""
    parts: list[str] = []
    hidden = 0
    for child in children:
        kind = child.type
        step = _LEFT_OUT.get(kind)
        if step is not None:
            hidden = max(0, hidden + step)
        elif not hidden and kind in _TEXT_TYPES:
            parts.append(child.content if kind in ("text", "code_inline") else " ")
    return "".join(parts)


def _heading_slug(text: str) -> str:
    return slugify(text) or "section"


@lru_cache(maxsize=4)
def parser(html: bool = True) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": html}).enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    _guard_footnote_refs(md)
    md.use(deflist_plugin)
    md.use(tasklists_plugin)  # the library's, in linear time: see tasklists.py
    # No symbol: the theme draws the "#" (a link whose text said "#" but whose name did
    # not failed WCAG's "label in name"; and the text of the page then holds no "#").
    md.use(anchors_plugin, min_level=2, max_level=4, slug_func=_heading_slug,
           permalink_symbol="")
    md.core.ruler.push("postil_anchor_labels", _label_anchors)
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("table_close", _table_close)
    for kind in ("fence", "code_block"):
        md.add_render_rule(kind, _focusable_pre(md.renderer.rules[kind]))
    # Untrusted content: every link's URL is judged, raw HTML read before rendering.
    md.use(safe_links_plugin)
    md.core.ruler.after("postil_safe_links", "postil_raw_html", sanitize.scan_raw_html)
    for plugin in SYNTAX_PLUGINS:
        md.use(plugin)
    return md


def _guard_footnote_refs(md: MarkdownIt) -> None:
    """Try the footnote reference rule only at a ``[``: the library's rule reads
    its environment before looking at the character, at every position where
    text stops (a third of the time of 1 MB of stray ``{==``, bench/pathological.py)."""
    for rule in md.inline.ruler.__rules__:
        if rule.name == "footnote_ref":
            def guarded(state, silent, _rule=rule.fn):  # noqa: ANN001, ANN202
                return state.src[state.pos] == "[" and _rule(state, silent)
            md.inline.ruler.at("footnote_ref", guarded)
            return


def _label_anchors(state) -> None:  # noqa: ANN001
    """Heading permalinks have no text (the theme draws a "#"): give them a name."""
    tokens = state.tokens
    for index, block in enumerate(tokens):
        # Only a heading's inline tokens hold permalinks (anchors_plugin puts them there).
        if block.type == "inline" and block.children and index and \
                tokens[index - 1].type == "heading_open":
            for child in block.children:
                if child.type == "link_open" and child.attrGet("class") == "header-anchor":
                    child.attrSet("aria-label", "Link to this section")


def _focusable_pre(rule: Callable[..., str]) -> Callable[..., str]:
    """A code block's rule, its ``<pre>`` made focusable: a long line scrolls it sideways,
    and a region that scrolls must be reachable from the keyboard (WCAG 2.1.1; axe's
    scrollable-region-focusable), as a wide table's wrapper is."""
    def render(self, tokens, idx, options, env) -> str:  # noqa: ANN001
        html = rule(tokens, idx, options, env)
        return '<pre tabindex="0">' + html[5:] if html.startswith("<pre>") else html
    return render


def _table_open(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    # Wide tables scroll sideways on a phone instead of widening the page.
    return '<div class="table-wrap" tabindex="0">\n' + self.renderToken(tokens, idx, options, env)


def _table_close(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    return self.renderToken(tokens, idx, options, env) + "</div>\n"


@gc_paused  # parsing a large body: see builder/gc_pause.py
def render(text: str, *, source_dir: str = "", base_path: str = "/", first_line: int = 1,
           html: bool | str = True, lexicon: Any = None, assets: bool = False,
           article: bool = True) -> Rendered:
    """Render a Markdown body. ``first_line`` is its first line in the file.

    ``html``: ``True`` lets raw HTML through the sanitizer (:mod:`builder.sanitize`),
    ``"trusted"`` passes it unchanged, ``False`` shows it as text.
    ``lexicon`` (a :class:`builder.lexicon.Lexicon`) resolves wikilinks and,
    when autolinking is on, finds entity names in prose. With ``assets``, relative
    links to files and file embeds become placeholders listed in ``Rendered.assets``
    (see :mod:`builder.markdown.internal_links`); else they stay as written.
    ``article``: embeds of notes and inline ``#tags`` are read (an entity's notes
    have neither: shown as a link, as text).
    """
    md = parser(html is not False)
    warnings: list[tuple[int, str]] = []
    if sanitize.has_forbidden(text):
        warnings += sanitize.forbidden_lines(text, first_line)
        text = sanitize.clean_text(text)
    env: dict[str, Any] = {"source_dir": source_dir, "base_path": base_path,
                           "first_line": first_line, "lexicon": lexicon,
                           "sanitize": html is True, "embeds_allowed": article,
                           "hashtags_allowed": article}
    if assets:
        env["assets"] = []
    tokens = md.parse(text, env)
    words = 0
    first_paragraph = ""
    headings: list[dict[str, Any]] = []
    for index, token in enumerate(tokens):
        if token.type != "inline":
            continue
        plain = "".join(c.content if c.type in ("text", "code_inline") else " "
                        for c in token.children or () if c.type in _TEXT_TYPES)
        words += len(plain.split())
        previous = tokens[index - 1]
        if previous.type == "heading_open" and previous.attrGet("id"):
            headings.append({"level": int(previous.tag[1]), "id": previous.attrGet("id"),
                             "text": plain.strip()})
        elif not first_paragraph and previous.type == "paragraph_open" and plain.strip():
            first_paragraph = " ".join(_shown_text(token.children or ()).split())
    body = md.renderer.render(tokens, md.options, env)
    warnings += env.get("warnings", [])  # e.g. nesting past the cap
    if env.get("raw_html"):
        body = sanitize.sanitize_body(body)
    problems = env.get("problems", [])
    for line, message, error in (*env.get("url_problems", ()), *env.get("raw_problems", ())):
        (problems if error else warnings).append((line, message))
    return Rendered(html=body, words=words, first_paragraph=first_paragraph,
                    headings=headings, links=env.get("links", []),
                    mentions=env.get("mentions", []), highlights=env.get("highlights", []),
                    wikilinks=env.get("wikilinks", []), assets=env.get("assets", []),
                    embeds=env.get("embeds", []), hashtags=env.get("hashtags", []),
                    hashtag_lines=env.get("hashtag_lines", {}),
                    blocks=env.get("blocks", []), quotations=env.get("quotations", []),
                    problems=problems,
                    warnings=sorted(warnings))
