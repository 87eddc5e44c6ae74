"""The entity registry as a lookup table: wikilink targets and names in prose.

Matching rules (see the notes on entities): case and diacritics fold;
hyphens, spaces and curly or straight quotes are equivalent; acronyms listed
as ``case_sensitive`` match only in exact case; weak aliases resolve a
wikilink but are never matched in prose; the longest name wins.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from builder.slugs import fold, slugify

# Between two words of a name, text may have only these (hyphens, spaces, quotes).
_JOINERS = frozenset(" \t\n-‐‑‒–—'’‘\"“”")
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1 << 16)  # every build keys every title and name again
def name_key(text: str) -> str:
    """``Lashkar‐e‐Taiba`` and ``lashkar e taiba`` give the same key."""
    # fold() of ASCII text is its lower case (NFKD and its special letters change no ASCII
    # character), made without fold's call per character: a new process keys every title.
    return " ".join(_WORD.findall(text.lower() if text.isascii() else fold(text)))


@dataclass(repr=False, eq=False)
class Lexicon:
    """Immutable once built; identified (hashed, compared, shown) by its fingerprint."""

    by_slug: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)  # name key → slug
    by_alias: dict[str, set[str]] = field(default_factory=dict)  # alias key → slugs (weak too)
    phrases: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)
    autolink: bool = False
    fingerprint: str = ""
    base_path: str = "/"

    def __repr__(self) -> str:
        return f"Lexicon({self.fingerprint})"

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lexicon) and other.fingerprint == self.fingerprint

    def resolve(self, target: str) -> tuple[str | None, list[str]]:
        """A wikilink target → (entity slug or None, every candidate if ambiguous)."""
        slug = slugify(target)
        if slug in self.by_slug:
            return slug, [slug]
        key = name_key(target)
        if key in self.by_name:
            return self.by_name[key], [self.by_name[key]]
        candidates = sorted(self.by_alias.get(key, ()))
        return (candidates[0] if len(candidates) == 1 else None), candidates

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Every registered name in ``text``: (start, end, entity slug), longest first."""
        firsts = self._firsts
        if not firsts:
            return []
        words = text.translate(_WORD_FOLDS).split()  # the folded words, as _WORD finds them
        if firsts.keys().isdisjoint(words):  # the common case, decided in C
            return []
        # A name is looked for only if all of its first two words are here, and a
        # case-sensitive one only where written so ("is" in prose, where "IS" is a name).
        present = set(words)
        matchers: dict[str, _First] = {}
        for word in firsts.keys() & present:
            first = firsts[word]
            if first.seconds is None or not first.seconds.isdisjoint(present):
                if first.match is None:
                    first.compile()
                matchers[word] = first
        if not matchers:
            return []
        folded = text.translate(_FOLDS)
        origin = None if text.isascii() or _RESIZED.isdisjoint(text) else _origin(text)
        found: list[tuple[int, int, str]] = []
        # One pass over the words, trying the names of each first word where it
        # stands: linear in the text whatever the number of names in it (a search
        # per first word, each rescanning the text, was not).
        resume = 0
        for word in _WORD.finditer(folded):
            first = matchers.get(word.group())
            if first is None or word.start() < resume:
                continue
            if first.exacts is not None:
                at = word.start() if origin is None else origin[word.start()]
                if not any(text.startswith(exact, at) for exact in first.exacts):
                    continue
            match = first.match(folded, word.start())
            if match is None:
                continue
            # The match is the longest name starting here; a shorter one is tried
            # only when a case-sensitive name is written in another case.
            words = list(_WORD.finditer(folded, match.start(), match.end()))
            for count in range(len(words), 0, -1):
                entry = self.phrases.get(tuple(w.group() for w in words[:count]))
                if entry is None:
                    continue
                start, end = match.start(), words[count - 1].end()
                if origin is not None:
                    start, end = origin[start], origin[end - 1] + 1
                slug, exact = entry
                if exact and text[start:end] != exact:
                    continue
                found.append((start, end, slug))
                resume = words[count - 1].end()
                break
        return found

    @cached_property
    def _firsts(self) -> dict[str, _First]:
        """The names by their first word. Built on first use: a build that parses
        nothing never pays for it, and forked workers inherit it once the parent
        used it."""
        firsts: dict[str, _First] = {}
        for words, (_, exact) in self.phrases.items():
            first = firsts.get(words[0])
            if first is None:
                first = firsts[words[0]] = _First(words[0], [], set(), [])
            first.names.append(words)
            if len(words) == 1:
                first.seconds = None
            elif first.seconds is not None:
                first.seconds.add(words[1])
            if not exact:
                first.exacts = None
            elif first.exacts is not None:
                first.exacts.append(exact)
        return firsts


@dataclass
class _First:
    """The names starting with one word, and a matcher for them, compiled when first needed.

    One small regex per first word, compiled when that word is first met in a
    text: a text costs the same whatever the size of the registry, and a build
    that reads one article compiles a few small patterns, not one of every name.
    """

    word: str
    names: list[tuple[str, ...]]
    seconds: set[str] | None  # the second words, if no name is this word alone
    exacts: list[str] | None  # the spellings, if every name is case-sensitive
    match: Callable[..., re.Match[str] | None] | None = None  # (folded text, position)

    def compile(self) -> Callable[..., re.Match[str] | None]:
        self.match = _names_pattern(self.word, self.names).match
        return self.match


