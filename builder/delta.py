"""Rebuild after edits to article bodies, without indexing the site again.

When the preview server sees only existing articles saved, and each saved
article indexes exactly as before (its :func:`view` is unchanged: the same
slug, dates, tags, authors, link targets, mentioned entities, …), every
decision indexing made stands: which pages exist, what each lists and in
which order, the counts, the related articles. Only what those articles
*show* changed: their bodies, summaries, word counts, passages and quotes.

A delta build then
1. finds the pages whose contexts reach the saved articles (:class:`Dependents`)
   and, of those, the ones whose templates read a field that changed, or that
   quote a passage that changed (:mod:`builder.reads`);
2. rebuilds, in those pages' contexts, each object that holds one of the
   saved articles (:class:`builder.rewrite.Rewriter`), making its card and body
   as indexing makes them, and renders them; makes again the feeds that list
   the saved articles and their ``annotations.json``;
3. keeps every other output as it is.

Anything else (a new, deleted or renamed file, an edited entity, template,
static file or ``site.yml``, a saved article whose view changed, a problem
in a saved file, a changed static file, a page reading the global ``site``
that read a changed field, a saved article that embeds notes or whose text or
headings another body shows) takes a full build. ``tests/test_delta.py`` and
``tests/test_delta_attack.py`` compare every byte of delta builds with cold
builds of the same files, and so does the rebuild oracle.

Hand-written: this is Postil's own rebuild logic; no library knows its model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from builder.assets import AssetTable
from builder.entity_index import WikiResolver
from builder.feeds import FeedCache, FeedSource, FeedWriter, tag_names
from builder.index import resolve_links
from builder.lexicon import Lexicon
from builder.model import (
    Article,
    ArticleRecord,
    Entity,
    EntityRecord,
    Page,
    Site,
)
from builder.outputs import SITE_MARK, Files, Signer
from builder.parallel import render_pages
from builder.problems import Problem
from builder.reads import must_render
from builder.render import Renderer
from builder.rewrite import Rewriter, field_names, reached_articles
from builder.site_files import STATIC, annotation_signature
from builder.urls import SITE_LINK, annotations_path, output_file
from builder.webannotation import annotation_file


def view(record: ArticleRecord) -> ArticleRecord:
    """What indexing reads of ``record``: the record without the fields indexing only
    passes on to the templates (body, summary, word count, headings, the text of its
    mentions and highlights, its key). Two records with equal views index alike.

    Link and wikilink targets are kept without their lines, since those lines reach
    the output only in a problem, and a delta build refuses any problem.
    """
    return replace(
        record, key="", body_html="", summary="", word_count=0, headings=[],
        links=[target for _, target in record.links],  # type: ignore[misc]
        wikilinks=[target for _, target in record.wikilinks],  # type: ignore[misc]
        embeds=[target for _, target in record.embeds],  # type: ignore[misc]
        assets=[(target, how) for _, target, how in record.assets],  # type: ignore[misc]
        mentions=[(m.entity, m.id) for m in record.mentions],  # type: ignore[misc]
        highlights=[bool(record.highlights)])  # type: ignore[list-item]


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
        shown = [article.record for article in site.articles]
        resolver = WikiResolver(lexicon, [e for e, _, _ in entities], shown, records,
                                unresolved=site.config.wikilinks_unresolved)
        resolver.tag_slugs = tag_slugs  # (builder.index: inline #tags a tag file claims)
        return cls(site=site, records={r.source: r for r in records},
                   resolver=resolver,
                   depended=resolver.depended(shown, [(e.source, links)
                                                      for e, _, links in entities]),
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


def body_resolver(last: LastBuild, problems: list[Problem]) -> Callable[[ArticleRecord], str]:
    """A function making an article's body as indexing does, from the last build's
    table of URLs; each problem it finds goes to ``problems``."""
    urls, hidden, prefix, assets = last.links()

    def body(record: ArticleRecord) -> str:
        return resolve_links(record, urls, hidden, last.resolver, prefix, problems, assets)[0]

    return body


def _passages_changed(old: Page, new: Page) -> bool:
    """Whether an entity page's passages (its paginator's items) changed."""
    before, after = old.context.get("paginator"), new.context.get("paginator")
    if not isinstance(old.context.get("entity"), Entity) or before is None or after is None:
        return False
    return any(a is not b and a[1] != b[1] for a, b in zip(before.items, after.items,
                                                           strict=True))


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


class Basis(Protocol):
    """What a delta build starts from: the last full build, held in memory by the
    preview server (:class:`LastBuild`) or stored by ``postil build``
    (:class:`builder.delta_store.StoredBuild`). Pages and feeds are named by number."""

    config: Any
    renderer: Renderer
    pages_version: bytes  # see builder.outputs.Signer
    settings: bytes
    depended: set[str]
    tag_names: dict[str, dict[str, tuple[str, str]]]

    def record(self, source: str) -> ArticleRecord:
        """The record of ``source`` as the last build read it (a known source)."""

    def changed_records(self) -> dict[str, ArticleRecord]:
        """Source → record now, of every article changed since the last full build."""

    def site_readers(self) -> list[str]:
        """The output files whose templates read the global ``site``."""

    def reads_of(self, name: str) -> frozenset[str] | None:
        """What output file ``name`` read of its articles; None: not known."""

    def pages_of(self, source: str) -> list[int]:
        """The numbers of the pages whose contexts reach ``source``."""

    def page_info(self, number: int) -> tuple[str, bool]:
        """The output file of the page of that number, and whether it is an entity's."""

    def page(self, number: int) -> Page:
        """The page of that number, its context as the build that rendered it made it."""

    def feeds_of(self, source: str) -> list[int]:
        """The numbers of the feeds listing ``source``."""

    def feed(self, number: int) -> FeedSource:
        """The feed of that number."""

    def card(self, source: str) -> Article | None:
        """The card of a shown article; None for one not shown (a draft)."""

    def signature(self, name: str) -> str | None:
        """The signature output file ``name`` was made under."""

    def page_bytes(self, name: str) -> bytes | None:
        """The bytes of output file ``name`` as the last build left them."""

    def body_resolver(self, problems: list[Problem]) -> Callable[[ArticleRecord], str]:
        """See :func:`body_resolver`."""


