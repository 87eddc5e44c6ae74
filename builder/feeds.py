"""Atom feeds: the whole archive, each tag, each author (and anything else with articles).

Pure: site model in, bytes out. Feeds are regenerated on every build, so they
must be deterministic (same site → same bytes): publishing moves only files
whose bytes changed. Every URL in a feed is absolute, from ``base_url``.

A feed is described by a :class:`FeedSource` (title, page URL, articles); the
feed file lives next to the page it follows: ``/tags/x/`` → ``/tags/x/feed.xml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from urllib.parse import urljoin
from xml.etree import ElementTree as ET

from builder import __version__
from builder.config import SiteConfig
from builder.model import Article, Site
from builder.sanitize import clean_text
from builder.slugs import slugify
from builder.spill import Spill
from builder.urls import absolute, output_file, resolve_site_links

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_NAME = "feed.xml"
#: ``<updated>`` of a feed with no entries: fixed, so an empty feed never changes
EPOCH = "1970-01-01T00:00:00Z"

_URL_ATTR = re.compile(r"""(\s(?:href|src|poster)\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE)


@dataclass
class FeedSource:
    """One feed: the page it follows and the articles it lists (newest first)."""

    title: str
    page_url: str  # site path of the page, e.g. "/tags/pakistan/"
    articles: list[Article]
    subtitle: str = ""

    @property
    def feed_url(self) -> str:
        return feed_path(self.page_url)


def feed_path(page_url: str) -> str:
    """Site path of the feed that follows a page: ``/tags/x/`` → ``/tags/x/feed.xml``."""
    return page_url[: page_url.rfind("/") + 1] + FEED_NAME


def feed_sources(site: Site) -> list[FeedSource]:
    """Every feed of the site: the archive, each tag, each author, each entity named
    in an article (an entity no article mentions has no feed). Entries are cards."""
    config = site.config
    sources = [FeedSource(config.title, "/", list(site.cards), config.description)]
    for term in site.tags:
        sources.append(FeedSource(f"{term.name} · {config.title}", term.url,
                                  list(term.articles),
                                  f"Articles tagged {term.name} in {config.title}."))
    for term in site.authors:
        sources.append(FeedSource(f"{term.name} · {config.title}", term.url,
                                  list(term.articles),
                                  f"Articles by {term.name} in {config.title}."))
    for term in site.categories:
        sources.append(FeedSource(f"{term.name} · {config.title}", term.url,
                                  list(term.articles),
                                  f"Articles filed under {term.name} in {config.title}."))
    for entity in site.entities:
        if entity.articles:
            sources.append(FeedSource(f"{entity.name} · {config.title}", entity.url,
                                      list(entity.articles),
                                      f"Articles that mention {entity.name} in {config.title}."))
    return sources


class FeedCache:
    """Serialised entries from earlier builds of one site (the preview server keeps one),
    by the signature of what each is made from (:meth:`FeedWriter.entry_inputs`): the
    stamp of each in memory, its XML (UTF-8) in a temporary file."""

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}  # signature → the entry's <updated>
        self.texts = Spill()  # signature → the entry's XML


def feed_files(site: Site, extra: Iterable[FeedSource | tuple[str, str, list[Article]]] = (),
               cache: FeedCache | None = None) -> dict[str, bytes]:
    """Output file → Atom bytes for every feed of ``site``, plus ``extra`` ones.

    ``extra`` takes more (title, page_url, articles) triples or
    :class:`FeedSource` objects, for pages a later feature adds.
    """
    writer = FeedWriter(site.config, tag_names(site), cache)
    files: dict[str, bytes] = {}
    for source in [*feed_sources(site), *extra]:
        if not isinstance(source, FeedSource):
            source = FeedSource(*source)
        files[output_file(source.feed_url)] = writer.feed(source)
    return files


def tag_names(site: Site) -> dict[str, dict[str, tuple[str, str]]]:
    """Per kind ("tags", "authors", "categories"), each name as articles write it →
    (its term's slug, the name the site shows): see :mod:`builder.terms`."""
    return site.term_names


