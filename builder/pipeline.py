"""The build: config → discover → read → index → render → write.

Only reading and writing touch the disk; the stages between are pure. A
:class:`SiteBuilder` can build the same site again and again (the preview
server keeps one): it re-reads only files whose stat changed and re-renders
only pages whose inputs changed, judged by a signature of each page's
template set, configuration and the content hashes of the articles it shows.
"""

from __future__ import annotations

import gc
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jinja2 import meta

from builder.cache import CACHE_DIR, ArticleCache, code_fingerprint
from builder.config import CONFIG_NAME, SiteConfig, load_config
from builder.entities import discover_entities, read_entity, registry_entry, render_notes
from builder.feeds import FeedCache
from builder.index import index_site
from builder.lexicon import Lexicon, build_lexicon
from builder.model import Entity, Page, Site
from builder.parallel import render_pages
from builder.problems import BuildFailed, Problem
from builder.render import Renderer
from builder.sitemap import SitemapCache, web_files
from builder.sources import Reader, discover, read_settings
from builder.theme import find_theme, static_files, template_dirs
from builder.urls import annotations_path, output_file
from builder.webannotation import annotation_file
from builder.writer import WriteReport, digest, read_manifest, write_site

Progress = Callable[[str, int, int], None]


@dataclass
class BuildOptions:
    output: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    strict: bool = False
    write: bool = True
    jobs: int | None = None  # worker processes; None = one per core
    cache: bool = True  # reuse parsed articles from .postil-cache/ in the site folder


@dataclass
class BuildResult:
    config: SiteConfig
    site: Site
    files: dict[str, bytes]
    warnings: list[Problem] = field(default_factory=list)
    report: WriteReport | None = None
    output: Path | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # stage → seconds
    rendered: list[str] = field(default_factory=list)  # pages rendered (not reused)
    parsed: list[str] = field(default_factory=list)  # articles parsed (not reused)


def build(site_dir: Path, options: BuildOptions | None = None,
          progress: Progress | None = None) -> BuildResult:
    """Build the site in ``site_dir`` once. Raises :class:`BuildFailed` with every problem."""
    return SiteBuilder(site_dir, options).build(progress)


