"""Obsidian's syntax, one form at a time: the exact HTML, warning or error of each.

Wikilinks with headings, blocks, paths and aliases; embeds; block ids; inline
tags; callouts and GitHub alerts; Liquid and shortcodes left in a body;
``wikilinks: {unresolved: text}``. The whole vault is tests/test_obsidian_vault.py.
"""

from __future__ import annotations

import pytest

from builder.markdown import render
from builder.problems import BuildFailed
from conftest import SITE_YML, article, parse_fragment, parse_html, text_of


def _problems(site, files, config=SITE_YML):
    site(files, config)
    with pytest.raises(BuildFailed) as caught:
        site.build()
    return [str(p) for p in caught.value.problems]


# --- block ids ----------------------------------------------------------------------

def test_block_ids_go_on_the_paragraph_or_item_and_are_not_shown():
    result = render("One. ^one\n\n- item ^two\n- other\n\nLast\n^three\n")
    assert result.html == ('<p id="^one">One.</p>\n<ul>\n<li id="^two">item</li>\n'
                           '<li>other</li>\n</ul>\n<p id="^three">Last</p>\n')
    assert result.blocks == ["one", "two", "three"]


def test_invalid_and_repeated_block_ids_are_errors_with_their_lines():
    result = render("Bad ^no_underscores\n\nA ^x\n\nB ^x\n\n2^10 and x ^ y stay text\n",
                    first_line=4)
    assert result.problems == [
        (4, 'block id "^no_underscores" may hold only letters, digits and hyphens'),
        (8, 'block id "^x" is used twice (line 6 has it too)')]
    assert "2^10 and x ^ y stay text" in result.html


# --- inline tags --------------------------------------------------------------------

@pytest.mark.parametrize(("text", "tags"), [
    ("#reading", ["reading"]),
    ("a #topic/sub-topic b", ["topic/sub-topic"]),
    ("#one #one #two", ["one", "two"]),
    ("C# and a#b", []),  # not after a space
    ("#42 and #2024", []),  # digits only
    ("#fff #c0ffee #abcd #12345678", []),  # colours
    ("#fffg #a1", ["fffg", "a1"]),
    ("`#code` and [#link](x.html) and [[Page|#label]]", []),
    ("# Heading", []),
    ("#наука", ["наука"]),
])
def test_inline_tags_follow_obsidians_rule(text, tags):
    assert render(text).hashtags == tags


def test_an_inline_tag_is_a_link_placeholder_the_index_resolves():
    assert render("See #reading.").html == \
        '<p>See <a class="tag" href="postil-tag:0">#reading</a>.</p>\n'


def test_inline_tags_join_the_articles_tags_once(site):
    site({"content/a.md": article("A", tags="[Reading]", body="#reading and #new-one")})
    site.build()
    page = parse_html(site.root / "public/articles/a/index.html")
    assert [text_of(a) for a in page.iterfind(".//ul[@class='tags']/li/a")] == \
        ["Reading", "new-one"]
    assert (site.root / "public/tags/new-one/index.html").is_file()


# --- callouts -----------------------------------------------------------------------

def test_a_callout_with_a_title_is_a_note_that_says_its_type():
    html = render("> [!warning] Check the *date*\n> The copy is old.\n").html
    assert html == (
        '<div class="callout callout-warning" role="note">\n'
        '<p class="callout-title"><span class="callout-type visually-hidden">Warning: </span>'
        'Check the <em>date</em></p>\n<p>The copy is old.</p>\n</div>\n')


def test_a_github_alert_shows_its_type_as_title():
    assert render("> [!IMPORTANT]\n>\n> Read this.\n").html == (
        '<div class="callout callout-important" role="note">\n'
        '<p class="callout-title"><span class="callout-type">Important</span></p>\n'
        '<p>Read this.</p>\n</div>\n')


def test_foldable_callouts_are_details_open_with_plus():
    closed = render("> [!tip]- More\n> hidden\n").html
    opened = render("> [!tip]+ More\n> shown\n").html
    assert closed.startswith('<details class="callout callout-tip">\n<summary class='
                             '"callout-title">')
    assert opened.startswith('<details class="callout callout-tip" open>\n')
    assert closed.endswith("</details>\n")


def test_nested_callouts_and_plain_quotes():
    html = render("> [!note]\n> > [!bug] Inner\n> > text\n\n> plain [!note]\n").html
    root = parse_fragment(html)
    assert [e.get("class") for e in root.iter("div")] == ["callout callout-note",
                                                         "callout callout-bug"]
    assert root.find("blockquote") is not None and "[!note]" in text_of(root.find("blockquote"))


@pytest.mark.parametrize("marker", ['[!note" onclick="x]', "[!no te]", "[!]", "[!-x]"])
def test_a_marker_that_is_no_type_stays_a_quote(marker):
    html = render(f"> {marker} Title\n").html
    assert html.startswith("<blockquote>") and "callout" not in html


