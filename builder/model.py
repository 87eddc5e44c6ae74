"""Plain data passed between the stages: no HTML building, no I/O.

Two kinds of object, and nothing changes either once made:

* **Records** come out of reading one file (:class:`ArticleRecord`,
  :class:`EntityRecord`). A record is a pure function of the file's bytes and
  the read settings, and carries ``key``, a hash of exactly those, so the key
  stands for the whole record (see :mod:`builder.fingerprint`). The one
  exception, a note dated by its file's last commit or modification time, gets
  that date after reading, with a key that covers it (:mod:`builder.filedates`).
* **Indexed objects** (:class:`Article`, :class:`Entity`, :class:`Term`,
  :class:`Site`, …) are made anew by every build from the records and the
  configuration. An indexed object refers to other articles and entities only
  through *cards*: the same class with its cross-references left empty. So
  what a template can reach from a page's context is bounded, and hashing that
  context (:func:`builder.fingerprint.fingerprint`) covers everything the page
  can show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter
from typing import Any


@dataclass(frozen=True)
class ArticleRecord:
    """One Markdown file after parsing: front matter values plus rendered body.

    ``body_html`` still holds link placeholders (``postil-ref:N``,
    ``postil-wiki:N``, ``postil-asset:N``, ``postil-embed:N``, ``postil-tag:N``: indexes
    into ``links``, ``wikilinks``, ``assets``, ``embeds`` and ``hashtags``); indexing
    resolves them from the table of URLs into :attr:`Article.body_html`.
    """

    source: str  # path relative to the site folder, with forward slashes
    slug: str
    title: str
    # The date the article is filed and sorted by: the source's publication date (`date:`),
    # else the file name's, else its `updated:` date (dated_by "updated": the page then
    # says "last updated", never "published"), else its file's (see dated_by).
    date: date  # the calendar date, never shifted by time zones
    datetime: datetime | None  # set when the front matter gave a time; always aware
    updated: date | datetime | None = None  # when the source was last updated (`updated:`)
    read: date | datetime | None = None  # when it was read and annotated (`read:`)
    authors: list[str] = field(default_factory=list)  # as written; may be empty
    tags: list[str] = field(default_factory=list)
    source_url: str = ""
    publication: str = ""
    summary: str = ""
    draft: bool = False
    lang: str = ""
    template: str = "article.html"
    body_html: str = ""
    word_count: int = 0
    headings: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # front matter keys Postil does not own
    lines: dict[str, int] = field(default_factory=dict)  # front matter key → file line
    links: list[tuple[int, str]] = field(default_factory=list)  # (line, target .md path)
    mentions: list[Mention] = field(default_factory=list)  # in document order
    highlights: list[Highlight] = field(default_factory=list)  # highlights and notes, in order
    about: list[str] = field(default_factory=list)  # entity slugs from front matter
    events: list[dict[str, Any]] = field(default_factory=list)  # front matter events, checked
    wikilinks: list[tuple[int, str]] = field(default_factory=list)  # (line, target) not entities
    embeds: list[tuple[int, str]] = field(default_factory=list)  # (line, target) of ![[Note]]
    hashtags: list[str] = field(default_factory=list)  # inline #tags (also in ``tags``)
    blocks: list[str] = field(default_factory=list)  # block ids (``^id``), without the ``^``
    categories: list[str] = field(default_factory=list)  # `categories`/`category`, as written
    aliases: list[str] = field(default_factory=list)  # other names, for wikilinks
    redirects: list[str] = field(default_factory=list)  # old site paths ("/old/url/")
    permalink: str = ""  # a site path the front matter chose ("/about/"), or ""
    # Where the date comes from: "" the front matter's `date:`, "name" the file name
    # (2024-01-02-x.md), "updated" its `updated:` (no publication date is known), "git" its
    # file's last commit, "mtime" its file's modification time; "file" before
    # builder.filedates gives one of the last two (reading sees only the file's bytes).
    dated_by: str = ""
    # (line, target, how) of each link to a file (builder.assets): how is "path" (target
    # a site-relative path) or "embed" (![[target]], found by name)
    assets: list[tuple[int, str, str]] = field(default_factory=list)
    # verbatim quotations of the source (builder.quotes); checked against the snapshot
    # after reading (builder.snapshots), with a key that covers the snapshot
    quotations: list[Quotation] = field(default_factory=list)
    key: str = ""  # hash of the code, read settings, path and bytes this record comes from

    @property
    def sort_key(self) -> tuple:
        """Newest first when sorted in reverse; stable for equal dates."""
        stamp = self.datetime.timestamp() if self.datetime else None
        return (self.date, stamp is not None, stamp or 0.0, self.slug)

    @property
    def iso_date(self) -> str:
        return self.datetime.isoformat() if self.datetime else self.date.isoformat()

    @property
    def year(self) -> int:
        return self.date.year

    @property
    def published(self) -> date | datetime | None:
        """When the article (its source, if it has one) was published, as the front
        matter's ``date:`` or the file name says; None when only ``updated:`` dates it or
        its file does (git, modification time): those say nothing of publication."""
        if self.dated_by not in ("", "name"):
            return None
        return self.datetime or self.date

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)


@dataclass(frozen=True, eq=False)
class Article:
    """An article as the site shows it: its record, plus what indexing decided.

    Every field of the record is readable here too (``article.title``). A
    *card* (in lists, ``related``, ``newer``/``older``, entity passages) has
    ``related``, ``entity_groups`` and ``link_targets`` empty.
    """

    record: ArticleRecord
    url: str  # site path, e.g. "/articles/slug/"
    authors: list[str]  # the record's, or the site's author
    # links resolved to site paths (postil-site:/…, builder.urls), made relative per page
    body_html: str
    link_targets: tuple[Article, ...] = ()  # cards of the articles its body links to
    related: tuple[Article, ...] = ()  # cards, by shared entities, then tags
    entity_groups: tuple[tuple[str, tuple[tuple[Entity, int], ...]], ...] = ()  # entity cards

    def line(self, key: str) -> int:
        return self.record.line(key)


@dataclass
class Quote:
    """Where a piece of text sits in an article's plain text (W3C selectors)."""

    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


