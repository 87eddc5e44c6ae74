"""The build: config → discover → read → index → render → write.

Only reading and writing touch the disk; the stages between are pure and
make new objects. A :class:`SiteBuilder` can build the same site again and
again (the preview server keeps one): it re-reads only files whose stat
changed and makes again only the outputs whose signature changed
(:mod:`builder.outputs`); a new process reuses what the output folder holds
under the same signature. Either way the bytes equal a cold build's.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from builder import delta_store, slugs, state
from builder.assets import add_assets, left_out, usable_files
from builder.cache import CACHE_DIR, ArticleCache, code_fingerprint
from builder.citations import citation_files
from builder.config import CONFIG_NAME, SiteConfig, author_problems, load_config
from builder.delta import rebuild
from builder.delta_save import Kept, store_build
from builder.entities import EntityReader
from builder.entity_store import EntityStore
from builder.explain import SETTINGS_KEY, TEMPLATES_KEY, explain, find_page
from builder.feeds import FeedCache, FeedSource
from builder.filedates import FileDates
from builder.fingerprint import fingerprint
from builder.index import index_site
from builder.inputs import input_roots
from builder.last_build import LastBuild, saved_sources
from builder.lexicon import Lexicon
from builder.model import Site
from builder.output_check import foreign_folder, source_overlap
from builder.outputs import (
    SITE_MARK,
    Files,
    Made,
    Reusable,
    Signer,
    settings_version,
    templates_version,
)
from builder.parallel import render_pages
from builder.problems import BuildFailed, Problem
from builder.redirects import add_redirects
from builder.render import Renderer
from builder.search import refresh, start_index
from builder.site_files import (
    STATIC,
    add_static,
    annotation_files,
    feed_files,
    sitemap_files,
)
from builder.sitemap import ROBOTS, robots_txt
from builder.snapshots import SOURCES_DIR, Snapshots
from builder.snapshots import publish as publish_snapshots
from builder.sources import Reader, explore, read_settings, skipped_lines
from builder.state import Stamp, condition, content_digests, snapshot
from builder.stats import output_packed, stats_digest
from builder.terms import claimed_slugs, exceptions, read_term_files
from builder.theme import find_theme, static_files, template_dirs
from builder.unpublished import unpublished_lines
from builder.urls import output_file
from builder.writer import OutputFolder, WriteFailed, WriteReport

Progress = Callable[[str, int, int], None]
RELATED_MEMO = "related-articles"  # in builder.state: [code fingerprint, {digest: sources}]


@dataclass
class BuildOptions:
    output: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    strict: bool = False
    write: bool = True
    jobs: int | None = None  # worker processes; None = one per core
    cache: bool = True  # reuse parsed articles from .postil-cache/ and pages from the output
    fresh: bool = False  # ignore earlier work (cache and output), but fill the cache again
    read_only: bool = False  # write nothing at all, not even the cache (check, --dry-run)
    explain: str | None = None  # a page's URL: say why it was rendered again, or reused
    force: bool = False  # write into a non-empty folder that Postil did not make
    delta: bool = False  # keep what a delta build needs (builder.delta), when not writing


@dataclass
class BuildResult:
    config: SiteConfig
    site: Site  # after a delta build, the last full build's but for its pages (builder.delta)
    files: Files  # name → bytes; unchanged files read from the output folder on demand
    warnings: list[Problem] = field(default_factory=list)
    report: WriteReport | None = None
    output: Path | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # stage → seconds
    rendered: list[str] = field(default_factory=list)  # pages rendered (not reused)
    parsed: list[str] = field(default_factory=list)  # articles parsed (not reused)
    signatures: dict[str, str] = field(default_factory=dict)  # output file → signature
    sources: dict[str, str] = field(default_factory=dict)  # every source read → record key
    valid_until: str | None = None  # ISO date on which the output changes by itself
    explanation: list[str] = field(default_factory=list)  # for BuildOptions.explain
    skipped: list[str] = field(default_factory=list)  # the summary's lines on files left out


def build(site_dir: Path, options: BuildOptions | None = None,
          progress: Progress | None = None) -> BuildResult:
    """Build the site in ``site_dir`` once.

    Raises :class:`BuildFailed` with every problem, or, when writing,
    :class:`builder.writer.OutputBusy` (another build holds the output folder)
    or :class:`builder.writer.WriteFailed` (nothing of the old output changed; also for a
    non-empty output folder without Postil's manifest, unless ``options.force``).
    """
    return SiteBuilder(site_dir, options).build(progress)


class SiteBuilder:
    """Builds one site, as often as asked, making again only what its inputs changed."""

    def __init__(self, site_dir: Path, options: BuildOptions | None = None):
        self.site_dir = Path(site_dir).resolve()
        self.options = options or BuildOptions()
        self._reader: Reader | None = None
        self._entities = EntityReader()
        self._made = Made()  # every output of the last good build, with its signature
        self._static: dict[Path, tuple[tuple[int, int], bytes]] = {}
        self._assets: dict[Path, tuple[tuple[int, int], bytes]] = {}  # the same, of content/
        self._feeds = FeedCache()
        self._index_memo: dict = {}
        self._entity_store: EntityStore | None = None
        self._last: LastBuild | None = None  # what a delta build starts from (not writing)
        self._reads: dict[str, frozenset[str]] = {}  # output file → what it read (see reads)
        self._page_reads: dict[str, frozenset[str]] = {}  # the same, of the build under way
        self._parsed_before: list[str] = []  # parsed by a delta build that gave up
        self._pending: LastBuild | None = None
        self._kept: Kept | None = None  # what _store stores of a writing build
        self._dates: FileDates | None = None  # dates of files dated by git or mtime
        self._snapshots = Snapshots()  # articles' sources, their quotations checked
        self.search_later: Callable | None = None  # postil serve: index away from the build

    def build(self, progress: Progress | None = None,
              saved: Iterable[str] | None = None) -> BuildResult:
        """Build again. ``saved``: the files that changed since the last build of this
        builder, when a watcher knows them (absolute paths): edits to article bodies alone
        are then made without indexing again (:mod:`builder.delta`), when not writing."""
        # A large site is millions of live objects: the cyclic collector would scan
        # them over and over while a build allocates. Collect once, afterwards.
        collecting = gc.isenabled()
        gc.disable()
        self._parsed_before = []
        try:
            if saved is not None and self._last is not None and self.options.delta:
                result = self._delta(list(saved))
                if result is not None:
                    return result
            self._last = None  # until this build succeeds
            return self._build(progress)
        finally:
            gc.unfreeze()  # (see _build_site)
            (gc.enable if collecting else gc.disable)()

    def _build(self, progress: Progress | None) -> BuildResult:
        options = self.options
        started, started_ns = time.perf_counter(), time.time_ns()
        timings: dict[str, float] = {}
        clock = _Clock(timings)
        # A bad site.yml value is an error among the problems: the content is still
        # read, so every file's problems are reported; the build fails before rendering.
        config, problems = load_config(self.site_dir, keep_going=True)
        if options.base_url:  # a new configuration: the loaded one never changes
            config = replace(config, base_url=options.base_url.rstrip("/") + "/")
        slugs.use(config.slugs)  # before anything makes a slug (see builder.slugs)
        theme = find_theme(config)
        if theme is None:
            raise BuildFailed(problems + [Problem(CONFIG_NAME, 1, f'theme "{config.theme}" not '
                                                  "found in themes/ or the built-in themes")])
        output = (options.output or config.site_dir / config.output_dir).resolve()
        found = source_overlap(config, output, theme, options.output is not None)
        problems += found
        if _fails(found, options.strict):
            raise BuildFailed(problems)
        refusal = foreign_folder(output) if options.write and not options.force else None
        if refusal is not None:
            raise WriteFailed(refusal)
        folder = OutputFolder(output) if options.write else None
        roots = input_roots(config, theme)
        inputs = snapshot(roots, started_ns) if folder is not None and options.cache else None
        racy = content_digests(inputs[1]) if inputs is not None else None  # before reading
        # Held from before the output is read for reuse until it is written.
        with folder.locked() if folder else contextlib.nullcontext(), \
                folder.spool() if folder else contextlib.nullcontext() as spool:
            disk = folder if folder and options.cache and not options.fresh else None
            result = self._build_site(config, theme, output, disk, problems, clock, progress,
                                      Files(spool))
            if folder is not None:
                kept, self._kept = self._kept, None
                # (a build stored for this output describes it no more)
                delta_store.forget(delta_store.database(self.site_dir), self._condition())
                result.report = folder.sync(result.files, result.signatures)
                clock("write")
                packed = None
                if inputs is not None:
                    packed = self._record_state(config, output, roots, inputs[0], racy,
                                                result)
                store_build(self.site_dir, self._condition(), kept, roots,
                            inputs[2] if inputs else None, sorted(result.files), packed)
                clock("store")
                if self._entity_store is not None:
                    self._entity_store.save()
        if self._reader and self._reader.cache:
            self._reader.cache.flush()
            self._reader.cache.prune()
        result.seconds = time.perf_counter() - started
        self._last, self._pending = self._pending, None
        self._reads = self._page_reads
        return result

    def _delta(self, saved: list[str]) -> BuildResult | None:
        """The build after ``saved`` files changed, made by :func:`builder.delta.rebuild`;
        None when a full build must decide."""
        last, reader, started = self._last, self._reader, time.perf_counter()
        if last is None or reader is None or self.options.write or self.options.explain:
            return None
        sources = saved_sources(last, self.site_dir, saved, {**self._static, **self._assets})
        if sources is None:
            return None
        dates = self._dates
        if dates is None or not dates.unchanged():  # a commit, or a touched undated file
            return None
        records, problems = reader.read(sources, jobs=1, within=self.site_dir, merge=True)
        self._parsed_before = list(reader.parsed)  # for the full build, if it comes to that
        records, found = dates.fill(records, last.site.config.tz, merge=True)
        problems += found
        records, found = self._snapshots.fill(records, self.site_dir)
        problems += found
        if not dates.unchanged():  # changed while this build read: a full build decides
            return None
        saved = {r.source: r for r in records}
        delta = None if problems or len(records) != len(sources) else \
            rebuild(last, saved, self._feeds)
        if delta is None:
            return None
        made = last.apply(delta, saved)
        if self.search_later is None and not refresh(last.site, made.files, made.signatures):
            return None  # (builder.search: the index as a full build has it, or its error)
        self._made.update(made.files, made.made, made.signatures)
        if reader.cache:  # the saved files' records, for the next process (no pruning:
            reader.cache.flush()  # this build used only those)
            reader.cache.close()
        return BuildResult(config=last.site.config, site=last.site, files=made.files,
                           warnings=list(last.warnings),
                           timings={"delta": time.perf_counter() - started},
                           rendered=made.rendered, parsed=list(reader.parsed),
                           signatures=made.signatures, sources=dict(last.sources),
                           valid_until=last.valid_until,
                           seconds=time.perf_counter() - started)

    def _condition(self) -> str:
        options = self.options
        return condition(self.site_dir, options.output, options.base_url, options.drafts,
                         options.strict)

    def _record_state(self, config: SiteConfig, output: Path, roots: list[str], inputs: str,
                      racy: dict[str, str] | None, result: BuildResult) -> bytes | None:
        """Remember what this build read and wrote, for a no-change build to stop early;
        forget it if too many inputs changed too close to the build's start to be
        trusted (``racy`` is None: see :func:`builder.state.content_digests`)."""
        key = self._condition()
        names = sorted(result.files)
        records = result.report.records if result.report else None  # stats as written
        packed = output_packed(output, names, records) if racy is not None else None
        written = stats_digest(packed) if packed is not None else None
        stamp = None
        if written is not None:
            stamp = Stamp(inputs=inputs, roots=roots, output=str(output), files=names,
                          written=written, racy=racy, articles=len(result.site.articles),
                          warnings=[str(p) for p in result.warnings], skipped=result.skipped,
                          valid_until=result.valid_until, timezone=config.timezone)
        related = self._index_memo.get("related")
        state.record(self.site_dir, key, stamp, result.sources,
                     {RELATED_MEMO: [code_fingerprint(), related]} if related else None)
        return packed if stamp is not None else None

    def _load_memo(self) -> None:
        """A new builder starts from the related-article rankings the last build stored
        (made by this very code: the memo's keys are digests of all other inputs)."""
        if self._index_memo or not self.options.cache or self.options.fresh:
            return
        found = state.memo(self.site_dir, RELATED_MEMO)
        if isinstance(found, list) and len(found) == 2 and found[0] == code_fingerprint() \
                and isinstance(found[1], dict):
            self._index_memo["related"] = found[1]

    def _build_site(self, config: SiteConfig, theme: Path, output: Path, disk: Reusable | None,
                    problems: list[Problem], clock: _Clock, progress: Progress | None,
                    files: Files) -> BuildResult:
        options = self.options
        # Read before this build records its own: what the explained page was made from.
        before = state.sources_of(self.site_dir, self._condition()) if options.explain else None
        self._entity_store = EntityStore(self.site_dir, refresh=options.fresh) \
            if options.cache else None
        entities, lexicon, found = self._entities.read(config.content_path, config.base_path,
                                                       config.autolink, config.markdown_html,
                                                       self._entity_store, config.site_dir)
        problems += found
        reader = self._reader_for(config, lexicon)
        discovered = explore(config.content_path, config.site_dir / SOURCES_DIR)
        records, found = reader.read(discovered.articles, options.jobs, progress,
                                     config.site_dir)
        problems += found
        if self._dates is None or self._dates.folder != config.content_path.parent:
            self._dates = FileDates(config.content_path.parent)
        records, found = self._dates.fill(records, config.tz)  # (see builder.filedates)
        problems += found
        records, found = self._snapshots.fill(records, config.site_dir)  # (builder.snapshots)
        problems += found
        problems += author_problems(config, [(r.source, r.line("source")) for r in records
                                             if r.source_url])
        asset_paths = usable_files(config, discovered.files, problems)
        clock("read")
        self._load_memo()
        today = datetime.now(config.tz).date()
        term_files, found = read_term_files(config.content_path, lexicon, config.base_path,
                                            config.markdown_html, config.site_dir)
        problems += found
        read = {r.source for r in records}
        failed = {p.path for p in problems if not p.warning and p.path not in read
                  and p.path.endswith((".md", ".markdown"))}
        site, found = index_site(config, records, today, entities,
                                 lexicon, self._index_memo, drafts=options.drafts,
                                 files=list(asset_paths), term_files=term_files,
                                 failed=failed)
        problems += found
        clock("index")
        # The site model lives until the end: set aside from the collector, which can now
        # free the cycles rendering and encoding make (json's encoder makes one per file)
        # at little cost, and never writes to the model's pages that workers share.
        gc.freeze()
        gc.enable()
        # (noting what each page reads: delta builds render only the pages that read
        # what an edit changed, builder.reads)
        renderer = Renderer(site, template_dirs(config, theme, problems))
        if _fails(problems, options.strict):  # with the templates' problems: all in one run
            raise BuildFailed(problems + renderer.check(site.pages))

        # Links to terms depend on the term files too (builder.terms.exceptions).
        signer = Signer(site, fingerprint((templates_version(config, renderer.template_dirs),
                                           exceptions(site.term_names))),
                        settings_version(config))
        signatures, rendered, found = self._pages(renderer, site, signer, disk, progress, files)
        problems += found
        clock("render")
        static = static_files(config, theme, problems)  # (with a warning for each left out)
        found, self._static = add_static(config, static, files, signatures, self._static)
        problems += found
        found, self._assets = add_assets(site.assets, asset_paths, files, signatures,
                                         self._assets, STATIC)
        problems += found
        # Pagefind (a process of its own) indexes the pages on the core this thread leaves
        # idle while the other files are made; only when an indexed page changed.
        search = start_index(site, signer, self._made, disk, files, signatures,
                             later=self.search_later)
        try:
            feeds, found = self._other_files(config, site, signer, disk, files, signatures)
        except BaseException:
            if not isinstance(search, list):
                search.wait()
            raise
        problems += found
        clock("other files")
        problems += search if isinstance(search, list) else search.finish(files, signatures)
        clock("search")  # (the wait for Pagefind, and reading its files)
        if _fails(problems, options.strict):
            raise BuildFailed(problems)
        self._made.remember(files, signatures)
        sources = {r.source: r.key for r in records}
        sources.update((record.source, record.key) for record, _, _ in entities)
        sources[TEMPLATES_KEY], sources[SETTINGS_KEY] = \
            signer.pages_version.hex(), signer.settings.hex()
        explanation = self._explain(site, before, sources, rendered, signatures)
        # With future: false, the day the next future-dated article is due changes the site.
        due = [] if config.future else [r.date for r in records if r.date > today]
        valid_until = min(due).isoformat() if due else None
        tag_slugs = claimed_slugs("tags", term_files)
        if options.delta and not options.write:  # what a delta build starts from
            self._pending = LastBuild.of(site, records, entities, lexicon, problems, feeds,
                                         files, signatures, renderer, signer,
                                         self._page_reads, valid_until, sources, tag_slugs)
        elif _stores(options):  # (see _store)
            self._kept = Kept(site, records, entities, lexicon, problems, feeds, signatures,
                              signer, self._page_reads, valid_until, sources, tag_slugs,
                              failed, set(reader.cache.used) if reader.cache else set(),
                              renderer)
        return BuildResult(config=config, site=site, files=files, warnings=problems,
                           output=output, timings=clock.timings, rendered=rendered,
                           parsed=list(dict.fromkeys(self._parsed_before + reader.parsed)),
                           signatures=signatures, sources=sources,
                           valid_until=valid_until, explanation=explanation,
                           skipped=skipped_lines(discovered) + left_out(asset_paths)
                           + unpublished_lines(records, options.drafts, config.future, today))

    def _other_files(self, config: SiteConfig, site: Site, signer: Signer,
                     disk: Reusable | None, files: Files, signatures: dict[str, str]
                     ) -> tuple[list[FeedSource], list[Problem]]:
        """Annotations, citations, feeds, sitemap, robots.txt, redirects and published
        snapshots, into ``files`` and ``signatures``: (the feeds, the problems found)."""
        annotation_files(config, site, signer, self._made, disk, files, signatures,
                         self.options.jobs)
        citation_files(config, site, signer, self._made, disk, files, signatures)
        feeds = feed_files(site, signer, self._made, disk, files, signatures, self._feeds)
        sitemap_files(site, signer, self._made, disk, files, signatures)
        if ROBOTS not in files:
            files[ROBOTS] = robots_txt(config.base_url)
            signatures[ROBOTS] = signer.of(ROBOTS)
        problems = add_redirects(site, signer, files, signatures)
        if config.snapshots_publish:  # (builder.snapshots)
            publish_snapshots(self._snapshots, config, site.articles, files, signatures, signer)
        return feeds, problems

    def _explain(self, site: Site, before: dict[str, str] | None, sources: dict[str, str],
                 rendered: list[str], signatures: dict[str, str]) -> list[str]:
        wanted = self.options.explain
        if wanted is None:
            return []
        page = find_page(site.pages, wanted, site.config.base_url, site.config.base_path)
        if page is None:
            return [f"{wanted}: no page of the site has that address"]
        name = output_file(page.url)
        return explain(page, name in rendered, before or None, sources,
                       SITE_MARK in signatures.get(name, ""))

    def _reader_for(self, config: SiteConfig, lexicon: Lexicon) -> Reader:
        settings = read_settings(config, lexicon)
        if self._reader is None or settings != self._reader.settings:
            cache = ArticleCache(config.site_dir / CACHE_DIR, settings,
                                 refresh=self.options.fresh,
                                 read_only=self.options.read_only) if self.options.cache else None
            self._reader = Reader(settings, cache)
        if self._reader.cache:
            self._reader.cache.used = set()
        return self._reader

    def _pages(self, renderer: Renderer, site: Site, signer: Signer, disk: Reusable | None,
               progress: Progress | None, files: Files
               ) -> tuple[dict[str, str], list[str], list[Problem]]:
        """Render into ``files`` the pages whose signature changed; reuse the others."""
        signatures: dict[str, str] = {}
        todo = []
        for page in site.pages:
            name = output_file(page.url)
            own = signer.page(page)
            recorded = self._made.recorded(name, disk)
            if recorded is not None and signer.matches(own, recorded) and \
                    self._made.reuse(name, recorded, disk, files):
                signatures[name] = recorded
            else:
                todo.append(page)
                signatures[name] = own
        made = render_pages(renderer, todo, self.options.jobs, progress, into=files)
        problems, reads_site = made.problems, made.reads_site
        # What each page read of its articles: a reused page read what it read last time.
        self._page_reads = {name: found for page in site.pages
                            if (found := made.reads.get(name := output_file(page.url),
                                                        self._reads.get(name))) is not None}
        for name in reads_site:
            signatures[name] = signer.with_site(signatures[name])
        return signatures, [output_file(p.url) for p in todo], problems


class _Clock:
    """Records how long each stage took since the previous one."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self.last
        self.last = now


def _stores(options: BuildOptions) -> bool:
    """Whether a build with ``options`` stores itself for the next process's delta build
    (builder.delta_build): a writing build with the cache on."""
    return options.write and options.cache and not options.read_only


def _fails(problems: list[Problem], strict: bool) -> bool:
    return any(strict or not p.warning for p in problems)
