"""Give every mention and highlight a stable id and record them for the index.

Runs last among the core rules. Ids: ``m-<entity>-<n>`` for the n-th mention
of an entity, ``hl-<n>`` for highlights, insertions, deletions and notes,
``sn-<n>`` for the toggle of a margin note. Positions are measured in the
article's plain text (what a reader sees, margin notes left out), which is
what the W3C selectors in ``annotations.json`` refer to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from builder.markdown.wikilinks import WIKI_PREFIX
from builder.model import Highlight, Mention, Quote
from builder.urls import SITE_LINK

CONTEXT = 32  # characters of prefix/suffix, as Hypothesis keeps
PASSAGE = 280  # characters of passage shown around a mention on entity pages
_TEXT = ("text", "code_inline")
#: ``==highlights==`` nest (``==a ==b c== d==``); each one's text and quote hold
#: all it encloses, so n nested ones hold n²/2 characters (60 GB for a 1 MB
#: body). Deeper ones are shown as the text they were written as.
MAX_MARK_DEPTH = 8
TOO_DEEP = f"highlights nested more than {MAX_MARK_DEPTH} deep: the inner == are shown as text"
_BREAKS = ("softbreak", "hardbreak")


def annotations_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("postil_annotations", _collect)
    md.add_render_rule("mention_open", _render_mention_open)
    md.add_render_rule("mention_close", _render_mention_close)
    md.add_render_rule("mark_open", _render_mark_open)
    md.add_render_rule("sidenote_open", _render_sidenote_open)
    md.add_render_rule("sidenote_close", lambda *a: "</span>")


@dataclass
class _Open:
    """A mention or highlight being read: where it started."""

    token: Token
    start: int
    line: int
    in_note: bool
    piece: int = 0  # how many pieces of the plain text came before it
    shown: int = 0  # where it starts in its block's shown text (what passages show)
    flattened: bool = False  # a highlight nested too deep, shown as text
    note_owner: _Open | None = None
    record: object = None


@dataclass
class _Collector:
    env: dict
    plain: list[str] = field(default_factory=list)  # the article's plain text so far
    length: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)
    highlights: int = 0
    notes: int = 0
    # (mention, start, end, the shown text it sits in (filled as reading goes on), its
    # (start, end) in that text)
    mentions: list[tuple[Mention, int, int, list[str], tuple[int, int]]] = field(
        default_factory=list)
    marks: list[tuple[Highlight, int, int]] = field(default_factory=list)
    wikilinks: list[tuple[int, str]] = field(default_factory=list)  # to articles: (line, target)


def _collect(state: StateCore) -> None:
    env = state.env
    collector = _Collector(env)
    first_line = env.get("first_line", 1)
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        if collector.length:
            collector.plain.append("\n")
            collector.length += 1
        line = first_line + (block.map[0] if block.map else 0)
        _walk_block(collector, block.children, line)
    text = "".join(collector.plain)
    mentions: list[Mention] = []
    joined: dict[int, str] = {}  # id of a block's pieces → its text, joined once, not per mention
    for mention, start, end, pieces, (local_start, local_end) in collector.mentions:
        block_text = joined.get(id(pieces))
        if block_text is None:
            block_text = joined[id(pieces)] = "".join(pieces)
        if start >= 0:
            mention.quote = _quote(text, start, end)
        # (inside a margin note the note's own text is the passage)
        mention.offset = local_start
        # Only the window a passage can show is sliced: slicing the rest of the
        # block for each mention is quadratic in a paragraph full of names. The
        # passage is cut from these (builder.entity_index.passages).
        mention.before = block_text[max(0, local_start - PASSAGE - 1):local_start]
        mention.text = block_text[local_start:local_end]
        mention.after = block_text[local_end:local_end + PASSAGE + 1]
        mentions.append(mention)
    highlights = []
    for highlight, start, end in collector.marks:
        highlight.quote = _quote(text, start, end)
        if highlight.kind == "note":  # a note alone is attached to the words before it
            highlight.quote = _quote(text, max(0, start - CONTEXT), start)
        highlights.append(highlight)
    env["mentions"], env["highlights"] = mentions, highlights
    env["wikilinks"] = collector.wikilinks
    env["entity_base"] = f"{SITE_LINK}/entities/"  # made relative per page: builder.urls


def _walk_block(c: _Collector, children: list[Token], line: int) -> None:
    block_start = c.length
    block_text: list[str] = []  # this block's shown text (no deleted text), for passages
    shown = 0  # len("".join(block_text)), kept as it grows
    deleted = 0  # deletions open here: their text is not shown in passages
    note_text: list[str] = []
    note_length = 0  # len("".join(note_text)), kept as it grows
    stack: list[_Open] = []
    flattened = False  # a too deep highlight was met in this block
    last_closed_mark: _Open | None = None
    in_note = 0

    def position() -> int:
        return c.length

    marks_open = 0  # highlights, insertions and deletions open here
    for child in children:
        kind = child.type
        if kind == "mark_open" and marks_open >= MAX_MARK_DEPTH and child.markup == "==":
            kind = _as_text(child)
            stack.append(_Open(child, position(), line, bool(in_note), flattened=True))
            if not flattened:
                c.env.setdefault("warnings", []).append((line, TOO_DEEP))
            flattened = True
        elif kind == "mark_close" and stack and stack[-1].flattened:
            kind = _as_text(child)
            stack.pop()
        if kind in _TEXT or kind in _BREAKS:  # most tokens: text, read as fast as may be
            if kind in _TEXT:
                piece = child.content
                if piece.strip():
                    last_closed_mark = None
            else:  # a line break reads as a space
                line += 1
                piece = " "
            if in_note:
                if not deleted:
                    note_text.append(piece)
                    note_length += len(piece)
            else:
                c.plain.append(piece)
                c.length += len(piece)
                if not deleted:
                    block_text.append(piece)
                    shown += len(piece)
            continue
        if kind == "sidenote_open":
            c.notes += 1
            child.meta["number"] = c.notes
            owner = last_closed_mark
            if owner is None:
                c.highlights += 1
                child.meta["id"] = f"hl-{c.highlights}"
            stack.append(_Open(child, position(), line, bool(in_note), note_owner=owner))
            in_note += 1
            note_text = []
            note_length = 0
            continue
        if kind in ("mark_open", "ins_open", "del_open"):
            marks_open += 1
            deleted += kind == "del_open"
            c.highlights += 1
            child.attrSet("id", f"hl-{c.highlights}")
            stack.append(_Open(child, position(), line, bool(in_note), piece=len(c.plain)))
            continue
        if kind == "mention_open":
            entity = child.meta.get("entity")
            if not entity:  # names an article: a placeholder indexing the wikilinks
                child.attrSet("href", f"{WIKI_PREFIX}{len(c.wikilinks)}")
                c.wikilinks.append((line, child.meta["target"]))
            else:
                number = c.counts.get(entity, 0) + 1
                c.counts[entity] = number
                child.meta["id"] = f"m-{entity}-{number}"
                explicit = child.meta.get("explicit", False)
                child.meta["linked"] = explicit or entity not in c.linked
                if not explicit:
                    c.linked.add(entity)
            stack.append(_Open(child, position() if not in_note else note_length,
                               line, bool(in_note), shown=shown))
            continue
        if kind.endswith("_close") and stack and kind[:-6] == stack[-1].token.type[:-5]:
            opened = stack.pop()
            if kind in ("mark_close", "ins_close", "del_close"):
                marks_open -= 1
                deleted -= kind == "del_close"
            meta = opened.token.meta
            if kind == "sidenote_close":
                in_note -= 1
                note = "".join(note_text).strip()
                owner = opened.note_owner
                if owner is not None and isinstance(owner.record, Highlight):
                    owner.record.note = note
                else:
                    record = Highlight(id=meta["id"], kind="note", text="", note=note,
                                       line=opened.line, quote=_EMPTY)
                    c.marks.append((record, opened.start, opened.start))
                last_closed_mark = None
            elif kind == "mention_close" and meta.get("entity"):
                mention = Mention(entity=meta["entity"], id=meta["id"], line=opened.line,
                                  linked=meta["linked"], explicit=meta.get("explicit", False),
                                  quote=_EMPTY)
                if opened.in_note:  # offsets in the note's text, negative to tell them apart
                    end = note_length
                    mention.block = -c.notes
                    c.mentions.append((mention, -opened.start - 1, -end - 1, note_text,
                                       (opened.start, end)))
                else:
                    mention.block = block_start
                    c.mentions.append((mention, opened.start, c.length, block_text,
                                       (opened.shown, shown)))
            elif kind != "mention_close":
                record = Highlight(id=opened.token.attrGet("id"), kind=meta["kind"],
                                   text=" ".join("".join(c.plain[opened.piece:]).split()),
                                   note="", line=opened.line, quote=_EMPTY)
                opened.record = record
                c.marks.append((record, opened.start, c.length))
                last_closed_mark = opened if kind == "mark_close" else None


_EMPTY = Quote("", "", "", 0, 0)


def _as_text(token: Token) -> str:
    """Make a highlight's opening or closing token the text it was written as."""
    token.type, token.tag, token.nesting, token.content = "text", "", 0, token.markup
    token.attrs = {}
    return "text"


