"""Cross-link entities and articles: mentions, co-mentions, related articles, timeline.

Pure and linear in the size of the archive: every loop runs over articles ×
(their own entities), never articles × all entities; popular entities are
capped where they would make related-article scoring quadratic.
"""

from __future__ import annotations

import difflib
import hashlib
import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from itertools import chain

from builder.lexicon import name_key
from builder.markdown.annotations import PASSAGE
from builder.model import Article, Entity, Mention, TimelineEvent
from builder.problems import Problem
from builder.slugs import slugify
from builder.wiki import WikiResolver  # noqa: F401 (once defined here; imported from here)

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


@dataclass(frozen=True)
class EntityIndex:
    """What cross-linking entities and articles decided, for building the indexed objects.

    Articles are named by their source path; entity cards by slug.
    """

    entity_groups: dict[str, tuple]  # article source → ((type, ((entity card, count), …)), …)
    related: dict[str, list[str]]  # article source → sources of its related articles
    entities: list[Entity]  # full entities, A–Z
    headers: dict[str, Entity]  # slug → the entity with its counts, without relations
    timeline: tuple[TimelineEvent, ...]


def index_entities(articles: list[Article], cards: dict[str, Entity],
                   problems: list[Problem], memo: dict | None = None) -> EntityIndex:
    """Every entity's mentions, articles, passages, related entities and timeline.

    ``articles`` are the shown article cards, newest first; ``cards`` the entity
    cards by slug. Pure: returns new objects, changes none.
    """
    for article in articles:
        _check_slugs(article, article.about, "entities", cards, problems)
        for number, event in enumerate(article.events, start=1):
            _check_slugs(article, event["entities"], "events", cards, problems)
            _check_after(article, number, event, cards, problems)
    _check_entity_refs(list(cards.values()), cards, problems)

    mentions: dict[str, list[tuple[Article, Mention]]] = defaultdict(list)
    mentioned_in: dict[str, list[Article]] = defaultdict(list)
    passages_of: dict[str, list[tuple[Article, list]]] = defaultdict(list)
    groups_of: dict[str, tuple] = {}
    slugs_of: dict[str, list[str]] = {}
    for article in articles:  # newest first, so every list below is too
        # Each entity the article names (mentions first, then `about:`), with its mentions.
        per_entity: dict[str, list[Mention]] = {}
        for mention in article.record.mentions:
            slug = mention.entity
            if slug in cards:
                mentions[slug].append((article, mention))
                found = per_entity.get(slug)
                if found is None:
                    per_entity[slug] = [mention]
                else:
                    found.append(mention)
        for slug in article.about:
            if slug in cards and slug not in per_entity:
                per_entity[slug] = []
        by_type: dict[str, list[tuple[Entity, int]]] = defaultdict(list)
        for slug, found in per_entity.items():
            mentioned_in[slug].append(article)
            passages_of[slug].append((article, passages(found)))
            card = cards[slug]
            by_type[card.type].append((card, len(found)))
        groups = tuple(
            (kind, tuple(sorted(by_type[kind], key=lambda pair: (-pair[1],
                                                                name_key(pair[0].name)))))
            for kind in ENTITY_TYPE_ORDER if kind in by_type)
        groups_of[article.source] = groups
        slugs_of[article.source] = [entity.slug for _, pairs in groups for entity, _ in pairs]

    co_mentioned = _co_mentions(articles, slugs_of)
    related = _related_articles(articles, slugs_of, memo)
    timeline = _timeline(articles, list(cards.values()), cards, mentioned_in)
    on_timeline: dict[str, list[TimelineEvent]] = defaultdict(list)
    for event in timeline:
        for slug in {e.slug: e for e in [*event.entities, event.entity] if e}:
            on_timeline[slug].append(event)

    entities: list[Entity] = []
    headers: dict[str, Entity] = {}
    for slug, card in cards.items():
        headers[slug] = replace(card, mention_count=len(mentions[slug]),
                                article_count=len(mentioned_in[slug]),
                                place=cards.get(card.location) if card.location else None)
        entities.append(replace(
            headers[slug], mentions=tuple(mentions[slug]), articles=tuple(mentioned_in[slug]),
            passages=tuple(passages_of[slug]),
            related=tuple((cards[other], n) for other, n in co_mentioned.get(slug, [])),
            timeline=tuple(on_timeline[slug])))
    entities.sort(key=lambda e: (name_key(e.name), e.slug))
    return EntityIndex(entity_groups=groups_of, related=related, entities=entities,
                       headers=headers, timeline=timeline)


