"""Time Postil's Markdown path on hostile inputs beside bare markdown-it-py.

    python bench/pathological.py [--size BYTES] [--only NAME ...] [--timeout S] [--code DIR]

Each case builds a body of about ``--size`` bytes (default 1 MB) and parses it
as one article file (front matter and body, through
``builder.reader.read_article`` with an entity registry and autolinking on:
the path every article takes), then parses the same body with bare
markdown-it-py (the ``commonmark`` preset with tables and strikethrough, which
is what Postil starts from, and raw HTML on). Then both again at four times
the size (markdown-it-py's growth for comparison: where it grows faster than
linear, so does Postil). Every measurement runs in a fresh process with a
time limit, so a quadratic case on old code shows as ``> limit`` instead of
hanging.

The bound (issue 10): each case under 2 s, or, where markdown-it-py itself
takes longer than that, within 1.5 times markdown-it-py; and four times the
input at most five times the time. Times are the best of three runs (of
fewer when they add up to over 5 s); below 50 ms the growth ratio is taken
against 50 ms, since start-up noise is then most of the figure. The script
exits 1 and names each case that misses a bound.

``--code DIR`` times the ``builder`` package in DIR (default: ``PYTHONPATH``'s
first entry if set, else this repository), so the same cases can be run on
an older checkout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIMIT_SECONDS = 2.0
BARE_FACTOR = 1.5
GROWTH = 5.0
FLOOR = 0.05  # seconds: growth is measured against at least this


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def _indented_list(size: int) -> str:
    # Line i is indented 2i: the input grows with the square of the depth (the
    # CommonMark suite's "deeply nested lists"); about 1,000 deep at 1 MB.
    lines, total, depth = [], 0, 0
    while total < size:
        line = "  " * depth + "- x\n"
        lines.append(line)
        total += len(line)
        depth += 1
    return "".join(lines)


def _entity_prose(size: int) -> str:
    # Every name of the registry, in one paragraph, again and again.
    names = [f"Person{i} Surname{i}" for i in range(ENTITIES)]
    text, total, index = [], 0, 0
    while total < size:
        word = f"{names[index % ENTITIES]} met "
        text.append(word)
        total += len(word)
        index += 1
    return "".join(text)


def _distinct_tags(size: int) -> str:
    return " ".join(f"#t{i}" for i in range(size // 7))


def _block_ids(size: int) -> str:
    return "".join(f"p ^b{i}\n\n" for i in range(size // 12))


def _keys(size: int, line: str) -> str:
    """About ``size`` bytes of numbered lines: ``line`` with ``{i}`` filled in."""
    lines, total, number = [], 0, 0
    while total < size:
        lines.append(line.format(i=number))
        total += len(lines[-1])
        number += 1
    return "".join(lines)


ENTITIES = 2000  # entities in the registry: Person<i> Surname<i>, alias P<i>
#: cases whose text starts so are whole files (front matter included), not bodies
WHOLE_FILE = ("---\n", "+++\n", "Title:")

#: name → (what it is, body of about ``size`` bytes)
CASES: dict[str, tuple[str, Callable[[int], str]]] = {
    "headings": ("identical `## H` headings", lambda n: _repeat("## H\n\n", n)),
    "headings-numbered": ("headings `H`, `H-1`, `H`, `H-1`…",
                          lambda n: _repeat("## H\n\n## H-1\n\n## H 1\n\n", n)),
    "headings-scripts": ("headings in other scripts `## 安装`, `## Наука`",
                         lambda n: _repeat("## 安装\n\n## Наука\n\n## اردو\n\n", n)),
    "headings-reserved": ("headings taking the theme's or syntax's ids `## fn1`, `## Main`",
                          lambda n: _repeat("## fn1\n\n## Main\n\n## m-x-1\n\n", n)),
    "heading-long-scripts": ("one heading of mixed scripts and dashes",
                             lambda n: "## " + _repeat("наука–安装 Ħal ", n) + "\n"),
    "critic-unclosed": ("unclosed `{==`", lambda n: _repeat("{== ", n)),
    "critic-unclosed-tight": ("unclosed `{==` without spaces", lambda n: _repeat("{==", n)),
    "critic-mixed": ("unclosed `{>>` `{++` `{--`", lambda n: _repeat("{>> {++ {-- ", n)),
    "critic-closers": ("`==}` with no opener", lambda n: _repeat("a ==} ", n)),
    "critic-many": ("closed highlights `{==a==}`", lambda n: _repeat("{==a==} ", n)),
    "verbatim-unclosed": ('unclosed `{"`', lambda n: _repeat('{" ', n)),
    "verbatim-unclosed-tight": ('unclosed `{"` without spaces', lambda n: _repeat('{"', n)),
    "verbatim-many": ('closed inline quotes `{"a"}`', lambda n: _repeat('{"a"} ', n)),
    "verbatim-quoted-highlights": ('one blockquote of highlights and quotes',
                                   lambda n: _repeat('> {==a==} {"b"} {==c {"d"}==}\n', n)),
    "critic-note-mentions": ("one margin note full of names",
                             lambda n: "{>> " + _entity_prose(n) + "<<}"),
    "wikilinks-unclosed": ("unclosed `[[`", lambda n: _repeat("[[ ", n)),
    "wikilinks-nested": ("`[[[[…]]`", lambda n: _repeat("[[", n) + "]]"),
    "wikilinks-long": ("`[[ a [[ a … ]]` on one line", lambda n: _repeat("[[ a ", n) + "]]"),
    "wikilinks-many": ("closed wikilinks to entities",
                       lambda n: _repeat("[[Person1 Surname1]] [[P2|two]] ", n)),
    "wikilinks-fragments": ("wikilinks with headings, blocks and paths",
                            lambda n: _repeat("[[Page#Heading]] [[#H|x]] [[a/b#^c]] ", n)),
    "note-embeds-lines": ("`![[Note]]` lines", lambda n: _repeat("![[Note#Part]]\n", n)),
    "note-embeds-inline": ("`![[Note]]` in running text", lambda n: _repeat("a ![[Note]] ", n)),
    "note-embeds-unclosed": ("unclosed `![[`", lambda n: _repeat("![[ ", n)),
    "hashtags-same": ("one inline `#tag` again and again", lambda n: _repeat("#tag ", n)),
    "hashtags-distinct": ("distinct inline tags `#t1 #t2 …`", _distinct_tags),
    "hashtags-colours": ("`#fff` colours and `#42`", lambda n: _repeat("#fff #42 C# ", n)),
    "block-ids": ("paragraphs ending in distinct `^ids`", _block_ids),
    "block-ids-invalid": ("paragraphs ending in an invalid `^id`",
                          lambda n: _repeat("text ^bad_id\n\n", n)),
    "callouts": ("callouts `> [!note] Title`", lambda n: _repeat("> [!note] T\n> x\n\n", n)),
    "callouts-lines": ("one quote of `[!note]` lines", lambda n: _repeat("> [!note]\n", n)),
    "callouts-nested": ("callouts three deep, `> > > [!bug]`",
                        lambda n: _repeat("> [!tip]- t\n> > [!note] u\n> > > [!bug] v\n\n", n)),
    "liquid-many": ("Liquid and shortcodes", lambda n: _repeat("{{ x }} {% y %} {{< z >}} ", n)),
    "liquid-unclosed": ("unclosed `{{` and `{%`", lambda n: _repeat("{{ {% {{< ", n)),
    "embeds-unclosed": ("unclosed `![[x.png`", lambda n: _repeat("![[x.png ", n)),
    "embeds-many": ("file embeds `![[cat.png|A cat|300]]`",
                    lambda n: _repeat("![[cat.png|A cat|300]] ![[a.pdf]] ", n)),
    "file-links-many": ("relative links to files `![c](cat.png)`",
                        lambda n: _repeat("![c](img/cat.png) [p](a.pdf) ", n)),
    "mark-run": ("one run of `=`", lambda n: "a " + "=" * n + " a"),
    "mark-unclosed": ("unclosed `==a`", lambda n: _repeat("==a ", n)),
    "mark-many": ("closed `==a==`", lambda n: _repeat("==a== ", n)),
    "mark-nested": ("`==a ==a … b== b==`",
                    lambda n: _repeat("==a ", n // 2) + _repeat("b== ", n // 2)),
    "list-nested": ("list nested by indentation", _indented_list),
    "list-nested-line": ("`- - - … x`, one line", lambda n: _repeat("- ", n) + "x\n"),
    "tasklist-flat": ("one flat task list `- [ ] x`", lambda n: _repeat("- [ ] x\n", n)),
    "quote-nested": ("`>>>… x`, one line", lambda n: _repeat(">", n) + " x\n"),
    "notes-unclosed": ("unclosed `::: note`", lambda n: _repeat("::: note\n", n)),
    "footnote-refs": ("`[^1]` many times, one definition",
                      lambda n: _repeat("a[^1] ", n) + "\n\n[^1]: note\n"),
    "footnote-unclosed": ("unclosed `[^`", lambda n: _repeat("[^ ", n)),
    "links-internal": ("links to `.md` files", lambda n: _repeat("[a](b.md) ", n)),
    "long-line": ("one line of words", lambda n: _repeat("word ", n)),
    "entities-prose": (f"{ENTITIES} entity names in one paragraph", _entity_prose),
    "entities-lines": ("entity names, one per line",
                       lambda n: _entity_prose(n).replace(" met ", " met\n")),
    "html-div-nested": ("raw `<div>` nested, one line", lambda n: _repeat("<div>", n)),
    "html-list-nested": ("raw `<ul><li>` nested, one line", lambda n: _repeat("<ul><li>", n)),
    "html-div-blocks": ("raw `<div>` blocks, blank line between",
                        lambda n: _repeat("<div>\n\n", n)),
    "html-details-blocks": ("raw `<details>` blocks, blank line between",
                            lambda n: _repeat("<details>\n\n", n)),
    "html-span-closers": ("raw `<span>`s, then `</div>`s closing nothing",
                          lambda n: _repeat("<span>", n // 2) + _repeat("</div>", n // 2)),
    # Annotation selectors (issue 12): the body is also rendered into a page, parsed as a
    # browser parses it (builder.domtext), and every highlight and mention gets its selectors.
    "annotations-many": ("highlights, notes and mentions, each with selectors",
                         lambda n: _repeat("==a== {>>n Person1 Surname1<<} P2 met ", n)),
    "annotations-astral": ("highlights among characters outside the BMP",
                           lambda n: _repeat("\U0001F600 ==\U0001D11E a== \U0001F600 ", n)),
    "annotations-nested": ("highlights in raw `<span>`s nested as deep as kept",
                           lambda n: _repeat("<span>" * 200 + "==a== P1" + "</span>" * 200
                                             + "\n\n", n)),
    # Whole files: the front-matter parsers (issue 11).
    "yaml-many-keys": ("YAML front matter of many keys",
                       lambda n: "---\ntitle: T\ndate: 2024-01-01\n" +
                       _keys(n, "k{i}: v\n") + "---\nx\n"),
    "yaml-comments": ("YAML values cut short by ` #` comments",
                      lambda n: "---\ntitle: T\ndate: 2024-01-01\n" +
                      _keys(n, "k{i}: v #{i}\n") + "---\nx\n"),
    "yaml-merge-duplicate": ("a YAML merge, then a duplicate key last",
                             lambda n: "---\ntitle: T\ndate: 2024-01-01\nbase: &b {a: 1}\n"
                             "x:\n  <<: *b\n" + _keys(n, "  k{i}: v\n") + "  k0: v\n---\nx\n"),
    "toml-many-keys": ("TOML front matter of many keys",
                       lambda n: '+++\ntitle = "T"\ndate = 2024-01-01\n' +
                       _keys(n, 'k{i} = "v"\n') + "+++\nx\n"),
    "toml-tables": ("TOML front matter of many tables",
                    lambda n: '+++\ntitle = "T"\ndate = 2024-01-01\n' +
                    _keys(n, "[t{i}]\na = 1\n") + "+++\nx\n"),
    "pelican-many-keys": ("a Pelican header of many keys",
                          lambda n: "Title: T\nDate: 2024-01-01\n" + _keys(n, "K{i}: v\n") +
                          "\nx\n"),
    "pelican-continued": ("a Pelican value continued over many lines",
                          lambda n: "Title: T\nDate: 2024-01-01\nSummary: a\n" +
                          _repeat("    word\n", n) + "\nx\n"),
    "pelican-tags": ("a Pelican `Tags:` line of many tags",
                     lambda n: "Title: T\nDate: 2024-01-01\nTags: " + _repeat("t, ", n) +
                     "\n\nx\n"),
}


def _lexicon():  # noqa: ANN202 (imported late: the child picks the code to time)
    from builder.lexicon import RegistryEntry, build_lexicon

    entries = [RegistryEntry(slug=f"person{i}-surname{i}", name=f"Person{i} Surname{i}",
                             source=f"content/entities/p{i}.md", aliases=[f"P{i}"],
                             case_sensitive=[], weak_aliases=[], line_of={})
               for i in range(ENTITIES)]
    return build_lexicon(entries, autolink=True)[0]


def _selectors(record) -> None:  # noqa: ANN001 - a builder.model.ArticleRecord
    """The W3C selectors of every highlight and mention of ``record``, over a page that
    shows its body (what ``annotations.json`` costs)."""
    from builder.webannotation import targets

    page = ("<!DOCTYPE html><html><head><title>T</title></head><body><main>"
            f"{record.body_html}</main></body></html>").encode()
    ids = [h.id for h in record.highlights] + [m.id for m in record.mentions]
    found = targets("https://example.org/a/", page, ids)
    assert all(isinstance(target, dict) for target in found.values())


def _child(case: str, size: int, which: str) -> None:
    """Time one parse in this process and print: seconds, then a note."""
    body = CASES[case][1](size)
    if which == "bare":
        from markdown_it import MarkdownIt

        md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
        run = lambda: (md.render(body), "")  # noqa: E731
    else:
        from builder.reader import ReadSettings, read_article

        settings = ReadSettings(lexicon=_lexicon())
        raw = (body if body.startswith(WHOLE_FILE) else
               "---\ntitle: Hostile\ndate: 2024-01-01\n---\n" + body).encode()

        def run() -> tuple[str, str]:
            record, problems = read_article("content/hostile.md", raw, settings)
            warnings = sum(1 for p in problems if p.warning)
            if case.startswith("annotations-"):
                _selectors(record)
            return "", (f"{len(problems)} problems, {warnings} warnings" if problems else "")
        settings.lexicon.find("Person1 Surname1")  # compile outside the timing
    best, note, spent = float("inf"), "", 0.0
    for _ in range(3):  # the best of three, unless that would take long
        start = time.perf_counter()
        _, note = run()
        took = time.perf_counter() - start
        best, spent = min(best, took), spent + took
        if spent > 5.0:
            break
    print(f"{best:.6f}\t{note}")


def _measure(code: str, case: str, size: int, which: str, timeout: float
             ) -> tuple[float | None, str]:
    """(seconds or None when over ``timeout``, note) of one parse in a fresh process."""
    env = {**os.environ, "PYTHONPATH": code}
    try:
        done = subprocess.run([sys.executable, __file__, "--child", case, str(size), which],
                              env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ""
    if done.returncode:
        return None, "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    seconds, note = done.stdout.strip("\n").split("\t")
    return float(seconds), note


def _shown(seconds: float | None, timeout: float) -> str:
    return f"> {timeout:.0f}" if seconds is None else f"{seconds:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="bytes per case (1x)")
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), help="cases to run")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds before a measurement is given up (default 120)")
    parser.add_argument("--code", default=None,
                        help="folder holding the builder package to time")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case, size, which = args.child
        _child(case, int(size), which)
        return 0
    code = args.code or (os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or str(REPO))
    print(f"Postil code: {code}; size {args.size:,} bytes; "
          f"bound: < {LIMIT_SECONDS} s or <= {BARE_FACTOR}x markdown-it-py, "
          f"4x input <= {GROWTH}x time\n")
    print("| case | input bytes | Postil s | markdown-it-py s | ratio | Postil s at 4x | growth "
          "| markdown-it-py growth | note |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    missed: list[str] = []
    for name in args.only or CASES:
        body_bytes = len(CASES[name][1](args.size).encode())
        postil, note = _measure(code, name, args.size, "postil", args.timeout)
        bare, _ = _measure(code, name, args.size, "bare", args.timeout)
        bigger = bare_bigger = None
        if postil is not None:
            bigger, _ = _measure(code, name, 4 * args.size, "postil", args.timeout)
        if bare is not None:
            bare_bigger, _ = _measure(code, name, 4 * args.size, "bare", args.timeout)
        bare_growth = bare_bigger / max(bare, FLOOR) if bare_bigger is not None and bare \
            else None
        ratio = postil / bare if postil is not None and bare else None
        growth = bigger / max(postil, FLOOR) if bigger is not None and postil is not None \
            else None
        fails = []
        if postil is None or (postil >= LIMIT_SECONDS and not (
                bare is not None and bare >= LIMIT_SECONDS and postil <= BARE_FACTOR * bare)):
            fails.append("time")
        if growth is None or growth > GROWTH:
            fails.append("growth")
        if fails:
            context = "" if bare_growth is None or "growth" not in fails else \
                f" (markdown-it-py's own growth: {bare_growth:.2f})"
            missed.append(f"{name}: {' and '.join(fails)}{context}")
        print(f"| {name} | {body_bytes:,} | {_shown(postil, args.timeout)} "
              f"| {_shown(bare, args.timeout)} "
              f"| {'–' if ratio is None else f'{ratio:.2f}'} "
              f"| {_shown(bigger, args.timeout) if postil is not None else '–'} "
              f"| {'–' if growth is None else f'{growth:.2f}'} "
              f"| {'–' if bare_growth is None else f'{bare_growth:.2f}'} "
              f"| {CASES[name][0]}{'; ' + note if note else ''} |", flush=True)
    if missed:
        print("\nBound missed:\n" + "\n".join(f"  {line}" for line in missed))
        return 1
    print("\nEvery case within the bound.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