class SiteBuilder:
    """Builds one site, as often as asked, redoing only what its inputs changed."""

    def __init__(self, site_dir: Path, options: BuildOptions | None = None):
        self.site_dir = Path(site_dir).resolve()
        self.options = options or BuildOptions()
        self._reader: Reader | None = None
        self._reader_settings = None
        self._pages: dict[str, tuple[bytes, bytes]] = {}  # output file → (signature, bytes)
        self._static: dict[Path, tuple[tuple[int, int], bytes]] = {}
        self._entities: dict[str, tuple] = {}  # file → (stat, entity, problems)
        self._notes: dict[tuple[str, str], tuple[str, list]] = {}
        self._annotations: dict[tuple[str, str, str], bytes] = {}
        self._feeds = FeedCache()
        self._sitemap = SitemapCache()
        self._on_disk: _OutputOnDisk | None = None
        self._index_memo: dict = {}

    def build(self, progress: Progress | None = None) -> BuildResult:
        # A large site is millions of live objects: the cyclic collector would scan
        # them over and over while a build allocates. Collect once, afterwards.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._build(progress)
        finally:
            if collecting:
                gc.enable()

    def _build(self, progress: Progress | None) -> BuildResult:
        options = self.options
        started = time.perf_counter()
        timings: dict[str, float] = {}
        clock = _Clock(timings)
        config, problems = load_config(self.site_dir)
        if options.base_url:
            config.base_url = options.base_url.rstrip("/") + "/"
        config.drafts = options.drafts
        theme = find_theme(config)
        if theme is None:
            raise BuildFailed(problems + [Problem(CONFIG_NAME, 1, f'theme "{config.theme}" not '
                                                  "found in themes/ or the built-in themes")])
        output = (options.output or config.site_dir / config.output_dir).resolve()
        problems += _check_output(config, output)

        entities, lexicon = self._read_entities(config, problems)
        reader = self._reader_for(config, lexicon)
        articles, found = reader.read(discover(config.content_path), options.jobs, progress)
        problems += found
        clock("read")
        site, found = index_site(config, articles, datetime.now(config.tz).date(), entities,
                                 lexicon, self._index_memo)
        problems += found
        clock("index")
        if _fails(problems, options.strict):
            raise BuildFailed(problems)

        renderer = Renderer(site, template_dirs(config, theme))
        if options.write and options.cache and self._on_disk is None:
            self._on_disk = _OutputOnDisk(output)
        files, rendered, found = self._render(renderer, site, config, progress)
        problems += found
        clock("render")
        problems += self._add_static(config, static_files(config, theme), files)
        files.update(self._annotation_files(config, site))
        signatures = {name: signature for name, (signature, _) in self._pages.items()}
        # Feeds, sitemap.xml, robots.txt.
        files.update(web_files(site, files, self._feeds, self._sitemap, signatures))
        if _fails(problems, options.strict):
            raise BuildFailed(problems)

        result = BuildResult(config=config, site=site, files=files, warnings=problems,
                             output=output, timings=timings, rendered=rendered,
                             parsed=reader.parsed)
        if options.write:
            result.report = write_site(output, files, {name: signature.hex() for name, signature
                                                       in signatures.items()})
            clock("write")
        if reader.cache:
            reader.cache.flush()
            reader.cache.prune()
        result.seconds = time.perf_counter() - started
        return result

    def _read_entities(self, config: SiteConfig, problems: list[Problem]
                       ) -> tuple[list[Entity], Lexicon]:
        """Read the registry (reusing unchanged files) and render each entity's notes."""
        entities: list[Entity] = []
        known: dict[str, tuple[tuple[int, int], Entity | None, list[Problem]]] = {}
        for rel, path in discover_entities(config.content_path):
            try:
                info = path.stat()
                stat = (info.st_mtime_ns, info.st_size)
                previous = self._entities.get(rel)
                if previous is not None and previous[0] == stat:
                    entity, found = previous[1], previous[2]
                else:
                    entity, found = read_entity(rel, path.read_bytes())
            except OSError as exc:
                stat, entity, found = (0, 0), None, [Problem(rel, 1,
                                                             f"cannot read: {exc.strerror}")]
            known[rel] = (stat, entity, found)
            problems += found
            if entity is None:  # a stub, so references to it are not reported as well
                entity = Entity(source=rel, slug=rel.rsplit("/", 1)[-1][:-3], name="")
            entities.append(entity)
        self._entities = known
        lexicon, collisions = build_lexicon([registry_entry(e) for e in entities if e.name],
                                            config.autolink, config.base_path)
        problems += [Problem(path, line, message) for path, line, message in collisions]
        notes: dict[tuple[str, str], tuple[str, list]] = {}
        for entity in entities:
            memo = (entity.key, lexicon.fingerprint)
            rendered = self._notes.get(memo) or render_notes(entity, lexicon, config.base_path,
                                                            config.markdown_html)
            notes[memo] = rendered
            entity.body_source, entity.wikilinks = rendered
            entity.body_html = rendered[0]
        self._notes = notes
        return entities, lexicon

    def _reader_for(self, config: SiteConfig, lexicon: Lexicon) -> Reader:
        settings = read_settings(config, lexicon)
        if self._reader is None or settings != self._reader_settings:
            cache = ArticleCache(config.site_dir / CACHE_DIR, settings) \
                if self.options.cache else None
            self._reader, self._reader_settings = Reader(settings, cache), settings
        if self._reader.cache:
            self._reader.cache.used = set()
        return self._reader

    def _render(self, renderer: Renderer, site: Site, config: SiteConfig,
                progress: Progress | None) -> tuple[dict[str, bytes], list[str], list[Problem]]:
        """Render the pages whose signature changed; reuse the bytes of the others."""
        version = _site_version(config, renderer, site, self.options)
        files: dict[str, bytes] = {}
        todo: list[Page] = []
        signatures: dict[str, bytes] = {}
        memo: dict[int, bytes] = {}
        for page in site.pages:
            name = output_file(page.url)
            signature = _signature(version, page, memo)
            signatures[name] = signature
            previous = self._pages.get(name)
            if previous is not None and previous[0] == signature:
                files[name] = previous[1]
            elif self._on_disk is not None and \
                    (data := self._on_disk.unchanged(name, signature)) is not None:
                files[name] = data  # written by an earlier build from the same inputs
            else:
                todo.append(page)
        fresh, problems = render_pages(renderer, todo, self.options.jobs, progress)
        files.update(fresh)
        if not problems:
            self._pages = {name: (signatures[name], files[name]) for name in signatures}
        return files, [output_file(p.url) for p in todo], problems

    def _annotation_files(self, config: SiteConfig, site: Site) -> dict[str, bytes]:
        """``annotations.json`` beside each article page; unchanged articles reuse theirs."""
        files: dict[str, bytes] = {}
        memo: dict[tuple[str, str, str], bytes] = {}
        for article in site.articles:
            key = (article.key, article.url, config.base_url)
            data = self._annotations.get(key) or annotation_file(config, article)
            memo[key] = files[output_file(annotations_path(article.url))] = data
        self._annotations = memo
        return files

    def _add_static(self, config: SiteConfig, static: dict[str, Path],
                    files: dict[str, bytes]) -> list[Problem]:
        problems: list[Problem] = []
        known: dict[Path, tuple[tuple[int, int], bytes]] = {}
        for name, path in static.items():
            if name in files:
                problems.append(Problem(_shown(config, path), 1,
                                        f"static file /{name} would replace a page of that path"))
                continue
            try:
                info = path.stat()
                stat = (info.st_mtime_ns, info.st_size)
                previous = self._static.get(path)
                data = previous[1] if previous and previous[0] == stat else path.read_bytes()
            except OSError as exc:
                problems.append(Problem(_shown(config, path), 1, f"cannot read: {exc.strerror}"))
                continue
            known[path] = (stat, data)
            files[name] = data
        self._static = known
        return problems


