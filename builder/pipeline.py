"""The build: config → discover → read → index → render → write.

Only discovery/reading and writing touch the disk. Reading (Markdown is most
of the cost) and rendering run in a process pool on large sites.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from builder.cache import CACHE_DIR, ArticleCache
from builder.config import SiteConfig, load_config
from builder.index import index_site
from builder.model import Article, Site
from builder.problems import BuildFailed, Problem
from builder.reader import ReadSettings, read_article
from builder.render import Renderer, problem_key
from builder.theme import find_theme, static_files, template_dirs
from builder.writer import WriteReport, write_site

#: below this many items a process pool costs more than it saves
PARALLEL_THRESHOLD = 200
IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".bak")

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


def build(site_dir: Path, options: BuildOptions | None = None,
          progress: Progress | None = None) -> BuildResult:
    """Build the site in ``site_dir``. Raises :class:`BuildFailed` with every problem."""
    options = options or BuildOptions()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    clock = _Clock(timings)
    config, problems = load_config(Path(site_dir).resolve())
    if options.base_url:
        config.base_url = options.base_url if options.base_url.endswith("/") \
            else options.base_url + "/"
    config.drafts = options.drafts
    theme = find_theme(config)
    if theme is None:
        raise BuildFailed(problems + [Problem("site.yml", 1, f'theme "{config.theme}" not '
                                              f"found in themes/ or the built-in themes")])
    output = (options.output or config.site_dir / config.output_dir).resolve()
    problems += _check_output(config, output)

    sources = discover(config.content_path)
    cache = ArticleCache(config.site_dir / CACHE_DIR, read_settings(config)) \
        if options.cache else None
    articles, read_problems = read_all(config, sources, options.jobs, progress, cache)
    problems += read_problems
    clock("read")
    site, index_problems = index_site(config, articles, datetime.now(config.tz).date())
    problems += index_problems
    clock("index")
    if _fails(problems, options.strict):
        raise BuildFailed(problems)

    renderer = Renderer(site, template_dirs(config, theme))
    files, render_problems = render_all(renderer, site, options.jobs, progress)
    problems += render_problems
    clock("render")
    for name, path in static_files(config, theme).items():
        if name in files:
            problems.append(Problem(_shown(config, path), 1,
                                    f"static file /{name} would replace a page of the same path"))
            continue
        try:
            files[name] = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(_shown(config, path), 1, f"cannot read: {exc.strerror}"))
    if _fails(problems, options.strict):
        raise BuildFailed(problems)

    result = BuildResult(config=config, site=site, files=files, warnings=problems,
                         output=output, timings=timings)
    if options.write:
        result.report = write_site(output, files)
        clock("write")
    if cache:
        cache.prune()
    result.seconds = time.perf_counter() - started
    return result


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
        return [Problem("site.yml", 1, f"output folder {output} would overwrite the site's "
                        "own files; choose a folder such as public/")]
    return []


def discover(content: Path) -> list[tuple[str, Path]]:
    """Every article file under ``content/``, as (site-relative path, file), sorted."""
    found = []
    if not content.is_dir():
        return found
    site_dir = content.parent
    for folder, dirs, names in os.walk(content):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(names):
            if name.endswith(".md") and not name.startswith((".", "#")) \
                    and not name.endswith(IGNORED_SUFFIXES):
                path = Path(folder) / name
                found.append((path.relative_to(site_dir).as_posix(), path))
    return found


def _read_one(job: tuple[str, bytes, ReadSettings]) -> tuple[Article | None, list[Problem]]:
    return read_article(*job)


def read_all(config: SiteConfig, sources: list[tuple[str, Path]], jobs: int | None = None,
             progress: Progress | None = None, cache: ArticleCache | None = None
             ) -> tuple[list[Article], list[Problem]]:
    """Parse every source; files whose bytes are in ``cache`` are not parsed again."""
    settings = read_settings(config)
    results: list[tuple[Article | None, list[Problem]] | None] = []
    misses: list[int] = []
    keys: list[str] = []
    work = []
    for rel, path in sources:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            results.append((None, [Problem(rel, 1, f"cannot read: {exc.strerror}")]))
            keys.append("")
            continue
        key = cache.key(rel, raw) if cache else ""
        keys.append(key)
        results.append(cache.get(key) if cache else None)
        if results[-1] is None:
            misses.append(len(results) - 1)
            work.append((rel, raw, settings))
    for done, (index, result) in enumerate(zip(misses, _map(_read_one, work, jobs), strict=True),
                                              start=1):
        results[index] = result
        if cache:
            cache.put(keys[index], result)
        if progress and done % 500 == 0:
            progress("reading", done, len(work))
    articles: list[Article] = []
    problems: list[Problem] = []
    for article, found in results:  # type: ignore[misc]
        problems += found
        if article is not None:
            articles.append(article)
    return articles, problems


def read_settings(config: SiteConfig) -> ReadSettings:
    return ReadSettings(timezone=config.timezone, base_path=config.base_path,
                        html=config.markdown_html, summary_words=config.summary_words)


# The renderer handed to forked workers: they inherit it instead of unpickling it.
_RENDERER: Renderer | None = None


def _render_slice(bounds: tuple[int, int]) -> tuple[dict[str, bytes], list[Problem]]:
    assert _RENDERER is not None
    start, end = bounds
    return _RENDERER.render_all(_RENDERER.site.pages[start:end])


def render_all(renderer: Renderer, site: Site, jobs: int | None = None,
               progress: Progress | None = None) -> tuple[dict[str, bytes], list[Problem]]:
    global _RENDERER
    pages = site.pages
    step = 250
    slices = [(i, min(i + step, len(pages))) for i in range(0, len(pages), step)]
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    reported: set[tuple] = set()
    _RENDERER = renderer
    try:
        for done, (part, found) in enumerate(_map(_render_slice, slices, jobs), start=1):
            files.update(part)
            for problem in found:
                if problem_key(problem) not in reported:
                    reported.add(problem_key(problem))
                    problems.append(problem)
            if progress:
                progress("rendering", min(done * step, len(pages)), len(pages))
    finally:
        _RENDERER = None
    return files, problems


def _map(func, items: list, jobs: int | None):
    """``map`` over a forked process pool when it pays, in order; plain map otherwise."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    pages_of_work = len(items) * (250 if func is _render_slice else 1)
    if workers <= 1 or pages_of_work < PARALLEL_THRESHOLD or \
            "fork" not in multiprocessing.get_all_start_methods():
        yield from map(func, items)
        return
    context = multiprocessing.get_context("fork")
    chunk = max(1, len(items) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(func, items, chunksize=chunk)

