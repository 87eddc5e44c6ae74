"""Read one Markdown file into an :class:`Article`, collecting every problem.

Pure: takes the file's bytes, returns data. Runs in worker processes.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from builder import frontmatter, slugs
from builder.config_values import is_language_tag
from builder.dates import PartialDate, parse_date, repaired_date
from builder.frontmatter import Fields
from builder.lexicon import Lexicon
from builder.markdown import render
from builder.model import ArticleRecord
from builder.problems import Problem
from builder.safeurl import check_url
from builder.slugs import MAX_SLUG, explicit, merge_key, slugify, too_long
from builder.snapshots import KEY as SNAPSHOT_KEY
from builder.snapshots import snapshot_problem

#: front matter keys Postil reads; any other key is kept in ``Article.extra``
KNOWN_KEYS = frozenset({
    "title", "date", "updated", "read", "author", "authors", "tags", "source", "publication",
    "summary", "slug", "draft", "lang", "template", "entities", "events",
    # the same things as other tools name them (Hugo, Jekyll, Pelican, Astro, Obsidian)
    "description", "lastmod", "modified", "pubDate", "published", "status", "category",
    "categories", "aliases", "redirect_from", "permalink", "url", "accessed",
})
#: a file name starting with a date (Jekyll's posts): (the date, the rest), or a date
#: alone (Obsidian's daily notes)
DATED_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:-(.+))?")
#: ``dated_by`` of a record whose date is its file's (see builder.filedates), and its
#: date until then
FILE_DATE = "file"
UNDATED = date.min
#: keys read in place of a missing key, in order: (key, what other tools call it)
SYNONYMS = {
    "date": ("pubDate", "published"),
    "updated": ("lastmod", "modified"),
    "read": ("accessed",),  # CSL's and Zotero's name for it
    "summary": ("description",),
}


@dataclass(frozen=True)
class ReadSettings:
    """What reading needs from the configuration (small and picklable)."""

    timezone: str = "UTC"
    base_path: str = "/"
    html: bool | str = True  # raw HTML: True sanitized, "trusted" as written, False as text
    summary_words: int = 40
    lexicon: Lexicon | None = None  # the entity registry; its repr is its fingerprint
    slugs: str = "ascii"  # builder.slugs mode: "ascii" or "unicode"


def read_article(path: str, raw: bytes, settings: ReadSettings, key: str = ""
                 ) -> tuple[ArticleRecord | None, list[Problem]]:
    """Parse ``raw`` (the bytes of ``path``) into a record, or None, and its problems.

    ``key`` identifies the inputs (see :meth:`builder.cache.ArticleCache.key_for`)
    and is stored in the record, which is a pure function of them.
    """
    slugs.use(settings.slugs)  # (a forked worker may have been made before the build set it)
    doc, problems = frontmatter.load(path, raw)
    if doc is None:
        return None, problems
    fields = Fields(path, doc)
    meta = doc.meta
    problems = fields.problems
    _apply_synonyms(meta, doc.key_lines)

    tz = ZoneInfo(settings.timezone)
    stem = posixpath.splitext(posixpath.basename(path))[0]
    if stem == "index" and path.count("/") > 1:  # a page bundle: content/hello/index.md
        stem = posixpath.basename(posixpath.dirname(path))
    named = DATED_NAME.fullmatch(stem)  # Jekyll's 2013-05-06-title.md
    name = named.group(2) or stem if named else stem  # without date prefix and extension
    title = fields.text("title")
    if "title" not in meta:  # a note: its file name, as written
        title = name
    elif not title:
        fields.problem("title", "title is empty")

    updated = _other_date(fields, "updated", tz)
    read = _other_date(fields, "read", tz)
    day, moment, dated_by = UNDATED, None, ""
    if "date" in meta:  # (a front-matter date wins, and keeps its own offset)
        try:
            day, moment = parse_date(meta["date"], tz)
        except ValueError as exc:
            meant = repaired_date(meta["date"])
            if meant is None:
                fields.problem("date", f"invalid date: {exc}")
            else:
                day, moment = parse_date(meant, tz)
                fields.problem("date", f'date "{meta["date"]}" read as "{meant}" (the year '
                               "again is left out): write it so", warning=True)
    elif named:
        try:
            day, dated_by = date.fromisoformat(named.group(1)), "name"
        except ValueError:
            problems.append(Problem(path, 1, f'the date in the file name, "{named.group(1)}", '
                                    "is not a day of the calendar: rename the file, or give "
                                    "a date in the front matter"))
    elif updated is not None:  # a source that shows only when it was last updated
        day, dated_by = _day(updated), "updated"
        moment = updated if isinstance(updated, datetime) else None
    elif meta.get("updated") is None:  # (an invalid one is an error already)
        dated_by = FILE_DATE  # its last commit or its mtime: filled in by builder.filedates

    if "author" in meta and "authors" in meta:
        fields.problem("authors", "give either author or authors, not both")
    # A single `author:` is one person ("Martin Luther King, Jr."); `authors:` may be a
    # comma-separated string.
    authors = fields.names("authors") if "authors" in meta else \
        fields.names("author", split_commas=False)
    tags = fields.names("tags")
    categories = _categories(fields)
    aliases, redirects = _aliases(fields)
    permalink = _permalink(fields)

    slug_source = fields.text("slug") or name
    # A chosen slug is never cut (it is a URL someone wants): too long is an error.
    slug = explicit(slug_source) if fields.text("slug") else slugify(slug_source)
    if fields.text("slug") and too_long(slug):
        size = f"{len(slug)} characters" + ("" if slug.isascii() else
                                             f" ({len(slug.encode())} bytes in UTF-8)")
        fields.problem("slug", f"slug is {size} long; at most {MAX_SLUG} (a file name has at "
                       "most 255 bytes)")
    if not slug:
        fields.problem("slug", f'cannot make a slug from "{slug_source}": give a slug with letters '
                "or digits")

    draft = _draft(fields)
    template = fields.text("template") or "article.html"
    about = [slugify(item) for item in fields.names("entities")]
    events = _events(meta.get("events"), doc.line("events"), path, problems)
    rendered = render(doc.body, source_dir=posixpath.dirname(path),
                      base_path=settings.base_path, first_line=doc.body_line, html=settings.html,
                      lexicon=settings.lexicon, assets=True)
    problems += [Problem(path, line, message) for line, message in rendered.problems]
    problems += [Problem(path, line, message, warning=True)
                 for line, message in rendered.warnings]
    source_url, lang = _source_url(fields), _lang(fields)
    # Inline #tags are tags too; one spelled as a front-matter tag is that tag.
    spellings = {merge_key(tag) for tag in tags}
    for name in rendered.hashtags:
        if merge_key(name) not in spellings:
            spellings.add(merge_key(name))
            tags.append(name)
    summary = fields.text("summary")
    if not summary:
        summary = _truncate_words(rendered.first_paragraph, settings.summary_words)

    if any(not p.warning for p in problems):
        # No record is made, so builder.snapshots never sees this file's snapshot: say
        # now what is wrong with it too (all problems in one run).
        wrong = snapshot_problem(meta[SNAPSHOT_KEY]) if SNAPSHOT_KEY in meta else None
        if wrong:
            problems.append(Problem(path, doc.line(SNAPSHOT_KEY), wrong))
        return None, problems
    for part in (*rendered.mentions, *rendered.highlights):
        part.owner = key  # still parsing: what they hold is a function of the key
    article = ArticleRecord(
        source=path, slug=slug, title=title, date=day, datetime=moment, updated=updated,
        read=read,
        authors=authors, tags=tags, source_url=source_url,
        publication=fields.text("publication"), summary=summary, draft=draft,
        lang=lang, template=template, body_html=rendered.html,
        word_count=rendered.words, headings=rendered.headings,
        extra={k: v for k, v in meta.items() if k not in KNOWN_KEYS},
        lines=dict(doc.key_lines), links=rendered.links, mentions=rendered.mentions,
        highlights=rendered.highlights, about=about, events=events,
        wikilinks=rendered.wikilinks, embeds=rendered.embeds, hashtags=rendered.hashtags,
        blocks=rendered.blocks, categories=categories, aliases=aliases,
        redirects=redirects, permalink=permalink, dated_by=dated_by,
        assets=rendered.assets, quotations=rendered.quotations, key=key,
    )
    return article, problems


def _other_date(fields: Fields, key: str, tz: ZoneInfo) -> date | datetime | None:
    """``updated:`` or ``read:`` (same forms as ``date:``): a date, or an aware datetime
    when a time is given; None when absent or invalid (a problem at its line)."""
    value = fields.meta.get(key)
    if value is None:
        return None
    try:
        day, moment = parse_date(value, tz)
    except ValueError as exc:
        fields.problem(key, f"invalid {key} date: {exc}")
        return None
    return moment or day


def _day(value: date | datetime) -> date:
    """The calendar date of ``value``, in its own offset (never shifted)."""
    return value.date() if isinstance(value, datetime) else value


def _apply_synonyms(meta: dict, lines: dict[str, int]) -> None:
    """Fill a missing ``date``, ``updated`` or ``summary`` from the key other tools use
    for it (:data:`SYNONYMS`; ``published`` only when it is a date), line included."""
    for key, others in SYNONYMS.items():
        if meta.get(key) is not None:
            continue
        for other in others:
            value = meta.get(other)
            if value is None or isinstance(value, bool):  # `published: false` is no date
                continue
            meta[key] = value
            if other in lines:
                lines[key] = lines[other]
            break


def _draft(fields: Fields) -> bool:
    """``draft: true``, Jekyll's ``published: false`` or Pelican's ``status: draft``.

    A value that is not a boolean is an error: under YAML 1.2 ``draft: yes`` is the
    string "yes", and guessing would publish a draft or hide an article."""
    meta, draft = fields.meta, False
    value = meta.get("draft", False)
    if isinstance(value, bool):
        draft = value
    else:
        fields.problem("draft", "draft must be true or false")
    published = meta.get("published")
    if isinstance(published, bool):
        draft = draft or not published
    elif isinstance(published, str) and published.strip().lower() in ("yes", "no", "on", "off"):
        fields.problem("published", "published must be true, false or a date")
    status = fields.text("status").lower()
    if status == "draft":
        draft = True
    elif status not in ("", "published", "hidden"):
        fields.problem("status", f'status "{status[:40]}" is not "draft" or "published"')
    return draft


def _categories(fields: Fields) -> list[str]:
    """Jekyll's ``category`` and ``categories``: a list, or one space-separated string."""
    found: list[str] = []
    for key in ("category", "categories"):
        value = fields.meta.get(key)
        if isinstance(value, str) and key == "categories":
            found += value.split()
        elif value is not None:
            found += fields.names(key, split_commas=False)
    return list(dict.fromkeys(found))


