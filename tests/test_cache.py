"""The parsed-article cache holds data, never code: what it cannot read is a miss.

The codec round-trips every article of the example archive; a crafted, damaged,
foreign, locked or missing cache never raises, never runs code, and a build
after it equals a cold build.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import pickle
import sqlite3
import subprocess
import sys
import typing
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from builder import cache as cache_module
from builder.cache import (
    CACHE_DIR,
    CODEC,
    DATABASE,
    ArticleCache,
    code_fingerprint,
    decode_entry,
    encode_entry,
)
from builder.codec import Codec, DecodeError
from builder.config import load_config
from builder.dates import PartialDate
from builder.entities import discover_entities, read_entity, registry_entry
from builder.lexicon import build_lexicon
from builder.pipeline import BuildOptions, build
from builder.problems import Problem
from builder.reader import read_article
from builder.sources import discover, read_settings
from conftest import REPO, article, copy_example

# The example archive, read once: (key, parse result) per article, and entity records.


def example_settings() -> tuple[Any, list[Any], Any]:
    """The example archive's configuration, entity files read, and read settings (with
    the lexicon of its entities), as a build makes them."""
    config, _ = load_config(REPO)
    entities = [read_entity(rel, path.read_bytes()) for rel, path in
                discover_entities(config.content_path)]
    records = [record for record, _ in entities if record is not None]
    lexicon, _ = build_lexicon([registry_entry(r) for r in records if r.name], config.autolink,
                               config.base_path)
    return config, entities, read_settings(config, lexicon)


@pytest.fixture(scope="module")
def example() -> tuple[Any, list[tuple[str, Any]], list[Any]]:
    config, entities, settings = example_settings()
    takes_key = len(inspect.signature(read_article).parameters) > 3
    results = []
    for rel, path in discover(config.content_path):
        raw = path.read_bytes()
        key = ArticleCache.key_for(settings, rel, raw)
        args = (rel, raw, settings, key) if takes_key else (rel, raw, settings)
        results.append((key, read_article(*args)))
    assert len(results) >= 10 and all(result[0] is not None for _, result in results)
    return settings, results, entities


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (a tuple is not a list)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, (datetime, time)):
        return a == b and a.tzinfo == b.tzinfo and a.fold == b.fold and \
            repr(a.tzinfo) == repr(b.tzinfo)
    if hasattr(a, "__dataclass_fields__"):
        return all(same(getattr(a, n), getattr(b, n)) for n in a.__dataclass_fields__)
    return a == b


def test_every_example_article_round_trips(example):
    _, results, entities = example
    for key, result in results:
        back = decode_entry(key, encode_entry(key, result))
        assert back == result and same(back, result), result[0].source
    for entity in entities:
        assert same(CODEC.decode(CODEC.encode(entity)), entity)
    # Annotations, headings, front matter extras and events are in there, not just text.
    records = [result[0] for _, result in results]
    assert any(r.mentions for r in records) and any(r.highlights for r in records)
    assert any(r.headings for r in records) and any(r.datetime for r in records)


def test_every_model_dataclass_is_allowed_and_nothing_else():
    import builder.model as model

    classes = {value for value in vars(model).values() if isinstance(value, type)
               and hasattr(value, "__dataclass_fields__") and value.__module__ == model.__name__}
    assert len(classes) >= 5
    assert set(CODEC.allowed().values()) == classes | {PartialDate, Problem}
    for name in CODEC.allowed():
        with pytest.raises(DecodeError):  # a known tag, but these are not its fields
            CODEC.decode(f'{{"!{name}": {{"no_such_field": 1}}}}'.encode())
    for cls in classes:  # else the codec could not check their fields' types
        assert typing.get_type_hints(cls).keys() >= cls.__dataclass_fields__.keys()
    with pytest.raises(TypeError, match="not a type the cache codec allows"):
        CODEC.encode(ArticleCache(Path("x"), None))


# The codec on its own --------------------------------------------------------------------


@dataclass(frozen=True)
class Frozen:
    name: str
    when: date | None = None
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    size: int = field(default=0, init=False)  # set after construction

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", len(self.name))


@dataclass
class Plain:
    items: list[Frozen]
    score: float = 0.0


def _codec() -> Codec:
    codec = Codec()
    codec.register_dataclass(Frozen)
    codec.register_dataclass(Plain, "PlainThing")
    codec.register(PartialDate, "PartialDate", lambda d: d.iso, cache_module._partial_date)
    return codec


EVERYTHING = {
    "text": "naïve ☃ \U0001f600 \ud800 lone surrogate", "int": -(10 ** 30), "bool": True,
    "none": None, "floats": [0.1, -0.0, 1e308, float("inf"), float("-inf")],
    "list": [1, "1", 1.0, True], "tuple": (1, (2, [3])), "empty": ((), [], {}, set()),
    "set": {1, "a"}, "frozenset": frozenset({(1, 2)}), "bytes": b"\x00\xff",
    "keys": {1: "int", (1, "a"): "tuple", date(2020, 1, 2): "date", None: "none", 2.5: "float"},
    "bang": {"!tuple": [1]}, "bang2": {"!x": 1, "y": 2},
    "date": date(1, 1, 1),
    "naive": datetime(2024, 5, 1, 12, 30, 15, 123456),
    "zone": datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris")),
    "offset": datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    "named": datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=-3), "BRT")),
    "utc": datetime(2024, 5, 1, tzinfo=UTC),
    "odd offset": datetime(2024, 5, 1, tzinfo=timezone(timedelta(seconds=61, microseconds=7))),
    "time": time(23, 59, 59, 999999), "aware time": time(1, 2, tzinfo=ZoneInfo("Asia/Kolkata")),
    "partial": [PartialDate(2015), PartialDate(2025, 6), PartialDate(2015, 5, 13),
                PartialDate(2000, decade=True)],
    "objects": Plain([Frozen("a", date(2020, 1, 1), ("x",), {"k": [1, {"n": None}]}),
                      Frozen("bb")], 2),
}


def test_codec_round_trips_every_kind_of_value_it_allows():
    codec = _codec()
    back = codec.decode(codec.encode(EVERYTHING))
    assert same(back, EVERYTHING)
    assert back["objects"].items[1].size == 2  # init=False field, on a frozen class
    nan = codec.decode(codec.encode(float("nan")))
    assert math.isnan(nan)


def test_init_false_fields_keep_their_stored_value():
    codec = _codec()
    value = Frozen("abc")
    object.__setattr__(value, "size", 99)  # not what __post_init__ would make
    assert codec.decode(codec.encode(value)).size == 99


class Unknown:
    pass


class OtherZone(tzinfo):
    def utcoffset(self, moment: Any) -> timedelta:
        return timedelta(0)


@pytest.mark.parametrize("value", [
    Unknown(), object(), [1, Unknown()], {"k": {1, Unknown()}}, Path("x"), range(3),
    timedelta(1), "s".encode, Problem("p", 1, "m"),  # not registered on this codec
    datetime(2024, 1, 1, tzinfo=OtherZone()), time(1, tzinfo=OtherZone()),
    Frozen("a", when="2020-01-01"),  # type: ignore[arg-type]  # the annotation says a date
    Plain([Frozen("a"), "not a Frozen"]),  # type: ignore[list-item]
    Plain("abc"),  # type: ignore[arg-type]
    [10 ** 5000],  # too long for int → str
], ids=lambda value: type(value).__name__)
def test_encoding_anything_else_is_a_type_error(value):
    with pytest.raises(TypeError):
        _codec().encode(value)


def test_a_zone_without_a_key_is_a_type_error():
    found = [Path(folder) / "UTC" for folder in zoneinfo.TZPATH if (Path(folder) / "UTC").is_file()]
    if not found:
        pytest.skip("no time zone files")
    with found[0].open("rb") as handle:
        zone = ZoneInfo.from_file(handle)
    with pytest.raises(TypeError, match="time zone"):
        _codec().encode(datetime(2024, 1, 1, tzinfo=zone))


def test_a_cycle_is_a_type_error():
    loop: list = []
    loop.append(loop)
    with pytest.raises(TypeError):
        _codec().encode(loop)


BAD = [
    b"", b" ", b"{", b"[1,", b"\xff\xfe", b"nul", b"NaN", b"[Infinity]", b'"\\ud800',
    b'{"!nope": 1}', b'{"!Frozen": 1}', b'{"!Frozen": {"name": "a"}}',  # missing fields
    b'{"!Frozen": {"name": "a", "when": null, "tags": {"!tuple": []}, "extra": {}, "size": 1,'
    b' "more": 2}}',
    b'{"!Frozen": {"name": 5, "when": null, "tags": {"!tuple": []}, "extra": {}, "size": 1}}',
    b'{"!Frozen": {"name": "a", "when": "2020-01-01", "tags": {"!tuple": []}, "extra": {},'
    b' "size": 1}}',  # a date as text
    b'{"!Frozen": {"name": "a", "when": null, "tags": ["x"], "extra": {}, "size": 1}}',
    b'{"!Frozen": {"name": "a", "when": null, "tags": {"!tuple": [1]}, "extra": {},'
    b' "size": 1}}',
    b'{"!PlainThing": {"items": [{"!PartialDate": [1, 2, 3]}], "score": 1}}',
    b'{"!PlainThing": {"items": [], "score": "1"}}',
    b'{"!date": 5}', b'{"!date": "2020-13-01"}', b'{"!date": ["2020-01-01"]}',
    b'{"!datetime": ["2020-01-01T00:00:00", 0]}', b'{"!datetime": ["x", 0, null]}',
    b'{"!datetime": ["2020-01-01T00:00:00", 2, null]}',
    b'{"!datetime": ["2020-01-01T00:00:00", true, null]}',
    b'{"!datetime": ["2020-01-01T00:00:00+01:00", 0, null]}',
    b'{"!datetime": ["2020-01-01T00:00:00", 0, "No/Such_Zone"]}',
    b'{"!datetime": ["2020-01-01T00:00:00", 0, "../../../../etc/passwd"]}',
    b'{"!datetime": ["2020-01-01T00:00:00", 0, "/etc/localtime"]}',
    b'{"!datetime": ["2020-01-01T00:00:00", 0, [86400000000, null]]}',  # a day: too far
    b'{"!datetime": ["2020-01-01T00:00:00", 0, [1.5, null]]}',
    b'{"!time": ["25:00", 0, null]}', b'{"!float": "1.5"}', b'{"!float": 1.5}',
    b'{"!bytes": "not base64!"}', b'{"!tuple": {"a": 1}}', b'{"!dict": [[1]]}',
    b'{"!dict": [[[1], 2]]}', b'{"!set": [[1]]}', b'{"!dict": {"a": 1}}',
    b'{"!PartialDate": [2020, 0, 0]}', b'{"!PartialDate": "2020-13"}',
    b'{"!PartialDate": "2001s"}', b'{"!PartialDate": 2020}', b'{"!Strict": 0}',
    # The format of dataclasses: an array of field values, untagged where the field's
    # annotation says what it holds (name, when, tags, extra, size).
    b'{"!Frozen": ["a", null, [], {}]}', b'{"!Frozen": ["a", null, [], {}, 1, 2]}',
    b'{"!Frozen": [5, null, [], {}, 1]}', b'{"!Frozen": ["a", null, [], {}, true]}',
    b'{"!Frozen": ["a", "2020-01-01", [], {}, 1]}',  # a date as text
    b'{"!Frozen": ["a", {"!time": ["01:00:00", 0, null]}, [], {}, 1]}',  # not a date
    b'{"!Frozen": ["a", null, {"!tuple": ["x"]}, {}, 1]}',  # a tag where none goes
    b'{"!Frozen": ["a", null, [1], {}, 1]}', b'{"!Frozen": ["a", null, "x", {}, 1]}',
    b'{"!Frozen": ["a", null, [], [], 1]}', b'{"!Frozen": ["a", null, [], {"k": {"!no": 1}}, 1]}',
    b'{"!PlainThing": [[{"!Frozen": ["a", null, [], {}, 1]}], 1]}',  # tagged in a list[Frozen]
    b'{"!PlainThing": [[["a", null, [], {}]], 1]}', b'{"!PlainThing": [[null], 1]}',
    b'{"!PlainThing": [[], "1"]}', b'{"!PlainThing": [{"!tuple": []}, 1]}',
    b'{"!PlainThing": [[["a", null, [], {}, 1]], {"!float": "1.5"}]}',
    b"[" * 100_000 + b"]" * 100_000,  # nested past the recursion limit
    pickle.dumps({"a": 1}), pickle.dumps(EVERYTHING["objects"]),
]


@pytest.mark.parametrize("data", BAD, ids=range(len(BAD)))
def test_decoding_anything_unexpected_is_a_decode_error(data):
    codec = _codec()
    codec.register(Unknown, "Strict", lambda value: 0, _refuse)  # an adapter that raises
    with pytest.raises(DecodeError):
        codec.decode(data)


def _refuse(data: Any) -> Any:
    raise ValueError("never valid")


@dataclass(frozen=True)
class Checked:
    """A constructor that does more than store its arguments: it must still be run."""

    count: int

    def __init__(self, count: int) -> None:
        if count < 0:
            raise ValueError("a count is never negative")
        object.__setattr__(self, "count", count)


@dataclass
class Nested:
    name: str
    child: Nested | None = None  # the class holds itself
    others: tuple[tuple[int, str], ...] = ()
    table: dict[str, Any] = field(default_factory=dict)


def test_dataclasses_are_arrays_built_by_their_constructor_when_it_does_more_than_store():
    codec = Codec()
    codec.register_dataclass(Checked)
    codec.register_dataclass(Nested)
    assert codec.encode(Checked(3)) == b'{"!Checked":[3]}'
    assert codec.decode(b'{"!Checked":[3]}') == Checked(3)
    with pytest.raises(DecodeError, match="never negative"):
        codec.decode(b'{"!Checked":[-1]}')
    value = Nested("a", Nested("b", None, ((1, "x"),), {"!tuple": [1], "d": date(2020, 1, 2)}))
    data = codec.encode(value)
    assert data.startswith(b'{"!Nested":["a",["b",null,[[1,"x"]],{"!tuple":[1],"d":{"!date"')
    assert same(codec.decode(data), value)
    for bad in (b'{"!Nested":["a",["b",null,[[1,2]],{}],[],{}]}',
                b'{"!Nested":["a",["b",null,[],{}],[[1,"x",3]],{}]}',
                b'{"!Nested":["a",{"!Nested":["b",null,[],{}]},[],{}]}',
                b'{"!Nested":["a",null,[],{"k":{"!Checked":[-1]}}]}'):
        with pytest.raises(DecodeError):
            codec.decode(bad)
    with pytest.raises(TypeError, match="Nested.child"):
        codec.encode(Nested("a", Checked(1)))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Nested.others"):
        codec.encode(Nested("a", None, [(1, "x")]))  # type: ignore[arg-type]  # not a tuple
    with pytest.raises(TypeError, match="Nested.table"):
        codec.encode(Nested("a", None, (), {1: "int key"}))  # type: ignore[dict-item]


def test_every_truncation_of_an_entry_is_a_decode_error(example):
    key, result = example[1][0]
    data = encode_entry(key, result)
    for end in range(0, len(data), max(1, len(data) // 500)):
        with pytest.raises(DecodeError):
            decode_entry(key, data[:end])


def test_an_entry_for_another_key_format_or_shape_is_refused(example):
    key, result = example[1][0]
    with pytest.raises(DecodeError):
        decode_entry("0" * 40, encode_entry(key, result))
    entity = next(record for record, _ in example[2] if record is not None)
    head = [cache_module.MAGIC, cache_module.FORMAT, key]
    for entry in (["postil-article", 0, key, result], ["other", 1, key, result],
                  [*head, [result[0], result[1]]], [*head, (result[0],)],
                  [*head, (result[0], [5])], [*head, (PartialDate(2020), [])],
                  [*head, (entity, [])],  # an allowed class, but not an article's record
                  [*head, (dataclasses.replace(result[0], key="0" * 40), [])]):  # another's
        with pytest.raises(DecodeError):
            decode_entry(key, CODEC.encode(entry))
    with pytest.raises(DecodeError):
        decode_entry(key, "text, not a blob")
    problems = [Problem("a.md", 1, "m")]
    assert decode_entry(key, CODEC.encode([*head, (None, problems)])) == (None, problems)


# The cache's database -------------------------------------------------------------------


SETTINGS = ("settings",)


def _filled(folder: Path, count: int = 3) -> dict[str, Any]:
    cache = ArticleCache(folder, SETTINGS)
    values = {cache.key(f"content/{i}.md", b"x"): (None, [Problem(f"content/{i}.md", i, "m")])
              for i in range(count)}
    for key, value in values.items():
        cache.put(key, value)
    cache.flush()
    cache.prune()
    return values


def _keys(folder: Path) -> set[str]:
    with sqlite3.connect(folder / DATABASE) as db:
        return {key for (key,) in db.execute("SELECT key FROM entries")}


def test_put_flush_get_and_prune_keeps_what_was_used(tmp_path):
    folder = tmp_path / CACHE_DIR
    values = _filled(folder, 4)
    a, b, c, d = values
    cache = ArticleCache(folder, SETTINGS)
    assert cache.get(a) == values[a]
    cache.touch(b)  # reused from memory by the preview server: not read, still in use
    cache.put(c, (None, []))
    cache.flush()
    cache.prune()
    assert _keys(folder) == {a, b, c}
    assert ArticleCache(folder, SETTINGS).get(c) == (None, [])
    idle = ArticleCache(folder, SETTINGS)
    idle.prune()  # used nothing: prunes nothing
    assert _keys(folder) == {a, b, c}


def test_get_many_reads_in_batches_and_leaves_out_what_it_cannot_read(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "_BATCH", 2)
    folder = tmp_path / CACHE_DIR
    values = _filled(folder, 5)
    keys = list(values)
    with sqlite3.connect(folder / DATABASE) as db:
        db.execute("UPDATE entries SET value = ? WHERE key = ?", (b"[damaged", keys[1]))
        db.execute("UPDATE entries SET value = ? WHERE key = ?",  # another key's entry
                   (db.execute("SELECT value FROM entries WHERE key = ?",
                               (keys[3],)).fetchone()[0], keys[2]))
    cache = ArticleCache(folder, SETTINGS)
    found = cache.get_many([*keys, keys[0], "absent"])
    assert found == {key: values[key] for key in (keys[0], keys[3], keys[4])}
    assert cache.used == {*keys, "absent"}
    assert cache.get(keys[4]) == values[keys[4]] and cache.get(keys[1]) is None
    assert ArticleCache(folder, SETTINGS, refresh=True).get_many(keys) == {}
    assert ArticleCache(tmp_path / "none", SETTINGS).get_many(keys) == {}


def test_refresh_misses_but_rewrites_and_prunes(tmp_path):
    folder = tmp_path / CACHE_DIR
    a, b = _filled(folder, 2)
    cache = ArticleCache(folder, SETTINGS, refresh=True)
    assert cache.get(a) is None
    cache.put(a, (None, [Problem("new.md", 9, "new")]))
    cache.flush()
    cache.prune()
    assert _keys(folder) == {a}
    assert ArticleCache(folder, SETTINGS).get(a) == (None, [Problem("new.md", 9, "new")])


def test_an_unencodable_value_is_skipped_and_the_rest_is_stored(tmp_path):
    cache = ArticleCache(tmp_path, SETTINGS)
    cache.put("k1", (None, [Problem("a.md", 1, "m")]))
    cache.put("k2", (Unknown(), []))
    cache.flush()
    assert list(cache.skipped) == ["k2"] and "Unknown" in cache.skipped["k2"]
    assert _keys(tmp_path) == {"k1"}


def test_the_key_covers_format_code_settings_path_and_bytes():
    key = ArticleCache.key_for(SETTINGS, "content/a.md", b"x")
    assert len(key) == 40 and len(code_fingerprint()) == 32
    assert key != ArticleCache.key_for(("other",), "content/a.md", b"x")
    assert key != ArticleCache.key_for(SETTINGS, "content/b.md", b"x")
    assert key != ArticleCache.key_for(SETTINGS, "content/a.md", b"y")


def _damage_random(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _damage_truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 100])


def _damage_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps({"entries": 1}))


def _damage_empty(path: Path) -> None:
    path.write_bytes(b"")


def _damage_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _damage_foreign(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (key TEXT, value BLOB)")


def _damage_schema(path: Path) -> None:
    """Our table and header, plus a trigger a crafted file could carry."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE log (x)")
        db.execute("CREATE TRIGGER t AFTER INSERT ON entries BEGIN INSERT INTO log VALUES (1);"
                   " END")