def _site_version(config: SiteConfig, renderer: Renderer, site: Site,
                  options: BuildOptions) -> bytes:
    """Everything every page depends on: code, configuration, templates, today's date.

    A template that reads ``site`` (for instance a list of recent articles in
    every page's sidebar) makes every page depend on every article.
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(code_fingerprint().encode())
    digest.update((config.site_dir / CONFIG_NAME).read_bytes())
    digest.update(repr((options.base_url, options.drafts, datetime.now(config.tz).date()))
                  .encode())
    uses_site = False
    for folder in renderer.template_dirs:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                digest.update(path.as_posix().encode() + b"\0" + data)
                if b"site" in data and not uses_site:
                    uses_site = _reads_site(renderer, data)
    if uses_site:
        for article in site.articles:
            digest.update(article.key.encode())
    return digest.digest()


def _reads_site(renderer: Renderer, source: bytes) -> bool:
    try:
        tree = renderer.env.parse(source.decode("utf-8", "replace"))
    except Exception:  # noqa: BLE001 - a broken template is reported when rendered
        return True
    return "site" in meta.find_undeclared_variables(tree)


def _signature(version: bytes, page: Page, memo: dict[int, bytes] | None = None) -> bytes:
    digest = hashlib.blake2b(version, digest_size=16)
    digest.update(f"{page.url}\0{page.template}\0".encode())
    digest.update(_deps_digest(page.deps, {} if memo is None else memo))
    paginator = page.context.get("paginator")
    if paginator is not None:  # "Page 1 of N" and the next link change with N, not the deps
        digest.update(f"\0{paginator.number}/{paginator.total}".encode())
    digest.update(f"\0{page.stamp}".encode())
    return digest.digest()


def _deps_digest(deps: list, memo: dict[int, bytes]) -> bytes:
    """A hash of the keys of ``deps``, once per list object.

    Every page of a tag shares one list (``term.articles``), as do the
    archive and the index pages (every article): on a large site hashing
    each page's list anew was a fifth of a no-change rebuild (the preview
    server's). ``memo`` lives for one render pass, while every list is alive.
    """
    found = memo.get(id(deps))
    if found is None:
        digest = hashlib.blake2b("".join([dep.key for dep in deps]).encode(), digest_size=16)
        digest.update(str(len(deps)).encode())
        found = memo[id(deps)] = digest.digest()
    return found


class _OutputOnDisk:
    """Pages an earlier build wrote, reusable when their signature is the same.

    A fresh process (``postil build`` again) has no pages in memory; rather
    than render every page, it reads back each one whose inputs did not change,
    provided the file is still exactly what the manifest says was written.
    """

    def __init__(self, output: Path):
        self.output = output
        self.signatures = read_manifest(output, "signatures")
        self.digests = read_manifest(output) if self.signatures else {}

    def unchanged(self, name: str, signature: bytes) -> bytes | None:
        if self.signatures.get(name) != signature.hex():
            return None
        try:
            data = (self.output / name).read_bytes()
        except OSError:
            return None
        return data if digest(data) == self.digests.get(name) else None


class _Clock:
    """Records how long each stage took since the previous one."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self.last
        self.last = now


def _fails(problems: list[Problem], strict: bool) -> bool:
    return any(strict or not p.warning for p in problems)


def _shown(config: SiteConfig, path: Path) -> str:
    try:
        return path.resolve().relative_to(config.site_dir).as_posix()
    except ValueError:
        return str(path)


def _check_output(config: SiteConfig, output: Path) -> list[Problem]:
    """The output folder must not hold the site's sources: stale-file removal works there."""
    site = config.site_dir
    if output == site or site.is_relative_to(output) or output.is_relative_to(config.content_path):
        return [Problem(CONFIG_NAME, 1, f"output folder {output} would overwrite the site's "
                        "own files; choose a folder such as public/")]
    return []
