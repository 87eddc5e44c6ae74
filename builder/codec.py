"""A data-only encoding: JSON with a few tags, decoded without running stored code.

Unlike pickle, decoding never imports or calls anything the bytes name: a tag
selects one of the decoders here, and the only classes ever built are those
registered on the codec (its allow-list), through their own constructors.

The format (UTF-8 JSON, compact): ``str``, ``int``, ``bool``, ``None``, finite
``float`` and ``list`` are themselves; a ``dict`` whose keys are all ``str``
and none starts with ``!`` is a JSON object. Anything else is an object with
one key, its tag, which starts with ``!``: ``!tuple``, ``!set``, ``!frozenset``
(array of items); ``!dict`` (array of ``[key, value]`` pairs); ``!float``
(``"nan"``, ``"inf"``, ``"-inf"``); ``!bytes`` (base64); ``!date`` (ISO text);
``!datetime`` and ``!time`` (``[naive ISO text, fold, zone]``, the zone
``null``, a ZoneInfo key, or ``[UTC offset in microseconds, name or null]``);
``!<Name>`` for a registered class: a dataclass as an object of all its
fields, another class as whatever its adapter makes.

A dataclass's field values are checked against its type annotations both when
encoding (so what would not decode is never written) and when decoding.
"""

from __future__ import annotations

import base64
import collections.abc
import dataclasses
import json
import math
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

# A check of a value against a type annotation: None (anything fits), a frozenset of the
# exact types that fit (the common case, tested without a call), or a predicate.
Check = frozenset[type] | Callable[[Any], bool] | None
_PLAIN = frozenset({str, int, bool, type(None)})  # encoded as themselves


class DecodeError(ValueError):
    """The bytes are not an encoding this codec made: damaged, foreign or crafted."""


@dataclasses.dataclass
class _Spec:
    """How one allowed class is encoded and decoded."""

    cls: type
    name: str
    to_data: Callable[[Any], Any] | None = None  # None for a dataclass
    from_data: Callable[[Any], Any] | None = None
    ready: bool = False  # a dataclass's fields below are known (found when first used)
    init: list[str] = dataclasses.field(default_factory=list)
    no_init: list[str] = dataclasses.field(default_factory=list)  # set after construction
    names: tuple[str, ...] = ()  # in field order
    name_set: frozenset[str] = frozenset()
    exact: list[tuple[str, frozenset[type]]] = dataclasses.field(default_factory=list)
    exact_names: tuple[str, ...] = ()  # the same, unzipped
    exact_kinds: tuple[frozenset[type], ...] = ()
    predicates: list[tuple[str, Callable[[Any], bool]]] = dataclasses.field(default_factory=list)


_BUILTIN_TAGS = frozenset({"tuple", "set", "frozenset", "dict", "float", "bytes", "date",
                           "datetime", "time"})


