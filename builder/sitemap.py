"""``sitemap.xml`` and ``robots.txt``.

Pure and deterministic, like the feeds: ``lastmod`` comes from the articles
a page shows (``Page.shows``), never from the clock; an article's own page from
that article alone.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from xml.etree import ElementTree as ET

from builder.linkcheck import page_url
from builder.model import Article, Page, Site
from builder.urls import absolute, output_file

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"
#: the sitemap protocol's limit of URLs per file; beyond it, sitemap.xml becomes an index
MAX_URLS = 50_000
#: pages that must not be listed (served for missing URLs, not a page of its own)
UNLISTED = frozenset({"404.html"})


def sitemap_urls(site: Site, names: Iterable[str]) -> list[tuple[str, str | None]]:
    """(absolute URL, lastmod) of every HTML file in ``names`` but 404.html, sorted by URL.

    ``lastmod`` is an article page's own ``updated`` or date, else the newest of the
    articles the page shows (:attr:`Page.shows`; see :func:`lastmod`); None for a page
    that shows none or is no page of the site (a static ``.html`` file).
    """
    base_url, tz = site.config.base_url, site.config.tz
    pages = {output_file(page.url): page for page in site.pages}
    known = Stamps(tz)
    urls = []
    for name in names:
        if not name.endswith(".html") or name in UNLISTED:
            continue
        page = pages.get(name)
        stamp = lastmod(page, tz, known) if page else None
        urls.append((absolute(base_url, page_url(name)), stamp))
    urls.sort()  # by URL: the home page first, then the rest in a stable order
    return urls


def sitemap_files(site: Site, files: Iterable[str]) -> dict[str, bytes]:
    """``sitemap.xml`` (and its parts past :data:`MAX_URLS`) for the built ``files``."""
    return make_sitemaps(site.config.base_url, sitemap_urls(site, files))


def sitemap_names(count: int) -> list[str]:
    """The files :func:`make_sitemaps` makes for ``count`` URLs."""
    if count <= MAX_URLS:
        return [SITEMAP]
    return [SITEMAP, *(f"sitemap-{n}.xml" for n in range(1, (count - 1) // MAX_URLS + 2))]


def make_sitemaps(base_url: str, urls: list[tuple[str, str | None]]) -> dict[str, bytes]:
    """Output file → bytes: one urlset, or past :data:`MAX_URLS` an index and its parts."""
    if len(urls) <= MAX_URLS:
        return {SITEMAP: _urlset(urls)}
    made: dict[str, bytes] = {}
    index = ET.Element("sitemapindex", xmlns=SITEMAP_NS)
    for number, start in enumerate(range(0, len(urls), MAX_URLS), start=1):
        name = f"sitemap-{number}.xml"
        made[name] = _urlset(urls[start:start + MAX_URLS])
        ET.SubElement(ET.SubElement(index, "sitemap"), "loc").text = absolute(base_url, name)
    made[SITEMAP] = _xml(index)
    return made


#: an article's stamp: (its instant in microseconds since 1970 UTC, as a W3C datetime)
Stamp = tuple[int, str]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: the instant of a shown object that is no article (entities have no publication date)
_NOTHING = float("-inf")


class Stamps:
    """The stamps of the articles pages show, each worked out once: list pages show
    thousands of articles, and each article is shown by many pages. Objects are known by
    ``id``: a :class:`Stamps` must live no longer than the site it is used on."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._stamps: dict[int, Stamp] = {}  # id(record) → stamp: an article and its cards
        self._instants: dict[int, int | float] = {}  # id(shown object) → its instant
        self._texts: dict[int, str | None] = {}  # instant → its text; None if they differ

    def of(self, article: Article) -> Stamp:
        """The article's stamp: the later of its ``updated`` and its date."""
        found = self._stamps.get(id(article.record))
        if found is None:
            found = self._stamps[id(article.record)] = _stamp(article, self.tz)
        return found

    def newest(self, shows: tuple[Any, ...]) -> str | None:
        """The text of the newest stamp among the articles in ``shows`` (the first shown,
        of equal instants); None when it holds none. Linear in ``shows``, each item a few
        C-level steps once its article is known."""
        instants = self._instants
        found = list(map(instants.get, map(id, shows)))
        if None in found:
            for item in shows:
                if id(item) not in instants:
                    instants[id(item)] = self._learn(item) if isinstance(item, Article) \
                        else _NOTHING
            found = list(map(instants.__getitem__, map(id, shows)))
        best = max(found, default=_NOTHING)
        if best == _NOTHING:
            return None
        text = self._texts[best]
        if text is None:  # articles of that instant write it differently: the first shown
            return next(self.of(item)[1] for item in shows
                        if isinstance(item, Article) and instants[id(item)] == best)
        return text

    def _learn(self, article: Article) -> int:
        instant, text = self.of(article)
        if self._texts.setdefault(instant, text) != text:
            self._texts[instant] = None
        return instant


def lastmod(page: Page, tz: tzinfo, known: Stamps | None = None) -> str | None:
    """An article's page: the article's own ``updated`` or date, whatever else the page
    shows (its neighbours, related articles). Any other page: the newest date or updated
    date among the articles it shows (the first of them, if two are the same instant).
    A W3C datetime, or None for a page that shows none.

    ``known`` (for ``tz``) caches the stamps across the pages of one site.
    """
    known = Stamps(tz) if known is None else known
    own = page.context.get("article")
    if isinstance(own, Article) and own.url == page.url:
        return known.of(own)[1]
    return known.newest(page.shows)


def _stamp(article: Article, tz: tzinfo) -> Stamp:
    newest: Stamp | None = None
    for value in (article.updated, article.datetime or article.date):
        if value is None:
            continue
        if isinstance(value, datetime):
            candidate = (_micros(value), value.isoformat(timespec="seconds"))
        else:  # a calendar date stays a date: no time zone shift
            candidate = (_midnight(value, tz), value.isoformat())
        if newest is None or candidate[0] > newest[0]:
            newest = candidate
    assert newest is not None  # every article has a date
    return newest


def _micros(moment: datetime) -> int:
    """An aware moment as whole microseconds since 1970 UTC: exact, and cheaper to
    compare than aware datetimes."""
    return (moment - _EPOCH) // _MICROSECOND


@functools.lru_cache(maxsize=4096)
def _midnight(day: date, tz: tzinfo) -> int:
    """The start of ``day`` in ``tz`` (:func:`_micros`): articles share their days."""
    return _micros(datetime.combine(day, time(0), tzinfo=tz))


def robots_txt(base_url: str) -> bytes:
    """Allow everything and point at the sitemap.

    Crawlers read robots.txt only at a host's root: under a sub-path base URL
    this file does nothing unless the host's own robots.txt lists the sitemap.
    """
    return (f"User-agent: *\nDisallow:\n\nSitemap: {absolute(base_url, SITEMAP)}\n"
            .encode())


def _urlset(urls: list[tuple[str, str | None]]) -> bytes:
    urlset = ET.Element("urlset", xmlns=SITEMAP_NS)
    for loc, modified in urls:
        url = ET.SubElement(urlset, "url")
        ET.SubElement(url, "loc").text = loc
        if modified:
            ET.SubElement(url, "lastmod").text = modified
    return _xml(urlset)


def _xml(root: ET.Element) -> bytes:
    ET.indent(root, space="")
    return (b'<?xml version="1.0" encoding="utf-8"?>\n'
            + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n")

