"""Whole-site builds of small sites made in tmp_path, checked by parsing the HTML."""

from builder.linkcheck import find_broken
from conftest import SITE_YML, article, hrefs, parse_html, text_of


def titles_in_list(root):
    return [text_of(a) for a in root.iterfind(".//ol[@class='article-list']//h2/a")]


def test_every_page_is_valid_html_with_title_lang_description_canonical(site):
    site({f"content/a{i}.md": article(f"Article {i}", f"2024-01-0{i}", tags="[x]", author="Ann")
          for i in range(1, 5)})
    result = site.build()
    pages = [name for name in result.files if name.endswith(".html")]
    assert len(pages) >= 10
    for name in pages:
        root = parse_html(result.files[name])
        assert root.get("lang") == "en", name
        assert text_of(root.find("head/title")), name
        assert root.find("head/meta[@name='description']").get("content"), name
        canonical = root.find("head/link[@rel='canonical']").get("href")
        assert canonical.startswith("https://example.org/"), name


def test_home_is_paginated_newest_first(site):
    site({f"content/a{i}.md": article(f"Article {i}", f"2024-01-0{i}") for i in range(1, 8)})
    out = site.root / "public"
    site.build()
    first = parse_html(out / "index.html")
    assert titles_in_list(first) == ["Article 7", "Article 6", "Article 5"]
    assert first.find(".//a[@rel='next']").get("href") == "page/2/"
    second = parse_html(out / "page/2/index.html")
    assert titles_in_list(second) == ["Article 4", "Article 3", "Article 2"]
    assert second.find(".//nav[@class='pagination']/a[@rel='prev']").get("href") == "../../"
    assert titles_in_list(parse_html(out / "page/3/index.html")) == ["Article 1"]
    assert not (out / "page/4").exists()


def test_article_page_shows_metadata_and_neighbours(site):
    site({
        "content/old.md": article("Old", "2023-01-01"),
        "content/mid.md": article("Mid", "2023-06-01", authors="[Ann Lee, Bo]", tags="[Alpha]",
                                  source="https://example.com/orig", publication="The Paper",
                                  body="word " * 460),
        "content/new.md": article("New", "2024-01-01"),
    }, config=SITE_YML + "author: The Reader\n")  # (required: an article has a source)
    site.build()
    root = parse_html(site.root / "public/articles/mid/index.html")
    assert text_of(root.find(".//h1")) == "Mid"
    assert root.find(".//time").get("datetime") == "2023-06-01"
    assert text_of(root.find(".//time")) == "1 June 2023"
    byline = root.find(".//p[@class='byline']")
    assert hrefs(byline) == ["../../authors/ann-lee/", "../../authors/bo/"]
    assert "The Paper" in text_of(byline)
    assert root.find(".//a[@class='source-link']").get("href") == "https://example.com/orig"
    assert "2 min read" in text_of(root.find(".//p[@class='meta']"))
    assert hrefs(root, ".//ul[@class='tags']//a") == ["../../tags/alpha/"]
    neighbours = root.find(".//nav[@class='neighbours']")
    assert hrefs(neighbours) == ["../old/", "../new/"]


def test_tags_differing_in_case_are_one_tag_with_the_most_used_spelling(site):
    site({
        "content/a.md": article("A", "2024-01-01", tags="[LeT]"),
        "content/b.md": article("B", "2024-01-02", tags="[let]"),
        "content/c.md": article("C", "2024-01-03", tags="[LeT, Other]"),
    })
    out = site.root / "public"
    site.build()
    assert sorted(p.name for p in (out / "tags").iterdir() if p.is_dir()) == ["let", "other"]
    tag_page = parse_html(out / "tags/let/index.html")
    assert text_of(tag_page.find(".//h1")) == "Tag LeT"
    assert titles_in_list(tag_page) == ["C", "B", "A"]
    index = parse_html(out / "tags/index.html")
    assert [text_of(a) for a in index.iterfind(".//ul[@class='term-cloud']//a")] == [
        "LeT 3", "Other 1"]


def test_tag_pages_are_paginated(site):
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}", tags="[t]") for i in range(1, 8)})
    site.build()
    out = site.root / "public/tags/t"
    assert titles_in_list(parse_html(out / "page/3/index.html")) == ["A1"]
    assert parse_html(out / "index.html").find(".//a[@rel='next']").get("href") == "page/2/"


def test_authors_and_archive(site):
    site({
        "content/a.md": article("A", "2022-03-01", author="Zoë Quinn"),
        "content/b.md": article("B", "2024-01-02", authors="[Zoë Quinn, Al]"),
    })
    out = site.root / "public"
    site.build()
    author = parse_html(out / "authors/zoe-quinn/index.html")
    assert titles_in_list(author) == ["B", "A"]
    archive = parse_html(out / "archive/index.html")
    assert [text_of(h) for h in archive.iter("h2")] == ["2024", "2022"]


def test_front_matter_values_are_escaped(site):
    site({"content/x.md": article('"<script>alert(1)</script>"', "2024-01-01",
                                  tags='["<b>bold</b>"]', summary='"<img src=x onerror=1>"')})
    result = site.build()
    page = result.files["articles/x/index.html"].decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    root = parse_html(page)
    assert text_of(root.find(".//h1")) == "<script>alert(1)</script>"
    assert root.find(".//ul[@class='tags']//b") is None


