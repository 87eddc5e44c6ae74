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

import functools
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
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


@functools.cache
def pagefind_version() -> str:
    """The installed Pagefind package's version ("" if none is found): another Pagefind
    makes another index from the same pages."""
    for package in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            return f"{package} {metadata.version(package)}"
        except metadata.PackageNotFoundError:
            continue
    return ""


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
    if done.returncode != 0 and "not able to build an index" in done.stderr + done.stdout:
        return  # no page it could index (none marked, none with a body): no index
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


@dataclass
class IndexJob:
    """An index to make later, away from the build (``postil serve``): the pages' bytes
    (site path → bytes), the site's language, and the signature the index is made for
    (None after a delta build: it is then never reused by signature)."""

    pages: dict[str, bytes]
    language: str
    signature: str | None = None
    generation: int = 0  # set by whoever runs it

    def run(self, runner: Runner | None = None) -> dict[str, bytes]:
        """The index's files (site path → bytes). Raises SearchFailed."""
        try:
            return _index(sorted(self.pages), self.pages, self.language,
                          runner or run_pagefind)
        except OSError as exc:
            raise SearchFailed(f"cannot index: {exc}") from None


def search_files(site: Site, signer: Signer, made: Made, disk: Reusable | None,
                 files: Files, signatures: dict[str, str],
                 runner: Runner | None = None,
                 later: Callable[[IndexJob], None] | None = None) -> list[Problem]:
    """Put the index's files (``pagefind/…``) into ``files`` and ``signatures``: what
    :func:`start_index` and then :meth:`Indexing.finish` do, one after the other."""
    started = start_index(site, signer, made, disk, files, signatures, runner, later)
    return started if isinstance(started, list) else started.finish(files, signatures)


def start_index(site: Site, signer: Signer, made: Made, disk: Reusable | None,
                files: Files, signatures: dict[str, str],
                runner: Runner | None = None,
                later: Callable[[IndexJob], None] | None = None) -> list[Problem] | Indexing:
    """Start putting the index's files (``pagefind/…``) into ``files`` and
    ``signatures``: the last build's when the indexed pages' signatures are unchanged,
    else Pagefind's anew from the pages in ``files``, run in the background (an
    :class:`Indexing` to finish once the build's other files are made: Pagefind, a
    process of its own, then uses the core the build's one thread leaves idle). Pages
    must be in ``files`` and ``signatures``. With ``later`` (the preview server), a
    changed index is not made here: the last one is put in ``files`` as it is and
    ``later`` gets the job of making the new one (only the first build makes it at
    once). Returns the problems, done (a failure of Pagefind's as ``site.yml:1: search:
    …``; nothing when search is off), or the indexing under way."""
    config: SiteConfig = site.config
    if not config.search:
        return []
    # (a page that failed to render is missing: the build fails after this)
    names = sorted(name for page in site.pages if indexed(page)
                   and (name := output_file(page.url)) in signatures and name in files)
    signature = signer.of("search", pagefind_version(),
                          tuple((name, signatures[name]) for name in names))
    if _reuse(signature, made, disk, files, signatures):
        return []
    earlier = {name: found for name, found in made.files.items() if name.startswith(BUNDLE)}
    if later is not None and earlier:
        for name, (recorded, data) in earlier.items():
            if name not in files:
                files[name], signatures[name] = data, recorded
        later(IndexJob({name: files[name] for name in names}, config.language, signature))
        return []
    try:
        return Indexing.start(names, files, config.language, runner or run_pagefind,
                              signature)
    except OSError as exc:
        return [Problem(CONFIG_NAME, 1, f"search: {exc}")]


