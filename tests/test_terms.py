"""Tags, authors and categories: names in any script, merged spellings, clashing slugs,
term files (content/<kind>/<slug>.md), category pages and feeds, and heading ids."""

from __future__ import annotations

import re
import textwrap

import feedparser

from builder.markdown import render
from builder.markdown.anchors import THEME_IDS
from conftest import REPO, article, cold_files, fails_with, is_delta, live_builder, parse_html

TEMPLATES = REPO / "themes" / "default" / "templates"


def page(result, name: str):
    return parse_html(result.files[name])


def links(result, name: str, selector: str) -> list[tuple[str, str]]:
    root = page(result, name)
    return [(a.get("href"), "".join(a.itertext())) for a in root.iterfind(selector)]


def test_names_in_any_script_get_transliterated_pages(site):
    site({"content/a.md": article("A", "2024-01-01", tags="[наука, 张三]",
                                  author="Иван Петров")})
    result = site.build()
    assert {"tags/nauka/index.html", "tags/zhang-san/index.html",
            "authors/ivan-petrov/index.html"} <= set(result.files)
    assert links(result, "articles/a/index.html", ".//ul[@class='tags']/li/a") == [
        ("../../tags/nauka/", "наука"), ("../../tags/zhang-san/", "张三")]
    assert links(result, "articles/a/index.html", ".//p[@class='byline']/a") == [
        ("../../authors/ivan-petrov/", "Иван Петров")]
    assert "".join(page(result, "tags/nauka/index.html").find(".//h1").itertext()) == \
        "Tag наука"


def test_spellings_differing_in_case_separators_or_diacritics_are_one_term(site):
    site({"content/a.md": article("A", "2024-01-01", tags="[Zürich, Machine_learning]"),
          "content/b.md": article("B", "2024-01-02", tags="[Zurich, machine learning]"),
          "content/c.md": article("C", "2024-01-03", tags="[Zürich, Machine-Learning]")})
    result = site.build()
    assert [(t.slug, t.name, t.count) for t in result.site.tags] == [
        ("machine-learning", "Machine-Learning", 3), ("zurich", "Zürich", 3)]


def test_names_that_make_one_slug_otherwise_are_an_error_naming_both(site):
    site({"content/a.md": article("A", "2024-01-01", tags="[C]"),
          "content/b.md": article("B", "2024-01-02", tags="[C++]"),
          "content/c.md": article("C", "2024-01-03", tags="[python, C#]")})
    fails_with(
        site,
        'content/a.md:4: tag "C" and tag "C#" (content/c.md:4) both make the slug "c": give '
        'one a slug in a term file, such as content/tags/NAME.md with title: "C" and slug: NAME',
        'content/b.md:4: tag "C++" and tag "C#" (content/c.md:4) both make the slug "c": give '
        'one a slug in a term file, such as content/tags/NAME.md with title: "C++" and slug: '
        "NAME")


TERM_CPP = """\
---
title: C++
description: The language with classes.
aliases: [cplusplus]
---
Bjarne Stroustrup's *language*, as in [B](../b.md).
"""


def test_term_files_give_slugs_names_descriptions_and_text(site):
    site({"content/a.md": article("A", "2024-01-01", tags="[C]"),
          "content/b.md": article("B", "2024-01-02", tags="[c++]"),
          "content/d.md": article("D", "2024-01-04", tags="[cplusplus]"),
          "content/c.md": article("C", "2024-01-03", tags="[C#]"),
          "content/tags/cpp.md": TERM_CPP,
          "content/tags/csharp.md": "---\ntitle: 'C#'\n---\n"})
    result = site.build()
    assert [(t.slug, t.name, t.count) for t in result.site.tags] == [
        ("c", "C", 1), ("csharp", "C#", 1), ("cpp", "C++", 2)]
    assert not any(name.startswith("articles/cpp") for name in result.files)  # not an article
    cpp = page(result, "tags/cpp/index.html")
    assert cpp.find(".//p[@class='term-description']").text == "The language with classes."
    text = cpp.find(".//div[@class='term-text']")
    assert "".join(text.itertext()).strip() == "Bjarne Stroustrup's language, as in B."
    assert [a.get("href") for a in text.iter("a")] == ["../../articles/b/"]
    assert links(result, "articles/b/index.html", ".//ul[@class='tags']/li/a") == [
        ("../../tags/cpp/", "c++")]
    feed = feedparser.parse(result.files["feed.xml"])
    terms = {e.title: [(t.term, t.label, t.scheme) for t in e.tags] for e in feed.entries}
    assert terms["B"] == [("cpp", "C++", "https://example.org/tags/")]
    assert terms["D"] == [("cpp", "C++", "https://example.org/tags/")]


