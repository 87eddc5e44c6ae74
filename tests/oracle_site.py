"""The rebuild oracle: a small generated archive, seeded edits, and three builds that must agree.

A :class:`SiteModel` holds a small archive as data: articles (front matter and a
body of text pieces and links), entities (names, aliases, notes that link to
articles), the ``site.yml`` values, template edits on the site's own copy of
the default theme, and stylesheet rules. Links are references to article or
entity ids, never text, so renaming a file, changing a slug or a title, or
deleting an article rewrites every file that must change, and the site stays
buildable. :func:`render_files` turns the model into the site's files.

:class:`EditGenerator` makes seeded edits of every kind the issue names
(:data:`SIMPLE_EDITS`), and the "macros" of :data:`CASES`, one per case of
issue 8, each an edit sequence that exposed a stale rebuild on the code
before the fix, and of :data:`EXTRAS` (a tag respelled where only its later
pages show the change; pages of the output changed by hand). A run forces
each macro it is given once, at a seeded step (:func:`plan`).

:class:`Oracle` writes the site, then after each step checks that three
builds are byte-identical:

(a) a long-lived :class:`~builder.pipeline.SiteBuilder` with the options of
    ``postil serve`` but no drafts, built again (its ``result.files``);
(b) a fresh ``python3 -m builder build SITE -o OUT -q`` process into the
    output folder of the previous step;
(c) a cold build: ``build(site, BuildOptions(output=fresh, cache=False))``
    into an empty folder.

It also checks that nothing unresolved (``postil-ref:``) reaches the output,
that every internal link of the cold build leads to a file of it, that a
rebuild leaves the mtime of every file whose bytes did not change, that a
page changed by hand in the output is repaired, that a failed build leaves
the output (files, folders, manifest) as it was, and, when asked, the crash
hooks of the writer (``POSTIL_FAULT``: after crashes in the rename phase the
step's edits are undone, and the next build must remove every file the
crashed runs made), the output folder's lock, and that a rebuild kept the
parsed-article cache.

Determinism: every choice of the edits comes from one ``random.Random(seed)``,
the crash points from a second one; no order depends on a set; dates are
fixed (2016–2024); each written source file gets an mtime later than any
before, so the builders' stat checks always see an edit. The builds
themselves run as they would for a user.

Limits: (a) and (c) share this process, so a stale module-level memo of the
builder would show only in (b) against (c). The cache check compares the
in-process code fingerprint with a fresh process's: editing ``builder/`` while
the oracle runs makes it fail (the keys differ), which is no bug.
``tests/test_oracle.py`` runs a short version, ``bench/oracle.py`` a long one.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import fcntl
import html
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # bench/ is not a package that pytest puts on the path
    sys.path.insert(0, str(REPO))

from bench.generate import (  # noqa: E402
    NOUNS,
    Writer,
    make_entities,
    make_pools,
    pick_distinct,
    quoted,
    slugify,
)

#: the output folder's own files, never compared (contract 1 of issue 8)
MANIFEST = ".postil-manifest.json"
LOCK = ".postil-lock"
IGNORED = (MANIFEST, LOCK)
#: the one-line message of a build refused by the output folder's lock
BUSY = "in use by another postil build"
#: exit status of a build killed by ``POSTIL_FAULT=crash-…`` (contract 1)
CRASH_STATUS = 70
FAULTS = ("crash-write", "crash-rename", "enospc")

FIRST_DAY = date(2016, 1, 1)
DAYS = (date(2024, 12, 31) - FIRST_DAY).days
BASE_URLS = ("https://example.org/", "https://example.org/archive/",
             "http://localhost:8000/", "https://oracle.example.net/reading/room/")
PERMALINKS = ("/articles/{slug}/", "/{year}/{slug}/", "/{year}/{month}/{slug}.html")
#: what a step may do to the output folder by hand before the build (see Oracle._tamper)
TAMPERS = ("same-size", "delete", "truncate", "touch")
SUBFOLDER = "notes"


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------


@dataclass
class Link:
    """A link in a body: ``kind`` is how it is written, ``target`` an article or entity id.

    ``title``: ``[[Title]]``; ``slug``: ``[[slug|text]]``; ``file``: ``[text](rel.md)``
    (articles only); ``entity``: ``[[entity-slug|text]]``.
    """

    kind: str
    target: int
    text: str = ""


Block = list  # of str and Link, joined with spaces; a str starting with "#" is a heading


@dataclass
class Article:
    id: int
    path: str  # relative to content/
    title: str
    date: str
    slug: str | None
    tags: list[str]
    authors: list[str]
    entities: list[int]
    summary: str | None
    source: str
    publication: str
    blocks: list[Block]

    @property
    def stem(self) -> str:
        return posixpath.basename(self.path)[:-3]

    @property
    def url_slug(self) -> str:
        """The slug the builder gives it (slugify of ``slug:`` or of the file name)."""
        return slugify(self.slug or self.stem)


@dataclass
class EntityItem:
    id: int
    slug: str  # the file name
    name: str
    type: str
    aliases: list[str]
    weak: list[str]
    description: str
    notes: list[Block]


@dataclass
class SiteModel:
    title: str
    description: str
    author: str
    base_url: str
    paginate: int
    permalink: str
    articles: dict[int, Article]
    entities: dict[int, EntityItem]
    theme: dict[str, bytes]  # themes/default/… → the original bytes
    templates: list[str] = field(default_factory=list)  # template edits in effect
    partial: str = "<p class=\"oracle-partial\">{{ site.tags | length }} tags</p>\n"
    css: list[str] = field(default_factory=list)
    static_note: str | None = None  # static/notes.txt of the site
    latent: list[str] = field(default_factory=list)  # names in the text that no entity claims
    next_id: int = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


#: template edits: name → (theme file, anchor, text inserted before the anchor); an edit
#: whose anchor is missing from the theme is never chosen
TEMPLATE_EDITS: dict[str, tuple[str, str, str]] = {
    # Every page reads site.articles (case 3 of the issue).
    "recent": ("templates/base.html", "</main>",
               "<aside class=\"oracle-recent\"><h2>Recent</h2><ul>{% for item in "
               "site.articles[:3] %}<li><a href=\"{{ url(item.url) }}\">{{ item.title }}</a>"
               "</li>{% endfor %}</ul></aside>\n"),
    "partial": ("templates/base.html", "</main>", "{% include \"_oracle.html\" %}\n"),
    "words": ("templates/article.html", "{% endblock %}\n",
              "<p class=\"oracle-words\">{{ article.word_count }} words, "
              "{{ article.authors | length }} authors</p>\n"),
    "term-count": ("templates/tag.html", "{% endblock %}\n",
                   "<p class=\"oracle-count\">{{ term.count }} × {{ term.name }}</p>\n"),
    "aliases": ("templates/entity.html", "{% endblock %}\n",
                "<p class=\"oracle-aliases\">{{ entity.aliases | join(' / ') }}</p>\n"),
    "footer": ("templates/base.html", "</footer>", "<p>Kept by the oracle.</p>\n"),
}
PARTIAL = "templates/_oracle.html"


def _insert_before_last(text: str, anchor: str, insert: str) -> str | None:
    at = text.rfind(anchor)
    return None if at < 0 else text[:at] + insert + text[at:]


def render_files(model: SiteModel) -> dict[str, bytes]:
    """Every file of the site, relative to the site folder."""
    files: dict[str, bytes] = {"site.yml": _site_yml(model).encode("utf-8")}
    for article in model.articles.values():
        files[f"content/{article.path}"] = _article_text(model, article).encode("utf-8")
    for entity in model.entities.values():
        files[f"content/entities/{entity.slug}.md"] = _entity_text(model, entity).encode("utf-8")
    theme = dict(model.theme)
    for name in model.templates:
        path, anchor, insert = TEMPLATE_EDITS[name]
        edited = _insert_before_last(theme[path].decode("utf-8"), anchor, insert)
        if edited is not None:
            theme[path] = edited.encode("utf-8")
        if name == "partial":
            theme[PARTIAL] = model.partial.encode("utf-8")
    css = "static/css/style.css"
    if model.css and css in theme:
        theme[css] = theme[css] + ("\n" + "\n".join(model.css) + "\n").encode("utf-8")
    files.update({f"themes/default/{name}": data for name, data in theme.items()})
    if model.static_note is not None:
        files["static/notes.txt"] = model.static_note.encode("utf-8")
    return files


def _site_yml(model: SiteModel) -> str:
    lines = [f"title: {quoted(model.title)}", f"description: {quoted(model.description)}",
             f"base_url: {model.base_url}", "language: en", "timezone: UTC",
             "theme: default", f"paginate: {model.paginate}",
             f"permalinks: {{article: {quoted(model.permalink)}}}"]
    if model.author:
        lines.append(f"author: {quoted(model.author)}")
    lines += ["entities:", "  autolink: true", ""]
    return "\n".join(lines)


def _listed(items: list[str]) -> str:
    return "[" + ", ".join(quoted(item) for item in items) + "]"


def _article_text(model: SiteModel, article: Article) -> str:
    lines = ["---", f"title: {quoted(article.title)}", f"date: {article.date}"]
    if article.slug is not None:
        lines.append(f"slug: {quoted(article.slug)}")
    if len(article.authors) == 1:
        lines.append(f"author: {quoted(article.authors[0])}")
    elif article.authors:
        lines.append(f"authors: {_listed(article.authors)}")
    lines.append(f"tags: {_listed(article.tags)}")
    slugs = [model.entities[i].slug for i in article.entities if i in model.entities]
    if slugs:
        lines.append(f"entities: {_listed(slugs)}")
    lines.append(f"source: {article.source}")
    lines.append(f"publication: {quoted(article.publication)}")
    if article.summary:
        lines.append(f"summary: {quoted(article.summary)}")
    lines.append("---")
    body = "\n\n".join(_block_text(model, block, article) for block in article.blocks)
    return "\n".join(lines) + "\n\n" + body + "\n"


def _entity_text(model: SiteModel, entity: EntityItem) -> str:
    acronyms = [a for a in entity.aliases if a.isupper()]
    lines = ["---", f"name: {quoted(entity.name)}", f"type: {entity.type}",
             f"aliases: {_listed(entity.aliases)}", f"case_sensitive: {_listed(acronyms)}",
             f"weak_aliases: {_listed(entity.weak)}",
             f"description: {quoted(entity.description)}", "---"]
    body = "\n\n".join(_block_text(model, block, None) for block in entity.notes)
    return "\n".join(lines) + "\n\n" + body + "\n"


def _plain_slug(slug: str) -> bool:
    return re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug) is not None


def _link_text(model: SiteModel, link: Link, source: Article | None) -> str:
    if link.kind == "entity":
        entity = model.entities[link.target]
        return f"[[{entity.slug}|{link.text}]]" if link.text else f"[[{entity.slug}]]"
    target = model.articles[link.target]
    kind = link.kind
    if kind == "file" and source is None:
        kind = "title"
    if kind == "slug" and not (target.slug is None and _plain_slug(target.stem)
                               or target.slug is not None and _plain_slug(target.slug)):
        kind = "title"
    if kind == "file":
        assert source is not None
        here = posixpath.dirname(source.path)
        return f"[{link.text or target.title}]({posixpath.relpath(target.path, here or '.')})"
    if kind == "slug":
        return f"[[{target.slug or target.stem}|{link.text or target.title}]]"
    return f"[[{target.title}|{link.text}]]" if link.text else f"[[{target.title}]]"


def _block_text(model: SiteModel, block: Block, source: Article | None) -> str:
    return " ".join(piece if isinstance(piece, str) else _link_text(model, piece, source)
                    for piece in block)


def links_in(block: Block) -> list[Link]:
    return [piece for piece in block if isinstance(piece, Link)]


def inbound(model: SiteModel, article_id: int) -> list[tuple[str, Link]]:
    """Who links to an article: (``content/x.md`` or ``entity:slug``, link), in file order."""
    found: list[tuple[str, Link]] = []
    for article in model.articles.values():
        for block in article.blocks:
            found += [(f"content/{article.path}", link) for link in links_in(block)
                      if link.kind != "entity" and link.target == article_id]
    for entity in model.entities.values():
        for block in entity.notes:
            found += [(f"entity:{entity.slug}", link) for link in links_in(block)
                      if link.kind != "entity" and link.target == article_id]
    return found


def _unlink(model: SiteModel, keep: Callable[[Link], bool]) -> None:
    """Replace every link that ``keep`` refuses by its text (or the target's name)."""
    def fix(blocks: list[Block]) -> None:
        for block in blocks:
            for i, piece in enumerate(block):
                if isinstance(piece, Link) and not keep(piece):
                    if piece.text:
                        block[i] = piece.text
                    elif piece.kind == "entity":
                        block[i] = model.entities[piece.target].name
                    else:
                        block[i] = model.articles[piece.target].title

    for article in model.articles.values():
        fix(article.blocks)
    for entity in model.entities.values():
        fix(entity.notes)


# --------------------------------------------------------------------------
# Generating the site and editing it
# --------------------------------------------------------------------------


def _key(text: str) -> str:
    return slugify(text)


@dataclass
class Step:
    """One step of a run: what was edited and what the oracle checks afterwards."""

    edits: list[str] = field(default_factory=list)
    expect_failure: bool = False  # every build must fail and leave the output as it was
    probe: bool = False  # check that the long-lived builder kept the parsed-article cache
    lock: bool = False  # build while another process holds the output folder's lock
    race: bool = False  # two builds into the output folder at once
    tamper: list[tuple[str, int]] = field(default_factory=list)  # (TAMPERS kind, file index)
    case: str = ""

    def describe(self) -> str:
        text = "; ".join(self.edits) if self.edits else "no change"
        return f"[{self.case}] {text}" if self.case else text


#: the cases of issue 8, each as an edit macro (see EditGenerator.case)
CASES = {
    "1": "slug of an article an entity's notes link to",
    "2": "slug of an article another article links to (its feed entries)",
    "3": "base.html reads site.articles, then an article is added",
    "4": "author in site.yml, with articles that name none",
    "5": "same-length site title and a 300-character slug (build fails), then both undone",
    "6": "a rebuild with one edit, then one without changes (the cache must survive both)",
    "7": "[x](q&a.md): a link to a file name with an ampersand",
    "8": "a build while the output folder is in use (lock, and two builds at once)",
}
#: more macros a run may force: edits that matter to one part of the rebuild logic
EXTRAS = {
    "spelling": "a tag respelled in its newest articles (its later pages show the new name)",
    "tamper": "pages of the output folder changed by hand (same size, deleted, cut, touched)",
}
MACROS = {**CASES, **EXTRAS}


class EditGenerator:
    """Makes the initial site and seeded edits of it, from one ``Random``."""

    def __init__(self, rng: Random, articles: int = 25, entities: int = 12,
                 theme_dir: Path = REPO / "themes" / "default"):
        self.rng = rng
        self.pools = make_pools(rng, articles, 0)
        self.writer = Writer(rng, self.pools)
        self.model = self._initial(articles, entities, theme_dir)
        self.pending: list[Callable[[], Step]] = []
        self.tamper: list[tuple[str, int]] = []  # filled by tamper_output, taken by step()

    # --- the initial site -----------------------------------------------------------

    def _initial(self, count: int, entity_count: int, theme_dir: Path) -> SiteModel:
        rng = self.rng
        theme = {path.relative_to(theme_dir).as_posix(): path.read_bytes()
                 for path in sorted(theme_dir.rglob("*")) if path.is_file()}
        made = make_entities(rng, entity_count + 6)
        model = SiteModel(title="The oracle archive", description="A generated reading archive.",
                          author=self.pools.authors[-1], base_url=BASE_URLS[0], paginate=4,
                          permalink=rng.choice(PERMALINKS), articles={}, entities={},
                          theme=theme)
        self.model = model
        for item in made[:entity_count]:
            entity = EntityItem(id=model.new_id(), slug=item.slug, name=item.name,
                                type=item.type, aliases=list(item.aliases), weak=list(item.weak),
                                description=self.writer.sentence([]), notes=[])
            model.entities[entity.id] = entity
        model.latent = [item.name for item in made[entity_count:]]
        for i in range(count):
            self._new_article(author_less=i % 6 == 0)
        for article in model.articles.values():  # links once every article exists
            for block in article.blocks:
                if not _heading(block) and rng.random() < 0.45:
                    self._add_article_link(article, block)
        for entity in model.entities.values():
            entity.notes = [self._text_block(rng.randint(1, 2))]
            for _ in range(rng.choice((1, 1, 2))):
                target = self._pick_article()
                kind = "title" if rng.random() < 0.6 else "slug"
                entity.notes[0].insert(rng.randint(0, len(entity.notes[0])),
                                       Link(kind, target.id))
            if rng.random() < 0.3:
                other = self._pick_entity()
                if other is not None and other.id != entity.id:
                    entity.notes[0].append(Link("entity", other.id, other.name))
        return model

    def _taken(self, skip: Article | None = None) -> set[str]:
        """Keys of every title, slug, file name, entity name and alias (but those of ``skip``):
        a new one avoids them."""
        keys = {_key(name) for name in self.model.latent}
        for article in self.model.articles.values():
            if article is skip:
                continue
            keys.update({_key(article.title), article.url_slug, _key(article.stem)})
        for entity in self.model.entities.values():
            keys.update({entity.slug, _key(entity.name)})
            keys.update(_key(alias) for alias in entity.aliases + entity.weak)
        return keys

    def _title(self) -> str:
        taken = self._taken()
        while True:
            title = self.writer.title()
            if _key(title) not in taken:
                return title

    def _date(self) -> str:
        day = FIRST_DAY + timedelta(days=self.rng.randrange(DAYS))
        if self.rng.random() < 0.15:
            return f"{day.isoformat()} {self.rng.randrange(24):02d}:{self.rng.randrange(60):02d}"
        return day.isoformat()

    def _authors(self) -> list[str]:
        count = self.rng.choices((0, 1, 2), weights=(25, 55, 20))[0]
        return pick_distinct(self.rng, self.pools.authors, self.pools.author_weights, count)

    def _tags(self) -> list[str]:
        return pick_distinct(self.rng, self.pools.tags[:30], self.pools.tag_weights[:30],
                             self.rng.randint(1, 4))

    def _text_block(self, sentences: int) -> Block:
        return [self.writer.sentence([]) for _ in range(sentences)]

    def _mention(self) -> str:
        """A sentence naming an entity (its name or an alias) or a latent name, as plain text."""
        rng = self.rng
        entity = self._pick_entity()
        if entity is None or (self.model.latent and rng.random() < 0.15):
            name = rng.choice(self.model.latent)
        else:
            name = rng.choice(entity.aliases) if entity.aliases and rng.random() < 0.35 \
                else entity.name
        return rng.choice(("Compare {}.", "This concerns {}.", "A reply from {} followed.",
                           "Much later, {} said nothing.")).format(name)

    def _body(self) -> list[Block]:
        rng = self.rng
        blocks: list[Block] = []
        for i in range(rng.randint(2, 5)):
            if i and rng.random() < 0.2:
                blocks.append([f"## {self.writer.sentence([]).rstrip('.?')}"])
            block = self._text_block(rng.randint(1, 3))
            if rng.random() < 0.5:
                block.insert(rng.randint(0, len(block)), self._mention())
            if rng.random() < 0.2:
                words = " ".join(self.writer.words(rng.randint(2, 5)))
                note = " ".join(self.writer.words(rng.randint(3, 7)))
                block.append(f"{{=={words}==}}{{>>{note}<<}}")
            if rng.random() < 0.1 and (entity := self._pick_entity()) is not None:
                block.append(Link("entity", entity.id, rng.choice(("", entity.name))))
            blocks.append(block)
        return blocks

    def _new_article(self, author_less: bool = False, path: str | None = None) -> Article:
        rng = self.rng
        model = self.model
        title = self._title()
        stem = _key(title)[:48].strip("-")
        if path is None:
            path = f"{SUBFOLDER}/{stem}.md" if rng.random() < 0.2 else f"{stem}.md"
        slug = None
        if rng.random() < 0.25:
            slug = self._fresh_slug()
        publication, host = rng.choice(self.pools.publications)
        entities = [e.id for e in rng.sample(list(model.entities.values()),
                                             min(len(model.entities), rng.randint(0, 2)))]
        article = Article(
            id=model.new_id(), path=path, title=title, date=self._date(), slug=slug,
            tags=self._tags(), authors=[] if author_less else self._authors(),
            entities=entities, summary=self.writer.sentence([]) if rng.random() < 0.5 else None,
            source=f"https://www.{host}/{rng.randint(2015, 2024)}/{stem}",
            publication=publication, blocks=self._body())
        model.articles[article.id] = article
        return article

    def _fresh_slug(self) -> str:
        taken = self._taken()
        while True:
            slug = "-".join(self.writer.words(self.rng.randint(2, 4)) + [str(self.rng.randrange(
                100, 1000))])
            if _key(slug) not in taken:
                return slug

    def _pick_article(self, among: list[Article] | None = None) -> Article:
        pool = among if among is not None else list(self.model.articles.values())
        return self.rng.choice(pool)

    def _pick_entity(self) -> EntityItem | None:
        entities = list(self.model.entities.values())
        return self.rng.choice(entities) if entities else None

    def _add_article_link(self, source: Article, block: Block | None = None,
                          target: Article | None = None, kind: str | None = None) -> Link | None:
        others = [a for a in self.model.articles.values() if a.id != source.id]
        if not others:
            return None
        target = target or self._pick_article(others)
        kind = kind or self.rng.choice(("title", "slug", "file", "file"))
        text = self.rng.choice(("", "", " ".join(self.writer.words(2))))
        link = Link(kind, target.id, text)
        if block is None:
            block = self.rng.choice([b for b in source.blocks if not _heading(b)])
        block.insert(self.rng.randint(0, len(block)), link)
        return link

    # --- steps ----------------------------------------------------------------------

    def step(self, macro_chance: float = 0.0, fail_chance: float = 0.0) -> Step:
        """The next step: a pending follow-up, a case macro, a failing edit, or one to three
        simple edits."""
        if self.pending:
            return self.pending.pop(0)()
        roll = self.rng.random()
        if roll < macro_chance:
            return self.case(self.rng.choice(list(MACROS)))
        if roll < macro_chance + fail_chance:
            return self.failing_step()
        step = Step()
        for _ in range(self.rng.choice((1, 2, 2, 3))):
            step.edits.append(self.simple_edit())
        step.tamper, self.tamper = self.tamper, []
        return step

    def crash_step(self) -> Step:
        """A step for the crash oracle: an added article (new folders and files, so a crash
        leaves new names behind) and one or two other edits."""
        step = Step(edits=[self.add_article()])
        for _ in range(self.rng.choice((1, 2))):
            step.edits.append(self.simple_edit())
        step.tamper, self.tamper = self.tamper, []
        return step

    def simple_edit(self) -> str:
        """One random edit of :data:`SIMPLE_EDITS` that applies; its description."""
        names = list(SIMPLE_EDITS)
        weights = [SIMPLE_EDITS[name][1] for name in names]
        while True:
            name = self.rng.choices(names, weights=weights)[0]
            done = SIMPLE_EDITS[name][0](self)
            if done:
                return done

    def case(self, name: str) -> Step:
        """The macro of a case of issue 8 or an extra (see :data:`MACROS`); may queue a
        follow-up step."""
        step = getattr(self, f"_case_{name}")()
        step.case = f"case {name}" if name in CASES else name
        return step

    def _case_spelling(self) -> Step:
        return Step(edits=[self.edit_tag_spelling() or self.simple_edit()])

    def _case_tamper(self) -> Step:
        """No edit of the site: only pages of the output changed by hand, which every build
        into that folder must repair, whatever it reuses."""
        return Step(tamper=[(kind, self.rng.randrange(10_000)) for kind in TAMPERS])

    def _case_1(self) -> Step:
        linked = [a for a in self.model.articles.values()
                  if any(src.startswith("entity:") and link.kind in ("title", "file")
                         for src, link in inbound(self.model, a.id))]
        return Step(edits=[self.edit_slug(linked or None)])

    def _case_2(self) -> Step:
        linked = [a for a in self.model.articles.values()
                  if any(src.startswith("content/") and link.kind in ("title", "file")
                         for src, link in inbound(self.model, a.id))]
        return Step(edits=[self.edit_slug(linked or None)])

    def _case_3(self) -> Step:
        if "recent" in self.model.templates or "recent" not in self._template_names():
            first = self.edit_css()
        else:
            self.model.templates.append("recent")
            first = "template: base.html lists site.articles[:3] (recent articles)"

        def then() -> Step:  # the newest article, so that the recent list shows it
            newest = max(date.fromisoformat(a.date[:10]) for a in self.model.articles.values())
            return Step(edits=[self.add_article((newest + timedelta(days=1)).isoformat())],
                        case="case 3")

        self.pending.append(then)
        return Step(edits=[first])

    def _case_4(self) -> Step:
        model = self.model
        if not any(not a.authors for a in model.articles.values()):
            article = self._pick_article()
            article.authors = []
            self.pending.append(lambda: Step(edits=[self.edit_site_author()], case="case 4"))
            return Step(edits=[f"authors of content/{article.path}: none"])
        return Step(edits=[self.edit_site_author()])

    def _case_5(self) -> Step:
        before = copy.deepcopy(self.model)
        old = self.model.title
        self.model.title = same_length_title(self.rng, old)
        article = self._new_article(path="a-long-one.md")
        article.slug = self._long_slug()
        edits = [f"site title {old!r} -> {self.model.title!r} (same length)",
                 f"add content/{article.path} with a {len(article.slug)}-character slug"]

        def undo() -> Step:
            self.model = before
            return Step(edits=["undo both: the title and the long-slug article"],
                        case="case 5")

        self.pending.append(undo)
        return Step(edits=edits, expect_failure=True)

    def _case_6(self) -> Step:
        """One article edited, then no change: after each rebuild of the long-lived builder,
        the cache must still hold every article (those it reused without parsing too)."""
        self.pending.append(lambda: Step(probe=True, case="case 6"))
        article = self._pick_article()
        article.blocks.append(self._text_block(1))
        return Step(edits=[f"body of content/{article.path}: a paragraph added"], probe=True)

    def _case_7(self) -> Step:
        taken = [a.path for a in self.model.articles.values()]
        name = next(name for n in range(1, 1000)
                    if (name := "q&a.md" if n == 1 else f"q&a-{n}.md") not in taken)
        article = self._new_article(path=name)
        article.slug = None
        source = self._pick_article([a for a in self.model.articles.values()
                                     if a.id != article.id])
        self._add_article_link(source, target=article, kind="file")
        return Step(edits=[f"add content/{article.path}",
                           f"content/{source.path} links to it: [..]({article.path})"])

    def _case_8(self) -> Step:
        return Step(edits=[self.simple_edit()], lock=True, race=True)

    def failing_step(self) -> Step:
        """An edit that breaks the build (a wikilink that names nothing, or a slug too long
        for a file name); undone at the next step."""
        before = copy.deepcopy(self.model)
        if self.rng.random() < 0.4:
            article = self._new_article(path="a-long-one.md")
            article.slug = self._long_slug()
            self.pending.append(lambda: self._undo(before, "undo: the long slug is gone"))
            return Step(edits=[f"add content/{article.path} with a {len(article.slug)}-"
                               f"character slug ({self.model.permalink})"], expect_failure=True)
        article = self._pick_article()
        name = " ".join(self.writer.words(3)) + f" {self.rng.randrange(1000, 10000)}"
        block = self.rng.choice([b for b in article.blocks if not _heading(b)])
        block.append(f"[[{name}]]")
        self.pending.append(lambda: self._undo(before, f"undo: content/{article.path} fixed"))
        return Step(edits=[f"body of content/{article.path}: [[{name}]] (names nothing)"],
                    expect_failure=True)

    def _long_slug(self) -> str:
        words: list[str] = []
        while len("-".join(words)) < 300:
            words.append(self.rng.choice(NOUNS))
        return "-".join(words)[:300].strip("-")

    def _undo(self, before: SiteModel, text: str) -> Step:
        self.model = before
        return Step(edits=[text])

    # --- simple edits ---------------------------------------------------------------

    def _linked(self, kinds: tuple[str, ...]) -> list[Article]:
        """Articles that others (or entity notes) link to by one of ``kinds``."""
        return [a for a in self.model.articles.values()
                if any(link.kind in kinds for _, link in inbound(self.model, a.id))]

    def edit_body(self) -> str | None:
        rng = self.rng
        article = self._pick_article()
        where = f"content/{article.path}"
        roll = rng.random()
        if roll < 0.3:
            i = rng.randrange(len(article.blocks))
            if _heading(article.blocks[i]):
                return None
            kept = [p for p in article.blocks[i] if isinstance(p, Link)]
            article.blocks[i] = self._text_block(rng.randint(1, 3)) + kept
            return f"body of {where}: paragraph {i + 1} rewritten"
        if roll < 0.5:
            article.blocks.append(self._text_block(rng.randint(1, 2)))
            return f"body of {where}: a paragraph added"
        if roll < 0.7:
            link = self._add_article_link(article)
            if link is None:
                return None
            target = self.model.articles[link.target]
            return f"body of {where}: a {link.kind} link to content/{target.path} added"
        if roll < 0.85:
            links = [link for block in article.blocks for link in links_in(block)]
            if not links:
                return None
            gone = rng.choice(links)
            _unlink(self.model, lambda link: link is not gone)
            return f"body of {where}: a {gone.kind} link removed"
        block = rng.choice([b for b in article.blocks if not _heading(b)])
        block.append(self._mention())
        return f"body of {where}: a sentence naming an entity added"

    def edit_title(self) -> str | None:
        rng = self.rng
        linked = self._linked(("file", "slug", "title"))
        if not linked:
            return None
        article = self._pick_article(linked)
        old = article.title
        if rng.random() < 0.25:
            title = same_length_title(rng, old)
            if _key(title) in self._taken(skip=article):
                return None
            article.title = title
        else:
            article.title = self._title()
        return (f"title of content/{article.path} (linked {len(inbound(self.model, article.id))}"
                f"×): {old!r} -> {article.title!r}")

    def edit_date(self) -> str | None:
        article = self._pick_article()
        old = article.date
        if self.rng.random() < 0.2:  # the same day as another article: a tie to order
            article.date = self._pick_article().date
        else:
            article.date = self._date()
        return f"date of content/{article.path}: {old} -> {article.date}"

    def edit_slug(self, among: list[Article] | None = None) -> str:
        """Change the slug of an article others link to by title or by file."""
        linked = among or self._linked(("title", "file")) or list(self.model.articles.values())
        article = self._pick_article(linked)
        old = article.url_slug
        if article.slug is not None and self.rng.random() < 0.3 and \
                _plain_slug(article.stem) and article.stem not in self._taken(skip=article):
            article.slug = None
        else:
            article.slug = self._fresh_slug()
        sources = sorted({src for src, _ in inbound(self.model, article.id)})
        return (f"slug of content/{article.path}: {old} -> {article.url_slug} "
                f"(linked from {', '.join(sources) or 'nothing'})")

    def edit_tags(self) -> str | None:
        rng = self.rng
        article = self._pick_article()
        old = list(article.tags)
        roll = rng.random()
        if roll < 0.4:
            tag = self._tags()[0]
            if _key(tag) in [_key(t) for t in article.tags]:
                return None
            article.tags.append(tag)
        elif roll < 0.7 and len(article.tags) > 1:
            article.tags.remove(rng.choice(article.tags))
        else:  # another spelling of one tag: the most used spelling is shown
            i = rng.randrange(len(article.tags))
            tag = article.tags[i]
            article.tags[i] = tag.title() if tag != tag.title() else tag.lower()
            if article.tags[i] == tag:
                return None
        return f"tags of content/{article.path}: {old} -> {article.tags}"

    def edit_tag_spelling(self) -> str | None:
        """Respell a tag in the newest articles that carry it, enough to change the spelling
        shown (the most used one) while its later pages keep their articles."""
        model = self.model
        by_key: dict[str, list[Article]] = {}
        for article in model.articles.values():
            for tag in article.tags:
                by_key.setdefault(_key(tag), []).append(article)
        keys = [k for k, items in by_key.items()
                if model.paginate < len(items) < 2 * model.paginate]
        if not keys:
            return None
        key = self.rng.choice(keys)
        newest = sorted(by_key[key], key=lambda a: (a.date, a.id), reverse=True)[:model.paginate]
        shown = next(t for t in newest[0].tags if _key(t) == key)
        spelling = shown.title() if shown != shown.title() else shown.upper()
        for article in newest:
            article.tags = [spelling if _key(t) == key else t for t in article.tags]
        return (f"tag {shown!r} spelled {spelling!r} in its {len(newest)} newest of "
                f"{len(by_key[key])} articles")

    def edit_any_title(self) -> str:
        """The title of any article (its neighbours and related articles show it)."""
        article = self._pick_article()
        old, article.title = article.title, self._title()
        return f"title of content/{article.path}: {old!r} -> {article.title!r}"

    def tamper_output(self) -> str:
        """Change a file of the output folder by hand before the next build (done by the
        oracle: see :meth:`Oracle._tamper`)."""
        kind = self.rng.choice(TAMPERS)
        self.tamper.append((kind, self.rng.randrange(10_000)))
        return f"output: a page changed by hand ({kind})"

    def edit_authors(self) -> str | None:
        article = self._pick_article()
        old = list(article.authors)
        article.authors = self._authors()
        if article.authors == old:
            return None
        return f"authors of content/{article.path}: {old} -> {article.authors}"

    def edit_entities_list(self) -> str | None:
        article = self._pick_article()
        entity = self._pick_entity()
        if entity is None:
            return None
        if entity.id in article.entities:
            article.entities.remove(entity.id)
            return f"entities: of content/{article.path}: {entity.slug} removed"
        article.entities.append(entity.id)
        return f"entities: of content/{article.path}: {entity.slug} added"

    def add_article(self, day: str | None = None) -> str:
        article = self._new_article()
        if day is not None:
            article.date = day
        for _ in range(self.rng.randint(0, 2)):
            self._add_article_link(article)
        if self.rng.random() < 0.5:  # and one that links to it
            others = [a for a in self.model.articles.values() if a.id != article.id]
            if others:
                self._add_article_link(self._pick_article(others), target=article)
        return f"add content/{article.path} ({article.date}, {article.title!r})"

    def delete_article(self) -> str | None:
        if len(self.model.articles) <= 8:
            return None
        article = self._pick_article()
        sources = sorted({src for src, _ in inbound(self.model, article.id)})
        _unlink(self.model, lambda link: link.kind == "entity" or link.target != article.id)
        del self.model.articles[article.id]
        return (f"delete content/{article.path} (links to it made plain text in "
                f"{', '.join(sources) or 'nothing'})")

    def rename_article(self) -> str | None:
        article = self._pick_article()
        old = article.path
        stem = _key(self.writer.title())[:40].strip("-")
        if stem in self._taken() or _key(stem) in self._taken():
            return None
        folder = "" if posixpath.dirname(old) else SUBFOLDER
        if self.rng.random() < 0.5:
            folder = posixpath.dirname(old)
        article.path = posixpath.join(folder, f"{stem}.md") if folder else f"{stem}.md"
        return f"rename content/{old} -> content/{article.path} (slug {article.url_slug})"

    def add_entity(self) -> str | None:
        made = make_entities(self.rng, 1)[0]
        taken = self._taken()
        if made.slug in taken or _key(made.name) in taken or \
                any(_key(a) in taken for a in made.aliases + made.weak):
            return None
        entity = EntityItem(id=self.model.new_id(), slug=made.slug, name=made.name,
                            type=made.type, aliases=list(made.aliases), weak=list(made.weak),
                            description=self.writer.sentence([]),
                            notes=[self._text_block(1) + [Link("title",
                                                               self._pick_article().id)]])
        self.model.entities[entity.id] = entity
        for article in self.rng.sample(list(self.model.articles.values()), 2):
            block = self.rng.choice([b for b in article.blocks if not _heading(b)])
            block.append(f"Then {made.name} came up.")
        return f"add entity content/entities/{entity.slug}.md ({entity.name}), named in 2 articles"

    def delete_entity(self) -> str | None:
        if len(self.model.entities) <= 4:
            return None
        entity = self._pick_entity()
        assert entity is not None
        _unlink(self.model, lambda link: link.kind != "entity" or link.target != entity.id)
        del self.model.entities[entity.id]
        for article in self.model.articles.values():
            article.entities = [i for i in article.entities if i != entity.id]
        return f"delete entity content/entities/{entity.slug}.md"

    def rename_entity(self) -> str | None:
        entity = self._pick_entity()
        assert entity is not None
        old = entity.slug
        slug = _key(f"{entity.name} {self.rng.randrange(2, 99)}")
        if slug in self._taken():
            return None
        entity.slug = slug
        return f"rename entity content/entities/{old}.md -> {slug}.md"

    def edit_aliases(self) -> str | None:
        rng = self.rng
        entity = self._pick_entity()
        assert entity is not None
        where = f"aliases of content/entities/{entity.slug}.md"
        roll = rng.random()
        if roll < 0.4 and self.model.latent:  # a name already in some article's text
            name = self.model.latent.pop(rng.randrange(len(self.model.latent)))
            entity.aliases.append(name)
            return f"{where}: {name!r} added (named in articles)"
        if roll < 0.7 and entity.aliases:
            name = entity.aliases.pop(rng.randrange(len(entity.aliases)))
            self.model.latent.append(name)  # the text that names it stays
            return f"{where}: {name!r} removed"
        if roll < 0.85:
            old = entity.name
            name = f"{old} {rng.choice(('Jr', 'II', 'Trust', 'Circle'))}"
            if _key(name) in self._taken():
                return None
            entity.name = name
            self.model.latent.append(old)
            return f"name of content/entities/{entity.slug}.md: {old!r} -> {name!r}"
        word = " ".join(w.capitalize() for w in self.writer.words(2))
        if _key(word) in self._taken():
            return None
        entity.aliases.append(word)
        return f"{where}: {word!r} added"

    def edit_entity_notes(self) -> str | None:
        entity = self._pick_entity()
        assert entity is not None
        target = self._pick_article()
        entity.notes.append(self._text_block(1) + [Link(self.rng.choice(("title", "slug")),
                                                        target.id)])
        return f"notes of content/entities/{entity.slug}.md: a link to content/{target.path}"

    def _template_names(self) -> list[str]:
        return [name for name, (path, anchor, _) in TEMPLATE_EDITS.items()
                if anchor in self.model.theme.get(path, b"").decode("utf-8")]

    def edit_template(self) -> str | None:
        names = self._template_names()
        if "partial" in self.model.templates and self.rng.random() < 0.3:
            self.model.partial = (f'<p class="oracle-partial">{{{{ site.authors | length }}}} '
                                  f'authors, version {self.model.new_id()}</p>\n')
            return f"template: {PARTIAL} edited (reads site.authors)"
        if not names:
            return None
        name = self.rng.choice(names)
        path = TEMPLATE_EDITS[name][0]
        if name in self.model.templates:
            self.model.templates.remove(name)
            return f"template: {path} edit {name!r} removed"
        self.model.templates.append(name)
        return f"template: {path} edit {name!r} added"

    def edit_css(self) -> str:
        rng = self.rng
        if rng.random() < 0.25:
            if self.model.static_note is None or rng.random() < 0.5:
                self.model.static_note = self.writer.sentence([]) + "\n"
                return "static: static/notes.txt written"
            self.model.static_note = None
            return "static: static/notes.txt removed"
        color = f"#{rng.randrange(0x1000000):06x}"
        rule = f".oracle-{rng.randrange(100)} {{ color: {color}; }}"
        if self.model.css and rng.random() < 0.5:
            self.model.css[-1] = rule
            return f"static: style.css, last rule -> {rule}"
        self.model.css.append(rule)
        return f"static: style.css, rule added: {rule}"

    def edit_config(self) -> str | None:
        rng = self.rng
        model = self.model
        roll = rng.random()
        if roll < 0.3:
            old = model.title
            model.title = same_length_title(rng, old) if rng.random() < 0.5 \
                else f"The {rng.choice(NOUNS)} archive"
            return f"site.yml title: {old!r} -> {model.title!r}"
        if roll < 0.5:
            return self.edit_site_author()
        if roll < 0.7:
            old = model.base_url
            model.base_url = rng.choice([u for u in BASE_URLS if u != old])
            return f"site.yml base_url: {old} -> {model.base_url}"
        if roll < 0.82:
            old_count = model.paginate
            model.paginate = rng.choice([n for n in (2, 3, 4, 5, 7) if n != old_count])
            return f"site.yml paginate: {old_count} -> {model.paginate}"
        if roll < 0.9:
            old = model.permalink
            model.permalink = rng.choice([p for p in PERMALINKS if p != old])
            return f"site.yml permalinks.article: {old} -> {model.permalink}"
        model.description = self.writer.sentence([])
        return "site.yml description changed"

    def edit_site_author(self) -> str:
        old = self.model.author
        choices = [a for a in self.pools.authors if a != old] + ["Somebody Else"]
        self.model.author = self.rng.choice(choices)
        without = sum(1 for a in self.model.articles.values() if not a.authors)
        return f"site.yml author: {old!r} -> {self.model.author!r} ({without} articles name none)"


def _heading(block: Block) -> bool:
    return len(block) == 1 and isinstance(block[0], str) and block[0].startswith("#")


def same_length_title(rng: Random, title: str) -> str:
    """Another title of exactly the same length (one word swapped, or letters rotated)."""
    words = title.split(" ")
    order = list(range(len(words)))
    rng.shuffle(order)
    for i in order:
        others = [n for n in NOUNS if len(n) == len(words[i]) and n != words[i].lower()]
        if others:
            new = rng.choice(others)
            if words[i][:1].isupper():
                new = new.capitalize()
            return " ".join(words[:i] + [new] + words[i + 1:])
    return title[1:] + title[0]


#: simple edits: name → (method, weight)
SIMPLE_EDITS: dict[str, tuple[Callable[[EditGenerator], str | None], float]] = {
    "body": (EditGenerator.edit_body, 4),
    "title": (EditGenerator.edit_title, 2),
    "date": (EditGenerator.edit_date, 2),
    "slug": (EditGenerator.edit_slug, 2),
    "tags": (EditGenerator.edit_tags, 2),
    "tag-spelling": (EditGenerator.edit_tag_spelling, 1),
    "any-title": (EditGenerator.edit_any_title, 1),
    "tamper-output": (EditGenerator.tamper_output, 0.8),
    "authors": (EditGenerator.edit_authors, 1.5),
    "entities": (EditGenerator.edit_entities_list, 1.5),
    "add-article": (EditGenerator.add_article, 1.5),
    "delete-article": (EditGenerator.delete_article, 1),
    "rename-article": (EditGenerator.rename_article, 1),
    "add-entity": (EditGenerator.add_entity, 0.7),
    "delete-entity": (EditGenerator.delete_entity, 0.5),
    "rename-entity": (EditGenerator.rename_entity, 0.7),
    "aliases": (EditGenerator.edit_aliases, 1.5),
    "entity-notes": (EditGenerator.edit_entity_notes, 1),
    "template": (EditGenerator.edit_template, 1),
    "static": (EditGenerator.edit_css, 0.7),
    "site.yml": (EditGenerator.edit_config, 1.2),
}


def plan(rng: Random, steps: int, cases: list[str]) -> dict[int, str]:
    """Steps (1-based) at which each of ``cases`` starts, spaced so their follow-ups fit."""
    starts: dict[int, str] = {}
    free = list(range(1, steps + 1))
    for case in cases:
        length = 2 if case in ("3", "5", "6") else 1
        options = [s for s in free if all(s + k in free for k in range(length))]
        if not options:
            break
        start = rng.choice(options)
        starts[start] = case
        for k in range(length):
            free.remove(start + k)
    return starts


# --------------------------------------------------------------------------
# Reading and comparing output folders
# --------------------------------------------------------------------------


def _walk(root: Path) -> list[tuple[str, Path]]:
    """Every file under ``root`` but the manifest and the lock, in a stable order."""
    found: list[tuple[str, Path]] = []
    if not root.is_dir():
        return found
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if rel not in IGNORED:
                found.append((rel, path))
    return found


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (path relative to it → bytes), but the manifest and lock."""
    return {rel: path.read_bytes() for rel, path in _walk(root)}


def mtimes(root: Path) -> dict[str, int]:
    return {rel: path.stat().st_mtime_ns for rel, path in _walk(root)}


def folders(root: Path) -> list[str]:
    """Every folder under ``root`` (relative), sorted."""
    if not root.is_dir():
        return []
    return sorted(Path(folder).relative_to(root).as_posix() for folder, _, _ in os.walk(root)
                  if Path(folder) != root)


def empty_folders(root: Path) -> list[str]:
    """Folders under ``root`` with no file at any depth (leftovers of a removal)."""
    holds: dict[str, bool] = {}
    for folder, dirs, names in os.walk(root, topdown=False):
        rel = Path(folder).relative_to(root).as_posix()
        holds[rel] = bool(names) or any(holds.get(d if rel == "." else f"{rel}/{d}", False)
                                        for d in dirs)
    return sorted(rel for rel, full in holds.items() if rel != "." and not full)


def visible(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files outside hidden top-level entries (where a killed build may leave staging)."""
    return {name: data for name, data in files.items() if not name.startswith(".")}


def hidden_entries(files: dict[str, bytes]) -> list[str]:
    return sorted({name.split("/", 1)[0] for name in files if name.startswith(".")})


def compare(expected: dict[str, bytes], actual: dict[str, bytes], label: str,
            expected_label: str = "cold build") -> list[str]:
    """Every difference between two sets of files, with a short diff of the first one."""
    missing = [name for name in expected if name not in actual]
    extra = [name for name in actual if name not in expected]
    differ = [name for name in expected if name in actual and expected[name] != actual[name]]
    if not (missing or extra or differ):
        return []
    lines = [f"{label} differs from the {expected_label}: {len(differ)} files differ, "
             f"{len(missing)} missing, {len(extra)} extra"]
    for title, names in (("differ", differ), ("missing", missing), ("extra", extra)):
        if names:
            shown = ", ".join(sorted(names)[:12]) + (" …" if len(names) > 12 else "")
            lines.append(f"    {title}: {shown}")
    if differ:
        name = sorted(differ)[0]
        lines += ["    " + line for line in short_diff(expected[name], actual[name], name,
                                                         expected_label, label)]
    return ["\n".join(lines)]


def short_diff(old: bytes, new: bytes, name: str, old_label: str, new_label: str,
               limit: int = 24) -> list[str]:
    """The first lines of a unified diff of two files; long lines are cut to a window around
    the first differing character."""
    old_lines = old.decode("utf-8", "replace").splitlines()
    new_lines = new.decode("utf-8", "replace").splitlines()
    column = 0
    for a, b in zip(old_lines, new_lines, strict=False):
        if a != b:
            column = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                          min(len(a), len(b)))
            break
    start = max(0, column - 60)

    def clip(line: str) -> str:
        if len(line) <= 150:
            return line
        head = line[0] if line[:1] in "+- " else ""
        body = line[len(head):]
        return head + ("…" if start else "") + body[start:start + 140] + \
            ("…" if len(body) > start + 140 else "")

    diff = difflib.unified_diff(old_lines, new_lines, f"{old_label}/{name}",
                                f"{new_label}/{name}", n=1, lineterm="")
    lines = [clip(line) for line in diff]
    return lines[:limit] + ([f"... ({len(lines) - limit} more diff lines)"]
                            if len(lines) > limit else [])


