"""The guarantees the fast fingerprint walk (builder/fingerprint.py) must keep.

The walk writes values out in a compact form and hashes it once per object;
these tests pin down what that form may never lose: determinism across
processes, no two different values written alike, records by their key, parts
of records by owner and id, a record's very fields by the record, ``unsigned``
fields left out, new fields covered, unknown types refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath

import pytest

from builder.dates import PartialDate
from builder.fingerprint import Unhashable, fingerprint
from builder.model import Article, ArticleRecord, Mention, Page, Quote, Term

REPO = Path(__file__).resolve().parent.parent


def record(**changes) -> ArticleRecord:
    base = ArticleRecord(source="content/a.md", slug="a", title="A", date=date(2024, 1, 2),
                         datetime=None, authors=["Ann"], body_html="<p>x</p>", key="k" * 32)
    return replace(base, **changes)


def article(rec: ArticleRecord | None = None, **changes) -> Article:
    rec = rec or record()
    base = Article(record=rec, url="/articles/a/", authors=rec.authors, body_html=rec.body_html)
    return replace(base, **changes)


def mention(**changes) -> Mention:
    base = Mention(entity="e", id="m-e-1", line=3, linked=True, explicit=False,
                   quote=Quote("x", "", "", 0, 1), owner="k" * 32)
    return replace(base, **changes)


@pytest.mark.parametrize(("one", "other"), [
    (["ab"], ["a", "b"]),
    (["a", "b"], ["a", "b", ""]),
    ([""], []),
    ("", None),
    ([[1], [2]], [[1, 2]]),
    ([[], []], [[[]]]),
    (1, True),
    (1, 1.0),
    (0.0, -0.0),
    (1, "1"),
    (b"ab", "ab"),
    (b"a\xffb", [b"a", b"b"]),
    ({"a": 1}, ["a", 1]),
    ({}, []),
    ({"a": None}, {"a": ""}),
    ({1: "x"}, {"1": "x"}),
    ((("a", None),), (("a",), None)),
    (date(2024, 1, 2), "2024-01-02"),
    (date(2024, 1, 2), datetime(2024, 1, 2, tzinfo=UTC)),
    (PartialDate(2024, 1), PartialDate(2024)),
    (PartialDate(2024), "P2024"),
    (1024, 1023),
    (10**30, 10**30 + 1),
    (-1, 1),
    ("\udcff", "\udcfe"),
    ("\udcff", "\\udcff"),
])
def test_different_values_give_different_digests(one, other) -> None:
    assert fingerprint(one) != fingerprint(other)


def test_equal_values_give_equal_digests() -> None:
    assert fingerprint({"b": 1, "a": [2, "x"]}) == fingerprint({"a": [2, "x"], "b": 1})
    assert fingerprint({3, 1, 2}) == fingerprint({2, 3, 1})
    assert fingerprint(("a", 1)) == fingerprint(["a", 1])  # a tuple reads like a list
    assert fingerprint(PurePosixPath("a/b")) == fingerprint("a/b")
    assert fingerprint(article()) == fingerprint(article())
    assert fingerprint({1: "x", "y": 2}) == fingerprint({"y": 2, 1: "x"})


def test_a_shared_memo_changes_nothing() -> None:
    value = (article(), [article(), mention()], {"m": mention(owner="")})
    memo: dict[int, bytes] = {}
    first = fingerprint(value, memo)
    assert memo and fingerprint(value, memo) == first == fingerprint(value)


def test_records_stand_for_themselves_by_their_key() -> None:
    assert fingerprint(record()) == fingerprint(record(title="Another"))
    assert fingerprint(record()) != fingerprint(record(key="j" * 32))


def test_parts_of_records_by_owner_and_id() -> None:
    assert fingerprint(mention()) == fingerprint(mention(line=9, before="x"))
    assert fingerprint(mention()) != fingerprint(mention(id="m-e-2"))
    assert fingerprint(mention()) != fingerprint(mention(owner="j" * 32))
    # Without an owner, a mention is covered field by field.
    assert fingerprint(mention(owner="")) != fingerprint(mention(owner="", line=9))
    assert fingerprint(mention(owner="")) != fingerprint(mention(owner="", quote=Quote(
        "y", "", "", 0, 1)))


def test_a_records_very_field_is_covered_by_the_record() -> None:
    rec = record()
    # The same list as the record's: the record's key covers it.
    assert fingerprint(article(rec)) == fingerprint(article(rec))
    # Another list (equal or not) is hashed for itself.
    assert fingerprint(article(rec)) != fingerprint(article(rec, authors=["Site author"]))
    assert fingerprint(article(rec, body_html="<p>y</p>")) != \
        fingerprint(article(rec, body_html="<p>z</p>"))
    # Every field of the object itself counts.
    assert fingerprint(article(rec)) != fingerprint(article(rec, url="/b/"))
    card = article(rec)
    assert fingerprint(article(rec, related=(card,))) != fingerprint(article(rec))


def test_unsigned_fields_are_left_out() -> None:
    page = Page(url="/", template="index.html", context={"x": 1})
    assert fingerprint(page) == fingerprint(replace(page, shows=(article(),)))
    assert fingerprint(page) != fingerprint(replace(page, context={"x": 2}))
    assert fingerprint(page) != fingerprint(replace(page, source_line=2))


def test_new_dataclass_fields_are_covered_and_classes_told_apart() -> None:
    @dataclass(frozen=True)
    class Thing:
        a: str
        b: tuple = ()
        c: dict = field(default_factory=dict)
        d: int = 0

    @dataclass(frozen=True)
    class Other:
        a: str
        b: tuple = ()
        c: dict = field(default_factory=dict)
        d: int = 0

    @dataclass(frozen=True)
    class One:
        a: str

    thing = Thing("x", (1,), {"k": "v"}, 2)
    assert fingerprint(thing) == fingerprint(Thing("x", (1,), {"k": "v"}, 2))
    for changed in (replace(thing, a="y"), replace(thing, b=(2,)), replace(thing, c={}),
                    replace(thing, d=3)):
        assert fingerprint(changed) != fingerprint(thing)
    assert fingerprint(thing) != fingerprint(Other("x", (1,), {"k": "v"}, 2))
    assert fingerprint(One("x")) != fingerprint(One("y"))
    term = Term("tags", "t", "T", 2)
    assert fingerprint(term) != fingerprint(replace(term, name="U"))
    assert fingerprint(term) != fingerprint(replace(term, count=3))


class Text(str):
    pass


@pytest.mark.parametrize("value", [object(), Text("x"), bytearray(b"x"), 1j, Ellipsis,
                                   [1, object()], {"k": Text("x")}, Article])
def test_unknown_types_are_refused(value) -> None:
    with pytest.raises(Unhashable):
        fingerprint(value)


_CROSS_PROCESS = """
import json, sys
from datetime import date
from builder.fingerprint import fingerprint
from builder.model import ArticleRecord, Article, Mention, Quote, Page
rec = ArticleRecord(source="a.md", slug="a", title="A", date=date(2024, 1, 2),
                    datetime=None, authors=["Ann"], key="k" * 32)
card = Article(record=rec, url="/a/", authors=rec.authors, body_html="<p>\\u00e9</p>")
m = Mention(entity="e", id="m-e-1", line=1, linked=True, explicit=False,
            quote=Quote("x", "", "", 0, 1))
page = Page(url="/a/", template="article.html",
            context={"article": card, "tags": {"b", "a", "c"}, "m": m, "n": 1.5,
                     "pieces": [("t", None), ("u", m)]})
print(json.dumps([fingerprint(page).hex(), fingerprint(("v", page)).hex()]))
"""


def test_digests_are_the_same_in_another_process() -> None:
    seen = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run([sys.executable, "-c", _CROSS_PROCESS], cwd=REPO, check=True,
                              capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        seen.add(tuple(json.loads(done.stdout)))
    assert len(seen) == 1
