"""Find the article files and read them, reusing every parse that still holds.

Two layers of reuse: in memory across rebuilds of one :class:`Reader` (the
preview server), where an unchanged ``stat`` skips even reading the file; and
the on-disk :class:`ArticleCache`, keyed by content hash, across processes.
"""

from __future__ import annotations

import os
import stat as stat_module
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from builder.cache import ArticleCache
from builder.config import SiteConfig
from builder.entities import ENTITY_DIR
from builder.lexicon import Lexicon
from builder.model import ArticleRecord
from builder.parallel import pool_map, release_free_memory
from builder.problems import Problem
from builder.reader import ReadSettings, read_article
from builder.terms import KINDS as TERM_KINDS

IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".bak", ".part", ".crdownload")
Result = tuple[ArticleRecord | None, list[Problem]]


def is_ignored(name: str) -> bool:
    """Editor swap, backup and temporary files, and hidden files."""
    return name.startswith((".", "#", "~")) or name.endswith(IGNORED_SUFFIXES)


#: what an article file's name ends with (Jekyll and others write ``.markdown``)
MARKDOWN_SUFFIXES = (".md", ".markdown")
#: a folder whose name starts with ``_`` that is read all the same: Jekyll's posts
POSTS_DIR = "_posts"
#: folders walked only to count the Markdown files skipped in them, never read: Git's own
_UNCOUNTED = frozenset({".git"})


@dataclass
class Discovery:
    """What :func:`explore` found under ``content/``; every path site-relative
    ("content/a/b.md", forward slashes), each list sorted as the walk met it.

    ``skipped``: (reason, folder) → the Markdown files left out for that reason;
    folder is "" for files skipped by their own name, else the skipped folder
    ("content/_drafts/") they are under.
    """

    articles: list[tuple[str, Path]] = field(default_factory=list)
    files: list[tuple[str, Path]] = field(default_factory=list)  # every other file
    skipped: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def skip(self, reason: str, folder: str, path: str) -> None:
        self.skipped.setdefault((reason, folder), []).append(path)


def skip_reason(name: str) -> str | None:
    """Why a file or folder of this name is not read as content, or None."""
    if name.startswith("."):
        return "hidden names (starting with `.`)"
    if name.startswith("_") and name != POSTS_DIR:
        return "names starting with `_`"
    if is_ignored(name):
        return "editor backup and temporary files"
    return None


def explore(content: Path, exclude: Path | None = None) -> Discovery:
    """Every article file (``.md``, ``.markdown``) under ``content/``, every other file
    (asset candidates: see :mod:`builder.assets`), and the Markdown files skipped, by
    reason: names starting with ``.`` or ``_`` (``_posts/`` is read), editor files.

    ``exclude``: a folder never read, nor counted (the snapshots in ``sources/``, when
    ``content_dir`` is the site folder itself).

    Runs on every rebuild: plain strings while walking, one Path per file.
    """
    found = Discovery()
    left_alone = str(exclude) if exclude is not None else None
    if not content.is_dir():
        return found
    top = str(content)
    prefix = len(str(content.parent)) + 1
    for folder, dirs, names in os.walk(top):
        dirs.sort()
        kept = []
        for name in dirs:
            if folder == top and name in (ENTITY_DIR, *TERM_KINDS):  # (builder.entities, .terms)
                continue
            if left_alone is not None and os.path.join(folder, name) == left_alone:
                continue
            reason = skip_reason(name)
            if reason is None:
                kept.append(name)
            elif name not in _UNCOUNTED:
                path = os.path.join(folder, name)
                rel = path[prefix:].replace(os.sep, "/") + "/"
                for inner in _markdown_under(path):
                    found.skip(reason, rel, inner[prefix:].replace(os.sep, "/"))
        dirs[:] = kept
        for name in sorted(names):
            path = os.path.join(folder, name)
            rel = path[prefix:].replace(os.sep, "/")
            reason = skip_reason(name)
            if not name.endswith(MARKDOWN_SUFFIXES):
                if reason is None:
                    found.files.append((rel, Path(path)))
            elif reason is None:
                found.articles.append((rel, Path(path)))
            else:
                found.skip(reason, "", rel)
    return found


def _markdown_under(folder: str) -> list[str]:
    """Every Markdown file under ``folder`` (absolute paths), Git's folder left out."""
    found = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _UNCOUNTED)
        found += [os.path.join(parent, n) for n in sorted(names) if n.endswith(MARKDOWN_SUFFIXES)]
    return found


def discover(content: Path) -> list[tuple[str, Path]]:
    """Every article file under ``content/``, as (site-relative path, file), sorted
    (:func:`explore`'s ``articles``)."""
    return explore(content).articles