def test_callouts_pass_the_sanitizer_when_the_body_has_raw_html():
    html = render('<span title="x">raw</span>\n\n> [!faq]+ Why?\n> Because.\n').html
    assert '<details class="callout callout-faq" open="">' in html  # as ammonia writes it
    assert '<summary class="callout-title"><span class="callout-type visually-hidden">' in html


# --- Liquid and shortcodes ----------------------------------------------------------

def test_liquid_and_shortcodes_are_warnings_naming_the_syntax():
    body = ("Intro {% include note.html x=1 %}\nthen {{ page.title }}.\n\n"
            "{{< figure src=\"a.png\" >}} {{% notice %}} {{ youtube(id=\"x\") }}\n\n"
            "`{% in code %}`\n\n```\n{{ in a block }}\n```\n\n{% endraw %}\n")
    assert render(body, first_line=3).warnings == [
        (3, "Liquid tag {% include … %} is shown as text: Postil does not run Liquid"),
        (4, "Liquid output {{ page.title }} is shown as text: Postil does not run Liquid"),
        (6, "Hugo shortcode {{% notice %}} is shown as text: Postil does not run shortcodes"),
        (6, 'Hugo shortcode {{< figure src="a.png" >}} is shown as text: Postil does not '
            "run shortcodes"),
        (6, 'Zola shortcode {{ youtube(id="x") }} is shown as text: Postil does not run '
            "shortcodes"),
        (14, "Liquid tag {% endraw %} is shown as text: Postil does not run Liquid"),
    ]


def test_a_liquid_tag_over_several_lines_is_named_on_one_line():
    """A warning is one line (``path:line: warning: …``), whatever the tag spans."""
    body = ("See {{ site.repository\n}}/issues and {{ site.repository | append: '/a-long-path"
            "/of/many/words'\n}}.\n")
    assert render(body).warnings == [
        (1, "Liquid output {{ site.repository }} is shown as text: Postil does not run Liquid"),
        (2, "Liquid output {{ site.repository | append: '/a-… }} is shown as text: Postil "
            "does not run Liquid")]


def test_past_twenty_template_tags_one_line_counts_the_rest():
    warnings = render("{{ x }}\n" * 25).warnings
    assert len(warnings) == 21 and warnings[-1] == (21, "5 more template tags or shortcodes "
                                                        "shown as text")


# --- wikilinks, resolved by the index ------------------------------------------------

def _target(**meta):
    body = meta.pop("body", "Text.\n\n## Getting started\n\n## Usage notes\n\nEnd. ^end\n")
    return article(meta.pop("title", "Target"), "2024-01-01", body=body, **meta)


def test_an_unknown_heading_names_the_closest_headings(site):
    assert _problems(site, {"content/target.md": _target(),
                            "content/a.md": article("A", body="[[Target#Getting start]]"),
                            "content/b.md": article("B", body="[[Target#^ned]]")}) == [
        'content/a.md:5: no heading "Getting start" in content/target.md (its headings '
        'closest to it: "Getting started", "Usage notes")',
        'content/b.md:5: no block "^ned" in content/target.md (its blocks: ^end)']


def test_headings_match_by_text_or_id_and_the_last_of_a_chain(site):
    site({"content/target.md": _target(),
          "content/a.md": article("A", body="[[target#getting started]] [[Target#usage-notes]]"
                                  " [[Target#Getting started#Usage notes]]")})
    site.build()
    page = parse_html(site.root / "public/articles/a/index.html")
    assert [a.get("href") for a in page.iterfind(".//a[@class='wikilink']")] == [
        "../target/#getting-started", "../target/#usage-notes",
        "../target/#usage-notes"]


def test_aliases_resolve_and_a_clash_names_both(site):
    assert _problems(site, {
        "content/target.md": _target(aliases="[TG, Other]"),
        "content/other.md": article("Other", aliases="[TG]", body="[[TG]]"),
    }) == ['content/target.md:4: alias "TG" is also an alias of content/other.md (line 4)',
           'content/target.md:4: alias "Other" is also the title of content/other.md '
           "(line 2)"]


def test_a_path_names_one_file_or_is_ambiguous(site):
    files = {"content/a/note.md": _target(title="Note A", slug="note-a"),
             "content/b/note.md": _target(title="Note B", slug="note-b"),
             "content/c.md": article("C", body="[[a/note]] [[a/note.md|A]] [[note.md]]")}
    assert _problems(site, files) == [
        'content/c.md:5: ambiguous wikilink "note.md": it may mean content/a/note.md or '
        "content/b/note.md; write more of the path"]


def test_a_bare_name_two_notes_share_is_the_nearest_or_ambiguous(site):
    # README.md in two folders (permalinks with {path}): the one beside the linking
    # note, else an error; the last one read was once taken silently.
    path_yml = SITE_YML + 'permalinks: {article: "/{path}/"}\n'
    files = {"content/README.md": "Root.\n", "content/archive/README.md": "Old.\n",
             "content/home.md": "[[README]]\n"}
    site(files, path_yml)
    site.build()
    page = parse_html(site.root / "public/home/index.html")
    assert [a.get("href") for a in page.iterfind(".//a[@class='wikilink']")] == ["../readme/"]
    assert _problems(site, {**files, "content/daily/day.md": "[[README]]\n"}, path_yml) == [
        'content/daily/day.md:1: ambiguous wikilink "README": it may mean '
        "content/README.md or content/archive/README.md; write more of the path"]