class Codec:
    """Encodes allowed values to JSON bytes and back; see the module docstring for the format."""

    def __init__(self) -> None:
        self._by_class: dict[type, _Spec] = {}
        self._classes: dict[str, _Spec] = {}  # by tag
        self._builtins: dict[str, Callable[[Any], Any]] = {
            "!tuple": lambda data: tuple(_array(data)),
            "!set": lambda data: set(_array(data)),
            "!frozenset": lambda data: frozenset(_array(data)),
            "!dict": _dict_from_pairs,
            "!float": _float_from_text,
            "!bytes": lambda data: base64.b64decode(_text(data), validate=True),
            "!date": lambda data: date.fromisoformat(_text(data)),
            "!datetime": lambda data: _moment_from_data(data, datetime),
            "!time": lambda data: _moment_from_data(data, time),
        }

    # Registration ----------------------------------------------------------------------------

    def register_dataclass(self, cls: type, name: str | None = None) -> None:
        """Allow a dataclass; it is encoded as all its fields and rebuilt by its constructor.

        Fields with ``init=False`` are set after construction (frozen classes too).
        Raises ValueError for a name already taken and TypeError for a non-dataclass.
        """
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise TypeError(f"{cls!r} is not a dataclass")
        self._add(_Spec(cls, self._claim(name or cls.__qualname__)))

    def register(self, cls: type, name: str, to_data: Callable[[Any], Any],
                 from_data: Callable[[Any], Any]) -> None:
        """Allow another class: ``to_data(obj)`` gives an encodable value, ``from_data`` the
        object back from that value once decoded (raising anything for a bad value)."""
        self._add(_Spec(cls, self._claim(name), to_data, from_data))

    def allowed(self) -> dict[str, type]:
        """The registered classes by name (their tag is the name after ``!``)."""
        return {spec.name: cls for cls, spec in self._by_class.items()}

    def _claim(self, name: str) -> str:
        if not name.isidentifier() or name in _BUILTIN_TAGS or f"!{name}" in self._classes:
            raise ValueError(f"cannot register a class as {name!r}: taken or not a name")
        return name

    def _add(self, spec: _Spec) -> None:
        self._by_class[spec.cls] = self._classes[f"!{spec.name}"] = spec

    # Encoding --------------------------------------------------------------------------------

    def encode(self, value: Any) -> bytes:
        """``value`` as UTF-8 JSON bytes. Raises TypeError for anything not allowed (a value
        of another type, a dataclass field that does not match its annotation, a ZoneInfo
        without a key, a cycle)."""
        try:
            tree = self._tree(value)
            text = json.dumps(tree, ensure_ascii=False, separators=(",", ":"),
                              allow_nan=False, check_circular=False)
        except RecursionError:
            raise TypeError("cannot encode a value nested this deeply (or a cycle)") from None
        except ValueError as exc:  # an int too long to print, for one
            raise TypeError(f"cannot encode: {exc}") from None
        return text.encode("utf-8", "surrogatepass")

    def _tree(self, value: Any) -> Any:
        # Scalars are the most common values by far: containers skip the call for them.
        kind = type(value)
        if kind in _PLAIN:
            return value
        tree = self._tree
        if kind is list:
            return [item if type(item) in _PLAIN else tree(item) for item in value]
        if kind is dict:
            if all(type(k) is str and k[:1] != "!" for k in value):
                return {k: v if type(v) in _PLAIN else tree(v) for k, v in value.items()}
            return {"!dict": [[tree(k), tree(v)] for k, v in value.items()]}
        if kind is float:
            return value if math.isfinite(value) else {"!float": repr(value)}
        if kind is tuple or kind is set or kind is frozenset:
            return {f"!{kind.__name__}": [item if type(item) in _PLAIN else tree(item)
                                          for item in value]}
        if kind is datetime or kind is time:
            naive = value.replace(tzinfo=None, fold=0).isoformat()
            return {f"!{kind.__name__}": [naive, value.fold, _zone_data(value.tzinfo)]}
        if kind is date:
            return {"!date": value.isoformat()}
        if kind is bytes:
            return {"!bytes": base64.b64encode(value).decode("ascii")}
        spec = self._by_class.get(kind)
        if spec is None:
            raise TypeError(f"cannot encode a {kind.__module__}.{kind.__qualname__}: "
                            "not a type the cache codec allows")
        if spec.to_data is not None:
            return {f"!{spec.name}": tree(spec.to_data(value))}
        if not spec.ready:
            self._prepare(spec)
        data = {name: getattr(value, name) for name in spec.names}
        wrong = _misfit(spec, data)
        if wrong is not None:
            raise TypeError(f"cannot encode {spec.name}.{wrong}: a {type(data[wrong]).__name__} "
                            "does not match the field's annotation")
        data = {k: v if type(v) in _PLAIN else tree(v) for k, v in data.items()}
        return {f"!{spec.name}": data}

    # Decoding --------------------------------------------------------------------------------

    def decode(self, data: bytes) -> Any:
        """The value :meth:`encode` made. Raises :class:`DecodeError` for any other bytes."""
        try:
            text = data.decode("utf-8", "surrogatepass")
            return json.loads(text, object_hook=self._object, parse_constant=_no_constant)
        except DecodeError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the bytes hold, only DecodeError
            raise DecodeError(f"not a valid encoding: {type(exc).__name__}: {exc}") from None

    def _object(self, obj: dict[str, Any]) -> Any:
        # Called bottom-up by the JSON parser: values inside are already decoded. An
        # object with one key starting with "!" is a tag; any other is a dict.
        if len(obj) != 1:
            return obj
        for key, data in obj.items():
            if key[:1] != "!":
                return obj
            if key == "!tuple" and type(data) is list:  # the most common tag: no call
                return tuple(data)
            spec = self._classes.get(key)
            if spec is not None:
                return self._build(spec, data)
            decoder = self._builtins.get(key)
            if decoder is None:
                raise DecodeError(f"unknown tag {key!r}")
            return decoder(data)
        return obj  # not reached: one key

    def _build(self, spec: _Spec, data: Any) -> Any:
        if spec.from_data is not None:
            try:
                return spec.from_data(data)
            except Exception as exc:  # noqa: BLE001 - an adapter may raise anything
                raise DecodeError(f"bad {spec.name}: {exc}") from None
        if not spec.ready:
            self._prepare(spec)
        if type(data) is not dict or len(data) != len(spec.names) or \
                not spec.name_set.issuperset(data):
            raise DecodeError(f"{spec.name} with other fields than its own")
        wrong = _misfit(spec, data)
        if wrong is not None:
            raise DecodeError(f"{spec.name}.{wrong} of the wrong type")
        try:
            if not spec.no_init:
                return spec.cls(**data)
            obj = spec.cls(**{name: data[name] for name in spec.init})
            for name in spec.no_init:
                object.__setattr__(obj, name, data[name])  # works for frozen classes too
        except Exception as exc:  # noqa: BLE001 - a constructor may check and raise anything
            raise DecodeError(f"cannot make a {spec.name}: {exc}") from None
        return obj

    def _prepare(self, spec: _Spec) -> None:
        """Find a dataclass's fields and a check for each; done on first use, as
        annotations may name classes defined after this one."""
        try:
            hints = typing.get_type_hints(spec.cls)
        except Exception:  # noqa: BLE001 - an annotation that does not resolve checks nothing
            hints = {}
        fields = dataclasses.fields(spec.cls)
        spec.init = [f.name for f in fields if f.init]
        spec.no_init = [f.name for f in fields if not f.init]
        spec.names = tuple(f.name for f in fields)
        spec.name_set = frozenset(spec.names)
        checks = [(f.name, self._check(hints.get(f.name, Any))) for f in fields]
        spec.exact = [(name, check) for name, check in checks if type(check) is frozenset]
        spec.exact_names = tuple(name for name, _ in spec.exact)
        spec.exact_kinds = tuple(kinds for _, kinds in spec.exact)
        spec.predicates = [(name, check) for name, check in checks  # type: ignore[misc]
                           if check is not None and type(check) is not frozenset]
        spec.ready = True

    def _check(self, hint: Any) -> Check:
        """What values fit a type annotation (see ``Check``).

        Exact types for the scalars (an int is a float too, a datetime a date, a
        registered subclass its base class); containers are checked item by item; an
        unknown typing construct accepts anything.
        """
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint is Any or hint is object or isinstance(hint, typing.TypeVar):
            return None
        if hint is None or hint is type(None):
            return frozenset({type(None)})
        if origin is typing.Union or origin is types.UnionType:
            checks = [self._check(arg) for arg in args]
            if any(check is None for check in checks):
                return None
            if all(type(check) is frozenset for check in checks):
                return frozenset().union(*checks)  # type: ignore[arg-type]
            return lambda v: any(_fits(check, v) for check in checks)
        if origin is typing.Annotated:
            return self._check(args[0])
        if origin is typing.Literal:
            return lambda v: any(type(v) is type(a) and v == a for a in args)
        if origin is tuple and args and args != ((),):
            if len(args) == 2 and args[1] is Ellipsis:
                return _each(tuple, self._check(args[0]))
            checks = [self._check(arg) for arg in args]
            if all(type(check) is frozenset for check in checks):  # the common case, in C
                return lambda v: type(v) is tuple and len(v) == len(checks) and all(
                    map(frozenset.__contains__, checks, map(type, v)))
            return lambda v: type(v) is tuple and len(v) == len(checks) and all(
                _fits(check, item) for check, item in zip(checks, v, strict=True))
        if origin in (list, set, frozenset, tuple):
            return _each(origin, self._check(args[0]) if args else None)
        if origin is dict:
            keys = _each(list, self._check(args[0])) if args else None
            values = _each(list, self._check(args[1])) if args else None
            return lambda v: type(v) is dict and _fits(keys, list(v)) and _fits(
                values, list(v.values()))
        if origin is not None and isinstance(origin, type) and \
                origin.__module__ == collections.abc.__name__:
            return lambda v: isinstance(v, origin)
        if hint is float:
            return frozenset({float, int})
        if isinstance(hint, type):
            # What the codec can give back that is a ``hint``: itself and known subclasses.
            known = {bytes, str, int, bool, list, dict, tuple, set, frozenset, float, date,
                     datetime, time, *self._by_class}
            return frozenset(kind for kind in known if issubclass(kind, hint)
                             and not (hint is int and kind is bool)) | {hint}
        return None