def skipped_lines(found: Discovery) -> list[str]:
    """The build summary's lines on skipped Markdown files, one per reason and folder:
    "96 files under `content/_drafts/` skipped: names starting with `_`"."""
    lines = []
    for (reason, folder), paths in sorted(found.skipped.items(), key=lambda item: item[0][::-1]):
        count = f"{len(paths)} file{'s' * (len(paths) != 1)}"
        if folder:
            lines.append(f"{count} under `{folder}` skipped: {reason}")
        else:
            names = ", ".join(f"`{p}`" for p in paths[:3]) + (", …" if len(paths) > 3 else "")
            lines.append(f"{count} skipped: {reason} ({names})")
    return lines


_SPECIAL_KINDS = ((stat_module.S_ISFIFO, "a FIFO"), (stat_module.S_ISSOCK, "a socket"),
                  (stat_module.S_ISCHR, "a character device"),
                  (stat_module.S_ISBLK, "a block device"), (stat_module.S_ISDIR, "a folder"))
_OPEN = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO opens at once, unread


class NotAFile(OSError):
    """A source path that is not a regular file (a FIFO, socket, device, folder); never
    read, as reading a FIFO blocks until something writes to it. ``kind`` names it."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"not a regular file but {kind}")
        self.kind = kind


def special_kind(mode: int) -> str | None:
    """None for a regular file's ``st_mode``; else what it is, "a FIFO", "a socket", …"""
    if stat_module.S_ISREG(mode):
        return None
    return next((kind for test, kind in _SPECIAL_KINDS if test(mode)), "not a regular file")


def skipped(path: str, kind: str) -> Problem:
    """The warning for a source that is :class:`NotAFile`: ``path:1: warning: …``."""
    why = kind if kind == OUTSIDE else f"{kind}, not a regular file"
    return Problem(path, 1, f"skipped: {why}", warning=True)


OUTSIDE = "a symbolic link to a file outside the site folder"


def leaves(path: Path | str, within: Path | str) -> bool:
    """True if ``path`` is a symbolic link whose target lies outside the folder ``within``
    (both resolved). Content is untrusted: a committed link to ``~/.ssh/id_rsa`` must
    not be published (Jekyll's safe mode refuses such links too)."""
    if not os.path.islink(path):
        return False
    top = os.path.realpath(within)
    return os.path.commonpath([os.path.realpath(path), top]) != top


