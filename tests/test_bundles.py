"""Discovery, page bundles and the URL space: `.markdown`, `_posts/`, skipped files
counted, `folder/index.md`, `permalinks: {article: "/{path}/"}` and front-matter
permalinks (issue 11)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, SITE_YML, article, fails_with, parse_html, text_of

PATHS = "title: Test\nbase_url: https://example.org/\npermalinks: {article: \"/{path}/\"}\n"


def test_markdown_suffix_and_posts_are_read_other_underscores_counted(site):
    root = site({"content/_posts/2013-05-06-release.markdown": article("Release", "2013-05-06"),
                 "content/notes.markdown": article("Notes"),
                 "content/_drafts/a.md": article("A"), "content/_drafts/b.md": article("B"),
                 "content/_index.md": article("Index"), "content/.trash/old.md": article("Old"),
                 "content/_drafts/picture.png": b"\x89PNG",
                 "content/.git/README.md": "Git's own folder: not counted"})
    result = site.build()
    assert sorted(a.source for a in result.site.articles) == [
        "content/_posts/2013-05-06-release.markdown", "content/notes.markdown"]
    assert result.skipped == [
        "1 file skipped: names starting with `_` (`content/_index.md`)",
        "1 file under `content/.trash/` skipped: hidden names (starting with `.`)",
        "2 files under `content/_drafts/` skipped: names starting with `_`"]
    done = subprocess.run([sys.executable, "-m", "builder", "build", str(root)],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("built 2 articles")
    assert lines[1:] == result.skipped
    again = subprocess.run([sys.executable, "-m", "builder", "build", str(root)],
                           capture_output=True, text=True, cwd=REPO)  # nothing changed
    assert again.stdout.splitlines()[1:] == result.skipped


def test_a_markdown_link_to_a_markdown_file(site):
    site({"content/a.md": article("A", body="[b](b.markdown)"),
          "content/b.markdown": article("B")})
    site.build()
    page = parse_html(site.root / "public/articles/a/index.html")
    assert [a.get("href") for a in page.iterfind(".//main//p/a")] == ["../b/"]


def test_page_bundles_take_their_folder_name(site):
    site({"content/hello/index.md": article("Hello"),
          "content/there/index.markdown": article("There"), "content/index.md": article("Top")})
    site.build()
    for slug, title in (("hello", "Hello"), ("there", "There"), ("index", "Top")):
        page = parse_html(site.root / f"public/articles/{slug}/index.html")
        assert text_of(page.find(".//main//h1")) == title


def test_duplicate_slugs_suggest_path_permalinks_which_resolve_them(site):
    site({"content/a/notes.md": article("A notes"), "content/b/notes.md": article("B notes")})
    site.root.joinpath("public").mkdir()
    fails_with(site, 'content/b/notes.md:1: duplicate slug "notes": content/a/notes.md has it '
               'too (give one a slug:, or set permalinks: {article: "/{path}/"} in site.yml '
               "for URLs that follow the folders)")
    site.write("site.yml", PATHS)
    result = site.build()
    assert sorted(a.url for a in result.site.articles) == ["/a/notes/", "/b/notes/"]
    assert text_of(parse_html(site.root / "public/b/notes/index.html").find(".//main//h1")) \
        == "B notes"


def test_path_permalinks_follow_the_folder_tree(site):
    site({"content/Guides/Getting Started/index.md": article("Start"),
          "content/Guides/setup.md": article("Setup", slug="install"),
          "content/_posts/2020-01-01-post.md": article("Post"),
          "content/top.md": article("Top")}, PATHS)
    result = site.build()
    assert {a.source: a.url for a in result.site.articles} == {
        "content/Guides/Getting Started/index.md": "/guides/getting-started/",
        "content/Guides/setup.md": "/guides/install/",
        "content/_posts/2020-01-01-post.md": "/post/",  # (the date prefix is the date)
        "content/top.md": "/top/"}
    assert (site.root / "public/guides/getting-started/index.html").is_file()


def test_front_matter_permalink_overrides_the_pattern(site):
    site({"content/about.md": article("About", permalink="/about/"),
          "content/page.md": article("Page", url="/notes/page.html"),
          "content/bare.md": article("Bare", permalink="/bare"),
          "content/other.md": article("Other", url="https://example.com/x")},
         config=SITE_YML + "author: The Reader\n")  # (an absolute url: is a source)
    result = site.build()
    assert {a.source: a.url for a in result.site.articles} == {
        "content/about.md": "/about/", "content/page.md": "/notes/page.html",
        "content/bare.md": "/bare/", "content/other.md": "/articles/other/"}
    out = site.root / "public"
    assert text_of(parse_html(out / "about/index.html").find(".//main//h1")) == "About"
    assert text_of(parse_html(out / "notes/page.html").find(".//main//h1")) == "Page"


def test_permalink_collisions_name_both_sources(site):
    site({"content/a.md": article("A", permalink="/same/"),
          "content/b.md": article("B", url="/same/"),
          "content/c.md": article("C", permalink="/tags/"),
          "content/d.md": article("D", permalink="/feed.xml")})
    site.root.joinpath("public").mkdir()
    fails_with(site, "content/b.md:4: /same/ is also the URL of content/a.md",
               "content/c.md:4: /tags/ is also the URL of a page Postil makes; change the slug "
               "or permalink",
               "content/d.md:4: /feed.xml: an article's URL must end in \"/\" or \".html\"")
