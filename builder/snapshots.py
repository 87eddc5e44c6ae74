"""Source snapshots: an article's private copy of its source, and its quotations checked.

An article names its snapshot in front matter, ``snapshot: sources/<name>.txt``
(``.txt``, ``.md``, ``.html`` or ``.htm``), a path relative to the site folder
under ``sources/``, beside ``content/``. Postil never reads that folder as
content and never publishes it (see README, "Source snapshots").

After reading, :meth:`Snapshots.fill` checks every quotation of each article
with a snapshot (:mod:`builder.quotes`) and gives the record the snapshot's
words of each one found (``Quotation.source_text``) and a key of its own: a
hash of the read record's key and the snapshot's bytes. A record stands for
itself by its key in every signature (:mod:`builder.fingerprint`), so editing a
snapshot makes again exactly the pages that show its article, as a cold build
would. The ``sources/`` folder is among a build's inputs
(:func:`builder.pipeline.input_roots`) for the no-change check.
"""

from __future__ import annotations

import hashlib
import html
import os
import posixpath
import re
from collections.abc import Iterable, MutableMapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from builder.model import Article, ArticleRecord
from builder.problems import Problem
from builder.quotes import SourceText, find, fragment_url, not_found, words
from builder.urls import output_file

SOURCES_DIR = "sources"
KEY = "snapshot"  # the front matter key
SUFFIXES = (".txt", ".md", ".html", ".htm")
QUOTE_NOT_FOUND = "quote not found in source"
#: changes when the way a snapshot's text is made changes (part of each record's key)
EXTRACTION = "1"


def snapshot_problem(value: object) -> str | None:
    """Why ``value`` (a front matter ``snapshot:``) is no snapshot path, or None."""
    if not isinstance(value, str) or not value.strip():
        return "snapshot: must be a path such as sources/article.txt"
    path = value.strip()
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or ".." in parts or "." in parts or \
            parts[0] != SOURCES_DIR or len(parts) < 2 or not parts[-1]:
        return f'snapshot "{path}" must be a file under {SOURCES_DIR}/ (a path relative ' \
               "to the site folder, such as sources/article.txt)"
    if not path.lower().endswith(SUFFIXES):
        return f'snapshot "{path}" must end in {", ".join(SUFFIXES)}'
    return None


def _extractor(name: str) -> str:
    """What makes the text of snapshot ``name`` besides its bytes: for an HTML page, the
    version of trafilatura (another release may extract other text)."""
    if not name.lower().endswith((".html", ".htm")):
        return ""
    from importlib.metadata import version

    return f"\0trafilatura {version('trafilatura')}"


def snapshot_text(raw: bytes, name: str) -> str:
    """The text of a snapshot, paragraphs separated by blank lines: a text or Markdown
    file as it is (UTF-8, undecodable bytes replaced); an HTML page's main text, as
    trafilatura extracts it (or every text of its body, if it finds none)."""
    if not name.lower().endswith((".html", ".htm")):
        return raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
    from builder.clip import html_text  # trafilatura and lxml: only for an HTML snapshot

    return html_text(raw)


class Snapshots:
    """Reads the snapshots of a site's articles, build after build: a snapshot whose
    ``stat`` did not change is not read again, and a record checked against the same
    snapshot is not checked again."""

    def __init__(self) -> None:
        self._texts: dict[str, tuple[tuple[int, int, int], str, SourceText]] = {}
        self.read: dict[str, tuple[str, str]] = {}  # article source → (snapshot, digest)
        self._checked: dict[tuple[str, str], tuple[ArticleRecord, list[Problem]]] = {}

    def fill(self, records: list[ArticleRecord], site_dir: Path
             ) -> tuple[list[ArticleRecord], list[Problem]]:
        """Each record with a ``snapshot:``, its quotations checked against it (see the
        module's docstring); the others as they are. Problems: a bad ``snapshot:`` value
        (error), a missing snapshot (warning), each quotation not found (warning)."""
        out: list[ArticleRecord] = []
        problems: list[Problem] = []
        checked: dict[tuple[str, str], tuple[ArticleRecord, list[Problem]]] = {}
        self.read = {}
        for record in records:
            if KEY not in record.extra:
                out.append(record)
                continue
            done, found = self._fill(record, site_dir, checked)
            out.append(done)
            problems += found
        self._checked = checked
        return out, problems

    def _fill(self, record: ArticleRecord, site_dir: Path,
              checked: dict[tuple[str, str], tuple[ArticleRecord, list[Problem]]]
              ) -> tuple[ArticleRecord, list[Problem]]:
        value, line = record.extra[KEY], record.line(KEY)
        wrong = snapshot_problem(value)
        if wrong:
            return record, [Problem(record.source, line, wrong)]
        name = value.strip()
        try:
            digest, source = self._read(site_dir, name)
        except FileNotFoundError:
            return record, [Problem(record.source, line, f'snapshot "{name}" not found: '
                                    "its quotations are not checked", warning=True)]
        except OSError as exc:
            return record, [Problem(record.source, line, f'cannot read snapshot "{name}": '
                                    f"{exc.strerror or exc}", warning=True)]
        self.read[record.source] = (name, digest)
        memo = (record.key, digest)
        known = self._checked.get(memo) or checked.get(memo)
        if known is None:
            known = _check(record, digest, source)
        checked[memo] = known
        return known

    def _read(self, site_dir: Path, name: str) -> tuple[str, SourceText]:
        path = os.path.join(site_dir, *name.split("/"))
        info = os.stat(path)
        stat = (info.st_mtime_ns, info.st_size, info.st_ino)
        known = self._texts.get(path)
        if known is not None and known[0] == stat:
            return known[1], known[2]
        with open(path, "rb") as file:
            raw = file.read()
        digest = hashlib.blake2b(raw + _extractor(name).encode(), digest_size=16).hexdigest()
        source = SourceText.of(snapshot_text(raw, name))
        self._texts[path] = (stat, digest, source)
        return digest, source


