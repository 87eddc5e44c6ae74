"""Highlights, CriticMarkup and note blocks as tokens and as HTML."""

from builder.markdown import render
from builder.markdown.renderer import parser
from conftest import parse_fragment, text_of


def types(text):
    tokens = parser().parse(text, {"first_line": 1})
    return [t.type for t in [t for t in tokens if t.type == "inline"][0].children]


def test_equals_highlight():
    assert types("a ==marked== b") == ["text", "mark_open", "text", "mark_close", "text"]
    root = parse_fragment(render("a ==marked== b ==again==").html)
    assert [(m.get("id"), m.text) for m in root.iter("mark")] == [("hl-1", "marked"),
                                                                  ("hl-2", "again")]


def test_unterminated_markup_is_text():
    for text in ("==open", "{==open", "{>>note", "{++add", "{--cut", "{==  ==}"[:4]):
        assert set(types(text)) == {"text"}, text


def test_code_spans_are_left_alone():
    assert "mark_open" not in types("`==x==` and `{==y==}`")


def test_critic_highlight_with_margin_note():
    result = render("The {==JIT report==}{>>Quoted, never published.<<} says so.")
    root = parse_fragment(result.html)
    assert root.find(".//mark").get("id") == "hl-1"
    toggle, note = root.find(".//button"), root.find(".//span")
    assert (toggle.get("type"), toggle.get("aria-controls"), toggle.get("aria-expanded")) == \
        ("button", "sn-1", "true") and text_of(toggle) == "Note"
    assert (note.get("class"), note.get("role"), note.get("id")) == ("sidenote", "note", "sn-1")
    assert text_of(note) == "Quoted, never published."
    [highlight] = result.highlights
    assert (highlight.kind, highlight.text, highlight.note) == (
        "highlight", "JIT report", "Quoted, never published.")


def test_note_alone_insertion_and_deletion():
    result = render("A Jigra{>>Probably *jirga*.<<} was {--held--}{++convened++}.")
    root = parse_fragment(result.html)
    assert root.find(".//del").text == "held" and root.find(".//ins").text == "convened"
    assert root.find(".//span[@class='sidenote']/em").text == "jirga"
    assert [(h.id, h.kind, h.text, h.note) for h in result.highlights] == [
        ("hl-1", "note", "", "Probably jirga."),
        ("hl-2", "deletion", "held", ""),
        ("hl-3", "insertion", "convened", "")]


def test_highlight_stays_inside_one_paragraph():
    assert "<mark" not in render("==starts here\n\nends here==").html


def test_note_blocks_and_footnotes_stay_what_they_are():
    html = render("::: note\nLonger *commentary*.\n:::\n\nText[^1].\n\n[^1]: A footnote.\n").html
    root = parse_fragment(html)
    assert text_of(root.find(".//div[@class='note']")) == "Longer commentary."
    assert root.find(".//section[@class='footnotes']") is not None


def test_positions_and_quotes_for_selectors():
    result = render("Before the ==important words== after.")
    [highlight] = result.highlights
    quote = highlight.quote
    assert quote.exact == "important words"
    assert quote.prefix == "Before the " and quote.suffix == " after."
    assert (quote.start, quote.end) == (11, 26)
