from builder.markdown import render
from builder.markdown.internal_links import REF_PREFIX
from conftest import parse_fragment, text_of


def test_commonmark_extensions():
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ and a note[^n].\n\n"
                  "[^n]: The note.\n\n```python\nx = 1 < 2\n```\n").html
    root = parse_fragment(html)
    assert text_of(root.find(".//table//td")) == "1"
    assert root.find(".//s").text == "gone"
    assert root.find(".//section[@class='footnotes']") is not None
    assert root.find(".//pre/code[@class='language-python']").text == "x = 1 < 2\n"


def test_headings_get_ids_and_anchor_links():
    result = render("## Über uns\n\n## Über uns\n")
    root = parse_fragment(result.html)
    ids = [h.get("id") for h in root.iter("h2")]
    assert ids == ["uber-uns", "uber-uns-1"]
    assert root.find(".//h2/a").get("href") == "#uber-uns"
    assert [h["text"] for h in result.headings] == ["Über uns", "Über uns"]


def test_links_to_markdown_files_are_recorded_with_lines():
    result = render("Intro.\n\nSee [a](other.md#part) and\n[b](../up.md).\n",
                    source_dir="content/sub", first_line=10)
    assert result.links == [(12, "content/sub/other.md"), (13, "content/up.md")]
    # Placeholders number the links: digits survive HTML escaping, whatever the target.
    assert f'href="{REF_PREFIX}0#part"' in result.html
    assert f'href="{REF_PREFIX}1"' in result.html


def test_root_relative_links_are_site_paths_made_relative_per_page():
    html = render("[home](/) ![map](/img/map.png) [ext](https://x.org/) [frag](#a)",
                  base_path="/archive/").html
    root = parse_fragment(html)
    # a site path, made a link relative to each page that shows the body (builder.urls)
    assert [a.get("href") for a in root.iter("a")] == ["postil-site:/", "https://x.org/", "#a"]
    assert root.find(".//img").get("src") == "postil-site:/img/map.png"


def test_word_count_and_first_paragraph():
    result = render("# Title\n\nOne two\nthree.\n\nFour.\n")
    assert result.words == 5
    assert result.first_paragraph == "One two three."


def test_raw_html_can_be_turned_off():
    assert "<b>" not in render("<b>x</b>", html=False).html
    assert "<b>x</b>" in render("<b>x</b>").html
