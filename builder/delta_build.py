"""``postil build`` after editing articles: render only the pages that show them.

A full writing build stores what a delta build starts from
(:func:`builder.delta_save.store_build`, into :mod:`builder.delta_store`). The next ``postil build``
process, finding that only the stat of some article files changed since
(:func:`builder.state.changed_files`), reads those articles alone and, when each
indexes exactly as before (:func:`builder.delta.view`), makes again only the
pages, feeds and annotations that show them (:func:`builder.delta.rebuild`),
from the stored page contexts, without reading or indexing the rest of the
site. It writes the files whose bytes changed (:meth:`OutputFolder.update`),
and updates the build state, so that the next build may stop early, and the
stored build, so that the next edit starts from it.

Anything it is not sure of makes it give way to the full build, which then
decides, reports and writes as always: a file added, removed or renamed, a
change to anything but an article (entity, template, static file, ``site.yml``,
Postil itself), a saved article whose view changed or that has a problem,
embeds, quotations checked against a snapshot, a date taken from the
file system or git, search, published snapshots, a page that reads ``site``,
a stored build missing or unreadable. The tests compare its output with a
cold build's, byte for byte (``tests/test_delta_build.py``).

Hand-written: this is Postil's own rebuild logic.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from builder import delta_store, slugs, state
from builder.cache import CACHE_DIR, ArticleCache
from builder.config import SiteConfig, author_problems, load_config
from builder.delta import Delta, rebuild
from builder.delta_pickle import Unsure
from builder.delta_store import StoredTables
from builder.feeds import FeedCache, FeedSource
from builder.index import resolve_links
from builder.inputs import input_roots
from builder.lexicon import Lexicon
from builder.manifest import MANIFEST
from builder.model import Article, ArticleRecord, Page, Site
from builder.outputs import settings_version
from builder.problems import Problem
from builder.render import Renderer
from builder.site_files import STATIC
from builder.sources import Reader, read_settings
from builder.staging import read_regular
from builder.stats import packed, stats_digest
from builder.theme import find_theme, template_dirs
from builder.urls import SITE_LINK, output_file
from builder.wiki import WikiResolver
from builder.writer import OutputFolder, WriteReport

_WORDS = 3  # per output file in the packed stats: size, mtime_ns, inode


class StoredBuild:
    """A :class:`builder.delta.Basis` read from the stored build, as asked."""

    def __init__(self, tables: StoredTables, renderer: Renderer, output: Path) -> None:
        self.tables, self.output = tables, output
        self.config = tables.config
        self.renderer = renderer
        self.pages_version, self.settings = tables.meta("versions")
        settings = tables.meta("settings")
        self.depended: set[str] = settings["depended"]
        self.tag_names = settings["tag_names"]
        self._static: set[str] = settings["static"]
        self._site_readers: dict[str, frozenset[str] | None] = settings["site_readers"]
        self._reads: dict[str, frozenset[str] | None] = dict(self._site_readers)
        self._signatures: dict[str, str | None] = {}
        self._reached: dict[str, tuple[list[int], list[int]]] = {}

    def record(self, source: str) -> ArticleRecord:
        return self.tables.record(self.tables.meta("sources")[source])

    def changed_records(self) -> dict[str, ArticleRecord]:
        return {source: self.tables.record(key)
                for source, key in self.tables.meta("changed").items()}

    def site_readers(self) -> list[str]:
        return list(self._site_readers)

    def reads_of(self, name: str) -> frozenset[str] | None:
        return self._reads.get(name)

    def _reach(self, source: str) -> tuple[list[int], list[int]]:
        """(pages, feeds) that reach ``source``: one row, read once for both."""
        found = self._reached.get(source)
        if found is None:
            row = self.tables.one("SELECT pages, feeds FROM reach WHERE source = ?", (source,))
            found = ([], []) if row is None else \
                (self.tables.load(row[0]), self.tables.load(row[1]))
            if type(found[0]) is not list or type(found[1]) is not list:
                raise Unsure("not a list of pages")
            self._reached[source] = found
        return found

    def pages_of(self, source: str) -> list[int]:
        return self._reach(source)[0]

    def feeds_of(self, source: str) -> list[int]:
        return self._reach(source)[1]

    def page_info(self, number: int) -> tuple[str, bool]:
        row = self.tables.one("SELECT name, signature, reads, entity FROM pages "
                              "WHERE number = ?", (number,))
        if row is None:
            raise Unsure(f"no page {number}")
        name, signature, reads, entity = row
        self._reads[name] = self.tables.load(reads)
        self._signatures[name] = signature
        return name, bool(entity)

    def page(self, number: int) -> Page:
        row = self.tables.one("SELECT name, page, shows FROM pages WHERE number = ?",
                              (number,))
        if row is None:
            raise Unsure(f"no page {number}")
        page, shows = self.tables.load(row[1]), self.tables.load(row[2])
        if type(page) is not Page or output_file(page.url) != row[0] or type(shows) is not tuple:
            raise Unsure("not a page")
        return replace(page, shows=shows)

    def feed(self, number: int) -> FeedSource:
        row = self.tables.one("SELECT feed FROM feeds WHERE number = ?", (number,))
        found = self.tables.load(row[0]) if row is not None else None
        if type(found) is not FeedSource:
            raise Unsure(f"no feed {number}")
        return found

    def card(self, source: str) -> Article | None:
        return self.tables.card(source)

    def signature(self, name: str) -> str | None:
        if name in self._static:
            return STATIC
        if name not in self._signatures:
            row = self.tables.one("SELECT signature FROM pages WHERE name = ?", (name,))
            self._signatures[name] = row[0] if row is not None else None
        return self._signatures[name]

    def page_bytes(self, name: str) -> bytes | None:
        return read_regular(f"{self.output}/{name}")

    def body_resolver(self, problems: list[Problem]) -> Callable[[ArticleRecord], str]:
        urls, hidden, assets = self.tables.meta("links")
        resolver: WikiResolver | None = None

        def body(record: ArticleRecord) -> str:
            nonlocal resolver
            if resolver is None:  # (stored a copy without records: see WikiResolver.stored)
                resolver = self.tables.meta("resolver") if record.wikilinks else \
                    _no_wikilinks(self.tables.meta("settings"))
                if type(resolver) is not WikiResolver:
                    raise Unsure("not a resolver")
            return resolve_links(record, urls, hidden, resolver, SITE_LINK, problems,
                                 assets)[0]

        return body


def _no_wikilinks(settings: dict[str, Any]) -> WikiResolver:
    """A resolver for a body with no wikilinks: what it needs of the stored one."""
    resolver = WikiResolver(None, [], [], [], unresolved=settings["unresolved"])
    resolver.tag_slugs, resolver.failed = settings["tag_slugs"], settings["failed"]
    return resolver


@dataclass
class DeltaBuilt:
    """What :func:`delta_build` did, for the command's summary."""

    output: Path
    articles: int
    rendered: list[str]
    report: WriteReport
    files: int
    warnings: list[str]
    skipped: list[str]
    seconds: float


