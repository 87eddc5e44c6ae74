"""The fast paths of read tracking (builder.reads) record what the slow ones did.

Tracking runs in every build, so its hot paths are written out: a plain function
called in one step, the test of what ``{{ }}`` prints written into the templates'
code, no ``whole`` around constants, Postil's own filters left unwatched. Each test
here renders a small template through a tracking :class:`~builder.render.Renderer`
bound to the example archive (built once), and checks what the page was recorded to
read, and that the plain renderer gives the same bytes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

import jinja2
import pytest

from builder.model import Page
from builder.pipeline import BuildOptions, SiteBuilder
from builder.reads import EVERYTHING
from builder.render import _BLIND_FILTERS, Renderer
from builder.urls import output_file
from conftest import REPO


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The example archive built once, as a delta build keeps it: (site, template dirs)."""
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "site.yml", root / "site.yml")
    builder = SiteBuilder(root, BuildOptions(write=False, jobs=1, delta=True, cache=False))
    builder.build()
    last = builder._last  # noqa: SLF001
    templates = tmp_path_factory.mktemp("templates")
    return last.site, [templates, *last.renderer.template_dirs], templates


def render(built, source: str, **context: Any) -> tuple[str, frozenset[str]]:
    """``source`` rendered as a page showing the newest article (``article``) and all
    (``articles``): its text and what it read. The plain renderer gives the same."""
    site, dirs, folder = built
    name = f"t{abs(hash(source))}.html"
    (folder / name).write_text(source, encoding="utf-8")
    page = Page(url="/t/", template=name, context={
        "article": site.articles[0], "articles": list(site.articles[:3]), **context})
    text, _, read = Renderer(site, dirs, track_reads=True).render(page)
    assert Renderer(site, dirs, track_reads=False).render(page)[0] == text
    assert read is not None
    return text.decode(), read


def reads(built, source: str, **context: Any) -> frozenset[str]:
    return render(built, source, **context)[1]


def _anything(*args: Any, **kwargs: Any) -> str:
    return "x"


@pytest.mark.parametrize("source", [
    "{{ f(article) }}",
    "{{ f('a', [article]) }}",
    "{{ f(x=article) }}",
    "{% for a in articles %}{{ f(a) }}{% endfor %}",
    "{% for a in articles %}{{ f(key={'k': a}) }}{% endfor %}",
], ids=["argument", "in-a-list", "keyword", "in-a-loop", "keyword-in-a-loop"])
def test_a_plain_function_handed_an_article_reads_everything(built, source):
    assert EVERYTHING in reads(built, source, f=_anything)
    assert EVERYTHING in reads(built, source, f=lambda *a, **k: "x")


def test_a_plain_function_handed_plain_values_reads_nothing_more(built):
    source = "{% for a in articles %}{{ f(a.title, 1, none, x=a.date) }}{% endfor %}"
    assert reads(built, source, f=_anything) == {"title", "date"}


def test_a_function_that_takes_the_context_is_handed_it_and_watched(built):
    @jinja2.pass_context
    def marked(context: jinja2.runtime.Context, value: Any) -> str:
        return f"{context['greeting']} {type(value).__name__}"

    text, read = render(built, "{{ f(article) }}", f=marked, greeting="hello")
    assert text == "hello Article" and EVERYTHING in read
    assert EVERYTHING not in reads(built, "{{ f(article.title) }}", f=marked, greeting="x")


def test_a_function_that_declares_its_reads_reads_those(built):
    def declared(value: Any) -> str:
        return "x"
    declared.article_reads = frozenset({"title", "summary"})  # type: ignore[attr-defined]
    assert reads(built, "{{ f(article) }}", f=declared) == {"title", "summary"}


def test_a_function_raising_stop_iteration_gives_undefined_as_jinja_does(built):
    def stops() -> str:
        raise StopIteration
    assert render(built, "[{{ f() is undefined }}]", f=stops)[0] == "[True]"


