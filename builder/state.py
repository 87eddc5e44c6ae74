"""The build state: what the last successful build read and wrote, so that a build
with nothing to do stops after one ``stat`` of every input and output file.

Stored in ``.postil-cache/build.sqlite3`` in the site folder (the standard
library's :mod:`sqlite3`): one row per *condition*, that is per site, output
folder and set of build options. A row holds a :class:`Stamp`: a digest of the
``stat`` of every file the build could read (``site.yml``, ``content/``, the
site's ``templates/``, ``static/`` and theme, the built-in theme, Postil's own
code and the versions of the libraries it parses and renders with), the
``stat`` of every file it wrote, the warnings it printed, and, for
``postil build --explain``, each source's record key.

Only a build that succeeded and wrote its output records a row. A file modified
close to the build's start (``RACY_SECONDS``) could change again within the
file system's timestamp granularity without changing its ``stat`` (Git's
"racily clean" problem): the stamp keeps a digest of such a file's bytes, taken
before the build read it, and a later build stops early only if the bytes are
still the same. (With more than ``RACY_FILES`` of them, no row is recorded.)
So the build right after an edit leaves a stamp like any other. The
database is safe to delete and is never published; anything wrong with it
(missing, damaged, locked) only means the build does its full work.

This module imports nothing but the standard library, :mod:`builder.manifest` and
:mod:`builder.stats`, so a no-change ``postil build`` never imports Jinja2 or markdown-it-py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from importlib.util import find_spec
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from builder.manifest import MANIFEST
from builder.stats import Child, may_fork, packed, stats_digest
from builder.stats import output_stats as output_stats  # (the pipeline's, from here)

CACHE_DIR = ".postil-cache"
DATABASE = "build.sqlite3"
FORMAT = 2  # of a stamp; a row of another format is ignored
RACY_SECONDS = 2.0  # FAT's timestamps are 2 s apart; ext4's and tmpfs's a clock tick
RACY_FILES = 64  # files just changed whose bytes a stamp vouches for; with more, no stamp
_KEEP_ROWS = 16  # conditions remembered (output folders, option sets)
_SCHEMA = ("CREATE TABLE IF NOT EXISTS builds (condition TEXT PRIMARY KEY, stamp TEXT NOT NULL,"
           " sources TEXT NOT NULL, updated INTEGER NOT NULL)")
_MEMOS = "CREATE TABLE IF NOT EXISTS memos (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
# What a build reads besides the site's files: the modules it renders and parses with.
_LIBRARIES = ("markdown_it", "mdit_py_plugins", "yaml", "jinja2", "markupsafe", "anyascii",
              "trafilatura")  # (the text of an HTML snapshot: builder.snapshots)
_PACKAGE = Path(__file__).resolve().parent
SNAPSHOT_REUSE = 5.0  # seconds: see snapshot()
_CHILD_SHARE = 0.65  # of the output files, looked at by a child (this process: the inputs)
# The snapshot unchanged() last took, finding a change: (roots, when taken (ns), digest,
# racy, texts), for the build that follows in the same process (see snapshot()).
_taken: tuple[list[str], int, str, list[str], dict[str, str]] | None = None


def condition(site_dir: Path, output: Path | None, base_url: str | None, drafts: bool,
              strict: bool) -> str:
    """The key of one kind of build: site folder, ``-o`` as given, and the options that
    change what is built or whether it fails (a 32-character hex digest)."""
    parts = [str(Path(site_dir).resolve()), str(Path(output).resolve()) if output else "",
             base_url or "", str(drafts), str(strict), str(FORMAT)]
    return hashlib.blake2b("\0".join(parts).encode(errors="surrogateescape"),  # any path
                           digest_size=16).hexdigest()


class Stamp(NamedTuple):
    """What one successful build read and wrote.

    ``inputs``: the :func:`snapshot` digest of ``roots`` (absolute paths of files and
    folders). ``output``: the output folder; ``files``: the output files' names, and
    ``written`` the :func:`output_stats` digest of their ``stat`` after writing (the
    manifest's last); one digest, not a row per file, so that a stamp of 30,000 files
    loads in milliseconds. ``valid_until``: an ISO date on which the build's result
    changes by itself (a future-dated article appears, with ``future: false``), in
    ``timezone``. (A named tuple: the no-change check does not import dataclasses.)
    ``articles``: articles built; ``warnings``: the lines the build printed;
    ``skipped``: the summary's lines on files left out.
    """

    inputs: str
    roots: list[str]
    output: str
    files: list[str]
    written: str
    articles: int
    warnings: list[str] = []  # (never changed in place)
    valid_until: str | None = None
    timezone: str = "UTC"
    skipped: list[str] = []  # the summary's lines on files left out
    racy: dict[str, str] = {}  # path → digest of its bytes


def snapshot(roots: list[str], since_ns: int | None = None
             ) -> tuple[str, list[str], dict[str, str]]:
    """(digest, racy, texts): a digest of the path and ``stat`` (size, mtime, ctime,
    inode) of every file under ``roots``, plus Postil's code and its libraries; the paths
    of those that changed after ``since_ns`` (nanoseconds since the epoch) minus
    ``RACY_SECONDS`` (see :func:`content_digests`); and the text the digest is taken of,
    per root (a line per file: its path under the root, size, mtime_ns, ctime_ns and
    inode, NUL-separated), for :func:`changed_files`.

    Hidden files and folders (a leading ``.``) are left out: no reader of Postil's reads
    them. A root that does not exist is recorded as missing, so its appearance counts.

    The snapshot :func:`unchanged` took of the same roots just before, finding a change,
    is returned instead of a new one when it was finished before ``since_ns``, at most
    ``SNAPSHOT_REUSE`` seconds before: a build that reads the files after a snapshot may
    use it (a file changed in between no longer has the stat it records, so the next
    build does its full work), and the command line's no-change check is the first
    thing a ``postil build`` process does. It is used once, by the next call.
    """
    global _taken
    taken, _taken = _taken, None
    if taken is not None and since_ns is not None and taken[0] == roots and \
            0 <= since_ns - taken[1] <= SNAPSHOT_REUSE * 1e9:
        return taken[2], list(taken[3]), taken[4]
    return _snapshot(roots, since_ns)


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str] | None:
    """The paths of the files whose ``stat`` differs between two snapshots' texts (see
    :func:`snapshot`); None if a file or root appeared or went away."""
    if type(before) is not dict or before.keys() != after.keys():
        return None
    changed = []
    for root, text in after.items():
        if before[root] == text:
            continue
        old, new = _lines(before[root]), _lines(text)
        if old.keys() != new.keys():
            return None
        changed += [os.path.join(root, name) if name else root
                    for name, value in new.items() if old[name] != value]
    return changed


def _lines(text: str) -> dict[str, str]:
    """A snapshot text of one root: path → the rest of its line."""
    found = {}
    for line in text.splitlines()[1:]:  # (the first names the root)
        name, _, rest = line.partition("\0")
        found[name] = rest
    return found


def _snapshot(roots: list[str], since_ns: int | None = None
              ) -> tuple[str, list[str], dict[str, str]]:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{sys.version}\0{FORMAT}\n".encode())
    limit = (since_ns if since_ns is not None else time.time_ns()) - int(RACY_SECONDS * 1e9)
    racy: list[str] = []
    texts: dict[str, str] = {}
    for root in [*roots, str(_PACKAGE), *_library_files()]:
        lines = [f"root\0{root}\n"]
        for name, info in _walk(root):
            if info is None:
                lines.append(f"{name}\0missing\n")
                continue
            lines.append(f"{name}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0"
                         f"{info.st_ino}\n")
            if (info.st_mtime_ns >= limit or info.st_ctime_ns >= limit) and \
                    stat.S_ISREG(info.st_mode):  # a FIFO or device is never read
                racy.append(os.path.join(root, name) if name else root)
        text = texts[root] = "".join(lines)
        digest.update(text.encode(errors="surrogateescape"))  # any file name
    return digest.hexdigest(), racy, texts


def content_digests(paths: list[str]) -> dict[str, str] | None:
    """Path → a digest of the file's bytes (32 hex characters), for the files
    :func:`snapshot` found just changed; None if there are more than ``RACY_FILES`` or
    one cannot be read. Taken before the build reads them, so a stamp never vouches for
    bytes the build did not see."""
    if len(paths) > RACY_FILES:
        return None
    found = {}
    for path in paths:
        digest = content_digest(path)
        if digest is None:
            return None
        found[path] = digest
    return found


def content_digest(path: str) -> str | None:
    """A digest of a regular file's bytes; None for anything else, which is never
    opened for reading (a FIFO would block: opened without waiting, then refused)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with open(fd, "rb") as file:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            return hashlib.file_digest(file, lambda: hashlib.blake2b(digest_size=16)).hexdigest()
        except OSError:
            return None


