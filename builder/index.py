"""Index the parsed records into a :class:`Site`: URLs, links, taxonomies, pages.

Pure: records in, new objects out; no record is changed. Links between
articles are resolved from a table of URLs (see :func:`resolve_links`).
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import replace
from datetime import date
from itertools import groupby
from urllib.parse import quote

from builder.assets import AssetTable, check_asset_urls, plan_assets
from builder.config import SiteConfig
from builder.embeds import Embedder
from builder.entity_index import WikiResolver, entity_types, index_entities
from builder.lexicon import Lexicon
from builder.markdown.internal_links import REF_PREFIX
from builder.markdown.wikilinks import WIKI_PREFIX
from builder.model import Article, ArticleRecord, Entity, EntityRecord, Page, Paginator, Site
from builder.problems import Problem
from builder.redirects import plan_redirects
from builder.slugs import merge_key, slugify
from builder.terms import SINGULAR, TermFile, claimed_slugs, index_terms
from builder.urls import SITE_LINK, article_path, encode, output_file

TEMPLATES = {
    "home": "index.html", "archive": "archive.html", "tags": "tags.html", "tag": "tag.html",
    "authors": "authors.html", "author": "author.html", "not_found": "404.html",
    "entities": "entities.html", "entity": "entity.html", "timeline": "timeline.html",
    "annotations": "annotations.html", "categories": "categories.html",
    "category": "category.html", "search": "search.html",
}
# An attribute value that is a placeholder: the parser writes only these forms. The
# quote is matched (and written back), not looked behind for: the regex engine then finds
# the literal prefix '"postil-' by a fast scan, 10-20 times faster than trying the
# lookbehind at every character of a body.
_PLACEHOLDER = re.compile(r'"postil-(ref|wiki|asset|tag):(\d*)')
# Characters left as they are in a file's URL path (RFC 3986 pchar and "/")
_URL_SAFE = "/~!$&'()*+,;=:@"
# Any attribute value still starting with one (in escaped text quotes are &quot;).
_ANY_PLACEHOLDER = re.compile(r"""["']\s*postil-(?:ref|wiki|asset|tag):""", re.IGNORECASE)
# What every match of _ANY_PLACEHOLDER contains ("-" and ":" have no other case): a search
# that scans for the literal "-", far faster than _ANY_PLACEHOLDER's, which tries each quote.
_PLACEHOLDER_TAIL = re.compile(r"-(?i:ref|wiki|asset|tag):")
_ANY_EMBED = re.compile(r"""["']\s*postil-embed:""", re.IGNORECASE)
# A wikilink left as text (``wikilinks: {unresolved: text}``): the label is one text token.
_WIKI_LINK = re.compile(r'<a class="wikilink" href="postil-wiki:(\d+)">(.*?)</a>')