_LINK = re.compile(r"""<(a|link|img|script)\b[^>]*?\s(?:href|src)="([^"]*)\"""")


def broken_links(files: dict[str, bytes], base_path: str = "/") -> list[str]:
    """Internal links of HTML pages that lead to no file of the site (as a browser resolves
    them; a folder link opens its ``index.html``), and unresolved ``postil-ref:`` targets."""
    broken: list[str] = []
    for name, data in files.items():
        text = data.decode("utf-8", "replace")
        if "postil-ref:" in text:
            broken.append(f"{name}: an unresolved postil-ref: placeholder reached the output")
        if not name.endswith(".html"):
            continue
        for _tag, raw in _LINK.findall(text):
            href = html.unescape(raw)
            if not href or href.startswith(("#", "//", "mailto:", "data:", "javascript:")) or \
                    re.match(r"[a-z][a-z0-9+.-]*://", href):
                continue
            path = href.split("#", 1)[0].split("?", 1)[0]
            if not path:
                continue
            if path.startswith("/"):
                if not path.startswith(base_path):
                    broken.append(f"{name} -> {href}")
                    continue
                target = path[len(base_path):]
            else:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), path))
                if path.endswith("/") and target != ".":
                    target += "/"
            if target in (".", ""):
                target = "index.html"
            elif target.endswith("/"):
                target += "index.html"
            if target.startswith("../") or (target not in files and
                                            f"{target}/index.html" not in files):
                broken.append(f"{name} -> {href}")
    return broken