def test_term_file_problems(site):
    site({"content/a.md": article("A", "2024-01-01", tags="[x]"),
          "content/tags/one.md": "---\ntitle: Same\nslug: x\n---\n",
          "content/tags/two.md": "---\ntitle: same\nslug: x\n---\n",
          "content/tags/lonely.md": "---\ntitle: Lonely\ncolour: red\n---\n"})
    fails_with(site,
               'content/a.md:4: tag "x" and tag "Same" (content/tags/one.md:2) both make the '
               'slug "x": give one a slug in a term file, such as content/tags/NAME.md with '
               'title: "x" and slug: NAME',
               "content/tags/lonely.md:1: warning: no article has this tag, so it gets no page",
               'content/tags/lonely.md:3: warning: unknown key "colour" in a term file (use '
               "title, slug, description, aliases)",
               "content/tags/one.md:1: warning: no article has this tag, so it gets no page",
               'content/tags/two.md:3: duplicate slug "x": content/tags/one.md has it too')


def test_an_untitled_term_file_describes_the_term_its_slug_names(site):
    site({"content/a.md": article("A", "2024-01-01", author="Иван Петров"),
          "content/authors/ivan-petrov.md": "---\ndescription: A reporter.\n---\n"})
    result = site.build()
    [author] = result.site.authors
    assert (author.slug, author.name, author.description) == (
        "ivan-petrov", "Иван Петров", "A reporter.")


def test_categories_have_pages_links_and_feed_categories(site):
    site({"content/a.md": article("A", "2024-01-01", categories="[Release, Notes]",
                                  tags="[x]"),
          "content/b.md": article("B", "2024-01-02", category="release")})
    result = site.build()
    assert [(t.slug, t.name, t.count) for t in result.site.categories] == [
        ("notes", "Notes", 1), ("release", "Release", 2)]
    assert {"categories/index.html", "categories/release/index.html",
            "categories/notes/index.html", "categories/release/feed.xml"} <= set(result.files)
    assert links(result, "articles/a/index.html", ".//ul[@class='tags categories']/li/a") == [
        ("../../categories/release/", "Release"), ("../../categories/notes/", "Notes")]
    assert links(result, "categories/index.html", ".//ul[@class='term-cloud']/li/a") == [
        ("notes/", "Notes 1"), ("release/", "Release 2")]
    feed = feedparser.parse(result.files["feed.xml"])
    terms = {e.title: [(t.term, t.scheme) for t in e.tags] for e in feed.entries}
    assert terms["A"] == [("x", "https://example.org/tags/"),
                          ("release", "https://example.org/categories/"),
                          ("notes", "https://example.org/categories/")]


def test_a_saved_term_file_makes_a_full_build_equal_to_a_cold_one(site):
    site({"content/a.md": article("A", "2024-01-01", tags="[C++]"),
          "content/b.md": article("B", "2024-01-02"),
          "content/tags/cpp.md": TERM_CPP})
    builder = live_builder(site.root)
    builder.build()
    path = site.root / "content/tags/cpp.md"
    path.write_text(TERM_CPP.replace("C++", "C plus plus").replace("[cplusplus]", "[C++]")
                    .replace("[B](../b.md)", "B"),
                    encoding="utf-8")
    result = builder.build(saved=[str(path)])
    assert not is_delta(result)
    assert result.files.keys() == cold_files(site.root).keys()
    assert output(result) == cold_files(site.root)
    assert [(t.slug, t.name) for t in result.site.tags] == [("cpp", "C plus plus")]


