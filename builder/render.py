"""Render pages through Jinja2 into bytes, in memory.

Template errors are reported as ``template-file:line: message``. While a page
renders, the names its templates look up are recorded: a page whose
templates read the global ``site`` depends on the whole site (see
:mod:`builder.outputs`), however the template reached it; and what it reads
of the articles it shows (:mod:`builder.reads`).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
import jinja2.nodes

from builder import __version__, snapshots, structured
from builder.citations import source_citation_path
from builder.model import Page, Site
from builder.problems import Problem
from builder.reads import TrackingEnvironment, WatchingContext, finalize, finish_page, start_page
from builder.slugs import slugify
from builder.template_checks import PostilUndefined
from builder.urls import (
    absolute,
    annotations_path,
    encode,
    linker,
    output_file,
    resolve_site_links,
)

NOT_FOUND = "/404.html"
# Template tags naming another template: what Renderer.check follows.
_REFERENCES = (jinja2.nodes.Extends, jinja2.nodes.Include, jinja2.nodes.Import,
               jinja2.nodes.FromImport)


class Rendered(NamedTuple):
    """What rendering some pages gave (see :meth:`Renderer.render_all`)."""

    files: MutableMapping[str, bytes]  # output file → bytes
    problems: list[Problem]  # each template problem once
    reads_site: set[str]  # output files whose templates read the global ``site``
    reads: dict[str, frozenset[str]]  # output file → what it read of its articles
ENTITY_LABELS = {"person": ("Person", "People"), "organization": ("Organisation", "Organisations"),
                 "place": ("Place", "Places"), "event": ("Event", "Events"),
                 "work": ("Work", "Works"), "other": ("Other", "Other")}

# Postil's filters that read no field of what they are given: each raises, or gives the
# same value, for anything but the string, number or date it expects (an article, a list
# of them), so nothing it returns shows an article (tests/test_reads_fast.py checks it).
# Left unwatched by builder.reads: they run on every date, tag and author of a page.
_BLIND_FILTERS = frozenset({"date", "reading_time", "slug", "tag_url", "author_url",
                            "category_url", "entity_type", "entity_type_plural"})


class _RecordingContext(jinja2.runtime.Context):
    """A template context that notes every name a template looks up.

    Jinja resolves each name a template uses (``site``, ``config``, context
    variables) through ``resolve_or_missing``, in included, imported and
    extended templates alike, since each makes its context from this class.
    """

    looked_up: set[str] = set()  # replaced per render by Renderer.render

    def resolve_or_missing(self, key: str):  # noqa: ANN201 - Jinja's own signature
        _RecordingContext.looked_up.add(key)
        return super().resolve_or_missing(key)



class _TrackingContext(_RecordingContext, WatchingContext):
    """A recording context that also notes what calls are handed (see builder.reads)."""

class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the life of the process.

    Every build makes a new :class:`Renderer`, hence a new environment that
    would compile every template again (about 0.1 s for the default theme):
    most of an incremental rebuild in ``postil serve``, which renders a few
    pages. Jinja keys each entry by template name and file, and compares a
    checksum of the source before using it, so an edited template compiles
    again. Every environment made here has the same settings and filters,
    which is what makes sharing the compiled code sound.
    """

    def __init__(self) -> None:
        self.codes: dict[str, bytes] = {}  # bucket key → marshalled code

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.codes.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.codes[bucket.key] = bucket.bytecode_to_string()


# Templates compile differently with the reads of builder.reads noted: one store each.
_COMPILED, _COMPILED_TRACKING = _CompiledTemplates(), _CompiledTemplates()