def test_drafts_only_with_drafts_and_future_articles_by_choice(site):
    site({
        "content/d.md": article("Draft", "2024-01-01", draft="true"),
        "content/f.md": article("Future", "2999-01-01"),
        "content/p.md": article("Plain", "2024-01-01"),
    })
    assert sorted(a.slug for a in site.build().site.articles) == ["f", "p"]
    assert "articles/d/index.html" not in site.build().files
    assert sorted(a.slug for a in site.build(drafts=True).site.articles) == ["d", "f", "p"]
    site.write("site.yml", "title: T\nbase_url: https://example.org/\nfuture: false\n")
    assert [a.slug for a in site.build().site.articles] == ["p"]
    assert not (site.root / "public/articles/f").exists()


def test_permalink_pattern(site):
    config = ("title: T\nbase_url: https://example.org/\n"
              "permalinks:\n  article: /{year}/{month}/{slug}/\n")
    site({"content/x.md": article("X", "2024-02-03")}, config=config)
    result = site.build()
    assert "2024/02/x/index.html" in result.files
    assert find_broken(result.files) == []


def test_markdown_links_between_articles_resolve_under_base_path(site):
    config = "title: T\nbase_url: https://example.org/archive/\n"
    site({
        "content/a.md": article("A", "2024-01-01", body="See [B](notes/b.md#part)."),
        "content/notes/b.md": article("B", "2024-01-02", slug="bee", body="Back to [A](../a.md)."),
    }, config=config)
    result = site.build()
    a = parse_html(result.files["articles/a/index.html"])
    assert hrefs(a, ".//div[@class='article-body e-content']//a") == ["../bee/#part"]
    assert find_broken(result.files, "/archive/") == []


def test_all_links_resolve_at_root_and_under_a_sub_path(site):
    files = {f"content/a{i}.md": article(f"A{i}", f"202{i % 4}-01-0{i}", tags="[x, Y]",
                                         author=f"Author {i % 2}") for i in range(1, 9)}
    site(files)
    for base, path in (("https://example.org/", "/"), ("https://example.org/a/b/", "/a/b/")):
        result = site.build(base_url=base)
        assert find_broken(result.files, path) == []
        not_found = parse_html(result.files["404.html"])
        assert hrefs(not_found, ".//main//a")[0] == path  # absolute: served at any depth
        css = not_found.find("head/link[@rel='stylesheet']").get("href")
        assert css == f"{path}css/style.css"


def test_site_overrides_one_template_and_one_static_file(site):
    site({"content/a.md": article("A", "2024-01-01")})
    site.write("templates/article.html",
               '{% extends "base.html" %}{% block main %}<p id="mine">{{ article.title }}</p>'
               "{% endblock %}")
    site.write("static/css/style.css", "body { color: red }")
    site.write("static/extra.txt", "hello")
    result = site.build()
    root = parse_html(result.files["articles/a/index.html"])
    assert text_of(root.find(".//p[@id='mine']")) == "A"
    assert root.find(".//header[@class='site-header']") is not None  # base.html still the theme's
    assert result.files["css/style.css"] == b"body { color: red }"
    assert result.files["extra.txt"] == b"hello"


def test_rebuild_writes_only_what_changed_and_keeps_mtimes(site):
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}") for i in range(1, 5)})
    first = site.build()
    out = site.root / "public"
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")}
    second = site.build()
    assert second.report.written == [] and second.report.unchanged == len(first.files)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.html")} == mtimes
    site.write("content/a2.md", article("A2 renamed", "2024-01-02"))
    third = site.build()
    assert "articles/a2/index.html" in third.report.written
    assert "articles/a4/index.html" not in third.report.written
    site.write("content/a1.md", article("A1", "2024-01-01", draft="true"))
    fourth = site.build()
    assert "articles/a1/index.html" in fourth.report.removed
    assert not (out / "articles/a1").exists()


def test_nothing_is_written_outside_the_output(site, tmp_path):
    site({"content/a.md": article("A", "2024-01-01", slug='"../../../escape"')})
    result = site.build()
    assert "articles/escape/index.html" in result.files
    assert not (tmp_path / "escape").exists()
    assert all(p.is_relative_to(site.root / "public") for p in (site.root / "public").rglob("*"))


def test_unchanged_articles_are_not_parsed_again(site, monkeypatch):
    import builder.sources

    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}") for i in range(1, 4)})
    parsed = []
    real = builder.sources.read_article

    def counting(path, raw, settings, key=""):
        parsed.append(path)
        return real(path, raw, settings, key)

    monkeypatch.setattr(builder.sources, "read_article", counting)
    site.build(jobs=1)
    assert sorted(parsed) == ["content/a1.md", "content/a2.md", "content/a3.md"]
    parsed.clear()
    site.write("content/a2.md", article("A2 edited", "2024-01-02"))
    result = site.build(jobs=1)
    assert parsed == ["content/a2.md"]
    assert "A2 edited" in result.files["articles/a2/index.html"].decode()
    parsed.clear()
    assert site.build(jobs=1, base_url="https://example.org/sub/") and len(parsed) == 3
