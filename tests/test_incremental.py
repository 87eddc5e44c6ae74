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
        "archive/index.html",
        "tags/t2/index.html",  # a11, a8, a5 | a2
        "authors/ann/page/2/index.html",  # a11, a9, a7 | a5, a3, a1
    }
    assert must <= set(result.rendered)
    # Everything else re-rendered shows a5 (as a related article, for instance) ...
    shows_it = {output_file(p.url) for p in result.site.pages
                if any(a.source == "content/a5.md" for a in p.shows)}
    assert set(result.rendered) <= shows_it
    # ... and pages that cannot show it were left alone.
    # The tag and author lists show names and counts, which a title does not change.
    for untouched in ("index.html", "tags/t0/index.html", "authors/bo/index.html",
                      "tags/index.html", "authors/index.html",
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


def _cold(site) -> dict[str, bytes]:
    return SiteBuilder(site.root, BuildOptions(write=False, jobs=1, cache=False)).build().files


def _differing(files: dict[str, bytes], cold: dict[str, bytes]) -> list[str]:
    return sorted(name for name in files.keys() | cold.keys()
                  if files.get(name) != cold.get(name))


def test_a_related_article_retitled_reaches_the_pages_that_list_it(site):
    """The related-articles list of an article shows the others' titles."""
    site({"content/a.md": article("Alpha", "2024-01-01", tags="[shared]"),
          "content/b.md": article("Bravo", "2024-03-01", tags="[shared]"),
          **{f"content/x{i}.md": article(f"X{i}", f"2024-02-{i:02d}") for i in range(1, 4)}})
    builder = SiteBuilder(site.root, BuildOptions(write=False, jobs=1, cache=False))
    first = builder.build()
    assert b"Bravo" in first.files["articles/a/index.html"]  # related, not a neighbour
    site.write("content/b.md", article("Bravo renamed", "2024-03-01", tags="[shared]"))
    result = builder.build()
    assert b"Bravo renamed" in result.files["articles/a/index.html"]
    assert _differing(result.files, _cold(site)) == []


def test_a_term_page_follows_its_name_and_count(site):
    """A tag's later pages show its name and count though their articles did not change."""
    site({"content/a1.md": article("A1", "2024-01-01", tags="[Foo]"),
          "content/a2.md": article("A2", "2024-01-02", tags="[Foo]"),
          "content/a3.md": article("A3", "2024-01-03", tags="[foo]"),
          "content/a4.md": article("A4", "2024-01-04", tags="[foo]"),
          "content/a5.md": article("A5", "2024-01-05", tags="[Foo]")})  # paginate: 3
    builder = SiteBuilder(site.root, BuildOptions(write=False, jobs=1, cache=False))
    builder.build()
    # The newest article takes the other spelling: "foo" is now the most used one.
    site.write("content/a5.md", article("A5", "2024-01-05", tags="[foo]"))
    renamed = builder.build()
    assert b"<h1><span class=\"kicker\">Tag</span> foo</h1>" in \
        renamed.files["tags/foo/page/2/index.html"]
    assert _differing(renamed.files, _cold(site)) == []
    # One more, older than all: page 1 keeps its articles, but not its count.
    site.write("content/a0.md", article("A0", "2023-12-31", tags="[foo]"))
    counted = builder.build()
    assert b"6 articles" in counted.files["tags/foo/index.html"]
    assert _differing(counted.files, _cold(site)) == []


def test_a_site_yml_edit_reaches_every_page(site):
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-{i:02d}") for i in range(1, 4)})
    builder = SiteBuilder(site.root, BuildOptions(write=False, jobs=1, cache=False))
    builder.build()
    config = (site.root / "site.yml").read_text()
    (site.root / "site.yml").write_text(config.replace("Test archive", "Best archive"))
    result = builder.build()
    pages = _pages(result.files)
    assert all(b"Best archive" in result.files[name] for name in pages)
    assert _differing(result.files, _cold(site)) == []


def test_a_long_lived_builder_keeps_the_cache_entries_it_still_uses(site):
    """Reused parses stay in .postil-cache/ when another file's edit writes to it."""
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-{i:02d}") for i in range(1, 5)})
    builder = SiteBuilder(site.root, BuildOptions(write=False, jobs=1))
    builder.build()
    site.write("content/a2.md", article("A2 edited", "2024-01-02"))
    assert builder.build().parsed == ["content/a2.md"]
    # A new process finds every article in the cache, the three unedited ones included.
    assert SiteBuilder(site.root, BuildOptions(write=False, jobs=1)).build().parsed == []