def entity_types(entities: list[Entity]) -> tuple[tuple[str, tuple[Entity, ...]], ...]:
    """``entities`` grouped by type, in the order of :data:`ENTITY_TYPE_ORDER`."""
    groups: dict[str, list[Entity]] = defaultdict(list)
    for entity in entities:
        groups[entity.type].append(entity)
    return tuple((kind, tuple(groups[kind])) for kind in ENTITY_TYPE_ORDER if groups.get(kind))


def _check_slugs(article: Article, slugs: list[str], key: str, by_slug: dict[str, Entity],
                 problems: list[Problem]) -> None:
    for slug in slugs:
        if slug not in by_slug:
            close = difflib.get_close_matches(slug, by_slug, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problems.append(Problem(article.source, article.line(key),
                                    f'unknown entity "{slug}"{hint}'))


def _check_after(article: Article, number: int, event: dict, by_slug: dict[str, Entity],
                 problems: list[Problem]) -> None:
    """An event's ``after:`` names a dated event entity that begins no later than the
    event's own date can end (``number``: the event's place in ``events:``, from 1)."""
    target = by_slug.get(event.get("after") or "")
    if not event.get("after"):
        return
    if target is None or target.type != "event" or target.date is None:
        problems.append(Problem(article.source, event["line"], f'event {number}: after: '
                                f'"{event["after"]}" is not a dated event entity'))
        return
    own, first = event["date"], target.date
    latest = (own.year + 9 * own.decade, own.month or 12, own.day or 31)
    if latest < (first.year, first.month or 1, first.day or 1):
        problems.append(Problem(article.source, event["line"],
                                f'event {number}: an event dated {own.label} cannot come '
                                f'after "{target.name}" ({first.label})'))


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


def passages(mentions: list[Mention]) -> list[list[tuple[str, Mention | None]]]:
    """The passages that show ``mentions`` (one entity's, in one article, in order):
    lists of (text, None) and (its words, mention) pieces, a mention's words emphasised.

    A passage is at most :data:`PASSAGE` characters of one paragraph (or margin note)
    as shown, corrections applied, cut at word boundaries around the mentions it is
    about, with "…" where it was cut. Mentions close together share a passage; one
    too far from the others gets its own, so no mention is left out.
    """
    if len(mentions) <= 1:  # most entities, in most articles: no grouping to do
        return [_passage(mentions)] if mentions else []
    result: list[list[tuple[str, Mention | None]]] = []
    by_block: dict[int, list[Mention]] = defaultdict(list)
    for mention in mentions:
        by_block[mention.block].append(mention)
    for group in by_block.values():
        index = 0
        while index < len(group):
            first = group[index]
            members, end = [first], first.offset + len(first.text)
            index += 1
            while index < len(group):  # the next ones that fit in one passage with it
                mention = group[index]
                if mention.offset < end:  # inside the one before (never written so)
                    index += 1
                    continue
                if mention.offset + len(mention.text) - first.offset > PASSAGE:
                    break
                members.append(mention)
                end = mention.offset + len(mention.text)
                index += 1
            result.append(_passage(members))
    return result


def _passage(members: list[Mention]) -> list[tuple[str, Mention | None]]:
    """One passage: the text from the first of ``members`` to the end of the last,
    and as much on either side as :data:`PASSAGE` leaves, shared out evenly."""
    first, last = members[0], members[-1]
    span = last.offset + len(last.text) - first.offset
    room = max(0, PASSAGE - span)
    left = min(len(first.before), room // 2)
    right = min(len(last.after), room - left)
    left = min(len(first.before), room - right)  # what the right side did not need
    before, after = first.before, last.after
    start = len(before) - left
    if start > 0:  # cut after a space, not inside a word
        space = before.find(" ", start - 1)
        start = len(before) if space < 0 else space + 1
    stop = right
    if stop < len(after):  # cut at a space
        space = after.rfind(" ", 0, stop + 1)
        stop = 0 if space < 0 else space
    shown_before = before[start:].lstrip() if start else before
    shown_after = after[:stop].rstrip() if stop < len(after) else after
    pieces: list[tuple[str, Mention | None]] = [("…", None)] if start else []
    pieces.append((shown_before, None))
    cursor = first.offset
    for mention in members:
        if mention is not first:  # the text between, from the first one's context
            pieces.append((first.after[cursor - first.offset - len(first.text):
                                       mention.offset - first.offset - len(first.text)], None))
        pieces.append((mention.text, mention))
        cursor = mention.offset + len(mention.text)
    pieces.append((shown_after, None))
    if stop < len(after):
        pieces.append(("…", None))
    return [piece for piece in pieces if piece[0] or piece[1]]


def _co_mentions(articles: list[Article], slugs_of: dict[str, list[str]]
                 ) -> dict[str, list[tuple[str, int]]]:
    """Per entity slug, the entities most often in the same articles, with counts."""
    pairs: dict[str, Counter[str]] = defaultdict(Counter)
    for article in articles:
        slugs = slugs_of[article.source][:CO_MENTION_CAP]
        for slug in slugs:
            counter = pairs[slug]
            for other in slugs:
                if other != slug:
                    counter[other] += 1
    return {slug: sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:RELATED_ENTITIES]
            for slug, counter in pairs.items()}


def _related_articles(articles: list[Article], slugs_of: dict[str, list[str]],
                      memo: dict | None = None) -> dict[str, list[str]]:
    """Rank other articles by shared entities, then shared tags, then recency.

    Candidates come from the newest articles sharing an article's rarest
    entities and tags. ``memo`` (kept between rebuilds by the preview server,
    and stored between processes) holds earlier answers under a digest of
    their inputs: an article's ranking is reused while its own inputs and
    the lists it drew candidates from are unchanged; all of them at once, with
    no digest per article, while no article's inputs changed (an edit to a body
    that adds no entity and no tag). Returns article source → the sources of
    its related articles.
    """
    entities_of: dict[str, set[str]] = {}
    tags_of: dict[str, set[str]] = {}
    for article in articles:
        entities_of[article.source] = set(slugs_of[article.source])
        tags_of[article.source] = {slugify(t) for t in article.tags}
    # What the ranking reads of an article: its own entities and tags, and for a
    # candidate also its recency (its sort key orders candidates across lists).
    profile = {a.source: (a.source, a.sort_key, tuple(sorted(entities_of[a.source])),
                          tuple(sorted(tags_of[a.source]))) for a in articles}
    # Every profile, in order, is everything the rankings depend on (with this code).
    everything = _digest(repr([profile[a.source] for a in articles]).encode())
    previous = memo.get("related", {}) if memo is not None else {}
    position = {a.source: i for i, a in enumerate(articles)}
    reused = _reuse_all(previous, everything, articles, position)
    if reused is None:
        reused = _rank(articles, entities_of, tags_of, profile, position, previous)
    related, memo_out = reused
    memo_out[_ALL] = [everything, list(memo_out)]
    if memo is not None:
        memo["related"] = memo_out
    return related


_ALL = "*"  # the memo's key of (the digest of every profile, each article's own key in order)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _reuse_all(previous: dict, everything: str, articles: list[Article],
               position: dict[str, int]
               ) -> tuple[dict[str, list[str]], dict[str, list[str]]] | None:
    """(related, memo) from the memo of a build whose profiles were all the same as now
    (``everything``), or None. Stored by another process, so trusted only if well formed
    and naming articles of this build."""
    found = previous.get(_ALL)
    if type(found) is not list or len(found) != 2 or found[0] != everything or \
            type(found[1]) is not list or len(found[1]) != len(articles) or \
            not set(map(type, found[1])) <= {str}:
        return None
    keys = found[1]
    lists = [previous.get(key) for key in keys]
    if not set(map(type, lists)) <= {list}:
        return None
    named = list(chain.from_iterable(lists))
    if not set(map(type, named)) <= {str} or not position.keys() >= set(named):
        return None
    related = {article.source: ranked for article, ranked in zip(articles, lists, strict=True)}
    return related, dict(zip(keys, lists, strict=True))


