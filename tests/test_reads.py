"""What a page's templates read of its articles (builder.reads), as delta builds use it.

Each test gives a small site its own ``article.html``, builds it with a
long-lived builder (as ``postil serve`` does) and looks at what the article
page was recorded to read: the names of the fields read, or ``*`` when a
template could have read anything.
"""

from __future__ import annotations

import pytest

from builder.pipeline import BuildOptions, SiteBuilder
from builder.reads import EVERYTHING
from conftest import SITE_YML, article

BASE = '{% extends "base.html" %}{% block main %}TEMPLATE{% endblock %}'


def reads_of(site, template: str) -> frozenset[str]:
    root = site({"content/one.md": article("One", "2024-01-01", "A *short* body.",
                                           summary='"A summary."', tags="[x]"),
                 "content/two.md": article("Two", "2024-01-02")})
    site.write("templates/article.html", BASE.replace("TEMPLATE", template))
    builder = SiteBuilder(root, BuildOptions(write=False, jobs=1, delta=True))
    builder.build()
    return builder._last.reads["articles/one/index.html"]  # noqa: SLF001


@pytest.mark.parametrize(("template", "names"), [
    ("{{ article.title }}", {"title"}),
    ("{{ article['summary'] }}", {"summary"}),
    ("{{ article.record.word_count }}", {"record", "word_count"}),
    ("{{ article.tags | join(', ') }} {{ article.tags | length }}", {"tags"}),
    ("{% macro t(a) %}{{ a.title }}{% endmacro %}{{ t(article) }}", {"title"}),
    ("{% if newer %}{{ newer.url }}{% endif %}{{ url(article.url) }}", {"url"}),
], ids=["attribute", "item", "record", "filter-on-a-field", "macro", "function-on-a-string"])
def test_the_fields_a_template_reads_are_recorded(site, template, names):
    found = reads_of(site, template)
    assert EVERYTHING not in found
    assert names <= found


@pytest.mark.parametrize("template", [
    "{{ article }}",
    "{{ article | tojson if false else article | string }}",
    "{{ wikidata_url(article) }}",
    "{{ [article] | map(attribute='title') | join }}",
    "{% set d = dict(a=article) %}{{ d | length }}",
], ids=["printed-whole", "filter", "function", "map-filter", "dict"])
def test_what_may_read_any_field_counts_as_everything(site, template):
    assert EVERYTHING in reads_of(site, template)


def test_without_delta_builds_nothing_is_recorded(site):
    root = site({"content/one.md": article("One", "2024-01-01")})
    builder = SiteBuilder(root, BuildOptions(write=False, jobs=1))
    result = builder.build()
    assert builder._last is None  # noqa: SLF001
    assert result.files["articles/one/index.html"]


class _Recorder:
    """An article that notes every attribute read of it (and of what it hands on)."""

    def __init__(self, target, names: set[str]):
        self._target, self._names = target, names

    def __getattr__(self, name: str):
        self._names.add(name)
        return getattr(self._target, name)


def test_the_declared_reads_of_article_jsonld_cover_what_it_reads(site):
    from builder.structured import ARTICLE_JSONLD_READS, article_jsonld

    root = site({"content/one.md": article("One", "2024-01-01", "Text.", summary='"S."',
                                           tags="[x]", updated="2024-02-01",
                                           source="https://example.com/a",
                                           publication="Paper", read="2024-03-01"),
                 # an article of the archive's own (no source), dated only by updated:
                 "content/two.md": "---\ntitle: Two\nupdated: 2024-01-05\n---\nText.\n"},
                config=SITE_YML + "author: The Reader\n")
    result = SiteBuilder(root, BuildOptions(write=False, jobs=1)).build()
    assert len(result.site.articles) == 2
    for found in result.site.articles:
        names: set[str] = set()
        article_jsonld(result.config, _Recorder(found, names))
        assert names and names <= ARTICLE_JSONLD_READS


def test_a_page_calling_article_jsonld_reads_its_fields_not_everything(site):
    found = reads_of(site, "{{ article_jsonld(article) | tojson }}")
    assert EVERYTHING not in found
    assert {"summary", "title", "entity_groups"} <= found