def _library_files() -> list[str]:
    """The ``__init__.py`` of each library: a reinstall or upgrade rewrites it."""
    found = []
    for name in _LIBRARIES:
        with contextlib.suppress(ImportError, ValueError):
            spec = find_spec(name)  # finds a top-level module without importing it
            if spec is not None and spec.origin:
                found.append(spec.origin)
    return found


_by_name = attrgetter("name")


def _walk(root: str) -> Iterator[tuple[str, os.stat_result | None]]:
    """Every file under ``root`` (or ``root`` itself, or None if it does not exist) with
    its ``stat``, following links as readers do."""
    try:
        info = os.stat(root)
    except OSError:
        yield "", None
        return
    if not os.path.isdir(root):
        yield "", info
        return
    stack = [root]
    cut = len(root) + 1
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=_by_name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name == "__pycache__":
                continue  # hidden files no reader reads; bytecode Python writes on import
            try:
                if entry.is_dir():
                    stack.append(entry.path)
                    continue
                info = entry.stat()
            except OSError:
                continue
            yield entry.path[cut:], info


def unchanged(site_dir: Path, key: str, now: datetime | None = None) -> Stamp | None:
    """The stamp of the last build of this condition if nothing it read or wrote has
    changed since (and its date has not run out), else None. Writes nothing.

    Most of the output files are looked at in a forked process while this one takes
    the snapshot of the inputs and looks at the rest (see :class:`builder.stats.Child`):
    the ``stat`` calls are most of a no-change build, and two cores do them in about
    half the time.
    When an input changed, the child is stopped at once and no output file looked at.
    """
    global _taken
    _taken = None  # (an older check's snapshot is for no build)
    stamp = _load(Path(site_dir), key)
    if stamp is None:
        return None
    if stamp.valid_until is not None:
        today = now.date() if now is not None else _today(stamp.timezone)
        if today is None or today >= date.fromisoformat(stamp.valid_until):
            return None
    base, names = f"{stamp.output}/", [*stamp.files, MANIFEST]
    cut = int(len(names) * _CHILD_SHARE) if may_fork() else 0
    child = Child(lambda: packed(base, names[:cut]))
    try:
        found, racy, texts = snapshot(stamp.roots)
        if found != stamp.inputs:  # for the build that follows: see snapshot()
            _taken = (list(stamp.roots), time.time_ns(), found, list(racy), texts)
            return None
        own = packed(base, names[cut:])
        theirs = child.result()
    finally:
        child.cancel()
    if own is None or theirs is None or stats_digest(theirs + own) != stamp.written:
        return None
    if any(content_digest(path) != digest for path, digest in stamp.racy.items()):
        return None  # changed again within the file system's timestamp granularity
    return stamp


