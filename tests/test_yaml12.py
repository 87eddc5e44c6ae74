"""YAML read the YAML 1.2 way for booleans, duplicate keys refused, values cut short by a
comment warned about (issue 11, "YAML surprises that lose what the user wrote"), in
front matter and in site.yml alike."""

from pathlib import Path

import pytest

from builder.config import load_config
from builder.problems import BuildFailed
from builder.reader import ReadSettings, read_article
from builder.yamlsafe import YamlError, load_yaml

SETTINGS = ReadSettings()


def read(front: str, body: str = "Text.\n"):
    record, problems = read_article("content/a.md", f"---\n{front}---\n{body}".encode(),
                                    SETTINGS)
    return record, [str(p) for p in problems]


def test_only_true_and_false_are_booleans():
    value, _ = load_yaml("a: yes\nb: [NO, off, On, y, n, Yes]\nc: true\nd: False\ne: TRUE\n"
                         "f: 'true'\n")
    assert value == {"a": "yes", "b": ["NO", "off", "On", "y", "n", "Yes"], "c": True,
                     "d": False, "e": True, "f": "true"}


def test_title_yes_and_tags_no_off_stay_what_was_written():
    record, problems = read("title: yes\ndate: 2024-01-01\ntags: [NO, off]\n")
    assert problems == []
    assert record.title == "yes" and record.tags == ["NO", "off"]


def test_draft_yes_is_an_error_not_a_guess():
    record, problems = read("title: T\ndate: 2024-01-01\ndraft: yes\n")
    assert record is None and problems == ["content/a.md:4: draft must be true or false"]


def test_an_explicit_bool_tag_takes_only_true_and_false():
    with pytest.raises(YamlError) as caught:
        load_yaml("a: 1\nb: !!bool yes\n", first_line=2)
    assert (caught.value.line, caught.value.message) == (3, '"yes" is not a valid !!bool value')


@pytest.mark.parametrize(("text", "line", "message"), [
    ("title: T\ndraft: true\ntags: []\n\n\ndraft: false\n", 7,
     'duplicate key "draft" on lines 3 and 7: keep one'),
    ("a:\n  b: 1\n  c: 2\n  b: 3\n", 5, 'duplicate key "b" on lines 3 and 5: keep one'),
    ("a: [{x: 1, x: 2}]\n", 2, 'duplicate key "x" twice on line 2: keep one'),
    ("base: &b {x: 1, x: 2}\nc: {<<: *b}\n", 2, 'duplicate key "x" twice on line 2: keep one'),
    ("base: &b {x: 1}\nc:\n  <<: *b\n  y: 1\n  y: 2\n", 6,
     'duplicate key "y" on lines 5 and 6: keep one'),
])
def test_a_duplicate_key_in_any_mapping_names_both_lines(text, line, message):
    with pytest.raises(YamlError) as caught:
        load_yaml(text, first_line=2)
    assert (caught.value.line, caught.value.message) == (line, message)


def test_a_merge_may_repeat_a_key_the_mapping_sets():
    value, _ = load_yaml("base: &b {x: 1, y: 2}\nc: {<<: *b, x: 3}\n")
    assert value["c"] == {"x": 3, "y": 2}


def test_duplicate_draft_in_front_matter_stops_the_file():
    record, problems = read("title: T\ndraft: true\ndate: 2024-01-01\ndraft: false\n")
    assert record is None
    assert problems == ['content/a.md:5: duplicate key "draft" on lines 3 and 5: keep one']


def test_a_value_cut_short_by_a_comment_is_a_warning_at_its_line():
    record, problems = read("title: Issue #42 fixed\ndate: 2024-01-01\ndraft: false # yet\n"
                            "tags: [a, b]  # two\nsource: 'https://x.org/#a' # quoted\n"
                            "publication: The #1 paper\n")
    assert record.title == "Issue" and record.publication == "The"
    assert problems == [
        'content/a.md:2: warning: the value "Issue" ends where " #" starts a YAML comment '
        '("#42 fixed" is left out): put the value in quotes to keep it all, or the comment '
        "on a line of its own",
        'content/a.md:7: warning: the value "The" ends where " #" starts a YAML comment '
        '("#1 paper" is left out): put the value in quotes to keep it all, or the comment '
        "on a line of its own"]


def test_cut_values_in_lists_and_nested_mappings_are_found():
    warnings: list = []
    load_yaml("a:\n  - one # x\n  - 'two' # y\nb: {c: d #e\n  }\nf: |\n  g # h\n", 2, warnings)
    assert [line for line, _ in warnings] == [3, 5]


def test_no_comment_no_walk_and_a_hash_inside_a_word_is_text():
    warnings: list = []
    value, _ = load_yaml("a: C#\nb: x#y\nc: '# not a comment'\n", 2, warnings)
    assert value == {"a": "C#", "b": "x#y", "c": "# not a comment"} and warnings == []


def config(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "site.yml").write_text(text, encoding="utf-8")
    try:
        _, problems = load_config(tmp_path)
    except BuildFailed as failure:
        problems = failure.problems
    return [str(p) for p in problems]


def test_site_yml_reads_yaml_1_2_too(tmp_path):
    assert config(tmp_path, "title: T\nbase_url: https://x.org/\ntitle: U\n") == [
        'site.yml:3: duplicate key "title" on lines 1 and 3: keep one']
    assert config(tmp_path, "title: Notes #2\nbase_url: https://x.org/\n") == [
        'site.yml:1: warning: the value "Notes" ends where " #" starts a YAML comment ("#2" '
        "is left out): put the value in quotes to keep it all, or the comment on a line of "
        "its own"]
    assert config(tmp_path, "title: no\nbase_url: https://x.org/\n") == []
