"""Template mistakes Jinja lets pass are reported (builder.template_checks): a misspelt
attribute of Postil's objects or an unknown name is an error with its line and a "did you
mean"; optional keys (article.extra, config) stay optional; a block that no parent has is
a warning naming the blocks there are."""

from __future__ import annotations

import shutil

import pytest

from builder.pipeline import BuildOptions, build
from builder.problems import BuildFailed
from builder.template_checks import block_problems
from builder.theme import BUILTIN_THEMES
from conftest import article, copy_example, fails_with

MAIN = '{% extends "base.html" %}\n{% block main %}\n'
END = "\n{% endblock %}\n"


def test_a_misspelt_attribute_of_an_article_is_an_error_with_a_suggestion(built):
    built.write("templates/article.html", MAIN + "<h1>{{ article.titel }}</h1>" + END)
    fails_with(built, 'templates/article.html:3: Article has no attribute "titel" '
                      '(did you mean "title"?)')


@pytest.mark.parametrize(("use", "message"), [
    ("{% if article.sumary %}x{% endif %}",  # tested: an error too, for Postil's objects
     'Article has no attribute "sumary" (did you mean "summary"?)'),
    ("{% for t in article.tagz %}{{ t }}{% endfor %}",
     'Article has no attribute "tagz" (did you mean "tags"?)'),
    ("{{ article.title ~ article.athors }}",
     'Article has no attribute "athors" (did you mean "authors"?)'),
    ("{{ site.artciles | length }}", 'Site has no attribute "artciles" (did you mean "articles"?)'),
    ("{{ page.ulr }}", 'Page has no attribute "ulr" (did you mean "url"?)'),
    ("{{ artcle.title }}", '"artcle" is undefined (did you mean "article"?)'),
    ("{% for a in artcles %}{% endfor %}", '"artcles" is undefined (did you mean "article"?)'),
])
def test_misspelt_names_and_attributes_are_errors(built, use, message):
    built.write("templates/article.html", MAIN + use + END)
    fails_with(built, f"templates/article.html:3: {message}")


def test_a_misspelt_attribute_in_an_included_template_names_that_template(built):
    built.write("templates/article.html", MAIN + '{% include "_mine.html" %}' + END)
    built.write("templates/_mine.html", "<p>\n{{ article.date | date }}\n{{ article.wordcount }}"
                                        "\n</p>\n")
    fails_with(built, 'templates/_mine.html:3: Article has no attribute "wordcount" '
                      '(did you mean "word_count"?)')


def test_a_misspelt_attribute_in_the_tracked_renderer_too(built):
    """The delta builds' renderer (builder.reads) has its own getattr."""
    built.write("templates/article.html", MAIN + "{{ article.titel }}" + END)
    with pytest.raises(BuildFailed) as caught:
        built.build(delta=True)
    assert [str(p) for p in caught.value.problems] == [
        'templates/article.html:3: Article has no attribute "titel" (did you mean "title"?)']


def test_optional_keys_stay_optional(site):
    """README: absent keys of article.extra and config are undefined, print as nothing,
    are false, and ``is defined`` and ``default`` work; so does a name a page is not
    given, when tested; and ``is defined``/``default`` on Postil's objects."""
    site({"content/a.md": article("A", mood="calm")},
         config="title: T\nbase_url: https://example.org/\nparams:\n  colour: red\n")
    site.write("templates/article.html", MAIN + "\n".join([
        "[{{ article.extra.mood }}|{{ article.extra.missing }}|{{ article.extra.a.b }}]",
        "[{{ 'yes' if article.extra.mood is defined }}|{{ 'no' if article.extra.x is undefined }}]",
        "[{{ article.extra.missing | default('dflt') }}|{{ 'f' if not article.extra.missing }}]",
        "[{{ config.params.colour }}|{{ config.params.size }}|{{ config.no_such_key }}]",
        "[{{ 'T' if term else 'no term' }}|{{ 'u' if paginator is undefined }}]",
        "[{{ article.titel | default('untitled') }}|{{ 'no' if article.titel is not defined }}]",
    ]) + END)
    result = site.build(write=False)
    page = result.files["articles/a/index.html"].decode()
    for line in ("[calm||]", "[yes|no]", "[dflt|f]", "[red||]", "[no term|u]", "[untitled|no]"):
        assert line in page


def test_the_default_theme_renders_every_kind_of_page_strictly(tmp_path):
    """Every template of the theme, on the example archive: no name it reads is missing."""
    root = copy_example(tmp_path / "site")
    result = build(root, BuildOptions(write=False, cache=False, jobs=1))
    templates = {page.template for page in result.site.pages}
    assert {"article.html", "index.html", "entity.html", "timeline.html", "tag.html",
            "annotations.html", "archive.html", "404.html"} <= templates


def test_a_block_no_parent_has_is_a_warning_naming_the_blocks_there_are(built):
    built.write("templates/article.html",
                '{% extends "base.html" %}\n{% block title %}T{% endblock %}\n\n'
                "{% block content %}\n<p>{{ article.title }}</p>\n{% endblock %}\n")
    result = built.build()
    assert [str(p) for p in result.warnings] == [
        'templates/article.html:4: warning: block "content" is never shown: base.html has '
        "no block of that name (blocks: description, head, main, title)"]


def test_a_block_of_a_grandparent_is_shown_and_a_misspelt_one_is_not(built):
    built.write("templates/page.html", '{% extends "base.html" %}\n'
                                       "{% block main %}{% block inner %}{% endblock %}"
                                       "{% endblock %}\n")
    built.write("templates/article.html",
                '{% extends "page.html" %}\n{% block inner %}<p>x</p>{% endblock %}\n'
                "{% block tilte %}T{% endblock %}\n")
    result = built.build()
    assert [str(p) for p in result.warnings] == [
        'templates/article.html:3: warning: block "tilte" is never shown: page.html and '
        "base.html have no block of that name (blocks: description, head, inner, main, "
        'title) (did you mean "title"?)']
    assert "<p>x</p>" in (built.root / "public/articles/good/index.html").read_text()


def test_blocks_nested_in_an_overridden_block_are_the_templates_own(built):
    built.write("templates/article.html", MAIN + "{% block part %}<p>x</p>{% endblock %}" + END)
    assert built.build().warnings == []


def test_the_default_theme_overrides_only_blocks_that_exist(tmp_path):
    folder = BUILTIN_THEMES / "default" / "templates"
    assert block_problems([folder], str) == []
    copy = tmp_path / "templates"
    shutil.copytree(folder, copy)
    tag = copy / "tag.html"
    tag.write_text(tag.read_text() + "{% block footer %}{% endblock %}\n")
    assert [p.message.split(":")[0] for p in block_problems([copy], str)] == [
        'block "footer" is never shown']
    assert block_problems([copy, folder], str, skip=tmp_path) == []  # (the built-in themes)


def test_a_name_undefined_on_many_kinds_of_page_is_one_error(built):
    """Article pages are given ``article`` and tag pages ``terms``-like names: the "did you
    mean" differs, the mistake is one."""
    built.write("templates/base.html", "<title>{{ tilte }}</title>\n")
    with pytest.raises(BuildFailed) as caught:
        built.build()
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("templates/base.html", 1)
    assert problem.message.startswith('"tilte" is undefined')