# --------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------


class OracleFailure(AssertionError):
    """Builds disagreed (or broke a promise) at some step; the message says where and how."""


@dataclass
class OracleOptions:
    articles: int = 25
    entities: int = 12
    cases: list[str] = field(default_factory=lambda: list(MACROS))  # forced once each
    macro_chance: float = 0.0  # chance that a random step is a case macro
    fail_chance: float = 0.0  # chance that a random step breaks the build (undone next step)
    faults: bool = False  # the crash oracle: kill the writer at every step
    probe_every: bool = False  # check the parsed-article cache at every step
    keep_going: bool = False  # report a failing step, resynchronise, go on

    def command(self, seed: int, steps: int) -> str:
        """The ``bench/oracle.py`` command line that replays this run."""
        parts = [f"python3 bench/oracle.py --seed {seed} --steps {steps}",
                 f"--articles {self.articles} --entities {self.entities}",
                 f"--cases {','.join(self.cases) or 'none'}"]
        parts.append(f"--macro-chance {self.macro_chance} --fail-chance {self.fail_chance}")
        if self.faults:
            parts.append("--faults")
        if self.probe_every:
            parts.append("--probe-every")
        return " ".join(parts)


@dataclass
class Run:
    """What a subprocess build did."""

    returncode: int
    stdout: str
    stderr: str

    def tail(self) -> str:
        text = (self.stderr or self.stdout).strip()
        return text if len(text) < 1200 else "…" + text[-1200:]