def index_site(config: SiteConfig, records: list[ArticleRecord], today: date,
               entities: list[tuple[EntityRecord, str, list[tuple[int, str]]]] | None = None,
               lexicon: Lexicon | None = None, memo: dict | None = None,
               drafts: bool = False, files: list[str] | None = None,
               term_files: list[TermFile] | None = None, failed: set[str] | None = None
               ) -> tuple[Site, list[Problem]]:
    """Select, order and cross-link the articles and entities; list every page to render.

    ``entities`` are (record, notes HTML with placeholders, notes' wikilinks);
    ``memo`` keeps costly answers between rebuilds of one site (see
    :func:`builder.entity_index.index_entities`); the result does not depend on it.
    ``files``: every other file under content/ (site-relative paths), of which the
    allowed ones are published (:mod:`builder.assets`); ``term_files``: the tag, author
    and category files (:mod:`builder.terms`); ``failed``: the article files that
    could not be read (their errors are reported), named as such by links to them.
    """
    problems: list[Problem] = []
    shown = [r for r in records
             if (drafts or not r.draft) and (config.future or r.date <= today)]
    shown.sort(key=lambda r: r.sort_key, reverse=True)
    urls = {r.source: article_path(config.permalink, r) for r in shown}
    _check_unique(shown, urls, problems)
    entity_records = [record for record, _, _ in entities or ()]
    resolver = WikiResolver(lexicon, entity_records, shown, records,
                            unresolved=config.wikilinks_unresolved)
    resolver.check_aliases(problems)
    resolver.tag_slugs = claimed_slugs("tags", term_files or [])
    resolver.failed = set(failed or ())
    hidden = {r.source for r in records} - urls.keys()
    prefix = SITE_LINK  # bodies link to site paths, made each page's own links as it renders
    assets, table, found = plan_assets(config, files or [], records, urls)
    problems += found

    targets: dict[str, list[str]] = {}
    bodies: dict[str, str] = {}
    for record in shown:
        bodies[record.source], targets[record.source] = resolve_links(
            record, urls, hidden, resolver, prefix, problems, table)
    embedder = Embedder({r.source: r for r in shown}, bodies, urls, prefix, resolver, problems)
    cards: dict[str, Article] = {}
    for record in shown:
        body = bodies[record.source]
        if record.embeds:
            body, embedded = embedder.body(record)
            targets[record.source] = list(dict.fromkeys([*targets[record.source], *embedded]))
        if "postil-embed:" in body and _ANY_EMBED.search(body):
            problems.append(Problem(record.source, 1, "an embed Postil could not make (a "
                                    "placeholder postil-embed:N written in raw HTML?)"))
        cards[record.source] = Article(record=record, url=urls[record.source],
                                       authors=record.authors or _default(config, record),
                                       body_html=body)
    entity_cards: dict[str, Entity] = {}
    for record, notes, wikilinks in entities or ():
        body = _resolve_notes(record, notes, wikilinks, urls, resolver, prefix, problems)
        entity_cards.setdefault(record.slug, Entity(record=record, body_html=body))

    ordered = [cards[r.source] for r in shown]
    found = index_entities(ordered, entity_cards, problems, memo)
    articles = tuple(replace(
        card, link_targets=tuple(cards[s] for s in targets[card.source]),
        related=tuple(cards[s] for s in found.related[card.source]),
        entity_groups=found.entity_groups[card.source]) for card in ordered)
    # A term file's text links as an article's body does (its fields have the same names);
    # but its inline #tags add no tag, so one that no article has would link to no page.
    built = {tag_path(t, resolver.tag_slugs) for card in ordered for t in card.tags}
    for term_file in term_files or ():
        for number, name in enumerate(term_file.hashtags):
            if tag_path(name, resolver.tag_slugs) not in built:
                problems.append(Problem(term_file.source, term_file.hashtag_lines.get(number, 1),
                                        f'inline tag "#{name}": no article has this tag, '
                                        "so it has no page to link to"))
    bodies = {f.source: resolve_links(f, urls, hidden, resolver, prefix, problems)[0]
              for f in term_files or ()}  # type: ignore[arg-type]
    names: dict[str, dict[str, tuple[str, str]]] = {}
    tags, names["tags"] = index_terms("tags", ordered, lambda a: a.tags, term_files or [],
                                      bodies, problems)
    authors, names["authors"] = index_terms("authors", ordered, lambda a: a.authors,
                                            term_files or [], bodies, problems)
    categories, names["categories"] = index_terms("categories", ordered,
                                                  lambda a: a.categories, term_files or [],
                                                  bodies, problems)
    years = tuple((year, tuple(group)) for year, group in groupby(ordered, key=lambda a: a.year))
    site = Site(config=config, articles=articles, tags=tags, authors=authors, years=years,
                entities=tuple(found.entities), entity_types=entity_types(found.entities),
                timeline=found.timeline,
                annotated=tuple(a for a in articles if a.highlights),
                categories=categories, term_names=names)
    pages = _pages(config, site, ordered, found.headers)
    _check_page_collisions(pages, problems)
    check_asset_urls(assets, pages, problems)
    redirects = plan_redirects(shown, urls, pages, assets, problems)
    return replace(site, pages=tuple(pages), assets=tuple(assets),
                   redirects=tuple(redirects)), problems


def _default(config: SiteConfig, record: ArticleRecord) -> list[str]:
    """The site's author for an article that names none, unless it is about a source:
    the site's author wrote the notes, not the source (builder.structured)."""
    return [config.author] if config.author and not record.source_url else []