class Renderer:
    """A Jinja2 environment bound to one site; renders :class:`Page` objects."""

    def __init__(self, site: Site, template_dirs: list[Path], track_reads: bool = True):
        """``track_reads``: note what each page reads of its articles (builder.reads), for
        delta builds. It costs a few per cent of rendering time and changes no byte of a
        page; False only to measure that."""
        self.site = site
        self.config = site.config
        self.template_dirs = [d.resolve() for d in template_dirs]
        self.track_reads = track_reads
        self.env = (TrackingEnvironment if track_reads else jinja2.Environment)(
            loader=jinja2.FileSystemLoader([str(d) for d in self.template_dirs]),
            autoescape=True, trim_blocks=True, lstrip_blocks=True,
            undefined=PostilUndefined,  # strict for Postil's own objects (see there)
            # One environment per build, and templates do not change during one: no
            # stat of the template file on every get_template (every include).
            auto_reload=False, bytecode_cache=_COMPILED_TRACKING if track_reads else _COMPILED,
            finalize=finalize if track_reads else None,
        )
        self.env.context_class = _TrackingContext if track_reads else _RecordingContext
        self.env.filters["date"] = format_date
        self.env.filters["reading_time"] = self.reading_time
        self.env.filters["slug"] = slugify
        for kind, singular in (("tags", "tag"), ("authors", "author"),
                               ("categories", "category")):
            self.env.filters[f"{singular}_url"] = _term_url(kind, site.term_names.get(kind, {}))
        self.env.filters["entity_type"] = lambda kind: ENTITY_LABELS.get(kind, ENTITY_LABELS[
            "other"])[0]
        self.env.filters["entity_type_plural"] = lambda kind: ENTITY_LABELS.get(
            kind, ENTITY_LABELS["other"])[1]
        self.env.globals.update(
            site=site, config=self.config, postil_version=__version__,
            article_jsonld=_reading(structured.ARTICLE_JSONLD_READS, lambda article:
                                    structured.article_jsonld(self.config, article)),
            entity_jsonld=_reading(frozenset(), lambda entity:  # an entity's fields only
                                   structured.entity_jsonld(self.config, entity)),
            text_fragment_url=structured.text_fragment_url,
            original_url=_reading(snapshots.ORIGINAL_URL_READS, snapshots.original_url),
            wikidata_url=structured.wikidata_url, annotations_path=annotations_path,
            source_citation_path=source_citation_path,
        )
        if isinstance(self.env, TrackingEnvironment):  # before any template loads: compiled
            self.env.watch(blind=_BLIND_FILTERS)  # templates bind the filters

    def preload(self) -> None:
        """Compile every template now, in this process: pages rendered by forked workers
        left their compiled templates there, and a delta build renders here."""
        for name in self.env.list_templates(extensions=["html", "xml", "txt", "json"]):
            try:
                self.env.get_template(name)
            except Exception:  # noqa: BLE001, S112 - only a head start: a template that
                continue  # fails here fails, and is reported, when a page renders it

    def reading_time(self, words: int) -> int:
        return max(1, round(words / self.config.words_per_minute))

    def render(self, page: Page) -> tuple[bytes, bool, frozenset[str] | None]:
        """The page's bytes (UTF-8), whether its templates read the global ``site``, and
        what they read of the articles in its context (see :mod:`builder.reads`; None
        unless ``track_reads``).

        Raises whatever the template raises."""
        _RecordingContext.looked_up = looked_up = set()
        start_page()
        template = self.env.get_template(page.template)
        if page.url == NOT_FOUND:
            # Served at any depth, so its links start from the base path (MkDocs #1035).
            base = self.config.base_path.rstrip("/")

            def url(path: str) -> str:
                return path if "://" in path else base + path
        else:
            url = linker(page.url)
        if self.config.slugs == "unicode":  # paths in other scripts: percent-encoded
            url = _encoding(url)
        context: dict[str, Any] = {
            "page": page, "url": url,
            "abs_url": lambda path: absolute(self.config.base_url, path),
            "root": url("/"),
        }
        context.update(page.context)
        PostilUndefined.scope = (context, self.env.globals)  # for "did you mean"
        # Bodies hold site paths (builder.urls.SITE_LINK): made this page's links here.
        data = resolve_site_links(template.render(context), url).encode("utf-8")
        return data, "site" in looked_up, finish_page() if self.track_reads else None

    def render_all(self, pages: Iterable[Page]) -> Rendered:
        """Output file → bytes for ``pages``; every template problem once; the output
        files whose templates read ``site``; what each page read of its articles."""
        files: dict[str, bytes] = {}
        problems: list[Problem] = []
        reads_site: set[str] = set()
        reads: dict[str, frozenset[str]] = {}
        shared: dict[frozenset[str], frozenset[str]] = {}  # one object per set of names
        reported: set[tuple[str, int, str]] = set()
        for page in pages:
            try:
                name = output_file(page.url)
                files[name], site, read = self.render(page)
                if read is not None:
                    reads[name] = shared.setdefault(read, read)
                if site:
                    reads_site.add(name)
            except Exception as exc:  # noqa: BLE001 - every template error is reported
                problem = self.describe(exc, page)
                key = problem_key(problem)
                if key not in reported:  # one broken template fails many pages
                    reported.add(key)
                    problems.append(problem)
        return Rendered(files, problems, reads_site, reads)

    def check(self, pages: Iterable[Page]) -> list[Problem]:
        """Every problem found by loading, without rendering, each template the ``pages``
        name and the templates those extend, include or import (a template not found, a
        syntax error), each once.

        For a build that already failed before rendering (a file that cannot be read, a
        broken link), so that one run reports template problems too, at the cost of
        compiling templates rather than rendering every page."""
        problems: list[Problem] = []
        reported: set[tuple[str, int, str]] = set()
        todo: dict[str, Page] = {}
        for page in pages:
            todo.setdefault(page.template, page)
        seen: set[str] = set()
        while todo:
            name, page = todo.popitem()
            seen.add(name)
            try:
                source, filename, _ = self.env.loader.get_source(  # type: ignore[union-attr]
                    self.env, name)
                self.env.get_template(name)
                shown = self.shown(Path(filename)) if filename else name
                for node in self.env.parse(source).find_all(_REFERENCES):
                    used = getattr(node.template, "value", None)  # None: a computed name
                    if getattr(node, "ignore_missing", False):
                        continue
                    if isinstance(used, str) and used not in seen and used not in todo:
                        todo[used] = replace(page, template=used, source=shown,
                                             source_line=node.lineno)
            except Exception as exc:  # noqa: BLE001 - every template error is reported
                problem = self.describe(exc, page)
                if problem_key(problem) not in reported:
                    reported.add(problem_key(problem))
                    problems.append(problem)
        return problems

    def describe(self, exc: Exception, page: Page) -> Problem:
        if isinstance(exc, jinja2.TemplateNotFound) and exc.name == page.template:
            if page.source:
                return Problem(page.source, page.source_line,
                               f'template "{page.template}" not found')
            return Problem(self.shown(self.template_dirs[-1] / page.template), 1,
                           f'template "{page.template}" not found')
        if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
            return Problem(self.shown(Path(exc.filename)), exc.lineno or 1,
                           f"template syntax error: {exc.message}")
        # A misspelt name or attribute (builder.template_checks): the same on every page.
        message = str(exc) if isinstance(exc, jinja2.UndefinedError) else \
            f"{type(exc).__name__}: {exc} (rendering {page.url})"
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            path = Path(frame.filename)
            if any(path.is_relative_to(d) for d in self.template_dirs):
                return Problem(self.shown(path), frame.lineno or 1, message)
        return Problem(page.source or page.template, page.source_line, message)

    def shown(self, path: Path) -> str:
        """A template path as the user should see it: relative to the site if inside it."""
        try:
            return path.resolve().relative_to(self.config.site_dir.resolve()).as_posix()
        except ValueError:
            return str(path)