class FeedWriter:
    """Writes feeds for one site; an article's entry is serialised once for all its feeds."""

    def __init__(self, config: SiteConfig, tag_names: dict[str, str] | None = None,
                 cache: FeedCache | None = None,
                 sign: Callable[..., str] | None = None):
        self.config = config
        self.tag_names = tag_names or {}  # kind → name → (slug, shown name); see tag_names
        # id(article) → (updated, XML), or (updated, signature) for an entry in the cache
        self._entries: dict[int, tuple[str, bytes | str]] = {}
        self._cache = cache or FeedCache()
        self._sign = sign  # Signer.of, when entries are to be reused across builds
        self._used: dict[str, str] = {}
        self._keys: dict[int, str] = {}  # id(article) → its entry's signature (entry_key)

    def entry_inputs(self, article: Article) -> tuple:
        """Everything an entry is made from besides the configuration: the article card
        (its record, whose key stands for every field of it, and its own URL, authors and
        body, the fields of its own an entry shows; its cross-references are empty) and
        the (slug, shown name) of each of its tags, authors and categories. The card
        itself, not those fields: the pages that list it have signed it already, and the
        signer's memo holds its digest."""
        term = self._term
        return (article,
                tuple([term("tags", name) for name in article.tags]),
                tuple([term("authors", name) for name in article.authors]),
                tuple([term("categories", name) for name in article.categories]))

    def entry_key(self, article: Article) -> str:
        """The signature (hex) of the article's entry: of its :meth:`entry_inputs` and the
        settings; made once per article, however many feeds list it. Needs ``sign``."""
        key = self._keys.get(id(article))
        if key is None:
            assert self._sign is not None, "a FeedWriter made without sign signs nothing"
            key = self._keys[id(article)] = self._sign("feed entry", *self.entry_inputs(article))
        return key

    def signature(self, source: FeedSource) -> str:
        """The signature (hex) of the feed of ``source``: what its head shows (title,
        subtitle, its page's and its own URL) and the :meth:`entry_key` of each entry, in
        order (the configuration, with the feed's limit, is in the settings)."""
        assert self._sign is not None, "a FeedWriter made without sign signs nothing"
        limit = self.config.feed_limit or None
        return self._sign("feed", source.feed_url, source.title, source.subtitle,
                          source.page_url,
                          tuple(self.entry_key(article) for article in source.articles[:limit]))

    def _term(self, kind: str, name: str) -> tuple[str, str]:
        """(slug, shown name) of the term ``name`` is filed under."""
        return self.tag_names.get(kind, {}).get(name) or (slugify(name), name)

    def keep_used(self) -> None:
        """Forget cached entries this build did not use (edited and deleted articles)."""
        self._cache.entries = self._used
        self._cache.texts.keep(self._used)

    def feed(self, source: FeedSource) -> bytes:
        config = self.config
        limit = config.feed_limit or None
        entries = [self._entry(article) for article in source.articles[:limit]]
        feed = ET.Element("feed", {"xmlns": ATOM, XML_LANG: _clean(config.language)})
        _text(feed, "id", absolute(config.base_url, source.feed_url))
        _text(feed, "title", source.title)
        if source.subtitle:
            _text(feed, "subtitle", source.subtitle)
        ET.SubElement(feed, "link", rel="self", type="application/atom+xml",
                      href=absolute(config.base_url, source.feed_url))
        ET.SubElement(feed, "link", rel="alternate", type="text/html",
                      href=absolute(config.base_url, source.page_url))
        # Stamped with the newest change among its entries, never the build time:
        # rebuilding an unchanged site must give the same bytes.
        _text(feed, "updated", max((stamp for stamp, _ in entries), default=EPOCH,
                                   key=_instant))
        # Atom wants an author for the feed unless every entry has one.
        author = ET.SubElement(feed, "author")
        _text(author, "name", config.publisher or config.author or config.title)
        _text(author, "uri", config.base_url)
        _text(feed, "generator", "Postil", version=__version__)
        if config.copyright:
            _text(feed, "rights", config.copyright)
        # One element per line: a changed article shows as a readable diff when published.
        ET.indent(feed, space="  ")
        head = ET.tostring(feed, encoding="unicode")
        parts = [b'<?xml version="1.0" encoding="utf-8"?>\n',
                 head[: -len("</feed>")].encode("utf-8")]
        for _, xml in entries:
            parts += (b"  ", xml, b"\n")
        parts.append(b"</feed>\n")
        return b"".join(parts)

    def _entry(self, article: Article) -> tuple[str, bytes]:
        """The entry's ``<updated>`` and its XML (UTF-8)."""
        known = self._entries.get(id(article))
        if known is None:
            if self._sign is None:
                known = self._make_entry(article)
            else:
                key = self.entry_key(article)
                updated = self._cache.entries.get(key)
                if updated is None or key not in self._cache.texts:
                    updated, xml = self._make_entry(article)
                    self._cache.texts[key] = xml
                self._used[key] = updated
                known = (updated, key)
            self._entries[id(article)] = known
        updated, xml = known
        if isinstance(xml, str):  # a signature: the XML is in the cache's file
            xml = self._cache.texts.get(xml)
            assert xml is not None, "an entry of this build was forgotten"
        return updated, xml

    def _make_entry(self, article: Article) -> tuple[str, bytes]:
        config = self.config
        url = absolute(config.base_url, article.url)
        published = _moment(article.datetime or article.date, config)
        # A date-only "updated" on the day of a timed "date" must not go back in time.
        updated = max(published, _moment(article.updated, config) if article.updated
                      else published)
        entry = ET.Element("entry", {XML_LANG: _clean(article.lang)} if article.lang else {})
        _text(entry, "id", url)
        _text(entry, "title", article.title)
        ET.SubElement(entry, "link", rel="alternate", type="text/html", href=url)
        if article.source_url:
            ET.SubElement(entry, "link", rel="via", href=_clean(article.source_url))
        if article.dated_by != "updated":  # (a source that shows only its last update)
            _text(entry, "published", _rfc3339(published))
        _text(entry, "updated", _rfc3339(updated))
        # An article with a source is the archive's note on it, by the site's author; the
        # source's authors are the entry's contributors (as on its page, builder.structured).
        note = bool(article.source_url and config.author)
        if note:
            author = ET.SubElement(entry, "author")
            _text(author, "name", config.author)
            _text(author, "uri", config.base_url)
        for name in article.authors:
            author = ET.SubElement(entry, "contributor" if note else "author")
            _text(author, "name", name)
            _text(author, "uri", absolute(config.base_url,
                                          f"/authors/{self._term('authors', name)[0]}/"))
        for kind, names in (("tags", article.tags), ("categories", article.categories)):
            for name in names:
                slug, shown = self._term(kind, name)
                ET.SubElement(entry, "category", term=slug, label=_clean(shown),
                              scheme=absolute(config.base_url, f"/{kind}/"))
        if article.summary:
            _text(entry, "summary", article.summary)
        if config.feed_content == "full" and article.body_html:
            # Feed readers resolve links against the feed, not the page: make them absolute
            # (xml:base covers the readers that honour it and anything the rewrite missed).
            body = resolve_site_links(article.body_html,
                                      lambda path: absolute(config.base_url, path))
            content = _text(entry, "content", absolute_links(body, url), type="html")
            content.set("{http://www.w3.org/XML/1998/namespace}base", url)
        ET.indent(entry, space="  ", level=1)
        return _rfc3339(updated), ET.tostring(entry, encoding="unicode").encode("utf-8")


