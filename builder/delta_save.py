"""Store a full writing build for the next process's delta build (builder.delta_build).

What is stored is described in :mod:`builder.delta_store`. Pickling every page
context of 10,000 articles takes seconds, so :class:`StoreJob` does it in a
forked child while the parent writes the output (the write stage runs on one
core); the parent then adds the stats of the files it wrote and puts the new
file in place. Where forking is not possible, the parent stores the build itself
after writing. A build that fails, or leaves no stamp (builder.state), leaves
no stored build: the next build is a full one.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass, replace
from pathlib import Path

from builder import delta_store
from builder.assets import AssetTable
from builder.feeds import FeedSource
from builder.lexicon import Lexicon
from builder.model import ArticleRecord, EntityRecord, Site
from builder.outputs import SITE_MARK, Signer
from builder.problems import Problem
from builder.render import Renderer
from builder.site_files import STATIC
from builder.stats import may_fork
from builder.urls import output_file
from builder.wiki import WikiResolver


@dataclass
class Kept:
    """What a full writing build keeps for :func:`save_build`, once it has written."""

    site: Site
    records: list[ArticleRecord]
    entities: list[tuple[EntityRecord, str, list[tuple[int, str]]]]
    lexicon: Lexicon | None
    warnings: list[Problem]
    feeds: list[FeedSource]
    signatures: dict[str, str]
    signer: Signer
    reads: dict[str, frozenset[str]]
    valid_until: str | None
    sources: dict[str, str]
    tag_slugs: dict[str, str]
    failed: set[str]
    cached: set[str]  # keys of the records the parsed-article cache holds
    renderer: Renderer


def save_build(path: Path, condition: str, kept: Kept, roots: list[str],
               inputs: dict[str, str], names: list[str]) -> None:
    """Store the full build ``kept`` in a new file ``path``, all but the stats of its
    output files (see :class:`StoreJob`). ``inputs``: the texts of its input snapshot
    (:func:`builder.state.snapshot`); ``names``: its output files, sorted. Raises
    OSError, sqlite3.Error or a pickling error."""
    site = kept.site
    shown = [article.record for article in site.articles]
    resolver = WikiResolver(kept.lexicon, [e for e, _, _ in kept.entities], shown,
                            kept.records, unresolved=site.config.wikilinks_unresolved)
    urls = {article.source: article.url for article in site.articles}
    signatures = kept.signatures
    stored = resolver.stored()
    stored.tag_slugs, stored.failed = kept.tag_slugs, kept.failed
    # The templates as compiled (Jinja's bytecode, checked against each template's
    # source before use): a delta build renders a few pages, and compiling the default
    # theme's templates would take longer than rendering them.
    compiled = getattr(kept.renderer.env.bytecode_cache, "codes", {})
    # Each value its own row, read when needed and written again only when changed.
    meta = {
        "condition": condition, "roots": roots, "inputs": inputs,
        "templates": (kept.renderer.track_reads, dict(compiled)),
        "versions": (kept.signer.pages_version, kept.signer.settings),
        # (a new copy: without the matcher its first use builds, which is no stored value)
        "names": names,
        "lexicon": replace(kept.lexicon) if kept.lexicon is not None else None,
        "settings": {
            "depended": resolver.depended(shown, [(e.source, links)
                                                  for e, _, links in kept.entities]),
            "tag_names": site.term_names, "valid_until": kept.valid_until,
            "warnings": kept.warnings, "shown": len(site.articles),
            "tag_slugs": kept.tag_slugs, "failed": kept.failed,
            "unresolved": site.config.wikilinks_unresolved,
            "static": {name for name, signature in signatures.items() if signature == STATIC},
            "site_readers": {name: kept.reads.get(name) for name, signature
                             in signatures.items() if SITE_MARK in signature}},
        "links": (urls, {r.source for r in kept.records} - urls.keys(),
                  AssetTable.of(site.assets)),
        "resolver": stored, "sources": kept.sources,
        "articles": {r.source for r in kept.records}, "changed": {},
    }
    pages = ((page, signatures[output_file(page.url)], kept.reads.get(output_file(page.url)))
             for page in site.pages)
    delta_store.save(path, meta, pages, site.cards, kept.feeds,
                     site.config.feed_limit or None, site.config, kept.cached)


class StoreJob:
    """Stores a build (:func:`save_build`) in a forked child, if :func:`may_fork`, while
    the parent writes; :meth:`finish` waits for it and puts the stored build in place,
    :meth:`cancel` (always call it) ends a child still running and removes its file."""

    def __init__(self, site_dir: Path, condition: str, kept: Kept, roots: list[str],
                 inputs: dict[str, str], names: list[str]) -> None:
        self.path = delta_store.database(site_dir)
        self.temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        self.work = (self.temporary, condition, kept, roots, inputs, names)
        self.pid = 0
        delta_store.remove(self.path)  # (until this build succeeds: it describes the last)
        if not may_fork():
            return
        try:
            pid = os.fork()
        except OSError:
            return
        if pid == 0:  # the child: never returns, runs no exit handler, flushes no buffer
            code = 1
            try:
                save_build(*self.work)
                code = 0
            finally:
                os._exit(code)
        self.pid = pid

    def finish(self, packed: bytes | None) -> None:
        """Put the stored build in place, with ``packed``, the stats of the output files
        and the manifest as the build state recorded them (None: no stamp was recorded,
        so no build is stored)."""
        stored = False
        try:
            if self.pid:
                pid, self.pid = self.pid, 0
                _, status = os.waitpid(pid, 0)
                stored = os.waitstatus_to_exitcode(status) == 0
            elif packed is not None:
                save_build(*self.work)
                stored = True
            if stored and packed is not None:
                delta_store.finish(self.temporary, self.path, {"packed": packed})
        except Exception:  # noqa: BLE001 - only a head start for the next build: none then
            pass
        self.cancel()

    def cancel(self) -> None:
        if self.pid:
            pid, self.pid = self.pid, 0
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        delta_store.remove(self.temporary)