def _fits(check: Check, value: Any) -> bool:
    if check is None:
        return True
    if type(check) is frozenset:
        return type(value) in check
    return check(value)  # type: ignore[operator]


def _misfit(spec: _Spec, data: dict[str, Any]) -> str | None:
    """The first field of ``data`` (field name → value) that does not fit its annotation."""
    kinds = map(type, map(data.__getitem__, spec.exact_names))
    if not all(map(frozenset.__contains__, spec.exact_kinds, kinds)):  # in C: the hot path
        return next(name for name, kinds in spec.exact if type(data[name]) not in kinds)
    for name, check in spec.predicates:
        if not check(data[name]):
            return name
    return None


def _each(kind: type, check: Check) -> Callable[[Any], bool]:
    """A container of exactly ``kind`` whose items all fit ``check``."""
    if check is None:
        return lambda v: type(v) is kind
    if type(check) is frozenset:
        return lambda v: type(v) is kind and set(map(type, v)) <= check  # type: ignore[operator]
    return lambda v: type(v) is kind and all(map(check, v))  # type: ignore[arg-type]


# Decoders of the built-in tags: each raises on a value of the wrong shape. ----------------

def _no_constant(name: str) -> Any:
    raise DecodeError(f"{name} is not valid JSON")  # NaN, Infinity: we never write them


