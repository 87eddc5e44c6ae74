"""Index the parsed articles into a :class:`Site`: URLs, taxonomies, pages.

Pure: no I/O, no HTML beyond swapping resolved link targets into bodies.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from datetime import date
from itertools import groupby

from builder.config import SiteConfig
from builder.entity_index import WikiResolver, index_entities
from builder.lexicon import Lexicon
from builder.markdown.internal_links import REF_PREFIX
from builder.model import Article, Entity, Page, Paginator, Site, Term
from builder.problems import Problem
from builder.slugs import slugify
from builder.urls import article_path, output_file

TEMPLATES = {
    "home": "index.html", "archive": "archive.html", "tags": "tags.html", "tag": "tag.html",
    "authors": "authors.html", "author": "author.html", "not_found": "404.html",
    "entities": "entities.html", "entity": "entity.html", "timeline": "timeline.html",
    "annotations": "annotations.html",
}


def index_site(config: SiteConfig, articles: list[Article], today: date,
               entities: list[Entity] | None = None, lexicon: Lexicon | None = None,
               memo: dict | None = None) -> tuple[Site, list[Problem]]:
    """Select, order and cross-link the articles and entities; list every page to render.

    ``memo`` keeps costly answers between rebuilds of one site (see
    :func:`builder.entity_index.index_entities`); the result does not depend on it.
    """
    entities = entities or []
    problems: list[Problem] = []
    shown = [a for a in articles
             if (config.drafts or not a.draft) and (config.future or a.date <= today)]
    shown.sort(key=lambda a: a.sort_key, reverse=True)
    for article in shown:
        if not article.authors and config.author:
            article.authors = [config.author]
        article.url = article_path(config.permalink, article)
    _check_unique(shown, problems)
    resolver = WikiResolver(lexicon, entities, shown, articles, config.base_path.rstrip("/"))
    _resolve_links(config, articles, shown, resolver, problems)
    tags = _terms("tags", shown, lambda a: a.tags, problems)
    authors = _terms("authors", shown, lambda a: a.authors, problems)
    years = [(year, list(group)) for year, group in groupby(shown, key=lambda a: a.year)]
    site = Site(config=config, articles=shown, tags=tags, authors=authors, years=years)
    index_entities(site, entities, resolver, problems, memo)
    site.pages = _pages(config, site)
    _check_page_collisions(site.pages, problems)
    return site, problems


def _check_page_collisions(pages: list[Page], problems: list[Problem]) -> None:
    """An article whose URL is also a list page's (``/tags/``, ``/page/2/``) is an error."""
    owners: dict[str, Page] = {}
    for page in pages:
        other = owners.setdefault(output_file(page.url), page)
        if other is not page and bool(page.source) != bool(other.source):
            article = page if page.source else other
            problems.append(Problem(article.source, 1, f"{article.url} is also the URL of "
                                    "a page Postil makes; change the slug or permalink"))


def _check_unique(articles: list[Article], problems: list[Problem]) -> None:
    by_slug: dict[str, Article] = {}
    by_file: dict[str, Article] = {}
    for article in sorted(articles, key=lambda a: a.source):
        other = by_slug.setdefault(article.slug, article)
        if other is not article:
            problems.append(Problem(article.source, article.line("slug"),
                                    f'duplicate slug "{article.slug}": {other.source} has it too'))
            continue
        other = by_file.setdefault(output_file(article.url), article)
        if other is not article:
            problems.append(Problem(article.source, article.line("date"),
                                    f'{article.url} is also the URL of {other.source}'))


def _resolve_links(config: SiteConfig, every: list[Article], shown: list[Article],
                   resolver: WikiResolver, problems: list[Problem]) -> None:
    """Swap link placeholders for URLs; works from ``body_source``, so it can run again."""
    by_source = {a.source: a for a in shown}
    hidden = {a.source for a in every} - by_source.keys()
    prefix = config.base_path.rstrip("/")
    for article in shown:
        if not article.links and not article.wikilinks:
            continue
        html, article.link_targets = resolver.replace(article.body_source, article.wikilinks,
                                                      article.source, problems)
        for line, target in article.links:
            found = by_source.get(target)
            if found is None:
                if target in hidden:
                    reason = "is a draft or dated in the future, so it is not built"
                else:
                    close = difflib.get_close_matches(target, by_source, n=1)
                    reason = "does not exist" + (f' (did you mean "{close[0]}"?)' if close else "")
                problems.append(Problem(article.source, line, f'link to "{target}": {reason}'))
                continue
            article.link_targets.append(found)
            html = html.replace(f'"{REF_PREFIX}{target}', f'"{prefix}{found.url}')
        article.body_html = html


