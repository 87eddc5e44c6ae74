"""Fingerprints: a hash of everything a piece of output is made from.

A page's signature is the fingerprint of the :class:`~builder.model.Page`
handed to its template (its context included), so whatever a template can
reach from its context is in the signature by construction: nothing is
listed by hand, and a new field of the model is covered as soon as it exists.
Records stand for themselves by their ``key`` (a hash of the file and the
settings they were read with); so do the parts of a record (a mention, a
highlight), by their ``owner`` (the record's key) and ``id``; and an indexed
object's field that is the very same object as its record's field is
covered by its record's key too. A field marked ``unsigned`` in its metadata
is left out: it must repeat what other fields hold.

The walk is deterministic across processes (no ``hash()``, no ``id()`` in the
result), so a signature written to the output folder's manifest can be
compared by the next ``postil build``.

How (it runs over every page's context, so it is written for speed): a value
is written out as a list of byte strings which, joined with ``0xFF`` after
each (a byte UTF-8 never holds), read back in only one way, and that is
hashed once. Text is its UTF-8; every other item starts with a tag byte from
``0x80``–``0xBF`` (bytes that never start UTF-8 text) that says where it ends.
A dataclass object stands as the 16-byte digest of its own such form (a
digest of its class and signed fields' names, then its fields), made once per
object and ``memo``; a part of a record as its class, owner and id. A class's
fields, and which of them its record's class has too, are worked out the
first time the class is met.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, time

# The default digest, cut to 16 bytes: passing digest_size costs more than hashing
# a small object does (keyword parsing).
from hashlib import blake2b
from operator import attrgetter
from pathlib import PurePath
from typing import Any

from builder.dates import PartialDate
from builder.model import ArticleRecord, EntityRecord

DIGEST_SIZE = 16


class Unhashable(TypeError):
    """A value of a type the fingerprint does not know: a bug, reported as such."""


def fingerprint(value: Any, memo: dict[int, bytes] | None = None) -> bytes:
    """A 16-byte BLAKE2b digest of ``value`` and everything reachable from it.

    ``memo`` (object id → what stands for the object) spares hashing a shared
    object twice; it must live no longer than the objects it holds (one build).
    Raises :class:`Unhashable` for a value of an unknown type.
    """
    parts: list[bytes] = []
    _put_items((value,), parts.append, {} if memo is None else memo)
    return blake2b(_END.join(parts)).digest()[:DIGEST_SIZE]


# A list of parts rather than a growing bytearray: list.append is the cheapest way
# to collect them in Python, and one join copies them all.
_END = b"\xff"  # after every part
# Tags: bytes that never start UTF-8 text (continuation bytes), so text needs none.
_OBJECT = b"\x80"  # + 16-byte digest
_PART = b"\x81"  # + class, owner and id: a part of a record
_OPEN, _CLOSE = b"\x82", b"\x83"  # a tuple or list (or a set, sorted)
_EMPTY = _OPEN + _END + _CLOSE  # the same, empty, as one part
_DICT, _DICT_END = b"\x84", b"\x85"  # a dict: key, value, key, value…
_INT = b"\x86"  # + decimal
_NONE = b"\x87"
_TRUE, _FALSE = b"\x88", b"\x89"
_FLOAT = b"\x8a"  # + repr
_BYTES = b"\x8b"  # + length + b":" + the bytes
_RECORD = b"\x8c"  # + the record's key
_WHEN = b"\x8d"  # + class, ISO form and zone
_PARTIAL = b"\x8e"  # + repr
_SAME = b"\x8f"  # a field that is the very same object as its record's field

#: the commonest ints, written out once
_SMALL_INTS = tuple(_INT + b"%d" % number for number in range(1024))


def _put_items(items: tuple | list, add: Callable[[bytes], None],
               memo: dict[int, bytes]) -> None:
    """Write each of ``items``: ``add`` its parts (``add`` is a list's ``append``).

    The commonest types are written here rather than by a function per value:
    calls are most of the cost of a walk in Python.
    """
    for item in items:
        kind = type(item)
        if kind is str:
            try:
                add(item.encode())
            except UnicodeEncodeError:  # a lone surrogate (a file name's stray byte)
                add(item.encode("utf-8", "surrogatepass"))
        elif kind is tuple or kind is list:
            if not item:
                add(_EMPTY)
            else:
                add(_OPEN)
                _put_items(item, add, memo)
                add(_CLOSE)
        elif kind in _OBJECTS:
            found = memo.get(id(item))
            add(found if found is not None else _OBJECTS[kind](item, memo))
        elif item is None:
            add(_NONE)
        elif kind is int:
            add(_SMALL_INTS[item] if 0 <= item < 1024 else b"\x86%d" % item)
        elif item is _Same:
            add(_SAME)
        else:
            _OTHERS.get(kind, _put_other)(item, add, memo)


def _put_dict(value: dict, add: Callable[[bytes], None], memo: dict[int, bytes]) -> None:
    # Any fixed order will do: plain order for text keys (the usual case), else by repr.
    keys = sorted(value) if _STR_ONLY.issuperset(map(type, value)) else sorted(value, key=repr)
    items = []
    for key in keys:
        items += key, value[key]
    add(_DICT)
    _put_items(items, add, memo)
    add(_DICT_END)


_STR_ONLY = frozenset((str,))


def _put_when(value: date | datetime | time, add: Callable[[bytes], None], memo: dict) -> None:
    zone = getattr(value, "tzinfo", None)
    text = f"{type(value).__name__}{value.isoformat()}@{zone}"
    add(_WHEN + text.encode("utf-8", "surrogatepass"))


def _put_other(value: Any, add: Callable[[bytes], None], memo: dict[int, bytes]) -> None:
    """A type met for the first time: learn it (a dataclass, a path) or refuse it."""
    kind = type(value)
    if isinstance(value, PurePath):
        _OTHERS[kind] = lambda value, add, memo: _put_items((value.as_posix(),), add, memo)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _OBJECTS[kind] = _compile(kind)
    else:
        raise Unhashable(f"cannot fingerprint a {kind.__module__}.{kind.__qualname__}")
    _put_items((value,), add, memo)


def _put_set(value: set | frozenset, add: Callable[[bytes], None], memo: dict) -> None:
    _put_items((sorted(value, key=repr),), add, memo)


class _Same:
    """In a list of an object's fields: a field that is its record's very field."""


#: types other than the commonest ones → how to write them (see _put_items)
_OTHERS: dict[type, Callable[[Any, Callable[[bytes], None], dict[int, bytes]], None]] = {
    float: lambda value, add, memo: add(_FLOAT + repr(value).encode()),
    bool: lambda value, add, memo: add(_TRUE if value else _FALSE),
    dict: _put_dict,
    bytes: lambda value, add, memo: add(b"\x8b%d:%b" % (len(value), value)),
    ArticleRecord: lambda value, add, memo: add(_RECORD + value.key.encode()),
    EntityRecord: lambda value, add, memo: add(_RECORD + value.key.encode()),
    datetime: _put_when,
    date: _put_when,
    time: _put_when,
    PartialDate: lambda value, add, memo: add(_PARTIAL + repr(value).encode()),
    set: _put_set,
    frozenset: _put_set,
}

Writer = Callable[[Any, dict[int, bytes]], bytes]

#: dataclass → the function writing its instances (see _compile), filled as classes
#: are met: it returns what stands for an object in its container, and memoises it
_OBJECTS: dict[type, Writer] = {}


def _compile(kind: type) -> Writer:
    """The function writing the instances of dataclass ``kind``, its fields resolved."""
    names = []
    for item in dataclasses.fields(kind):
        name = item.name
        if not item.metadata.get("unsigned"):
            names.append(name)
    # The class and its fields' names, as a digest: shorter forms hash faster.
    head = blake2b(f"{kind.__module__}.{kind.__qualname__}({','.join(names)})".encode()
                   ).digest()[:DIGEST_SIZE]
    if len(names) > 1:
        values = attrgetter(*names)
    else:
        values = lambda value: tuple(getattr(value, name) for name in names)  # noqa: E731

    def write_fields(value: Any, memo: dict[int, bytes],
                     fields: tuple | list | None = None) -> bytes:
        parts = [head]
        _put_items(values(value) if fields is None else fields, parts.append, memo)
        found = memo[id(value)] = _OBJECT + blake2b(_END.join(parts)).digest()[:DIGEST_SIZE]
        return found

    every = {item.name for item in dataclasses.fields(kind)}
    writer: Writer = write_fields
    if "record" in every or hasattr(kind, "record"):
        # record class → (index, name) of the fields that class has too: the only ones
        # that can be the very same object as the record's field
        shared_by: dict[type, tuple[tuple[int, str], ...]] = {}

        def write_indexed(value: Any, memo: dict[int, bytes]) -> bytes:
            record = getattr(value, "record", None)
            if record is None:
                return write_fields(value, memo)
            shared = shared_by.get(type(record))
            if shared is None:
                shared = shared_by[type(record)] = _shared(names, record)
            fields = values(value)
            for index, name in shared:
                # The same object as the record's field: the record's key stands for it.
                if getattr(record, name) is fields[index]:
                    fields = list(fields)
                    fields[index] = _Same
            return write_fields(value, memo, fields)

        writer = write_indexed

    if "owner" in every or hasattr(kind, "owner"):
        whole = writer
        part = _PART + head

        def write_part(value: Any, memo: dict[int, bytes]) -> bytes:
            owner = getattr(value, "owner", "")
            if not owner:
                return whole(value, memo)
            # A part of a record: the record's key and the part's id say it all.
            parts = [part]
            _put_items((owner, value.id), parts.append, memo)
            found = memo[id(value)] = _END.join(parts)
            return found

        writer = write_part
    return writer


def _shared(names: list[str], record: Any) -> tuple[tuple[int, str], ...]:
    """(index, name) of the ``names`` but "record" that ``record`` has too."""
    kind = type(record)
    if dataclasses.is_dataclass(kind):
        has = {item.name for item in dataclasses.fields(kind)}
    else:
        has = {name for name in names if hasattr(record, name)}
    return tuple((index, name) for index, name in enumerate(names)
                 if name in has and name != "record")
