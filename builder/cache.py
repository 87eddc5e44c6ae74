"""A content-hash cache of parsed articles, so unchanged files are not re-parsed.

An entry's key is a hash of the file's path and bytes, the settings that
shape reading, the entry format and a fingerprint of Postil's own code and
parsing libraries: any change to either makes a new key, so a stale entry is
never used.

Entries live in one SQLite database, ``.postil-cache/articles.sqlite3`` in
the site folder: a table of (key, value) rows, each value the
:mod:`builder.codec` JSON of ``[MAGIC, FORMAT, key, (record or None,
problems)]`` (dataclasses as arrays of field values: format 2, 8% smaller than
format 1's objects of field names and decoded 1.6-1.7 times as fast). Not
compressed: zlib would save 60% of the space but add about
half to the time to write an entry and a third to the time to read one.
Reading an entry never runs code: only the classes on the allow-list below
are ever built. Whatever is wrong with the database (damaged, foreign,
crafted, read-only, locked by another process, a folder in its place) makes
entries misses and writes no-ops: the build goes on, only slower, and a
damaged file is replaced by a fresh database on the next write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from importlib.metadata import version as _version
from pathlib import Path
from typing import Any
from urllib.parse import quote

import markdown_it
import mdit_py_plugins
import yaml

from builder import model
from builder.codec import Codec, DecodeError
from builder.dates import PartialDate
from builder.problems import Problem
from builder.spill import Spill

CACHE_DIR = ".postil-cache"
DATABASE = "articles.sqlite3"
FORMAT = 2  # of an entry; part of every key and of every entry
MAGIC = "postil-article"
_APPLICATION_ID = 0x506F7374  # "Post", in the database header: not some other program's file
_SCHEMA = "CREATE TABLE entries (key TEXT PRIMARY KEY, value BLOB NOT NULL)"
_BUSY_SECONDS = 2.0  # wait this long for another process's write before giving up
_RETRY_SECONDS = 10.0  # after giving up, treat the cache as absent for this long
_LARGEST = 64 << 20  # bytes: a longer value is not one Postil wrote; it is not even read
_BATCH = 256  # keys per query in get_many: well under SQLite's 999 parameters of old


def _partial_date(data: Any) -> PartialDate:
    if type(data) is not str:
        raise ValueError("a PartialDate is its ISO text")
    return PartialDate.parse(data)  # checks month and day are in range, a real day


def _allow_list() -> Codec:
    """Every dataclass of :mod:`builder.model` (found here, so a new one is covered),
    :class:`PartialDate` and :class:`Problem`: the only classes an entry may hold."""
    codec = Codec()
    for value in vars(model).values():
        if isinstance(value, type) and dataclasses.is_dataclass(value) and \
                value.__module__ == model.__name__:
            codec.register_dataclass(value)
    codec.register_dataclass(Problem)
    codec.register(PartialDate, "PartialDate", lambda d: d.iso, _partial_date)
    return codec


CODEC = _allow_list()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of every source file of this package and the parsing libraries' versions."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{markdown_it.__version__}/{mdit_py_plugins.__version__}/"
                  f"{yaml.__version__}/{_version('anyascii')}/{FORMAT}".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _salt(settings: Any) -> bytes:
    # repr, not astuple: the lexicon inside shows (and hashes) as its fingerprint.
    return (code_fingerprint() + repr(settings)).encode()


def encode_entry(key: str, value: Any) -> bytes:
    """The stored bytes of an entry. Raises TypeError for a value the codec does not allow."""
    return CODEC.encode([MAGIC, FORMAT, key, value])


def decode_entry(key: str, data: Any) -> Any:
    """The value stored under ``key``. Raises :class:`DecodeError` for anything else."""
    if type(data) is not bytes:
        raise DecodeError("not a blob")
    entry = CODEC.decode(data)
    if type(entry) is not list or len(entry) != 4 or entry[:3] != [MAGIC, FORMAT, key]:
        raise DecodeError("an entry of another format or for another key")
    value = entry[3]
    # What the Reader stores: (the file's record or None, its problems). Anything else
    # (another allowed class, say) would break the build later, so it is refused here.
    if type(value) is not tuple or len(value) != 2 or \
            type(value[1]) not in (list, tuple) or any(type(p) is not Problem for p in value[1]):
        raise DecodeError("not a parse result")
    record = value[0]
    if record is not None and (type(record) is not model.ArticleRecord or record.key != key):
        raise DecodeError("not the record of this key")
    if record is not None and not _well_formed(record):
        raise DecodeError("a record of another shape than the reader makes")
    return value


_HEADING = frozenset({"level", "id", "text"})
_EVENT = frozenset({"date", "text", "entities", "line", "after"})


def _well_formed(record: model.ArticleRecord) -> bool:
    """The fields the codec cannot check by their annotation (``Any`` inside) have the
    shape :func:`builder.reader.read_article` gives them, and times carry their zone: a
    stored record of any other shape would fail the build later, every time."""
    for moment in (record.datetime, record.updated):
        if type(moment) is datetime and moment.tzinfo is None:
            return False
    for heading in record.headings:
        if type(heading) is not dict or heading.keys() != _HEADING or \
                type(heading["level"]) is not int or type(heading["id"]) is not str or \
                type(heading["text"]) is not str:
            return False
    for event in record.events:
        if type(event) is not dict or event.keys() != _EVENT or \
                type(event["date"]) is not PartialDate or type(event["text"]) is not str or \
                type(event["line"]) is not int or type(event["entities"]) is not list or \
                type(event["after"]) is not str or \
                any(type(slug) is not str for slug in event["entities"]):
            return False
    return True


class ArticleCache:
    """Parse results ``(ArticleRecord or None, [Problem])`` on disk, one row each, keyed
    by :meth:`key_for`.

    Per build: :meth:`get` or :meth:`touch` every key the build uses, :meth:`put`
    new results, then :meth:`flush` (one transaction) and :meth:`prune`. ``used``
    holds the keys seen since it was last emptied (the pipeline empties it when a
    build starts). With ``refresh=True`` every get misses, but results are still
    stored and old ones pruned (``postil build --no-cache``). No method raises for
    a problem with the database; ``skipped`` records values that could not be
    encoded (a bug: key → message).
    """

    def __init__(self, folder: Path, settings: Any, refresh: bool = False,
                 read_only: bool = False):
        self.folder = folder
        self.read_only = read_only  # postil check, publish --dry-run: opened mode=ro
        self.path = folder / DATABASE
        self.settings = settings
        self.refresh = refresh
        self.used: set[str] = set()
        self.pending = Spill()  # key → encoded entry, until flush(): not in memory
        self.skipped: dict[str, str] = {}
        self._db: sqlite3.Connection | None = None
        self._opened = False  # tried to open the database since the last close
        self._damaged = False  # found a file that is not our database: replace it on write
        self._resting_until = 0.0  # monotonic time: after a lock or I/O error, leave it be
        self._shards_checked = False
        self._lock = threading.Lock()  # the preview server may build from another thread

    def key(self, path: str, raw: bytes) -> str:
        return self.key_for(self.settings, path, raw)

    @staticmethod
    def key_for(settings: Any, path: str, raw: bytes) -> str:
        """What identifies a parse: code, format, settings, file path and bytes (40 hex)."""
        digest = hashlib.blake2b(_salt(settings), digest_size=20)
        digest.update(path.encode())
        digest.update(b"\0")
        digest.update(raw)
        return digest.hexdigest()

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None: absent, refreshing, or unreadable."""
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The values stored under ``keys`` (40-hex strings from :meth:`key`), by key; a
        key absent, unreadable or refreshing is left out. Marks every key used.

        Faster than a :meth:`get` per key: one query per ``_BATCH`` keys, and rows decoded
        back to back (reading 3,000 cached articles took 0.40-0.43 s of CPU this way,
        0.62-0.76 s with a get each). Never raises for a problem with the database.
        """
        wanted = list(dict.fromkeys(keys))
        self.used.update(wanted)
        found: dict[str, Any] = {}
        if self.refresh:
            return found
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start:start + _BATCH]
            with self._lock:
                db = self._open(create=False)
                if db is None:
                    break
                marks = ",".join("?" * len(batch))
                try:
                    rows = db.execute(f"SELECT key, value FROM entries WHERE key IN ({marks})"
                                      " AND length(value) < ?", (*batch, _LARGEST)).fetchall()
                except sqlite3.Error as exc:
                    self._failed(exc)
                    break
            # Decoded outside the lock, a batch at a time: only one batch of bytes held.
            for key, value in rows:
                with contextlib.suppress(DecodeError):  # damaged or crafted: parsed again,
                    found[key] = decode_entry(key, value)  # and put() replaces it
        return found

    def touch(self, key: str) -> None:
        """Mark ``key`` used by this build without reading it, so :meth:`prune` keeps it."""
        self.used.add(key)

    def put(self, key: str, value: Any) -> None:
        """Remember a parse (encoded now: later stages must not change what is stored);
        it reaches the disk with :meth:`flush`. A value the codec refuses is not stored."""
        self.used.add(key)
        try:
            data = encode_entry(key, value)
        except TypeError as exc:
            self.skipped[key] = str(exc)
            return
        if not self.read_only:  # (flush would drop it)
            self.pending[key] = data

    def flush(self) -> None:
        """Write the new entries in one transaction, once the build's own work is done.

        Also removes the pickle shard folders of earlier Postil versions.
        """
        pending, self.pending = self.pending, Spill()
        try:
            self._write(pending)
        finally:
            pending.clear()

    def _write(self, pending: Spill) -> None:
        if self.read_only:
            return
        if not self._shards_checked:
            self._shards_checked = True
            _remove_pickle_shards(self.folder)
        if not pending:
            return
        with self._lock:
            db = self._open(create=True)
            if db is None:
                return
            try:
                with db:  # BEGIN … COMMIT, or ROLLBACK on an error
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany("INSERT OR REPLACE INTO entries (key, value) VALUES (?, ?)",
                                   pending.items())
            except sqlite3.Error as exc:
                self._failed(exc)
            except OSError:  # the spill file could not be read back: nothing was stored
                pass

    def prune(self) -> None:
        """Forget entries this build did not use (edited or deleted files), then close.

        Does nothing if this build used no key at all.
        """
        with self._lock:
            try:
                if self.used and not self.read_only:
                    self._prune()
            finally:
                self._close()

    def _prune(self) -> None:
        db = self._open(create=False)
        if db is None:
            return
        try:
            stale = [(key,) for (key,) in db.execute("SELECT key FROM entries")
                     if key not in self.used]
            if stale:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany("DELETE FROM entries WHERE key = ?", stale)
        except sqlite3.Error as exc:
            self._failed(exc)

    def close(self) -> None:
        """Close the database (a later call opens it again)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        self._forget_connection()
        self._opened, self._damaged = False, False

    def _forget_connection(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None

    def _failed(self, exc: sqlite3.Error) -> None:
        """Give up on the database quietly: for a while if busy, locked or read-only;
        until the next write replaces it if it is damaged."""
        if isinstance(exc, sqlite3.OperationalError):
            self._resting_until = time.monotonic() + _RETRY_SECONDS
        else:
            self._damaged = True
        self._forget_connection()

    def _open(self, create: bool) -> sqlite3.Connection | None:
        """The connection, opened on first use; None when there is no usable database.

        ``create``: make the folder and database if missing, replacing a damaged file.
        """
        if self._db is not None or time.monotonic() < self._resting_until:
            return self._db
        if self._opened and not create:
            return None  # tried already in this build: absent or damaged
        self._opened = True
        try:
            if not create:
                if not self.path.is_file() or self.path.is_symlink():
                    self._damaged = self.path.is_symlink() or self.path.exists()
                    return None
                self._db = self._connect(create=False)
                return self._db
            self.folder.mkdir(parents=True, exist_ok=True)
            for attempt in range(2):
                if self._damaged or attempt:
                    _remove_database(self.path)
                try:
                    self._db = self._connect(create=True)
                    return self._db
                except sqlite3.OperationalError:
                    raise
                except (sqlite3.Error, _Foreign):
                    if attempt:
                        raise
        except sqlite3.OperationalError as exc:  # locked, read-only, cannot open
            self._failed(exc)
        except (sqlite3.Error, _Foreign):
            self._damaged = True
        except OSError:
            self._resting_until = time.monotonic() + _RETRY_SECONDS
        return None

    def _connect(self, create: bool) -> sqlite3.Connection:
        """Open the database and check it is ours. Raises sqlite3.Error, or _Foreign."""
        if self.path.is_symlink() or (self.path.exists() and not self.path.is_file()):
            raise _Foreign("not a regular file")
        mode = "rwc" if create else "ro" if self.read_only else "rw"
        db = sqlite3.connect(f"file:{quote(os.fsencode(self.path))}?mode={mode}", uri=True,
                             timeout=_BUSY_SECONDS, isolation_level=None,
                             check_same_thread=False)
        try:
            db.execute("PRAGMA trusted_schema = OFF")  # run nothing a crafted schema names
            # No fsync: a crash may lose or tear the last write, which only makes misses (an
            # entry names its key, and a damaged file is replaced).
            db.execute("PRAGMA synchronous = OFF")
            if not self._is_ours(db):
                if not create:
                    raise _Foreign("no entries table")
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    if not self._is_ours(db):  # another process may have just made it
                        if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                            raise _Foreign("another program's database")
                        db.execute(_SCHEMA)
                        db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                        db.execute(f"PRAGMA user_version = {FORMAT}")
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _is_ours(db: sqlite3.Connection) -> bool:
        """The database has exactly our table, made by this format of Postil."""
        header = (db.execute("PRAGMA application_id").fetchone()[0],
                  db.execute("PRAGMA user_version").fetchone()[0])
        schema = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        return header == (_APPLICATION_ID, FORMAT) and schema == [
            ("table", "entries", _SCHEMA), ("index", "sqlite_autoindex_entries_1", None)]


class _Foreign(Exception):
    """The database file is not one this version of Postil made."""


def _remove_database(path: Path) -> None:
    """Remove a damaged database and its journal (a folder only if empty)."""
    for name in (path.name, f"{path.name}-journal", f"{path.name}-wal", f"{path.name}-shm"):
        target = path.with_name(name)
        with contextlib.suppress(OSError):
            if target.is_dir() and not target.is_symlink():
                target.rmdir()
            else:
                target.unlink()


def _remove_pickle_shards(folder: Path) -> None:
    """Delete the ``xx/<key>.pickle`` files earlier versions wrote, and their folders.

    Only two-hex-digit folders directly in the cache folder, never through a link.
    """
    try:
        shards = [entry for entry in os.scandir(folder) if len(entry.name) == 2
                  and all(c in "0123456789abcdef" for c in entry.name)
                  and entry.is_dir(follow_symlinks=False)]
        for shard in shards:
            for entry in os.scandir(shard.path):
                if entry.name.endswith((".pickle", ".pickle.postil-tmp")) and \
                        not entry.is_dir(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)  # a link itself, never its target
            with contextlib.suppress(OSError):
                os.rmdir(shard.path)  # only if it is now empty
    except OSError:
        pass  # no cache folder, or an unreadable one: nothing to tidy