@dataclass
class Mention:
    """One place an article names an entity (made while parsing, then never changed)."""

    entity: str  # slug
    id: str  # "m-<entity>-<n>", the anchor in the article page
    line: int
    linked: bool  # the first automatic mention and every wikilink are links
    explicit: bool  # written as a wikilink
    quote: Quote
    # The paragraph (or margin note) around it as shown, corrections applied (no deleted
    # text), up to PASSAGE + 1 characters each side; entity pages cut a passage from them.
    before: str = ""
    after: str = ""
    text: str = ""  # its own words as shown ("" inside a deletion)
    block: int = 0  # identifies the paragraph (or margin note) it is in
    offset: int = 0  # where it starts in that paragraph's text
    owner: str = ""  # the key of the record it belongs to (see builder.fingerprint)


@dataclass
class Highlight:
    """A highlight, margin note, insertion or deletion the reader made."""

    id: str  # "hl-<n>"
    kind: str  # "highlight", "note", "insertion" or "deletion"
    text: str  # the passage (empty for a note on its own)
    note: str  # the margin note as plain text
    line: int
    quote: Quote
    owner: str = ""  # the key of the record it belongs to (see builder.fingerprint)


@dataclass(frozen=True)
class Quotation:
    """Text the article gives as the source's own words (see :mod:`builder.quotes`)."""

    id: str  # the highlight's "hl-<n>", or "q-<n>" for an inline {"quote"}
    kind: str  # "highlight" (a highlight in a blockquote) or "inline"
    text: str  # as written, as plain text
    line: int
    source_text: str = ""  # the snapshot's words it matched; "" when not (yet) verified


@dataclass(frozen=True)
class EntityRecord:
    """A person, organisation, place, event or work: one file of ``content/entities/``."""

    source: str
    slug: str
    name: str
    type: str = "other"
    aliases: list[str] = field(default_factory=list)
    case_sensitive: list[str] = field(default_factory=list)
    weak_aliases: list[str] = field(default_factory=list)
    wikidata: str = ""
    description: str = ""
    date: Any = None  # PartialDate for events
    end: Any = None
    location: str = ""
    participants: list[str] = field(default_factory=list)
    body_markdown: str = ""  # the notes as written; rendered once the registry is known
    body_line: int = 1
    lines: dict[str, int] = field(default_factory=dict)
    key: str = ""  # hash of the file's bytes
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)


@dataclass(frozen=True, eq=False)
class Entity:
    """An entity as the site shows it.

    A *card* (in an article's ``entity_groups``, ``related``, timeline events)
    has the counts and relations empty; a *header* (the entity list, later
    pages of an entity) has the counts but not the relations.
    """

    record: EntityRecord
    body_html: str = ""  # the notes, rendered, links to articles resolved
    mention_count: int = 0  # 0 on a card
    article_count: int = 0
    # (article card, mention), newest article first
    mentions: tuple[tuple[Article, Mention], ...] = ()
    articles: tuple[Article, ...] = ()  # cards, newest first
    # Newest article first; per article its passages, each a list of (text, mention or None)
    # pieces: one passage per paragraph, every mention of the entity in it emphasised.
    passages: tuple[tuple[Article, list[list[tuple[str, Mention | None]]]], ...] = ()
    related: tuple[tuple[Entity, int], ...] = ()  # co-mentioned entity cards, with counts
    timeline: tuple[TimelineEvent, ...] = ()
    place: Entity | None = None  # the card of its `location:` (an event's), but on a card

    @property
    def url(self) -> str:
        return f"/entities/{self.slug}/"

    def line(self, key: str) -> int:
        return self.record.line(key)


