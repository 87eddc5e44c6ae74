"""Resolve wikilinks to articles: by path, slug, title or alias, with a heading or block.

``[[Page]]``, ``[[folder/Page]]``, ``[[folder/Page.md]]`` (a path under the
content folder, or its last components, as Obsidian finds the shortest unique
one), ``[[Page#Heading]]``, ``[[#Heading]]`` (this page), ``[[Page#^block]]``
(a block id, see :mod:`builder.markdown.block_ids`). A page is named by its
path, slug, title or one of its ``aliases``. Each link names one article or
is a problem with its line that says why none (and, for a heading, which ones
the page has); with ``wikilinks: {unresolved: text}`` those problems are
warnings and the links plain text.

Pure: records in, answers out.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, replace

from builder.lexicon import Lexicon, name_key
from builder.markdown.wikilinks import split_target
from builder.model import ArticleRecord, EntityRecord
from builder.problems import Problem
from builder.slugs import slugify

_MARKDOWN = (".md", ".markdown")


class WikiResolver:
    """Finds the article a wikilink names, and the fragment id on its page; explains
    when there is none. ``unresolved``: "error" (the default) or "text" (a warning)."""

    def __init__(self, lexicon: Lexicon | None, entities: list[EntityRecord],
                 articles: list[ArticleRecord], every: list[ArticleRecord],
                 unresolved: str = "error"):
        self.lexicon = lexicon
        self.unresolved = unresolved
        self.entity_names = {e.slug: e.name for e in entities}
        # A bare name may fit several notes (README.md in two folders, under
        # permalinks with {path}): lists, so that none is picked silently.
        self.by_article_slug: dict[str, list[ArticleRecord]] = {}
        self.by_title: dict[str, list[ArticleRecord]] = {}
        ordered = sorted(articles, key=lambda r: r.source)
        for record in ordered:
            self.by_article_slug.setdefault(record.slug, []).append(record)
            self.by_title.setdefault(name_key(record.title), []).append(record)
        self.by_alias: dict[str, ArticleRecord] = {}
        # Inline #tags link to tag pages: a spelling a tag file claims → its slug
        # (builder.terms.claimed_slugs); set by builder.index.
        self.tag_slugs: dict[str, str] = {}
        # Article files that failed to read (their errors are reported): a link to one
        # says so, rather than that it does not exist. Set by builder.index.
        self.failed: set[str] = set()
        self.by_path: dict[str, list[ArticleRecord]] = {}
        for record in ordered:
            for alias in record.aliases:
                self.by_alias.setdefault(name_key(alias), record)
            for key in _path_keys(record.source):
                self.by_path.setdefault(key, []).append(record)
        self.hidden = {a.slug for a in every} | {name_key(a.title) for a in every} | \
            {name_key(alias) for a in every for alias in a.aliases}
        self.names = [e.name for e in entities] + [a.title for a in articles]

    def stored(self) -> WikiResolver:
        """A copy for a stored build (:mod:`builder.delta_store`): each article named by
        a :class:`WikiTarget`, all a link to it reads, and no lexicon or names (they only
        word a problem, and a delta build with a problem gives way to a full build)."""
        targets: dict[str, WikiTarget] = {}

        def target(record: ArticleRecord) -> WikiTarget:
            found = targets.get(record.source)
            if found is None:
                found = targets[record.source] = WikiTarget(record.source, record.blocks,
                                                            record.headings)
            return found

        copy = object.__new__(WikiResolver)
        copy.__dict__.update(self.__dict__)
        copy.lexicon, copy.names, copy.entity_names = None, [], {}
        for name in ("by_article_slug", "by_title", "by_path"):
            setattr(copy, name, {key: [target(r) for r in records]
                                 for key, records in getattr(self, name).items()})
        copy.by_alias = {key: target(record) for key, record in self.by_alias.items()}
        return copy

    def check_aliases(self, problems: list[Problem]) -> None:
        """An alias that is another article's title or alias is an error naming both."""
        owners: dict[str, ArticleRecord] = {}
        for record in sorted((r for rs in self.by_article_slug.values() for r in rs),
                             key=lambda r: r.source):
            for alias in record.aliases:
                key = name_key(alias)
                titled = next((t for t in self.by_title.get(key, [])
                               if t.source != record.source), None)
                other = owners.setdefault(key, record)
                if titled is not None and titled.source != record.source:
                    problems.append(Problem(record.source, record.line("aliases"),
                                            f'alias "{alias}" is also the title of '
                                            f"{titled.source} (line {titled.line('title')})"))
                elif other is not record:
                    problems.append(Problem(record.source, record.line("aliases"),
                                            f'alias "{alias}" is also an alias of '
                                            f"{other.source} (line {other.line('aliases')})"))

    def targets(self, wikilinks: list[tuple[int, str]], source: str,
                problems: list[Problem], record: ArticleRecord | None = None
                ) -> list[tuple[ArticleRecord, str] | None]:
        """Per wikilink, in order: (the article it names, the id of its fragment or "")
        or None, and a problem, when it names none. ``record``: the article the links
        are in (``[[#Heading]]`` and links to itself read its headings)."""
        return [self.link(target, source, line, problems, record) for line, target in wikilinks]

    def link(self, target: str, source: str, line: int, problems: list[Problem],
             record: ArticleRecord | None = None) -> tuple[ArticleRecord, str] | None:
        """:meth:`resolve`, its problems warnings when unresolved links are text."""
        start = len(problems)
        found = self.resolve(target, source, line, problems, record)
        if self.unresolved == "text":
            problems[start:] = [replace(p, warning=True, message=p.message + ": shown as text")
                                for p in problems[start:]]
        return found

    def resolve(self, target: str, source: str, line: int, problems: list[Problem],
                record: ArticleRecord | None = None) -> tuple[ArticleRecord, str] | None:
        """(article, fragment id or "") that ``target`` names, or None and a problem."""
        page, fragment = split_target(target)
        if not page:
            if record is None:
                problems.append(Problem(source, line, f'wikilink "{target}" names a heading '
                                        "of this page, but entity notes have none"))
                return None
            found: ArticleRecord | None = record
        else:
            found = self.article_for(page, source, line, problems)
        if found is None:
            return None
        if record is not None and found.source == record.source:
            found = record  # as it is now (a delta build may hold an older one)
        if not fragment:
            return found, ""
        ident = self.fragment_id(found, fragment, source, line, problems)
        return None if ident is None else (found, ident)

    def article_for(self, target: str, source: str, line: int, problems: list[Problem]
                    ) -> ArticleRecord | None:
        """The article ``target`` (no fragment) names, or None and a problem."""
        if "/" in target or target.lower().endswith(_MARKDOWN):
            paths = self.by_path.get(target.casefold().strip("/"))
            if paths and len(paths) > 1:
                names = " or ".join(r.source for r in paths)
                problems.append(Problem(source, line, f'ambiguous wikilink "{target}": it may '
                                        f"mean {names}; write more of the path"))
                return None
            if paths:
                return paths[0]
        key = name_key(target)
        for fits in (self.by_article_slug.get(slugify(target)), self.by_title.get(key)):
            if fits:
                return _one(fits, target, source, line, problems)
        found = self.by_alias.get(key)
        if found is not None:
            return found
        candidates = self.lexicon.resolve(target)[1] if self.lexicon else []
        if len(candidates) > 1:
            names = " or ".join(f'"{self.entity_names.get(c, c)}"' for c in candidates)
            problems.append(Problem(source, line, f'ambiguous wikilink "{target}": it may mean '
                                    f"{names}; write [[slug|{target}]]"))
        elif slugify(target) in self.hidden or key in self.hidden:
            problems.append(Problem(source, line, f'wikilink "{target}" names an article that '
                                    "is a draft or dated in the future, so it is not built"))
        elif failed := [f for f in sorted(self.failed)
                        if name_key(f.rsplit("/", 1)[-1].rsplit(".", 1)[0]) == key]:
            problems.append(Problem(source, line, f'wikilink "{target}" names {failed[0]}, '
                                    "which has errors of its own, so it is not built"))
        else:
            close = difflib.get_close_matches(target, self.names, n=1, cutoff=0.6)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problems.append(Problem(source, line,
                                    f'unknown entity or article "{target}"{hint}'))
        return None

    @staticmethod
    def fragment_id(record: ArticleRecord, fragment: str, source: str, line: int,
                    problems: list[Problem]) -> str | None:
        """The id of the heading (by its text or id) or block (``^id``) ``fragment``
        names on ``record``'s page; None and a problem naming the closest when none.
        Of a chain of headings (``H1#H2``) the last one counts, as in Obsidian."""
        fragment = fragment.rsplit("#", 1)[-1].strip()
        if fragment.startswith("^"):
            if fragment[1:] in record.blocks:
                return fragment
            known = [f"^{b}" for b in record.blocks]
            close = difflib.get_close_matches(fragment, known, n=3, cutoff=0.0)
            hint = f" (its blocks: {', '.join(close)})" if close else \
                " (it has no block ids: end a paragraph with ^id to give one)"
            problems.append(Problem(source, line, f'no block "{fragment}" in {record.source}'
                                    f"{hint}"))
            return None
        key, slug = name_key(fragment), slugify(fragment)
        for heading in record.headings:
            if name_key(heading["text"]) == key or heading["id"] in (fragment, slug):
                return heading["id"]
        texts = [heading["text"] for heading in record.headings]
        close = difflib.get_close_matches(fragment, texts, n=3, cutoff=0.0)
        hint = (" (its headings closest to it: " + ", ".join(f'"{t}"' for t in close) + ")"
                if close else " (it has no headings with ids: ## and deeper have one)")
        problems.append(Problem(source, line, f'no heading "{fragment}" in {record.source}'
                                f"{hint}"))
        return None

    def depended(self, records: Iterable[ArticleRecord],
                 notes: Iterable[tuple[str, list[tuple[int, str]]]]) -> set[str]:
        """The sources of the articles whose text or headings other bodies show: the
        targets of embeds and of wikilinks with a fragment, from ``records`` and from
        entity notes ((source, wikilinks) pairs). A change to one changes those bodies."""
        found: set[str] = set()
        scratch: list[Problem] = []
        links = [(r.source, target) for r in records
                 for target in [*(t for _, t in r.wikilinks if "#" in t),
                                *(t for _, t in r.embeds)]]
        links += [(source, target) for source, wikilinks in notes
                  for _, target in wikilinks if "#" in target]
        for source, target in links:
            page = split_target(target)[0]
            if page:
                article = self.article_for(page, source, 1, scratch)
                if article is not None:
                    found.add(article.source)
        return found


