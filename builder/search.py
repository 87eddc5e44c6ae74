"""The search index: Pagefind (https://pagefind.app) run over the pages a build made.

Pagefind is a well-kept indexer with a small, static, chunked index and a
browser API; its extended binary (the ``pagefind[extended]`` package, which
carries it, so it works offline) segments Chinese and Japanese. What a page
gives the index is marked in its templates (``data-pagefind-body``, ``-filter``,
``-sort``, ``-meta``); the pages handed to Pagefind are the articles (no drafts)
and the first page of each entity.

The index's files, ``pagefind/…``, are outputs like any other: in the manifest,
written with the rest, published and removed when stale. They are signed with
the signatures of the pages indexed, so a build in which no indexed page
changed reuses the last index and does not run Pagefind. Pagefind's Python API
(``get_files``) was found to hang on large sites; its command line, run on a
temporary folder, is reliable and gives the same bytes every run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from builder.config import CONFIG_NAME, SiteConfig
from builder.model import Page, Site
from builder.outputs import Files, Made, Reusable, Signer
from builder.problems import Problem
from builder.urls import output_file

#: where the index goes in the site
BUNDLE = "pagefind/"
#: files of Pagefind's own user interfaces: the theme has its own (js/search.js)
_UNUSED = ("pagefind-ui.", "pagefind-component-ui.", "pagefind-modular-ui.",
           "pagefind-highlight.js", "playground/")
#: Runner: (site folder holding the pages, folder to write the index into, language) →
#: None; raises SearchFailed.
Runner = Callable[[Path, Path, str], None]


class SearchFailed(Exception):
    """Pagefind could not be run, or failed (the message says why)."""


def executable() -> str:
    """The Pagefind binary: the extended one the ``pagefind[extended]`` package installs,
    else a plain one (``pagefind[bin]``), else one on the PATH. Raises SearchFailed."""
    for module in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            found = __import__(module).get_executable()
        except (ImportError, FileNotFoundError):
            continue
        return str(found)
    found = shutil.which("pagefind_extended") or shutil.which("pagefind")
    if found is None:
        raise SearchFailed("Pagefind is not installed (pip install 'pagefind[extended]'), "
                           "or set search: false in site.yml")
    return found


def run_pagefind(site: Path, output: Path, language: str) -> None:
    """Index the HTML pages under ``site`` into ``output`` as one index in ``language``
    (an ISO 639-1 code). Raises SearchFailed with Pagefind's own message."""
    command = [executable(), "--site", str(site), "--output-path", str(output),
               "--force-language", language, "--silent"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False,
                              env={**os.environ, "NO_COLOR": "1"})
    except OSError as exc:
        raise SearchFailed(f"cannot run Pagefind: {exc.strerror}") from None
    if done.returncode != 0 or not (output / "pagefind-entry.json").is_file():
        said = (done.stderr or done.stdout).strip().splitlines()
        raise SearchFailed("Pagefind failed" + (f": {said[-1]}" if said else ""))


def indexed(page: Page) -> bool:
    """Whether the page goes into the index: an article that is not a draft, or the
    first page of an entity. (List pages, the timeline and the notes are not.)"""
    article = page.context.get("article")
    if article is not None:
        return not getattr(article, "draft", False)
    paginator = page.context.get("paginator")
    return "entity" in page.context and paginator is not None and paginator.number == 1


def search_files(site: Site, signer: Signer, made: Made, disk: Reusable | None,
                 files: Files, signatures: dict[str, str],
                 runner: Runner | None = None) -> list[Problem]:
    """Put the index's files (``pagefind/…``) into ``files`` and ``signatures``: the last
    build's when the indexed pages' signatures are unchanged, else Pagefind's anew from
    the pages in ``files``. Pages must be in ``files`` and ``signatures``. Returns the
    problem if Pagefind fails (as ``site.yml:1: search: …``); nothing when search is off."""
    config: SiteConfig = site.config
    if not config.search:
        return []
    names = sorted(output_file(page.url) for page in site.pages if indexed(page))
    signature = signer.of("search", tuple((name, signatures[name]) for name in names))
    if _reuse(signature, made, disk, files, signatures):
        return []
    try:
        made_now = _index(names, files, config.language, runner or run_pagefind)
    except (SearchFailed, OSError) as exc:
        return [Problem(CONFIG_NAME, 1, f"search: {exc}")]
    for name, data in made_now.items():
        if name not in files:  # a static file of that name wins
            files[name] = data
            signatures[name] = signature
    return []


def _reuse(signature: str, made: Made, disk: Reusable | None, files: Files,
           signatures: dict[str, str]) -> bool:
    """Put the last index into ``files`` if it was made under ``signature`` and all its
    files are still there, as made; False (and nothing put) otherwise."""
    earlier = {name for name in made.files if name.startswith(BUNDLE)}
    if not earlier and disk is not None:
        earlier = {name for name in disk.records() if name.startswith(BUNDLE)}
    if BUNDLE + "pagefind-entry.json" not in earlier:
        return False
    if any(made.recorded(name, disk) != signature for name in earlier):
        return False
    put = []
    for name in sorted(earlier):
        if name in files:  # a static file of that name wins
            continue
        if not made.reuse(name, signature, disk, files):
            for name in put:  # changed or gone since: Pagefind makes them all again
                del files[name]
            return False
        put.append(name)
    for name in put:
        signatures[name] = signature
    return True


def _index(names: list[str], files: Files, language: str, runner: Runner) -> dict[str, bytes]:
    """Pagefind's files (site path → bytes) for the pages ``names`` of ``files``."""
    with tempfile.TemporaryDirectory(prefix="postil-search-") as folder:
        pages, index = Path(folder, "site"), Path(folder, "index")
        for name in names:
            path = pages / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[name])
        pages.mkdir(exist_ok=True)
        runner(pages, index, language.split("-")[0].lower())
        found = {}
        for path in sorted(index.rglob("*")):
            relative = path.relative_to(index).as_posix()
            if path.is_file() and not relative.startswith(_UNUSED):
                found[BUNDLE + relative] = path.read_bytes()
        return found
