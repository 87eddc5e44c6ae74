"""Hostile Markdown: output stays right and work stays linear (issue 10, bounded resources).

No test here measures time (``bench/pathological.py`` does, on 1 MB inputs).
The heading test runs a size where the old id de-duplication made 200 million
set probes (minutes); the tests of unclosed openers count the searches for a
closer that the inline rules start themselves (``str.find`` from the end of
each opener), which the old rules made once per opener, each reading to the
end of the paragraph.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from mdit_py_plugins.anchors.index import unique_slug

from builder.lexicon import RegistryEntry, build_lexicon
from builder.markdown import render
from conftest import article, parse_fragment, parse_html, text_of


def _lexicon(names: list[str]):
    entries = [RegistryEntry(slug=f"e{i}", name=name, source=f"content/entities/e{i}.md",
                             aliases=[], case_sensitive=[], weak_aliases=[], line_of={})
               for i, name in enumerate(names)]
    return build_lexicon(entries, autolink=True)[0]


_RULES = ("critic.py", "wikilinks.py")


class _FindCounter:
    """Counts ``str.find`` calls made by the CriticMarkup and wikilink rules
    themselves, through ``sys.setprofile``. (The list of a closer's occurrences,
    made once per paragraph by ``builder.markdown.scan``, is not counted.)"""

    def __init__(self) -> None:
        self.calls = 0

    def __enter__(self) -> _FindCounter:
        def profile(frame, event, arg):  # noqa: ANN001, ANN202
            if event == "c_call" and getattr(arg, "__name__", "") == "find" and \
                    frame.f_code.co_filename.endswith(_RULES):
                self.calls += 1
        sys.setprofile(profile)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


# --- heading ids -------------------------------------------------------------------

def test_twenty_thousand_identical_headings_get_numbered_ids():
    result = render("## H\n\n" * 20_000)
    ids = [h["id"] for h in result.headings]
    assert ids == ["h"] + [f"h-{n}" for n in range(1, 20_000)]
    assert result.html.count('class="header-anchor"') == 20_000


def test_heading_ids_are_those_of_the_anchors_plugin():
    # Bases that collide with numbered ids: the counter per base must still skip
    # every id taken, exactly as the plugin's probing from 1 does.
    titles = ["H", "H", "H-1", "H 1", "H-1-1", "H", "H 2", "H", "Section", "", "!", "H-1"]
    expected: list[str] = []
    taken: set[str] = set()
    for title in titles:
        from builder.slugs import slugify
        expected.append(unique_slug(slugify(title) or "section", taken))
    result = render("".join(f"## {title}\n\n" for title in titles))
    root = parse_fragment(result.html)
    assert [h.get("id") for h in root.iter("h2")] == expected
    assert [a.get("href") for a in root.iter("a")] == [f"#{i}" for i in expected]


# --- unclosed openers ----------------------------------------------------------------

@pytest.mark.parametrize("opener", ["{==", "{>>", "{++", "{--"])
def test_unclosed_criticmarkup_stays_text_and_is_scanned_once(opener):
    text = f"{opener} " * 2_000
    with _FindCounter() as counter:
        result = render(text)
    root = parse_fragment(result.html)
    assert text_of(root.find("p")) == text.strip()
    assert result.highlights == []
    assert counter.calls == 0  # no scan per opener


def test_a_closed_highlight_after_many_unclosed_ones_still_counts():
    # In one paragraph the first opener takes the first closer (CriticMarkup has no
    # nesting); in the next paragraph the highlight stands alone.
    result = render("{== " * 1_000 + "{==kept==} {>>a note<<}\n\n{==also==}")
    assert [h.text for h in result.highlights] == ["{== " * 999 + "{==kept", "also"]
    assert result.highlights[0].note == "a note"


@pytest.mark.parametrize(("text", "links"), [
    ("[[ " * 2_000, 0),  # no closer
    ("[[" * 2_000 + "]]", 0),  # one far closer, a "[" inside
    ("[[ a " * 2_000 + "]]", 1),  # the same on one line: only the last is a wikilink
    ("[[a\n" * 2_000 + "]]", 0),  # a newline inside
], ids=["unclosed", "nested", "one-line", "lines"])
def test_unclosed_wikilinks_stay_text_and_are_scanned_once(text, links):
    with _FindCounter() as counter:
        result = render(text)
    assert [target for _, target in result.wikilinks] == ["a"] * links
    assert len(parse_fragment(result.html).findall(".//a")) == links
    assert result.html.count("[[") == 2_000 - links
    assert counter.calls == 0  # no scan per opener


def test_wikilinks_among_unclosed_ones_resolve():
    lexicon = _lexicon(["Mir Shafiq Mengal"])
    result = render("[[ " * 500 + "[[Mir Shafiq Mengal]] [[Other article|other]]",
                    lexicon=lexicon)
    assert [m.entity for m in result.mentions] == ["e0"]
    assert [target for _, target in result.wikilinks] == ["Other article"]


def test_stray_highlight_closers_stay_text_and_openers_still_pair():
    result = render("a== " * 1_000 + "==b== c ==d ==e f== g==")
    root = parse_fragment(result.html)
    assert [text_of(m) for m in root.iter("mark")] == ["b", "d e f g", "e f"]
    assert text_of(root.find("p")).startswith("a== a== ")


def test_highlights_nested_past_eight_deep_are_text_with_a_warning():
    # n nested highlights would hold n²/2 characters of quoted text.
    text = "==a " * 3_000 + "b== " * 3_000
    result = render(text, first_line=7)
    # The eight outer ones are kept, innermost first; what they enclose is text.
    inner = ("a " + "==a " * (3_000 - 8) + "b== " * (3_000 - 8) + "b").replace("  ", " ")
    assert [h.text for h in result.highlights] == [
        " ".join(["a"] * depth + [inner] + ["b"] * depth) for depth in range(8)]
    root = parse_fragment(result.html)
    assert len(root.findall(".//mark")) == 8
    assert text_of(root).count("==") == 2 * (3_000 - 8)
    assert result.warnings == [(7, "highlights nested more than 8 deep: the inner == are "
                                   "shown as text")]


# --- deep nesting --------------------------------------------------------------------

def test_a_list_nested_ten_thousand_deep_keeps_what_follows_and_warns(site):
    body = "Before.\n\n" + "- " * 10_000 + "deep\n\nAfter the list.\n"
    site({"content/deep.md": article(title="Deep", body=body)})
    done = subprocess.run([sys.executable, "-m", "builder", "build", str(site.root), "-o",
                           str(site.root / "public")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    # Front matter is 4 lines (---, title, date, ---); the list is on line 7.
    assert "content/deep.md:7: warning: nested more than 20 levels deep" in output
    page = parse_html(site.root / "public/articles/deep/index.html")
    paragraphs = [text_of(p) for p in page.iter("p")]
    assert "Before." in paragraphs and "After the list." in paragraphs
    assert "deep" not in " ".join(paragraphs)


def test_a_list_nested_by_indentation_past_the_cap_leaves_out_only_the_deep_items():
    body = "".join("  " * depth + f"- item {depth}\n" for depth in range(30))
    result = render(body + "- back at the top\n\nAfter.\n", first_line=5)
    root = parse_fragment(result.html)
    items = [(li.text or "").strip() for li in root.iter("li")]
    # Item 9's content is 20 levels deep (a list and an item per level): it and
    # what is nested in it are left out, its empty item stays.
    assert items[:10] == [f"item {depth}" for depth in range(9)] + [""]
    assert "item 9" not in text_of(root)
    assert "back at the top" in items[-1] and text_of(root.find("p")) == "After."
    assert result.warnings == [(14, "nested more than 20 levels deep (lists, block quotes, "
                                    "notes): this block is left out")]


def test_block_quotes_and_notes_nested_past_the_cap_warn_once_each():
    result = render(">" * 5_000 + " deep\n\nAfter.\n\n" + "::: note\n" * 1_000 + "x\n")
    assert [line for line, _ in result.warnings] == [1, 25]
    assert "After." in result.html
    assert render("> > > not deep\n").warnings == []


# --- mentions, highlights and entity names --------------------------------------------

def _reference_passages(result, text: str) -> list[tuple[str, str]]:
    """What each mention's before/after are: the whole block sliced at the mention,
    at most PASSAGE + 1 characters each side (the passage is cut from them)."""
    from builder.markdown.annotations import PASSAGE
    out = []
    for mention in result.mentions:
        start = mention.offset
        end = start + len(mention.quote.exact)
        out.append((text[max(0, start - PASSAGE - 1):start], text[end:end + PASSAGE + 1]))
    return out


def test_many_mentions_in_one_paragraph_keep_their_passages():
    names = [f"Name{i} Person" for i in range(300)]
    words = []
    for i in range(3_000):
        words += [names[(i * 7) % 300], "said", "that", "x" * (i % 13)]
    text = " ".join(words)
    result = render(text, lexicon=_lexicon(names))
    assert len(result.mentions) == 3_000
    assert [m.entity for m in result.mentions] == [f"e{(i * 7) % 300}" for i in range(3_000)]
    assert [(m.before, m.after) for m in result.mentions] == _reference_passages(result, text)
    assert all(len(m.before) <= 281 and len(m.after) <= 281 for m in result.mentions)
    from builder.entity_index import passages
    shown = passages([m for m in result.mentions if m.entity == "e0"])
    assert [m for passage in shown for _, m in passage if m] == \
        [m for m in result.mentions if m.entity == "e0"]  # each once, none left out


def test_many_highlights_and_a_note_full_of_names_are_recorded():
    lexicon = _lexicon(["Alpha Beta"])
    text = "==x y== " * 2_000 + "{==end==}{>>" + "Alpha Beta and " * 500 + "<<}"
    result = render(text, lexicon=lexicon)
    assert [h.text for h in result.highlights] == ["x y"] * 2_000 + ["end"]
    assert result.highlights[-1].note.startswith("Alpha Beta and Alpha Beta")
    offsets = [m.offset for m in result.mentions]
    assert offsets == [15 * i for i in range(500)]  # "Alpha Beta and " is 15 characters


def test_thousands_of_distinct_entity_names_in_one_paragraph_are_all_found():
    names = [f"Person{i} Surname{i}" for i in range(2_000)]
    lexicon = _lexicon(names)
    text = " ".join(f"{names[i % 2000]} met" for i in range(6_000))
    found = lexicon.find(text)
    assert [slug for _, _, slug in found] == [f"e{i % 2000}" for i in range(6_000)]
    assert all(text[start:end] == names[i % 2000] for i, (start, end, _) in enumerate(found))


# --- task lists ----------------------------------------------------------------------

_TASK_DOCUMENTS = [
    "- [ ] todo\n- [x] done\n- [X] done too\n",
    "- [ ] a\n  - [x] nested\n    - [ ] deeper\n  - plain nested\n- [x] b\n",
    "1. [x] first\n2. [ ] second\n3. third\n\n7) [ ] other marker\n",
    "- [ ] loose\n\n- [x] list\n\n  with a second paragraph\n\n- no box\n",
    "- no box\n- text [x] not at the start\n- [x]no space\n- [ ]\n- [] short\n- [y] other\n",
    "- [x]\ttab after the box\n- [ ]\n  on the next line\n- [ ]  two spaces\n",
    "- [ ] *emphasis* and [a link](b.md) and `code`\n- [x] ==marked== {==high==}\n",
    "> - [ ] in a quote\n> - [x] done\n>\n> > 1. [ ] deeper quote\n",
    "::: note\n- [ ] in a margin note\n  - [x] nested\n:::\n\nAfter.\n",
    "- [ ] item\n\n  > - [x] quote in an item\n\n  ::: note\n  - [ ] note in an item\n  :::\n",
    "Text [^1].\n\n[^1]: - [ ] a task in a footnote\n    - [x] done\n",
    "Term\n: - [ ] in a definition\n\n| a |\n| - |\n| [ ] cell |\n",
    "- [ ] a\n+ [x] other bullet starts a new list\n* [ ] third\n",
    "Paragraph first.\n- [ ] then a list\n\n<div>\n\n- [x] after raw html\n\n</div>\n",
    "".join("  " * depth + f"- [{'x' if depth % 2 else ' '}] item {depth}\n"
            for depth in range(30)) + "- [x] back at the top\n",
    "- [ ] a\n\n\n- [x] b\n" * 3 + "\n---\n\n" + "1. [X] c\n" * 3,
    "    - [ ] code, not a list\n\n```\n- [x] fenced\n```\n",
    "-\n  [ ] box on the next line\n- \n",
]


@pytest.mark.parametrize("html", [True, False])
@pytest.mark.parametrize("text", _TASK_DOCUMENTS)
def test_task_lists_render_as_with_the_library_plugin(monkeypatch, text, html):
    from mdit_py_plugins.tasklists import tasklists_plugin as library_plugin

    from builder.markdown import renderer

    ours = renderer.render(text, html=html).html
    # The same parser with the library's plugin in place of Postil's.
    monkeypatch.setattr(renderer, "tasklists_plugin", library_plugin)
    library_md = renderer.parser.__wrapped__(html)
    monkeypatch.setattr(renderer, "parser", lambda html=True: library_md)
    assert renderer.render(text, html=html).html == ours


@pytest.mark.parametrize("text", _TASK_DOCUMENTS)
def test_task_lists_plugin_alone_matches_the_library(text):
    from markdown_it import MarkdownIt
    from mdit_py_plugins.tasklists import tasklists_plugin as library_plugin

    from builder.markdown.tasklists import tasklists_plugin

    def plain() -> MarkdownIt:
        return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    assert plain().use(tasklists_plugin).render(text) == \
        plain().use(library_plugin).render(text)


def test_a_task_list_renders_checkboxes():
    assert render("- [ ] a\n- [x] b\n- c\n").html == (
        '<ul class="contains-task-list">\n'
        '<li class="task-list-item"><input class="task-list-item-checkbox" '
        'disabled="disabled" type="checkbox"> a</li>\n'
        '<li class="task-list-item"><input class="task-list-item-checkbox" '
        'checked="checked" disabled="disabled" type="checkbox"> b</li>\n'
        '<li>c</li>\n</ul>\n')


def test_twenty_thousand_task_items_get_twenty_thousand_checkboxes():
    # The library's rule searched back to the list's first token for every item:
    # 20,000 items took minutes.
    result = render("- [ ] x\n- [x] y\n" * 10_000)
    assert result.html.count('<input class="task-list-item-checkbox" ') == 20_000
    assert result.html.count('checked="checked"') == 10_000
    assert result.html.count('<li class="task-list-item">') == 20_000
    assert result.html.count('<ul class="contains-task-list">') == 1


def test_the_highlight_rules_white_space_is_markdown_its():
    from markdown_it.common.utils import isWhiteSpace

    from builder.markdown import mark

    assert set(mark._WHITE_SPACE) == {chr(c) for c in range(0x110000) if isWhiteSpace(c)}