def absolute_links(html: str, page_url: str) -> str:
    """Every ``href``/``src`` in ``html`` made absolute from the page's absolute URL."""
    origin = page_url[: page_url.find("/", page_url.find("//") + 2)]

    def swap(match: re.Match) -> str:
        href = match[3]
        # Fast paths for what bodies hold most (urljoin is slow on thousands of links).
        if href.startswith(("http://", "https://", "mailto:")):
            return match[0]
        if href.startswith("#"):
            url = page_url + href
        elif href.startswith("/") and not href.startswith("//"):
            url = origin + href
        else:
            url = urljoin(page_url, href)
        return f"{match[1]}{match[2]}{url}{match[2]}"
    return _URL_ATTR.sub(swap, html)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = _clean(text)
    return element


def _clean(text: str) -> str:
    # XML 1.0 forbids most control characters even escaped; a stray one (pasted from a
    # PDF) would make the whole feed unreadable to a strict parser. Content and
    # configuration are cleaned when read; this covers what a feed adds to them.
    return clean_text(str(text))


def _moment(value: date | datetime, config: SiteConfig) -> datetime:
    """A calendar date counts as midnight in the site's time zone (as pages show it)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=config.tz)
    return datetime.combine(value, time(0), tzinfo=config.tz)


def _rfc3339(moment: datetime) -> str:
    text = moment.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