def _quote(text: str, start: int, end: int) -> Quote:
    return Quote(exact=text[start:end], prefix=text[max(0, start - CONTEXT):start],
                 suffix=text[end:end + CONTEXT], start=start, end=end)


def _render_mention_open(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    token = tokens[idx]
    meta = token.meta
    entity = meta.get("entity")
    if entity is None:  # a wikilink to an article: resolved by the index
        meta["tag"] = "a"
        return f'<a class="wikilink" href="{escapeHtml(token.attrGet("href") or "")}">'
    ident = meta["id"]
    if meta.get("linked"):
        meta["tag"] = "a"
        href = f'{env["entity_base"]}{entity}/'
        return f'<a class="mention" id="{ident}" href="{href}" data-entity="{entity}">'
    meta["tag"] = "span"
    return f'<span class="mention" id="{ident}" data-entity="{entity}">'


def _render_mention_close(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    # Find the matching opener to close the same tag.
    depth = 0
    for index in range(idx - 1, -1, -1):
        kind = tokens[index].type
        if kind == "mention_close":
            depth += 1
        elif kind == "mention_open":
            if depth == 0:
                return f'</{tokens[index].meta.get("tag", "a")}>'
            depth -= 1
    return "</a>"


def _render_mark_open(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    return f'<mark id="{tokens[idx].attrGet("id")}">'


def _render_sidenote_open(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    meta = tokens[idx].meta
    number = meta["number"]
    anchor = f' id="{meta["id"]}"' if meta.get("id") else ""
    return (f'<label class="sidenote-toggle" for="sn-{number}">Note</label>'
            f'<input type="checkbox" id="sn-{number}" class="sidenote-state">'
            f'<span class="sidenote" role="note"{anchor}>')