def _damage_rows(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET value = CAST(? AS BLOB)", (b"\x00garbage",))


def _damage_text_rows(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET value = 'some text'")


def _damage_version(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 999")


def _damage_link(path: Path) -> None:
    outside = path.parent.parent / "elsewhere.sqlite3"
    path.rename(outside)
    path.symlink_to(outside)


DAMAGE = [_damage_random, _damage_truncate, _damage_pickle, _damage_empty, _damage_folder,
          _damage_foreign, _damage_schema, _damage_rows, _damage_text_rows, _damage_version,
          _damage_link]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__[8:] for d in DAMAGE])
def test_a_damaged_database_is_a_miss_and_is_replaced_on_the_next_write(tmp_path, damage):
    folder = tmp_path / CACHE_DIR
    values = _filled(folder, 3)
    damage(folder / DATABASE)
    cache = ArticleCache(folder, SETTINGS)
    assert all(cache.get(key) is None for key in values)
    key, value = next(iter(values.items()))
    cache.put(key, value)
    cache.flush()
    cache.prune()
    assert (folder / DATABASE).is_file() and not (folder / DATABASE).is_symlink()
    assert ArticleCache(folder, SETTINGS).get(key) == value  # a fresh database, in use again
    if damage is _damage_link:
        assert (tmp_path / "elsewhere.sqlite3").exists()  # the link was replaced, not followed


def test_a_folder_full_of_files_in_place_of_the_database_is_left_alone(tmp_path):
    folder = tmp_path / CACHE_DIR
    (folder / DATABASE).mkdir(parents=True)
    (folder / DATABASE / "mine.txt").write_text("not the cache's")
    cache = ArticleCache(folder, SETTINGS)
    assert cache.get("k") is None
    cache.put("k", (None, []))
    cache.flush()
    cache.prune()
    assert (folder / DATABASE / "mine.txt").read_text() == "not the cache's"


def test_a_cache_folder_that_cannot_be_made_is_no_cache(tmp_path):
    (tmp_path / "file").write_text("x")
    cache = ArticleCache(tmp_path / "file" / CACHE_DIR, SETTINGS)  # a file where a folder goes
    assert cache.get("k") is None
    cache.put("k", (None, []))
    cache.flush()
    cache.prune()


def test_a_locked_database_is_a_miss_and_a_skipped_write(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "_BUSY_SECONDS", 0.05)
    folder = tmp_path / CACHE_DIR
    values = _filled(folder, 3)
    holder = sqlite3.connect(folder / DATABASE, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of its write
    try:
        cache = ArticleCache(folder, SETTINGS)
        assert all(cache.get(key) is None for key in values)
        cache.put("new", (None, []))
        cache.flush()
        cache.prune()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _keys(folder) == set(values)  # nothing written, nothing pruned
    assert all(ArticleCache(folder, SETTINGS).get(key) == values[key] for key in values)


WRITER = """
import sys
import typing
from pathlib import Path
from builder.cache import ArticleCache
from builder.problems import Problem
folder = Path(sys.argv[1])
for round in range(25):
    cache = ArticleCache(folder, ("settings",))
    for i in range(60):
        key = f"{sys.argv[2]}-{round % 3}-{i}"
        cache.get(key)
        cache.put(key, (None, [Problem("x.md", i, "m" * 500)]))
    cache.flush()
    cache.prune()
print("ok")
"""


def test_two_processes_using_the_cache_at_once_do_not_crash(tmp_path):
    folder = tmp_path / CACHE_DIR
    runs = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), name],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for name in ("serve", "build")]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0 and out.strip() == b"ok" and not err, err.decode()
    assert _keys(folder) <= {f"{n}-{r}-{i}" for n in ("serve", "build") for r in range(3)
                             for i in range(60)}