@pytest.mark.parametrize("source", [
    "{{ article }}",
    "{{ [article] }}",
    "{{ {'a': article} }}",
    "{{ article if true }}",
    "{{ article.record }}",
    "{% autoescape false %}{{ article }}{% endautoescape %}",
    "{% set held %}{{ article }}{% endset %}{{ held | length }}",
    "{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}{{ article }}{% endcall %}",
    "{% for a in articles %}{{ a }}{% endfor %}",
], ids=["whole", "list", "dict", "conditional", "record", "not-escaped", "set-block",
        "call-block", "loop"])
def test_an_article_printed_whole_reads_everything(built, source):
    assert EVERYTHING in reads(built, source)


def test_plain_values_printed_read_only_their_fields(built):
    source = "{{ article.title }}{{ none }}{{ 3 }}{{ 'x' if false }}{{ article.date }}"
    assert reads(built, source) == {"title", "date"}


@pytest.mark.parametrize(("source", "names"), [
    ("{{ 'x' ~ article }}", None),
    ("{{ article ~ 'x' }}", None),
    ("{{ '%s' % article }}", None),
    ("{{ '%s %s' % (article.title, article) }}", None),
    ("{{ 'x' ~ article.title ~ 'y' }}", {"title"}),
    ("{{ '%s!' % article.title }}", {"title"}),
], ids=["concat-after-constant", "concat", "mod", "mod-tuple", "concat-field", "mod-field"])
def test_strings_made_of_an_article_read_everything(built, source, names):
    found = reads(built, source)
    assert found == names if names else EVERYTHING in found


@pytest.mark.parametrize("source", [
    "{{ article.__class__.__name__ }}",
    "{% if article[0] is defined %}{% endif %}",
    "{% if article['_x'] is defined %}{% endif %}",
], ids=["dunder", "number-item", "underscore-item"])
def test_names_that_reach_fields_without_naming_them_read_everything(built, source):
    assert EVERYTHING in reads(built, source)


def _outcome(function: Callable, value: Any) -> tuple[str, Any]:
    try:
        return "value", function(value)
    except Exception as exc:  # noqa: BLE001 - what it raises is the outcome
        return "raised", type(exc)


def test_postils_unwatched_filters_read_no_field_of_what_they_are_given(built):
    """Each filter left unwatched gives the same outcome for two different articles (and
    their records, and lists of them): it cannot show anything an article holds."""
    site, dirs, _ = built
    env = Renderer(site, dirs, track_reads=True).env
    one, two = site.articles[0], site.articles[1]
    assert one.title != two.title and one.url != two.url
    assert set(env.filters) >= _BLIND_FILTERS
    for name in sorted(_BLIND_FILTERS):
        function = env.filters[name]
        for a, b in [(one, two), (one.record, two.record), ([one], [two])]:
            assert _outcome(function, a) == _outcome(function, b), name


def test_a_watched_filter_handed_an_article_reads_everything(built):
    assert EVERYTHING in reads(built, "{{ article | string | length }}")
    assert EVERYTHING in reads(built, "{{ article | tojson if false }}{{ [article] | join }}")
    assert EVERYTHING not in reads(built, "{{ article.date | date }} {{ 'a b' | slug }}")


def test_every_page_of_a_site_renders_the_same_bytes_tracked_or_not(built):
    site, dirs, _ = built
    plain = Renderer(site, dirs[1:], track_reads=False).render_all(site.pages)
    tracked = Renderer(site, dirs[1:], track_reads=True).render_all(site.pages)
    assert len(plain.files) == len(site.pages) > 50
    assert not plain.problems and not tracked.problems
    assert dict(plain.files) == dict(tracked.files)
    assert plain.reads_site == tracked.reads_site
    assert plain.reads == {} and set(tracked.reads) == set(tracked.files)
    # An article's page prints its body, through a filter that reads no more than it
    # names: the page read fields, not everything.
    name = output_file(site.articles[0].url)
    assert "body_html" in tracked.reads[name] and EVERYTHING not in tracked.reads[name]


def test_a_renderer_tracks_reads_unless_told_not_to(built):
    site, dirs, folder = built
    (folder / "plain.html").write_text("{{ article.title }}", encoding="utf-8")
    page = Page(url="/t/", template="plain.html", context={"article": site.articles[0]})
    assert Renderer(site, dirs).render(page)[2] == {"title"}
    assert Renderer(site, dirs, track_reads=False).render(page)[2] is None
