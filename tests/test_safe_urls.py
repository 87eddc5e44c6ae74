"""URLs from content and configuration: judged as a browser parses them (issue 10).

Script URLs are errors with their line, unknown schemes warnings shown as text,
and a failed build leaves the previous output byte-identical.
"""

import os
import subprocess
import sys

import pytest

from builder.markdown import render
from builder.safeurl import browser_scheme, check_url
from conftest import REPO, article, parse_html, snapshot, text_of

#: (URL as it reaches Postil, its verdict as an href, the scheme named)
HREFS = [
    ("javascript:alert(1)//", "error", "javascript"),
    ("JaVaScRiPt:alert(1)", "error", "javascript"),
    ("java\tscript:alert(1)", "error", "javascript"),
    ("java\nscript:alert(1)", "error", "javascript"),
    ("jav\r\nascript:alert(1)", "error", "javascript"),
    ("&#106;avascript:alert(1)", "error", "javascript"),
    ("&#x6A;avascript:alert(1)", "error", "javascript"),
    ("javascript&colon;alert(1)", "error", "javascript"),
    ("  javascript:alert(1)", "error", "javascript"),
    ("\x01\x1f javascript:alert(1)", "error", "javascript"),
    ("javascript://%0aalert(1)", "error", "javascript"),
    ("vbscript:msgbox(1)", "error", "vbscript"),
    ("VBScript:msgbox(1)", "error", "vbscript"),
    ("data:text/html,<script>alert(1)</script>", "error", "data"),
    ("data:image/svg+xml,<svg onload=alert(1)>", "error", "data"),
    ("data:image/png;base64,iVBORw0KGgo=", "error", "data"),  # fine as an src, not an href
    ("obsidian://open?vault=x", "warning", "obsidian"),
    ("file:///etc/passwd", "warning", "file"),
    ("tel:+15555550123", "warning", "tel"),
    ("doi:10.1000/182", "warning", "doi"),
    ("https://example.org/a", "ok", "https"),
    ("HTTP://example.org/a", "ok", "http"),
    ("mailto:someone@example.org", "ok", "mailto"),
    ("//example.org/x.png", "ok", ""),
    ("/about/", "ok", ""),
    ("../other/", "ok", ""),
    ("#section", "ok", ""),
    ("?page=2", "ok", ""),
    ("java script:alert(1)", "ok", ""),  # a space is no scheme character: a relative path
    ("1javascript:alert(1)", "ok", ""),  # a scheme starts with a letter
]


@pytest.mark.parametrize(("url", "level", "scheme"), HREFS)
def test_href_verdicts_follow_the_browser(url, level, scheme):
    verdict = check_url(url)
    assert verdict.level == level
    if level != "ok":
        assert verdict.scheme == scheme


@pytest.mark.parametrize(("url", "level"), [
    ("data:image/png;base64,iVBORw0KGgo=", "ok"),
    ("DATA:Image/JPEG;base64,/9j/", "ok"),
    ("data:image/gif,GIF89a", "ok"),
    ("data:image/webp;base64,UklGR", "ok"),
    (" data:image/png,x", "ok"),
    ("data:image/svg+xml,<svg onload=alert(1)>", "error"),
    ("data:text/html;base64,PHNjcmlwdD4=", "error"),
    ("data:,alert(1)", "error"),
    ("javascript:alert(1)", "error"),
])
def test_src_may_embed_raster_images_only(url, level):
    assert check_url(url, embed=True).level == level


def test_browser_scheme_strips_and_removes_as_whatwg_says():
    assert browser_scheme("\x00 \tJaVa\tScRi\npt:x \x1f") == "javascript"
    assert browser_scheme("//host/path") == ""
    assert browser_scheme("c:/windows") == "c"  # a drive letter reads as a scheme too


# -- Markdown links and images -------------------------------------------------------------

