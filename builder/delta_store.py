"""The last full build, stored for the next ``postil build`` process (:mod:`builder.delta`).

The preview server keeps its last build in memory, so that saving an article
renders only the pages that show it. A new ``postil build`` process has no
memory: this module stores what a delta build starts from in
``.postil-cache/delta.sqlite3``, so that the next process can render the few
pages an edited article reaches without reading and indexing the whole site
again (:mod:`builder.delta_build`).

What is stored: each page reaching an article (its context pickled, with the
signature it was made under and what it read of its articles), the feeds, the
card of each shown article, which pages and feeds reach each article, and the
build's small tables (URLs, term names, warnings, the inputs' stats, the
outputs' stats). A pickled value holds records, cards and mentions by reference
(:mod:`builder.delta_pickle`): loading a page reads only the records it holds,
from the parsed-article cache, or this database's ``records`` table for the
records a build changed after reading (dated by their file, say).

A database that is missing, damaged, foreign or of another format, or a value
of a class off the allow-list, is no basis: the build is a full one. Written
whole by a full build (a new file, renamed into place), changed in place by a
delta build in one transaction, never by ``postil check``.

Hand-written: this is Postil's own model, stored; the pickling is the standard
library's.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from builder.delta import may_render
from builder.delta_pickle import Refs, Unsure, loads
from builder.model import Article, ArticleRecord, Entity, Highlight, Mention, Page

DATABASE = "delta.sqlite3"
FORMAT = 1
_SCHEMA = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE pages (number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "signature TEXT NOT NULL, reads BLOB NOT NULL, entity INTEGER NOT NULL, page BLOB NOT NULL, "
    "shows BLOB NOT NULL)",
    "CREATE TABLE reach (source TEXT PRIMARY KEY, pages BLOB NOT NULL, feeds BLOB NOT NULL)",
    "CREATE TABLE cards (source TEXT PRIMARY KEY, card BLOB NOT NULL)",
    "CREATE TABLE feeds (number INTEGER PRIMARY KEY, feed BLOB NOT NULL)",
    "CREATE TABLE records (key TEXT PRIMARY KEY, record BLOB NOT NULL)",
)
def database(site_dir: Path) -> Path:
    from builder.cache import CACHE_DIR

    return Path(site_dir) / CACHE_DIR / DATABASE


def save(path: Path, meta: dict[str, Any], pages: Iterable[tuple[Page, str, Any]],
         cards: Iterable[Article], feeds: list[Any], feed_limit: int | None, config: Any,
         cached: set[str]) -> None:
    """Store a full build in a new database file ``path`` (then :func:`finish` it).

    ``pages``: (page, signature, reads or None) of every page, in the site's order;
    ``cards``: every shown article's card; ``feeds``: every feed, in order (only their
    first ``feed_limit`` articles are shown, and stored); ``cached``: the keys of the
    records the parsed-article cache holds (any other record met is stored here).
    Raises OSError or sqlite3.Error; a pickling error for a value no delta build could
    load (the caller then removes any stored build)."""
    cards = list(cards)
    refs = Refs(cards, config)
    reach: dict[str, tuple[list[int], list[int]]] = {}

    # Rows made as they are written (a generator each): the pickles of 10,000 articles'
    # pages are a hundred megabytes or more, never all in memory.
    def page_rows() -> Iterator[tuple]:
        for number, (page, signature, reads) in enumerate(pages):
            # What a page reaches is in its context (see builder.last_build.Dependents): its
            # ``shows`` (which its context holds too) is stored apart.
            entity = isinstance(page.context.get("entity"), Entity)
            if not may_render(reads, entity):
                continue  # (the archive, say: titles and dates only)
            data, reached = refs.dump(replace(page, shows=()))
            if not reached:
                continue  # a page reaching no article never renders in a delta build
            for source in reached:
                reach.setdefault(source, ([], []))[0].append(number)
            yield (number, _name_of(page), signature, pickle.dumps(reads), entity, data,
                   refs.dump(page.shows)[0])

    def feed_rows() -> Iterator[tuple]:
        for number, feed in enumerate(feeds):
            shown = feed.articles[:feed_limit]
            for card in shown:
                reach.setdefault(card.record.source, ([], []))[1].append(number)
            yield number, refs.dump(type(feed)(feed.title, feed.page_url, list(shown),
                                               feed.subtitle))[0]

    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    path.parent.mkdir(exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")  # a new file: a crash leaves only it
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN")
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute("CREATE INDEX pages_by_name ON pages (name)")
        db.executemany("INSERT INTO pages VALUES (?, ?, ?, ?, ?, ?, ?)", page_rows())
        db.executemany("INSERT INTO feeds VALUES (?, ?)", feed_rows())
        db.executemany("INSERT INTO reach VALUES (?, ?, ?)",
                       ((source, pickle.dumps(p), pickle.dumps(f))
                        for source, (p, f) in reach.items()))
        db.executemany("INSERT INTO cards VALUES (?, ?)",
                       ((card.record.source, refs.dump(card, top=card)[0]) for card in cards))
        db.executemany("INSERT INTO records VALUES (?, ?)",
                       ((key, pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
                        for key, record in refs.records.items() if key not in cached))
        db.executemany("INSERT INTO meta VALUES (?, ?)",
                       [(name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                        for name, value in {**meta, "format": FORMAT}.items()])
        db.execute("COMMIT")
    finally:
        db.close()


def finish(temporary: Path, path: Path, meta: dict[str, Any]) -> None:
    """Add ``meta`` to the build stored in ``temporary`` (by :func:`save`) and make it the
    stored build at ``path``. Raises OSError or sqlite3.Error."""
    db = sqlite3.connect(temporary, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                       [(name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                        for name, value in meta.items()])
    finally:
        db.close()
    os.replace(temporary, path)


def update(tables: StoredTables, meta: dict[str, Any], made: Any) -> None:
    """Make the stored build describe the output after a delta build: ``meta`` (name →
    value) replaced, and the pages, feeds and cards ``made`` (a
    :class:`builder.delta.Delta`) made again, in one transaction. Raises sqlite3.Error
    or a pickling error (the caller then removes the stored build)."""
    from builder.urls import output_file

    refs = Refs([*tables.cards(), *made.cards.values()], tables.config)
    pages = []
    for number, page in made.pages.items():
        name = output_file(page.url)
        pages.append((refs.dump(replace(page, shows=()))[0], refs.dump(page.shows)[0],
                      made.signatures[name], pickle.dumps(made.reads.get(name)), number))
    cards = [(refs.dump(card, top=card)[0], source) for source, card in made.cards.items()]
    limit = tables.config.feed_limit or None
    feeds = [(refs.dump(type(feed)(feed.title, feed.page_url, list(feed.articles[:limit]),
                                   feed.subtitle))[0], number)
             for number, feed in made.feeds.items()]
    db = tables.connect()
    with db:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("UPDATE meta SET value = ? WHERE name = ?",
                       [(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), name)
                        for name, value in meta.items()])
        db.executemany("UPDATE pages SET page = ?, shows = ?, signature = ?, reads = ? "
                       "WHERE number = ?", pages)
        db.executemany("UPDATE cards SET card = ? WHERE source = ?", cards)
        db.executemany("UPDATE feeds SET feed = ? WHERE number = ?", feeds)


def forget(path: Path, condition: str) -> None:
    """Remove the build stored at ``path`` if it is of ``condition`` (its output folder and
    options: see builder.state.condition), or cannot be read: a build of that condition
    is about to change the output it describes. A build of another leaves it."""
    if not path.is_file():
        return
    try:
        db = sqlite3.connect(f"file:{quote(os.fsencode(path))}?mode=ro", uri=True,
                             timeout=2.0)
        try:
            row = db.execute("SELECT value FROM meta WHERE name = 'condition'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        row = None
    # (compared as stored: a string pickles to the same bytes every time)
    if row is None or row[0] == pickle.dumps(condition, protocol=pickle.HIGHEST_PROTOCOL):
        remove(path)


def remove(path: Path) -> None:
    """Forget the stored build (one that no longer describes the output)."""
    with contextlib.suppress(OSError):
        path.unlink()


def _name_of(page: Page) -> str:
    from builder.urls import output_file

    return output_file(page.url)


class StoredTables:
    """A stored build, opened: its tables, read as asked. ``records``: a function giving
    the records of keys (the parsed-article cache's)."""

    def __init__(self, path: Path, records: Any, config: Any) -> None:
        self.path = path
        self.cache = records
        self.config = config
        self._db: sqlite3.Connection | None = None
        self._records: dict[str, ArticleRecord] = {}
        self._cards: dict[str, Article] = {}
        self._parts: dict[tuple[str, str], dict[str, Any]] = {}
        self._meta: dict[str, Any] = {}

    def connect(self) -> sqlite3.Connection:
        if self._db is None:
            if not self.path.is_file():
                raise Unsure("no stored build")
            try:
                self._db = sqlite3.connect(f"file:{quote(os.fsencode(self.path))}?mode=rw",
                                           uri=True, timeout=2.0, isolation_level=None)
                self._db.execute("PRAGMA trusted_schema = OFF")
                # As the build state's (builder.state): what a crash of the whole system
                # can damage is this local state, not the output.
                self._db.execute("PRAGMA synchronous = OFF")
            except sqlite3.Error as exc:
                raise Unsure(str(exc)) from exc
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def one(self, sql: str, args: tuple = ()) -> tuple | None:
        try:
            return self.connect().execute(sql, args).fetchone()
        except sqlite3.Error as exc:
            raise Unsure(str(exc)) from exc

    def load(self, data: Any) -> Any:
        """A stored value; raises :class:`Unsure` for anything but what Postil stored."""
        if type(data) is not bytes:
            raise Unsure("not a stored value")
        try:
            return loads(data, self.resolve)
        except Unsure:
            raise
        except Exception as exc:  # noqa: BLE001 - damaged or foreign: never a traceback
            raise Unsure(f"a stored value that cannot be read: {exc}") from exc

    def meta(self, name: str) -> Any:
        """The stored value ``name`` of the build's own (see builder.delta_build), read once."""
        if name not in self._meta:
            row = self.one("SELECT value FROM meta WHERE name = ?", (name,))
            if row is None:
                raise Unsure(f"no {name} stored")
            self._meta[name] = self.load(row[0])
        return self._meta[name]

    def record(self, key: str) -> ArticleRecord:
        found = self._records.get(key)
        if found is None:
            row = self.one("SELECT record FROM records WHERE key = ?", (key,))
            if row is not None:
                found = self.load(row[0])
            else:
                value = self.cache(key)
                found = value[0] if value is not None else None
            if type(found) is not ArticleRecord or found.key != key:
                raise Unsure(f"record {key} is gone")
            self._records[key] = found
        return found

    def cards(self) -> list[Article]:
        """The cards loaded so far."""
        return list(self._cards.values())

    def card(self, source: str) -> Article | None:
        found = self._cards.get(source)
        if found is None:
            row = self.one("SELECT card FROM cards WHERE source = ?", (source,))
            if row is None:
                return None
            found = self._cards[source] = self.load(row[0])
            if type(found) is not Article:
                raise Unsure("not a card")
        return found

    def part(self, kind: str, key: str, ident: str) -> Mention | Highlight:
        parts = self._parts.get((kind, key))
        if parts is None:
            record = self.record(key)
            parts = self._parts[kind, key] = {
                item.id: item for item in (record.mentions if kind == "m" else
                                           record.highlights)}
        found = parts.get(ident)
        if found is None:
            raise Unsure(f"no {ident} in record {key}")
        return found

    def resolve(self, *pid: Any) -> Any:
        """What a reference of :class:`_Pickler` stands for."""
        if not pid or type(pid[0]) is not str:
            raise Unsure("a foreign reference")
        kind = pid[0]
        if kind == "r" and len(pid) == 2:
            return self.record(pid[1])
        if kind == "a" and len(pid) == 2:
            card = self.card(pid[1])
            if card is None:
                raise Unsure(f"no card of {pid[1]}")
            return card
        if kind == "b" and len(pid) == 2:
            card = self.card(pid[1])
            if card is None:
                raise Unsure(f"no card of {pid[1]}")
            return card.body_html
        if kind in ("m", "h") and len(pid) == 3:
            return self.part(kind, pid[1], pid[2])
        if kind == "c" and len(pid) == 1:
            return self.config
        raise Unsure("a foreign reference")
