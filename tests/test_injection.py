"""Every injection payload of issue 10, in every front matter field, the body, the menu and
an entity note: the built site is parsed, and nothing in it can run script.

The checks below are written without Postil's own URL code, so they judge the output
as a browser would, independently of what is being tested.
"""

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import html5lib
import pytest
import yaml

from builder.problems import BuildFailed
from builder.slugs import slugify
from conftest import REPO, article, parse_html, snapshot

#: payloads that are text wherever they go (titles, tags, names …): as YAML double-quoted
#: strings, so tabs and control characters are written as escapes
TEXT_PAYLOADS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '\\"><svg onload=alert(1)>',
    "javascript:alert(1)//", "JaVaScRiPt:alert(1)", "java\\tscript:alert(1)",
    "java\\nscript:alert(1)", "&#106;avascript:alert(1)", "javascript&colon;alert(1)",
    " \\x01\\x10javascript:alert(1)", "//evil.example/x",
    "data:text/html,<script>alert(1)</script>",
    "data:image/svg+xml,<svg onload=alert(1)>", "vbscript:msgbox(1)",
    "<iframe src=javascript:alert(1)></iframe>", "<style>*{display:none}</style>",
    '<a href=\\"javascript:alert(1)\\">x</a>', "<form action=javascript:alert(1)><button>",
    "{{ 7 * 7 }}{% raw %}", "</script><script>alert(1)</script>", "\\u2028\\uFFFE\\x1b[31m",
]
#: URL payloads that must be refused wherever a URL goes
SCRIPT_URLS = [
    "javascript:alert(1)//", "JaVaScRiPt:alert(1)", "java\\tscript:alert(1)",
    "&#106;avascript:alert(1)", "javascript&colon;alert(1)", " \\x01javascript:alert(1)",
    "javascript://%0aalert(1)", "vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD4=",
    "data:image/svg+xml;base64,PHN2Zz4=",
]
#: raw HTML that is cleaned (not refused): each must leave no script behind
RAW_HTML = """\
<script>alert(1)</script>
<img src="x.png" onerror="alert(1)"> <svg onload="alert(1)"><circle r="1"/></svg>
<iframe srcdoc="<script>alert(1)</script>"></iframe>
<style>body { display: none }</style>
<form action="https://evil.example/post"><input name="q" autofocus onfocus="alert(1)"></form>
<div style="background:url(javascript:alert(1))" onmouseover="alert(1)">hover</div>
<a href="//evil.example/x" target="_blank">far</a> <img src="data:image/png;base64,iVBORw0KGgo=">
<object data="x.swf"></object><embed src="x.swf"><base href="https://evil.example/">
<meta http-equiv="refresh" content="0;url=javascript:alert(1)">
<math><mi xlink:href="https://evil.example/">x</mi></math>
<details open ontoggle="alert(1)"><summary>s</summary></details>
<div>
<div>

unclosed

</div>
"""


def _yaml(value: str) -> str:
    return f'"{value}"'


def _scheme(url: str) -> str:
    """The scheme a browser reads (WHATWG: strip C0 and space, drop tab/newline)."""
    cleaned = re.sub("[\t\n\r]", "", url.strip("".join(map(chr, range(33)))))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", cleaned)
    return match[1].lower() if match else ""


_URL_ATTRS = {"href", "src", "action", "formaction", "cite", "poster", "background", "data",
              "xlink:href", "srcset", "ping", "longdesc", "manifest", "codebase", "srcdoc"}
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


#: the theme's own script file, as its pages name it (relative, or under the base path)
_THEME_FILE = re.compile(r"(?:\.\./)*js/(?:notes|search)\.js|(?:/[\w.-]+)*/js/(?:notes|search)\.js")


def _theme_script() -> str:
    base = (REPO / "themes/default/templates/base.html").read_text(encoding="utf-8")
    return re.search(r"<script>(.*?)</script>", base, re.S)[1].strip()


