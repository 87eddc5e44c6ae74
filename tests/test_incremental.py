"""Rebuilding with one SiteBuilder redoes only what an edit touches."""

import pytest

from builder.pipeline import BuildOptions, SiteBuilder
from builder.problems import BuildFailed
from builder.urls import output_file
from conftest import article


def _pages(files: dict[str, bytes]) -> list[str]:
    return [name for name in files if name.endswith(".html")]


@pytest.fixture
def builder_for(site):
    files = {f"content/a{i}.md": article(f"A{i}", f"2024-01-{i:02d}", tags=f"[t{i % 3}]",
                                         author="Ann" if i % 2 else "Bo")
             for i in range(1, 13)}
    site(files)
    builder = SiteBuilder(site.root, BuildOptions(write=False, jobs=1, cache=False))
    first = builder.build()
    assert len(first.rendered) == len(_pages(first.files))  # every page (not css, feeds)
    return site, builder


def test_nothing_changed_renders_nothing(builder_for):
    _, builder = builder_for
    again = builder.build()
    assert again.rendered == [] and again.parsed == []


def test_one_edit_re_renders_only_the_pages_that_show_it(builder_for):
    site, builder = builder_for
    site.write("content/a5.md", article("A5 new title", "2024-01-05", tags="[t2]", author="Ann"))
    result = builder.build()
    assert result.parsed == ["content/a5.md"]
    must = {
        "articles/a5/index.html", "articles/a4/index.html", "articles/a6/index.html",
        "page/3/index.html",  # a5 is 8th newest of 12, paginate 3
        "archive/index.html", "tags/index.html", "authors/index.html",
        "tags/t2/index.html",  # a11, a8, a5 | a2
        "authors/ann/page/2/index.html",  # a11, a9, a7 | a5, a3, a1
    }
    assert must <= set(result.rendered)
    # Everything else re-rendered shows a5 (as a related article, for instance) ...
    shows_it = {output_file(p.url) for p in result.site.pages
                if any(a.source == "content/a5.md" for a in p.shows)}
    assert set(result.rendered) <= shows_it
    # ... and pages that cannot show it were left alone.
    for untouched in ("index.html", "tags/t0/index.html", "authors/bo/index.html",
                      "articles/a12/index.html", "tags/t2/page/2/index.html",
                      "authors/ann/index.html"):  # other pages of its tag and author
        assert untouched not in result.rendered
    assert "A5 new title" in result.files["articles/a4/index.html"].decode()  # neighbour link


def test_template_change_re_renders_what_uses_it(builder_for):
    site, builder = builder_for
    site.write("templates/tags.html", '{% extends "base.html" %}{% block main %}T{% endblock %}')
    result = builder.build()
    assert result.parsed == []
    assert len(result.rendered) == len(_pages(result.files))  # the template set changed


def test_a_failed_rebuild_keeps_the_last_good_state(builder_for):
    site, builder = builder_for
    site.write("content/a5.md", "---\ntitle: [\n---\n")
    with pytest.raises(BuildFailed):
        builder.build()
    site.write("content/a5.md", article("A5", "2024-01-05", tags="[t2]", author="Ann"))
    result = builder.build()
    assert result.parsed == ["content/a5.md"]
    assert "articles/a5/index.html" in result.files


def test_deleting_an_article_removes_its_page_and_updates_lists(builder_for):
    site, builder = builder_for
    (site.root / "content/a12.md").unlink()
    result = builder.build()
    assert "articles/a12/index.html" not in result.files
    assert "index.html" in result.rendered and "articles/a11/index.html" in result.rendered


def test_feeds_that_do_not_list_the_edited_article_are_reused(builder_for):
    site, builder = builder_for
    before = builder.build().files
    site.write("content/a5.md", article("A5 new title", "2024-01-05", tags="[t2]", author="Ann"))
    after = builder.build().files
    assert after["tags/t0/feed.xml"] is before["tags/t0/feed.xml"]  # not even re-serialised
    assert after["tags/t2/feed.xml"] != before["tags/t2/feed.xml"]
    assert b"A5 new title" in after["feed.xml"]


def test_a_new_build_reads_back_unchanged_pages_instead_of_rendering(site):
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-{i:02d}", tags="[t]")
          for i in range(1, 5)})
    site.write("content/a5.md", article("A5", "2024-01-05", tags="[solo]"))  # shows no a3
    first = SiteBuilder(site.root).build()  # as `postil build` does: a fresh builder each time
    assert first.rendered
    again = SiteBuilder(site.root).build()
    assert again.rendered == [] and again.report.written == []
    assert again.files == first.files
    site.write("content/a3.md", article("A3 again", "2024-01-03", tags="[t]"))
    (site.root / "public/articles/a1/index.html").write_text("edited by hand")
    third = SiteBuilder(site.root).build()
    assert "articles/a3/index.html" in third.rendered
    assert "articles/a1/index.html" in third.rendered  # not what the manifest says: rendered
    assert "articles/a5/index.html" not in third.rendered and "tags/solo/index.html" not in \
        third.rendered
    assert (site.root / "public/articles/a1/index.html").read_text() != "edited by hand"