def test_unresolved_wikilinks_can_be_text_with_a_warning(site):
    site({"content/a.md": article("A", body="[[Nowhere]] and [[Target#Nope]]\n\n"
                                  "![[Missing note]]\n"),
          "content/target.md": _target()},
         SITE_YML + "wikilinks: {unresolved: text}\n")
    result = site.build()
    assert [str(p) for p in result.warnings] == [
        'content/a.md:5: warning: unknown entity or article "Nowhere": shown as text',
        'content/a.md:5: warning: no heading "Nope" in content/target.md (its headings '
        'closest to it: "Usage notes", "Getting started"): shown as text',
        'content/a.md:7: warning: unknown entity or article "Missing note": shown as text']
    body = (site.root / "public/articles/a/index.html").read_text()
    assert '<span class="wikilink-unresolved">Nowhere</span> and <span class="wikilink-' \
           'unresolved">Target › Nope</span>' in body
    assert '<p class="embed-unresolved">Missing note</p>' in body


def test_an_unknown_setting_for_unresolved_links_is_an_error(site):
    assert _problems(site, {}, SITE_YML + "wikilinks: {unresolved: maybe}\n") == [
        'site.yml:5: wikilinks.unresolved must be "error" or "text"']


# --- embeds -------------------------------------------------------------------------

def test_an_embed_is_a_placeholder_and_a_file_embed_is_not_one():
    result = render("![[Note]]\n\n![[Note#Part|label]]\n\n![[cat.png]]\n", first_line=2)
    assert result.embeds == [(2, "Note"), (4, "Note#Part")]
    assert result.html.startswith(
        '<div class="postil-embed"><a href="postil-embed:0"></a></div>\n'
        '<div class="postil-embed"><a href="postil-embed:1">label</a></div>\n')
    assert "postil-embed" not in result.html.split("\n", 2)[2]


def test_an_embed_in_running_text_is_a_link_with_a_warning():
    result = render("See ![[Note]] here.", first_line=3)
    assert result.html == '<p>See <a class="wikilink" href="postil-wiki:0">Note</a> here.</p>\n'
    assert result.warnings == [(3, "![[Note]] is inside running text, so it is shown as a "
                                   "link: put an embed on a line of its own")]


def test_embed_cycles_and_depth_are_warnings_naming_the_chain(site):
    chain = {f"content/n{i}.md": article(f"N{i}", body=f"Text {i}.\n\n![[N{i + 1}]]\n")
             for i in range(1, 5)}
    site({**chain, "content/n5.md": article("N5", body="Last."),
          "content/loop-a.md": article("Loop A", body="![[Loop B]]"),
          "content/loop-b.md": article("Loop B", body="![[Loop A]]")})
    result = site.build()
    assert sorted(str(p) for p in result.warnings) == [
        "content/loop-a.md:5: warning: embed cycle content/loop-b.md → content/loop-a.md → "
        "content/loop-b.md: the embed is shown as a link",
        "content/loop-b.md:5: warning: embed cycle content/loop-a.md → content/loop-b.md → "
        "content/loop-a.md: the embed is shown as a link",
        "content/n1.md:7: warning: embeds nested more than 3 deep (content/n1.md → "
        "content/n2.md → content/n3.md → content/n4.md → content/n5.md): the innermost is "
        "shown as a link"]
    page = parse_html(site.root / "public/articles/n1/index.html")
    body = next(e for e in page.iter("div") if "article-body" in (e.get("class") or ""))
    assert [text_of(p) for p in body.iter("p")
            if text_of(p).startswith("Text")] == ["Text 1.", "Text 2.", "Text 3.", "Text 4."]


def test_entity_notes_show_embeds_as_links_and_tags_as_text(site):
    site({"content/entities/kabul.md": "---\nname: Kabul\ntype: place\n---\n"
                                       "#capital city.\n\n![[Target]]\n",
          "content/target.md": _target()})
    result = site.build()
    body = (site.root / "public/entities/kabul/index.html").read_text()
    assert "#capital city." in body
    assert '<a class="wikilink" href="../../articles/target/">Target</a>' in body
    assert [p.message for p in result.warnings] == [
        "![[Target]] is inside running text, so it is shown as a link: put an embed on a "
        "line of its own"]


def test_a_reserved_placeholder_written_in_a_link_is_an_error(site):
    assert _problems(site, {"content/a.md": article("A", body="[x](postil-embed:0) "
                                                    "[y](postil-tag:0)")}) == [
        "content/a.md:5: link \"postil-embed:0\" uses a scheme reserved for Postil's own links",
        "content/a.md:5: link \"postil-tag:0\" uses a scheme reserved for Postil's own links"]