def _aliases(fields: Fields) -> tuple[list[str], list[str]]:
    """(other names, old site paths) from ``aliases`` and Jekyll's ``redirect_from``.

    An alias starting with ``/`` is an old URL (Hugo); any other one is another name of
    the article, for wikilinks (Obsidian). Every ``redirect_from`` entry is an old URL.
    """
    names: list[str] = []
    paths: list[str] = []
    for item in fields.names("aliases", split_commas=False):
        (paths if item.startswith("/") else names).append(item)
    for item in fields.names("redirect_from", split_commas=False):
        paths.append(item if item.startswith("/") else "/" + item)
    for item in paths:
        if item.startswith("//") or any(c in item for c in "\\?#<>\"'") or \
                any(part in (".", "..") for part in item.split("/")):
            fields.problem("aliases" if "aliases" in fields.meta else "redirect_from",
                           f'old URL "{item[:80]}" must be a plain site path such as '
                           '"/2019/old-name/"')
            return names, []
    return list(dict.fromkeys(names)), list(dict.fromkeys(paths))


def _permalink(fields: Fields) -> str:
    """``permalink`` or ``url`` when it is a site path (``/about/``); an absolute
    ``url: https://…`` is the source instead (see :func:`_source_url`)."""
    for key in ("permalink", "url"):
        value = fields.text(key)
        if not value or (key == "url" and value.lower().startswith(("http://", "https://"))):
            continue
        if not value.startswith("/") or value.startswith("//") or \
                any(c in value for c in "\\?#<>\"' ") or \
                any(part in (".", "..") for part in value.split("/")):
            fields.problem(key, f'{key} "{value[:80]}" must be a site path such as '
                           '"/about/" or "/notes/page.html"')
            return ""
        return value
    return ""


