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
    # Set when the site is indexed (indexing again gives the same values):
    url: str = ""  # site path, e.g. "/articles/slug/"
    link_targets: list[Article] = field(default_factory=list)  # articles its body links to
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


@dataclass
class Site:
    """The whole site, indexed: what the templates see as ``site``."""

    config: Any
    articles: list[Article]  # newest first
    tags: list[Term]
    authors: list[Term]
    years: list[tuple[int, list[Article]]]
    pages: list[Page] = field(default_factory=list)
