"""Attacks on delta builds (builder.delta, builder.reads): each must equal a cold build.

A long-lived builder builds a site once, a file is saved, and the builder is
told which; the files it gives must be a cold build's, byte for byte, whether
it took the delta path or fell back to a full build. The attacks: templates
that read articles in ways the tracking of builder.reads could miss, edits
that change derived data (summaries, passages, headings, footnotes) but not
the view, runs of saves, failed builds, drafts, future articles, a base path,
a feed limit, and saved paths that are odd (unchanged, outside the site, a
symbolic link, twice in one call).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.pipeline import BuildResult
from builder.problems import BuildFailed
from conftest import (
    SITE_YML,
    SiteMaker,
    article,
    cold_files,
    copy_example,
    is_delta,
    live_builder,
    output_files,
    parse_html,
    replace_once,
    text_of,
)

ARTICLE = "content/afghanistan-after-august-2021.md"
OTHER = "content/attribution-verbs-in-allegation-reporting.md"
PASSAGE = ("Quetta appears only once", "Quetta appears just once")


def differing(result: BuildResult, root: Path, **options) -> list[str]:
    """The output files where ``result`` and a cold build differ."""
    mine, theirs = output_files(result), cold_files(root, **options)
    return sorted(name for name in mine.keys() | theirs.keys()
                  if mine.get(name) != theirs.get(name))


# ---------------------------------------------------------------------------------------
# Templates: a tag page lists its articles through a custom template.

ONE = article("One", "2024-01-01", "A short body here.\n\nA second paragraph.", tags="[x]")
#: the first paragraph changes: the body, the summary made from it, the word count
BODY_EDIT = ("A short body here.", "A much longer body here now, with many more words.")


def tag_site(site: SiteMaker, loop_body: str) -> Path:
    root = site({"content/one.md": ONE,
                 "content/two.md": article("Two", "2024-01-02", "Other text.", tags="[x]")})
    site.write("templates/tag.html", '{% extends "base.html" %}{% block main %}'
               "{% for article in paginator.items %}<p>" + loop_body + "</p>{% endfor %}"
               "{% endblock %}")
    return root


#: ways a template reads an article's changed fields (summary, word count, body)
TRACKED = {
    "set": "{% set x = article %}{{ x.summary }}",
    "with": "{% with x = article %}{{ x.word_count }}{% endwith %}",
    "namespace": "{% set ns = namespace(a=article) %}{{ ns.a.word_count }}",
    "caller": "{% macro m() %}{{ caller() }}{% endmacro %}"
              "{% call m() %}{{ article.word_count }}{% endcall %}",
    # (scoped: a block sees no loop variable otherwise, and ``article`` is undefined there)
    "scoped-block": "{% block x scoped %}{{ article.word_count }}{% endblock %}",
    "map": "{{ [article] | map(attribute='word_count') | sum }}",
    "sort": "{{ ([article] | sort(attribute='summary'))[0].title }}",
    "groupby": "{% for g, items in [article] | groupby('summary') %}{{ g }}{% endfor %}",
    "selectattr": "{{ [article] | selectattr('word_count', 'gt', 5) | list | length }}",
    "attr": "{{ article | attr('word_count') }}",
    "format": "{{ '%s words' | format(article.word_count) }}",
    "in-test": "{{ 'longer' in article.body_html }}",
    "headings": "{{ article.headings }}",
    "page-context": "{{ page.context.paginator.items[0].word_count }}",
    "page-shows": "{{ page.shows[0].summary if page.shows }}",
    "previtem": "{% for a in [article, article] %}{{ loop.previtem.word_count "
                "if loop.previtem }}{% endfor %}",
    "record-list": "{% set l = [article.record] %}{{ l[0].word_count }}",
    "reading-time": "{{ article.word_count | reading_time }}",
    "record-equal": "{{ article.record == article.record }}",
    "method-on-field": "{{ article.summary.upper() }}",
}

#: ways that name no field, or stringify the article whole
UNTRACKED = {
    "concat": "{{ (article ~ '') | length }}",
    "percent": "{{ ('%s' % article.record) | length }}",
    "dunder-dict": "{% for k, v in article.record.__dict__.items() %}"
                   "{% if k == 'word_count' %}{{ v }}{% endif %}{% endfor %}",
    "getattribute": "{{ article.__getattribute__('word_count') }}",
    "repr-call": "{{ article.record.__repr__() | length }}",
}


@pytest.mark.parametrize("loop_body", list(TRACKED.values()), ids=list(TRACKED))
def test_a_template_that_reads_a_changed_field_renders_again(site, loop_body):
    root = tag_site(site, loop_body)
    builder = live_builder(root)
    result = builder.build(saved=[replace_once(root, "content/one.md", *BODY_EDIT)])
    assert is_delta(result)
    assert differing(result, root) == []


@pytest.mark.parametrize("loop_body", list(UNTRACKED.values()), ids=list(UNTRACKED))
def test_a_template_that_reads_an_article_without_naming_a_field(site, loop_body):
    root = tag_site(site, loop_body)
    builder = live_builder(root)
    before = builder.build().files["tags/x/index.html"]
    result = builder.build(saved=[replace_once(root, "content/one.md", *BODY_EDIT)])
    assert cold_files(root)["tags/x/index.html"] != before  # the page does show the edit
    assert differing(result, root) == []


# ---------------------------------------------------------------------------------------
# A page whose template reads the global ``site``, and shows no saved article in its context.

def test_a_page_reading_site_shows_the_saved_article(site):
    """The tags index lists tags (its context holds no article), but its template
    reads every article's word count through ``site``."""
    root = site({"content/one.md": ONE,
                 "content/two.md": article("Two", "2024-01-02", "Other text.", tags="[y]")})
    site.write("templates/tags.html", '{% extends "base.html" %}{% block main %}'
               '{% for a in site.articles %}<p class="wc">{{ a.title }} {{ a.word_count }}</p>'
               "{% endfor %}{% endblock %}")
    builder = live_builder(root)
    result = builder.build(saved=[replace_once(root, "content/one.md", *BODY_EDIT)])
    assert differing(result, root) == []
    shown = [text_of(p) for p in parse_html(result.files["tags/index.html"]).iterfind(
        ".//p[@class='wc']")]
    assert "One 13" in shown, shown