def delta_build(site_dir: Path, output: Path | None, base_url: str | None, drafts: bool,
                strict: bool) -> DeltaBuilt | str:
    """Build ``site_dir`` after edits to articles alone, from the stored build; or why
    the full build must decide (then nothing was written). Raises what the writer raises
    (:class:`builder.writer.OutputBusy`, ``WriteFailed``, ``UnsafePath``)."""
    started = time.perf_counter()
    site_dir = Path(site_dir).resolve()
    path = delta_store.database(site_dir)
    if not path.is_file():
        return "no stored build"
    config, problems = load_config(site_dir, keep_going=True)
    if problems:
        return "site.yml has problems"
    if base_url:
        config = replace(config, base_url=base_url.rstrip("/") + "/")
    slugs.use(config.slugs)
    theme = find_theme(config)
    if theme is None or config.search or config.snapshots_publish:
        return "the theme is missing, or search or published snapshots are on"
    out = (output or config.site_dir / config.output_dir).resolve()
    key = state.condition(site_dir, output, base_url, drafts, strict)
    tables = StoredTables(path, ArticleCache(site_dir / CACHE_DIR, None, read_only=True).get,
                          config)
    try:
        return _build(site_dir, config, theme, out, key, tables, started)
    except Unsure as why:
        return str(why)
    finally:
        tables.close()


def _build(site_dir: Path, config: SiteConfig, theme: Path, output: Path, key: str,
           tables: StoredTables, started: float) -> DeltaBuilt:
    if tables.meta("format") != delta_store.FORMAT or tables.meta("condition") != key:
        raise Unsure("the stored build is of another format or options")
    if tables.meta("versions")[1] != settings_version(config):
        raise Unsure("site.yml or Postil changed")
    roots = input_roots(config, theme)
    if tables.meta("roots") != roots:
        raise Unsure("the folders read changed")
    stamp = state.load(site_dir, key)
    names = tables.meta("names")
    if stamp is None or stamp.files != names or stamp.output != str(output):
        raise Unsure("the build state is not the stored build's")
    digest, racy, texts = state.snapshot(roots, time.time_ns())
    sources = _edited(site_dir, tables, stamp, state.changed_files(tables.meta("inputs"), texts))
    settings = tables.meta("settings")
    if settings["valid_until"] is not None and \
            datetime.now(config.tz).date().isoformat() >= settings["valid_until"]:
        raise Unsure("a future-dated article fell due")
    racy_digests = state.content_digests(racy)  # before reading, as a full build takes them
    if racy_digests is None:
        raise Unsure("too many files just changed")
    saved = _read(site_dir, config, sources, tables.meta("lexicon"))
    # What each page rendered reads is noted, for the next delta build; the global
    # ``site`` is a stand-in: a page that reads it ends this build (builder.delta).
    found: list[Problem] = []
    renderer = Renderer(Site(config=config, articles=(), tags=(), authors=(), years=(),
                             term_names=settings["tag_names"]),
                        template_dirs(config, theme, found), track_reads=True)
    if found:
        raise Unsure("the template folders have problems")
    compiled = getattr(renderer.env.bytecode_cache, "codes", None)
    tracking, stored = tables.meta("templates")
    if compiled is not None and tracking is True and type(stored) is dict:
        compiled.update((key, code) for key, code in stored.items()
                        if type(key) is str and type(code) is bytes)
    made = rebuild(StoredBuild(tables, renderer, output), saved, FeedCache())
    if made is None:
        raise Unsure("an edit changes how the site is indexed, or a page reads the site, "
                     "or a problem")
    with OutputFolder(output).locked() as folder:
        if state.load(site_dir, key) != stamp:  # another build wrote since: it decides
            raise Unsure("another build wrote the output meanwhile")
        report = folder.update(made.files, made.signatures)
        packed_now = _patched(output, names, tables.meta("packed"), report)
        sources_now = {**tables.meta("sources"), **{s: r.key for s, r in saved.items()}}
        new_stamp = None if packed_now is None else stamp._replace(
            inputs=digest, written=stats_digest(packed_now), racy=racy_digests)
        state.record(site_dir, key, new_stamp, sources_now)
        _store(tables, made, saved, texts, sources_now, packed_now)
    return DeltaBuilt(output=output, articles=settings["shown"], rendered=made.rendered,
                      report=report, files=len(names), warnings=list(stamp.warnings),
                      skipped=list(stamp.skipped), seconds=time.perf_counter() - started)


