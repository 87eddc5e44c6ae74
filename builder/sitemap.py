"""``sitemap.xml`` and ``robots.txt``, and :func:`web_files`, everything besides pages
that a site needs on the open web (these two and the Atom feeds).

Pure and deterministic, like the feeds: ``lastmod`` comes from the articles
a page shows (``Page.deps``), never from the clock.
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from xml.etree import ElementTree as ET

from builder.feeds import FeedCache, feed_files
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


class SitemapCache:
    """The last sitemap of one site (the preview server keeps one): reused when the
    pages and their dates are the same, and each page's lastmod while its
    signature (its inputs, see ``builder.pipeline``) is."""

    def __init__(self) -> None:
        self.lastmods: dict[str, tuple[bytes, str | None]] = {}
        self.urls: list[tuple[str, str | None]] = []
        self.made: dict[str, bytes] = {}


def web_files(site: Site, files: dict[str, bytes], feeds: FeedCache | None = None,
              sitemap: SitemapCache | None = None, signatures: dict[str, bytes] | None = None
              ) -> dict[str, bytes]:
    """Feeds, sitemap.xml and robots.txt for the built ``files``.

    A file of the same name already in ``files`` (a site's own
    ``static/robots.txt``, say) wins over the generated one. ``feeds`` and
    ``sitemap`` keep what an earlier build of the same site made, to reuse;
    ``signatures`` are the pages' input signatures.
    """
    made = feed_files(site, cache=feeds)
    made.update(sitemap_files(site, files, sitemap, signatures))
    made[ROBOTS] = robots_txt(site.config.base_url)
    return {name: data for name, data in made.items() if name not in files}


def sitemap_files(site: Site, files: dict[str, bytes], cache: SitemapCache | None = None,
                  signatures: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """``sitemap.xml`` listing every HTML page in ``files`` (but 404.html), with lastmod."""
    base_url = site.config.base_url
    cache = cache or SitemapCache()
    signatures = signatures or {}
    pages = {output_file(page.url): page for page in site.pages}
    urls = []
    known: dict[int, tuple[datetime, str]] = {}
    lastmods: dict[str, tuple[bytes, str | None]] = {}
    for name in files:
        if not name.endswith(".html") or name in UNLISTED:
            continue
        page = pages.get(name)
        signature = signatures.get(name, b"")
        previous = cache.lastmods.get(name)
        if signature and previous is not None and previous[0] == signature:
            stamp = previous[1]
        else:
            stamp = lastmod(page, site.config.tz, known) if page else None
        lastmods[name] = (signature, stamp)
        urls.append((absolute(base_url, page_url(name)), stamp))
    urls.sort()  # by URL: the home page first, then the rest in a stable order
    cache.lastmods = lastmods
    if urls == cache.urls:
        return cache.made
    cache.urls, cache.made = urls, _sitemaps(base_url, urls)
    return cache.made


def _sitemaps(base_url: str, urls: list[tuple[str, str | None]]) -> dict[str, bytes]:
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
    """The newest date or updated date among the articles a page shows (W3C datetime).

    ``known`` caches each article's stamp: list pages show thousands of articles.
    """
    known = {} if known is None else known
    newest: tuple[datetime, str] | None = None
    for article in page.deps:
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