def test_a_page_reading_only_titles_through_site_keeps_the_delta_path(site):
    root = site({"content/one.md": ONE,
                 "content/two.md": article("Two", "2024-01-02", "Other text.", tags="[y]")})
    site.write("templates/tags.html", '{% extends "base.html" %}{% block main %}'
               "{% for a in site.articles %}<p>{{ a.title }}</p>{% endfor %}{% endblock %}")
    builder = live_builder(root)
    result = builder.build(saved=[replace_once(root, "content/one.md", *BODY_EDIT)])
    assert is_delta(result)
    assert "tags/index.html" not in result.rendered
    assert differing(result, root) == []


# ---------------------------------------------------------------------------------------
# Edits to derived data, with the default theme, on a small site with one entity.

ENTITY_SITE = SITE_YML + "entities:\n  autolink: true\n"
ZED = "---\nname: Zed Corp\ntype: organization\naliases: [Zed]\n---\nSee [[one]] and [[Five]].\n"


def entity_site(site: SiteMaker) -> Path:
    """Five articles mentioning Zed Corp (paginate: 3, so its page has two pages), each
    with a highlight, a heading and a footnote; two links to others."""
    pages = {"content/entities/zed-corp.md": ZED}
    for number, name in enumerate(["one", "two", "three", "four", "five"], start=1):
        body = (f"Para {name} about Zed Corp here.\n\nSecond para with a ==highlight {name}==."
                f"\n\n## Heading {name}\n\nText[^1] more.\n\n[^1]: Footnote {name}.")
        if name == "two":
            body += "\n\nSee [one](one.md) and [[Three]] and [](four.md)."
        pages[f"content/{name}.md"] = article(name.title(), f"2024-01-0{number}", body,
                                              tags="[x]")
    return site(pages, ENTITY_SITE)