def test_old_pickle_shards_are_removed_without_following_links(tmp_path):
    folder = tmp_path / CACHE_DIR
    (folder / "ab").mkdir(parents=True)
    (folder / "ab" / f"{'ab' * 20}.pickle").write_bytes(b"old")
    (folder / "ab" / f".{'ab' * 20}.pickle.postil-tmp").write_bytes(b"old")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.pickle").write_bytes(b"not the cache's")
    (folder / "cd").symlink_to(outside, target_is_directory=True)
    (folder / "ef").mkdir()
    (folder / "ef" / "keep.pickle").symlink_to(outside / "keep.pickle")
    (folder / "zz").mkdir()
    (folder / "zz" / "x.pickle").write_bytes(b"not a shard name")
    cache = ArticleCache(folder, SETTINGS)
    cache.put("k", (None, []))
    cache.flush()
    assert not (folder / "ab").exists() and not (folder / "ef").exists()
    assert (outside / "keep.pickle").read_bytes() == b"not the cache's"
    assert (folder / "cd").is_symlink() and (folder / "zz" / "x.pickle").exists()


# Whole builds ---------------------------------------------------------------------------


def _marker_payload(marker: Path) -> bytes:
    """A pickle that creates ``marker`` when it is loaded: what a crafted entry would be."""

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return pickle.dumps(Exploit())