def read_source(path: Path | str, within: Path | str | None = None
                ) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file at ``path`` (a link is followed) and its fstat.

    Raises :class:`NotAFile` for anything else, without reading it or waiting (the file
    is opened non-blocking and checked with fstat, so a file swapped for a FIFO after a
    stat cannot hang the build either), and for a link that leads out of the folder
    ``within`` when given; :class:`OSError` if it cannot be read.
    """
    found = os.lstat(path)
    if stat_module.S_ISLNK(found.st_mode):
        if within is not None and leaves(path, within):
            raise NotAFile(OUTSIDE)
        found = os.stat(path)
    kind = special_kind(found.st_mode)  # a socket cannot even be opened
    if kind is not None:
        raise NotAFile(kind)
    fd = os.open(path, _OPEN)
    try:
        info = os.fstat(fd)
        kind = special_kind(info.st_mode)
        if kind is not None:
            raise NotAFile(kind)
        return _read_all(fd, info.st_size), info
    finally:
        os.close(fd)


def _read_all(fd: int, size: int) -> bytes:
    """Everything left to read from ``fd``, ``size`` bytes as a rule: read with os.read,
    in one call and one more that finds the end (a buffered file object costs twice the
    CPU, for every source of every build)."""
    data = os.read(fd, size + 1)
    if not data:
        return data
    parts = [data]
    while chunk := os.read(fd, 1 << 16):  # it grew, or a short read
        parts.append(chunk)
    return data if len(parts) == 1 else b"".join(parts)


def read_settings(config: SiteConfig, lexicon: Lexicon | None = None) -> ReadSettings:
    return ReadSettings(timezone=config.timezone, base_path=config.base_path,
                        html=config.markdown_html, summary_words=config.summary_words,
                        lexicon=lexicon, slugs=config.slugs)


# Set before reading: forked workers inherit it, so the lexicon is not pickled per file.
_SETTINGS: ReadSettings | None = None


def _read_one(job: tuple[str, bytes, str]) -> Result:
    assert _SETTINGS is not None
    return read_article(job[0], job[1], _SETTINGS, job[2])


def share_strings(record: ArticleRecord | None) -> None:
    """Make the record's often repeated strings one object each (interned): front matter
    keys, tags, authors, categories, mentions' entity slugs, ids and words. Values are
    unchanged.

    A record arrives from a reading worker or the cache as new objects: 10,000 articles
    held each front matter key ("title", "date" …) 10,000 times, and a mention's quoted
    words twice. About 13 MiB less at 10,000 articles with 2,000 entities; fewer objects
    also means fewer pages that a forked render worker copies (builder.parallel).
    """
    if record is None:
        return
    intern = sys.intern
    lines = record.lines
    if lines:
        pairs = [(intern(name), line) for name, line in lines.items()]
        lines.clear()
        lines.update(pairs)
    for names in (record.tags, record.authors, record.categories, record.hashtags):
        names[:] = [intern(name) for name in names]
    for mention in record.mentions:
        mention.entity, mention.id = intern(mention.entity), intern(mention.id)
        same = mention.quote.exact == mention.text
        mention.text = intern(mention.text)  # the entity's name, mostly, as written
        if same:
            mention.quote.exact = mention.text


@dataclass
class _Known:
    stat: tuple[int, int]  # (mtime_ns, size)
    key: str
    result: Result


def _belongs(result: Result, rel: str, key: str) -> bool:
    record = result[0]
    return record is None or (record.key == key and record.source == rel)


class Reader:
    """Reads sources; remembers results so the next read parses only what changed."""

    def __init__(self, settings: ReadSettings, cache: ArticleCache | None = None):
        self.settings = settings
        self.cache = cache
        self.known: dict[str, _Known] = {}
        self.parsed: list[str] = []  # files parsed by the last read, for tests and stats

    def read(self, sources: list[tuple[str, Path]], jobs: int | None = None,
             progress: Callable[[str, int, int], None] | None = None,
             within: Path | None = None, merge: bool = False
             ) -> tuple[list[ArticleRecord], list[Problem]]:
        """A record (or the problems) per source (site-relative path, file), parsed or
        from the cache; a link leading out of the folder ``within`` is skipped.

        ``sources`` is every source of the site, and what the reader remembers is
        replaced; with ``merge``, only some of them (saved files), added to it."""
        results: list[Result | None] = []
        todo: list[tuple[int, str, tuple[int, int], str, bytes]] = []  # to parse
        lookups: list[tuple[int, str, tuple[int, int], str, bytes]] = []  # in the cache?
        known: dict[str, _Known] = {}
        for rel, path in sources:
            try:
                info = path.stat()
                stat = (info.st_mtime_ns, info.st_size)
                previous = self.known.get(rel)
                if previous is not None and previous.stat == stat and \
                        stat_module.S_ISREG(info.st_mode):
                    known[rel] = previous
                    results.append(previous.result)
                    if self.cache:  # still in use: pruning must keep it
                        self.cache.touch(previous.key)
                    continue
                raw, info = read_source(path, within)
                stat = (info.st_mtime_ns, info.st_size)
            except NotAFile as exc:
                results.append((None, [skipped(rel, exc.kind)]))
                continue
            except OSError as exc:
                results.append((None, [Problem(rel, 1, f"cannot read: {exc.strerror}")]))
                continue
            key = ArticleCache.key_for(self.settings, rel, raw) if self.cache is None \
                else self.cache.key(rel, raw)
            previous = self.known.get(rel)
            if previous is not None and previous.key == key:  # touched, same bytes
                if self.cache:
                    self.cache.touch(key)
                known[rel] = _Known(stat, key, previous.result)
                results.append(previous.result)
                continue
            lookups.append((len(results), rel, stat, key, raw))
            results.append(None)
        # From the cache in batches: one query per file costs more than decoding it.
        found = self.cache.get_many([job[3] for job in lookups]) if self.cache else {}
        for index, rel, stat, key, raw in lookups:
            cached = found.get(key)
            if cached is not None and _belongs(cached, rel, key):
                share_strings(cached[0])
                known[rel] = _Known(stat, key, cached)
                results[index] = cached
            else:  # absent, or a foreign entry (copied or crafted): a miss
                todo.append((index, rel, stat, key, raw))
        self.parsed = [rel for _, rel, _, _, _ in todo]
        work = [(rel, raw, key) for _, rel, _, key, raw in todo]
        global _SETTINGS
        _SETTINGS = self.settings
        parsed = list(pool_map(_read_one, work, jobs))
        for done, ((index, rel, stat, key, _), result) in enumerate(zip(todo, parsed,
                                                                        strict=True), start=1):
            if self.cache:
                self.cache.put(key, result)
            share_strings(result[0])
            results[index] = result
            known[rel] = _Known(stat, key, result)
            if progress and done % 500 == 0:
                progress("reading", done, len(work))
        if merge:
            self.known.update(known)
        else:
            self.known = known
        if work and not merge:  # (a few saved files leave no heap worth trimming, and a
            # save in the preview server must not wait the 15 ms a trim takes)
            del lookups, todo, work, parsed  # every file's bytes, no longer needed
            release_free_memory()
        articles: list[ArticleRecord] = []
        problems: list[Problem] = []
        for article, found in results:  # type: ignore[misc]
            problems += found
            if article is not None:
                articles.append(article)
        return articles, problems