def _today(timezone: str) -> date | None:
    """Today's date in ``timezone``; None if the zone is unknown (then: not unchanged)."""
    try:
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(timezone)).date()
    except Exception:  # noqa: BLE001 - a zone that cannot be loaded: do the full build
        return None


def record(site_dir: Path, key: str, stamp: Stamp | None, sources: dict[str, str],
           memos: dict[str, object] | None = None) -> None:
    """Remember ``stamp`` (None: no build of this condition may stop early next time)
    with each source's record key, and ``memos`` (name → JSON value: answers a later
    build may reuse, see :func:`memo`). Never raises: a database that cannot be
    written is left as it is."""
    def work(db: sqlite3.Connection) -> None:
        db.execute(_SCHEMA)
        db.execute(_MEMOS)
        db.executemany("INSERT OR REPLACE INTO memos VALUES (?, ?)",
                       [(name, json.dumps(value)) for name, value in (memos or {}).items()])
        db.execute("INSERT OR REPLACE INTO builds VALUES (?, ?, ?, ?)",
                   (key, json.dumps(stamp._asdict() if stamp else None), json.dumps(sources),
                    time.time_ns()))
        db.execute("DELETE FROM builds WHERE condition NOT IN (SELECT condition FROM "
                   "builds ORDER BY updated DESC LIMIT ?)", (_KEEP_ROWS,))

    write(site_dir, work)