class Oracle:
    """Runs ``steps`` seeded steps on a generated site in ``workdir``; see the module doc."""

    def __init__(self, workdir: Path, seed: int, steps: int,
                 options: OracleOptions | None = None,
                 log: Callable[[str], None] | None = None, repo: Path = REPO):
        self.work = Path(workdir)
        self.seed = seed
        self.steps = steps
        self.options = options or OracleOptions()
        self.log = log or (lambda text: None)
        self.repo = repo
        self.site = self.work / "site"
        self.out = self.work / "out-incremental"
        self.rng = Random(seed)
        self.fault_rng = Random(f"faults {seed}")  # crash points, apart from the edits
        self.generator = EditGenerator(self.rng, self.options.articles, self.options.entities,
                                       repo / "themes" / "default")
        self.written: dict[str, bytes] = {}
        self._clock = 0
        self.live = None
        self.failures: list[str] = []
        self.faults_run: list[str] = []
        self._reported: set[str] = set()
        self.cases_done: list[str] = []  # the cases of issue 8 this run went through

    # --- the run ---------------------------------------------------------------------

    def run(self) -> list[str]:
        """Every step; raises :class:`OracleFailure` at the first failing one unless
        ``keep_going`` (then returns the failures)."""
        from builder.pipeline import BuildOptions, SiteBuilder

        self.work.mkdir(parents=True, exist_ok=True)
        self._write_site()
        self.live = SiteBuilder(self.site, BuildOptions(write=False, drafts=False, jobs=1))
        self._check(0, Step(edits=["the generated site, first build"]),
                    self._step(0, Step(), {}))
        forced = sorted(plan(self.rng, self.steps, self.options.cases).items())
        for n in range(1, self.steps + 1):
            if not self.generator.pending and forced and forced[0][0] <= n:
                name = forced.pop(0)[1]
                step = self.generator.case(name)
                self.cases_done.append(name)
            elif self.options.faults:
                step = self.generator.crash_step()
            else:
                step = self.generator.step(self.options.macro_chance, self.options.fail_chance)
            previous = self.written
            self._write_site()
            self._tamper(step)
            started = time.perf_counter()
            problems = self._fresh(self._step(n, step, previous))
            self.log(f"seed {self.seed} step {n}/{self.steps} "
                     f"({time.perf_counter() - started:.1f} s): {step.describe()}"
                     + (f"  -> {len(problems)} problem(s)" if problems else ""))
            self._check(n, step, problems)
        return self.failures

    def _fresh(self, problems: list[str]) -> list[str]:
        """With ``keep_going``, each problem once, not again at every later step."""
        if not (problems and self.options.keep_going):
            return problems
        fresh = [p for p in problems if p not in self._reported]
        self._reported.update(fresh)
        if fresh and len(fresh) < len(problems):
            fresh.append(f"(and {len(problems) - len(fresh)} problems of earlier steps)")
        return fresh

    def _check(self, n: int, step: Step, problems: list[str]) -> None:
        if not problems:
            return
        message = (f"oracle: seed {self.seed}, step {n} of {self.steps}: {step.describe()}\n"
                   f"  replay: {self.options.command(self.seed, self.steps)}\n"
                   + "\n".join("  - " + p.replace("\n", "\n    ") for p in problems))
        self.failures.append(message)
        if not self.options.keep_going:
            raise OracleFailure(message)
        self.log(message)
        if not step.expect_failure:  # what a failed build left is for the next step to see
            self._resync(n)

    def _resync(self, n: int) -> None:
        """After a failure: the incremental folder becomes the cold build, the long-lived
        builder a new one, so the next steps test themselves."""
        from builder.pipeline import BuildOptions, SiteBuilder

        cold = self.work / "cold" / f"step-{n}"
        shutil.rmtree(self.out, ignore_errors=True)
        if cold.is_dir():
            shutil.copytree(cold, self.out, symlinks=True)
        self.live = SiteBuilder(self.site, BuildOptions(write=False, drafts=False, jobs=1))
        with contextlib.suppress(Exception):  # a broken step: the next one builds it again
            self.live.build()

    # --- the site's files ---------------------------------------------------------------

    def _write_site(self) -> None:
        self._write(render_files(self.generator.model))

    def _write(self, files: dict[str, bytes]) -> None:
        """Write the files that changed, remove those that went; every written file gets an
        mtime later than any before, so a change is never hidden by the clock."""
        for name in self.written:
            if name not in files:
                path = self.site / name
                path.unlink()
                folder = path.parent
                while folder != self.site and not any(folder.iterdir()):
                    folder.rmdir()
                    folder = folder.parent
        for name, data in files.items():
            if self.written.get(name) != data:
                path = self.site / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                self._clock = max(time.time_ns(), self._clock + 1_000_000)
                os.utime(path, ns=(self._clock, self._clock))
        self.written = files

    def _tamper(self, step: Step) -> None:
        """Change pages of the output folder by hand, as a step asks: the next build must
        notice (by the bytes, or by a stat that is no longer the one recorded)."""
        pages = [name for name, _ in _walk(self.out) if name.endswith(".html")]
        for kind, index in step.tamper:
            if not pages:
                return
            name = pages[index % len(pages)]
            path = self.out / name
            old = path.stat().st_mtime_ns
            data = path.read_bytes()
            if kind == "delete":
                path.unlink()
                pages.remove(name)
            elif kind == "truncate":
                path.write_bytes(data[: len(data) // 2])
            elif kind == "same-size":
                at = next((i for i in range(len(data) // 2, len(data))
                           if chr(data[i]).isascii() and chr(data[i]).isalpha()), None)
                if at is not None:
                    path.write_bytes(data[:at] + chr(data[at]).swapcase().encode()
                                     + data[at + 1:])
            if kind != "delete":
                self._clock = max(time.time_ns(), self._clock + 1_000_000, old + 1_000_000)
                os.utime(path, ns=(self._clock, self._clock))
            step.edits.append(f"(by hand: {kind} {name})")

    # --- builds -------------------------------------------------------------------------

    def _command(self) -> tuple[list[str], dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if k != "POSTIL_FAULT"}
        env["PYTHONPATH"] = os.pathsep.join([str(self.repo)] + (
            [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        return ([sys.executable, "-m", "builder", "build", str(self.site), "-o", str(self.out),
                 "-q"], env)

    def _start(self, fault: str | None = None) -> subprocess.Popen:
        command, env = self._command()
        if fault:
            env["POSTIL_FAULT"] = fault
        return subprocess.Popen(command, cwd=self.repo, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    @staticmethod
    def _finish(process: subprocess.Popen) -> Run:
        stdout, stderr = process.communicate(timeout=600)
        return Run(process.returncode, stdout, stderr)

    def _incremental(self, fault: str | None = None) -> Run:
        return self._finish(self._start(fault))

    def _cold(self, n: int, kind: str = "cold") -> tuple[dict[str, bytes] | None, str, Path]:
        """A cold build into an empty folder, in this process, without the cache."""
        from builder.pipeline import BuildOptions, build

        folder = self.work / kind / f"step-{n}"
        for old in sorted((self.work / kind).glob("step-*")):
            shutil.rmtree(old)
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            build(self.site, BuildOptions(output=folder, cache=False, jobs=1))
        except Exception as exc:  # noqa: BLE001 - reported as a finding
            return None, f"{type(exc).__name__}: {exc}", folder
        return read_tree(folder), "", folder

    def _live(self) -> tuple[dict[str, bytes] | None, str]:
        try:
            return self.live.build().files, ""
        except Exception as exc:  # noqa: BLE001 - reported as a finding
            return None, f"{type(exc).__name__}: {str(exc)[:600]}"

    # --- one step -----------------------------------------------------------------------

    def _step(self, n: int, step: Step, previous: dict[str, bytes]) -> list[str]:
        """Build three ways and compare; ``previous`` are the site's files before the step."""
        if step.expect_failure:
            return self._failing_step(n)
        problems: list[str] = []
        if step.lock:
            problems += self._check_lock()
        if step.race:
            problems += self._check_race()
        if self.options.faults and n > 0:
            cold, error, folder = self._cold(n)
            if cold is not None:
                found, kinds = self._check_faults(n, cold)
                problems += found
                if "crash-rename" in kinds:  # a mix on disk, then the edits are undone
                    problems += self._abandon(n, previous)
            before, before_times = read_tree(self.out), mtimes(self.out)
            run = self._incremental()
        else:
            before, before_times = read_tree(self.out), mtimes(self.out)
            process = self._start()  # meanwhile, the cold build in this process
            cold, error, folder = self._cold(n)
            run = self._finish(process)
        if cold is None:
            return problems + [f"the cold build failed: {error}"]
        problems += [f"cold build: {p}" for p in broken_links(cold, self._base_path())[:10]]
        if run.returncode != 0 or "Traceback" in run.stderr:
            problems.append(f"postil build into the previous output exited {run.returncode}:\n"
                            f"{run.tail()}")
        else:
            after = read_tree(self.out)
            problems += compare(cold, after, "incremental build (postil build into the "
                                "previous output)")
            if empty_folders(self.out):
                problems.append("incremental build left empty folders: "
                                + ", ".join(empty_folders(self.out)[:10]))
            after_times = mtimes(self.out)
            rewritten = [name for name, data in after.items()
                         if before.get(name) == data and before_times[name] != after_times[name]]
            if rewritten:
                problems.append(f"incremental build rewrote {len(rewritten)} files whose bytes "
                                f"did not change: {', '.join(rewritten[:8])}")
        live, error = self._live()
        if live is None:
            problems.append(f"the long-lived builder failed: {error}")
        else:
            problems += compare(cold, live, "long-lived builder (as postil serve keeps it)")
        if step.probe or self.options.probe_every:
            problems += self._probe(cold)
        return problems

    def _base_path(self) -> str:
        return urlsplit(self.generator.model.base_url).path or "/"

    def _failing_step(self, n: int) -> list[str]:
        """Every build must fail; the incremental one must leave its folder as it was."""
        problems: list[str] = []
        before = self._state()
        run = self._incremental()
        if run.returncode == 0:
            problems.append("postil build succeeded on a site that must fail")
        elif "Traceback" in run.stderr:
            problems.append(f"postil build failed with a traceback, not a message:\n{run.tail()}")
        elif not run.stderr.strip():
            problems.append(f"postil build exited {run.returncode} and said nothing")
        problems += self._unchanged(before, "the failed build")
        cold, _, folder = self._cold(n)
        if cold is not None:
            problems.append("the cold build succeeded on a site that must fail")
        elif left := sorted(read_tree(folder)) or folders(folder):
            problems.append(f"the failed cold build left files or folders in its empty output "
                            f"folder: {', '.join(left[:8])}")
        self._live()  # the long-lived builder goes through it, as postil serve would
        return problems

    def _state(self) -> tuple[dict[str, bytes], list[str], bytes | None]:
        """The output folder's files, folders and manifest, to prove a failure changed none."""
        try:
            manifest = (self.out / MANIFEST).read_bytes()
        except OSError:
            manifest = None
        return read_tree(self.out), folders(self.out), manifest

    def _unchanged(self, before: tuple[dict[str, bytes], list[str], bytes | None], what: str,
                   hidden: bool = True) -> list[str]:
        """A failed or refused build left the output as it was: every file (only the visible
        ones with ``hidden=False``, where a killed run's staging may be cleaned up), every
        folder, and the manifest (contract 1: restored)."""
        files, dirs, manifest = self._state()
        old_files, old_dirs, old_manifest = before
        if not hidden:
            files, old_files = visible(files), visible(old_files)
            dirs = [d for d in dirs if not d.startswith(".")]
            old_dirs = [d for d in old_dirs if not d.startswith(".")]
        problems = compare(old_files, files, f"output folder after {what}", "output before it")
        made = [d for d in dirs if d not in old_dirs]
        gone = [d for d in old_dirs if d not in dirs]
        if made or gone:
            problems.append(f"{what} changed the folders of the output: made {made[:6]}, "
                            f"removed {gone[:6]}")
        if manifest != old_manifest:
            problems.append(f"{what} changed {MANIFEST} (it must be restored)")
        return problems

    def _abandon(self, n: int, previous: dict[str, bytes]) -> list[str]:
        """After crashed runs, the step's edits are undone: a build must give exactly the
        previous site, without a file the crashed runs made."""
        current = self.written
        self._write(previous)
        cold, error, _ = self._cold(n, "cold-undone")
        run = self._incremental()
        self._write(current)
        self.faults_run.append("undone")
        if cold is None:
            return [f"the cold build of the undone step failed: {error}"]
        if run.returncode != 0 or "Traceback" in run.stderr:
            return [f"postil build after the crashed step was undone exited {run.returncode}:"
                    f"\n{run.tail()}"]
        problems = compare(cold, read_tree(self.out), "postil build after crashed runs, with "
                           "their edits undone")
        if empty_folders(self.out):
            problems.append("postil build after crashed runs left empty folders: "
                            + ", ".join(empty_folders(self.out)[:10]))
        return problems

    def _probe(self, cold: dict[str, bytes]) -> list[str]:
        """A fresh builder just after the long-lived one: every article comes from the cache
        (the build process and the long-lived builder filled it), and the pages agree."""
        from builder.pipeline import BuildOptions, SiteBuilder

        result = SiteBuilder(self.site, BuildOptions(write=False, drafts=False, jobs=1)).build()
        problems = compare(cold, result.files, "fresh builder reading the cache")
        parsed = getattr(result, "parsed", None)
        if parsed is None:
            problems.append("cannot check the cache: BuildResult.parsed (the articles a build "
                            "parsed rather than reused) is gone; update tests/oracle_site.py")
        elif parsed:
            problems.append(f"after the long-lived builder's rebuild, a fresh builder parsed "
                            f"{len(parsed)} of {len(result.site.articles)} articles again: the "
                            f"cache lost them ({', '.join(sorted(parsed)[:4])} …)")
        return problems

    def _check_lock(self) -> list[str]:
        """With the output folder's lock held by this process, a build is refused (exit 1, a
        one-line message) and writes nothing."""
        self.out.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.out / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        before = self._state()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            run = self._incremental()
        finally:
            os.close(fd)
        problems: list[str] = []
        lines = run.stderr.strip().splitlines()
        if run.returncode != 1 or len(lines) != 1 or BUSY not in run.stderr:
            problems.append(f"a build into a folder whose lock another process holds exited "
                            f"{run.returncode} (expected 1 and one line saying the folder is "
                            f"{BUSY!r}):\n{run.tail() or '(no output)'}")
        return problems + self._unchanged(before, "the refused build")

    def _check_race(self) -> list[str]:
        """Two builds at once: each one finishes or is refused with the one-line message."""
        processes = [self._start(), self._start()]
        problems = []
        for i, run in enumerate(self._finish(p) for p in processes):
            refused = run.returncode == 1 and BUSY in run.stderr and \
                len(run.stderr.strip().splitlines()) == 1
            if not (run.returncode == 0 or refused) or "Traceback" in run.stderr:
                problems.append(f"of two builds at once, build {i + 1} exited {run.returncode}:"
                                f"\n{run.tail()}")
        return problems

    def _check_faults(self, n: int, cold: dict[str, bytes]) -> tuple[list[str], list[str]]:
        """Kill (or starve) the writer at a seeded file of a phase; check what it leaves.
        Returns the problems and the kinds of fault that fired."""
        problems: list[str] = []
        fired: list[str] = []
        first = FAULTS[(n - 1) % len(FAULTS)]
        others = [f for f in FAULTS if f != first]
        kinds = [first] + self.fault_rng.sample(others, self.fault_rng.randint(0, 1))
        for kind in kinds:
            current = read_tree(self.out)
            changed = [name for name in cold if current.get(name) != cold[name]]
            if not changed:
                self.faults_run.append(f"{kind}: nothing to write")
                continue
            # Late in a phase more is at stake (more new files and folders exist).
            low = 1 if kind == "crash-write" else (len(changed) + 1) // 2
            k = self.fault_rng.randint(low, len(changed))
            fault = f"{kind}:{k}"
            self.faults_run.append(f"{fault} of {len(changed)}")
            fired.append(kind)
            before = self._state()
            run = self._incremental(fault)
            where = f"POSTIL_FAULT={fault} ({len(changed)} files to write)"
            if kind == "enospc":
                lines = run.stderr.strip().splitlines()
                if run.returncode != 1 or len(lines) != 1 or "Traceback" in run.stderr:
                    problems.append(f"{where}: expected exit 1 and a one-line message, got exit "
                                    f"{run.returncode}:\n{run.tail() or '(no output)'}")
                problems += self._unchanged(before, where, hidden=False)
                new_hidden = [h for h in hidden_entries(read_tree(self.out))
                              if h not in hidden_entries(current)]
                if new_hidden:
                    problems.append(f"{where} left hidden entries: {', '.join(new_hidden)}")
                continue
            if run.returncode == 0:
                problems.append(f"{where}: the build exited 0: the fault hook did not fire")
            elif run.returncode != CRASH_STATUS:
                problems.append(f"{where}: exited {run.returncode}, not {CRASH_STATUS}:\n"
                                f"{run.tail()}")
            if kind == "crash-write":
                problems += compare(visible(current), visible(read_tree(self.out)),
                                    f"output after {where}", "output before it")
        return problems, fired
