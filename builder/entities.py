"""Read the entity registry: one Markdown file per entity in ``content/entities/``.

Entities are read before articles: their names and aliases make the
:class:`~builder.lexicon.Lexicon` that article parsing needs.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from builder import frontmatter
from builder.dates import PartialDate
from builder.frontmatter import Fields
from builder.lexicon import Lexicon, RegistryEntry
from builder.markdown import render
from builder.model import Entity
from builder.problems import Problem
from builder.slugs import slugify

ENTITY_DIR = "entities"
ENTITY_TYPES = ("person", "organization", "place", "event", "work", "other")
KNOWN_KEYS = frozenset({"name", "type", "aliases", "case_sensitive", "weak_aliases", "wikidata",
                        "description", "date", "end", "location", "participants"})
_QID = re.compile(r"Q[1-9][0-9]*")


def discover_entities(content: Path) -> list[tuple[str, Path]]:
    from builder.sources import is_ignored

    folder = content / ENTITY_DIR
    if not folder.is_dir():
        return []
    site_dir = content.parent
    return [(path.relative_to(site_dir).as_posix(), path)
            for path in sorted(folder.iterdir())
            if path.suffix == ".md" and path.is_file() and not is_ignored(path.name)]


def read_entity(path: str, raw: bytes) -> tuple[Entity | None, list[Problem]]:
    """Parse an entity file's front matter; its body is rendered later."""
    doc, problems = frontmatter.load(path, raw)
    if doc is None:
        return None, problems
    meta = doc.meta
    fields = Fields(path, doc)
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
    kind = fields.text("type") or "other"
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
    entity = Entity(
        source=path, slug=slug, name=name, type=kind, aliases=aliases,
        case_sensitive=case_sensitive, weak_aliases=weak,
        wikidata=wikidata, description=fields.text("description"), date=date_value("date"),
        end=date_value("end"), location=slugify(fields.text("location")),
        participants=[slugify(p) for p in participants],
        body_markdown=doc.body, body_line=doc.body_line, lines=dict(doc.key_lines),
        key=hashlib.blake2b(raw, digest_size=16).hexdigest(),
        extra={k: v for k, v in meta.items() if k not in KNOWN_KEYS},
    )
    if problems:
        return None, problems
    return entity, []


def registry_entry(entity: Entity) -> RegistryEntry:
    lines = {key: entity.line(key) for key in ("name", "aliases", "case_sensitive")}
    return RegistryEntry(slug=entity.slug, name=entity.name, source=entity.source,
                         aliases=entity.aliases, case_sensitive=entity.case_sensitive,
                         weak_aliases=entity.weak_aliases, line_of=lines)


def render_notes(entity: Entity, lexicon: Lexicon, base_path: str, html: bool
                 ) -> tuple[str, list[tuple[int, str]]]:
    """The entity's notes as HTML, and its wikilinks to articles (line, target)."""
    if not entity.body_markdown.strip():
        return "", []
    rendered = render(entity.body_markdown, source_dir=os.path.dirname(entity.source),
                      base_path=base_path, first_line=entity.body_line, html=html,
                      lexicon=lexicon)
    return rendered.html, rendered.wikilinks
