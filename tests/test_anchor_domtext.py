"""builder.domtext gives Chromium's ``document.body.textContent``, and where each element's
text sits in it, for pages that trip up any parse but a browser's."""

from __future__ import annotations

import pytest
from anchor_support import chromium

from builder.domtext import page_text

PAGES = {
    "entities": "<!doctype html><html><head><title>t</title><style>x{}</style></head><body>"
                "<p id=a>a&amp;b &notin; &copy c&nbsp;d &amp &lt;&gt</p></body></html>",
    "pre and textarea newlines": "<p>x</p><pre id=p>\nline1\r\nline2\rz</pre>"
                                 "<textarea id=t>\nq</textarea>",
    "text moved out of a table": "<table><tr><td id=c>c</td>FOSTER<td>d</td></tr></table>after",
    "template, noscript, script": "<body><template><p id=in>T</p></template>"
                                  "<noscript><p id=ns>NS</p></noscript>"
                                  "<script>var a='<b>x</b>'</script>tail",
    "text around head and body": "<head><noscript><img src=x></noscript><link rel=x></head>"
                                 "between<body>b</body>after body</html>after html",
    "comments and foreign content": "x<!-- comment --><svg><![CDATA[cdata]]>"
                                    "<title id=st>svgt</title></svg><math><mi>m</mi></math>",
    "outside the BMP": "<p id=e>\U0001F600 emoji \U0001D11E clef</p><p id=f>after</p>",
    "misnested tags": "<p>unclosed <b>bold <i id=i>it</p>para2</b> x",
    "form controls": "<select><option id=o>opt</option></select><button id=bt>Note</button>"
                     "<span id=sn>note</span>",
    "NUL and bad references": "\x00nul<p id=n>&#0;&#x80;&#128;&#xD800;</p>",
    "a frameset": "<frameset><frame></frameset>",
    "a repeated id, an empty element": "<p id=dup>1</p><p id=dup>2</p><span id=empty></span>",
    "whitespace only": "<body>  \n <p id=a>a</p>\n</body>\n",
    "raw text to the end": "<div><xmp id=x><b>raw</b></xmp><plaintext>plain <b>rest",
    "deep nesting": "<div>" * 600 + "<span id=deep>deep</span>" + "</div>" * 600 + "end",
}

#: the body's text, and each element's (start, end) in it as a range over the body counts
SPANS = """() => {
  const body = document.body;
  if (!body) return {text: "", spans: {}};
  const spans = {};
  for (const element of document.querySelectorAll("body [id]")) {
    if (element.id in spans) continue;
    const before = document.createRange();
    before.setStart(body, 0);
    before.setEndBefore(element);
    const start = before.toString().length;
    spans[element.id] = [start, start + element.textContent.length];
  }
  return {text: body.textContent, spans};
}"""


@pytest.fixture(scope="module")
def page():
    with chromium() as browser:
        page = browser.new_page()
        yield page
        page.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_the_text_and_spans_are_chromiums(page, name):
    html = PAGES[name]
    page.set_content(html)
    expected = page.evaluate(SPANS)
    ids = list(expected["spans"]) + ["nowhere"]
    found = page_text(html.encode(), ids)
    assert found.text == expected["text"]
    assert {ident: [found.utf16(start), found.utf16(end)]
            for ident, (start, end) in found.spans.items()} == expected["spans"]


def _both(html: str, ids: set[str]) -> tuple[object, object]:
    from selectolax.lexbor import LexborHTMLParser

    from builder.domtext import _marked, _walked

    def body():  # a parse each: marking changes the tree
        return LexborHTMLParser(html, scripting=True).body

    return _marked(body(), ids), _walked(body(), ids)


def test_marks_found_in_c_give_what_the_walk_gives_on_random_pages():
    """The fast path (marks around wanted elements, lexbor's text content) against the
    tree walk, on random soups of nested, misnested, repeated and raw-text elements."""
    import random

    rng = random.Random(4)
    tags = ["p", "span", "b", "i", "div", "td", "tr", "table", "li", "ul", "pre", "textarea",
            "script", "style", "template", "noscript", "select", "option", "svg", "title",
            "mark", "aside", "button", "xmp", "a"]
    words = ["x", "a b", "\n", "&amp;", "&lt;", "é", "\U0001F600", " ", "<!-- c -->", "\r\n"]
    ids = {f"i{n}" for n in range(8)}
    marked_pages = 0
    for _ in range(400):
        parts = []
        for _ in range(rng.randint(1, 40)):
            roll = rng.random()
            tag = rng.choice(tags)
            if roll < 0.35:
                ident = f" id=i{rng.randint(0, 9)}" if rng.random() < 0.7 else ""
                parts.append(f"<{tag}{ident}>")
            elif roll < 0.6:
                parts.append(f"</{tag}>")
            else:
                parts.append(rng.choice(words))
        html = "<body>" + "".join(parts)
        marked, walked = _both(html, ids)
        if marked is not None:
            marked_pages += 1
            assert marked == walked, html
    assert marked_pages > 300  # the fast path is taken on nearly every page


def test_a_page_holding_a_mark_already_is_walked():
    html = "<body><p id=a>x\ue000y</p><p id=b>&#xE001;z</p></body>"
    marked, walked = _both(html, {"a", "b"})
    assert marked is None
    assert walked == ("x\ue000y\ue001z", {"a": (0, 3), "b": (3, 5)})
    assert page_text(html, ["a", "b"]).spans == walked[1]