DERIVED_EDITS = {
    "summary-from-body": ("one", "Para one about", "Paragraph one about"),
    "heading": ("one", "## Heading one", "## Heading uno"),
    "new-heading": ("one", "## Heading one", "## Heading one\n\n### Sub"),
    "footnote": ("one", "[^1]: Footnote one.", "[^1]: Footnote uno."),
    "highlight": ("one", "==highlight one==", "==highlight uno=="),
    "passage": ("one", "about Zed Corp here.", "about Zed Corp there."),
    "alias-for-name": ("one", "about Zed Corp here.", "about Zed here."),
    "paragraphs-joined": ("one", "here.\n\nSecond", "here.\nSecond"),
    "paragraph-split": ("one", "Para one about Zed", "Para one\n\nabout Zed"),
    "lines-shift": ("one", "Para one about", "Intro.\n\nPara one about"),
    "link-target": ("four", "Para four", "Paragraph four"),
    "linking-article": ("two", "See [one](one.md)", "Look at [one](one.md)"),
    "linked-from-notes": ("five", "Second para", "2nd para"),
    "word-count": ("three", "Text[^1] more.", "Text[^1] more and more and more words."),
}


@pytest.mark.parametrize("change", list(DERIVED_EDITS.values()), ids=list(DERIVED_EDITS))
def test_an_edit_to_derived_data_is_a_delta_build_equal_to_a_cold_build(site, change):
    root = entity_site(site)
    builder = live_builder(root)
    name, old, new = change
    result = builder.build(saved=[replace_once(root, f"content/{name}.md", old, new)])
    assert is_delta(result)
    assert differing(result, root) == []


def test_saves_in_a_row_of_the_same_and_of_linked_articles(site):
    root = entity_site(site)
    builder = live_builder(root)
    for name, old, new in [("one", "Para one", "P one"), ("one", "P one", "Para one"),
                           ("two", "Para two", "P two"), ("one", "Second para", "2nd para"),
                           ("four", "Para four", "P four"), ("two", "P two", "Para two")]:
        result = builder.build(saved=[replace_once(root, f"content/{name}.md", old, new)])
        assert is_delta(result), (name, old)
        assert differing(result, root) == [], (name, old)


def test_two_saved_files_in_one_call(site):
    root = entity_site(site)
    builder = live_builder(root)
    saved = [replace_once(root, "content/one.md", "Para one", "P one"),
             replace_once(root, "content/two.md", "Para two", "P two")]
    result = builder.build(saved=saved)
    assert is_delta(result)
    assert differing(result, root) == []
    result = builder.build(saved=saved + saved)  # the same files named twice, unchanged
    assert is_delta(result)
    assert differing(result, root) == []


def test_custom_templates_reading_related_links_and_neighbours(site):
    root = entity_site(site)
    site.write("templates/article.html", '{% extends "base.html" %}{% block main %}'
               "{% for r in article.related %}R:{{ r.summary }}{{ r.word_count }}{% endfor %}"
               "{% for t in article.link_targets %}L:{{ t.headings | length }}{% endfor %}"
               "{% if newer %}N:{{ newer.summary }}{% endif %}"
               "{% if older %}O:{{ older.word_count }}{% endif %}{% endblock %}")
    builder = live_builder(root)
    for name in ("one", "four", "two"):
        result = builder.build(saved=[replace_once(root, f"content/{name}.md", " about", " on")])
        assert is_delta(result), name
        assert differing(result, root) == [], name


# ---------------------------------------------------------------------------------------
# The example archive, under other options and odd saves.

@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "site")


def configure(root: Path, old: str, new: str) -> None:
    replace_once(root, "site.yml", old, new)


@pytest.mark.parametrize("setting", ["base-path", "feed-limit"])
def test_settings_that_shape_urls_and_feeds(example, setting):
    if setting == "base-path":
        configure(example, "https://example.org/", "https://example.org/sub/path/")
    else:
        configure(example, "paginate: 5", "paginate: 5\nfeed_limit: 2")
    builder = live_builder(example)
    for old, new in [PASSAGE, ("labels on attacks became", "labels on attacks grew")]:
        result = builder.build(saved=[replace_once(example, ARTICLE, old, new)])
        assert is_delta(result)
        assert differing(result, example) == []