def resolve_links(record: ArticleRecord, urls: dict[str, str], hidden: set[str],
                  resolver: WikiResolver, prefix: str, problems: list[Problem],
                  assets: AssetTable | None = None) -> tuple[str, list[str]]:
    """The record's body with every link placeholder replaced by its URL, and the
    sources of the articles it links to (each once, in order).

    Placeholders are ``postil-ref:N`` (the N-th of ``record.links``),
    ``postil-wiki:N`` (of ``record.wikilinks``; a heading or block adds its
    ``#id``, a fragment on the page itself is only that), ``postil-asset:N`` (of
    ``record.assets``, found in ``assets``) and ``postil-tag:N`` (of
    ``record.hashtags``), always at the start of an attribute value; URLs come
    from ``urls`` (source → site path) and are HTML-escaped as they go in. A
    link that names no built article is a problem, and so is any placeholder left
    over (written in raw HTML, say): an unresolved placeholder never reaches the
    output. Embeds (``postil-embed:N``) are left for :class:`builder.embeds.Embedder`.
    """
    found: list[str] = []
    start = len(problems)
    by_index: dict[tuple[str, int], str] = {}
    for number, (line, target) in enumerate(record.links):
        if target in urls:
            by_index["postil-ref", number] = prefix + urls[target]
            found.append(target)
            continue
        if target in hidden:
            reason = "is a draft or dated in the future, so it is not built"
        elif target in resolver.failed:
            reason = "has errors of its own, so it is not built"
        else:
            close = difflib.get_close_matches(target, urls, n=1)
            reason = "does not exist" + (f' (did you mean "{close[0]}"?)' if close else "")
        problems.append(Problem(record.source, line, f'link to "{target}": {reason}'))
    for number, (line, target, how) in enumerate(record.assets):
        url, message = (assets or AssetTable()).resolve(target, how, record.source)
        if url is None:
            problems.append(Problem(record.source, line, message))
        else:
            by_index["postil-asset", number] = prefix + quote(url, safe=_URL_SAFE)
    wiki = resolver.targets(record.wikilinks, record.source, problems, record)
    as_text = set()
    for number, hit in enumerate(wiki):
        if hit is None:
            as_text.add(number)
            continue
        target, ident = hit
        fragment = f"#{ident}" if ident else ""
        if target.source == record.source and ident:
            by_index["postil-wiki", number] = fragment
        else:
            by_index["postil-wiki", number] = prefix + urls[target.source] + fragment
            found.append(target.source)
    for number, name in enumerate(record.hashtags):
        by_index["postil-tag", number] = prefix + tag_path(name, resolver.tag_slugs)
    body = record.body_html
    if as_text and resolver.unresolved == "text":
        body = _WIKI_LINK.sub(lambda m: f'<span class="wikilink-unresolved">{m[2]}</span>'
                              if int(m[1]) in as_text else m[0], body)
    body = _substitute(body, by_index, record.source, problems, start)
    return body, list(dict.fromkeys(found))


def tag_path(name: str, claimed: dict[str, str]) -> str:
    """The site path of a tag's page (as the themes make it: ``/tags/<slug>/``), with
    the slug a tag file gives the name, if one does (``claimed``, see
    :func:`builder.terms.claimed_slugs`)."""
    return f"/tags/{claimed.get(merge_key(name)) or slugify(name)}/"


def _resolve_notes(record: EntityRecord, notes: str, wikilinks: list[tuple[int, str]],
                   urls: dict[str, str], resolver: WikiResolver, prefix: str,
                   problems: list[Problem]) -> str:
    start = len(problems)
    by_index = {("postil-wiki", number): prefix + urls[hit[0].source] +
                (f"#{hit[1]}" if hit[1] else "") for number, hit
                in enumerate(resolver.targets(wikilinks, record.source, problems))
                if hit is not None}
    if resolver.unresolved == "text":
        notes = _WIKI_LINK.sub(lambda m: f'<span class="wikilink-unresolved">{m[2]}</span>'
                               if ("postil-wiki", int(m[1])) not in by_index else m[0], notes)
    return _substitute(notes, by_index, record.source, problems, start)


def _substitute(body: str, by_index: dict[tuple[str, int], str], source: str,
                problems: list[Problem], start: int) -> str:
    """Placeholders → URLs (``by_index`` holds them whole, base path included); a
    leftover is a problem unless its link was reported since ``start`` (an index into
    ``problems``)."""
    if "postil-" not in body:
        return body

    def url(match: re.Match) -> str:
        number = match[2]
        path = by_index.get(("postil-" + match[1], int(number))) if number else None
        return match[0] if path is None else '"' + html.escape(encode(path), quote=True)

    body = _PLACEHOLDER.sub(url, body)
    if len(problems) == start and _PLACEHOLDER_TAIL.search(body) and \
            _ANY_PLACEHOLDER.search(body):
        problems.append(Problem(source, 1, "a link Postil could not resolve (a placeholder "
                                f"such as {REF_PREFIX}N or {WIKI_PREFIX}N written in the "
                                "text or raw HTML?)"))
    return body


def _check_page_collisions(pages: list[Page], problems: list[Problem]) -> None:
    """An article whose URL is also a list page's (``/tags/``, ``/page/2/``) is an error."""
    owners: dict[str, Page] = {}
    for page in pages:
        other = owners.setdefault(output_file(page.url), page)
        if other is not page and bool(page.source) != bool(other.source):
            article = page if page.source else other
            record = article.context.get("article")
            line = _url_line(record.record) if isinstance(record, Article) else 1
            problems.append(Problem(article.source, line, f"{article.url} is also the URL of "
                                    "a page Postil makes; change the slug or permalink"))


