"""``postil add URL`` and ``postil add FILE.html``: clip an article into the archive.

Fetches the page (or reads a saved one), reads its metadata and main text with
trafilatura (Apache-2.0 since 1.8) and its dates with htmldate, and writes
``content/<slug>.md`` with filled front matter plus the page itself as its
snapshot, ``sources/<slug>.html`` (see :mod:`builder.snapshots`). Both files are
written to temporary names and renamed into place only once both are made, so a
failure leaves no half-made file. Every failure is a :class:`ClipError` with a
one-line message.

The dates are kept apart: ``date:`` is when the source was first published,
``updated:`` when it was last updated, each only if the page says so (meta
tags, JSON-LD, ``<time itemprop>``, or a "Published:"/"Last updated:" label in
its text); if it says neither, htmldate's best guess at the original date.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from builder import frontmatter, slugs
from builder.config import CONFIG_NAME, load_config
from builder.problems import BuildFailed
from builder.snapshots import SOURCES_DIR
from builder.sources import explore

TIMEOUT = 20.0  # seconds to wait for a server
MAX_BYTES = 20 * 1024 * 1024  # a page larger than this is refused
MIN_WORDS = 40  # less main text than this is no article
SLUG_MAX = 80
HTML_TYPES = ("text/html", "application/xhtml+xml")
USER_AGENT = "Mozilla/5.0 (compatible; postil-add)"
_PUBLISHED = ("article:published_time", "og:published_time", "datepublished", "pubdate",
              "publishdate", "dc.date.issued", "dcterms.issued", "date", "sailthru.date")
_UPDATED = ("article:modified_time", "og:updated_time", "datemodified", "last-modified",
            "dcterms.modified", "lastmod")
#: a date label in a page's text: "Published: 3 May 2024", "Last Updated: October 7, 2025",
#: "Posted on 12 May", "Published 3 May 2024"; without ":" or "on" only if a day or month
#: follows, so that the prose's "published in 2015 by the ministry" is no date of the page;
#: a date stops where an "updated" label starts ("Published 3 May 2024 | Updated 4 May")
_LABEL = re.compile(r"\b(published|posted|last\s+updated|updated|modified)"
                    r"(?:\s*:\s*|\s+on\s+|\s+(?=\d|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|"
                    r"nov|dec)[a-z]*\.?\s))([A-Za-z0-9](?:(?!last\s+updated|updated|modified)[^\n]){4,40})",
                    re.IGNORECASE)
#: what a browser's "Save page as" writes at the top of a page: the address it came from
_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.IGNORECASE)
_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr",
           "section", "article", "header", "footer", "br", "figcaption", "dd", "dt")


class ClipError(Exception):
    """Why a page could not be added: one line, for the user."""


@dataclass
class Clipping:
    """What a page gives an article: its front matter values and its main text."""

    url: str
    title: str
    authors: list[str] = field(default_factory=list)
    publication: str = ""
    published: str = ""  # ISO date, or ""
    updated: str = ""
    text: str = ""


def fetch(url: str, timeout: float = TIMEOUT) -> tuple[str, bytes]:
    """(the URL after redirects, the page's bytes). Raises :class:`ClipError` for a
    network error, a timeout, an HTTP error status, a non-HTML response or a page over
    :data:`MAX_BYTES`."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                   "Accept": "text/html,*/*;q=0.5"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # follows redirects
            kind = response.headers.get_content_type()
            if kind not in HTML_TYPES:
                raise ClipError(f"{url}: not an HTML page (Content-Type: {kind})")
            data = response.read(MAX_BYTES + 1)
            final = urldefrag(response.geturl())[0]  # a fragment is no part of the page
            charset = response.headers.get_content_charset()
    except urllib.error.HTTPError as exc:
        raise ClipError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise ClipError(f"{url}: no answer within {timeout:g} seconds") from None
        raise ClipError(f"{url}: cannot fetch: {getattr(reason, 'strerror', None) or reason}"
                        ) from None
    except TimeoutError:
        raise ClipError(f"{url}: no answer within {timeout:g} seconds") from None
    except (OSError, ValueError) as exc:  # a reset connection, a malformed URL
        raise ClipError(f"{url}: cannot fetch: {exc}") from None
    if len(data) > MAX_BYTES:
        raise ClipError(f"{url}: page larger than {MAX_BYTES // (1024 * 1024)} MB")
    return final, self_described(data, charset)


def self_described(data: bytes, charset: str | None) -> bytes:
    """The page as UTF-8 that says so, when only the HTTP header named its encoding
    (``charset``): the snapshot keeps no header, and read later without it a
    windows-1251 page would be mojibake. Otherwise ``data`` as it is."""
    if not charset or re.search(rb"charset|<\?xml", data[:4096], re.IGNORECASE):
        return data
    try:
        text = data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return data
    meta = '<meta charset="utf-8">'
    head = re.search(r"<head\b[^>]*>", text[:4096], re.IGNORECASE)
    text = text[:head.end()] + meta + text[head.end():] if head else meta + text
    return text.encode("utf-8")


def html_text(raw: bytes | str) -> str:
    """The main text of a page, paragraphs separated by blank lines: trafilatura's
    extraction (favouring recall), else every text of its body."""
    import trafilatura

    text = trafilatura.extract(raw, favor_recall=True, include_comments=False,
                               include_tables=True, deduplicate=False)
    if text and text.strip():
        return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())
    return body_text(raw)


def body_text(raw: bytes | str) -> str:
    """Every text of a page's body but scripts and styles, a blank line between blocks."""
    import lxml.html

    try:
        root = lxml.html.fromstring(decoded(raw))
    except (ValueError, lxml.etree.ParserError):
        return ""
    for element in root.iter("script", "style", "noscript", "template"):
        element.text = ""
    for element in root.iter(*_BLOCKS):
        element.tail = "\n\n" + (element.tail or "")
    paragraphs = (" ".join(part.split()) for part in
                  re.split(r"\n\s*\n", root.text_content()))
    return "\n\n".join(p for p in paragraphs if p)


def decoded(raw: bytes | str) -> bytes | str:
    """A page for lxml: as it is if it declares its encoding (lxml reads ``<meta
    charset>``), else as UTF-8 text if it is valid UTF-8, as browsers detect it (lxml
    would read it as Latin-1: "ZÃ¼rich"), else as it is."""
    if isinstance(raw, str) or re.search(rb"charset|<\?xml", raw[:4096], re.IGNORECASE):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def read_page(raw: bytes, url: str, name: str = "the page") -> Clipping:
    """The article a page holds. ``url``: where it was fetched ("" for a saved file);
    a ``<link rel=canonical>`` (or ``og:url``) takes its place; ``name`` is how a message
    names a page with no URL (a saved file's path). Raises
    :class:`ClipError` if the page holds less than :data:`MIN_WORDS` words of main text."""
    import lxml.html
    import trafilatura

    try:
        root = lxml.html.fromstring(decoded(raw))
    except (ValueError, lxml.etree.ParserError):
        raise ClipError(f"{url or name}: not an HTML page") from None
    url = _canonical(root, url) or _saved_from(raw)
    text = trafilatura.extract(raw, favor_precision=True, include_comments=False,
                               include_tables=True)
    if not text or len(text.split()) < MIN_WORDS:
        raise ClipError(f"{url or name}: no article text found")
    meta = trafilatura.extract_metadata(root, default_url=url or None)
    title = (meta.title if meta and meta.title else "") or _first(root, "//title/text()")
    authors = [a.strip() for a in re.split(r";|\band\b", meta.author or "")
               if a.strip()] if meta else []
    publication = (meta.sitename or "") if meta else ""
    published, updated = page_dates(root, raw)
    return Clipping(url=url, title=" ".join(title.split()) or "Untitled",
                    authors=authors, publication=publication.strip(),
                    published=published, updated=updated, text=text)


def _canonical(root, url: str) -> str:  # noqa: ANN001 (an lxml element)
    for path in ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"):
        found = _first(root, path).strip()
        if found:
            absolute = urljoin(url, found) if url else found
            if urlsplit(absolute).scheme in ("http", "https"):
                return absolute
    return url


def _saved_from(raw: bytes) -> str:
    """The http(s) address in a saved page's ``<!-- saved from url=(NNNN)URL -->``, or ""."""
    found = _SAVED_FROM.search(raw[:4096])
    url = found.group(1).decode("utf-8", "replace") if found else ""
    return url if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc else ""


def _first(root, path: str) -> str:  # noqa: ANN001
    found = root.xpath(path)
    return str(found[0]) if found else ""


def page_dates(root, raw: bytes) -> tuple[str, str]:  # noqa: ANN001
    """(published, updated) ISO dates the page states, each "" if it states none; if it
    states neither, htmldate's guess at the original date as published."""
    published: list[str] = []
    updated: list[str] = []
    for element in root.xpath("//meta[@content]"):
        name = (element.get("property") or element.get("name") or
                element.get("itemprop") or "").lower()
        if name in _PUBLISHED:
            published.append(element.get("content"))
        elif name in _UPDATED:
            updated.append(element.get("content"))
    for element in root.xpath("//*[@itemprop='datePublished' or @itemprop='dateModified']"):
        value = element.get("datetime") or element.get("content") or element.text_content()
        (published if element.get("itemprop") == "datePublished" else updated).append(value)
    for script in root.xpath("//script[@type='application/ld+json']/text()"):
        for item in _json_items(script):
            published.append(str(item.get("datePublished") or ""))
            updated.append(str(item.get("dateModified") or ""))
    text = body_text(raw)
    for match in _LABEL.finditer(text[:20000]):
        label = match.group(1).lower()
        (published if label in ("published", "posted") else updated).append(match.group(2))
    first = next((d for d in map(_day, published) if d), "")
    last = next((d for d in map(_day, updated) if d), "")
    if not first and not last:
        from htmldate import find_date

        first = find_date(raw, original_date=True, extensive_search=False) or ""
    return first, last if last != first else ""


def _json_items(script: str) -> list[dict]:
    try:
        data = json.loads(script)
    except ValueError:
        return []
    items = data if isinstance(data, list) else [data]
    if isinstance(data, dict) and isinstance(data.get("@graph"), list):
        items += data["@graph"]
    return [item for item in items if isinstance(item, dict)]


def _day(value: str) -> str:
    """The ISO date in ``value`` (ISO or written out, as htmldate reads it), or ""."""
    value = (value or "").strip()
    if not value:
        return ""
    match = re.match(r"(\d{4}-\d{2}-\d{2})", value)
    if match:
        try:
            return date.fromisoformat(match.group(1)).isoformat()
        except ValueError:
            return ""
    from htmldate import find_date

    snippet = "<html><body><p>" + value.replace("<", " ") + "</p></body></html>"
    return find_date(snippet, extensive_search=True, original_date=True) or ""


def archived(content: Path, url: str) -> str | None:
    """The article file (site-relative) under ``content`` whose ``source:`` is ``url``."""
    for rel, path in explore(content).articles:
        try:
            doc, _ = frontmatter.load(rel, path.read_bytes())
        except OSError:
            continue
        meta = getattr(doc, "meta", None) or {}
        if isinstance(meta, dict) and str(meta.get("source") or "").strip() == url:
            return rel
    return None


def front_matter(clipping: Clipping, snapshot: str, read: date | None = None) -> str:
    """The new article's text: front matter and an empty body to write notes in.
    ``read``: the day it was clipped (default today), which the reader may correct."""
    lines = ["---", f"title: {_yaml(clipping.title)}"]
    if clipping.published:
        lines.append(f"date: {clipping.published}")
    if clipping.updated:
        lines.append(f"updated: {clipping.updated}")
    lines.append(f"read: {(read or date.today()).isoformat()}")
    if len(clipping.authors) == 1:
        lines.append(f"author: {_yaml(clipping.authors[0])}")
    elif clipping.authors:
        lines.append("authors: [" + ", ".join(_yaml(a) for a in clipping.authors) + "]")
    if clipping.publication:
        lines.append(f"publication: {_yaml(clipping.publication)}")
    if clipping.url:
        lines.append(f"source: {_yaml(clipping.url)}")
    lines += [f"snapshot: {snapshot}", "tags: []", "---", "",
              "Notes on this article. Quote it in a blockquote with highlights "
              "(`> {==words==}`), or inline as `{\"words\"}`: `postil check` finds them in "
              "the snapshot.", ""]
    return "\n".join(lines)


def _yaml(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML string


def add(site_dir: Path, target: str, timeout: float = TIMEOUT,
        notes: list[str] | None = None) -> tuple[Path, Path]:
    """Clip ``target`` (an http(s) URL or a saved HTML file) into the site in ``site_dir``:
    (the article written, its snapshot). Raises :class:`ClipError`. ``notes``, if given,
    gets a line for each thing the user must still do before the site builds right (a
    saved page that names no address, a site with no ``author``)."""
    if not (site_dir / CONFIG_NAME).is_file():
        raise ClipError(f"no {CONFIG_NAME} in {site_dir}: run 'postil init DIR' first")
    try:
        config = load_config(site_dir, keep_going=True)[0]
    except BuildFailed as failure:
        raise ClipError(str(failure.problems[0])) from None
    slugs.use(config.slugs)  # the file is named as the build names its page
    if urlsplit(target).scheme in ("http", "https"):
        url, raw = fetch(target, timeout)
    else:
        try:
            raw, url = Path(target).read_bytes(), ""
        except OSError as exc:
            raise ClipError(f"cannot read {target}: {exc.strerror or exc}") from None
    clipping = read_page(raw, url, target)
    if clipping.url:
        for known in dict.fromkeys((clipping.url, url, target)):
            existing = archived(config.content_path, known) if known else None
            if existing:
                raise ClipError(f"{known} is archived already: {existing}")
    base = slugs.readable_slug(clipping.title, SLUG_MAX) or "article"
    for number in range(1, 1000):  # another source of the same title: "<slug>-2"
        slug = base if number == 1 else f"{base}-{number}"
        article = config.content_path / f"{slug}.md"
        snapshot = site_dir / SOURCES_DIR / f"{slug}.html"
        if not article.exists() and not snapshot.exists():
            break
    else:
        raise ClipError(f"{config.content_path / base}.md and 998 more exist already")
    _write_both([(snapshot, raw),
                 (article, front_matter(clipping, f"{SOURCES_DIR}/{slug}.html").encode())])
    if notes is not None and not clipping.url:  # without source: the page would be "by" them
        notes.append(f"{target} names no address of its own (no canonical link, og:url or "
                     f"'saved from url'): add source: URL to {article}, or its page is "
                     "taken for your own writing, by the source's author")
    elif notes is not None and not config.author:
        notes.append(f"{site_dir / CONFIG_NAME} names no author: set author: \"Your Name\" "
                     "before building (a page about a source is your note, and says so)")
    return article, snapshot


def _write_both(files: list[tuple[Path, bytes]]) -> None:
    """Write each file under a temporary name, then rename all into place; on any
    failure remove what was made."""
    temps: list[tuple[str, Path]] = []
    done: list[Path] = []
    try:
        for path, data in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            temps.append((temp, path))
            with os.fdopen(handle, "wb") as out:
                out.write(data)
        for temp, path in temps:
            os.replace(temp, path)
            done.append(path)
    except OSError as exc:
        for temp, _ in temps:
            with _quiet():
                os.unlink(temp)
        for path in done:
            with _quiet():
                path.unlink()
        raise ClipError(f"cannot write {exc.filename or ''}: {exc.strerror or exc}") from None


def _quiet():  # noqa: ANN202
    import contextlib

    return contextlib.suppress(OSError)
