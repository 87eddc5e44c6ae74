"""What the preview server keeps of its last build, for its delta builds (builder.delta).

``postil serve`` keeps one :class:`LastBuild` in memory: the site, the records,
the page contexts, the files and their signatures. It is the
:class:`builder.delta.Basis` the server's delta builds start from; a delta
build's :class:`builder.delta.Delta` is taken in by :meth:`LastBuild.apply`.
(``postil build`` starts from the stored build instead: builder.delta_build.)

Hand-written: this is Postil's own rebuild logic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from builder.assets import AssetTable
from builder.delta import Delta
from builder.entity_index import WikiResolver
from builder.feeds import FeedSource, tag_names
from builder.index import resolve_links
from builder.lexicon import Lexicon
from builder.model import Article, ArticleRecord, Entity, EntityRecord, Page, Site
from builder.outputs import SITE_MARK, Files, Signer
from builder.problems import Problem
from builder.render import Renderer
from builder.rewrite import reached_articles
from builder.urls import SITE_LINK, output_file


@dataclass
class LastBuild:
    """What a full build leaves for delta builds: its site, records and outputs.

    ``records`` holds every record read, by source, as read last; ``site.pages``
    the page contexts as the last build that rendered each page made them (a page
    a delta build did not render may hold an earlier record of an article, which
    differs only in fields the page does not read).
    """

    site: Site
    records: dict[str, ArticleRecord]
    resolver: WikiResolver
    warnings: list[Problem]
    feeds: list[FeedSource]
    files: Files
    signatures: dict[str, str]
    renderer: Renderer
    signer: Signer
    reads: dict[str, frozenset[str]] = field(default_factory=dict)  # see builder.reads
    valid_until: str | None = None  # ISO date on which the output changes by itself
    sources: dict[str, str] = field(default_factory=dict)  # source → record key
    changed: dict[str, ArticleRecord] = field(default_factory=dict)  # since the full build
    dependents: Dependents | None = None  # what each page and feed holds (LastBuild.of)
    # Sources of the articles other bodies show the text or headings of (embeds, links
    # to a heading or block): an edit to one takes a full build (WikiResolver.depended).
    depended: set[str] = field(default_factory=set)
    _links: tuple[dict[str, str], set[str], str, AssetTable] | None = None
    _cards: dict[str, Article] | None = None
    _site_readers: list[str] | None = None

    @classmethod
    def of(cls, site: Site, records: list[ArticleRecord],
           entities: list[tuple[EntityRecord, str, list[tuple[int, str]]]],
           lexicon: Lexicon | None, warnings: list[Problem], feeds: list[FeedSource],
           files: Files, signatures: dict[str, str], renderer: Renderer, signer: Signer,
           reads: dict[str, frozenset[str]], valid_until: str | None,
           sources: dict[str, str], tag_slugs: dict[str, str]) -> LastBuild:
        """What a full build leaves: its parts, the resolver of wikilinks its indexing
        used, the table of what each page holds, and its templates compiled here."""
        renderer.preload()
        resolver, depended = wiki_resolver(site, records, entities, lexicon, tag_slugs)
        return cls(site=site, records={r.source: r for r in records},
                   resolver=resolver, depended=depended,
                   warnings=warnings, feeds=feeds, files=files, signatures=signatures,
                   # the signer without its memo (an entry per object of the build)
                   renderer=renderer, signer=Signer(site, signer.pages_version,
                                                    signer.settings),
                   reads=reads, valid_until=valid_until,
                   sources=dict(sources),
                   dependents=Dependents.of(site.pages, feeds, site.config.feed_limit or None))

    @property
    def config(self) -> Any:
        return self.site.config

    @property
    def pages_version(self) -> bytes:
        return self.signer.pages_version

    @property
    def settings(self) -> bytes:
        return self.signer.settings

    @property
    def tag_names(self) -> dict[str, dict[str, tuple[str, str]]]:
        return tag_names(self.site)

    def record(self, source: str) -> ArticleRecord:
        return self.records[source]

    def site_readers(self) -> list[str]:
        """The output files whose templates read the global ``site`` (their signature
        says so). Made once: a delta build goes on only if none of them must render."""
        if self._site_readers is None:
            self._site_readers = [name for name, signature in self.signatures.items()
                                  if SITE_MARK in signature]
        return self._site_readers

    def reads_of(self, name: str) -> frozenset[str] | None:
        return self.reads.get(name)

    def changed_records(self) -> dict[str, ArticleRecord]:
        return self.changed

    def _dependents(self) -> Dependents:
        if self.dependents is None:
            self.dependents = Dependents.of(self.site.pages, self.feeds,
                                            self.site.config.feed_limit or None)
        return self.dependents

    def pages_of(self, source: str) -> list[int]:
        return self._dependents().pages.get(source, [])

    def page_info(self, number: int) -> tuple[str, bool]:
        page = self.site.pages[number]
        return output_file(page.url), isinstance(page.context.get("entity"), Entity)

    def page(self, number: int) -> Page:
        return self.site.pages[number]

    def feeds_of(self, source: str) -> list[int]:
        return self._dependents().feeds.get(source, [])

    def feed(self, number: int) -> FeedSource:
        return self.feeds[number]

    def card(self, source: str) -> Article | None:
        return self.cards().get(source)

    def signature(self, name: str) -> str | None:
        return self.signatures.get(name)

    def page_bytes(self, name: str) -> bytes | None:
        return self.files.get(name)

    def body_resolver(self, problems: list[Problem]) -> Callable[[ArticleRecord], str]:
        return body_resolver(self, problems)

    def links(self) -> tuple[dict[str, str], set[str], str, AssetTable]:
        """(source → site path of each shown article, sources not shown, the prefix of
        site paths in bodies (builder.urls.SITE_LINK), the published files): what
        :func:`resolve_links` resolves against. Made once: no delta build changes a view,
        so none changes a URL, and a file added, changed or removed under content/ takes a
        full build."""
        if self._links is None:
            urls = {article.source: article.url for article in self.site.articles}
            self._links = (urls, self.records.keys() - urls.keys(),
                           SITE_LINK,
                           AssetTable.of(self.site.assets))
        return self._links

    def cards(self) -> dict[str, Article]:
        """Source → card of each shown article, as the full build made it."""
        if self._cards is None:
            self._cards = {card.source: card for card in self.site.cards}
        return self._cards

    def apply(self, delta: Delta, saved: dict[str, ArticleRecord]) -> DeltaResult:
        """Make this describe the outputs after ``delta``; every output file, as now."""
        files, signatures = self.files.copy(), dict(self.signatures)
        for name, data in delta.files.items():
            files[name] = data
        signatures.update(delta.signatures)
        all_pages = list(self.site.pages)
        for number, page in delta.pages.items():
            all_pages[number] = page
        for number, source in delta.feeds.items():
            self.feeds[number] = source
        self.site = replace(self.site, pages=tuple(all_pages))
        self.changed = delta.changed
        self.records.update(saved)
        self.files, self.signatures = files, signatures
        self.reads.update(delta.reads)
        self.sources.update((source, record.key) for source, record in saved.items())
        return DeltaResult(files, signatures, delta.rendered, list(delta.files))


@dataclass
class Dependents:
    """Which pages and feeds reach each article: source → their indexes in
    ``site.pages`` and in the feed list. A delta build keeps every view, so what
    each page lists stays the same: the table holds until the next full build."""

    pages: dict[str, list[int]] = field(default_factory=dict)
    feeds: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, pages: tuple[Page, ...], feeds: list[FeedSource],
           feed_limit: int | None) -> Dependents:
        found = cls()
        for number, page in enumerate(pages):
            # Not page.shows: what a page shows is in its context (see Page), and the
            # sitemap that reads ``shows`` keeps every view, hence every date.
            for source in reached_articles(page.context):
                found.pages.setdefault(source, []).append(number)
        for number, feed in enumerate(feeds):
            for source in reached_articles(feed.articles[:feed_limit]):
                found.feeds.setdefault(source, []).append(number)
        return found


def wiki_resolver(site: Site, records: list[ArticleRecord],
                  entities: list[tuple[EntityRecord, str, list[tuple[int, str]]]],
                  lexicon: Lexicon | None, tag_slugs: dict[str, str]
                  ) -> tuple[WikiResolver, set[str]]:
    """The resolver of wikilinks a build's indexing used (with the slugs tag files claim
    for inline #tags: builder.index), and the sources of the articles whose text or
    headings other bodies show (:meth:`WikiResolver.depended`): an edit to one of them
    takes a full build."""
    shown = [article.record for article in site.articles]
    resolver = WikiResolver(lexicon, [e for e, _, _ in entities], shown, records,
                            unresolved=site.config.wikilinks_unresolved)
    resolver.tag_slugs = tag_slugs
    return resolver, resolver.depended(shown, [(e.source, links) for e, _, links in entities])


def body_resolver(last: LastBuild, problems: list[Problem]) -> Callable[[ArticleRecord], str]:
    """A function making an article's body as indexing does, from the last build's
    table of URLs; each problem it finds goes to ``problems``."""
    urls, hidden, prefix, assets = last.links()

    def body(record: ArticleRecord) -> str:
        return resolve_links(record, urls, hidden, last.resolver, prefix, problems, assets)[0]

    return body


@dataclass
class DeltaResult:
    """What a delta build made: every output file, its signature, the pages rendered."""

    files: Files
    signatures: dict[str, str]
    rendered: list[str]
    made: list[str]  # every file made again: the pages rendered, feeds, annotations


def saved_sources(last: LastBuild, site_dir: Path, saved: list[str],
                  static: dict[Path, tuple[tuple[int, int], bytes]]
                  ) -> list[tuple[str, Path]] | None:
    """(site-relative path, file) of each of ``saved`` (absolute paths the watcher gave),
    if a delta build may take them: every one an article of the last build with no
    problem in it, no static file or file copied from content/ of ``static`` (path →
    ((mtime_ns, size), bytes), as the last build read them) changed since, and no
    future article fallen due; else None (a saved image, say: an added, changed or
    removed file of content/ that is no article of the last build takes a full build).
    """
    config = last.site.config
    if last.valid_until is not None and \
            datetime.now(config.tz).date().isoformat() >= last.valid_until:
        return None
    # A static file can change with no build told (the preview server swaps an edited
    # one in): the last build's bytes of it would come back. Its stat says, as
    # builder.site_files.add_static reads it; a full build then reads it again.
    for path, (stat, _) in static.items():
        try:
            info = path.stat()
        except OSError:
            return None
        if (info.st_mtime_ns, info.st_size) != stat:
            return None
    sources = []
    for path in saved:
        try:
            rel = Path(path).resolve().relative_to(site_dir).as_posix()
        except (OSError, ValueError):
            return None
        if rel not in last.records or any(p.path == rel for p in last.warnings):
            return None
        sources.append((rel, site_dir / rel))
    return sources