class Indexing:
    """Pagefind at work on pages already written out for it, in a thread of its own (it
    runs as a process: the thread only waits), while the build goes on."""

    def __init__(self, folder: tempfile.TemporaryDirectory, signature: str) -> None:
        self.folder = folder
        self.signature = signature
        self.failed: list[BaseException] = []
        self.thread: threading.Thread | None = None

    @classmethod
    def start(cls, names: list[str], files: Mapping[str, bytes], language: str,
              runner: Runner, signature: str) -> Indexing:
        """Write the pages ``names`` of ``files`` out and start ``runner`` on them.
        Raises OSError if they cannot be written (nothing is left behind)."""
        folder = tempfile.TemporaryDirectory(prefix="postil-search-", dir=_scratch())
        indexing = cls(folder, signature)
        try:
            pages = _write_pages(Path(folder.name), names, files)
        except OSError:
            folder.cleanup()
            raise
        if names:
            indexing.thread = threading.Thread(
                target=indexing._run, args=(runner, pages, language.split("-")[0].lower()),
                name="postil-search", daemon=True)
            indexing.thread.start()
        return indexing

    def _run(self, runner: Runner, pages: Path, language: str) -> None:
        try:
            runner(pages, Path(self.folder.name, "index"), language)
        except BaseException as exc:  # noqa: BLE001 - handed to finish(), in the build's thread
            self.failed.append(exc)

    def wait(self) -> None:
        """Wait for Pagefind to be done (what a build that fails before finishing does,
        so that nothing runs on, or is left in the temporary folder)."""
        if self.thread is not None:
            self.thread.join()
        self.folder.cleanup()

    def finish(self, files: Files, signatures: dict[str, str]) -> list[Problem]:
        """Wait for Pagefind, then put its files into ``files`` and ``signatures`` (a
        static file of the same name wins). Returns the problem if it failed."""
        try:
            if self.thread is not None:
                self.thread.join()
            if self.failed:
                raise self.failed[0]
            made_now = _collect(Path(self.folder.name, "index"))
        except (SearchFailed, OSError) as exc:
            return [Problem(CONFIG_NAME, 1, f"search: {exc}")]
        finally:
            self.folder.cleanup()
        for name, data in made_now.items():
            if name not in files:
                files[name] = data
                signatures[name] = self.signature
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


def job_for(site: Site, files: Mapping[str, bytes]) -> IndexJob | None:
    """The job of indexing the pages of ``files`` as they are, for a build made without
    :func:`search_files` (a delta build, :mod:`builder.delta`); None if search is off."""
    if not site.config.search:
        return None
    names = [output_file(page.url) for page in site.pages if indexed(page)]
    return IndexJob({name: files[name] for name in names if name in files},
                    site.config.language)


def refresh(site: Site, files: Files, signatures: dict[str, str]) -> bool:
    """Make the index in ``files`` (and ``signatures``) again from the pages in ``files``,
    in place: what a delta build (:mod:`builder.delta`, which does not index) does when no
    one indexes later, so that its files are a full build's. False if Pagefind failed."""
    job = job_for(site, files)
    if job is None:
        return True
    try:
        fresh = job.run()
    except SearchFailed:
        return False
    for name in [name for name in files if name.startswith(BUNDLE)]:
        del files[name]
        signatures.pop(name, None)
    for name, data in fresh.items():
        files[name], signatures[name] = data, ""  # never reused by signature
    return True


def install(made: Made, files: Files | None, job: IndexJob, fresh: dict[str, bytes]) -> None:
    """Put an index made later into what a builder remembers (``made``, and ``files``, the
    files a delta build starts from), in place of the one before."""
    for name in [name for name in made.files if name.startswith(BUNDLE)]:
        del made.files[name]
    made.files.update((name, (job.signature or "", data)) for name, data in fresh.items())
    if files is not None:
        for name in [name for name in files if name.startswith(BUNDLE)]:
            del files[name]
        for name, data in fresh.items():
            files[name] = data


def _index(names: list[str], files: Mapping[str, bytes], language: str,
           runner: Runner) -> dict[str, bytes]:
    """Pagefind's files (site path → bytes) for the pages ``names`` of ``files``."""
    with tempfile.TemporaryDirectory(prefix="postil-search-", dir=_scratch()) as folder:
        pages = _write_pages(Path(folder), names, files)
        if names:
            runner(pages, Path(folder, "index"), language.split("-")[0].lower())
        return _collect(Path(folder, "index"))