def _names_pattern(first: str, names: Iterable[tuple[str, ...]]) -> re.Pattern[str]:
    """A regex matching, where the word ``first`` starts, the longest of ``names``
    (tuples of folded words, each starting with ``first``).

    The words after the first are a trie (``lashkar(?: +(?:e +taiba|i +jhangvi))``),
    so the regex's backtracking tries at most one branch per character.
    :meth:`Lexicon.find` tries it with ``match`` where a word starts; the
    lookbehind (no word character before) keeps ``search`` right too. The
    standard library has no trie matcher; the text it runs on is folded, its
    joiners made spaces (``_FOLDS``).
    """
    trie: dict = {}
    for words in names:
        node = trie
        for word in words[1:]:
            node = node.setdefault(_NEXT_WORD, {})
            for char in word:
                node = node.setdefault(char, {})
        node[_END] = {}
    literal = re.escape(first)
    return re.compile(rf"{literal}(?<!\w{literal}){_branches(trie)}")


_NEXT_WORD, _END = " ", ""  # trie keys besides characters: joiners, then the end of a name


def _branches(node: dict) -> str:
    alternatives = []
    for key in sorted(key for key in node if key not in (_NEXT_WORD, _END)):
        literal, child = re.escape(key), node[key]
        while len(child) == 1 and not child.keys() & {_NEXT_WORD, _END}:  # a chain: one literal
            (key, child), = child.items()
            literal += re.escape(key)
        alternatives.append(literal + _branches(child))
    # Characters exclude each other; a following word is tried before ending here,
    # so the regex's backtracking gives the longest name.
    if _NEXT_WORD in node:
        alternatives.append(" +" + _branches(node[_NEXT_WORD]))
    if _END in node:
        alternatives.append(r"(?!\w)")
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"


class _FoldTable(dict):
    """``str.translate`` table folding each character as :func:`fold` does.

    Filled as characters are first met, so folding a text is one call in C.
    Folding goes character by character (never ``fold(text)``) so that offsets
    map back (see ``_origin``) and ``Σ`` folds alike everywhere. ``_FOLDS``
    makes joiners spaces; ``_WORD_FOLDS`` makes every character outside a
    word a space, so that ``split()`` gives the words.
    """

    def __init__(self, words_only: bool):
        super().__init__()
        self.words_only = words_only
        for code in range(128):  # ASCII up front, the common case
            self[code]  # noqa: B018

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = fold(char) if code >= 128 else char.lower()
        if len(folded) != 1:
            _RESIZED.add(char)
        if self.words_only:
            spaced = "".join(c if _WORD.match(c) else " " for c in folded)
        else:
            spaced = "".join(" " if c in _JOINERS else c for c in folded)
        self[code] = spaced
        return spaced


_RESIZED: set[str] = set()  # characters that fold to more or fewer than one
_FOLDS = _FoldTable(words_only=False)
_WORD_FOLDS = _FoldTable(words_only=True)


def _origin(text: str) -> list[int]:
    """``origin[i]``: the index in ``text`` of character ``i`` of ``text.translate(_FOLDS)``."""
    origin: list[int] = []
    for index, char in enumerate(text):
        origin.extend([index] * len(_FOLDS[ord(char)]))
    return origin


@dataclass
class RegistryEntry:
    """What the lexicon needs of one entity."""

    slug: str
    name: str
    source: str
    aliases: list[str]
    case_sensitive: list[str]
    weak_aliases: list[str]
    line_of: dict[str, int]  # "name"/"aliases"/… → line, for messages


def build_lexicon(entries: Iterable[RegistryEntry], autolink: bool, base_path: str = "/"
                  ) -> tuple[Lexicon, list[tuple[str, int, str]]]:
    """Index the registry; return it and the collisions as (path, line, message)."""
    lexicon = Lexicon(autolink=autolink, base_path=base_path)
    problems: list[tuple[str, int, str]] = []
    owner: dict[str, RegistryEntry] = {}  # name or strong-alias key → entity
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{autolink}{base_path}".encode())
    for entry in sorted(entries, key=lambda e: e.source):
        digest.update(repr((entry.slug, entry.name, entry.aliases, entry.case_sensitive,
                            entry.weak_aliases)).encode())
        lexicon.by_slug[entry.slug] = entry.slug
        exact = set(entry.case_sensitive)
        strong = [("name", entry.name)] + [("aliases", a) for a in entry.aliases] + \
            [("case_sensitive", a) for a in entry.case_sensitive if a not in entry.aliases]
        for kind, text in strong:
            key = name_key(text)
            if not key:
                continue
            other = owner.get(key)
            if other is not None and other is not entry:
                what = "name" if kind == "name" else "alias"
                problems.append((entry.source, entry.line_of.get(kind, 1),
                                 f'{what} "{text}" is also claimed by {other.source} '
                                 f'("{other.name}")'))
                continue
            owner[key] = entry
            if kind == "name":
                lexicon.by_name[key] = entry.slug
            else:
                lexicon.by_alias.setdefault(key, set()).add(entry.slug)
            words = tuple(key.split())
            lexicon.phrases[words] = (entry.slug, text if text in exact else "")
        for text in entry.weak_aliases:
            key = name_key(text)
            if key:
                lexicon.by_alias.setdefault(key, set()).add(entry.slug)
    if not autolink:
        lexicon.phrases = {}
    lexicon.fingerprint = digest.hexdigest()
    return lexicon, problems
