"""Parsed entity files and rendered entity notes, kept between processes.

A new process would otherwise parse every file of ``content/entities/`` and
render every entity's notes through Markdown again: about 0.6 ms per entity,
1.2 s at 2,000 entities and 14 s at 20,000, on every build. They are stored in
``.postil-cache/build.sqlite3`` (table ``entities``), each under a name that
holds a digest of all its inputs, encoded with the parse cache's allow-list
codec (:data:`builder.cache.CODEC`: data only, nothing in it is ever run):

* ``file:<path>``: [code, key, (record, problems)], ``key`` being the hash of the
  path and bytes the record was read from (:attr:`EntityRecord.key`);
* ``notes:<digest>``: [code, (html, wikilinks, problems)], the digest naming the
  record's key, the lexicon's fingerprint, the base path and the raw-HTML switch.

Anything missing, damaged or written by other code is a miss. Written only by a
build that succeeded and wrote its output (:meth:`EntityStore.save`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from builder.cache import CODEC, code_fingerprint
from builder.codec import DecodeError
from builder.dates import PartialDate
from builder.model import EntityRecord
from builder.problems import Problem
from builder.state import rows, write

_SCHEMA = "CREATE TABLE IF NOT EXISTS entities (name TEXT PRIMARY KEY, value BLOB NOT NULL)"
Notes = tuple[str, list[tuple[int, str]], list[Problem]]
_DATE = (type(None), PartialDate)  # an entity's date and end


class EntityStore:
    """The stored entities of one site (``site_dir``); reads everything once, lazily."""

    def __init__(self, site_dir: Path, refresh: bool = False) -> None:
        self.site_dir = site_dir
        # refresh (postil build --no-cache): read nothing stored, store anew
        self._rows: dict[str, bytes] | None = {} if refresh else None
        self.new: dict[str, Any] = {}  # name → value, to store on save()
        self.used: set[str] = set()

    def _all(self) -> dict[str, bytes]:
        if self._rows is None:
            self._rows = {}
            self._rows = {name: value for name, value in
                          rows(self.site_dir, "SELECT name, value FROM entities")
                          if isinstance(name, str) and isinstance(value, bytes)}
        return self._rows

    def _get(self, name: str) -> Any:
        self.used.add(name)
        data = self._all().get(name)
        if data is None:
            return None
        try:
            value = CODEC.decode(data)
        except (DecodeError, ValueError, TypeError, RecursionError):
            return None
        if type(value) is not list or len(value) != 2 or value[0] != code_fingerprint():
            return None
        return value[1]

    def record(self, path: str, key: str) -> tuple[EntityRecord | None, list[Problem]] | None:
        """The parse of the entity file ``path`` whose key is ``key``, if stored."""
        value = self._get(f"file:{path}")
        if type(value) is not tuple or len(value) != 2 or value[0] != key:
            return None
        found = value[1]
        if type(found) is not tuple or len(found) != 2:
            return None
        record, problems = found
        if not (record is None or (type(record) is EntityRecord and record.key == key
                                   and record.source == path
                                   # (annotated Any: unchecked by the codec)
                                   and type(record.date) in _DATE and type(record.end) in _DATE
                                   )) or \
                type(problems) is not list or any(type(p) is not Problem for p in problems):
            return None
        return record, problems

    def put_record(self, path: str, key: str, result: tuple[EntityRecord | None,
                                                            list[Problem]]) -> None:
        self.used.add(f"file:{path}")
        self.new[f"file:{path}"] = (key, result)

    def notes(self, digest: str) -> Notes | None:
        """The rendered notes stored under ``digest``, if any."""
        value = self._get(f"notes:{digest}")
        if type(value) is not tuple or len(value) != 3:
            return None
        html, wikilinks, problems = value
        if type(html) is not str or type(wikilinks) is not list or \
                any(type(w) is not tuple or len(w) != 2 or type(w[0]) is not int
                    or type(w[1]) is not str for w in wikilinks) or \
                type(problems) is not list or any(type(p) is not Problem for p in problems):
            return None
        return html, wikilinks, problems

    def put_notes(self, digest: str, notes: Notes) -> None:
        self.used.add(f"notes:{digest}")
        self.new[f"notes:{digest}"] = notes

    def save(self) -> None:
        """Store the new entries and forget those this build did not use. Never raises."""
        self._rows = None  # what is stored now, even after a refresh
        rows = self._all()
        stale = [name for name in rows if name not in self.used]
        if not self.new and not stale:
            return
        code = code_fingerprint()
        encoded = []
        for name, value in self.new.items():
            with contextlib.suppress(TypeError, ValueError):
                encoded.append((name, CODEC.encode([code, value])))
        def work(db: sqlite3.Connection) -> None:
            db.execute(_SCHEMA)
            db.executemany("DELETE FROM entities WHERE name = ?", [(name,) for name in stale])
            db.executemany("INSERT OR REPLACE INTO entities VALUES (?, ?)", encoded)

        write(self.site_dir, work)
        self._rows = None
        self.new = {}