def _check(record: ArticleRecord, digest: str, source: SourceText
           ) -> tuple[ArticleRecord, list[Problem]]:
    problems = []
    quotations = []
    for quotation in record.quotations:
        span = find(quotation.text, source) if quotation.text.strip() else None
        if span is None:
            if quotation.text.strip():
                problems.append(Problem(record.source, quotation.line,
                                        not_found(quotation.text, source), warning=True))
            quotations.append(replace(quotation, source_text=""))
        else:
            quotations.append(replace(quotation,
                                      source_text=words(source.text[span[0]:span[1]])))
    key = hashlib.blake2b(f"{record.key}\0{digest}\0{EXTRACTION}".encode(),
                          digest_size=16).hexdigest()
    return replace(record, quotations=quotations, key=key), problems


def verified(article: object, highlight: object) -> str:
    """The snapshot's words of ``highlight`` (an article's highlight, or quotation id),
    if it is a quotation found in the snapshot; else ""."""
    ident = getattr(highlight, "id", highlight)
    for quotation in getattr(article, "quotations", ()):
        if quotation.id == ident:
            return quotation.source_text
    return ""


def original_url(article: object, highlight: object) -> str:
    """The "View in original" link of ``highlight``: the article's source URL with a text
    fragment of the snapshot's own words, for a quotation found in the snapshot; else ""
    (no snapshot, not a quotation, or not found)."""
    url = getattr(article, "source_url", "")
    found = verified(article, highlight) if url else ""
    return fragment_url(url, found) if found else ""


#: what :func:`original_url` reads of an article (see builder.reads)
ORIGINAL_URL_READS = frozenset({"source_url", "quotations"})


PAGE = "source.html"  # a published snapshot, beside its article's page


def publish(snapshots: Snapshots, config: Any, articles: Iterable[Article],
            files: MutableMapping[str, bytes], signatures: dict[str, str], signer: Any) -> None:
    """With ``snapshots: {publish: true}``: each article's snapshot as a page of its own,
    ``<article URL>source.html``: a text snapshot's paragraphs escaped, an HTML one's main
    text as trafilatura gives it, through the sanitizer (a page is untrusted content).
    Into ``files``, signed with ``signer`` (a :class:`builder.outputs.Signer`)."""
    site_dir, language = config.site_dir, config.language
    for article in articles:
        found = snapshots.read.get(article.source)
        if found is None:
            continue
        name, digest = found
        title = html.escape(article.title)
        link = html.escape(article.source_url, quote=True)
        origin = f'<p>A copy of <a href="{link}" rel="noopener">{link}</a>, kept by this ' \
            "archive.</p>" if article.source_url else ""
        body = _body(site_dir, name, article.source_url)
        page = (f'<!DOCTYPE html>\n<html lang="{html.escape(language, quote=True)}">\n<head>\n'
                '<meta charset="utf-8">\n<meta name="robots" content="noindex">\n'
                f"<title>Source: {title}</title>\n</head>\n<body>\n<main>\n"
                f"<h1>Source: {title}</h1>\n{origin}\n<article>\n{body}\n</article>\n"
                "</main>\n</body>\n</html>\n")
        made = posixpath.join(posixpath.dirname(output_file(article.url)), PAGE)
        files[made] = page.encode()
        signatures[made] = signer.of("snapshot", digest, article.url, article.title,
                                     article.source_url, language)


def _links_to_source(page: str, source_url: str) -> str:
    """``page`` (HTML) with each relative link and image resolved against ``source_url``,
    the address it was copied from, as lxml resolves them (so that, published on this
    site, they lead where they led on the source, not to pages of this archive that do
    not exist); without a ``source_url``, relative ones are dropped (links to the page's
    own ``#fragment`` are kept)."""
    import lxml.html

    def resolve(link: str) -> str | None:
        if link.startswith("#") or urlsplit(link).scheme:
            return urljoin(source_url, link) if source_url and link.startswith("#") else link
        return urljoin(source_url, link) if source_url else None

    root = lxml.html.fromstring(page)
    root.rewrite_links(resolve, resolve_base_href=False)
    return lxml.html.tostring(root, encoding="unicode")


def _body(site_dir: Path, name: str, source_url: str = "") -> str:
    path = os.path.join(site_dir, *name.split("/"))
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except OSError:
        return ""
    if name.lower().endswith((".html", ".htm")):
        import trafilatura

        from builder.sanitize import sanitize_body

        main = trafilatura.extract(raw, output_format="html", favor_recall=True,
                                   include_comments=False, include_links=True,
                                   include_formatting=True)
        if main:
            return sanitize_body(_links_to_source(main, source_url))
    text = snapshot_text(raw, name)
    return "\n".join(f"<p>{html.escape(' '.join(part.split()))}</p>"
                     for part in re.split(r"\n\s*\n", text) if part.strip())
