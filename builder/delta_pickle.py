"""Pickling a built site's objects for the stored build (:mod:`builder.delta_store`).

In a stored value a record stands for itself by its key (as in
:mod:`builder.fingerprint`), a mention or highlight by its owner's key and its
id, a card by its article's source, a card's body by the card, and the
configuration by a mark: :class:`Refs` makes those references, and whoever
loads a value resolves them (``resolve``). A page of a few cards is then a few
kilobytes, and loading it reads only the records it holds.

Loading runs no code from the data: the unpickler makes only the classes of an
allow-list (Python's documented "restricting globals"), and raises
:class:`Unsure` for anything else.

Hand-written: the model is Postil's own; the pickling is the standard library's.
"""

from __future__ import annotations

import dataclasses
import io
import pickle
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

from builder import model
from builder.feeds import FeedSource
from builder.model import Article, ArticleRecord, Highlight, Mention
from builder.rewrite import field_names

# Every class a stored value may hold: the model's, and the standard library's values.
_ALLOWED = {
    ("builtins", "set"), ("builtins", "frozenset"),
    ("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"),
    ("datetime", "timedelta"), ("datetime", "timezone"), ("zoneinfo", "ZoneInfo"),
    ("markupsafe", "Markup"),
    ("builder.dates", "PartialDate"), ("builder.problems", "Problem"),
    ("builder.feeds", "FeedSource"), ("builder.assets", "AssetTable"),
    ("builder.wiki", "WikiResolver"), ("builder.wiki", "WikiTarget"),
    ("builder.lexicon", "Lexicon"),
}
_MODEL = "builder.model"


class Unsure(Exception):
    """What was stored cannot be loaded as it was: a full build decides."""


def _allowed(module: str, name: str) -> bool:
    return (module, name) in _ALLOWED or (module == _MODEL and name[:1].isupper())


_HERE = __name__


def _make(kind: type, *values: Any) -> Any:
    """An object of the dataclass ``kind`` with these field values, as stored."""
    if kind not in _PLAIN_DATACLASSES:
        raise Unsure(f"a stored value of class {kind!r}")
    made = object.__new__(kind)
    made.__dict__.update(zip(field_names(kind), values, strict=True))
    return made


class _BodyRef:
    """Stands for the body of the card of ``source`` while a full article is stored."""

    __slots__ = ("source",)

    def __init__(self, source: str) -> None:
        self.source = source


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, resolve: Callable[..., Any]) -> None:
        super().__init__(io.BytesIO(data))
        self.resolve = resolve

    def find_class(self, module: str, name: str) -> Any:
        if module == _HERE and name == "_ref":
            return self.resolve
        if module == _HERE and name == "_make":
            return _make  # (of a class this method allowed)
        if not _allowed(module, name):
            raise Unsure(f"a stored value of class {module}.{name}")
        return super().find_class(module, name)


def _ref(*pid: Any) -> Any:  # pragma: no cover - named in pickles; loading binds it
    raise Unsure("a reference loaded without its store")


class _Pickler(pickle.Pickler):
    """Pickles page contexts, cards and feeds with what stands for what (see the module's
    docstring); notes the source of every article reached (``reached``).

    Through ``reducer_override``, which pickle calls for objects other than plain values
    (strings, numbers, lists, tuples, dicts) and only once per object: a dataclass is
    stored as its class and field values, without the names of its fields."""

    def __init__(self, file: io.BytesIO, refs: Refs) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.refs = refs
        self.reached: set[str] = set()
        self.top: object = None  # a card pickled whole (the cards table)

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is ArticleRecord:
            self.reached.add(obj.source)
            self.refs.records[obj.key] = obj
            return _ref, ("r", obj.key)
        if kind is Article:
            source = self.refs.cards.get(id(obj))
            if source is not None and obj is not self.top:
                self.reached.add(source)
                return _ref, ("a", source)
            body = obj.body_html
            if obj is not self.top and id(body) in self.refs.bodies:
                body = _BodyRef(self.refs.bodies[id(body)])
            return _make, (Article, obj.record, obj.url, obj.authors, body, obj.link_targets,
                           obj.related, obj.entity_groups)
        if kind is _BodyRef:
            return _ref, ("b", obj.source)
        if (kind is Mention or kind is Highlight) and obj.owner:
            return _ref, ("m" if kind is Mention else "h", obj.owner, obj.id)
        if obj is self.refs.config:
            return _ref, ("c",)
        if kind is ZoneInfo and obj.key is not None:  # (not pickle's getattr of a method)
            return ZoneInfo, (obj.key,)
        if kind in _PLAIN_DATACLASSES:
            return _make, (kind, *[getattr(obj, name) for name in field_names(kind)])
        return NotImplemented


#: dataclasses stored as their field values (a field may hold anything stored)
_PLAIN_DATACLASSES = frozenset(
    value for value in vars(model).values() if isinstance(value, type)
    and dataclasses.is_dataclass(value) and value.__module__ == model.__name__) | {FeedSource}


class Refs:
    """What stands for what while storing one build: cards by object, their bodies, the
    configuration; ``records`` collects every record met, by key."""

    def __init__(self, cards: Iterable[Article], config: Any) -> None:
        self.cards = {id(card): card.record.source for card in cards}
        self.bodies = {id(card.body_html): card.record.source for card in cards}
        self.config = config
        self.records: dict[str, ArticleRecord] = {}

    def dump(self, value: Any, top: object = None) -> tuple[bytes, set[str]]:
        """``value`` pickled, and the sources of the articles it reaches."""
        file = io.BytesIO()
        pickler = _Pickler(file, self)
        pickler.top = top
        pickler.dump(value)
        return file.getvalue(), pickler.reached


def loads(data: bytes, resolve: Callable[..., Any]) -> Any:
    """The value pickled in ``data``, references resolved by ``resolve(*reference)``.
    Raises :class:`Unsure` for a class off the allow-list, or what pickle raises for
    damaged data."""
    return _Unpickler(data, resolve).load()
