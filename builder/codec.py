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
``!<Name>`` for a registered class: a dataclass as the array of its field
values in field order, another class as whatever its adapter makes.

Inside a dataclass, a field's type annotation says what its value is, so the
value is written without tags where that is unambiguous: a ``str``, ``int``,
``bool`` or ``None`` field (or a union of those) as itself; a registered
dataclass as its array (no tag; not when a registered subclass could be
there); ``list[X]`` and ``tuple[X, ...]`` as an array of X so written, when
X is one of these; ``tuple[A, B]`` of plain values as an array; ``X | None``
as ``null`` or X; ``dict[str, X]`` of plain values as a JSON object. Any
other field (``Any``, ``date``, ``float``, other unions) is written as above,
with tags. A field's value is checked against its annotation both when
encoding (so what would not decode is never written) and when decoding.

Decoding parses the JSON into plain lists and dicts first (all in C, with no
call per object), then walks it once: the annotations say how to read each
field, and elsewhere an object with one ``!`` key is a tag. Dataclasses are
rebuilt by their constructor from positional arguments, fields with
``init=False`` set afterwards (a frozen one whose constructor only stores its
fields, by filling its ``__dict__``). Each dataclass's decoder is compiled from
source made for its fields, so decoding a record makes few Python calls.
"""

from __future__ import annotations

import base64
import collections.abc
import dataclasses
import inspect
import json
import math
import threading
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

# A check of a value against a type annotation: None (anything fits), a frozenset of the
# exact types that fit (the common case, tested without a call), or a predicate.
Check = frozenset[type] | Callable[[Any], bool] | None
_PLAIN = frozenset({str, int, bool, type(None)})  # encoded as themselves
_SCALARS = _PLAIN | {float}  # what the JSON parser gives back that holds no tag
_STR = frozenset({str})
_contains = frozenset.__contains__


class DecodeError(ValueError):
    """The bytes are not an encoding this codec made: damaged, foreign or crafted."""


@dataclasses.dataclass(frozen=True)
class _Plan:
    """How a dataclass field of one annotation is written and read back, untagged.

    ``encode(value)`` gives the JSON tree or raises TypeError (a value that does
    not fit the annotation); ``decode(tree)`` gives the value or raises (a
    DecodeError, or whatever a constructor or parser raises for bad data).
    """

    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    # What ``decode`` does, as source lines for a dataclass's decoder (see _decoder), or
    # None: ``{v}`` is the value's variable, ``{p}`` the prefix of the names in the dict.
    inline: tuple[tuple[str, ...], dict[str, Any]] | None = None


# A field's plan: the exact plain types it holds (written as themselves), or a _Plan.
Plan = frozenset[type] | _Plan


@dataclasses.dataclass(eq=False)
class _Spec:
    """How one allowed class is encoded and decoded."""

    cls: type
    name: str
    to_data: Callable[[Any], Any] | None = None  # an adapter's; None for a dataclass
    from_data: Callable[[Any], Any] | None = None
    # A dataclass's: its value → its array of field values, and back. Made by
    # Codec._prepare when first used, as annotations may name classes defined later.
    encode: Callable[[Any], list] | None = None
    decode: Callable[[Any], Any] | None = None
    ready: bool = False  # encode and decode are the prepared ones


_BUILTIN_TAGS = frozenset({"tuple", "set", "frozenset", "dict", "float", "bytes", "date",
                           "datetime", "time"})


class Codec:
    """Encodes allowed values to JSON bytes and back; see the module docstring for the format."""

    def __init__(self) -> None:
        self._by_class: dict[type, _Spec] = {}
        self._classes: dict[str, _Spec] = {}  # by tag
        # Each is handed its value already walked (tags inside decoded).
        self._builtins: dict[str, Callable[[Any], Any]] = {
            "!set": lambda data: set(_array(data)),
            "!frozenset": lambda data: frozenset(_array(data)),
            "!dict": _dict_from_pairs,
            "!float": _float_from_text,
            "!bytes": lambda data: base64.b64decode(_text(data), validate=True),
            "!date": lambda data: date.fromisoformat(_text(data)),
            "!datetime": lambda data: _moment_from_data(data, datetime),
            "!time": lambda data: _moment_from_data(data, time),
        }
        self._decoder = json.JSONDecoder(parse_constant=_no_constant)  # made once: loads
        # with an argument would make a new one per call
        self._preparing: set[_Spec] = set()
        self._prepare_lock = threading.RLock()  # the preview server may build from a thread

    # Registration ----------------------------------------------------------------------------

    def register_dataclass(self, cls: type, name: str | None = None) -> None:
        """Allow a dataclass; it is encoded as all its fields and rebuilt by its constructor.

        Fields with ``init=False`` are set after construction (frozen classes too).
        Raises ValueError for a name already taken and TypeError for a non-dataclass.
        """
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise TypeError(f"{cls!r} is not a dataclass")
        spec = _Spec(cls, self._claim(name or cls.__qualname__))

        def first_encode(value: Any) -> list:
            self._prepare(spec)
            return spec.encode(value)  # type: ignore[misc]

        def first_decode(data: Any) -> Any:
            self._prepare(spec)
            return spec.decode(data)  # type: ignore[misc]

        spec.encode, spec.decode = first_encode, first_decode
        self._add(spec)

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
        return {f"!{spec.name}": spec.encode(value)}  # type: ignore[misc]

    # Decoding --------------------------------------------------------------------------------

    def decode(self, data: bytes) -> Any:
        """The value :meth:`encode` made. Raises :class:`DecodeError` for any other bytes."""
        try:
            tree = self._decoder.decode(data.decode("utf-8", "surrogatepass"))
            return tree if type(tree) in _SCALARS else self._value(tree)
        except DecodeError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the bytes hold, only DecodeError
            raise DecodeError(f"not a valid encoding: {type(exc).__name__}: {exc}") from None

    def _value(self, data: Any) -> Any:
        """A value from its parsed JSON (lists and dicts, reused in place), tags decoded."""
        kind = type(data)
        if kind is list:
            if not set(map(type, data)) <= _SCALARS:  # the common case, tested in C
                for index, item in enumerate(data):
                    if type(item) not in _SCALARS:
                        data[index] = self._value(item)
            return data
        if kind is dict:
            if len(data) == 1:
                for key, inner in data.items():
                    if key[:1] == "!":
                        return self._tagged(key, inner)
            if not set(map(type, data.values())) <= _SCALARS:
                for key, item in data.items():
                    if type(item) not in _SCALARS:
                        data[key] = self._value(item)  # an existing key: same size
            return data
        return data

    def _tagged(self, key: str, data: Any) -> Any:
        if key == "!tuple":  # the most common tag
            return tuple(self._value(_array(data)))
        spec = self._classes.get(key)
        if spec is not None:
            if spec.from_data is None:
                return spec.decode(data)  # type: ignore[misc]
            try:
                return spec.from_data(self._value(data))
            except Exception as exc:  # noqa: BLE001 - an adapter may raise anything
                raise DecodeError(f"bad {spec.name}: {exc}") from None
        decoder = self._builtins.get(key)
        if decoder is None:
            raise DecodeError(f"unknown tag {key!r}")
        return decoder(data if type(data) in _SCALARS else self._value(data))

    # Dataclasses -----------------------------------------------------------------------------

    def _prepare(self, spec: _Spec) -> None:
        """Make a dataclass's encoder and decoder from its fields' annotations (see the
        module docstring); done on first use, as annotations may name classes defined
        after this one."""
        with self._prepare_lock:
            if spec.ready or spec in self._preparing:
                return
            self._preparing.add(spec)
            try:
                self._compile(spec)
            finally:
                self._preparing.discard(spec)
            spec.ready = True

    def _compile(self, spec: _Spec) -> None:
        cls, name = spec.cls, spec.name
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # noqa: BLE001 - an annotation that does not resolve checks nothing
            hints = {}
        fields = dataclasses.fields(cls)
        names = tuple(f.name for f in fields)
        count = len(names)
        plans = [self._plan(hints.get(f.name, Any)) for f in fields]
        # Plain fields are checked all at once, in C (the hot path); the others one by one.
        plain_at = tuple(i for i, plan in enumerate(plans) if type(plan) is frozenset)
        plain_kinds: tuple[frozenset[type], ...] = tuple(
            plans[i] for i in plain_at)  # type: ignore[misc]
        planned = tuple((i, plan) for i, plan in enumerate(plans) if type(plan) is _Plan)
        encoders = tuple((i, plan.encode) for i, plan in planned)  # type: ignore[union-attr]
        getter = attrgetter(*names) if count > 1 else lambda value: tuple(
            getattr(value, n) for n in names)

        def encode(value: Any) -> list:
            data = list(getter(value))
            if not all(map(_contains, plain_kinds, map(type, map(data.__getitem__, plain_at)))):
                index = next(i for i, kinds in zip(plain_at, plain_kinds, strict=True)
                             if type(data[i]) not in kinds)
                raise TypeError(f"cannot encode {name}.{names[index]}: a "
                                f"{type(data[index]).__name__} does not match the field's "
                                "annotation")
            for index, encoder in encoders:
                try:
                    data[index] = encoder(data[index])
                except TypeError as exc:
                    raise TypeError(f"cannot encode {name}.{names[index]}: {exc}") from None
            return data

        decode = _decoder(cls, name, fields, plans)
        spec.encode, spec.decode = encode, decode

    def _plan(self, hint: Any) -> Plan:
        """How a field annotated ``hint`` is written: plain, untagged, or tagged."""
        check = self._check(hint)
        if type(check) is frozenset and check <= _PLAIN:
            return check
        return self._untagged(hint) or self._tagged_plan(check)

    def _untagged(self, hint: Any) -> _Plan | None:
        """A plan writing ``hint`` without tags, or None where only tags can tell."""
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is typing.Annotated:
            return self._untagged(args[0])
        if origin is typing.Union or origin is types.UnionType:
            others = [arg for arg in args if arg is not type(None)]
            inner = self._untagged(others[0]) if len(others) == 1 < len(args) else None
            # Sound because no untagged plan writes a value as null.
            return inner and _optional(inner)
        if (origin is list or origin is tuple and len(args) == 2 and args[1] is Ellipsis) \
                and args:
            kinds = self._check(args[0])
            if type(kinds) is frozenset and kinds <= _PLAIN:
                return _plain_sequence(origin, kinds)
            item = self._untagged(args[0])
            return item and _sequence(origin, item)
        if origin is tuple and args and args != ((),):
            kinds = [self._check(arg) for arg in args]
            if all(type(k) is frozenset and k <= _PLAIN for k in kinds):
                return _plain_tuple(tuple(kinds))  # type: ignore[arg-type]
            return None
        if origin is dict and args and args[0] is str:
            values = self._check(args[1])
            if type(values) is frozenset and values <= _PLAIN:
                return _plain_dict(values)
            return self._any_dict() if values is None else None
        spec = self._by_class.get(hint) if isinstance(hint, type) else None
        if spec is not None and spec.to_data is None and self._check(hint) == {hint}:
            return self._dataclass_plan(spec)
        return None

    def _dataclass_plan(self, spec: _Spec) -> _Plan:
        """A field holding exactly a registered dataclass: its array, untagged."""
        cls = spec.cls
        self._prepare(spec)  # first, so its own encoder and decoder are called directly

        def encode(value: Any) -> list:
            if type(value) is not cls:
                raise TypeError(f"a {type(value).__name__} is not a {spec.name}")
            return spec.encode(value)  # type: ignore[misc]

        if spec.ready:
            return _Plan(encode, spec.decode)  # type: ignore[arg-type]
        # A class that holds itself, still being prepared: look its decoder up when called.
        return _Plan(encode, lambda data: spec.decode(data))  # type: ignore[misc]

    def _any_dict(self) -> _Plan:
        """``dict[str, Any]``: a JSON object (no key is a tag here) of tagged values."""
        tree, walk = self._tree, self._value

        def encode(value: Any) -> dict:
            if type(value) is not dict or not set(map(type, value)) <= _STR:
                raise TypeError("not a dict with str keys")
            return {k: v if type(v) in _PLAIN else tree(v) for k, v in value.items()}

        def decode(data: Any) -> dict:
            if type(data) is not dict:
                raise DecodeError("not a dict")
            if not set(map(type, data.values())) <= _SCALARS:
                for key, item in data.items():
                    if type(item) not in _SCALARS:
                        data[key] = walk(item)  # an existing key: the dict keeps its size
            return data  # a JSON object's keys are str

        return _Plan(encode, decode)

    def _tagged_plan(self, check: Check) -> _Plan:
        """A field written with tags, its value checked against ``check``."""
        tree, walk = self._tree, self._value

        def encode(item: Any) -> Any:
            if not _fits(check, item):
                raise TypeError(f"a {type(item).__name__} does not match the field's annotation")
            return item if type(item) in _PLAIN else tree(item)

        # The check is made specific here, not in a call per value (see _fits).
        walked = ("if type({v}) not in {p}scalars:", "    {v} = {p}walk({v})")
        names = {"scalars": _SCALARS, "walk": walk}
        if check is None:
            return _Plan(encode, lambda data: data if type(data) in _SCALARS else walk(data),
                         (walked, names))

        if type(check) is frozenset:
            kinds: frozenset[type] = check

            def decode(data: Any) -> Any:
                item = data if type(data) in _SCALARS else walk(data)
                if type(item) not in kinds:
                    raise DecodeError(f"a {type(item).__name__} where the annotation says "
                                      "otherwise")
                return item

            return _Plan(encode, decode, (walked + (
                "if type({v}) not in {p}kinds:",
                '    raise DecodeError(f"a {{type({v}).__name__}} where the annotation says '
                'otherwise")'), {**names, "kinds": kinds}))
        fits: Callable[[Any], bool] = check  # type: ignore[assignment]

        def decode_checked(data: Any) -> Any:
            item = data if type(data) in _SCALARS else walk(data)
            if not fits(item):
                raise DecodeError(f"a {type(item).__name__} where the annotation says otherwise")
            return item

        return _Plan(encode, decode_checked)

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


def _decoder(cls: type, name: str, fields: tuple[dataclasses.Field, ...],
             plans: list[Plan]) -> Callable[[Any], Any]:
    """The decoder of a dataclass: its array of field values → the instance.

    Written as Python source and compiled once per class: the array is unpacked into
    locals, every plain field checked by one expression, every other one decoded by its
    plan, and the instance made without a call per field (see :func:`_make_lines`).
    Far fewer calls per value than a loop over the fields: records are decoded by the
    ten thousand. The source holds only names bound below and field names as literals.
    """
    count = len(fields)
    env: dict[str, Any] = {"DecodeError": DecodeError, "cls": cls, "new": object.__new__,
                           "set_field": object.__setattr__, "NAME": name}
    lines = ["def decode(data):",
             f"    if type(data) is not list or len(data) != {count}:",
             '        raise DecodeError(NAME + " with other fields than its own")']
    if count:
        lines.append("    " + "".join(f"f{i}, " for i in range(count)) + "= data")
    checks = []
    for index, plan in enumerate(plans):
        if type(plan) is frozenset:
            single = len(plan) == 1
            env[f"K{index}"] = next(iter(plan)) if single else plan
            checks.append(f"type(f{index}) {'is' if single else 'in'} K{index}")
    if checks:
        lines += [f"    if not ({' and '.join(checks)}):",
                  '        raise DecodeError("a field of " + NAME + " of the wrong type")']
    for index, plan in enumerate(plans):
        if type(plan) is not _Plan:
            continue
        if plan.inline is None:
            env[f"D{index}"] = plan.decode
            lines.append(f"    f{index} = D{index}(f{index})")
            continue
        source, names = plan.inline
        prefix = f"P{index}_"
        env.update((prefix + key, value) for key, value in names.items())
        lines += ["    " + line.format(v=f"f{index}", p=prefix) for line in source]
    lines.append("    try:")
    lines += ["        " + line for line in _make_lines(cls, fields)]
    lines += ["    except Exception as exc:  # noqa: BLE001 - a constructor may raise anything",
              '        raise DecodeError("cannot make a " + NAME + ": " + str(exc)) from None']
    exec(compile("\n".join(lines), f"<decoder of {name}>", "exec"), env)  # noqa: S102
    return env["decode"]


def _make_lines(cls: type, fields: tuple[dataclasses.Field, ...]) -> list[str]:
    """Source lines making a ``cls`` from the locals ``f0``, ``f1``, … (field order).

    Through its constructor, unless :func:`_stores_only` shows that the constructor
    would only store its arguments and the class is frozen: then the values go straight
    into the instance's ``__dict__``, which gives the same object about twice as fast as
    the constructor (which calls ``object.__setattr__`` once per field). The constructor
    of a class that is not frozen stores its fields faster than anything else can.
    """
    values = [f"f{i}" for i in range(len(fields))]
    if _stores_only(cls, fields) and cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return ["obj = new(cls)", "fields = obj.__dict__",
                *(f"fields[{f.name!r}] = {value}" for f, value in zip(fields, values,
                                                                         strict=True)),
                "return obj"]
    positional = [value for f, value in zip(fields, values, strict=True)
                  if f.init and not f.kw_only]
    keywords = [f"{f.name}={value}" for f, value in zip(fields, values, strict=True)
                if f.init and f.kw_only]
    later = [f"set_field(obj, {f.name!r}, {value})" for f, value in zip(fields, values,
                                                                         strict=True)
             if not f.init]
    return [f"obj = cls({', '.join(positional + keywords)})", *later, "return obj"]


def _stores_only(cls: type, fields: tuple[dataclasses.Field, ...]) -> bool:
    """Whether ``cls(*values)`` would do nothing but set each field in ``__dict__``.

    True when dataclasses wrote ``__init__`` (it is compiled from a string) and it
    takes exactly the fields (no ``InitVar``), every field is an ``init`` field,
    there is no ``__post_init__`` and no ``__new__`` of the class's own, instances
    have a ``__dict__``, and nothing intercepts setting a field (no ``__setattr__``
    of the class's own, unless frozen, whose ``__init__`` bypasses it; no
    descriptor in a field's name). When in doubt, False: the constructor is used.
    """
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    params = getattr(cls, "__dataclass_params__", None)
    if code is None or code.co_filename != "<string>" or params is None or not params.init \
            or hasattr(cls, "__post_init__") or cls.__new__ is not object.__new__ \
            or not cls.__dictoffset__ or not all(f.init and not f.kw_only for f in fields):
        return False
    if not params.frozen and cls.__setattr__ is not object.__setattr__:
        return False
    if any(hasattr(type(inspect.getattr_static(cls, f.name, None)), "__set__") for f in fields):
        return False
    try:
        taken = list(inspect.signature(init).parameters)
    except (TypeError, ValueError):
        return False
    return taken == ["self", *(f.name for f in fields)]


# Untagged plans (see Codec._untagged). Each encoder checks the value's type before it
# writes anything, so what is written always decodes to an equal value of the same type.

def _optional(plan: _Plan) -> _Plan:
    encode, decode = plan.encode, plan.decode
    return _Plan(lambda value: None if value is None else encode(value),
                 lambda data: None if data is None else decode(data))


def _plain_sequence(kind: type, kinds: frozenset[type]) -> _Plan:
    """``list[X]`` or ``tuple[X, ...]`` of plain X: an array, as it is."""
    def encode(value: Any) -> list:
        if type(value) is not kind or not set(map(type, value)) <= kinds:
            raise TypeError(f"not a {kind.__name__} of the annotation's types")
        return value if kind is list else list(value)

    message = f"not a {kind.__name__} of the annotation's types"

    def decode(data: Any) -> Any:
        if type(data) is not list or not set(map(type, data)) <= kinds:
            raise DecodeError(message)
        return data if kind is list else tuple(data)

    lines = ("if type({v}) is not list or not set(map(type, {v})) <= {p}kinds:",
             "    raise DecodeError({p}message)")
    if kind is not list:
        lines += ("{v} = tuple({v})",)
    return _Plan(encode, decode, (lines, {"kinds": kinds, "message": message}))


def _sequence(kind: type, item: _Plan) -> _Plan:
    """``list[X]`` or ``tuple[X, ...]`` of an untagged X: an array of X's encodings."""
    encode_item, decode_item = item.encode, item.decode

    def encode(value: Any) -> list:
        if type(value) is not kind:
            raise TypeError(f"a {type(value).__name__}, not a {kind.__name__}")
        return [encode_item(x) for x in value]

    message = f"not a {kind.__name__}"

    def decode(data: Any) -> Any:
        if type(data) is not list:
            raise DecodeError(message)
        return [decode_item(x) for x in data] if kind is list else tuple(map(decode_item, data))

    lines = ("if type({v}) is not list:", "    raise DecodeError({p}message)")
    lines += ("if {v}:", "    {v} = [{p}item(x) for x in {v}]") if kind is list else \
        ("{v} = tuple(map({p}item, {v}))",)  # (an empty list is left as it is)
    return _Plan(encode, decode, (lines, {"item": decode_item, "message": message}))


def _plain_tuple(kinds: tuple[frozenset[type], ...]) -> _Plan:
    """``tuple[A, B, …]`` of plain values: an array."""
    size = len(kinds)

    def encode(value: Any) -> list:
        if type(value) is not tuple or len(value) != size or \
                not all(map(_contains, kinds, map(type, value))):
            raise TypeError("not a tuple of the annotation's types")
        return list(value)

    def decode(data: Any) -> tuple:
        if type(data) is not list or len(data) != size or \
                not all(map(_contains, kinds, map(type, data))):
            raise DecodeError("not a tuple of the annotation's types")
        return tuple(data)

    return _Plan(encode, decode)


def _plain_dict(kinds: frozenset[type]) -> _Plan:
    """``dict[str, X]`` of plain X: a JSON object, as it is (no key is a tag here)."""
    def encode(value: Any) -> dict:
        if type(value) is not dict or not set(map(type, value)) <= _STR or \
                not set(map(type, value.values())) <= kinds:
            raise TypeError("not a dict of the annotation's types")
        return value

    def decode(data: Any) -> dict:
        if type(data) is not dict or not set(map(type, data.values())) <= kinds:
            raise DecodeError("not a dict of the annotation's types")
        return data  # a JSON object's keys are str

    return _Plan(encode, decode)


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
