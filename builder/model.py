"""Plain data passed between the stages: no HTML building, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class Article:
    """One Markdown file after parsing: front matter values plus rendered body."""

    source: str  # path relative to the site folder, with forward slashes
    slug: str
    title: str
    date: date  # the calendar date, never shifted by time zones
    datetime: datetime | None  # set when the front matter gave a time; always aware
    updated: date | datetime | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    source_url: str = ""
    publication: str = ""
    summary: str = ""
    draft: bool = False
    lang: str = ""
    template: str = "article.html"
    body_html: str = ""
    body_source: str = ""  # body_html as read, links to other files still placeholders
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
    # Set when the site is indexed (indexing again gives the same values):
    url: str = ""  # site path, e.g. "/articles/slug/"
    link_targets: list[Article] = field(default_factory=list)  # articles its body links to
    related: list[Article] = field(default_factory=list)  # by shared entities, then tags
    entity_groups: list[tuple[str, list[tuple[Entity, int]]]] = field(default_factory=list)
    key: str = ""  # content hash of the file it came from; set by the reading stage

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

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)


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
    """One place an article names an entity."""

    entity: str  # slug
    id: str  # "m-<entity>-<n>", the anchor in the article page
    line: int
    linked: bool  # the first automatic mention and every wikilink are links
    explicit: bool  # written as a wikilink
    quote: Quote
    before: str = ""  # the passage around it, for entity pages
    after: str = ""
    block: int = 0  # identifies the paragraph (or margin note) it is in
    offset: int = 0  # where it starts in that paragraph's text


@dataclass
class Highlight:
    """A highlight, margin note, insertion or deletion the reader made."""

    id: str  # "hl-<n>"
    kind: str  # "highlight", "note", "insertion" or "deletion"
    text: str  # the passage (empty for a note on its own)
    note: str  # the margin note as plain text
    line: int
    quote: Quote


@dataclass
class Entity:
    """A person, organisation, place, event or work from ``content/entities/``."""

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
    body_html: str = ""
    body_markdown: str = ""  # the notes as written; rendered once the registry is known
    body_line: int = 1
    body_source: str = ""  # notes HTML with wikilinks to articles still placeholders
    wikilinks: list[tuple[int, str]] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Set when the site is indexed:
    mentions: list[tuple[Article, Mention]] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)  # newest first
    # Newest article first; per article its passages, each a list of (text, mention or None)
    # pieces: one passage per paragraph, every mention of the entity in it emphasised.
    passages: list[tuple[Article, list[list[tuple[str, Mention | None]]]]] = field(
        default_factory=list)
    related: list[tuple[Entity, int]] = field(default_factory=list)  # co-mentioned, with counts
    timeline: list[Any] = field(default_factory=list)  # TimelineEvent objects

    @property
    def url(self) -> str:
        return f"/entities/{self.slug}/"

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)


@dataclass
class TimelineEvent:
    date: Any  # PartialDate
    text: str
    entities: list[Entity] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    entity: Entity | None = None  # the event's own entity page, if it has one
    end: Any = None


@dataclass
class Term:
    """A tag or an author: every article filed under one slug."""

    kind: str  # "tags" or "authors"
    slug: str
    name: str  # the most used spelling
    articles: list[Article] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"/{self.kind}/{self.slug}/"

    @property
    def count(self) -> int:
        return len(self.articles)


@dataclass
class Paginator:
    """One page of a paginated list."""

    number: int
    total: int
    items: list[Any]
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


@dataclass
class Page:
    """A page to render: its site path, template and template variables.

    ``deps`` lists every article whose content the page shows: a page whose
    dependencies did not change need not be rendered again.
    """

    url: str
    template: str
    context: dict[str, Any]
    source: str = ""  # the file it came from, for error messages
    source_line: int = 1
    deps: list[Any] = field(default_factory=list)
    stamp: str = ""  # anything else it shows that no dependency's content decides (counts)


@dataclass
class Site:
    """The whole site, indexed: what the templates see as ``site``."""

    config: Any
    articles: list[Article]  # newest first
    tags: list[Term]
    authors: list[Term]
    years: list[tuple[int, list[Article]]]
    pages: list[Page] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)  # A–Z
    entity_types: list[tuple[str, list[Entity]]] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)
    annotated: list[Article] = field(default_factory=list)  # with highlights, newest first