def assert_harmless(root, where: str) -> None:
    """No script but the theme's own (and JSON-LD data), no event handler, no URL that
    runs script, no element that embeds a document, anywhere under ``root``."""
    theme_script = _theme_script()
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.rsplit("}", 1)[-1]
        if tag == "script":
            if element.get("type") == "application/ld+json":
                json.loads(element.text)
            elif element.get("src") is not None:  # the theme's own file, from the site
                assert _THEME_FILE.fullmatch(element.get("src")) and not element.text, where
            else:
                assert element.get("src") is None and \
                    (element.text or "").strip() == theme_script, where
        if tag == "form":  # the theme's search forms alone: a plain GET to the search page
            action = element.get("action", "")
            assert element.get("role") == "search" and element.get("method") == "get" and \
                re.fullmatch(r"(\.\./)*search/|/([\w-]+/)*search/|", action), (where, tag)
        assert tag not in ("iframe", "object", "embed", "frame", "style", "svg", "math", "base",
                           "applet"), (where, tag)
        if tag == "meta":
            assert element.get("http-equiv") is None, where
        for name, value in element.attrib.items():
            name = name.rsplit("}", 1)[-1].lower()
            assert not name.startswith("on"), (where, tag, name)
            if name == "style":
                assert tag in ("td", "th") and re.fullmatch(r"text-align:\s*\w+;?", value), where
            if name in _URL_ATTRS:
                scheme = _scheme(value)
                assert scheme not in ("javascript", "vbscript"), (where, tag, name, value)
                if scheme == "data":
                    assert tag == "img" and name == "src" and re.match(
                        r"data:image/(png|jpeg|gif|webp)[;,]", value.strip(), re.I), where


def assert_site_harmless(out: Path) -> int:
    """Parse every output file; returns how many were checked."""
    checked = 0
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        where = path.relative_to(out).as_posix()
        if path.suffix not in (".html", ".xml", ".json", ".txt"):
            continue
        text = path.read_text(encoding="utf-8")
        assert not _FORBIDDEN.search(text), where
        if path.suffix == ".html":
            assert_harmless(parse_html(text), where)
        elif path.suffix == ".xml":
            root = ET.fromstring(text.encode())
            assert_harmless(root, where)
            for content in root.iter("{http://www.w3.org/2005/Atom}content"):
                parser = html5lib.HTMLParser(namespaceHTMLElements=False)
                fragment = parser.parseFragment(content.text or "")
                assert_harmless(fragment, where + " (entry content)")
            for link in root.iter("{http://www.w3.org/2005/Atom}link"):
                assert _scheme(link.get("href")) in ("http", "https", ""), where
        elif path.suffix == ".json":
            _json_urls(json.loads(text), where)
        checked += 1
    return checked


