"""Quote integrity: find a verbatim quotation in the text of its source's snapshot.

Matching ignores whitespace, quotation marks (straight and curly, single and
double), dash styles (hyphen, en and em dash, minus) and case. Inside a
quotation, ``…`` or ``...`` stands for any text within one paragraph of the
snapshot, and so does a ``[bracketed]`` insertion (the editor's words, not the
source's). Paragraphs of a snapshot's text are separated by blank lines.

Linear in the snapshot and the quotation (times the number of ``…`` in it):
no backtracking regular expressions; each quotation is a few ``str.find``.
"""

from __future__ import annotations

import difflib
import heapq
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote

QUOTE_MARKS = "\"'“”‘’‚‛„‟«»‹›`´′″"
DASHES = "‐‑‒–—―−-"
#: a gap in a quotation: an ellipsis, or an insertion in brackets (no nested "[")
GAP = re.compile(r"…|\.{3,}|\[[^\[\]]*\]")
#: a paragraph break: a line with nothing but spaces on it
_BREAK = re.compile(r"\n[^\S\n]*\n")
_SEPARATOR = "\x00"  # between paragraphs of the normalized text: no quotation holds it
_DROP = frozenset(QUOTE_MARKS) | {c for c in map(chr, range(0x3001)) if c.isspace()} | \
    {_SEPARATOR}
_PUNCTUATION = ".,;:!?()"
#: what a word of a paragraph becomes to find the closest text: whitespace kept
_WORDS = str.maketrans({**{c: None for c in QUOTE_MARKS + _PUNCTUATION},
                        **{c: "-" for c in DASHES}})
#: a run of characters matching keeps (dashes are kept, as "-")
_KEPT = re.compile("[^" + re.escape("".join(sorted(_DROP))) + "]+")
_TABLE = str.maketrans({**{c: None for c in _DROP}, **{c: "-" for c in DASHES}})
#: words of a text fragment's start and of its end, when a quotation is longer than twice it
FRAGMENT_WORDS = 5
#: words of a quotation compared when looking for the closest text (its first ones)
CLOSEST_WORDS = 60
SHOWN = 100  # characters of a quotation or its closest text shown in a message


def normalize(text: str) -> str:
    """``text`` as matching sees it: no whitespace or quotation marks, one dash, lower case."""
    return text.translate(_TABLE).lower()


@dataclass
class SourceText:
    """A snapshot's text, prepared for matching: ``text`` as extracted, ``folded`` its
    paragraphs normalized and joined by ``\\x00``; paragraph ``p`` starts at
    ``starts[p]`` in ``folded`` and at ``origins[p]`` in ``text``. Each character of a
    folded paragraph stands for one kept character of the text, in order."""

    text: str
    folded: str
    starts: list[int]
    origins: list[int]

    @classmethod
    def of(cls, text: str) -> SourceText:
        """Prepare ``text`` (any length; O(n), a step per paragraph)."""
        pieces: list[str] = []
        starts: list[int] = []
        origins: list[int] = []
        length = 0
        start = 0
        for cut in [*(m.start() for m in _BREAK.finditer(text)), len(text)]:
            part = text[start:cut].translate(_TABLE)
            lowered = part.lower()
            if len(lowered) != len(part):  # a letter whose lower case is longer (İ)
                lowered = "".join(c.lower()[0] for c in part)
            starts.append(length)
            origins.append(start)
            pieces.append(lowered)
            length += len(lowered) + 1
            start = cut
        return cls(text, _SEPARATOR.join(pieces), starts, origins)

    def place(self, index: int) -> int:
        """The index in ``text`` of ``folded[index]`` (a step per run of kept characters
        before it in its paragraph)."""
        paragraph = bisect_right(self.starts, index) - 1
        left = index - self.starts[paragraph]
        for run in _KEPT.finditer(self.text, self.origins[paragraph]):
            if left < run.end() - run.start():
                return run.start() + left
            left -= run.end() - run.start()
        raise IndexError(index)


def find(quotation: str, source: SourceText) -> tuple[int, int] | None:
    """Where ``quotation`` occurs in ``source.text``: (start, end) character offsets of
    the whole span matched (gaps included), widened to whole words; None if it does not
    occur, or holds nothing but gaps and marks."""
    parts = [p for p in (normalize(piece) for piece in GAP.split(quotation)) if p]
    if not parts:
        return None
    folded = source.folded
    position = 0
    while True:
        hit = folded.find(parts[0], position)
        if hit < 0:
            return None
        limit = folded.find(_SEPARATOR, hit)
        limit = len(folded) if limit < 0 else limit
        end = hit + len(parts[0])
        for part in parts[1:]:  # leftmost of each: if that fails, a later start fails too
            found = folded.find(part, end, limit)
            if found < 0:
                break
            end = found + len(part)
        else:
            return _widen(source.text, source.place(hit), source.place(end - 1) + 1)
        position = limit + 1  # on to the next paragraph