def _terms(kind: str, articles: list[Article], names, problems: list[Problem]) -> list[Term]:
    """Group articles by the slug of each name; show the most used spelling."""
    grouped: dict[str, list[Article]] = defaultdict(list)
    spellings: dict[str, Counter] = defaultdict(Counter)
    for article in articles:
        seen = set()
        for name in names(article):
            slug = slugify(name)
            if not slug:
                problems.append(Problem(article.source, article.line(kind if kind == "tags"
                                                                     else "author"),
                                        f'"{name}" cannot be made into a {kind[:-1]} slug'))
                continue
            if slug in seen:
                continue
            seen.add(slug)
            grouped[slug].append(article)
            spellings[slug][name] += 1
    terms = []
    for slug, members in grouped.items():
        name = min(spellings[slug].items(), key=lambda item: (-item[1], item[0]))[0]
        terms.append(Term(kind=kind, slug=slug, name=name, articles=members))
    terms.sort(key=lambda t: (t.name.casefold(), t.slug))
    return terms


def paginate(items: list, size: int, base: str) -> list[Paginator]:
    chunks = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    return [Paginator(number=n, total=len(chunks), items=chunk, base=base)
            for n, chunk in enumerate(chunks, start=1)]


def _pages(config: SiteConfig, site: Site) -> list[Page]:
    pages: list[Page] = []
    articles = site.articles
    for index, article in enumerate(articles):
        newer = articles[index - 1] if index > 0 else None
        older = articles[index + 1] if index + 1 < len(articles) else None
        neighbours = [a for a in (newer, older) if a is not None]
        entities = [entity for _, pairs in article.entity_groups for entity, _ in pairs]
        pages.append(Page(article.url, article.template,
                          {"article": article, "newer": newer, "older": older},
                          source=article.source, source_line=article.line("template"),
                          deps=[article, *neighbours, *article.link_targets, *article.related,
                                *entities]))
    for paginator in paginate(articles, config.paginate, "/"):
        pages.append(Page(paginator.url, TEMPLATES["home"], {"paginator": paginator},
                          deps=paginator.items))
    pages.append(Page("/archive/", TEMPLATES["archive"],
                      {"years": site.years, "count": len(articles)}, deps=articles))
    for kind, terms in (("tags", site.tags), ("authors", site.authors)):
        pages.append(Page(f"/{kind}/", TEMPLATES[kind], {"terms": terms}, deps=articles))
        for term in terms:
            for paginator in paginate(term.articles, config.paginate, term.url):
                # A page shows its own articles, and the term's name and count.
                pages.append(Page(paginator.url, TEMPLATES[kind[:-1]],
                                  {"term": term, "paginator": paginator}, deps=paginator.items,
                                  stamp=f"{term.name}\0{term.count}"))
    _entity_pages(config, site, pages)
    pages.append(Page("/404.html", TEMPLATES["not_found"], {}))
    return pages


def _entity_pages(config: SiteConfig, site: Site, pages: list[Page]) -> None:
    everything = [*site.articles, *site.entities]
    pages.append(Page("/entities/", TEMPLATES["entities"], {"types": site.entity_types},
                      deps=everything))
    for entity in site.entities:
        shown = [entity, *(e for e, _ in entity.related), *entity.articles]
        for event in entity.timeline:
            shown += [*event.entities, *event.articles]
        for paginator in paginate(entity.passages, config.paginate, entity.url):
            # Page 1 also shows co-mentions and the timeline, which any of the
            # entity's articles can change; later pages only their own passages.
            deps = shown if paginator.number == 1 else \
                [entity, *(article for article, _ in paginator.items)]
            pages.append(Page(paginator.url, TEMPLATES["entity"],
                              {"entity": entity, "paginator": paginator}, deps=deps,
                              stamp=f"{len(entity.mentions)}\0{len(entity.articles)}"))
    pages.append(Page("/timeline/", TEMPLATES["timeline"], {"events": site.timeline},
                      deps=everything))
    for paginator in paginate(site.annotated, config.paginate, "/annotations/"):
        pages.append(Page(paginator.url, TEMPLATES["annotations"], {"paginator": paginator},
                          deps=paginator.items))
