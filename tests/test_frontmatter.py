from datetime import date

import pytest

from builder.frontmatter import YamlError, split


def test_split_gives_values_body_and_lines():
    doc = split("---\ntitle: A\ndate: 2025-01-02\ntags: [x, y]\n---\nBody line\n")
    assert doc.meta == {"title": "A", "date": date(2025, 1, 2), "tags": ["x", "y"]}
    assert doc.body == "Body line\n"
    assert doc.body_line == 6
    assert doc.line("tags") == 4


def test_yaml_error_line_is_the_line_in_the_file():
    with pytest.raises(YamlError) as caught:
        split("---\ntitle: A\n  bad: indent\n---\n")
    assert caught.value.line == 3
    assert "mapping values are not allowed" in caught.value.message


def test_unclosed_quote_names_where_it_starts():
    with pytest.raises(YamlError) as caught:
        split('---\ntitle: "A\ndate: 2025-01-01\n---\nx\n')
    assert "starts on line 2" in caught.value.message


@pytest.mark.parametrize(("text", "message"), [
    ("---\ntitle: A\n", "not closed"),
    ("---\n- a\n- b\n---\n", "must be a mapping"),
])
def test_malformed_front_matter(text, message):
    with pytest.raises(YamlError) as caught:
        split(text)
    assert message in caught.value.message


def test_byte_order_mark_and_crlf_are_accepted():
    doc = split("\ufeff---\r\ntitle: A\r\n---\r\nBody\r\n")
    assert doc.meta["title"] == "A"