WIDEN = 64  # characters a match is widened by at most, each side


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole words (text fragments match whole words only), by at
    most :data:`WIDEN` characters each side (a text without spaces stays linear)."""
    low, high = max(0, start - WIDEN), min(len(text), end + WIDEN)
    while start > low and not text[start - 1].isspace():
        start -= 1
    while end < high and not text[end].isspace():
        end += 1
    return start, end


def words(text: str) -> str:
    """``text`` with its whitespace made single spaces."""
    return " ".join(text.split())


def closest(quotation: str, source: SourceText) -> str:
    """The snapshot's words most like ``quotation``: a window of as many words (at most
    :data:`CLOSEST_WORDS`), chosen by words in common (one pass over the snapshot), then
    by :class:`difflib.SequenceMatcher` among the best few. "" for an empty snapshot."""
    wanted = GAP.sub(" ", quotation).translate(_WORDS).lower().split()
    wanted = wanted[:CLOSEST_WORDS]
    if not wanted:
        return ""
    needed = Counter(wanted)
    size = len(wanted)
    best: list[tuple[int, int, list[str], int]] = []  # heap: (common, -order, words, end)
    order = 0
    for paragraph in _BREAK.split(source.text):
        shown = paragraph.split()
        folded = paragraph.translate(_WORDS).lower().split()  # at C speed
        if len(folded) != len(shown):  # a word of nothing but quotation marks
            folded = [w.translate(_WORDS).lower() for w in shown]
        # The windows ending at words of the quotation, in one pass over those words.
        hits = [i for i, word in enumerate(folded) if word in needed]
        if not hits:
            continue
        count: dict[str, int] = {}
        common = 0
        first = 0  # the first hit still inside the window
        for index in hits:
            word = folded[index]
            seen = count[word] = count.get(word, 0) + 1
            common += seen <= needed[word]
            while hits[first] <= index - size:
                old = folded[hits[first]]
                common -= count[old] <= needed[old]
                count[old] -= 1
                first += 1
            order += 1  # the earlier of equal windows is kept
            item = (common, -order, shown, index + 1)
            if len(best) < 16:
                heapq.heappush(best, item)
            elif item[:2] > best[0][:2]:
                heapq.heapreplace(best, item)
    target = " ".join(wanted)
    windows = [shown[max(0, end - size):end] for _, _, shown, end in sorted(best, reverse=True)]
    chosen = max(windows, default=[], key=lambda window: difflib.SequenceMatcher(
        None, target, normalize_words(window), autojunk=False).ratio())
    return " ".join(chosen)


def normalize_words(shown: list[str]) -> str:
    return " ".join(w for w in (normalize(w) for w in shown) if w)


def shorten(text: str, size: int = SHOWN) -> str:
    """``text`` cut at a word to at most ``size`` characters, with "…" if cut."""
    if len(text) <= size:
        return text
    cut = text[:size]
    return (cut[:cut.rfind(" ")] if " " in cut else cut) + "…"


def not_found(quotation: str, source: SourceText) -> str:
    """The message for a quotation not in its source."""
    near = closest(quotation, source)
    tail = f' (closest: "{shorten(near)}")' if near else ""
    return f'quote not found in source: "{shorten(quotation)}"{tail}'


def fragment_part(text: str) -> str:
    """Percent-encoded for a text directive: also ``-`` (prefix/suffix mark), ``,``, ``&``."""
    return quote(text, safe="").replace("-", "%2D")


def fragment_url(url: str, source_text: str) -> str:
    """``url`` with a text fragment (``#:~:text=``) selecting ``source_text``, the
    snapshot's own words: the whole of it, or its first and last words when long."""
    shown = source_text.split()
    if not url or not shown:
        return ""
    if len(shown) <= 2 * FRAGMENT_WORDS:
        directive = fragment_part(" ".join(shown))
    else:
        directive = (fragment_part(" ".join(shown[:FRAGMENT_WORDS])) + "," +
                     fragment_part(" ".join(shown[-FRAGMENT_WORDS:])))
    return f"{url.split('#', 1)[0]}#:~:text={directive}"