def _edited(site_dir: Path, tables: StoredTables, stamp: state.Stamp,
            changed: list[str] | None) -> list[tuple[str, Path]]:
    """(site-relative path, file) of each article changed since the stored build; raises
    :class:`Unsure` unless every changed file is an article of it without warnings."""
    if not changed:
        raise Unsure("a file was added or removed" if changed is None else "no file changed")
    # A file changed again within the file system's timestamp granularity keeps its stat:
    # its bytes say (see builder.state). Such a change is left to the full build.
    if any(path not in changed and state.content_digest(path) != digest
           for path, digest in stamp.racy.items()):
        raise Unsure("a file changed within the file system's timestamp granularity")
    warned = {p.path for p in tables.meta("settings")["warnings"]}
    known = tables.meta("articles")
    sources = []
    for file in changed:
        try:
            rel = Path(file).relative_to(site_dir).as_posix()
        except ValueError:
            raise Unsure(f"{file} changed") from None
        if rel not in known or rel in warned:
            raise Unsure(f"{rel} changed: not an article, or one with warnings")
        sources.append((rel, site_dir / rel))
    return sources


def _read(site_dir: Path, config: SiteConfig, sources: list[tuple[str, Path]],
          lexicon: Lexicon | None) -> dict[str, ArticleRecord]:
    """The records of the edited articles, parsed (and put in the parsed-article cache)
    with the stored build's ``lexicon`` (no entity file changed since); raises
    :class:`Unsure` if one has a problem or needs what this build does not do."""
    if lexicon is not None and type(lexicon) is not Lexicon:
        raise Unsure("not a lexicon")
    cache = ArticleCache(site_dir / CACHE_DIR, read_settings(config, lexicon))
    reader = Reader(cache.settings, cache)
    records, problems = reader.read(sources, jobs=1, within=site_dir)
    problems += author_problems(config, [(r.source, r.line("source")) for r in records
                                         if r.source_url])
    if problems or len(records) != len(sources):
        raise Unsure("an edited article has problems")
    if any(r.dated_by == "file" or r.quotations or r.embeds for r in records):
        raise Unsure("an edited article is dated by its file, quotes a snapshot or embeds")
    cache.flush()  # (kept, not pruned: the stored pages hold the records they held)
    cache.close()
    return {record.source: record for record in records}


def _patched(output: Path, names: list[str], stats: bytes, report: WriteReport
             ) -> bytes | None:
    """The packed stats of the output files (see :func:`builder.stats.output_packed`),
    those of the files this build recorded and of the manifest as they are now."""
    values = array("Q", stats)
    if len(values) != _WORDS * (len(names) + 1):
        return None
    where = {name: number for number, name in enumerate(names)}
    base = f"{output}/"
    for name in report.records:
        number = where.get(name)
        now = packed(base, [name])
        if number is None or now is None:
            return None
        values[_WORDS * number:_WORDS * (number + 1)] = array("Q", now)
    manifest = packed(base, [MANIFEST])
    if manifest is None:
        return None
    values[-_WORDS:] = array("Q", manifest)
    return values.tobytes()


def _store(tables: StoredTables, made: Delta, saved: dict[str, ArticleRecord],
           texts: dict[str, str], sources: dict[str, str], packed_now: bytes | None) -> None:
    """Make the stored build describe the output after ``made``; forget it if that
    cannot be done (the next build is then a full one)."""
    if packed_now is None:
        tables.close()
        delta_store.remove(tables.path)
        return
    changed = {**tables.meta("changed"), **{s: r.key for s, r in saved.items()}}
    try:
        delta_store.update(tables, {"changed": changed, "sources": sources, "inputs": texts,
                                    "packed": packed_now}, made)
    except Exception:  # noqa: BLE001 - the next build does its full work instead
        tables.close()
        delta_store.remove(tables.path)
