"""Rebuild after edits to article bodies, without indexing the site again.

When the preview server sees only existing articles saved, and each saved
article indexes exactly as before (its :func:`view` is unchanged: the same
slug, dates, tags, authors, link targets, mentioned entities, …), every
decision indexing made stands: which pages exist, what each lists and in
which order, the counts, the related articles. Only what those articles
*show* changed: their bodies, summaries, word counts, passages and quotes.

A delta build then
1. rebuilds, in the last build's page contexts, each object that holds one of
   the saved articles (:class:`Rewriter`), making its card and body as
   indexing makes them (:func:`builder.index.resolve_links`,
   :func:`builder.entity_index.passages`);
2. renders the pages whose contexts reach those articles
   (:class:`Dependents`), and makes again the feeds that list them and their
   ``annotations.json``;
3. keeps every other output as it is.

Anything else (a new, deleted or renamed file, an edited entity, template,
static file or ``site.yml``, a saved article whose view changed, a problem
in a saved file) takes a full build. ``tests/test_delta.py`` compares every
byte of a delta build with a cold build of the same files.

Hand-written: this is Postil's own rebuild logic; no library knows its model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from builder.entity_index import WikiResolver, passages
from builder.feeds import FeedCache, FeedSource, FeedWriter, tag_names
from builder.index import resolve_links
from builder.model import (
    Article,
    ArticleRecord,
    Entity,
    EntityRecord,
    Highlight,
    Mention,
    Page,
    Quote,
    Site,
)
from builder.outputs import SITE_MARK, Files, Signer
from builder.parallel import render_pages
from builder.problems import Problem
from builder.reads import must_render
from builder.render import Renderer
from builder.urls import annotations_path, output_file
from builder.webannotation import annotation_file

#: the signature the pipeline gives a static file (its bytes decide)
STATIC = "static"

#: values that never hold an article: a walk over a page context stops at them
_LEAVES = (str, bytes, int, float, bool, date, datetime, type(None), EntityRecord, Mention,
           Highlight, Quote)


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
    dependents: Dependents | None = None  # made on the first delta build
    _links: tuple[dict[str, str], set[str], str] | None = None
    _cards: dict[str, Article] | None = None
    _site_readers: list[str] | None = None

    def site_readers(self) -> list[str]:
        """The output files whose templates read the global ``site`` (their signature
        says so). Made once: a delta build goes on only if none of them must render."""
        if self._site_readers is None:
            self._site_readers = [name for name, signature in self.signatures.items()
                                  if SITE_MARK in signature]
        return self._site_readers

    def links(self) -> tuple[dict[str, str], set[str], str]:
        """(source → site path of each shown article, sources not shown, base path
        without its last slash): what :func:`resolve_links` resolves against. Made
        once: no delta build changes a view, so none changes a URL."""
        if self._links is None:
            urls = {article.source: article.url for article in self.site.articles}
            self._links = (urls, self.records.keys() - urls.keys(),
                           self.site.config.base_path.rstrip("/"))
        return self._links

    def cards(self) -> dict[str, Article]:
        """Source → card of each shown article, as the full build made it."""
        if self._cards is None:
            self._cards = {card.source: card for card in self.site.cards}
        return self._cards


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


def reached_articles(value: Any) -> set[str]:
    """The source of every article ``value`` holds (a page context: dataclasses,
    tuples, lists, dicts), each object visited once."""
    found: set[str] = set()
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _LEAVES) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Article):
            found.add(item.record.source)
            stack += (item.link_targets, item.related)
        elif isinstance(item, ArticleRecord):
            found.add(item.source)
        elif isinstance(item, (tuple, list)):
            stack += item
        elif isinstance(item, dict):
            stack += item.values()
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack += [getattr(item, name) for name in _field_names(type(item))]
    return found


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return names


class Rewriter:
    """Rebuilds objects of the last build that hold a changed article.

    ``records``: source → the article's record now, for every article changed
    since the last full build (objects of the last site may still hold any of
    their earlier records). ``body``: the article's body with its links resolved,
    as indexing makes it. Objects that hold no changed article come back as they
    are; each object is rebuilt once, so what was shared stays shared.
    """

    def __init__(self, records: dict[str, ArticleRecord],
                 body: Callable[[ArticleRecord], str]):
        self.records = records
        self.body = body
        self._memo: dict[tuple[int, str], tuple[Any, Any]] = {}
        self._bodies: dict[str, str] = {}
        self._mentions: dict[str, dict[str, Mention]] = {}

    def value(self, item: Any, entity: str = "") -> Any:
        """``item`` with every changed article in it rebuilt. ``entity``: the slug of
        the entity whose passages ``item`` may hold (an entity page's paginator)."""
        if isinstance(item, _LEAVES) or item is None:
            return item
        key = (id(item), entity)
        known = self._memo.get(key)
        if known is None:  # (the item is held too, so that its id is never reused)
            known = self._memo[key] = (item, self._rebuild(item, entity))
        return known[1]

    def _rebuild(self, item: Any, entity: str) -> Any:
        if isinstance(item, Article):
            return self._article(item)
        if isinstance(item, ArticleRecord):
            return self.records.get(item.source, item)
        if isinstance(item, Entity):
            return self._entity(item)
        if isinstance(item, tuple):
            if len(item) == 2 and isinstance(item[0], Article):
                pair = self._pair(item, entity)
                if pair is not None:
                    return pair
            return self._sequence(item, entity)
        if isinstance(item, list):
            return list(self._sequence(tuple(item), entity))
        if isinstance(item, dict):
            values = {name: self.value(value, entity) for name, value in item.items()}
            same = all(values[name] is value for name, value in item.items())
            return item if same else values
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            return self._fields(item, entity)
        return item

    def _sequence(self, items: tuple, entity: str) -> tuple:
        changed = self.records
        # An unchanged card (most of a long list) is itself: no memo, no call.
        values = tuple(value if type(value) is Article and not value.related
                       and not value.link_targets and value.record.source not in changed
                       else self.value(value, entity) for value in items)
        return items if all(a is b for a, b in zip(values, items, strict=True)) else values

    def _fields(self, item: Any, entity: str) -> Any:
        changes = {}
        for name in _field_names(type(item)):
            value = getattr(item, name)
            new = self.value(value, entity)
            if new is not value:
                changes[name] = new
        return replace(item, **changes) if changes else item

    def _article(self, article: Article) -> Article:
        changes: dict[str, Any] = {}
        record = self.records.get(article.record.source)
        if record is not None and record is not article.record:
            changes["record"] = record
            changes["body_html"] = self._body(record)
        for name in ("link_targets", "related"):
            value = getattr(article, name)
            new = self.value(value)
            if new is not value:
                changes[name] = new
        return replace(article, **changes) if changes else article

    def _body(self, record: ArticleRecord) -> str:
        found = self._bodies.get(record.source)
        if found is None:
            found = self._bodies[record.source] = self.body(record)
        return found

    def _pair(self, pair: tuple, entity: str) -> tuple | None:
        """An entity's (article card, mention), or with ``entity`` its (card, passages)."""
        card, second = pair
        record = self.records.get(card.record.source)
        if isinstance(second, Mention):
            if record is None:
                return pair if card is self.value(card) else (self.value(card), second)
            return self.value(card), self._mention(record, second.id)
        if entity and isinstance(second, list):
            if record is None:
                return pair if card is self.value(card) else (self.value(card), second)
            return self.value(card), passages([m for m in record.mentions
                                               if m.entity == entity])
        return None

    def _mention(self, record: ArticleRecord, mention_id: str) -> Mention:
        by_id = self._mentions.get(record.source)
        if by_id is None:
            by_id = self._mentions[record.source] = {m.id: m for m in record.mentions}
        return by_id[mention_id]  # the view is unchanged: the same ids

    def _entity(self, entity: Entity) -> Entity:
        changes = {}
        for name in ("mentions", "articles", "passages", "timeline"):
            value = getattr(entity, name)
            new = self.value(value, entity.slug if name == "passages" else "")
            if new is not value:
                changes[name] = new
        return replace(entity, **changes) if changes else entity

    def page(self, page: Page) -> Page:
        """The page rebuilt: an entity page's paginator holds that entity's passages."""
        shown = page.context.get("entity")
        slug = shown.slug if isinstance(shown, Entity) and "paginator" in page.context else ""
        context = {name: self.value(value, slug if name == "paginator" else "")
                   for name, value in page.context.items()}
        return replace(page, context=context, shows=self.value(page.shows))


def body_resolver(last: LastBuild, problems: list[Problem]) -> Callable[[ArticleRecord], str]:
    """A function making an article's body as indexing does, from the last build's
    table of URLs; each problem it finds goes to ``problems``."""
    urls, hidden, prefix = last.links()

    def body(record: ArticleRecord) -> str:
        return resolve_links(record, urls, hidden, last.resolver, prefix, problems)[0]

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


def rebuild(last: LastBuild, saved: dict[str, ArticleRecord], renderer: Renderer,
            signer: Signer, feeds: FeedCache) -> DeltaResult | None:
    """The outputs after ``saved`` (source → record now, each with its view unchanged)
    replace their records, made from ``last`` without indexing; None when a full
    build must decide (a link or template problem, a page that reads ``site``).

    ``last`` is updated to describe the new outputs only when a result is returned.
    """
    config = last.site.config
    # A signer of its own: the full build's memo is keyed by object ids, and an object
    # a delta build drops could leave its id to a new one.
    signer = Signer(last.site, signer.pages_version, signer.settings)
    problems: list[Problem] = []
    changed = {**last.changed, **saved}
    rewriter = Rewriter(changed, body_resolver(last, problems))
    if last.dependents is None:
        last.dependents = Dependents.of(last.site.pages, last.feeds, config.feed_limit or None)
    dependents = last.dependents
    # What changed for a page, in the fields it reads, is what changed between the saved
    # articles' records in ``last.records`` and now: a page an earlier delta build did
    # not render may hold older records, but they differ only in fields it does not read.
    fields = {source: {name for name in _field_names(ArticleRecord)
                       if getattr(last.records[source], name) != getattr(record, name)}
              for source, record in saved.items()}
    # A page that reads ``site`` reaches every article through it, not through its
    # context (so not through ``dependents``): if it read a field that changed, a full
    # build decides, as it would if rendering the page found it reading ``site``.
    every = set().union(*fields.values())
    if every and any(must_render(last.reads.get(name), every) for name in last.site_readers()):
        return None
    changes: dict[int, set[str]] = {}
    for source in saved:
        if not fields[source]:  # saved as it was: no page shows anything new
            continue
        for number in dependents.pages.get(source, ()):
            changes.setdefault(number, set()).update(fields[source])
    # A page renders again only if it read a field that changed (builder.reads), or
    # shows passages that changed; the others keep their bytes and their context. Their
    # recorded signature is then stale: the next full build renders them (a miss, no harm).
    todo: list[tuple[int, Page]] = []
    for number, changed_here in sorted(changes.items()):
        page = last.site.pages[number]
        if must_render(last.reads.get(output_file(page.url)), changed_here):
            todo.append((number, rewriter.page(page)))
        elif isinstance(page.context.get("entity"), Entity):
            new = rewriter.page(page)
            if _passages_changed(page, new):
                todo.append((number, new))
    files, signatures = last.files.copy(), dict(last.signatures)
    rendered = render_pages(renderer, [page for _, page in todo], jobs=1, into=files)
    if problems or rendered.problems or rendered.reads_site:
        return None
    made = [output_file(page.url) for _, page in todo]
    for (_, page), name in zip(todo, made, strict=True):
        signatures[name] = signer.page(page)
    cards = last.cards()
    for source in saved:
        if source in cards:
            card = rewriter.value(cards[source])
            name = output_file(annotations_path(card.url))
            signatures[name] = signer.of("annotations", card)
            files[name] = annotation_file(config, card)
            made.append(name)
    writer = FeedWriter(config, tag_names(last.site), feeds, signer.of)
    limit = config.feed_limit or None
    feed_numbers = sorted({n for source in saved for n in dependents.feeds.get(source, ())})
    new_feeds = {}
    for number in feed_numbers:
        source = new_feeds[number] = rewriter.value(last.feeds[number])
        name = output_file(source.feed_url)
        if last.signatures.get(name) == STATIC:  # a static file of that name wins
            continue
        entries = tuple(writer.entry_inputs(a) for a in source.articles[:limit])
        signatures[name] = signer.of("feed", source.feed_url, source.title, source.subtitle,
                                     source.page_url, entries)
        files[name] = writer.feed(source)
        made.append(name)
    # Done: the last build now describes these outputs.
    all_pages = list(last.site.pages)
    for number, page in todo:
        all_pages[number] = page
    for number, source in new_feeds.items():
        last.feeds[number] = source
    last.site = replace(last.site, pages=tuple(all_pages))
    last.changed = changed
    last.records.update(saved)
    last.files, last.signatures = files, signatures
    last.reads.update(rendered.reads)
    return DeltaResult(files, signatures, [output_file(page.url) for _, page in todo], made)
