"""The 102 release posts of Jekyll's own site, built as they come (issue 11, "Done when").

They are copied, unedited, into ``content/_posts/`` of a temporary site, as they sit in
Jekyll's ``docs/_posts``. The build must pass with warnings only; each post keeps the
date of its front matter (in its own offset) or, without one, of its file name; gets
its categories and a page; and Liquid that readers would see is a warning at its line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from builder.pipeline import BuildOptions, build
from conftest import REPO, parse_html, text_of

CORPUS = REPO.parent / "shared" / "corpora" / "jekyll-posts"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpora are not here")
LIQUID = re.compile(r"\{\{|\{%")


@pytest.fixture(scope="module")
def jekyll(tmp_path_factory):
    root = tmp_path_factory.mktemp("jekyll")
    shutil.copytree(CORPUS, root / "content" / "_posts")
    (root / "site.yml").write_text("title: Jekyll news\nbase_url: https://example.org/\n")
    result = build(root, BuildOptions(cache=False))
    return root, result


def posts() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".md", ".markdown"))


def front_matter(path: Path) -> dict[str, str]:
    """Every value as the text written (YAML's base schema: no dates, no booleans)."""
    meta = yaml.load(path.read_text(encoding="utf-8").split("---\n")[1], yaml.BaseLoader)
    return {key: " ".join(value) if isinstance(value, list) else value
            for key, value in meta.items()}


def test_every_post_builds_with_warnings_only(jekyll):
    _, result = jekyll
    assert len(posts()) == 102 and len(result.site.articles) == 102
    assert all(p.warning for p in result.warnings)


def test_each_post_has_a_page_with_its_title_date_and_categories(jekyll):
    root, result = jekyll
    by_source = {a.source: a for a in result.site.articles}
    for path in posts():
        meta = front_matter(path)
        article = by_source[f"content/_posts/{path.name}"]
        page = parse_html(root / "public" / article.url.strip("/") / "index.html")
        assert text_of(page.find(".//h1")) == meta["title"], path.name
        day = meta["date"][:10] if "date" in meta else path.name[:10]  # its own offset's day
        assert page.find(".//time").get("datetime")[:10] == day, path.name
        wanted = meta.get("category", "").split() + \
            meta.get("categories", "").split()
        shown = [text_of(a) for a in page.iterfind(".//a")
                 if "/categories/" in (a.get("href") or "")]
        assert sorted(set(shown)) == sorted(set(wanted)), path.name
    categories = {term.name: term for term in result.site.categories}
    for path in posts():
        meta = front_matter(path)
        for category in meta.get("category", "").split() + \
                meta.get("categories", "").split():
            assert f"content/_posts/{path.name}" in {
                a.source for a in categories[category].articles}
            assert (root / "public/categories" / category / "index.html").is_file()

def test_jekyll_1_0_0_stays_on_6_may_2013(jekyll):
    root, _ = jekyll
    page = parse_html(root / "public/articles/jekyll-1-0-0-released/index.html")
    time = page.find(".//time")
    assert (time.get("datetime"), text_of(time)) == ("2013-05-06T02:12:52+02:00", "6 May 2013")


def test_liquid_that_readers_see_is_a_warning_at_its_line(jekyll):
    root, result = jekyll
    warned: dict[str, set[int]] = {}
    for problem in result.warnings:
        if "Postil does not run Liquid" in problem.message:
            warned.setdefault(problem.path, set()).add(problem.line)
    assert len(warned) >= 20
    for source, lines in warned.items():
        text = (root / source).read_text(encoding="utf-8").split("\n")
        for line in lines:  # the tag starts on the line named
            assert LIQUID.search(text[line - 1]), f"{source}:{line}"
    for article in result.site.articles:
        page = parse_html(root / "public" / article.url.strip("/") / "index.html")
        body = page.find(".//main")
        for code in [*body.iterfind(".//code"), *body.iterfind(".//pre")]:
            code.clear()  # Liquid shown as code is what the author meant to show
        if LIQUID.search("".join(body.itertext())):
            assert article.source in warned, article.source
