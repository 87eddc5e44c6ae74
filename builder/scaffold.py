"""``postil init`` and ``postil new``: start a site, start an article."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import unicodedata
from datetime import date
from pathlib import Path

from builder import slugs
from builder.config import CONFIG_NAME, load_config
from builder.problems import BuildFailed
from builder.slugs import readable_slug

EXIT_OK, EXIT_USAGE = 0, 2


class ScaffoldError(Exception):
    """A site or article that cannot be made; ``str()`` is a one-line reason."""


# Characters in the slug of a file ``postil new`` makes, cut at a word: a file name a
# person types again, far below the 255 bytes a file name may have.
NEW_SLUG_MAX = 80


SITE_YML = """\
# Postil site configuration: every key is described in Postil's README.
title: My reading archive
description: Articles I have read, with my highlights and notes.
base_url: http://localhost:8000/
language: en
timezone: UTC
theme: default
paginate: 10
"""

SAMPLE = """\
---
title: Welcome to your reading archive
date: {today}
author: {author}
tags: [postil]
summary: A first article to show how Postil files look.
---

Each article is a Markdown file in `content/` with YAML front matter on top.
Keep the articles you read here, with a link to the original in `source:`,
and your own notes below.

## What Postil adds to Markdown

==Two equals signs on each side of a passage highlight it== (`==passage==`).
{==A highlight can carry a note==}{>>This is a margin note. Wide screens show it in
the margin, narrow ones behind a button.<<}, written `{==passage==}{>>note<<}`.

