"""Records read by a :class:`builder.sources.Reader` share their repeated strings.

A record arrives from a reading worker or from the cache as new objects; the reader
makes front matter keys, tags, authors, categories and mentions' slugs, ids and words
one object each (:func:`builder.sources.share_strings`), without changing a value.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from test_cache import example_settings, same

from builder.cache import CACHE_DIR, ArticleCache
from builder.reader import read_article
from builder.sources import Reader, discover, share_strings


@pytest.fixture(scope="module")
def example() -> tuple[Any, list[tuple[str, Any]]]:
    config, _, settings = example_settings()
    sources = discover(config.content_path)
    return settings, sources, fresh(settings, sources)


def fresh(settings: Any, sources: list) -> dict[str, Any]:
    """Each source's record as parsing makes it, nothing shared afterwards."""
    records = {}
    for rel, path in sources:
        raw = path.read_bytes()
        record, _ = read_article(rel, raw, settings, ArticleCache.key_for(settings, rel, raw))
        if record is not None:
            records[rel] = record
    return records


def one_object_per_value(records: list[Any]) -> None:
    """Every string share_strings covers is the only object with its value."""
    seen: dict[str, str] = {}

    def check(text: str, where: str) -> None:
        assert seen.setdefault(text, text) is text, f"{where}: {text!r} is a second object"

    for record in records:
        for name in record.lines:
            check(name, f"{record.source}: front matter key")
        for kind in ("tags", "authors", "categories", "hashtags"):
            for name in getattr(record, kind):
                check(name, f"{record.source}: {kind}")
        for mention in record.mentions:
            check(mention.entity, f"{record.source}: mention entity")
            check(mention.id, f"{record.source}: mention id")
            check(mention.text, f"{record.source}: mention text")
            if mention.quote.exact == mention.text:
                assert mention.quote.exact is mention.text


def covered(records: list[Any]) -> None:
    """The example archive repeats each kind of string the check covers."""
    keys = [name for r in records for name in r.lines]
    tags = [name for r in records for name in r.tags]
    slugs = [m.entity for r in records for m in r.mentions]
    assert len(keys) > len(set(keys)) and len(tags) > len(set(tags))
    assert len(slugs) > len(set(slugs)) and any(r.authors for r in records)


def test_records_as_a_worker_sends_them_share_strings_and_keep_their_values(example):
    _, _, before = example
    records = [pickle.loads(pickle.dumps(r)) for r in before.values()]  # (as from a pool)
    covered(records)
    for record in records:
        share_strings(record)
    one_object_per_value(records)
    assert all(same(record, before[record.source]) for record in records)


def test_the_reader_shares_the_strings_of_what_it_parses(example):
    settings, sources, before = example
    records, _ = Reader(settings).read(sources, jobs=1)
    assert len(records) == len(before)
    one_object_per_value(records)
    assert all(same(record, before[record.source]) for record in records)


def test_records_from_the_cache_share_strings_too(example, tmp_path):
    settings, sources, before = example
    cache = ArticleCache(tmp_path / CACHE_DIR, settings)
    first = Reader(settings, cache)
    first.read(sources, jobs=1)
    cache.flush()
    again = Reader(settings, ArticleCache(tmp_path / CACHE_DIR, settings))
    records, _ = again.read(sources, jobs=1)
    assert records and not again.parsed  # every one decoded from the cache
    one_object_per_value(records)
    assert all(same(record, before[record.source]) for record in records)


def test_sharing_twice_or_nothing_changes_nothing(example):
    _, _, before = example
    share_strings(None)
    for original in before.values():
        record = pickle.loads(pickle.dumps(original))
        share_strings(record)
        share_strings(record)
        assert same(record, original)
