"""Cross-link entities and articles: mentions, co-mentions, related articles, timeline.

Pure and linear in the size of the archive: every loop runs over articles ×
(their own entities), never articles × all entities; popular entities are
capped where they would make related-article scoring quadratic.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from urllib.parse import quote

from builder.lexicon import Lexicon, name_key
from builder.markdown.wikilinks import WIKI_PREFIX
from builder.model import Article, Entity, Mention, Site, TimelineEvent
from builder.problems import Problem
from builder.slugs import slugify

ENTITY_TYPE_ORDER = ("person", "organization", "place", "event", "work", "other")
RELATED_ARTICLES = 5
RELATED_ENTITIES = 10
# Caps that keep cross-linking linear in the archive's size: related articles are
# looked for among the articles that share an article's rarest entities and tags
# (the ones that say most about it), and co-mentions count an article's most
# mentioned entities.
RARE_KEYS = 8  # rarest entities (and tags) of an article used to find related ones
POSTING_CAP = 40  # newest articles looked at per such entity or tag
CO_MENTION_CAP = 15  # entities per article counted for co-mentions


def index_entities(site: Site, entities: list[Entity], resolver: WikiResolver,
                   problems: list[Problem], memo: dict | None = None) -> None:
    """Fill in every entity's mentions, articles, passages, related entities and timeline."""
    by_slug = resolver.by_slug
    for entity in entities:
        entity.mentions, entity.articles, entity.passages = [], [], []
        entity.related, entity.timeline = [], []
    _check_entity_refs(entities, by_slug, problems)
    articles = site.articles
    for article in articles:
        _check_slugs(article, article.about, "entities", by_slug, problems)
        for event in article.events:
            _check_slugs(article, event["entities"], "events", by_slug, problems)
    for entity in entities:
        if entity.wikilinks:
            entity.body_html, _ = resolver.replace(entity.body_source, entity.wikilinks,
                                                   entity.source, problems)

    _collect_mentions(articles, by_slug)
    _co_mentions(articles, by_slug)
    _related_articles(articles, memo)
    site.entities = sorted(entities, key=lambda e: (name_key(e.name), e.slug))
    groups: dict[str, list[Entity]] = defaultdict(list)
    for entity in site.entities:
        groups[entity.type].append(entity)
    site.entity_types = [(kind, groups[kind]) for kind in ENTITY_TYPE_ORDER if groups.get(kind)]
    site.timeline = _timeline(articles, entities, by_slug)
    site.annotated = [a for a in articles if a.highlights]


class WikiResolver:
    """Finds the article a wikilink names (by slug or title); explains when none does."""

    def __init__(self, lexicon: Lexicon | None, entities: list[Entity], articles: list[Article],
                 every: list[Article], prefix: str):
        self.lexicon = lexicon
        self.by_slug = {e.slug: e for e in entities}
        self.by_article_slug = {a.slug: a for a in articles}
        self.by_title = {name_key(a.title): a for a in articles}
        self.hidden = {a.slug for a in every} | {name_key(a.title) for a in every}
        self.names = [e.name for e in entities] + [a.title for a in articles]
        self.prefix = prefix  # the base path without its trailing "/"

    def replace(self, html: str, wikilinks: list[tuple[int, str]], source: str,
                problems: list[Problem]) -> tuple[str, list[Article]]:
        """Swap each wikilink placeholder for its article's URL; report the unknown ones."""
        found_articles: list[Article] = []
        for line, target in wikilinks:
            found = self.article_for(target, source, line, problems)
            if found is not None:
                found_articles.append(found)
                html = html.replace(f'"{WIKI_PREFIX}{quote(target, safe="")}"',
                                    f'"{self.prefix}{found.url}"')
        return html, found_articles

    def article_for(self, target: str, source: str, line: int, problems: list[Problem]
                    ) -> Article | None:
        found = self.by_article_slug.get(slugify(target)) or self.by_title.get(name_key(target))
        if found is not None:
            return found
        candidates = self.lexicon.resolve(target)[1] if self.lexicon else []
        if len(candidates) > 1:
            names = " or ".join(f'"{self.by_slug[c].name}"' for c in candidates)
            problems.append(Problem(source, line, f'ambiguous wikilink "{target}": it may mean '
                                    f"{names}; write [[slug|{target}]]"))
        elif slugify(target) in self.hidden or name_key(target) in self.hidden:
            problems.append(Problem(source, line, f'wikilink "{target}" names an article that '
                                    "is a draft or dated in the future, so it is not built"))
        else:
            close = difflib.get_close_matches(target, self.names, n=1, cutoff=0.6)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problems.append(Problem(source, line,
                                    f'unknown entity or article "{target}"{hint}'))
        return None