def _source_url(fields: Fields) -> str:
    """``source:``, if it may be a link (:mod:`builder.safeurl`); else "" and a problem.
    An absolute ``url:`` (Hugo's and Jekyll's key) is read as the source when there is
    no ``source:``."""
    url = fields.text("source")
    if not url and fields.text("url").lower().startswith(("http://", "https://")):
        url = fields.text("url")
    verdict = check_url(url)
    if verdict.ok and url and not url.lower().startswith(("http://", "https://", "//")):
        fields.problem("source", f'source "{url[:80]}" is not an absolute URL (http:// or '
                       "https://): not linked", warning=True)
        return ""
    if verdict.ok:
        return url
    fields.problem("source", verdict.message("source", url), warning=verdict.level != "error")
    return ""


def _lang(fields: Fields) -> str:
    """``lang:``, if it is a language tag; else "" (the site's language) and a warning:
    it is printed in ``lang`` attributes and feeds, where anything else is invalid."""
    lang = fields.text("lang")
    if lang and not is_language_tag(lang):
        fields.problem("lang", f'lang "{lang[:80]}" is not a language tag such as "en" or '
                       '"pt-BR": the site\'s language is used', warning=True)
        return ""
    return lang


def _events(value: object, line: int, path: str, problems: list[Problem]) -> list[dict]:
    """``events: [{date, text, entities, after}]`` from front matter, checked.

    ``after`` names an event entity this event follows: "soon after the June
    gathering" is a date of ``2025`` that sorts after that gathering's ``2025-06``.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem(path, line, "events must be a list of {date, text, entities}"))
        return []
    events = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict) or not str(item.get("text") or "").strip():
            problems.append(Problem(path, line, f"event {number} needs a date and a text"))
            continue
        try:
            when = PartialDate.parse(item.get("date"))
        except ValueError as exc:
            problems.append(Problem(path, line, f"event {number}: invalid date: {exc}"))
            continue
        slugs = item.get("entities") or []
        if isinstance(slugs, str):
            slugs = [slugs]
        if not isinstance(slugs, list):
            problems.append(Problem(path, line, f"event {number}: entities must be a list"))
            continue
        after = item.get("after")
        if after is not None and not isinstance(after, str):
            problems.append(Problem(path, line, f"event {number}: after must be the slug of "
                                                "an event entity"))
            continue
        events.append({"date": when, "text": str(item["text"]).strip(),
                       "entities": [slugify(str(s)) for s in slugs], "line": line,
                       "after": slugify(after) if after else ""})
    return events


def _truncate_words(text: str, limit: int) -> str:
    words = text.split()
    if len(words) <= limit:
        return text
    return " ".join(words[:limit]).rstrip(".,;:") + "…"