Double square brackets around a name make a mention of an entity, a person,
organisation or place with a file of its own in `content/entities/`:
[[Samuel Taylor Coleridge]] (`[[Samuel Taylor Coleridge]]`) links to his page,
which lists every passage of the archive that mentions him. The same brackets
link to another article by its title, or to a heading: [[#What to do next]]
(`[[#What to do next]]`).

## What to do next

Run `postil new "Title of an article"` to add one, and
`postil new --entity "Name" --type person` to add an entity. `postil serve`
shows the site at http://localhost:8000/ and rebuilds it on every save.
"""

ENTITY_SAMPLE = """\
---
name: Samuel Taylor Coleridge
type: person
aliases: [Coleridge]
description: English poet and critic (1772–1834), who wrote in the margins of his books.
---

He is credited with bringing the word *marginalia* into English.
"""

WELCOME_ENTITY = "content/entities/samuel-taylor-coleridge.md"

ARTICLE = """\
---
title: {title}
date: {today}
author:
tags: []
source:
publication:
summary:
# A draft: `postil serve` and `postil build --drafts` show it; draft: false publishes it.
draft: true
# In the text: ==highlight==, {{==passage==}}{{>>margin note<<}}, [[Entity or article]]
---

"""


ENTITY = """\
---
name: {name}
type: {type}
aliases: []
description:
---

"""


_GITIGNORE = """public/
.postil-cache/
# Source snapshots (sources/) are copies of other people's work, kept for your own
# reading: if this repository is public, uncomment the next line.
# sources/
"""


def _check_text(text: str, what: str) -> None:
    """Refuse what the front matter cannot hold: bytes that are not UTF-8 (a terminal in
    another encoding: Python hands them over as lone surrogates) and control characters
    and U+FFFE/U+FFFF (YAML forbids them; a newline or tab is white space)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ScaffoldError(f"the {what} is not valid UTF-8 (is the terminal set to "
                            "another encoding?)") from None
    bad = next((c for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r"
                or c in "\ufffe\uffff"), None)  # (YAML refuses these two as well)
    if bad is not None:
        kind = "control character" if unicodedata.category(bad) == "Cc" else "character"
        raise ScaffoldError(f"the {what} holds the {kind} U+{ord(bad):04X}, which front "
                            "matter cannot hold")


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def init_site(folder: Path) -> list[str]:
    """Make a new site in ``folder``: ``site.yml``, ``content/welcome.md`` and (if missing)
    ``.gitignore``; the names made. Raises :class:`ScaffoldError` rather than overwrite,
    or when the files cannot be written."""
    try:
        return _init_site(folder)
    except OSError as exc:
        raise ScaffoldError(f"cannot write into {folder}: {exc.strerror or exc}") from None


def _init_site(folder: Path) -> list[str]:
    if (folder / CONFIG_NAME).exists():
        raise ScaffoldError(f"{folder / CONFIG_NAME} exists already; not overwriting it")
    for name in ("content/welcome.md", WELCOME_ENTITY):
        if (folder / name).exists():
            raise ScaffoldError(f"{folder / name} exists already; not overwriting it")
    (folder / WELCOME_ENTITY).parent.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_NAME).write_text(SITE_YML, encoding="utf-8")
    made = [CONFIG_NAME, "content/welcome.md", WELCOME_ENTITY]
    if not (folder / ".gitignore").exists():  # the built site and the parse cache are not sources
        (folder / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")
        made.append(".gitignore")
    # (replace, not format: the sample is full of braces)
    (folder / "content/welcome.md").write_text(
        SAMPLE.replace("{today}", date.today().isoformat()).replace("{author}", "Postil"),
        encoding="utf-8")
    (folder / WELCOME_ENTITY).write_text(ENTITY_SAMPLE, encoding="utf-8")
    return made


def new_article(site_dir: Path, title: str) -> Path:
    """Write ``content/<slug>.md`` (in the site's ``content_dir``), a draft titled
    ``title`` and dated today, and return its path.

    The slug is the title's, cut at a word to :data:`NEW_SLUG_MAX` characters. Raises
    :class:`ScaffoldError` if there is no site, the title makes no slug, the file exists
    (never overwritten) or cannot be written.
    """
    _check_text(title, "title")
    content = _need_site(site_dir)
    slug = readable_slug(title, NEW_SLUG_MAX)
    if not slug:
        raise ScaffoldError(f'cannot make a file name from "{title}"')
    path = content / f"{slug}.md"
    _write_new(path, ARTICLE.format(title=_yaml_string(title), today=date.today().isoformat()))
    return path


def new_entity(site_dir: Path, name: str, kind: str = "other") -> Path:
    """Write ``content/entities/<slug>.md`` (under ``content_dir``) for the entity
    ``name`` of type ``kind`` (any spelling :func:`builder.entities.canonical_type` knows;
    the file gets the canonical one) and return its path. The slug is the one the build
    gives the file. Raises :class:`ScaffoldError` on an unknown type, no site, a name
    that makes no slug, holds control characters or is already an entity's name or
    alias, or a file that exists (never overwritten) or cannot be written."""
    from builder.entities import ENTITY_DIR, ENTITY_TYPES, canonical_type

    canonical = canonical_type(kind)
    if canonical not in ENTITY_TYPES:
        raise ScaffoldError(f'unknown entity type "{kind}" (use one of: '
                            f'{", ".join(ENTITY_TYPES)})')
    _check_text(name, "name")
    content = _need_site(site_dir)
    slug = readable_slug(name, NEW_SLUG_MAX)
    if not slug or not name.strip():
        raise ScaffoldError(f'cannot make a file name from "{name}"')
    path = content / ENTITY_DIR / f"{slug}.md"
    if not path.exists():  # (else the message below says it exists)
        _refuse_claimed(content, name.strip())
    _write_new(path, ENTITY.format(name=_yaml_string(name.strip()), type=canonical))
    return path


def _refuse_claimed(content: Path, name: str) -> None:
    """Refuse a name that an entity of the site has as its name or alias (``Coleridge``
    beside ``Samuel Taylor Coleridge``, aliases ``[Coleridge]``): the build would stop
    at the two claims, and ``[[Coleridge]]`` already mentions the existing one."""
    from builder.entities import discover_entities, read_entity
    from builder.lexicon import name_key

    key = name_key(name)
    for rel, file in discover_entities(content):
        try:
            record = read_entity(rel, file.read_bytes())[0]
        except OSError:  # the build reports it
            continue
        if record is not None and key in {name_key(text) for text in
                                          (record.name, *record.aliases,
                                           *record.case_sensitive)}:
            raise ScaffoldError(f'{rel} ("{record.name}") has "{name}" as its name or an '
                                f"alias already: mention it as [[{name}]]")


def _need_site(site_dir: Path) -> Path:
    """Refuse a folder with no site.yml; use the site's slug setting from now on; the
    site's content folder (``content_dir``, which the build reads)."""
    if not os.path.isfile(site_dir / CONFIG_NAME):  # (False, not an error, for a long name)
        raise ScaffoldError(f"no {CONFIG_NAME} in {site_dir}: run 'postil init DIR' first")
    mode, content_dir = _settings(site_dir)
    slugs.use(mode)
    return site_dir / content_dir


def _write_new(path: Path, text: str) -> None:
    """Write a new file (and its folders); never over an existing one."""
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True)
        with path.open("x", encoding="utf-8") as handle:  # "x": never over an existing file
            handle.write(text)
    except FileExistsError:
        if not path.exists():  # a parent is something other than a folder
            raise ScaffoldError(f"cannot write {path}: {path.parent} is not a folder") from None
        raise ScaffoldError(f"{path} exists already; not overwriting it") from None
    except OSError as exc:
        raise ScaffoldError(f"cannot write {path}: {exc.strerror or exc}") from None


def _settings(site_dir: Path) -> tuple[str, str]:
    """The site's ``slugs:`` setting, so the file is named as the build names its page,
    and its ``content_dir``; the defaults if site.yml has an error (the build will report
    it)."""
    try:
        config, problems = load_config(site_dir, keep_going=True)
    except BuildFailed:
        return "ascii", "content"
    if any(not p.warning for p in problems):
        return "ascii", "content"
    return config.slugs, config.content_dir


def run_init(args: argparse.Namespace) -> int:
    """``postil init DIR``: make the site, say what was made and the next step."""
    try:
        made = init_site(args.dir)
    except ScaffoldError as exc:
        print(f"postil: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"made a new site in {args.dir}: {', '.join(made)}")
    folder = str(args.dir)
    if folder.startswith("-"):  # else cd reads it as an option
        folder = "./" + folder
    print(f"next: cd {shlex.quote(folder)} && postil serve")
    return EXIT_OK


def run_new(args: argparse.Namespace) -> int:
    """``postil new TITLE [SITE_DIR]`` or ``postil new --entity NAME [--type T] [SITE_DIR]``."""
    problem = None
    if args.entity is not None:  # "new --entity NAME DIR": DIR came as the first positional
        if args.title is not None and args.site_dir != Path("."):
            problem = "give a TITLE or --entity NAME, not both"
        elif args.title is not None:
            args.site_dir = Path(args.title)
    elif args.title is None:
        problem = "give the new article's TITLE (or --entity NAME for an entity)"
    elif args.type is not None:
        problem = "--type goes with --entity (postil new --entity NAME --type TYPE)"
    if problem:
        print(f"postil new: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.entity is not None:
            path = new_entity(args.site_dir, args.entity,
                              "other" if args.type is None else args.type)
        else:
            path = new_article(args.site_dir, args.title)
    except ScaffoldError as exc:
        print(f"postil: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {path}")
    if args.entity is not None:
        name = args.entity.strip()
        # [[…]] ends at a "#" (a heading), "|" (a label) or "]", and a name holding one
        # cannot be written there: the slug names the entity as well.
        if any(c in name for c in "#|[]\n\r"):
            name = path.stem
        print(f"mention it in an article as [[{name}]]")
    else:  # else the article seems to vanish from the next build
        print("it is a draft: `postil serve` shows it, `postil build --drafts` builds it; "
              "set draft: false in its front matter to publish it")
    return EXIT_OK
