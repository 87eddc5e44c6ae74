"""Read the entity registry: one Markdown file per entity in ``content/entities/``.

Entities are read before articles: their names and aliases make the
:class:`~builder.lexicon.Lexicon` that article parsing needs.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING

from builder import frontmatter, slugs
from builder.dates import PartialDate
from builder.frontmatter import Fields
from builder.lexicon import Lexicon, RegistryEntry, build_lexicon
from builder.markdown import render
from builder.model import EntityRecord

if TYPE_CHECKING:
    from builder.entity_store import EntityStore
from builder.problems import Problem
from builder.slugs import slugify

ENTITY_DIR = "entities"
ENTITY_TYPES = ("person", "organization", "place", "event", "work", "other")
#: other spellings of a type (compared in lower case), each read as its canonical name
TYPE_SPELLINGS = {"organisation": "organization", "org": "organization",
                  "location": "place", "people": "person"}
KNOWN_KEYS = frozenset({"name", "type", "aliases", "case_sensitive", "weak_aliases", "wikidata",
                        "description", "date", "end", "location", "participants"})
_QID = re.compile(r"Q[1-9][0-9]*")


def canonical_type(text: str) -> str:
    """An entity type as written (``Organisation``, ``org``, ``location``) → its one
    canonical name (``organization``, ``place``); any other text is returned as it is,
    stripped, for the caller to report."""
    kind = text.strip()
    lower = kind.lower()
    if lower in ENTITY_TYPES:
        return lower
    return TYPE_SPELLINGS.get(lower, kind)


def discover_entities(content: Path) -> list[tuple[str, Path]]:
    """Every entity file, as (site-relative path, file), sorted; anything named ``*.md``
    but a folder, so that a FIFO or socket there is reported (and never read)."""
    from builder.sources import is_ignored

    folder = content / ENTITY_DIR
    if not folder.is_dir():
        return []
    prefix = f"{content.name}/{ENTITY_DIR}/"
    # os.scandir: the folder's listing tells what is a folder, without a stat per file
    # (is_dir follows a link, as Path.is_dir does).
    with os.scandir(folder) as listing:
        names = sorted(entry.name for entry in listing if entry.name.endswith(".md")
                       and not is_ignored(entry.name) and not entry.is_dir())
    return [(prefix + name, folder / name) for name in names]


def entity_key(path: str, raw: bytes) -> str:
    """What identifies an entity file's parse: its path and bytes, and the slug mode when
    not the default (32 hex characters)."""
    mode = b"" if slugs.mode() == "ascii" else slugs.mode().encode() + b"\0"
    return hashlib.blake2b(path.encode() + b"\0" + mode + raw, digest_size=16).hexdigest()


def _span(value: PartialDate) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The first and last (year, month, day) a partial date can mean (a decade: ten
    years; a day 31 stands for the month's last, enough to compare)."""
    last_year = value.year + 9 if value.decade else value.year
    return ((value.year, value.month or 1, value.day or 1),
            (last_year, value.month or 12, value.day or 31))


def read_entity(path: str, raw: bytes) -> tuple[EntityRecord | None, list[Problem]]:
    """Parse an entity file's front matter; its body is rendered later."""
    doc, problems = frontmatter.load(path, raw)
    if doc is None:
        return None, problems
    fields = Fields(path, doc)
    meta = doc.meta
    problems = fields.problems

    def date_value(key: str) -> PartialDate | None:
        if meta.get(key) is None:
            return None
        try:
            return PartialDate.parse(meta[key])
        except ValueError as exc:
            fields.problem(key, f"invalid {key}: {exc}")
            return None

    name = fields.text("name")
    if not name:
        problems.append(Problem(path, doc.line("name"), "missing name in entity front matter"))
    kind = canonical_type(fields.text("type")) or "other"
    if kind not in ENTITY_TYPES:
        fields.problem("type", f'unknown type "{kind}" (use one of: {", ".join(ENTITY_TYPES)})')
    # A name may hold a comma ("Institute of Business Administration, Karachi"): no splitting.
    aliases, case_sensitive, weak, participants = (
        fields.names(key, split_commas=False)
        for key in ("aliases", "case_sensitive", "weak_aliases", "participants"))
    wikidata = fields.text("wikidata")
    if wikidata and not _QID.fullmatch(wikidata):
        fields.problem("wikidata", f'wikidata must be a Wikidata id like Q843, not "{wikidata}"')
    stem = path.rsplit("/", 1)[-1][:-3]
    slug = slugify(stem)
    if not slug:
        problems.append(Problem(path, 1, f'cannot make a slug from the file name "{stem}"'))
    start, end = date_value("date"), date_value("end")
    if start and end and _span(end)[1] < _span(start)[0]:
        fields.problem("end", f"end {end.label} is before the date {start.label}")
    entity = EntityRecord(
        source=path, slug=slug, name=name, type=kind, aliases=aliases,
        case_sensitive=case_sensitive, weak_aliases=weak,
        wikidata=wikidata, description=fields.text("description"), date=start,
        end=end, location=slugify(fields.text("location")),
        participants=[slugify(p) for p in participants],
        body_markdown=doc.body, body_line=doc.body_line, lines=dict(doc.key_lines),
        key=entity_key(path, raw),
        extra={k: v for k, v in meta.items() if k not in KNOWN_KEYS},
    )
    if any(not p.warning for p in problems):
        return None, problems
    return entity, problems