def test_markdown_links_report_their_line_and_render_as_text():
    body = ("First line.\n\n"
            "A [bad](javascript:alert(1)) link and\n"
            "a [mixed](JaVaScRiPt:alert(1)), [entity](&#106;avascript:alert(1)),\n"
            "[colon](javascript&colon;alert(1)) and ![img](data:text/html,x).\n\n"
            "<vbscript:msgbox(1)> and [call](tel:+1555) and <obsidian://open?x>\n\n"
            "[ok](https://example.org) ![pic](data:image/png;base64,iVBORw0KGgo=) "
            "[far](//example.org/)\n")
    rendered = render(body, first_line=10)
    assert rendered.problems == [
        (12, 'link "javascript:alert(1)" is a javascript: URL, which runs script'),
        (13, 'link "JaVaScRiPt:alert(1)" is a javascript: URL, which runs script'),
        (13, 'link "javascript:alert(1)" is a javascript: URL, which runs script'),
        (14, 'link "javascript:alert(1)" is a javascript: URL, which runs script'),
        (14, 'image "data:text/html,x" is a data: URL, which may hold script (only '
             "data:image/png, jpeg, gif or webp, and only as an image)"),
        (16, 'link "vbscript:msgbox(1)" is a vbscript: URL, which runs script'),
    ]
    assert rendered.warnings == [
        (16, 'link "obsidian://open?x" has the scheme "obsidian:", not http, https, mailto or '
             "a relative URL: shown as text, not linked"),
        (16, 'link "tel:+1555" has the scheme "tel:", not http, https, mailto or a relative '
             "URL: shown as text, not linked"),
    ]
    page = parse_html(f"<!DOCTYPE html><title>t</title>{rendered.html}")
    assert [a.get("href") for a in page.iter("a")] == ["https://example.org",
                                                       "//example.org/"]
    assert [img.get("src") for img in page.iter("img")] == ["data:image/png;base64,iVBORw0KGgo="]
    text = text_of(page)
    assert "A bad link" in text and "call" in text and "obsidian://open?x" in text


# -- whole builds --------------------------------------------------------------------------

