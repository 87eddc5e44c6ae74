"""``sitemap.xml`` and ``robots.txt``.

Pure and deterministic, like the feeds: ``lastmod`` comes from the articles
a page shows (``Page.shows``), never from the clock; an article's own page from
that article alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, tzinfo
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
    base_url = site.config.base_url
    pages = {output_file(page.url): page for page in site.pages}
    known: dict[int, tuple[datetime, str]] = {}
    urls = []
    for name in names:
        if not name.endswith(".html") or name in UNLISTED:
            continue
        page = pages.get(name)
        stamp = lastmod(page, site.config.tz, known) if page else None
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


def lastmod(page: Page, tz: tzinfo, known: dict[int, tuple[datetime, str]] | None = None
            ) -> str | None:
    """An article's page: the article's own ``updated`` or date, whatever else the page
    shows (its neighbours, related articles). Any other page: the newest date or updated
    date among the articles it shows. A W3C datetime, or None for a page that shows none.

    ``known`` caches each article's stamp: list pages show thousands of articles.
    """
    own = page.context.get("article")
    if isinstance(own, Article) and own.url == page.url:
        return _stamp(own, tz)[1]
    known = {} if known is None else known
    newest: tuple[datetime, str] | None = None
    for article in page.shows:
        if not isinstance(article, Article):  # entities have no publication date
            continue
        stamp = known.get(id(article))
        if stamp is None:
            stamp = known[id(article)] = _stamp(article, tz)
        if newest is None or stamp[0] > newest[0]:
            newest = stamp
    return newest[1] if newest else None


def _stamp(article: Article, tz: tzinfo) -> tuple[datetime, str]:
    newest: tuple[datetime, str] | None = None
    for value in (article.updated, article.datetime or article.date):
        if value is None:
            continue
        if isinstance(value, datetime):
            candidate = (value, value.isoformat(timespec="seconds"))
        else:  # a calendar date stays a date: no time zone shift
            candidate = (datetime.combine(value, time(0), tzinfo=tz), value.isoformat())
        if newest is None or candidate[0] > newest[0]:
            newest = candidate
    assert newest is not None  # every article has a date
    return newest


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