def _rank(articles: list[Article], entities_of: dict[str, set[str]],
          tags_of: dict[str, set[str]], profile: dict[str, tuple], position: dict[str, int],
          previous: dict) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(related, memo): each article's ranking, reused from ``previous`` under a digest
    of its own inputs where it holds one (see :func:`_related_articles`)."""
    by_entity: dict[str, list[Article]] = defaultdict(list)
    by_tag: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        for slug in entities_of[article.source]:
            by_entity[slug].append(article)
        for tag in tags_of[article.source]:
            by_tag[tag].append(article)
    lists: dict[str, bytes] = {}  # "e:slug" or "t:tag" → digest of its first members

    def list_digest(name: str, members: list[Article]) -> bytes:
        found = lists.get(name)
        if found is None:
            text = repr([profile[m.source] for m in members]).encode()
            found = lists[name] = hashlib.blake2b(text, digest_size=16).digest()
        return found

    # One bit per entity and per tag: what two articles share is then counted with an
    # int & and bit_count() in C, not with two set intersections per candidate. Made
    # when the first ranking is not in the memo.
    masks: tuple[list[int], list[int]] | None = None
    positions: dict[str, list[int]] = {}  # list name → its members' positions
    memo_out: dict[str, list[str]] = {}
    related: dict[str, list[str]] = {}
    for index, article in enumerate(articles):
        own_entities, own_tags = entities_of[article.source], tags_of[article.source]
        sources: list[tuple[str, list[Article]]] = []
        for kind, postings, keys in (("e", by_entity, own_entities), ("t", by_tag, own_tags)):
            rarest = sorted(keys, key=lambda k: (len(postings[k]), k))[:RARE_KEYS]
            sources += [(f"{kind}:{key}", postings[key][:POSTING_CAP]) for key in rarest]
        # A digest, so that the memo can be stored between processes (builder.state).
        memo_key = _digest(repr((profile[article.source], tuple(
            (name, list_digest(name, members)) for name, members in sources))).encode())
        known = previous.get(memo_key)
        if known is not None and not (type(known) is list and all(
                type(s) is str and s in position for s in known)):
            known = None  # stored by another process: trusted only if it names articles
        if known is None:
            if masks is None:
                bits: dict[str, int] = {}
                masks = ([_mask(entities_of[a.source], "e:", bits) for a in articles],
                         [_mask(tags_of[a.source], "t:", bits) for a in articles])
            candidates: set[int] = set()
            for name, members in sources:
                found = positions.get(name)
                if found is None:
                    found = positions[name] = [position[m.source] for m in members]
                candidates.update(found)
            candidates.discard(index)
            entity_masks, tag_masks = masks
            known = _best(entity_masks[index], tag_masks[index], candidates,
                          entity_masks, tag_masks, articles)
        memo_out[memo_key] = related[article.source] = known
    return related, memo_out


def _mask(keys: set[str], prefix: str, bits: dict[str, int]) -> int:
    """The bit set of ``keys``, numbering each new key in ``bits``."""
    mask = 0
    for key in keys:
        mask |= 1 << bits.setdefault(prefix + key, len(bits))
    return mask


_COUNT = 0xFFFF  # shared entities or tags are counted in 16 bits of a ranking key


def _best(entities: int, tags: int, candidates: set[int], entity_masks: list[int],
          tag_masks: list[int], articles: list[Article]) -> list[str]:
    """The sources of the RELATED_ARTICLES candidates (positions in ``articles``) that
    share the most entities, then the most tags, then are newest; only those sharing one.

    Each candidate's ranking is one int, (shared entities, shared tags, position), so
    the ranking is ``heapq.nsmallest`` over ints: no key function called per candidate.
    """
    ranked = heapq.nsmallest(RELATED_ARTICLES, [
        ((_COUNT - (entities & entity_masks[p]).bit_count()) << 48)
        | ((_COUNT - (tags & tag_masks[p]).bit_count()) << 32) | p for p in candidates])
    return [articles[key & 0xFFFFFFFF].source for key in ranked
            if key >> 32 != (_COUNT << 16) | _COUNT]  # it shares something


def _timeline(articles: list[Article], entities: list[Entity], by_slug: dict[str, Entity],
              mentioned_in: dict[str, list[Article]]) -> tuple[TimelineEvent, ...]:
    """Every dated event, oldest first: event entities, then articles' ``events:``."""
    events: list[TimelineEvent] = []
    for entity in entities:
        if entity.type == "event" and entity.date is not None:
            involved = tuple(by_slug[s] for s in [entity.location, *entity.participants]
                             if s in by_slug)
            events.append(TimelineEvent(date=entity.date, end=entity.end, text=entity.name,
                                        entities=involved,
                                        articles=tuple(mentioned_in.get(entity.slug, ())),
                                        entity=entity))
    # An event "after" another sorts just behind it, unless its own date is later.
    follows: dict[int, tuple] = {}
    for article in articles:
        for item in article.events:
            involved = tuple(by_slug[s] for s in item["entities"] if s in by_slug)
            event = TimelineEvent(date=item["date"], text=item["text"], entities=involved,
                                  articles=(article,))
            target = by_slug.get(item.get("after") or "")
            if target is not None and target.date is not None:
                follows[id(event)] = max(target.date.sort_key, event.date.sort_key)
            events.append(event)
    events.sort(key=lambda e: (follows.get(id(e), e.date.sort_key), id(e) in follows, e.text))
    return tuple(events)
