"""Delta builds (builder.delta): saved article bodies rebuilt without indexing again.

Each test copies the example archive into a temporary site, keeps a
long-lived builder as ``postil serve`` does, saves an article and builds
again, telling the builder which file was saved. After every save the
files must equal a cold build's, byte for byte; an edit that keeps the
article's view must be a delta build, and any other must be a full one.
The rebuild oracle (tests/test_oracle.py) checks the same on random edits.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from builder.delta import view
from builder.pipeline import BuildOptions, SiteBuilder
from builder.problems import BuildFailed
from builder.rewrite import Rewriter
from conftest import (
    REPO,
    cold_files,
    copy_example,
    is_delta,
    live_builder,
    output_files,
    replace_once,
)

ARTICLE = "content/afghanistan-after-august-2021.md"
OTHER = "content/attribution-verbs-in-allegation-reporting.md"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "site")


def save(site: Path, name: str, old: str, new: str) -> list[str]:
    return [replace_once(site, name, old, new)]


#: (what, old text, new text): edits that change what the article shows, not how it indexes
BODY_EDITS = [
    ("a passage beside a mention", "Quetta appears only once", "Quetta appears just once"),
    ("a highlight's text", "labels on attacks became less reliable",
     "labels on attacks grew less reliable"),
    ("a margin note", "A gap the analysis shares", "A gap this analysis shares"),
    ("the summary", "Example entry: a digest of a fictional", "Example entry: a digest of an "
     "invented"),
    ("a new last paragraph", "tells you which name was used, not who did it.",
     "tells you which name was used, not who did it.\n\nRead again a year later."),
]


@pytest.mark.parametrize(("what", "old", "new"), BODY_EDITS, ids=[e[0] for e in BODY_EDITS])
def test_a_body_edit_is_a_delta_build_equal_to_a_cold_build(example, what, old, new):
    builder = live_builder(example)
    before = output_files(builder.build())
    result = builder.build(saved=save(example, ARTICLE, old, new))
    assert is_delta(result)
    after = output_files(result)
    assert after == cold_files(example)
    changed = {name for name in after if before.get(name) != after[name]}
    assert "articles/afghanistan-after-august-2021/index.html" in changed
    assert changed <= set(result.rendered) | {name for name in changed  # (and the index)
                                              if name.endswith((".json", ".xml"))
                                              or name.startswith("pagefind/")}
    pages = [name for name in after if name.endswith(".html")]
    assert 0 < len(result.rendered) < len(pages) / 3  # only the pages that show the article


def test_a_passage_edit_renders_the_entity_page_that_quotes_it(example):
    builder = live_builder(example)
    result = builder.build(saved=save(example, ARTICLE, "Quetta appears only once",
                                      "Quetta appears just once"))
    assert is_delta(result)
    assert "entities/quetta/index.html" in result.rendered
    assert b"appears just once" in result.files["entities/quetta/index.html"]


#: edits that change how the article indexes: a full build decides
VIEW_EDITS = [
    ("a tag", "tags: [Afghanistan, Taliban,", "tags: [Afghanistan, Taliban, Kabul,"),
    ("a new mention", "not who did it.", "not who did it.\n\nQuetta again."),
    ("the title", 'title: "Afghanistan after August 2021:', 'title: "Afghanistan since 2021:'),
    ("a wikilink's target", "[[proxy-war-south-asia-reading-list|reading list",
     "[[attribution-verbs-in-allegation-reporting|reading list"),
]


@pytest.mark.parametrize(("what", "old", "new"), VIEW_EDITS, ids=[e[0] for e in VIEW_EDITS])
def test_an_edit_that_changes_the_view_takes_a_full_build(example, what, old, new):
    builder = live_builder(example)
    path = example / ARTICLE
    before = builder._last.records[ARTICLE]  # noqa: SLF001 - what the delta compares with
    result = builder.build(saved=save(example, ARTICLE, old, new))
    assert not is_delta(result)
    assert view(before) != view(builder._last.records[ARTICLE])  # noqa: SLF001
    assert output_files(result) == cold_files(example)
    assert path.exists()


def test_saves_add_up_until_the_next_full_build(example):
    builder = live_builder(example)
    steps = [(ARTICLE, "Quetta appears only once", "Quetta appears just once"),
             (OTHER, "\n---\n", "\n---\n\nA reader's first note.\n"),
             (ARTICLE, "Quetta appears just once", "Quetta appears one time"),
             (OTHER, "A reader's first note.", "A reader's second note.")]
    for name, old, new in steps:
        result = builder.build(saved=save(example, name, old, new))
        assert is_delta(result), name
        assert output_files(result) == cold_files(example)
    template = example / "templates" / "article.html"
    template.parent.mkdir()
    shutil.copy(REPO / "themes" / "default" / "templates" / "article.html", template)
    result = builder.build(saved=[str(template)])
    assert not is_delta(result)
    assert output_files(result) == cold_files(example)
    result = builder.build(saved=save(example, ARTICLE, "Quetta appears one time",
                                      "Quetta appears once"))
    assert is_delta(result)
    assert output_files(result) == cold_files(example)


def test_other_saved_files_take_a_full_build(example):
    builder = live_builder(example)
    entity = example / "content" / "entities" / "quetta.md"
    entity.write_text(entity.read_text(encoding="utf-8") + "\nMore notes.\n", encoding="utf-8")
    result = builder.build(saved=[str(entity)])
    assert not is_delta(result)
    assert output_files(result) == cold_files(example)
    config = example / "site.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("paginate: 5", "paginate: 4"),
                      encoding="utf-8")
    result = builder.build(saved=[str(config)])
    assert not is_delta(result)
    assert output_files(result) == cold_files(example)


def test_a_saved_file_with_an_error_fails_and_its_fix_builds(example):
    builder = live_builder(example)
    with pytest.raises(BuildFailed) as failure:
        builder.build(saved=save(example, ARTICLE, "It says {==little", "It says {==little [["
                                 "nobody-at-all]]"))
    assert any(p.path == ARTICLE for p in failure.value.problems)
    result = builder.build(saved=save(example, ARTICLE, "little [[nobody-at-all]]", "little"))
    assert not is_delta(result)  # the last good build is not the one before the error
    assert output_files(result) == cold_files(example)
    result = builder.build(saved=save(example, ARTICLE, "Quetta appears only once",
                                      "Quetta appears just once"))
    assert is_delta(result)
    assert output_files(result) == cold_files(example)


def test_without_the_option_every_build_is_a_full_one(example):
    builder = SiteBuilder(example, BuildOptions(write=False, jobs=1))
    builder.build()
    result = builder.build(saved=save(example, ARTICLE, "Quetta appears only once",
                                      "Quetta appears just once"))
    assert not is_delta(result)
    assert output_files(result) == cold_files(example)


def test_the_rewriter_gives_entities_the_saved_articles_mentions_and_passages(example):
    builder = live_builder(example)
    last = builder._last  # noqa: SLF001 - the rewriter works on the last build's objects
    quetta = next(e for e in last.site.entities if e.slug == "quetta")
    save(example, ARTICLE, "Quetta appears only once", "Quetta appears just once")
    assert is_delta(builder.build(saved=[str(example / ARTICLE)]))
    record = last.records[ARTICLE]
    rewritten = Rewriter({ARTICLE: record}, lambda r: r.body_html).value(quetta)
    pairs = [(card, mention) for card, mention in rewritten.mentions if card.source == ARTICLE]
    assert pairs and all(card.record is record and any(mention is m for m in record.mentions)
                         for card, mention in pairs)
    passages = [pieces for card, pieces in rewritten.passages if card.source == ARTICLE]
    assert "appears just once" in "".join(text for passage in passages[0]
                                          for text, _ in passage)
    assert [c.source for c in rewritten.articles] == [c.source for c in quetta.articles]


def test_a_page_that_reads_no_changed_field_keeps_its_bytes(example):
    builder = live_builder(example)
    result = builder.build(saved=save(example, ARTICLE, "Quetta appears only once",
                                      "Quetta appears just once"))
    assert is_delta(result)
    assert "articles/afghanistan-after-august-2021/index.html" in result.rendered
    assert "archive/index.html" not in result.rendered  # titles and dates only
    assert output_files(result) == cold_files(example)


def test_a_page_renders_again_when_its_template_reads_the_changed_field(example):
    archive = (REPO / "themes" / "default" / "templates" / "archive.html").read_text()
    assert archive.count("{{ article.title }}") == 1
    (example / "templates").mkdir()
    (example / "templates" / "archive.html").write_text(
        archive.replace("{{ article.title }}", "{{ article.title }}: {{ article.summary }}"))
    builder = live_builder(example)
    result = builder.build(saved=save(example, ARTICLE, "Example entry: a digest of a fictional",
                                      "Example entry: a digest of an invented"))
    assert is_delta(result)
    assert "archive/index.html" in result.rendered
    assert b"a digest of an invented" in result.files["archive/index.html"]
    assert output_files(result) == cold_files(example)
