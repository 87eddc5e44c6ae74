"""Taxonomies: tags, authors and categories, each term a page of its own.

A term is every spelling of one name that differs from another only in case,
spaces, hyphens, underscores or diacritics (:func:`builder.slugs.merge_key`):
``Zürich``, ``zurich`` and ``ZURICH`` are one tag, shown under its most used
spelling (on a tie, the first in alphabetical order). Names that differ
otherwise but make the same slug (``C``, ``C++``, ``C#`` → ``c``) would share one
URL: an error naming both spellings and where each is, fixed with a term file.

A **term file** (``content/tags/<slug>.md``, ``content/authors/<slug>.md``,
``content/categories/<slug>.md``) describes one term::

    ---
    title: C++            # the name shown; the file's term takes every spelling of it
    slug: cpp             # optional; else the file name's
    description: The language.
    aliases: [cplusplus, "c plus plus"]   # other spellings filed under this term
    ---
    Text shown on the term's page (Markdown, rendered as an entity's notes are).

Files rather than a ``taxonomies:`` map in ``site.yml``: a term's page text is
Markdown of any length, as an entity's notes are, and the folder mirrors the URL.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from builder import frontmatter
from builder.frontmatter import Fields
from builder.lexicon import Lexicon
from builder.markdown import render
from builder.model import Article, Term
from builder.problems import Problem
from builder.slugs import MAX_SLUG, explicit, merge_key, slugify, too_long

KINDS = ("tags", "authors", "categories")  # each also the folder of its term files
_KNOWN = ("title", "slug", "description", "aliases")
SINGULAR = {"tags": "tag", "authors": "author", "categories": "category"}
# Front matter keys an article names each kind's terms under, for messages' lines.
_KEYS = {"tags": ("tags",), "authors": ("authors", "author"),
         "categories": ("categories", "category")}


@dataclass(frozen=True)
class TermFile:
    """One term file, read, its text rendered (with link placeholders still in)."""

    kind: str
    source: str  # site-relative path
    slug: str
    title: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()
    body_html: str = ""  # with link placeholders, as an article's (builder.index)
    links: list[tuple[int, str]] = field(default_factory=list)  # (line, target .md path)
    wikilinks: list[tuple[int, str]] = field(default_factory=list)
    assets: list[tuple[int, str, str]] = field(default_factory=list)  # none: links only
    hashtags: list[str] = field(default_factory=list)  # inline #tags, linked to tag pages
    hashtag_lines: dict[int, int] = field(default_factory=dict)  # number → its line
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)


def read_term_files(content: Path, lexicon: Lexicon | None = None, base_path: str = "/",
                    html: bool | str = True, within: Path | None = None
                    ) -> tuple[list[TermFile], list[Problem]]:
    """Every term file under ``content/<kind>/`` (sorted by path), and their problems.

    Read on every build (there are few), so an edit to one is always seen."""
    from builder.sources import NotAFile, is_ignored, read_source, skipped

    found: list[TermFile] = []
    problems: list[Problem] = []
    site_dir = content.parent
    for kind in KINDS:
        folder = content / kind
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix != ".md" or path.is_dir() or is_ignored(path.name):
                continue
            rel = path.relative_to(site_dir).as_posix()
            try:
                raw, _ = read_source(path, within)
            except NotAFile as exc:
                problems.append(skipped(rel, exc.kind))
                continue
            except OSError as exc:
                problems.append(Problem(rel, 1, f"cannot read: {exc.strerror}"))
                continue
            term, messages = read_term_file(kind, rel, raw, lexicon, base_path, html)
            problems += messages
            if term is not None:
                found.append(term)
    return found, problems


def read_term_file(kind: str, path: str, raw: bytes, lexicon: Lexicon | None = None,
                   base_path: str = "/", html: bool | str = True
                   ) -> tuple[TermFile | None, list[Problem]]:
    """Parse one term file of ``kind`` (``path`` is site-relative); None on an error."""
    doc, problems = frontmatter.load(path, raw)
    if doc is None:
        return None, problems
    fields = Fields(path, doc)
    problems = fields.problems
    for key in doc.meta:
        if key not in _KNOWN:
            fields.problem(key, f'unknown key "{key}" in a term file (use '
                           + ", ".join(_KNOWN) + ")", warning=True)
    stem = os.path.splitext(os.path.basename(path))[0]
    chosen = fields.text("slug")
    slug = explicit(chosen) if chosen else slugify(stem)
    if chosen and too_long(slug):
        fields.problem("slug", f"slug is {len(slug)} characters long; at most {MAX_SLUG}")
    elif not slug:
        fields.problem("slug" if chosen else "title",
                       f'cannot make a slug from "{chosen or stem}": give a slug with letters '
                       "or digits")
    body_html, links, wikilinks, hashtags = "", [], [], []
    hashtag_lines: dict[int, int] = {}
    if doc.body.strip():
        rendered = render(doc.body, source_dir=os.path.dirname(path), base_path=base_path,
                          first_line=doc.body_line, html=html, lexicon=lexicon)
        body_html, links, wikilinks = rendered.html, rendered.links, rendered.wikilinks
        hashtags, hashtag_lines = rendered.hashtags, rendered.hashtag_lines
        problems += [Problem(path, line, message) for line, message in rendered.problems]
        problems += [Problem(path, line, message, warning=True)
                     for line, message in rendered.warnings]
    if any(not p.warning for p in problems):
        return None, problems
    return TermFile(kind=kind, source=path, slug=slug, title=fields.text("title"),
                    description=fields.text("description"),
                    aliases=tuple(fields.names("aliases", split_commas=False)),
                    body_html=body_html, links=links, wikilinks=wikilinks,
                    hashtags=hashtags, hashtag_lines=hashtag_lines,
                    lines=dict(doc.key_lines)), problems


@dataclass
class _Group:
    """The articles filed under one term while indexing."""

    key: str  # the merge key of its first spelling
    where: tuple[str, int, str]  # (source, line, spelling) of its first use
    articles: list[Article] = field(default_factory=list)
    spellings: Counter = field(default_factory=Counter)
    file: TermFile | None = None


def claimed_slugs(kind: str, files: list[TermFile]) -> dict[str, str]:
    """Each spelling the term files of ``kind`` claim (title and aliases), by
    :func:`merge_key`, → that file's slug: the slug of a name, where it is not
    ``slugify(name)``, for links made before the terms are indexed (inline ``#tags``).
    The first file wins a spelling, as in :func:`index_terms`."""
    slugs: dict[str, str] = {}
    for term_file in files:
        if term_file.kind == kind:
            for name in (term_file.title, *term_file.aliases):
                if name:
                    slugs.setdefault(merge_key(name), term_file.slug)
    return slugs


def index_terms(kind: str, articles: list[Article], names: Callable[[Article], list[str]],
                files: list[TermFile],
                bodies: dict[str, str], problems: list[Problem]
                ) -> tuple[tuple[Term, ...], dict[str, tuple[str, str]]]:
    """The terms of ``kind`` (A–Z by shown name), and each name as written → (slug,
    shown name).

    ``names(article)`` gives an article's names of this kind, as written; ``files`` the
    term files of the site (those of other kinds are ignored); ``bodies`` a term file's
    source → its text with links resolved. Problems: a name that makes no slug, two
    terms that make one slug, two term files claiming a spelling or slug, and a term
    file no article is filed under (a warning)."""
    own = [f for f in files if f.kind == kind]
    claimed: dict[str, TermFile] = {}  # merge key → the file that claims that spelling
    by_slug: dict[str, TermFile] = {}
    for term_file in own:
        other = by_slug.setdefault(term_file.slug, term_file)
        if other is not term_file:
            problems.append(Problem(term_file.source, term_file.line("slug"),
                                    f'duplicate slug "{term_file.slug}": {other.source} '
                                    "has it too"))
            continue
        for name, key in ((term_file.title, "title"),
                          *((alias, "aliases") for alias in term_file.aliases)):
            if not name:
                continue
            other = claimed.setdefault(merge_key(name), term_file)
            if other is not term_file:
                problems.append(Problem(term_file.source, term_file.line(key),
                                        f'"{name}" is a spelling of {other.source} too'))
    groups: dict[str, _Group] = {}  # merge key, or "\0" + a term file's slug → group
    for article in articles:
        seen: set[int] = set()
        for name in names(article):
            key = merge_key(name)
            term_file = claimed.get(key)
            group_key = key if term_file is None else "\0" + term_file.slug
            group = groups.get(group_key)
            if group is None:
                if not slugify(name) and term_file is None:
                    singular = SINGULAR[kind]
                    problems.append(Problem(article.source, _line(article, kind),
                                            f'"{name}" cannot be made into a {singular} '
                                            f"slug: give it one in content/{kind}/NAME.md "
                                            f'with title: "{name}"'))
                    continue
                group = groups[group_key] = _Group(key, (article.source,
                                                         _line(article, kind), name),
                                                   file=term_file)
            if id(group) in seen:
                continue
            seen.add(id(group))
            group.articles.append(article)
            group.spellings[name] += 1
    terms: list[Term] = []
    table: dict[str, tuple[str, str]] = {}
    owners: dict[str, _Group] = {}  # slug → the group that has it
    for group in groups.values():
        shown = min(group.spellings.items(), key=lambda item: (-item[1], item[0]))[0]
        term_file = group.file
        if term_file is not None:
            slug, shown = term_file.slug, term_file.title or shown
        else:
            slug = slugify(shown)
            term_file = by_slug.get(slug)  # a file without a title describes its slug's term
            if term_file is not None and term_file.title:  # a name the file does not claim
                problems.append(_clash(kind, slug, group.where, (
                    term_file.source, term_file.line("title"), term_file.title)))
                continue
        other = owners.setdefault(slug, group)
        if other is not group:
            problems.append(_clash(kind, slug, group.where, other.where))
            continue
        for name in group.spellings:
            table[name] = (slug, shown)
        terms.append(Term(kind=kind, slug=slug, name=shown, count=len(group.articles),
                          articles=tuple(group.articles),
                          description=term_file.description if term_file else "",
                          body_html=bodies.get(term_file.source, "") if term_file else "",
                          source=term_file.source if term_file else ""))
    used = {term.source for term in terms}
    for term_file in own:
        if term_file.source not in used and by_slug.get(term_file.slug) is term_file:
            problems.append(Problem(term_file.source, 1, f"no article has this "
                                    f"{SINGULAR[kind]}, so it gets no page", warning=True))
    terms.sort(key=lambda t: (t.name.casefold(), t.slug))
    return tuple(terms), table


def _line(article: Article, kind: str) -> int:
    return next((article.lines[key] for key in _KEYS[kind] if key in article.lines), 1)


def _clash(kind: str, slug: str, here: tuple[str, int, str],
           there: tuple[str, int, str]) -> Problem:
    """Two spellings that would share the URL of one term."""
    singular = SINGULAR[kind]
    return Problem(here[0], here[1],
                   f'{singular} "{here[2]}" and {singular} "{there[2]}" ({there[0]}:{there[1]}) '
                   f'both make the slug "{slug}": give one a slug in a term file, such as '
                   f'content/{kind}/NAME.md with title: "{here[2]}" and slug: NAME')


def exceptions(names: dict[str, dict[str, tuple[str, str]]]) -> dict[str, dict[str, str]]:
    """Of every kind's table (name → (slug, shown)), the names whose slug is not the one
    :func:`slugify` makes of them (a term file's, or another spelling's): what links to
    terms depend on beyond the name (:meth:`builder.render.Renderer` filters)."""
    return {kind: {name: slug for name, (slug, _) in table.items() if slug != slugify(name)}
            for kind, table in names.items()}
