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
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

from builder.dates import PartialDate
from builder.model import ArticleRecord, EntityRecord

DIGEST_SIZE = 16
_SCALARS = (str, int, float, bool, type(None))


class Unhashable(TypeError):
    """A value of a type the fingerprint does not know: a bug, reported as such."""


def fingerprint(value: Any, memo: dict[int, bytes] | None = None) -> bytes:
    """A 16-byte BLAKE2b digest of ``value`` and everything reachable from it.

    ``memo`` (object id → digest) spares hashing a shared object twice; it must
    live no longer than the objects it holds (one build). Raises
    :class:`Unhashable` for a value of an unknown type.
    """
    hasher = hashlib.blake2b(digest_size=DIGEST_SIZE)
    _feed(hasher, value, {} if memo is None else memo)
    return hasher.digest()


def _feed(h: Any, value: Any, memo: dict[int, bytes]) -> None:
    kind = type(value)
    if kind is str:
        data = value.encode("utf-8", "surrogatepass")
        h.update(b"s%d:%b" % (len(data), data))
    elif kind is tuple or kind is list:
        h.update(b"[%d:" % len(value))
        for item in value:
            _feed(h, item, memo)
        h.update(b"]")
    elif kind in _OBJECTS:
        found = memo.get(id(value))
        h.update(found if found is not None else _object_digest(value, memo))
    elif kind in (int, float, bool) or value is None:
        h.update(f"{kind.__name__[0]}{value!r};".encode())
    elif kind is dict:
        h.update(b"{%d:" % len(value))
        for key in sorted(value, key=repr):
            _feed(h, key, memo)
            _feed(h, value[key], memo)
        h.update(b"}")
    elif kind is bytes:
        h.update(b"b%d:%b" % (len(value), value))
    elif kind in (ArticleRecord, EntityRecord):
        h.update(b"R" + value.key.encode())
    elif kind is datetime or kind is date or kind is time:
        zone = getattr(value, "tzinfo", None)
        h.update(f"{kind.__name__}{value.isoformat()}@{zone};".encode())
    elif kind is PartialDate:
        h.update(f"P{value!r};".encode())
    elif isinstance(value, PurePath):
        _feed(h, value.as_posix(), memo)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _OBJECTS[kind] = tuple(item.name for item in dataclasses.fields(value)
                               if not item.metadata.get("unsigned"))
        _feed(h, value, memo)
    elif isinstance(value, (set, frozenset)):
        _feed(h, sorted(value, key=repr), memo)
    else:
        raise Unhashable(f"cannot fingerprint a {kind.__module__}.{kind.__qualname__}")


#: dataclass → its field names, filled as classes are met
_OBJECTS: dict[type, tuple[str, ...]] = {}


def _object_digest(value: Any, memo: dict[int, bytes]) -> bytes:
    """A dataclass instance: its class and fields; once per object per ``memo``."""
    inner = hashlib.blake2b(type(value).__qualname__.encode(), digest_size=DIGEST_SIZE)
    owner = getattr(value, "owner", "")
    if owner:  # a part of a record: the record's key and the part's id say it all
        inner.update(f"{owner}#{value.id}".encode())
        digest = memo[id(value)] = inner.digest()
        return digest
    record = getattr(value, "record", None)
    for name in _OBJECTS[type(value)]:
        field_value = getattr(value, name)
        # The same object as the record's field: the record's key stands for it.
        if record is not None and name != "record" and \
                getattr(record, name, inner) is field_value:
            inner.update(b"=")
            continue
        inner.update(name.encode() + b"=")
        _feed(inner, field_value, memo)
    digest = memo[id(value)] = inner.digest()
    return digest
