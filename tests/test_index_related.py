"""Related articles: a memo of earlier rankings (kept by the preview server, stored between
processes) never changes the answer, whatever it holds; and when no article's inputs
changed, it is reused whole, without ranking or digesting any article again."""

from __future__ import annotations

import copy
import json
import random
from datetime import date

import pytest

from builder import entity_index
from builder.entity_index import _related_articles
from builder.model import Article, ArticleRecord


def _archive(seed: int = 7, count: int = 120) -> tuple[list[Article], dict[str, list[str]]]:
    """Article cards, newest first, and each one's entity slugs."""
    rng = random.Random(seed)
    cards, slugs_of = [], {}
    for n in range(count):
        record = ArticleRecord(source=f"content/a{n:03}.md", slug=f"a{n:03}", title=f"A {n}",
                               date=date(2020, 1, 1 + n % 28), datetime=None,
                               tags=rng.sample(["Red", "green", "Blue", "teal", "Ochre"],
                                               rng.randint(0, 2)))
        cards.append(Article(record=record, url=f"/a{n:03}/", authors=[], body_html=""))
        slugs_of[record.source] = rng.sample([f"e{i}" for i in range(25)], rng.randint(0, 4))
    cards.sort(key=lambda a: a.sort_key, reverse=True)
    return cards, slugs_of


def _retag(cards: list[Article], index: int, tags: list[str]) -> list[Article]:
    card = cards[index]
    record = ArticleRecord(**{**vars(card.record), "tags": tags})
    return [*cards[:index], Article(record=record, url=card.url, authors=[], body_html=""),
            *cards[index + 1:]]


def _stored(memo: dict) -> dict:
    """The memo as another process finds it: through JSON (builder.state)."""
    return {"related": json.loads(json.dumps(memo["related"]))}


def test_rankings_share_something_and_do_not_depend_on_the_memo():
    cards, slugs_of = _archive()
    cold = _related_articles(cards, slugs_of)
    assert any(cold.values())
    memo: dict = {}
    assert _related_articles(cards, slugs_of, memo) == cold
    assert _related_articles(cards, slugs_of, memo) == cold  # in memory, as the server has it
    assert _related_articles(cards, slugs_of, _stored(memo)) == cold  # stored, another process


def test_an_unchanged_archive_reuses_every_ranking_at_once(monkeypatch):
    cards, slugs_of = _archive()
    memo: dict = {}
    cold = _related_articles(cards, slugs_of, memo)
    calls = []
    ranking = entity_index._rank
    monkeypatch.setattr(entity_index, "_rank", lambda *a: calls.append(1) or ranking(*a))
    assert _related_articles(cards, slugs_of, _stored(memo)) == cold
    assert calls == []
    # An article's tags changed: its profile, so the whole memo does not hold; the
    # rankings are made again (reusing each that still holds), and equal a cold build's.
    changed = _retag(cards, 5, ["Ochre", "teal", "violet"])
    again = _related_articles(changed, slugs_of, _stored(memo))
    assert calls == [1]
    assert again == _related_articles(changed, slugs_of)
    assert again != cold


@pytest.mark.parametrize("change", ["entities", "tags", "date"])
def test_a_memo_of_other_inputs_is_not_reused_whole(change):
    cards, slugs_of = _archive()
    memo: dict = {}
    _related_articles(cards, slugs_of, memo)
    slugs_of = copy.deepcopy(slugs_of)
    if change == "entities":
        slugs_of[cards[3].source] = ["e1", "e2", "e3", "e4", "e5"]
    elif change == "tags":
        cards = _retag(cards, 3, ["Red", "green", "Blue"])
    else:  # the oldest article becomes the newest: every position after it changes
        record = ArticleRecord(**{**vars(cards[-1].record), "date": date(2030, 1, 1)})
        cards = [Article(record=record, url=cards[-1].url, authors=[], body_html=""),
                 *cards[:-1]]
    assert _related_articles(cards, slugs_of, _stored(memo)) == \
        _related_articles(cards, slugs_of)


@pytest.mark.parametrize("tamper", ["no-such-article", "not-a-list", "short", "whole-bad",
                                    "keys-not-str", "whole-not-a-pair"])
def test_a_crafted_memo_gives_the_rankings_a_cold_build_gives(tamper):
    cards, slugs_of = _archive()
    memo: dict = {}
    cold = _related_articles(cards, slugs_of, memo)
    stored = _stored(memo)
    rankings = stored["related"]
    whole = rankings["*"]
    keys = whole[1]
    if tamper == "no-such-article":
        rankings[keys[0]] = ["content/no-such-article.md"]
    elif tamper == "not-a-list":
        rankings[keys[0]] = "content/a001.md"
    elif tamper == "short":
        whole[1] = keys[:-1]
    elif tamper == "whole-bad":
        rankings["*"] = ["x", keys]
    elif tamper == "keys-not-str":
        whole[1] = [[key] for key in keys]
    else:
        rankings["*"] = {"digest": whole[0]}
    assert _related_articles(cards, slugs_of, stored) == cold
