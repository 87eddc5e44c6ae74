"""Rebuild after edits to article bodies, without indexing the site again.

When only existing articles were saved, and each saved
article indexes exactly as before (its :func:`view` is unchanged: the same
slug, dates, tags, authors, link targets, mentioned entities, …), every
decision indexing made stands: which pages exist, what each lists and in
which order, the counts, the related articles. Only what those articles
*show* changed: their bodies, summaries, word counts, passages and quotes.

A delta build then
1. finds the pages whose contexts reach the saved articles (from the last full
   build: :class:`Basis`, kept in memory by the preview server,
   :class:`builder.last_build.LastBuild`, or stored by ``postil build``,
   :class:`builder.delta_build.StoredBuild`)
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
from dataclasses import dataclass, replace
from typing import Any, Protocol

from builder.feeds import FeedCache, FeedSource, FeedWriter
from builder.model import (
    Article,
    ArticleRecord,
    Entity,
    Page,
)
from builder.outputs import Signer
from builder.parallel import render_pages
from builder.problems import Problem
from builder.reads import must_render
from builder.render import Renderer
from builder.rewrite import Rewriter, field_names
from builder.site_files import STATIC, annotation_signature
from builder.urls import annotations_path, output_file
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


#: the fields :func:`view` leaves out: all a delta build's edit can change of a record
#: (and of an article, whose ``body_html`` is its record's, resolved)
BEYOND_VIEW = frozenset({"key", "body_html", "summary", "word_count", "headings", "links",
                         "wikilinks", "embeds", "assets", "mentions", "highlights"})


def may_render(read: frozenset[str] | None, entity: bool) -> bool:
    """Whether a delta build may ever render a page that read ``read`` of its articles
    (None: not known): one that read a field beyond the view, or an entity's page,
    which shows passages (see :func:`rebuild`)."""
    return entity or must_render(read, set(BEYOND_VIEW))


def _passages_changed(old: Page, new: Page) -> bool:
    """Whether an entity page's passages (its paginator's items) changed."""
    before, after = old.context.get("paginator"), new.context.get("paginator")
    if not isinstance(old.context.get("entity"), Entity) or before is None or after is None:
        return False
    return any(a is not b and a[1] != b[1] for a, b in zip(before.items, after.items,
                                                           strict=True))


class Basis(Protocol):
    """What a delta build starts from: the last full build, held in memory by the
    preview server (:class:`builder.last_build.LastBuild`) or stored by ``postil build``
    (:class:`builder.delta_build.StoredBuild`). Pages and feeds are named by number."""

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
