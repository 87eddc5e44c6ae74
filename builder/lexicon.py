"""The entity registry as a lookup table: wikilink targets and names in prose.

Matching rules (see the notes on entities): case and diacritics fold;
hyphens, spaces and curly or straight quotes are equivalent; acronyms listed
as ``case_sensitive`` match only in exact case; weak aliases resolve a
wikilink but are never matched in prose; the longest name wins.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from builder.slugs import fold, slugify

# Between two words of a name, text may have only these (hyphens, spaces, quotes).
_JOINERS = frozenset(" \t\n-‐‑‒–—'’‘\"“”")
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1 << 16)  # every build keys every title and name again
def name_key(text: str) -> str:
    """``Lashkar‐e‐Taiba`` and ``lashkar e taiba`` give the same key."""
    return " ".join(_WORD.findall(fold(text)))


@dataclass(repr=False, eq=False)
class Lexicon:
    """Immutable once built; identified (hashed, compared, shown) by its fingerprint."""

    by_slug: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)  # name key → slug
    by_alias: dict[str, set[str]] = field(default_factory=dict)  # alias key → slugs (weak too)
    phrases: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)  # first word → longest phrase length
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
        if not self.phrases:
            return []
        folded, origin = _fold_with_offsets(text)
        hits = self.starts.keys() & set(_WORD.findall(folded))
        if not hits:  # the common case, decided in C
            return []
        found: list[tuple[int, int, str]] = []
        resume = 0
        for first in _starts_pattern(frozenset(hits)).finditer(folded):
            if first.start() < resume:
                continue
            longest = self.starts.get(first.group())
            if longest is None:  # most words start no name: one dict lookup each
                continue
            words = [first]
            while len(words) < longest:  # the next words, if only joiners lie between
                following = _WORD.search(folded, words[-1].end())
                if following is None or \
                        not set(folded[words[-1].end():following.start()]) <= _JOINERS:
                    break
                words.append(following)
            for count in range(len(words), 0, -1):
                entry = self.phrases.get(tuple(w.group() for w in words[:count]))
                if entry is None:
                    continue
                start, end = first.start(), words[count - 1].end()
                if origin is not None:
                    start, end = origin[start], origin[end - 1] + 1
                slug, exact = entry
                if exact and text[start:end] != exact:
                    continue
                found.append((start, end, slug))
                resume = words[count - 1].end()
                break
        return found


@lru_cache(maxsize=4096)
def _starts_pattern(words: frozenset[str]) -> re.Pattern[str]:
    """A regex finding only these words: the scan over a paragraph stays in C."""
    alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _fold_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """Fold ``text``; ``origin[i]`` is the index in ``text`` of folded character ``i``.

    Folding (NFKD) can change lengths, so offsets are mapped back per character;
    ASCII text keeps its offsets (``origin`` is None), the common, cheap case.
    """
    if text.isascii():
        return text.lower(), None
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = fold(char) if not char.isascii() else char.lower()
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return "".join(pieces), origin


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
            lexicon.starts[words[0]] = max(lexicon.starts.get(words[0], 0), len(words))
        for text in entry.weak_aliases:
            key = name_key(text)
            if key:
                lexicon.by_alias.setdefault(key, set()).add(entry.slug)
    if not autolink:
        lexicon.phrases, lexicon.starts = {}, {}
    lexicon.fingerprint = digest.hexdigest()
    return lexicon, problems