def _delegate(cls: type, record: type, own: set[str], extra: tuple[str, ...] = ()) -> None:
    """Make every field of ``record`` (and ``extra`` properties) readable on ``cls``."""
    for name in (*record.__dataclass_fields__, *extra):
        if name not in own and not hasattr(cls, name):
            setattr(cls, name, property(attrgetter(f"record.{name}"),
                                        doc=f"The record's ``{name}``."))


_delegate(Article, ArticleRecord, set(Article.__dataclass_fields__),
          ("sort_key", "iso_date", "year", "published"))
_delegate(Entity, EntityRecord, set(Entity.__dataclass_fields__))


@dataclass(frozen=True, eq=False)
class TimelineEvent:
    date: Any  # PartialDate
    text: str
    entities: tuple[Entity, ...] = ()  # cards
    articles: tuple[Article, ...] = ()  # cards
    entity: Entity | None = None  # the card of the event's own entity page, if it has one
    end: Any = None


@dataclass(frozen=True, eq=False)
class Term:
    """A tag, author or category: every article filed under one slug (builder.terms)."""

    kind: str  # "tags", "authors" or "categories"
    slug: str
    name: str  # the term file's title, else the most used spelling
    count: int  # articles filed under it
    articles: tuple[Article, ...] = ()  # cards, newest first; empty on a term's own pages
    description: str = ""  # from its term file (content/<kind>/<slug>.md), if any
    body_html: str = ""  # the term file's text, rendered, links resolved
    source: str = ""  # the term file, or ""

    @property
    def url(self) -> str:
        return f"/{self.kind}/{self.slug}/"


@dataclass(frozen=True, eq=False)
class Paginator:
    """One page of a paginated list."""

    number: int
    total: int
    items: tuple[Any, ...]
    base: str  # site path of the first page, e.g. "/tags/x/"

    def url_for(self, number: int) -> str:
        return self.base if number == 1 else f"{self.base}page/{number}/"

    @property
    def url(self) -> str:
        return self.url_for(self.number)

    @property
    def prev_url(self) -> str | None:
        return self.url_for(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url_for(self.number + 1) if self.number < self.total else None


@dataclass(frozen=True, eq=False)
class Page:
    """A page to render: its site path, template and template variables.

    What the page shows is exactly ``context`` (plus ``site`` if its templates
    read it): the page's signature is a hash of this object, so nothing here
    may be left out of it. ``shows`` lists the articles whose dates give the
    page its sitemap ``lastmod`` (an article's page: its own), all of them in
    ``context`` too.
    """

    url: str
    template: str
    context: dict[str, Any]
    source: str = ""  # the file it came from, for error messages
    source_line: int = 1
    # Left out of the signature: each of these articles is in ``context`` already, so
    # what a page depends on is said once, by its context.
    shows: tuple[Article, ...] = field(default=(), metadata={"unsigned": True})


@dataclass(frozen=True, eq=False)
class Site:
    """The whole site, indexed: what the templates see as ``site``."""

    config: Any
    articles: tuple[Article, ...]  # newest first
    tags: tuple[Term, ...]
    authors: tuple[Term, ...]
    years: tuple[tuple[int, tuple[Article, ...]], ...]
    pages: tuple[Page, ...] = ()
    entities: tuple[Entity, ...] = ()  # A–Z
    entity_types: tuple[tuple[str, tuple[Entity, ...]], ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()
    annotated: tuple[Article, ...] = ()  # with highlights, newest first
    assets: tuple[Asset, ...] = ()  # files copied from content/ (builder.assets)
    redirects: tuple[Redirect, ...] = ()  # pages sending old URLs on (builder.redirects)
    categories: tuple[Term, ...] = ()
    # kind ("tags", …) → name as an article writes it → (term slug, name shown)
    term_names: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)

    @property
    def cards(self) -> tuple[Article, ...]:
        """Every article's card, newest first (``years`` holds them)."""
        return tuple(card for _, group in self.years for card in group)


@dataclass(frozen=True)
class Asset:
    """A file of ``content/`` published as it is (an image beside its article)."""

    source: str  # path relative to the site folder: "content/hello/cat.png"
    url: str  # site path, not percent-encoded: "/articles/hello/cat.png"
    bundle: str = ""  # the source of the article whose page bundle holds it, if any


@dataclass(frozen=True)
class Redirect:
    """An old URL of an article (``aliases: [/old/]``, ``redirect_from``)."""

    path: str  # the old site path: "/2019/old-name/"
    url: str  # the article's site path now
    title: str  # the article's title, for the link
    source: str  # the article's file
    line: int = 1  # the line of its aliases: or redirect_from: key