def rows(site_dir: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """The rows ``sql`` selects from the build database, opened read-only (``mode=ro``);
    [] if there is no database or it cannot be read (missing table, damaged, locked)."""
    path = Path(site_dir) / CACHE_DIR / DATABASE
    if not path.is_file():
        return []
    try:
        db = sqlite3.connect(f"file:{quote(os.fsencode(path))}?mode=ro", uri=True, timeout=0.5)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return []


def write(site_dir: Path, work: Callable[[sqlite3.Connection], object]) -> None:
    """Run ``work`` on the build database (made if missing) in one transaction. Never
    raises for the database: one that cannot be written is left as it is."""
    path = Path(site_dir) / CACHE_DIR / DATABASE
    with contextlib.suppress(sqlite3.Error, OSError):
        path.parent.mkdir(exist_ok=True)
        db = sqlite3.connect(f"file:{quote(os.fsencode(path))}?mode=rwc", uri=True, timeout=2.0,
                             isolation_level=None)
        try:
            db.execute("PRAGMA trusted_schema = OFF")
            db.execute("PRAGMA synchronous = OFF")  # a torn write only loses what is kept
            with db:
                db.execute("BEGIN IMMEDIATE")
                work(db)
        finally:
            db.close()


def sources_of(site_dir: Path, key: str) -> dict[str, str]:
    """Source path → record key, as the last recorded build of this condition read them."""
    row = _row(Path(site_dir), key, "sources")
    try:
        value = json.loads(row) if row is not None else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def memo(site_dir: Path, name: str) -> object:
    """The JSON value last stored as memo ``name`` (None if there is none). Its user
    must check it is of the shape it stores, and that its keys name all its inputs."""
    found = rows(site_dir, "SELECT value FROM memos WHERE name = ?", (name,))
    try:
        return json.loads(found[0][0]) if found else None
    except (ValueError, TypeError):
        return None


def load(site_dir: Path, key: str) -> Stamp | None:
    """The stamp of the last recorded build of this condition; None if there is none."""
    return _load(Path(site_dir), key)


# The last stamp loaded, by the text of its row: a postil build that finds a change loads
# it again (builder.delta_build), and a stamp of 50,000 files takes a while to check.
_loaded: tuple[str, Stamp] | None = None


def _load(site_dir: Path, key: str) -> Stamp | None:
    global _loaded
    row = _row(site_dir, key, "stamp")
    if row is None:
        return None
    if _loaded is not None and _loaded[0] == row:
        return _loaded[1]
    stamp = _parse(row)
    _loaded = (row, stamp) if stamp is not None else None
    return stamp


def _parse(row: str) -> Stamp | None:
    try:
        value = json.loads(row)
        stamp = Stamp(**value) if isinstance(value, dict) else None
    except (ValueError, TypeError):
        return None
    # The database is Postil's own, but a damaged row must never stop a build.
    if stamp is None or not (isinstance(stamp.roots, list) and isinstance(stamp.files, list)
                             and all(isinstance(root, str) for root in stamp.roots)
                             and all(isinstance(name, str) for name in stamp.files)
                             and isinstance(stamp.written, str)
                             and isinstance(stamp.racy, dict)
                             and all(isinstance(v, str) for v in stamp.racy.values())
                             and isinstance(stamp.warnings, list)
                             and isinstance(stamp.skipped, list)
                             and isinstance(stamp.output, str)):
        return None
    if stamp.valid_until is not None:
        try:
            date.fromisoformat(stamp.valid_until)
        except (TypeError, ValueError):
            return None
    return stamp


def _row(site_dir: Path, key: str, column: str) -> str | None:
    """One column of the condition's row, opened read-only; None if there is none."""
    found = rows(site_dir, f"SELECT {column} FROM builds WHERE condition = ?", (key,))
    return found[0][0] if found and isinstance(found[0][0], str) else None