def _check_unique(records: list[ArticleRecord], urls: dict[str, str],
                  problems: list[Problem]) -> None:
    """Two articles at one URL are an error naming both; when they share a slug, the
    error says how to tell them apart (``a/notes.md`` and ``b/notes.md``)."""
    by_file: dict[str, ArticleRecord] = {}
    for record in sorted(records, key=lambda r: r.source):
        url = urls[record.source]
        if not url.endswith(("/", ".html", ".htm")):
            problems.append(Problem(record.source, _url_line(record), f"{url}: an article's "
                                    'URL must end in "/" or ".html"'))
            continue
        other = by_file.setdefault(output_file(url), record)
        if other is record:
            continue
        if record.slug == other.slug and not record.permalink and not other.permalink:
            problems.append(Problem(record.source, record.line("slug"), f'duplicate slug '
                                    f'"{record.slug}": {other.source} has it too (give one a '
                                    'slug:, or set permalinks: {article: "/{path}/"} in '
                                    "site.yml for URLs that follow the folders)"))
        else:
            problems.append(Problem(record.source, _url_line(record),
                                    f"{url} is also the URL of {other.source}"))


def _url_line(record: ArticleRecord) -> int:
    """The line that chose the article's URL: ``permalink``/``url``, else its date."""
    for key in ("permalink", "url") if record.permalink else ():
        if key in record.lines:
            return record.lines[key]
    return record.line("date")


def paginate(items: tuple | list, size: int, base: str) -> list[Paginator]:
    chunks = [tuple(items[i:i + size]) for i in range(0, len(items), size)] or [()]
    return [Paginator(number=n, total=len(chunks), items=chunk, base=base)
            for n, chunk in enumerate(chunks, start=1)]


def _pages(config: SiteConfig, site: Site, cards: list[Article],
           headers: dict[str, Entity]) -> list[Page]:
    """Every page, with exactly what its template is handed.

    A page's signature is a hash of its :class:`Page`, so each context holds
    only what the page shows: lists hold cards; a term's own pages get the term
    without its articles (its name and count); an entity's later pages get its
    header (counts, no relations).
    """
    pages: list[Page] = []
    for index, article in enumerate(site.articles):
        newer = cards[index - 1] if index > 0 else None
        older = cards[index + 1] if index + 1 < len(cards) else None
        neighbours = tuple(a for a in (newer, older) if a is not None)
        pages.append(Page(article.url, article.template,
                          {"article": article, "newer": newer, "older": older},
                          source=article.source, source_line=article.line("template"),
                          shows=(cards[index], *neighbours, *article.link_targets,
                                 *article.related)))
    every = tuple(cards)
    for paginator in paginate(every, config.paginate, "/"):
        pages.append(Page(paginator.url, TEMPLATES["home"], {"paginator": paginator},
                          shows=paginator.items))
    pages.append(Page("/archive/", TEMPLATES["archive"],
                      {"years": site.years, "count": len(every)}, shows=every))
    for kind, terms in (("tags", site.tags), ("authors", site.authors),
                        ("categories", site.categories)):
        bare = tuple(replace(term, articles=()) for term in terms)
        pages.append(Page(f"/{kind}/", TEMPLATES[kind], {"terms": bare}, shows=every))
        for term, header in zip(terms, bare, strict=True):
            for paginator in paginate(term.articles, config.paginate, term.url):
                pages.append(Page(paginator.url, TEMPLATES[SINGULAR[kind]],
                                  {"term": header, "paginator": paginator},
                                  shows=paginator.items))
    _entity_pages(config, site, headers, every, pages)
    if config.search:  # the index it searches is made after rendering (builder.search)
        pages.append(Page("/search/", TEMPLATES["search"], {}))
    pages.append(Page("/404.html", TEMPLATES["not_found"], {}))
    return pages


def _entity_pages(config: SiteConfig, site: Site, headers: dict[str, Entity],
                  every: tuple[Article, ...], pages: list[Page]) -> None:
    types = tuple((kind, tuple(headers[e.slug] for e in group))
                  for kind, group in site.entity_types)
    pages.append(Page("/entities/", TEMPLATES["entities"], {"types": types}, shows=every))
    for entity in site.entities:
        for paginator in paginate(entity.passages, config.paginate, entity.url):
            # Page 1 shows the notes, co-mentions and timeline; later pages its header.
            # Every page shows its own passages, from its paginator: an entity's full
            # lists of mentions and articles are in no page's context, so an edit to an
            # article renders only the page that shows its passage (and page 1 when the
            # article is in the co-mentions' counts or the timeline).
            shown = replace(entity, mentions=(), articles=(), passages=()) \
                if paginator.number == 1 else headers[entity.slug]
            pages.append(Page(paginator.url, TEMPLATES["entity"],
                              {"entity": shown, "paginator": paginator},
                              shows=tuple(article for article, _ in paginator.items)))
    pages.append(Page("/timeline/", TEMPLATES["timeline"], {"events": site.timeline},
                      shows=every))
    annotated = tuple(a for a in every if a.highlights)
    for paginator in paginate(annotated, config.paginate, "/annotations/"):
        pages.append(Page(paginator.url, TEMPLATES["annotations"], {"paginator": paginator},
                          shows=paginator.items))
