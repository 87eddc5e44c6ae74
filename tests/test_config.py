import pytest

from builder.config import load_config
from builder.problems import BuildFailed


def write(tmp_path, text):
    (tmp_path / "site.yml").write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_and_base_path(tmp_path):
    config, problems = load_config(write(tmp_path, "title: X\nbase_url: https://e.org/archive\n"))
    assert problems == []
    assert config.base_url == "https://e.org/archive/"
    assert config.base_path == "/archive/"
    assert config.paginate == 10 and config.theme == "default"


def test_unknown_key_is_a_warning_with_a_suggestion(tmp_path):
    _, problems = load_config(write(tmp_path, "title: X\npaginte: 5\n"))
    assert [str(p) for p in problems] == [
        'site.yml:2: warning: unknown key "paginte" (did you mean "paginate"?)']


def test_every_bad_value_is_reported_with_its_line(tmp_path):
    text = "title: X\npaginate: many\ntimezone: Mars/Base\nbase_url: example.org\n"
    with pytest.raises(BuildFailed) as caught:
        load_config(write(tmp_path, text))
    assert [str(p) for p in caught.value.problems] == [
        "site.yml:2: paginate must be a whole number",
        'site.yml:3: unknown timezone "Mars/Base" (use a name like "Europe/Paris")',
        'site.yml:4: base_url must be an absolute http(s) URL, not "example.org"',
    ]


def test_permalink_pattern_is_checked(tmp_path):
    with pytest.raises(BuildFailed) as caught:
        load_config(write(tmp_path, "permalinks:\n  article: /{year}/{title}/\n"))
    assert "permalinks.article" in str(caught.value)
    config, _ = load_config(write(tmp_path, "permalinks:\n  article: '{year}/{slug}'\n"))
    assert config.permalink == "/{year}/{slug}/"


def test_yaml_error_in_config(tmp_path):
    with pytest.raises(BuildFailed) as caught:
        load_config(write(tmp_path, "title: X\nmenu: [\n"))
    assert str(caught.value.problems[0]).startswith("site.yml:3: invalid YAML")