def _text(data: Any) -> str:
    if type(data) is not str:
        raise DecodeError(f"text expected, not {type(data).__name__}")
    return data


def _array(data: Any) -> list:
    if type(data) is not list:
        raise DecodeError(f"an array expected, not {type(data).__name__}")
    return data


def _dict_from_pairs(data: Any) -> dict:
    result = {}
    for pair in _array(data):
        if type(pair) is not list or len(pair) != 2:
            raise DecodeError("a dict entry that is not a [key, value] pair")
        result[pair[0]] = pair[1]
    return result


def _float_from_text(data: Any) -> float:
    if data not in ("nan", "inf", "-inf"):
        raise DecodeError(f"bad float {data!r}")
    return float(data)


def _zone_data(zone: tzinfo | None) -> Any:
    if zone is None:
        return None
    if type(zone) is ZoneInfo and zone.key is not None:
        return zone.key
    if type(zone) is timezone:
        offset = zone.utcoffset(None)
        name = zone.tzname(None)
        plain = timezone(offset).tzname(None)
        return [offset // timedelta(microseconds=1), None if name == plain else name]
    raise TypeError(f"cannot encode the time zone {zone!r}: only ZoneInfo keys and fixed "
                    "offsets")


def _zone_from_data(data: Any) -> tzinfo | None:
    if data is None:
        return None
    if type(data) is str:
        try:
            return ZoneInfo(data)
        except (KeyError, ValueError, OSError) as exc:  # not found, bad key, unreadable
            raise DecodeError(f"no time zone {data!r}") from exc
    if type(data) is list and len(data) == 2 and type(data[0]) is int and \
            (data[1] is None or type(data[1]) is str):
        offset = timedelta(microseconds=data[0])
        return timezone(offset) if data[1] is None else timezone(offset, data[1])
    raise DecodeError("bad time zone")


def _moment_from_data(data: Any, kind: type) -> Any:
    if type(data) is not list or len(data) != 3 or data[1] not in (0, 1) or \
            type(data[1]) is not int:
        raise DecodeError(f"bad {kind.__name__}")
    naive = kind.fromisoformat(_text(data[0]))
    if naive.tzinfo is not None:
        raise DecodeError(f"{kind.__name__} text with an offset")
    return naive.replace(tzinfo=_zone_from_data(data[2]), fold=data[1])
