"""The site kept as data (:class:`SiteModel`) and :func:`render_files`, which turns it into
the site's files; links are references to ids, never text (see the package doc)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from bench.generate import quoted, slugify

FIRST_DAY = date(2016, 1, 1)
DAYS = (date(2024, 12, 31) - FIRST_DAY).days
BASE_URLS = ("https://example.org/", "https://example.org/archive/",
             "http://localhost:8000/", "https://oracle.example.net/reading/room/")
PERMALINKS = ("/articles/{slug}/", "/{year}/{slug}/", "/{year}/{month}/{slug}.html", "/{path}/")
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
    (articles only); ``embed``: ``![[Title]]`` on a line of its own (articles only: the
    page shows the target's text); ``entity``: ``[[entity-slug|text]]``.
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
    # tag slug → (title, slug or None, description): content/tags/<tag slug>.md
    term_files: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)
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
    for key, (title, slug, description) in model.term_files.items():
        lines = ["---", f"title: {quoted(title)}", f"description: {quoted(description)}"]
        lines += [f"slug: {slug}"] if slug else []
        files[f"content/tags/{key}.md"] = "\n".join([*lines, "---", description, ""]).encode()
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
    # Search off: a postil build after body edits alone is then a delta build from the
    # stored build (builder.delta_build), which leaves search to full builds; the index
    # under rebuilds has tests of its own (tests/test_search.py).
    lines += ["search: false", "entities:", "  autolink: true", ""]
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
    if kind in ("file", "embed") and source is None:
        kind = "title"
    if kind == "embed":
        return f"\n\n![[{target.title}]]\n\n"
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