def _check_slugs(article: Article, slugs: list[str], key: str, by_slug: dict[str, Entity],
                 problems: list[Problem]) -> None:
    for slug in slugs:
        if slug not in by_slug:
            close = difflib.get_close_matches(slug, by_slug, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problems.append(Problem(article.source, article.line(key),
                                    f'unknown entity "{slug}"{hint}'))


def _check_entity_refs(entities: list[Entity], by_slug: dict[str, Entity],
                       problems: list[Problem]) -> None:
    for entity in entities:
        refs = [("location", entity.location)] if entity.location else []
        refs += [("participants", slug) for slug in entity.participants]
        for key, slug in refs:
            if slug not in by_slug:
                close = difflib.get_close_matches(slug, by_slug, n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                problems.append(Problem(entity.source, entity.line(key),
                                        f'unknown entity "{slug}"{hint}'))


def _collect_mentions(articles: list[Article], by_slug: dict[str, Entity]) -> None:
    for article in articles:  # newest first, so every list below is too
        counts: Counter[str] = Counter()
        per_entity: dict[str, list[Mention]] = defaultdict(list)
        for mention in article.mentions:
            entity = by_slug.get(mention.entity)
            if entity is None:
                continue
            entity.mentions.append((article, mention))
            per_entity[mention.entity].append(mention)
            counts[mention.entity] += 1
        for slug in article.about:
            if slug in by_slug:
                counts[slug] += 0
        for slug in counts:
            entity = by_slug.get(slug)
            if entity is not None:
                entity.articles.append(article)
                entity.passages.append((article, passages(per_entity.get(slug, []))))
        groups: dict[str, list[tuple[Entity, int]]] = defaultdict(list)
        for slug, count in counts.items():
            if slug in by_slug:
                groups[by_slug[slug].type].append((by_slug[slug], count))
        article.entity_groups = [
            (kind, sorted(groups[kind], key=lambda pair: (-pair[1], name_key(pair[0].name))))
            for kind in ENTITY_TYPE_ORDER if kind in groups]


def passages(mentions: list[Mention]) -> list[list[tuple[str, Mention | None]]]:
    """Group mentions by paragraph: one passage each, cut into plain and mention pieces."""
    result: list[list[tuple[str, Mention | None]]] = []
    by_block: dict[int, list[Mention]] = defaultdict(list)
    for mention in mentions:
        by_block[mention.block].append(mention)
    for group in by_block.values():
        first = group[0]
        before = first.before.removeprefix("…")
        window = first.offset - len(before)  # where the shown text starts in the paragraph
        text = before + first.quote.exact + first.after.removesuffix("…")
        if not first.quote.exact:  # a mention in a margin note: no quote, the passage is all
            result.append([(first.before, None), ("", first), (first.after, None)])
            continue
        pieces: list[tuple[str, Mention | None]] = []
        cursor = 0
        for mention in group:
            start = mention.offset - window
            end = start + len(mention.quote.exact)
            if start < cursor or end > len(text):
                continue
            pieces += [(text[cursor:start], None), (text[start:end], mention)]
            cursor = end
        pieces.append((text[cursor:], None))
        if first.before.startswith("…"):
            pieces.insert(0, ("…", None))
        if first.after.endswith("…"):
            pieces.append(("…", None))
        result.append(pieces)
    return result


def _article_entities(article: Article) -> list[str]:
    return [entity.slug for _, pairs in article.entity_groups for entity, _ in pairs]


def _co_mentions(articles: list[Article], by_slug: dict[str, Entity]) -> None:
    pairs: dict[str, Counter[str]] = defaultdict(Counter)
    for article in articles:
        slugs = _article_entities(article)[:CO_MENTION_CAP]
        for slug in slugs:
            counter = pairs[slug]
            for other in slugs:
                if other != slug:
                    counter[other] += 1
    for slug, counter in pairs.items():
        ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        by_slug[slug].related = [(by_slug[o], n) for o, n in ranked[:RELATED_ENTITIES]]


def _related_articles(articles: list[Article], memo: dict | None = None) -> None:
    """Rank other articles by shared entities, then shared tags, then recency.

    Candidates come from the newest articles sharing an article's rarest
    entities and tags. ``memo`` (kept between rebuilds by the preview server)
    holds earlier answers: an article's ranking is reused while its own content
    and the lists it drew candidates from are unchanged.
    """
    by_entity: dict[str, list[Article]] = defaultdict(list)
    by_tag: dict[str, list[Article]] = defaultdict(list)
    entities_of: dict[int, set[str]] = {}
    tags_of: dict[int, set[str]] = {}
    for article in articles:
        entities_of[id(article)] = set(_article_entities(article))
        tags_of[id(article)] = {slugify(t) for t in article.tags}
        for slug in entities_of[id(article)]:
            by_entity[slug].append(article)
        for tag in tags_of[id(article)]:
            by_tag[tag].append(article)
    position = {id(a): i for i, a in enumerate(articles)}
    by_source = {a.source: a for a in articles}
    fingerprints: dict[tuple[str, str], int] = {}
    previous, memo_out = (memo.get("related", {}) if memo is not None else {}), {}
    for article in articles:
        own_entities, own_tags = entities_of[id(article)], tags_of[id(article)]
        sources: list[tuple[str, list[Article]]] = []
        for kind, postings, keys in (("e", by_entity, own_entities), ("t", by_tag, own_tags)):
            rarest = sorted(keys, key=lambda k: (len(postings[k]), k))[:RARE_KEYS]
            sources += [(f"{kind}:{key}", postings[key][:POSTING_CAP]) for key in rarest]
        memo_key = (article.key, *(
            (name, fingerprints.get((name, "")) or
             fingerprints.setdefault((name, ""), hash(tuple(a.key for a in members))))
            for name, members in sources))
        known = previous.get(memo_key)
        if known is None:
            candidates = {id(o): o for _, members in sources for o in members}
            candidates.pop(id(article), None)
            scored = sorted(candidates.values(), key=lambda other: (
                -len(own_entities & entities_of[id(other)]),
                -len(own_tags & tags_of[id(other)]), position[id(other)]))
            known = [other.source for other in scored[:RELATED_ARTICLES]
                     if own_entities & entities_of[id(other)] or own_tags & tags_of[id(other)]]
        memo_out[memo_key] = known
        article.related = [by_source[source] for source in known]
    if memo is not None:
        memo["related"] = memo_out


def _timeline(articles: list[Article], entities: list[Entity], by_slug: dict[str, Entity]
              ) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    for entity in entities:
        if entity.type == "event" and entity.date is not None:
            involved = [by_slug[s] for s in [entity.location, *entity.participants]
                        if s in by_slug]
            events.append(TimelineEvent(date=entity.date, end=entity.end, text=entity.name,
                                        entities=involved, articles=list(entity.articles),
                                        entity=entity))
    for article in articles:
        for item in article.events:
            involved = [by_slug[s] for s in item["entities"] if s in by_slug]
            events.append(TimelineEvent(date=item["date"], text=item["text"], entities=involved,
                                        articles=[article]))
    events.sort(key=lambda e: (e.date.sort_key, e.text))
    for event in events:
        for entity in {id(e): e for e in [*event.entities, event.entity] if e}.values():
            entity.timeline.append(event)
    return events