def postil(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "builder", *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def built(site):
    site({"content/good.md": article("Good", "2024-01-01", source="https://example.org/a"),
          "content/entities/ada.md": "---\nname: Ada\ntype: person\n---\nNotes.\n"},
         config="title: T\nauthor: T Reader\nbase_url: https://example.org/\nmenu:\n"
                "  - {title: About, url: /about/}\n")
    assert postil("build", str(site.root)).returncode == 0
    return site


def test_script_urls_anywhere_fail_the_build_from_the_cli_and_keep_the_output(built):
    before = snapshot(built.root / "public")
    built.write("content/good.md", article(
        "Good", "2024-01-01", source='"javascript:alert(1)//"',
        body="[x](JaVaScRiPt:alert(1))\n\n<a href=\"java&#9;script:alert(1)\">y</a>\n"))
    built.write("content/entities/ada.md",
                "---\nname: Ada\ntype: person\n---\nSee [here](vbscript:msgbox(1)).\n")
    built.write("site.yml", "title: T\nauthor: T Reader\nbase_url: https://example.org/\nmenu:\n"
                            "  - {title: Evil, url: 'javascript://%0aalert(1)'}\n")
    result = postil("build", str(built.root))
    assert result.returncode == 1
    # A bad site.yml value is reported in the same run as every content file's problems.
    problems = [line for line in result.stderr.splitlines() if ".md:" in line or ".yml:" in line]
    menu = ('site.yml:4: menu item 1: url "javascript://%0aalert(1)" is a javascript: URL, '
            "which runs script")
    assert menu in problems
    problems.remove(menu)
    problems = [line for line in result.stderr.splitlines() if ".md:" in line]
    assert problems == [
        'content/entities/ada.md:5: link "vbscript:msgbox(1)" is a vbscript: URL, which runs '
        "script",
        'content/good.md:4: source "javascript:alert(1)//" is a javascript: URL, which runs '
        "script",
        'content/good.md:6: link "JaVaScRiPt:alert(1)" is a javascript: URL, which runs script',
        'content/good.md:8: raw HTML <a href> "java\\x09script:alert(1)" is a javascript: URL, '
        "which runs script",
    ]
    assert snapshot(built.root / "public") == before


@pytest.mark.parametrize("source", [
    "javascript:alert(1)//", "JAVASCRIPT:alert(1)", "\\tjavascript:alert(1)",
    "java\\tscript:alert(1)", "java\\nscript:alert(1)", "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)", " \\x01javascript:alert(1)", "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>", "data:image/png;base64,iVBORw0KGgo=",
])
def test_source_with_a_script_url_is_an_error(built, source):
    built.write("content/good.md", article("Good", "2024-01-01", source=f'"{source}"'))
    before = snapshot(built.root / "public")
    from builder.problems import BuildFailed
    with pytest.raises(BuildFailed) as caught:
        built.build()
    errors = [p for p in caught.value.problems if not p.warning]
    assert len(errors) == 1 and errors[0].path == "content/good.md" and errors[0].line == 4
    assert errors[0].message.startswith("source ")
    assert snapshot(built.root / "public") == before


def test_unknown_schemes_are_warnings_and_never_links(built):
    built.write("content/good.md", article(
        "Good", "2024-01-01", source="doi:10.1000/182",
        body="Call [me](tel:+1555) or open <obsidian://open?vault=v>.\n"
             "![local](file:///tmp/x.png)\n"))
    built.write("site.yml", "title: T\nauthor: T Reader\nbase_url: https://example.org/\nmenu:\n"
                            "  - {title: Local, url: 'file:///etc/passwd'}\n"
                            "  - {title: Far, url: '//example.net/'}\n")
    result = built.build()
    shown = sorted(str(p) for p in result.warnings if "scheme" in p.message)
    assert shown == [
        'content/good.md:4: warning: source "doi:10.1000/182" has the scheme "doi:", not '
        "http, https, mailto or a relative URL: shown as text, not linked",
        'content/good.md:6: warning: link "obsidian://open?vault=v" has the scheme "obsidian:", '
        "not http, https, mailto or a relative URL: shown as text, not linked",
        'content/good.md:6: warning: link "tel:+1555" has the scheme "tel:", not http, https, '
        "mailto or a relative URL: shown as text, not linked",
        'content/good.md:7: warning: image "file:///tmp/x.png" has the scheme "file:", not '
        "http, https, mailto or a relative URL: shown as text, not linked",
        'site.yml:4: warning: menu item 1: url "file:///etc/passwd" has the scheme "file:", '
        "not http, https, mailto or a relative URL: shown as text, not linked",
    ]
    page = parse_html(built.root / "public/articles/good/index.html")
    links = [a.get("href") or "" for a in page.iter("a")]
    assert not any(browser_scheme(h) in ("tel", "obsidian", "doi", "file") for h in links)
    assert "//example.net/" in links  # a network-path reference is a link
    assert page.find(".//a[@class='source-link']") is None
    nav = page.find(".//nav[@class='site-nav']")
    assert "Local" in text_of(nav) and "Local" not in [text_of(a) for a in nav.iter("a")]
    assert "tel:" not in "".join(img.get("src", "") for img in page.iter("img"))
    assert "Call me" in text_of(page.find(".//main"))


def test_a_safe_source_still_links_everywhere(built):
    built.write("content/good.md", article("Good", "2024-01-01", source="https://example.org/a",
                                           snapshot="sources/a.txt",
                                           body="> {==passage here==}\n"))
    built.write("sources/a.txt", "The passage here.")
    built.build()
    page = parse_html(built.root / "public/articles/good/index.html")
    assert page.find(".//a[@class='source-link']").get("href") == "https://example.org/a"
    notes = parse_html(built.root / "public/annotations/index.html")
    assert notes.find(".//a[@class='original-link']").get("href").startswith(
        "https://example.org/a#:~:text=")


@pytest.mark.parametrize("source", ["7", "/local/page", "example.org/a", "ftp.example.org"])
def test_a_source_that_is_not_an_absolute_url_is_a_warning_and_no_link(built, source):
    built.write("content/good.md", article("Good", "2024-01-01", source=f'"{source}"'))
    result = built.build()
    assert [str(p) for p in result.warnings] == [
        f'content/good.md:4: warning: source "{source}" is not an absolute URL (http:// or '
        "https://): not linked"]
    page = parse_html(built.root / "public/articles/good/index.html")
    assert page.find(".//a[@class='source-link']") is None


@pytest.mark.parametrize("lang", ["en us", 'en" onmouseover="alert(11)', "en_US", "e1"])
def test_an_article_lang_that_is_no_language_tag_is_a_warning(built, lang):
    built.write("content/good.md", article("Good", "2024-01-01", lang=f"'{lang}'"))
    result = built.build()
    assert [str(p) for p in result.warnings] == [
        f'content/good.md:4: warning: lang "{lang}" is not a language tag such as "en" or '
        "\"pt-BR\": the site's language is used"]
    page = parse_html(built.root / "public/articles/good/index.html")
    assert page.get("lang") == "en"
    assert all(el.get("lang") in (None, "en") for el in page.iter())