def _json_urls(value, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("id", "source", "url", "href", "isBasedOn", "sameAs") and \
                    isinstance(item, str):
                assert _scheme(item) in ("http", "https", ""), (where, key, item)
            _json_urls(item, where)
    elif isinstance(value, list):
        for item in value:
            _json_urls(item, where)


def _payload_site(site, raw: str = RAW_HTML) -> None:
    joined = " ".join(TEXT_PAYLOADS)
    # As tags and authors, one payload per slug: two that differ otherwise but make one
    # slug ("JaVaScRiPt:alert(1)", "javascript:alert(1)//") are an error (builder.terms).
    by_slug = {slugify(yaml.safe_load(_yaml(p))): p for p in reversed(TEXT_PAYLOADS)}
    many = "[" + ", ".join(_yaml(p) for p in TEXT_PAYLOADS if p in by_slug.values()) + "]"
    body = ("Text with payloads as prose: " + " ".join(
        p.replace("\\t", " ").replace("\\n", " ").replace("\\x01", "").replace("\\x10", "")
        .replace("\\u2028", "").replace("\\uFFFE", "").replace("\\x1b", "").replace('\\"', '"')
        .replace("<", "&lt;") for p in TEXT_PAYLOADS) + "\n\n"
            "`<script>alert(1)</script>` and <https://example.org/ok> and [a](//evil.example/)"
            " and [call](tel:+15555550123) ![pic](data:image/gif;base64,R0lGOD) {==Ada==}\n\n"
            + raw)
    meta = {"summary": _yaml(joined), "tags": many, "authors": many,
            "publication": _yaml(joined), "lang": _yaml('en\\"><script>alert(1)</script>'),
            "slug": _yaml("<script>alert(1)</script>"), "source": _yaml("//evil.example/a"),
            "description": _yaml(joined), "image": _yaml("javascript:alert(1)"),
            "entities": "[ada]"}
    site({"content/a.md": article(_yaml(joined), body=body, **meta),
          "content/b.md": article("Plain", "2024-06-01", source="https://example.org/b",
                                  body="{==quoted text here==}"),
          "content/entities/ada.md":
              f"---\nname: Ada\ntype: person\ndescription: {_yaml(joined)}\n"
              f"aliases: {many}\n---\nNotes with a payload:\n\n{raw}\n"},
         config=f"title: {_yaml(joined)}\nbase_url: https://example.org/\n"
                f"description: {_yaml(joined)}\nauthor: {_yaml(TEXT_PAYLOADS[2])}\n"
                f"copyright: {_yaml(joined)}\n"
                # (a language that is no language tag is an error: tests/test_hostile_yaml.py)
                "language: en\n"
                "menu:\n  - {title: " + _yaml(joined) + ", url: '//evil.example/'}\n"
                "  - {title: Call, url: 'tel:+15555550123'}\n")


def test_every_payload_everywhere_leaves_no_script(site):
    _payload_site(site)
    site.build()
    out = site.root / "public"
    assert assert_site_harmless(out) > 20
    page = parse_html(out / "articles/script-alert-1-script/index.html")
    # The payloads are still there, as text.
    assert "<script>alert(1)</script>" in page.find("head/title").text
    hover = [e for e in page.iter("div") if (e.text or "").strip() == "hover"]
    assert hover and hover[0].attrib == {}


def test_raw_html_cleaning_is_reported_with_lines(site):
    _payload_site(site)
    result = site.build()
    warnings = [str(p) for p in result.warnings if p.path == "content/a.md"]
    assert any("removed <script> and its content" in w for w in warnings)
    assert any("removed the event handler onerror on <img>" in w for w in warnings)
    assert any("removed the event handler onfocus on <input>" in w for w in warnings)
    assert any("removed the event handler ontoggle on <details>" in w for w in warnings)
    assert any("<div> is never closed" in w for w in warnings)
    assert any('link "tel:+15555550123" has the scheme "tel:"' in w for w in warnings)


PLACES = {
    "source": lambda url: {"content/a.md": article("A", source=_yaml(url))},
    "markdown link": lambda url: {"content/a.md": article("A", body=f"[x](<{url}>)")},
    "markdown image": lambda url: {"content/a.md": article("A", body=f"![x](<{url}>)")},
    "autolink": lambda url: {"content/a.md": article("A", body=f"<{url}>")},
    "raw a href": lambda url: {"content/a.md": article("A", body=f'<a href="{url}">x</a>')},
    "raw img src": lambda url: {"content/a.md": article("A", body=f'<img src="{url}">')},
    "raw form action": lambda url: {"content/a.md": article(
        "A", body=f'<form action="{url}"><button>x</button></form>')},
    "raw iframe src": lambda url: {"content/a.md": article(
        "A", body=f'<iframe src="{url}"></iframe>')},
    "entity note": lambda url: {"content/entities/ada.md":
                                f"---\nname: Ada\n---\nSee <a href=\"{url}\">this</a>.\n"},
}


def _unescape_yaml(url: str) -> str:
    return url.encode().decode("unicode_escape")


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("url", SCRIPT_URLS)
def test_script_urls_are_errors_everywhere(site, place, url):
    site({"content/a.md": article("A"), "content/entities/ada.md": "---\nname: Ada\n---\n"})
    site.build()
    before = snapshot(site.root / "public")
    written = url if place == "source" else _unescape_yaml(url)
    if place != "source" and "\t" in written and place.startswith("markdown"):
        written = written.replace("\t", "&#9;")  # a raw tab ends a Markdown destination
    for name, text in PLACES[place](written).items():
        site.write(name, text)
    if "&#9;" in written or (place == "autolink" and re.search("[&\t ]", written)):
        # Not a script URL once parsed: a Markdown destination percent-encodes the tab
        # ("java%09script:" has no scheme), and a CommonMark autolink holds no entity,
        # space or control character (so those are text). The site builds, harmlessly.
        site.build()
        assert_site_harmless(site.root / "public")
        return
    with pytest.raises(BuildFailed) as caught:
        site.build()
    errors = [p for p in caught.value.problems if not p.warning]
    assert errors, place
    assert all(re.search(r"(is a (javascript|vbscript|data): URL)", p.message) for p in errors), \
        [str(p) for p in errors]
    expected = "content/entities/ada.md" if place == "entity note" else "content/a.md"
    assert {p.path for p in errors} == {expected}
    line = 4 if place == "source" else (4 if place == "entity note" else 5)
    assert {p.line for p in errors} == {line}
    assert snapshot(site.root / "public") == before


@pytest.mark.parametrize("url", SCRIPT_URLS)
def test_script_urls_in_the_menu_are_errors(site, url):
    site({"content/a.md": article("A")})
    site.build()
    before = snapshot(site.root / "public")
    site.write("site.yml", "title: T\nbase_url: https://example.org/\nmenu:\n"
                           f"  - {{title: X, url: {_yaml(url)}}}\n")
    with pytest.raises(BuildFailed) as caught:
        site.build()
    assert [(p.path, p.line) for p in caught.value.problems if not p.warning] == \
        [("site.yml", 3)]
    assert "menu item 1: url" in caught.value.problems[-1].message
    assert snapshot(site.root / "public") == before