@dataclass
class Delta:
    """What a delta build made: the pages rendered again (number → page), the feeds made
    again (number → feed), and every file made again with its bytes and signature."""

    pages: dict[int, Page]
    feeds: dict[int, FeedSource]
    files: dict[str, bytes]
    signatures: dict[str, str]
    rendered: list[str]  # output files of the pages rendered
    reads: dict[str, frozenset[str]]  # what each page rendered read of its articles
    cards: dict[str, Article]  # the saved articles' cards, made again
    changed: dict[str, ArticleRecord]  # records changed since the full build, these included


def rebuild(last: Basis, saved: dict[str, ArticleRecord],
            feeds: FeedCache) -> Delta | None:
    """The files ``saved`` (source → record now) change, made from ``last`` without
    indexing; None when a full build must decide (a saved article's view changed, a
    link or template problem, a page that reads ``site``). ``last`` is not changed."""
    if any(view(record) != view(last.record(source)) for source, record in saved.items()):
        return None
    # An article that embeds others shows their text, made by indexing (builder.embeds);
    # one whose text or headings another body shows changes that body too. Both are
    # left to a full build, which makes every body again.
    if any(record.embeds or source in last.depended for source, record in saved.items()):
        return None
    config, renderer = last.config, last.renderer
    # A signer of its own: a memo is keyed by object ids, and an object a delta build
    # drops could leave its id to a new one. (It signs pages and other files: never the
    # whole site, which a page that reads it would need; such a page ends a delta build.)
    signer = Signer(None, last.pages_version, last.settings)  # type: ignore[arg-type]
    problems: list[Problem] = []
    changed = {**last.changed_records(), **saved}
    rewriter = Rewriter(changed, last.body_resolver(problems))
    # What changed for a page, in the fields it reads, is what changed between the saved
    # articles' records as last read and now: a page an earlier delta build did not
    # render may hold older records, but they differ only in fields it does not read.
    fields = {source: {name for name in field_names(ArticleRecord)
                       if getattr(last.record(source), name) != getattr(record, name)}
              for source, record in saved.items()}
    # A page that reads ``site`` reaches every article through it, not through its
    # context (so not through ``pages_of``): if it read a field that changed, a full
    # build decides, as it would if rendering the page found it reading ``site``.
    every = set().union(*fields.values())
    if every and any(must_render(last.reads_of(name), every) for name in last.site_readers()):
        return None
    changes: dict[int, set[str]] = {}
    for source in saved:
        if not fields[source]:  # saved as it was: no page shows anything new
            continue
        for number in last.pages_of(source):
            changes.setdefault(number, set()).update(fields[source])
    # A page renders again only if it read a field that changed (builder.reads), or
    # shows passages that changed; the others keep their bytes and their context. Their
    # recorded signature is then stale: the next full build renders them (a miss, no harm).
    todo: dict[int, Page] = {}
    for number, changed_here in sorted(changes.items()):
        name, entity = last.page_info(number)
        if must_render(last.reads_of(name), changed_here):
            todo[number] = rewriter.page(last.page(number))
        elif entity:
            page = last.page(number)
            new = rewriter.page(page)
            if _passages_changed(page, new):
                todo[number] = new
    rendered = render_pages(renderer, list(todo.values()), jobs=1)
    if problems or rendered.problems or rendered.reads_site:
        return None
    files, signatures = dict(rendered.files), {}
    for page in todo.values():
        signatures[output_file(page.url)] = signer.page(page)
    cards = {}
    for source in saved:
        card = last.card(source)
        if card is not None:
            card = cards[source] = rewriter.value(card)
            name = output_file(annotations_path(card.url))
            page_name = output_file(card.url)  # (its selectors count over the page's text)
            signature = signatures.get(page_name) or last.signature(page_name)
            signatures[name] = annotation_signature(signer, card, signature)
            files[name] = annotation_file(config, card, files[page_name]
                                          if page_name in files else last.page_bytes(page_name))
    writer = FeedWriter(config, last.tag_names, feeds, signer.of)
    new_feeds = {}
    for number in sorted({n for source in saved for n in last.feeds_of(source)}):
        source = new_feeds[number] = rewriter.value(last.feed(number))
        name = output_file(source.feed_url)
        if last.signature(name) == STATIC:  # a static file of that name wins
            continue
        signatures[name] = writer.signature(source)
        files[name] = writer.feed(source)
    return Delta(pages=todo, feeds=new_feeds, files=files, signatures=signatures,
                 rendered=[output_file(page.url) for page in todo.values()],
                 reads=rendered.reads, cards=cards, changed=changed)
