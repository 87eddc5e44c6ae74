"""Rebuild the objects of a built site that hold changed articles.

A delta build (:mod:`builder.delta`) reuses the last build's page contexts:
each object in them that holds a changed article is made again with the
article's new record, as indexing would make it (its body's links resolved,
its passages on entity pages cut again); everything else stays the very same
object. :func:`reached_articles` finds which articles a page context holds.

Hand-written: this walks Postil's own model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from builder.entity_index import passages
from builder.model import (
    Article,
    ArticleRecord,
    Entity,
    EntityRecord,
    Highlight,
    Mention,
    Page,
    Quote,
)

#: values that never hold an article: a walk over a page context stops at them
_LEAVES = (str, bytes, int, float, bool, date, datetime, type(None), EntityRecord, Mention,
           Highlight, Quote)



def reached_articles(value: Any) -> set[str]:
    """The source of every article ``value`` holds (a page context: dataclasses,
    tuples, lists, dicts), each object visited once."""
    found: set[str] = set()
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _LEAVES) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Article):
            found.add(item.record.source)
            stack += (item.link_targets, item.related)
        elif isinstance(item, ArticleRecord):
            found.add(item.source)
        elif isinstance(item, (tuple, list)):
            stack += item
        elif isinstance(item, dict):
            stack += item.values()
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack += [getattr(item, name) for name in field_names(type(item))]
    return found


_FIELDS: dict[type, tuple[str, ...]] = {}


def field_names(kind: type) -> tuple[str, ...]:
    """The names of the fields of the dataclass ``kind``, in order (looked up once)."""
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return names


class Rewriter:
    """Rebuilds objects of the last build that hold a changed article.

    ``records``: source → the article's record now, for every article changed
    since the last full build (objects of the last site may still hold any of
    their earlier records). ``body``: the article's body with its links resolved,
    as indexing makes it. Objects that hold no changed article come back as they
    are; each object is rebuilt once, so what was shared stays shared.
    """

    def __init__(self, records: dict[str, ArticleRecord],
                 body: Callable[[ArticleRecord], str]):
        self.records = records
        self.body = body
        self._memo: dict[tuple[int, str], tuple[Any, Any]] = {}
        self._bodies: dict[str, str] = {}
        self._mentions: dict[str, dict[str, Mention]] = {}

    def value(self, item: Any, entity: str = "") -> Any:
        """``item`` with every changed article in it rebuilt. ``entity``: the slug of
        the entity whose passages ``item`` may hold (an entity page's paginator)."""
        if isinstance(item, _LEAVES) or item is None:
            return item
        key = (id(item), entity)
        known = self._memo.get(key)
        if known is None:  # (the item is held too, so that its id is never reused)
            known = self._memo[key] = (item, self._rebuild(item, entity))
        return known[1]

    def _rebuild(self, item: Any, entity: str) -> Any:
        if isinstance(item, Article):
            return self._article(item)
        if isinstance(item, ArticleRecord):
            return self.records.get(item.source, item)
        if isinstance(item, Entity):
            return self._entity(item)
        if isinstance(item, tuple):
            if len(item) == 2 and isinstance(item[0], Article):
                pair = self._pair(item, entity)
                if pair is not None:
                    return pair
            return self._sequence(item, entity)
        if isinstance(item, list):
            return list(self._sequence(tuple(item), entity))
        if isinstance(item, dict):
            values = {name: self.value(value, entity) for name, value in item.items()}
            same = all(values[name] is value for name, value in item.items())
            return item if same else values
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            return self._fields(item, entity)
        return item

    def _sequence(self, items: tuple, entity: str) -> tuple:
        changed = self.records
        # An unchanged card (most of a long list) is itself: no memo, no call.
        values = tuple(value if type(value) is Article and not value.related
                       and not value.link_targets and value.record.source not in changed
                       else self.value(value, entity) for value in items)
        return items if all(a is b for a, b in zip(values, items, strict=True)) else values

    def _fields(self, item: Any, entity: str) -> Any:
        changes = {}
        for name in field_names(type(item)):
            value = getattr(item, name)
            new = self.value(value, entity)
            if new is not value:
                changes[name] = new
        return replace(item, **changes) if changes else item

    def _article(self, article: Article) -> Article:
        changes: dict[str, Any] = {}
        record = self.records.get(article.record.source)
        if record is not None and record is not article.record:
            changes["record"] = record
            changes["body_html"] = self._body(record)
        for name in ("link_targets", "related"):
            value = getattr(article, name)
            new = self.value(value)
            if new is not value:
                changes[name] = new
        return replace(article, **changes) if changes else article

    def _body(self, record: ArticleRecord) -> str:
        found = self._bodies.get(record.source)
        if found is None:
            found = self._bodies[record.source] = self.body(record)
        return found

    def _pair(self, pair: tuple, entity: str) -> tuple | None:
        """An entity's (article card, mention), or with ``entity`` its (card, passages)."""
        card, second = pair
        record = self.records.get(card.record.source)
        if isinstance(second, Mention):
            if record is None:
                return pair if card is self.value(card) else (self.value(card), second)
            return self.value(card), self._mention(record, second.id)
        if entity and isinstance(second, list):
            if record is None:
                return pair if card is self.value(card) else (self.value(card), second)
            return self.value(card), passages([m for m in record.mentions
                                               if m.entity == entity])
        return None

    def _mention(self, record: ArticleRecord, mention_id: str) -> Mention:
        by_id = self._mentions.get(record.source)
        if by_id is None:
            by_id = self._mentions[record.source] = {m.id: m for m in record.mentions}
        return by_id[mention_id]  # the view is unchanged: the same ids

    def _entity(self, entity: Entity) -> Entity:
        changes = {}
        for name in ("mentions", "articles", "passages", "timeline"):
            value = getattr(entity, name)
            new = self.value(value, entity.slug if name == "passages" else "")
            if new is not value:
                changes[name] = new
        return replace(entity, **changes) if changes else entity

    def page(self, page: Page) -> Page:
        """The page rebuilt: an entity page's paginator holds that entity's passages."""
        shown = page.context.get("entity")
        slug = shown.slug if isinstance(shown, Entity) and "paginator" in page.context else ""
        context = {name: self.value(value, slug if name == "paginator" else "")
                   for name, value in page.context.items()}
        return replace(page, context=context, shows=self.value(page.shows))
