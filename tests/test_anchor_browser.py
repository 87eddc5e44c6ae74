"""Every selector of every ``annotations.json`` anchors in Chromium, with the libraries that
annotation clients use (``dom-anchor-text-position``, ``dom-anchor-text-quote`` from npm),
at the element that carries the annotation's id.

For each annotation of each article page: the ``TextPositionSelector`` gives a range (over
``document.body``, as Hypothesis counts); the ``TextQuoteSelector``, with the position as the
hint Hypothesis gives it, gives another. Each range's text must equal ``exact`` and every
character of it must lie inside the element whose id the annotation's id names. The text
:mod:`builder.domtext` computed from the page's bytes must also be the page's
``document.body.textContent``. The example archive is checked, and a small site made of
what breaks naive counting (entities, characters outside the BMP, code blocks, tables, raw
HTML, notes with mentions inside, a quote repeated on the page and in its tags).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anchor_support import WAIT_MS, anchoring_script, chromium, serve_folder

from builder.domtext import page_text
from builder.pipeline import BuildOptions, build
from conftest import article, copy_example

#: run in the page for one annotation: both anchorings, each described as
#: {text, inside} (inside: every character of the range is in the element), or a string
#: saying why there is no range
CHECK = """(a) => {
  const root = document.body;
  const element = document.getElementById(a.element);
  function describe(range) {
    if (!range) return "no range";
    const nodes = [];
    const walk = document.createNodeIterator(range.commonAncestorContainer, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      if (!range.intersectsNode(node)) continue;
      const start = node === range.startContainer ? range.startOffset : 0;
      const end = node === range.endContainer ? range.endOffset : node.data.length;
      if (end > start) nodes.push(node);
    }
    return {text: range.toString(),
            inside: element !== null && nodes.every((node) => element.contains(node))};
  }
  function attempt(make) {
    try { return describe(make()); } catch (error) { return "threw " + error; }
  }
  return {
    position: attempt(() => textPosition.toRange(root, {start: a.start, end: a.end})),
    quote: attempt(() => textQuote.toRange(
      root, {exact: a.exact, prefix: a.prefix, suffix: a.suffix}, {hint: a.start})),
  };
}"""

ENTITY = "---\nname: Ada Lovelace\ntype: person\naliases: [Ada]\n---\nA mathematician.\n"
TRICKY = """
\U0001F600 Emoji and \U0001D11E first, then ==Ada Lovelace== met Ada again{>>A note naming
Ada Lovelace, and \U0001D11E.<<} & so on &amp; "quotes" — dashes.

Fish & chips: {==the same words==}{>>first<<} and again {==the same words==}{>>second<<}.

    an indented code block with ==no mark== in it

```python
x = "<b>" & 'ISKP'
```

| a | b |
|---|---|
| ==in a table== | Ada |

A note alone{>>Lone note with [[ada-lovelace|Ada]] inside, and <b>bold</b>.<<} then
{--cut--}{++added++} and a raw <span title="x > y">span with Ada</span>.

<div>Raw <b>HTML</b> block, Ada.</div>

Ada Ada Ada Ada ==ISKP== Ada ==Ada== ISKP.
"""


def tricky_site(root: Path) -> Path:
    files = {
        "site.yml": "title: Tricky\nbase_url: https://example.org/\ntimezone: UTC\n"
                    "entities:\n  autolink: true\n",
        "content/entities/ada-lovelace.md": ENTITY,
        "content/t.md": article('Tricky & "quoted" \U0001F600', "2024-05-01", body=TRICKY,
                                tags="[ISKP, the same words, Ada]"),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def example_site(root: Path) -> Path:
    return copy_example(root)


SITES = {"example": example_site, "tricky": tricky_site}


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def annotated_pages(out: Path) -> list[tuple[str, dict]]:
    """(page path, annotations.json) of every article with annotations."""
    found = []
    for path in sorted(out.rglob("annotations.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["items"]:
            found.append((path.parent.relative_to(out).as_posix() + "/", data))
    return found


def selectors(item: dict) -> dict:
    """The quote and position of an annotation, with the id of the element it is about."""
    target = item["target"]
    assert isinstance(target, dict), f"{item['id']}: no selectors"
    quote, position = target["selector"]
    assert (quote["type"], position["type"]) == ("TextQuoteSelector", "TextPositionSelector")
    return {"element": item["id"].rsplit("#", 1)[1], "exact": quote["exact"],
            "prefix": quote["prefix"], "suffix": quote["suffix"],
            "start": position["start"], "end": position["end"]}


@pytest.mark.parametrize("name", list(SITES))
def test_every_selector_anchors_at_its_element(tmp_path, browser, name):
    site = SITES[name](tmp_path / "site")
    out = tmp_path / "out"
    build(site, BuildOptions(output=out, cache=False, jobs=1))
    pages = annotated_pages(out)
    assert pages, "no article has annotations"
    script = anchoring_script()
    failures: list[str] = []
    checked = 0
    page = browser.new_page()
    page.set_default_timeout(WAIT_MS)
    with serve_folder(out) as base:
        for path, data in pages:
            page.goto(base + path)
            page.add_script_tag(content=script)
            body = page.evaluate("document.body.textContent")
            ids = [item["id"].rsplit("#", 1)[1] for item in data["items"]]
            assert page_text((out / path / "index.html").read_bytes(), ids).text == body, path
            for item in data["items"]:
                wanted = selectors(item)
                result = page.evaluate(CHECK, wanted)
                for kind in ("position", "quote"):
                    got = result[kind]
                    checked += 1
                    if isinstance(got, str) or got["text"] != wanted["exact"] or \
                            not got["inside"]:
                        failures.append(f"{path}#{wanted['element']} {kind}: {got!r} "
                                        f"for {wanted['exact']!r}")
    page.close()
    assert failures == [], f"{len(failures)} of {checked} anchorings failed:\n" + \
        "\n".join(failures[:30])
    assert checked == 2 * sum(len(data["items"]) for _, data in pages)
