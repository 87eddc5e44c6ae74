"""``postil check`` reports broken internal links and asset references, with their source."""

import pytest

from builder.cli import main
from builder.linkcheck import find_broken
from conftest import REPO, article

# (A missing ``img/none.png`` is a build error: see tests/test_assets.py. A link with no
# file suffix may be a page, so only the check finds it.)
BODY = """\
Fine: [other](b.md), [tags](/tags/), [home](../../).

A broken [page](missing/page/) and a broken ![image](img/none "Title").

Twice: [again](missing/page/) and an [anchor](#ok) and [external](https://example.com/x).
"""


def check(*args: str, capsys) -> tuple[int, list[str], str]:
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.err.splitlines(), captured.out


@pytest.fixture
def broken_site(site):
    site({"content/a.md": article("A", "2024-01-02", body=BODY),
          "content/b.md": article("B", "2024-01-01")})
    return site


def test_check_reports_each_broken_link_with_its_markdown_line(broken_site, capsys):
    code, err, out = check(str(broken_site.root), capsys=capsys)
    assert code == 1 and out == ""
    assert err == [
        "articles/a/index.html → missing/page/ (content/a.md:7)",
        "articles/a/index.html → img/none (content/a.md:7)",
        "articles/a/index.html → missing/page/ (content/a.md:9)",
        "check failed: 3 broken links",
    ]


def test_root_relative_links_are_checked_under_the_base_path(site, capsys):
    site({"content/a.md": article("A", body="Intro.\n\nSee [gone](/gone/) and [ok](/tags/).")})
    code, err, _ = check(str(site.root), "--base-url", "https://example.org/sub/",
                         capsys=capsys)
    assert code == 1
    # relative to its page, so it works under the base path; located in the Markdown
    assert err[0] == "articles/a/index.html → ../../gone/ (content/a.md:7)"


def test_links_from_templates_and_stylesheets_have_no_source_line(site, capsys):
    site({"content/a.md": article("A")})
    site.write("templates/404.html", '{% extends "base.html" %}{% block main %}'
               '<a href="{{ url(\'/nowhere/\') }}">x</a>{% endblock %}')
    site.write("static/css/extra.css", "body {\n  background: url('../img/paper.png');\n}\n"
               "@font-face { src: url(data:font/woff2;base64,AAAA); }\n")
    code, err, _ = check(str(site.root), capsys=capsys)
    assert code == 1
    assert err == ["404.html → /nowhere/", "css/extra.css → ../img/paper.png",
                   "check failed: 2 broken links"]


def test_responsive_images_and_posters_are_checked(site):
    site({"content/a.md": article("A", body="""
        <img src="ok.png" srcset="small.png 1x, big.png 2x" alt="">
        <video poster="poster.jpg"></video>
        """)})
    site.write("static/articles/a/ok.png", b"png")
    site.write("static/articles/a/small.png", b"png")
    result = site.build(write=False)
    assert sorted(b.target for b in find_broken(result.files)) == ["big.png", "poster.jpg"]


def test_a_clean_site_passes(site, capsys):
    site({"content/a.md": article("A", body="[b](b.md)"), "content/b.md": article("B")})
    code, err, out = check(str(site.root), capsys=capsys)
    assert code == 0 and err == [] and out.startswith("ok: 2 articles")


@pytest.mark.parametrize("base_url", ["https://example.org/", "https://example.org/archive/"])
def test_the_example_archive_has_no_broken_links(base_url, capsys):
    code, err, out = check(str(REPO), "--base-url", base_url, capsys=capsys)
    assert (code, err) == (0, []) and out.startswith("ok:")