def registry_entry(entity: EntityRecord) -> RegistryEntry:
    lines = {key: entity.line(key) for key in ("name", "aliases", "case_sensitive")}
    return RegistryEntry(slug=entity.slug, name=entity.name, source=entity.source,
                         aliases=entity.aliases, case_sensitive=entity.case_sensitive,
                         weak_aliases=entity.weak_aliases, line_of=lines)


def render_notes(entity: EntityRecord, lexicon: Lexicon, base_path: str, html: bool | str
                 ) -> tuple[str, list[tuple[int, str]], list[Problem]]:
    """The entity's notes as HTML (link placeholders in), its wikilinks to articles
    (line, target) and the problems found in them."""
    if not entity.body_markdown.strip():
        return "", [], []
    rendered = render(entity.body_markdown, source_dir=os.path.dirname(entity.source),
                      base_path=base_path, first_line=entity.body_line, html=html,
                      lexicon=lexicon, article=False)
    return rendered.html, rendered.wikilinks, [
        *(Problem(entity.source, line, message) for line, message in rendered.problems),
        *(Problem(entity.source, line, message, warning=True)
          for line, message in rendered.warnings)]


class EntityReader:
    """Reads the registry, reusing what is unchanged since the last read of one site.

    A file whose stat (mtime in nanoseconds, size in bytes) is the same is not
    read again, and notes are rendered again only when the file or the registry
    (the lexicon, which decides what the notes link) changed.
    """

    def __init__(self) -> None:
        # path → (stat, record, problems, key)
        self._files: dict[str, tuple[tuple[int, int], EntityRecord | None, list[Problem],
                                     str]] = {}
        self._notes: dict[tuple, tuple[str, list[tuple[int, str]], list[Problem]]] = {}
        self._mode = slugs.mode()  # the slugs of the records in _files

    def read(self, content: Path, base_path: str, autolink: bool, html: bool,
             store: EntityStore | None = None, within: Path | None = None
             ) -> tuple[list[tuple[EntityRecord, str, list[tuple[int, str]]]], Lexicon,
                        list[Problem]]:
        """(record, notes HTML with link placeholders, the notes' wikilinks) per entity
        file, sorted by file; the lexicon of their names; every problem found.

        ``store`` holds parses and notes of earlier processes (and is told what this
        read used and made, for the caller to save once the build succeeds). A link
        leading out of the folder ``within`` is skipped with a warning."""
        from builder.sources import NotAFile, read_source, skipped  # (it imports this module)

        if self._mode != slugs.mode():  # site.yml's slugs: changed; every slug may too
            self._files, self._mode = {}, slugs.mode()
        problems: list[Problem] = []
        records: list[EntityRecord] = []
        by_slug: dict[str, EntityRecord] = {}
        known: dict[str, tuple[tuple[int, int], EntityRecord | None, list[Problem], str]] = {}
        for rel, path in discover_entities(content):
            if not path.exists():  # a dangling link
                continue
            try:
                info = path.stat()
                stat = (info.st_mtime_ns, info.st_size)
                previous = self._files.get(rel)
                if previous is not None and previous[0] == stat and S_ISREG(info.st_mode):
                    record, found, key = previous[1], previous[2], previous[3]
                    if store is not None:
                        store.used.add(f"file:{rel}")
                else:
                    raw, info = read_source(path, within)
                    stat = (info.st_mtime_ns, info.st_size)
                    key = entity_key(rel, raw)
                    stored = store.record(rel, key) if store is not None else None
                    record, found = stored if stored is not None else read_entity(rel, raw)
                    if store is not None and stored is None:
                        store.put_record(rel, key, (record, found))
            except NotAFile as exc:
                problems.append(skipped(rel, exc.kind))
                continue
            except OSError as exc:
                stat, key, record, found = (0, 0), "", None, [
                    Problem(rel, 1, f"cannot read: {exc.strerror}")]
            known[rel] = (stat, record, found, key)
            problems += found
            if record is None:  # a stub, so references to it are not reported as well
                record = EntityRecord(source=rel, slug=rel.rsplit("/", 1)[-1][:-3], name="")
            other = by_slug.setdefault(record.slug, record)
            if other is not record:  # one of them would lose its page
                problems.append(Problem(rel, 1, f'duplicate slug "{record.slug}": '
                                        f"{other.source} has it too"))
                continue
            records.append(record)
        self._files = known
        lexicon, collisions = build_lexicon([registry_entry(r) for r in records if r.name],
                                            autolink, base_path)
        problems += [Problem(path, line, message) for path, line, message in collisions]
        notes: dict[tuple, tuple[str, list[tuple[int, str]], list[Problem]]] = {}
        result = []
        for record in records:
            memo = (record.key, lexicon.fingerprint, base_path, html)
            rendered = self._notes.get(memo)
            if store is not None:
                digest = hashlib.blake2b(repr(memo).encode(), digest_size=16).hexdigest()
                if rendered is not None:
                    store.used.add(f"notes:{digest}")
                else:
                    rendered = store.notes(digest)
                    if rendered is None:
                        rendered = render_notes(record, lexicon, base_path, html)
                        store.put_notes(digest, rendered)
            elif rendered is None:
                rendered = render_notes(record, lexicon, base_path, html)
            notes[memo] = rendered
            problems += rendered[2]
            result.append((record, rendered[0], rendered[1]))
        self._notes = notes
        return result, lexicon, problems