# --- heading ids ----------------------------------------------------------------------

def ids(markdown: str) -> list[str]:
    return re.findall(r'<h[2-4] id="([^"]*)"', render(textwrap.dedent(markdown)).html)


def test_headings_in_other_scripts_get_transliterated_ids():
    assert ids("## 安装\n\n## 安装\n\n## Установка\n\n## اردو\n") == [
        "an-zhuang", "an-zhuang-1", "ustanovka", "rdw"]


def test_heading_ids_never_take_an_id_of_the_theme_or_other_syntax():
    assert ids("""\
        ## Highlights
        ## Main
        ## Related
        ## fn1
        ## fnref2
        ## m-isis-1
        ## hl-3
        ## H fn1
        ## y2024
        ## Main
        """.replace("\n", "\n\n")) == [
        "highlights-1", "main-1", "related-1", "h-fn1", "h-fnref2", "h-m-isis-1", "h-hl-3",
        "h-fn1-1", "h-y2024", "main-2"]


def test_the_reserved_ids_are_those_the_theme_writes():
    written = set()
    for path in TEMPLATES.glob("*.html"):
        if path.name == "search.html":  # shows no content: no heading of one meets its ids
            continue
        written |= set(re.findall(r'\bid="([^"{]*)"', path.read_text(encoding="utf-8")))
    assert written == THEME_IDS


def test_a_term_file_slug_moves_every_link_to_the_term_in_reused_pages_too(site):
    site({"content/a.md": article("A", "2024-01-01", tags="[C++]"),
          "content/b.md": article("B", "2024-01-02", tags="[python]")})
    builder = live_builder(site.root)
    builder.build()
    site.build()  # into public/, whose pages the next process may reuse
    site.write("content/tags/cpp.md", "---\ntitle: c++\nslug: cpp\n---\n")
    for result in (builder.build(), site.build()):
        assert links(result, "articles/a/index.html", ".//ul[@class='tags']/li/a") == [
            ("../../tags/cpp/", "C++")]
        assert output(result) == cold_files(site.root)


def output(result) -> dict[str, bytes]:
    return {name: result.files[name] for name in result.files}


def test_a_name_with_no_letter_or_digit_gets_its_slug_from_a_term_file(site):
    site({"content/a.md": article("A", "2024-01-01", tags='["+++"]')})
    fails_with(site, 'content/a.md:4: "+++" cannot be made into a tag slug: give it one in '
               'content/tags/NAME.md with title: "+++"')
    site.write("content/tags/plus.md", '---\ntitle: "+++"\n---\n')
    result = site.build()
    assert [(t.slug, t.name) for t in result.site.tags] == [("plus", "+++")]


def test_an_inline_tag_links_to_the_slug_its_tag_file_gives(site):
    """`#CSharp` in the text is the tag a term file names "C#" with the slug csharp, so its
    link goes where the tag page is, not to /tags/c/ (slugify's) nor /tags/csharp-lang/."""
    site({"content/a.md": article("A", "2024-01-01", body="Notes on #Zurich today."),
          "content/tags/zurich-city.md": "---\ntitle: Zürich\nslug: zurich-city\n---\nThe city.\n"})
    result = site.build()
    assert "tags/zurich-city/index.html" in result.files
    body_links = [(href, text) for href, text in links(result, "articles/a/index.html",
                                                       ".//main//a") if "tags" in href]
    assert ("../../tags/zurich-city/", "#Zurich") in body_links


def test_an_inline_tag_in_a_term_file_that_no_article_has_is_an_error_at_its_line(site):
    """A term file's #tags add no tag, so `#ghost` there would link to a page that is never
    made (/tags/ghost/, a 404); `#python`, which an article has, links."""
    site({"content/a.md": article("A", "2024-01-01", tags="[python]"),
          "content/tags/python.md": "---\ntitle: Python\n---\nSee #python,\nnot\n#ghost.\n"})
    fails_with(site, 'content/tags/python.md:6: inline tag "#ghost": no article has this tag, '
               "so it has no page to link to")