def _tree(folder: Path) -> dict[str, bytes]:
    """Every published file (not Postil's own manifest or lock) and its bytes."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.name.startswith(".postil")}


def test_a_crafted_cache_never_runs_and_the_build_equals_a_cold_one(tmp_path):
    root = copy_example(tmp_path / "site")
    proof, marker = tmp_path / "proof", tmp_path / "marker"
    pickle.loads(_marker_payload(proof))  # the payload is live: unpickling it runs code
    assert proof.exists()
    payload = _marker_payload(marker)

    first = build(root, BuildOptions(output=tmp_path / "warm", jobs=1))
    folder = root / CACHE_DIR
    keys = _keys(folder)
    assert first.parsed and len(keys) == len(first.parsed)
    # Every row, then the database file itself, then the old one-file-per-entry layout.
    with sqlite3.connect(folder / DATABASE) as db:
        db.execute("UPDATE entries SET value = ?", (payload,))
    again = build(root, BuildOptions(output=tmp_path / "warm", jobs=1))
    assert sorted(again.parsed) == sorted(first.parsed)  # every entry a miss
    (folder / DATABASE).write_bytes(payload)
    for key in keys:
        (folder / key[:2]).mkdir(exist_ok=True)
        (folder / key[:2] / f"{key}.pickle").write_bytes(payload)
    last = build(root, BuildOptions(output=tmp_path / "warm", jobs=1, cache=True))
    assert sorted(last.parsed) == sorted(first.parsed)
    assert not marker.exists()
    assert not list(folder.rglob("*.pickle")) and _keys(folder) == keys  # rebuilt, tidied

    cold = build(root, BuildOptions(output=tmp_path / "cold", jobs=1, cache=False))
    assert _tree(tmp_path / "warm") == _tree(tmp_path / "cold")
    assert last.files == cold.files
    warm = build(root, BuildOptions(output=tmp_path / "warm", jobs=1))
    assert warm.parsed == [] and _tree(tmp_path / "warm") == _tree(tmp_path / "cold")


def test_a_warm_build_parses_nothing_and_keeps_the_cache(site):
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}", tags="[x]",
                                      body=f"Text {i}.\n\n## Head\n\nMore.")
          for i in range(1, 6)})
    cold = site.build(jobs=1)
    assert len(cold.parsed) == 5
    keys = _keys(site.root / CACHE_DIR)
    assert len(keys) == 5
    warm = site.build(jobs=1)
    assert warm.parsed == [] and warm.files == cold.files
    assert _keys(site.root / CACHE_DIR) == keys
    site.write("content/a1.md", article("A1 again", "2024-01-01"))
    edited = site.build(jobs=1)
    assert edited.parsed == ["content/a1.md"]
    assert len(_keys(site.root / CACHE_DIR)) == 5 and _keys(site.root / CACHE_DIR) != keys


def test_a_long_lived_builder_keeps_the_cache_when_nothing_changed(site):
    from builder.pipeline import SiteBuilder

    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}") for i in range(1, 4)})
    builder = SiteBuilder(site.root, BuildOptions(write=False, jobs=1))
    builder.build()
    keys = _keys(site.root / CACHE_DIR)
    builder.build()  # reuses every parse from memory: the rows must survive the prune
    assert len(keys) == 3 and _keys(site.root / CACHE_DIR) == keys


def test_the_database_is_sqlite_with_json_values(tmp_path):
    folder = tmp_path / CACHE_DIR
    values = _filled(folder, 1)
    with sqlite3.connect(folder / DATABASE) as db:
        ((key, value),) = db.execute("SELECT key, value FROM entries").fetchall()
    assert key in values and value.startswith(b'["postil-article",%d,' % cache_module.FORMAT)
