"""Warn about template syntax other tools run and Postil shows as text: Liquid
(Jekyll: ``{% include x.html %}``, ``{{ page.title }}``), Hugo shortcodes
(``{{< figure … >}}``, ``{{% note %}}``) and Zola's (``{{ youtube(id="x") }}``).

Read in the text readers see (code spans and blocks are left alone: showing
such syntax is what they are for), and in link URLs. Each tag is a warning
with its line, naming the syntax; past :data:`MAX_SAME` in one body, one line
says how many more. Also warns, with its line, of ``![[Note]]`` written inside
running text, which :mod:`builder.markdown.wikilinks` shows as a link.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

#: at most this many warnings per body, then one line for the rest
MAX_SAME = 20
# Each tag on one line and at most 200 characters long, so that a stray `{{` costs a
# bounded look ahead, not a search to the end of the text.
_TAGS = re.compile(
    r"(?P<hugo>\{\{<\s*/?\s*(?P<hname>[\w./-]+)[^\n]{0,200}?>\}\}"
    r"|\{\{%\s*/?\s*(?P<pname>[\w./-]+)[^\n]{0,200}?%\}\})"
    r"|(?P<zola>\{[{%]-?\s*(?P<zname>\w+)\([^\n]{0,200}?[}%]\})"
    # (Liquid may run over a line break: `[text]({% link\n _docs/x.md %})`; never
    # over another element, which the scan marks with NUL.)
    r"|(?P<tag>\{%-?\s*(?P<tname>\w+)[^\x00]{0,200}?%\})"
    r"|(?P<out>\{\{-?\s*(?P<expr>[^\s{}][^{}\x00]{0,200}?)\s*-?\}\})")


def liquid_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("postil_template_tags", _scan)


def describe(found: re.Match) -> str:
    """The warning for one tag :data:`_TAGS` found."""
    whole = " ".join(found[0].split())  # one line: a tag may span several
    if found["hugo"]:
        name = found["hname"] or found["pname"]
        shown = whole if len(whole) <= 40 else f"{whole[:3]} {name} … {whole[-3:]}"
        return f"Hugo shortcode {shown} is shown as text: Postil does not run shortcodes"
    if found["zola"]:
        shown = whole if len(whole) <= 40 else f"{whole[:2]} {found['zname']}(…) {whole[-2:]}"
        return f"Zola shortcode {shown} is shown as text: Postil does not run shortcodes"
    if found["tag"]:
        name = found["tname"]
        rest = whole[2:-2].strip(" -").removeprefix(name).strip()
        shown = f"{{% {name} … %}}" if rest else f"{{% {name} %}}"
        return f"Liquid tag {shown} is shown as text: Postil does not run Liquid"
    shown = whole if len(whole) <= 40 else f"{{{{ {' '.join(found['expr'].split())[:30]}… }}}}"
    return f"Liquid output {shown} is shown as text: Postil does not run Liquid"


def _scan(state: StateCore) -> None:
    env = state.env
    first_line = env.get("first_line", 1)
    found: list[tuple[int, str]] = []
    for block in state.tokens:
        if block.type != "inline" or not block.children or "{" not in block.content and \
                "![[" not in block.content:
            continue
        line = first_line + (block.map[0] if block.map else 0)
        pieces: list[str] = []
        breaks = 0  # line breaks so far in the block
        for child in block.children:
            kind = child.type
            if kind == "text":
                pieces.append(child.content)
            elif kind in ("softbreak", "hardbreak"):
                pieces.append("\n")
                breaks += 1
            else:
                pieces.append("\x00")  # no tag spans another element
                if kind == "link_open" and "{" in (child.attrGet("href") or ""):
                    _find(str(child.attrGet("href")), line + breaks,
                          found)
                elif kind == "mention_open" and child.meta.get("inline_embed"):
                    found.append((line + breaks,
                                  f"{child.meta['inline_embed']} is inside running text, so "
                                  "it is shown as a link: put an embed on a line of its own"))
        if "{" in block.content:
            _find("".join(pieces), line, found)
    if found:
        warnings = env.setdefault("warnings", [])
        warnings += found[:MAX_SAME]
        if len(found) > MAX_SAME:
            warnings.append((found[MAX_SAME][0], f"{len(found) - MAX_SAME} more template "
                             "tags or shortcodes shown as text"))


def _find(text: str, line: int, found: list[tuple[int, str]]) -> None:
    last, at = 0, line
    for match in _TAGS.finditer(text):
        at += text.count("\n", last, match.start())
        last = match.start()
        found.append((at, describe(match)))