@pytest.mark.parametrize("drafts", [True, False], ids=["drafts-built", "drafts-hidden"])
def test_a_saved_draft(example, drafts):
    (example / "content" / "zz-draft.md").write_text(article(
        "Draft one", "2022-01-01", "Draft body.", draft="true", tags="[Taliban]"))
    builder = live_builder(example, drafts=drafts)
    for name, old, new in [("content/zz-draft.md", "Draft body", "Draft text"),
                           (ARTICLE, *PASSAGE)]:
        result = builder.build(saved=[replace_once(example, name, old, new)])
        assert is_delta(result)
        assert differing(result, example, drafts=drafts) == []


def test_a_saved_future_article(example):
    configure(example, "paginate: 5", "paginate: 5\nfuture: false")
    (example / "content" / "zz-future.md").write_text(article("Future", "2099-01-01",
                                                              "Future body."))
    builder = live_builder(example)
    result = builder.build(saved=[replace_once(example, "content/zz-future.md", "Future body",
                                       "Future text")])
    assert is_delta(result)
    assert differing(result, example) == []


def test_odd_saved_paths(example):
    builder = live_builder(example)
    path = str(example / ARTICLE)
    result = builder.build(saved=[path])  # saved, unchanged
    assert is_delta(result) and result.rendered == []
    assert differing(result, example) == []
    result = builder.build(saved=[str(example.parent / "elsewhere.md")])
    assert not is_delta(result)
    assert differing(result, example) == []
    result = builder.build(saved=[str(example / ".." / "site" / ARTICLE)])
    assert is_delta(result)
    replace_once(example, ARTICLE, *PASSAGE)
    result = builder.build(saved=[str(example / ".." / "site" / ARTICLE)])
    assert is_delta(result)
    assert differing(result, example) == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_saved_symbolic_link_within_the_site(example):
    real = example / "notes" / "real.md"
    real.parent.mkdir()
    link = example / "content" / "zz-linked.md"
    real.write_text(article("Linked", "2023-01-01", "Linked body."), encoding="utf-8")
    link.symlink_to(real)
    builder = live_builder(example)
    for saved, old, new in [(link, "Linked body", "Linked text"),
                            (real, "Linked text", "Linked words")]:
        replace_once(example, "notes/real.md", old, new)
        result = builder.build(saved=[str(saved)])
        assert differing(result, example) == []
        assert new.encode() in result.files["articles/zz-linked/index.html"]


def test_a_yaml_error_then_its_fix_then_a_body_edit(example):
    builder = live_builder(example)
    with pytest.raises(BuildFailed):
        builder.build(saved=[replace_once(example, ARTICLE, "publication: Regional",
                                  "publication: [Regional")])
    result = builder.build(saved=[replace_once(example, ARTICLE, "publication: [Regional",
                                       "publication: Regional")])
    assert not is_delta(result)
    assert differing(result, example) == []
    result = builder.build(saved=[replace_once(example, ARTICLE, *PASSAGE)])
    assert is_delta(result)
    assert differing(result, example) == []


# ---------------------------------------------------------------------------------------
# The preview server swaps an edited static file in without a build (LiveSite._swap_static).

def test_a_static_file_swapped_in_survives_the_next_delta_build(site):
    from builder.serve.live import LiveSite

    root = site({"content/one.md": ONE, "static/css/extra.css": "p { color: black }\n"})
    lines: list[str] = []
    live_site = LiveSite(root, drafts=True, out=lines.append, err=lines.append)
    assert live_site.build().ok
    site.write("static/css/extra.css", "p { color: navy }\n")
    assert live_site.build([str(root / "static/css/extra.css")]).static_only
    record = live_site.build([replace_once(root, "content/one.md", *BODY_EDIT)])
    assert record.ok and not record.static_only
    # The search index is made in the background (builder.serve.indexer): compared once
    # it has settled.
    assert live_site.index.wait_idle(60)
    served = live_site.snapshot.files
    assert served["css/extra.css"] == b"p { color: navy }\n"
    assert served == cold_files(root, drafts=True)
    # The full build that put it right leaves delta builds working.
    assert live_site.build([replace_once(root, "content/one.md", "A second paragraph.",
                                 "A 2nd paragraph.")]).ok
    assert "delta" in live_site.result.timings
    assert live_site.index.wait_idle(60)
    assert live_site.snapshot.files == cold_files(root, drafts=True)