def _reading(names: frozenset[str], function: Callable) -> Callable:
    """``function`` marked with the fields of articles it reads (see builder.reads)."""
    function.article_reads = names  # type: ignore[attr-defined]
    return function


def problem_key(problem: Problem) -> tuple[str, int, str]:
    """The same template error on many pages is one problem (a name undefined on several
    kinds of page may have a different "did you mean" on each)."""
    return (problem.path, problem.line,
            problem.message.split(" (rendering ")[0].split(" (did you mean ")[0])


def format_date(value: date | datetime | None, fmt: str = "%-d %B %Y") -> str:
    """The ``date`` filter: ``value`` formatted with ``strftime`` (``""`` for None)."""
    if value is None:
        return ""
    if type(value) is date:  # the common case, and strftime costs microseconds
        return _format_day(value, fmt)
    return value.strftime(fmt)


@lru_cache(maxsize=1 << 14)
def _format_day(value: date, fmt: str) -> str:
    # Only plain dates: equal aware datetimes may show different local times.
    return value.strftime(fmt)


def _encoding(link: Callable[[str], str]) -> Callable[[str], str]:
    """``link`` with its result percent-encoded where it is not ASCII."""
    return lambda path: encode(link(path))


def _term_url(kind: str, names: dict[str, tuple[str, str]]) -> Callable[[str], str]:
    """The filter ``tag_url`` (and ``author_url``, ``category_url``): a name as an article
    writes it → the site path of its term's page (``"Zürich"`` → ``/tags/zurich/``). Its
    term's slug where that is not the name's own slug (a term file's, another spelling's)
    is in every page's signature (see builder.terms.exceptions)."""
    def url(name: str) -> str:
        found = names.get(name)
        return f"/{kind}/{found[0] if found else slugify(name)}/"
    return url
