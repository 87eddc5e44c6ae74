"""Store a full writing build for the next process's delta build (builder.delta_build).

What is stored is described in :mod:`builder.delta_store`. A build that fails,
or leaves no stamp (builder.state), leaves no stored build: the next build is a
full one.

Stored after the output is written, in the build's own process: a forked child
could store it while the parent writes, but pickling touches every object of the
site model, and the child's copy-on-write copies made the write stage the
build's memory peak (139 MiB against 96 at 1,000 articles).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from builder import delta_store
from builder.assets import AssetTable
from builder.feeds import FeedSource
from builder.last_build import wiki_resolver
from builder.lexicon import Lexicon
from builder.model import ArticleRecord, EntityRecord, Site
from builder.outputs import SITE_MARK, Signer
from builder.problems import Problem
from builder.render import Renderer
from builder.site_files import STATIC
from builder.urls import output_file


@dataclass
class Kept:
    """What a full writing build keeps for :func:`store_build`, once it has written."""

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


def store_build(site_dir: Path, condition: str, kept: Kept | None, roots: list[str],
                inputs: dict[str, str] | None, names: list[str], packed: bytes | None) -> None:
    """Store the full build ``kept`` of ``site_dir`` for the next process, in place of the
    stored build; nothing if there is nothing to store (``kept``, ``inputs`` or ``packed``
    None: a build that keeps nothing, or leaves no stamp).
    ``inputs``: the texts of its input snapshot (:func:`builder.state.snapshot`);
    ``names``: its output files, sorted; ``packed``: their stats and the manifest's, as
    the build state recorded them (:func:`builder.stats.output_packed`). Never raises:
    a build that cannot be stored is not, and the next build is a full one."""
    if kept is None or inputs is None or packed is None:
        return
    path = delta_store.database(site_dir)
    delta_store.remove(path)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        _save(temporary, condition, kept, roots, inputs, names)
        delta_store.finish(temporary, path, {"packed": packed})
    except Exception:  # noqa: BLE001 - only a head start for the next build: none then
        delta_store.remove(temporary)


def _save(path: Path, condition: str, kept: Kept, roots: list[str],
          inputs: dict[str, str], names: list[str]) -> None:
    site = kept.site
    resolver, depended = wiki_resolver(site, kept.records, kept.entities, kept.lexicon,
                                       kept.tag_slugs)
    urls = {article.source: article.url for article in site.articles}
    signatures = kept.signatures
    stored = resolver.stored()
    stored.failed = kept.failed
    # The templates as compiled (Jinja's bytecode, checked against each template's
    # source before use): a delta build renders a few pages, and compiling the default
    # theme's templates would take longer than rendering them.
    compiled = getattr(kept.renderer.env.bytecode_cache, "codes", {})
    # Each value its own row, read when needed and written again only when changed.
    meta = {
        "condition": condition, "roots": roots, "inputs": inputs,
        "templates": (kept.renderer.track_reads, dict(compiled)),
        "versions": (kept.signer.pages_version, kept.signer.settings),
        "names": names,
        # (a new copy: without the matcher its first use builds, which is no stored value)
        "lexicon": replace(kept.lexicon) if kept.lexicon is not None else None,
        "settings": {
            "depended": depended,
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
