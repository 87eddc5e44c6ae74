"""Wikilinks as markdown-it tokens, and how they render."""

from builder.lexicon import RegistryEntry, build_lexicon
from builder.markdown import render
from builder.markdown.renderer import parser
from conftest import parse_fragment


def entry(slug, name, aliases=(), case_sensitive=(), weak=()):
    return RegistryEntry(slug, name, f"content/entities/{slug}.md", list(aliases),
                         list(case_sensitive), list(weak), {})


LEXICON, _ = build_lexicon([entry("mir-shafiq-mengal", "Mir Shafiq Mengal"),
                            entry("inter-services-intelligence", "Inter-Services Intelligence",
                                  weak=["ISI"])], autolink=False)


def inline_children(text, lexicon=LEXICON):
    tokens = parser().parse(text, {"lexicon": lexicon, "first_line": 1})
    return [t for t in tokens if t.type == "inline"][0].children


def types(text):
    return [t.type for t in inline_children(text)]


def test_wikilink_by_name_and_with_a_label():
    children = inline_children("See [[Mir Shafiq Mengal]] and [[mir-shafiq-mengal|Mengal]].")
    mentions = [c for c in children if c.type == "mention_open"]
    assert [m.meta["entity"] for m in mentions] == ["mir-shafiq-mengal"] * 2
    labels = [children[i + 1].content for i, c in enumerate(children) if c.type == "mention_open"]
    assert labels == ["Mir Shafiq Mengal", "Mengal"]


def test_wikilink_renders_a_link_with_a_stable_id():
    html = render("[[ISI]] then [[inter-services-intelligence|the agency]]",
                  lexicon=LEXICON, base_path="/archive/").html
    links = parse_fragment(html).findall(".//a")
    assert [(a.get("id"), a.get("href")) for a in links] == [
        ("m-inter-services-intelligence-1", "postil-site:/entities/inter-services-intelligence/"),
        ("m-inter-services-intelligence-2", "postil-site:/entities/inter-services-intelligence/")]


def test_unknown_target_is_left_for_the_index_to_resolve_or_report():
    result = render("Intro\n\nsee [[Some Article]] here", lexicon=LEXICON, first_line=5)
    assert result.wikilinks == [(7, "Some Article")]
    assert 'href="postil-wiki:0"' in result.html  # the first of result.wikilinks


def test_unterminated_and_empty_wikilinks_stay_text():
    assert types("[[Mir Shafiq Mengal") == ["text"]
    assert types("[[]] and [[ | x]]") == ["text"]


def test_code_spans_and_escapes_are_left_alone():
    assert "mention_open" not in types("`[[Mir Shafiq Mengal]]`")
    assert "mention_open" not in types(r"\[[Mir Shafiq Mengal]]")


def test_links_never_nest():
    # As CommonMark does for a link inside a link, the inner one (the wikilink) wins.
    children = types("[about [[Mir Shafiq Mengal]]](https://example.org/)")
    assert children.count("mention_open") == 1 and "link_open" not in children


def test_wikilink_inside_a_highlight_nests():
    assert types("==see [[Mir Shafiq Mengal]] here==") == [
        "mark_open", "text", "mention_open", "text", "mention_close", "text", "mark_close"]