@dataclass(frozen=True)
class WikiTarget:
    """What resolving a wikilink reads of the article it names: its source, block ids
    and headings (see :meth:`WikiResolver.stored`)."""

    source: str
    blocks: list[str]
    headings: list[dict]


def _one(fits: list[ArticleRecord], target: str, source: str, line: int,
         problems: list[Problem]) -> ArticleRecord | None:
    """Of the notes a bare name fits: the only one, or the one in the linking note's
    folder (as Obsidian prefers); else None and a problem naming them all."""
    if len(fits) == 1:
        return fits[0]
    folder = source.rpartition("/")[0]
    near = [r for r in fits if r.source.rpartition("/")[0] == folder]
    if len(near) == 1:
        return near[0]
    names = " or ".join(r.source for r in fits)
    problems.append(Problem(source, line, f'ambiguous wikilink "{target}": it may mean '
                            f"{names}; write more of the path"))
    return None


def _path_keys(source: str) -> list[str]:
    """The paths a wikilink may name ``source`` by, case folded: every tail of its path,
    with and without its extension (``content/a/B.md`` → ``content/a/b.md``,
    ``content/a/b``, ``a/b.md``, ``a/b``, ``b.md``; a bare ``b`` is looked up as a slug
    or title)."""
    parts = source.casefold().split("/")
    keys = []
    for start in range(len(parts)):
        tail = "/".join(parts[start:])
        keys.append(tail)
        stem, dot, _ = tail.rpartition(".")
        if dot and start < len(parts) - 1:
            keys.append(stem)
    return keys