def _write_pages(folder: Path, names: list[str], files: Mapping[str, bytes]) -> Path:
    """The pages ``names`` of ``files`` written under ``folder``/site, for Pagefind."""
    pages = folder / "site"
    for name in names:
        path = pages / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
    pages.mkdir(exist_ok=True)
    return pages


def _collect(index: Path) -> dict[str, bytes]:
    """The index Pagefind wrote into ``index``, in a fixed order (:func:`ordered`), as
    site path → bytes; {} if it made none (nothing to index: the search page says so).
    Raises SearchFailed or OSError."""
    if not (index / "pagefind-entry.json").is_file():
        return {}
    ordered(index)
    found = {}
    for path in sorted(index.rglob("*")):
        relative = path.relative_to(index).as_posix()
        if path.is_file() and not relative.startswith(_UNUSED):
            found[BUNDLE + relative] = path.read_bytes()
    return found


def _scratch() -> str | None:
    """Where the pages are put for Pagefind: a folder per page, made and removed each
    time. On a disk under load, removing a thousand folders was measured at 2 to 4 s, in
    memory (``/dev/shm``, where Linux has it) at 0.06 s. ``TMPDIR``, if set, decides."""
    if os.environ.get("TMPDIR") is None and os.path.isdir("/dev/shm") \
            and os.access("/dev/shm", os.W_OK | os.X_OK):
        return "/dev/shm"
    return None


#: what Pagefind's compressed files start with, once decompressed
_SIGNATURE = b"pagefind_dcd"


def ordered(index: Path) -> None:
    """Make Pagefind's output the same bytes for the same pages, every run.

    Pagefind 1.5 writes each filter's values in the order of a Rust hash map, seeded
    anew each run, and each value's pages in the order its threads finished them: the
    same pages give filter files (and so a metadata file, which names them by a hash of
    their bytes) that differ from run to run. Rewritten here
    with the values in a fixed order, named by the same hash (the first 7 hex digits
    of the SHA-1 of the CBOR, the metadata file's first 10), as Pagefind names them.
    Raises SearchFailed if the files are not as Pagefind 1.5 writes them."""
    import cbor2  # MIT: Pagefind's files are CBOR; only needed when indexing

    try:
        entry = json.loads((index / "pagefind-entry.json").read_text("utf-8"))
        for language in entry["languages"].values():
            meta_path = index / f"pagefind.{language['hash']}.pf_meta"
            meta = cbor2.loads(_unpack(meta_path.read_bytes()))
            filters = []
            for name, old in meta[3]:
                path = index / "filter" / f"{old}.pf_filter"
                data = cbor2.loads(_unpack(path.read_bytes()))
                data[1].sort(key=lambda value: value[0])
                for value in data[1]:  # its pages, in the order its threads got to them
                    value[1].sort()
                payload = cbor2.dumps(data)
                new = old.rpartition("_")[0] + "_" + hashlib.sha1(payload).hexdigest()[:7]
                path.unlink()
                (index / "filter" / f"{new}.pf_filter").write_bytes(_pack(payload))
                filters.append([name, new])
            meta[3] = sorted(filters)
            payload = cbor2.dumps(meta)
            new = language["hash"].rpartition("_")[0] + "_" + \
                hashlib.sha1(payload).hexdigest()[:10]
            meta_path.unlink()
            (index / f"pagefind.{new}.pf_meta").write_bytes(_pack(payload))
            language["hash"] = new
        (index / "pagefind-entry.json").write_text(
            json.dumps(entry, ensure_ascii=False, separators=(",", ":")), "utf-8")
    except (OSError, ValueError, KeyError, IndexError, TypeError,
            cbor2.CBORDecodeError) as exc:
        raise SearchFailed(f"unexpected Pagefind output ({type(exc).__name__}: {exc})") \
            from None


def _unpack(data: bytes) -> bytes:
    data = gzip.decompress(data)
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a Pagefind file")
    return data[len(_SIGNATURE):]


def _pack(payload: bytes) -> bytes:
    return gzip.compress(_SIGNATURE + payload, mtime=0)
