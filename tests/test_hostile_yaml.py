"""Hostile and careless YAML, in front matter and site.yml: a `path:line: message` every
time, every file's problems in one run, no traceback, no hang, the old output untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder.config import load_config
from builder.problems import BuildFailed
from builder.yamlsafe import MAX_ALIASES, MAX_EXPANSION, YamlError, load_yaml
from conftest import REPO, SITE_YML, article, fails_with, snapshot


def postil(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "builder", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def bomb(indent: str = "") -> list[str]:
    """The "billion laughs": 9 levels of 9 aliases, 9**9 "lol"s once expanded. The code
    before the limits took minutes and gigabytes on it (whatever walked the value)."""
    lines = [f'{indent}a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefgh":
        lines.append(f"{indent}{name}: &{name} [" + ",".join(["*" + previous] * 9) + "]")
        previous = name
    lines.append(f"{indent}i: [" + ",".join(["*h"] * 9) + "]")
    return lines


def expansion_error(text: str) -> str:
    limit = MAX_EXPANSION + 4 * len(text)
    return (f"aliases expand this value to more than {limit:,} values and characters; "
            "write it out, or use fewer aliases")


# --- aliases, expansion, depth ---------------------------------------------------------


def test_alias_bomb_in_site_yml_params_is_refused_at_its_line(built):
    text = SITE_YML + "params:\n" + "\n".join(bomb("  ")) + "\n"
    built.write("site.yml", text)
    # a (line 6) is 37 values and characters, each level 9 times the last: e, on
    # line 10, is the first over the limit (243,577).
    fails_with(built, f"site.yml:10: {expansion_error(text)}")


def test_alias_bomb_in_front_matter_is_refused_at_its_line(built):
    text = "\n".join(["title: Good", "date: 2024-01-01", *bomb()]) + "\n"
    built.write("content/good.md", f"---\n{text}---\nBody\n")
    fails_with(built, f"content/good.md:8: {expansion_error(text)}")  # e, as above


def test_ordinary_anchors_and_merge_keys_still_work(built):
    built.write("site.yml", SITE_YML + "params:\n  base: &base {color: red, size: 2}\n"
                "  small: {<<: *base, size: 1}\n  list: [*base, *base]\n")
    result = built.build()
    assert result.config.params["small"] == {"color": "red", "size": 1}
    assert result.config.params["list"] == [{"color": "red", "size": 2}] * 2


def test_too_many_aliases():
    text = "x: &x 1\ny: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(YamlError) as caught:
        load_yaml(text, first_line=2)
    assert (caught.value.line, caught.value.message) == (3, "more than 1,000 aliases")
    assert load_yaml(text.replace("*x]", "2]"), first_line=2)[0]["y"][-1] == 2


@pytest.mark.parametrize("text", ["x: &x [1, *x]\n", "x: &x {a: {b: *x}}\n"])
def test_an_alias_inside_its_own_anchor_is_refused(text):
    with pytest.raises(YamlError) as caught:
        load_yaml(text, first_line=2)
    assert (caught.value.line, caught.value.message) == (
        2, "an alias refers to a value that contains it (a cycle)")


@pytest.mark.parametrize(("text", "line"), [
    ("x: " + "[" * 101 + "]" * 101 + "\n", 2),  # flow, composed by libyaml, then measured
    ("x:\n" + "".join(" " * (2 * i) + "- a:\n" for i in range(60)), 52),  # block
    ("x: &x " + "[" * 60 + "]" * 60 + "\ny: " + "[" * 50 + "*x" + "]" * 50 + "\n", 3),
])
def test_nesting_deeper_than_100_is_refused(text, line):
    with pytest.raises(YamlError) as caught:
        load_yaml(text, first_line=2)
    assert (caught.value.line, caught.value.message) == (
        line, "lists and mappings nested more than 100 deep")


def test_nesting_100_deep_is_accepted():
    value, _ = load_yaml("x: " + "[" * 99 + "]" * 99)
    depth, item = 1, value["x"]
    while item:
        depth, item = depth + 1, item[0]
    assert depth == 99


@pytest.mark.parametrize("text", [
    "x: [" + ", ".join(f"[{i}]" for i in range(1200)) + "]\n",  # over 1,000 brackets: composed
    "x: |\n" + "".join(" " * 300 + f"line {i}\n" for i in range(3)) + "y: &y [1]\nz: *y\n",
    "a: AT&T\nb: https://example.org/?a=1&b=2\nc: Q & A\n",
])
def test_the_slower_paths_load_what_pyyaml_loads(text):
    """Documents whose depth bound is high (composed in Python, or measured) or that
    hold an "&" give exactly PyYAML's value."""
    import yaml

    assert load_yaml(text)[0] == yaml.load(text, Loader=yaml.CSafeLoader)


def test_the_example_site_loads_as_pyyaml_loads_it():
    import yaml

    from builder.frontmatter import split

    for path in sorted((REPO / "content").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        front = text.split("\n---\n", 1)[0][4:]
        assert split(text).meta == yaml.load(front, Loader=yaml.CSafeLoader), path


def test_a_repeated_key_is_an_error_naming_both_lines(tmp_path):
    assert config_problems(tmp_path, "title: X\npaginate: 2\npaginate: 0\n") == [
        'site.yml:3: duplicate key "paginate" on lines 2 and 3: keep one']


def test_very_deep_nesting_fails_cleanly_in_a_real_build(tmp_path):
    """libyaml's recursive composer crashed the interpreter (a segmentation fault) on
    this, so it runs in a process of its own."""
    (tmp_path / "content").mkdir()
    (tmp_path / "site.yml").write_text(SITE_YML)
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "content" / "deep.md").write_text(
        f"---\ntitle: Deep\ndate: 2024-01-01\nx: {deep}\n---\nBody\n")
    result = postil("build", str(tmp_path), "-q")
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.splitlines() == [
        "content/deep.md:4: lists and mappings nested more than 100 deep",
        "build failed: 1 error; nothing was written"]


# --- values Python cannot hold, characters YAML forbids, line endings -----------------


@pytest.mark.parametrize(("value", "message"), [
    ('!!float "abc"', '"abc" is not a valid !!float value'),
    ('!!int "abc"', '"abc" is not a valid !!int value'),
    ('!!bool "abc"', '"abc" is not a valid !!bool value'),
    ('!!timestamp "abc"', '"abc" is not a valid !!timestamp value'),
    ("1" * 4301, "a number of 4,301 digits is too long (at most 4,300); put it in quotes to "
                 "keep it as text"),
])
def test_a_value_python_cannot_hold_is_an_error_at_its_line(built, value, message):
    built.write("content/good.md", article("Good", "2024-01-01", extra=value))
    fails_with(built, f"content/good.md:4: {message}")
    built.write("content/good.md", article("Good", "2024-01-01"))
    built.write("site.yml", SITE_YML + f"params:\n  x: {value}\n")
    fails_with(built, f"site.yml:6: {message}")


def test_an_impossible_date_stays_text_for_the_date_check(built):
    built.write("content/good.md", article("Good", "2024-02-30"))
    fails_with(built, 'content/good.md:3: invalid date: "2024-02-30" is not a date: use '
                      "YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS][+HH:MM]")


@pytest.mark.parametrize(("raw", "message"), [
    (b"\x10", 'control character U+0010 is not allowed in YAML (delete it, or write it as '
              '"\\u0010" inside double quotes)'),
    (b"\x1b", 'control character U+001B is not allowed in YAML (delete it, or write it as '
              '"\\u001B" inside double quotes)'),
    ("\ufffe".encode(), 'character U+FFFE is not allowed in YAML (delete it, or write it as '
                        '"\\uFFFE" inside double quotes)'),
])
def test_a_forbidden_character_is_reported_on_its_own_line(built, raw, message):
    built.write("content/good.md", b"---\ntitle: Good\ndate: 2024-01-01\nsummary: fine\n"
                b'description: "bad ' + raw + b' here"\n---\nBody\n')
    fails_with(built, f"content/good.md:5: {message}")


def test_old_mac_line_endings_are_named(built):
    built.write("content/good.md", b"---\rtitle: Good\rdate: 2024-01-01\r---\rBody\r")
    fails_with(built, "content/good.md:1: the file has old Mac line endings (CR alone): save "
                      "it with LF (Unix) or CRLF (Windows) line endings")


def test_a_second_document_in_site_yml(built):
    built.write("site.yml", SITE_YML + "---\ntitle: Other\n")
    fails_with(built, "site.yml:5: a second YAML document starts here (a '---' line): keep one")


# --- site.yml values --------------------------------------------------------------------


def with_line(line: str) -> tuple[str, int]:
    """SITE_YML with ``line`` last, instead of a line of the same key: (text, its line)."""
    key = line.split(":", 1)[0]
    kept = [kept for kept in SITE_YML.splitlines() if not kept.startswith(key + ":")]
    return "\n".join([*kept, line]) + "\n", len(kept) + 1


def config_problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "site.yml").write_text(text, encoding="utf-8")
    try:
        _, problems = load_config(tmp_path)
    except BuildFailed as failure:
        problems = failure.problems
    return [str(p) for p in problems]


@pytest.mark.parametrize(("line", "message"), [
    ("paginate: 0", "paginate must be a whole number from 1 to 1,000,000, not 0"),
    ("paginate: 100000000000000000000000",
     "paginate must be a whole number from 1 to 1,000,000, not 100000000000000000000000"),
    ("words_per_minute: 0", "words_per_minute must be a whole number from 1 to 1,000,000, "
                            "not 0"),
    ("words_per_minute: -230", "words_per_minute must be a whole number from 1 to 1,000,000, "
                               "not -230"),
    ("summary_words: 0", "summary_words must be a whole number from 1 to 1,000,000, not 0"),
    ("feed: {limit: -1}", "feed.limit must be a whole number, 0 for every article"),
    ("feed: {limit: 1000001}", "feed.limit must be a whole number from 0 to 1,000,000, not "
                               "1000001"),
    ("words_per_minute: 2.5", "words_per_minute must be a whole number"),
    ("paginate: .inf", "paginate must be a whole number"),
])
def test_numbers_out_of_range_are_reported_with_their_line(tmp_path, line, message):
    text, number = with_line(line)
    assert config_problems(tmp_path, text) == [f"site.yml:{number}: {message}"]


def test_words_per_minute_zero_is_blamed_on_site_yml_not_the_theme(built):
    built.write("site.yml", SITE_YML + "words_per_minute: 0\n")
    fails_with(built, "site.yml:5: words_per_minute must be a whole number from 1 to "
                      "1,000,000, not 0")


def test_a_bad_site_yml_value_and_bad_content_are_reported_together(built):
    built.write("site.yml", SITE_YML.replace("https://example.org/", "example.org"))
    built.write("content/other.md", article("Other", "2024-01-02", weight='!!int "x"'))
    fails_with(built, 'content/other.md:4: "x" is not a valid !!int value',
               'site.yml:2: base_url must be an absolute http(s) URL, not "example.org"')


@pytest.mark.parametrize(("url", "message"), [
    ("example.org", 'must be an absolute http(s) URL, not "example.org"'),
    ("ftp://example.org/", 'must be an absolute http(s) URL, not "ftp://example.org/"'),
    ("javascript:alert(1)", 'must be an absolute http(s) URL, not "javascript:alert(1)"'),
    ("https://", 'must be an absolute http(s) URL, not "https://"'),
    ("https://exa mple.org/", 'may not hold a space, a control character or any of " < > \\ '
                              '^ ` { | }: "https://exa mple.org/"'),
    ("https://example.org:99999/", 'has an invalid port: "https://example.org:99999/"'),
    ("https://example.org:x/", 'has an invalid port: "https://example.org:x/"'),
    ("https://me:pw@example.org/", 'may not hold a user name or password: '
                                   '"https://me:pw@example.org/"'),
    ("https://exa!mple.org/", 'has an invalid host name: "https://exa!mple.org/"'),
    ("https://a..b/", 'has an invalid host name: "https://a..b/"'),
    ("https://example.org/?a=1", 'may not have a query (?) or fragment (#): '
                                 '"https://example.org/?a=1"'),
    ("https://example.org/a/../b/", 'may not have a "." or ".." folder: '
                                    '"https://example.org/a/../b/"'),
    ("https://example.org/%2e%2E/b/", 'may not have a "." or ".." folder: '
                                      '"https://example.org/%2e%2E/b/"'),
])
def test_base_url_must_be_well_formed(tmp_path, url, message):
    text = f'title: X\nbase_url: "{url}"\n'
    assert config_problems(tmp_path, text) == [f"site.yml:2: base_url {message}"]


@pytest.mark.parametrize("url", ["https://example.org", "http://localhost:8000/",
                                 "https://example.org/archive/", "http://127.0.0.1:1313/",
                                 "https://[::1]:8080/", "https://bücher.example/",
                                 "http://build_box.local/"])
def test_good_base_urls_pass(tmp_path, url):
    assert config_problems(tmp_path, f'title: X\nbase_url: "{url}"\n') == []


def test_base_url_on_the_command_line_is_a_usage_error(built):
    before = snapshot(built.root / "public")
    for url in ("ftp://example.org/", "https://exa mple.org/"):
        result = postil("build", str(built.root), "--base-url", url)
        assert result.returncode == 2
        assert "error: argument --base-url: " in result.stderr.splitlines()[-1]
    result = postil("check", str(built.root), "--base-url", "example.org")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == ("postil check: error: argument --base-url: must "
                                              'be an absolute http(s) URL, not "example.org"')
    assert snapshot(built.root / "public") == before
    assert postil("build", str(built.root), "--base-url", "https://example.net/x",
                  "-q").returncode == 0


USE = "use {slug}, {path}, {year}, {month}, {day}"

@pytest.mark.parametrize(("pattern", "message"), [
    ("/../../{slug}/", 'may not have a "." or ".." folder: "/../../{slug}/"'),
    ("/a/./{slug}/", 'may not have a "." or ".." folder: "/a/./{slug}/"'),
    ("http://evil.example/{slug}/", "must be a path on the site such as /articles/{slug}/, "
                                    'not "http://evil.example/{slug}/"'),
    ("//evil.example/{slug}/", "must be a path on the site such as /articles/{slug}/, not "
                               '"//evil.example/{slug}/"'),
    ("javascript:{slug}", "must be a path on the site such as /articles/{slug}/, not "
                          '"javascript:{slug}"'),
    ("/{slug}/?page=1", "may hold only letters, digits, -, _, ., ~ and / besides its fields, "
                        'not "/{slug}/?page=1"'),
    ("/a b/{slug}/", "may hold only letters, digits, -, _, ., ~ and / besides its fields, "
                     'not "/a b/{slug}/"'),
    ("/{year}/{title}/", 'has an unknown field "{title}" (' + USE + ")"),
    ("/{slug.upper}/", 'has an unknown field "{slug.upper}" (' + USE + ")"),
    ("/{slug[0]}/{slug}/", 'has an unknown field "{slug[0]}" (' + USE + ")"),
    ("/{slug:>999999999}/", 'has an unknown field "{slug:>999999999}" (' + USE + ")"),
    ("/{0}/{slug}/", 'has an unknown field "{0}" (' + USE + ")"),
    ("/{slug!r}/", 'has an unknown field "{slug!r}" (' + USE + ")"),
    ("/{year}/", 'must be a string containing "{slug}" or "{path}"'),
    ("/{slug}/{", "is not a pattern: Single '{' encountered in format string (" + USE + ")"),
    ("/{{x}}/{slug}/", "may not hold a brace outside a field"),
])
def test_bad_permalink_patterns(tmp_path, pattern, message):
    text = f"title: X\npermalinks:\n  article: '{pattern}'\n"
    assert config_problems(tmp_path, text) == [f"site.yml:2: permalinks.article {message}"]


@pytest.mark.parametrize(("pattern", "stored"), [
    ("/articles/{slug}/", "/articles/{slug}/"),
    ("{year}/{month}/{slug}", "/{year}/{month}/{slug}/"),
    ("/{year}/{slug}.html", "/{year}/{slug}.html"), ("/écrits/{slug}/", "/écrits/{slug}/"),
    ("/~notes/{day}-{slug}/", "/~notes/{day}-{slug}/"),
])
def test_good_permalink_patterns(tmp_path, pattern, stored):
    (tmp_path / "site.yml").write_text(f"permalinks:\n  article: '{pattern}'\n")
    assert load_config(tmp_path)[0].permalink == stored


def test_a_traversing_permalink_fails_the_build_and_keeps_the_output(built):
    built.write("site.yml", SITE_YML + "permalinks:\n  article: /../../{slug}/\n")
    fails_with(built, 'site.yml:5: permalinks.article may not have a "." or ".." folder: '
                      '"/../../{slug}/"')


@pytest.mark.parametrize(("line", "message"), [
    ("language: en_US", 'language must be a language tag such as "en" or "pt-BR", not "en_US" '
                        '(did you mean "en-US"?)'),
    # Control characters are removed (and warned about) before the tag is checked.
    ('language: "en\\x10"', "warning: language: removed control characters (not allowed in "
                            "HTML or XML)"),
    ('timezone: "UTC\\0"', 'unknown timezone "UTC\\u0000" (use a name like "Europe/Paris")'),
    ("timezone: " + "a" * 300, 'unknown timezone "' + "a" * 60 + '…" (use a name like '
                                '"Europe/Paris")'),
    ("theme: " + "t" * 300, "theme has a folder name longer than 255 bytes"),
    ("theme: ../../etc", 'theme must be the name of a folder under themes/, not "../../etc"'),
    ("theme: ''", "theme may not be empty"),
    ("content_dir: " + "c" * 300, "content_dir has a folder name longer than 255 bytes"),
    ('content_dir: "a\\0b"', "content_dir may not hold a NUL character"),
    ('output_dir: "a\\0b"', "output_dir may not hold a NUL character"),
])
def test_other_values_are_checked_with_their_line(tmp_path, line, message):
    text, number = with_line(line)
    assert config_problems(tmp_path, text) == [f"site.yml:{number}: {message}"]


def test_unknown_sub_keys_are_warnings(tmp_path):
    text = (SITE_YML + "permalinks: {article: '/{slug}/', page: '/{slug}/'}\n"
            "entities: {autolnk: 1}\n")
    assert config_problems(tmp_path, text) == [
        'site.yml:5: warning: unknown key "permalinks.page"',
        'site.yml:6: warning: unknown key "entities.autolnk" (did you mean "autolink"?)']


WRONG_VALUES = ["[1, 2]", "null", "true", "1" * 30, "{a: {b: [c]}}", '""', "-1", "2024-01-01",
                "!!binary aGVsbG8=", "!!set {a}", "1.5e3"]
KEYS = ["title", "description", "base_url", "language", "timezone", "theme", "author",
        "publisher", "paginate", "permalinks", "future", "summary_words", "words_per_minute",
        "markdown", "content_dir", "output_dir", "menu", "copyright", "params", "feed",
        "domain", "publish", "entities"]


@pytest.mark.parametrize("key", KEYS)
def test_any_value_of_any_key_gives_problems_not_a_traceback(tmp_path, key):
    for value in WRONG_VALUES:
        (tmp_path / "site.yml").write_text(f"{SITE_YML}{key}: {value}\n")
        try:
            load_config(tmp_path)
        except BuildFailed as failure:
            assert all(p.path == "site.yml" and p.line in (1, 5) for p in failure.problems)
        for sub in ("article", "html", "autolink", "content", "limit", "git", "x"):
            (tmp_path / "site.yml").write_text(f"{SITE_YML}{key}: {{{sub}: {value}}}\n")
            try:
                load_config(tmp_path)
            except BuildFailed as failure:
                assert all(p.path == "site.yml" for p in failure.problems)


@pytest.mark.parametrize("value", ["[1, 2]", "null", "{a: 1}", "1" * 30, "0", "true"])
def test_wrong_values_in_a_real_build_never_give_a_traceback(built, value):
    for key in ("title", "paginate", "language", "theme", "menu", "permalinks",
                "words_per_minute"):
        built.write("site.yml", f"{SITE_YML}{key}: {value}\n")
        try:
            built.build()
        except BuildFailed as failure:
            assert all(p.path == "site.yml" for p in failure.problems), failure.problems


# --- all at once, through the command line ---------------------------------------------


def test_every_broken_file_is_reported_in_one_run_and_the_output_kept(built):
    before = snapshot(built.root / "public")
    deep = "[" * 100_000 + "]" * 100_000
    built.write("content/a.md", article("A", "2024-01-03", weight='!!float "abc"'))
    built.write("content/b.md", article("B", "2024-01-04", count="1" * 4301))
    built.write("content/c.md", b"---\ntitle: C\ndate: 2024-01-05\ndescription: x\x10y\n---\n")
    built.write("content/d.md", b"---\rtitle: D\rdate: 2024-01-06\r---\rBody\r")
    built.write("content/e.md", "---\n" + "\n".join(["title: E", "date: 2024-01-07", *bomb()])
                + "\n---\nBody\n")
    built.write("content/f.md", f"---\ntitle: F\ndate: 2024-01-08\nx: {deep}\n---\nBody\n")
    built.write("content/g.md", article("G", "2024-02-30"))
    built.write("content/entities/h.md", '---\nname: H\nweight: !!int "x"\n---\n')
    built.write("site.yml", SITE_YML + "paramz: {}\nwords_per_minute: 0\n")
    result = postil("build", str(built.root))
    assert result.returncode == 1
    e_text = "\n".join(["title: E", "date: 2024-01-07", *bomb()]) + "\n"
    assert result.stderr.splitlines() == [
        'content/a.md:4: "abc" is not a valid !!float value',
        "content/b.md:4: a number of 4,301 digits is too long (at most 4,300); put it in quotes "
        "to keep it as text",
        'content/c.md:4: control character U+0010 is not allowed in YAML (delete it, or write '
        'it as "\\u0010" inside double quotes)',
        "content/d.md:1: the file has old Mac line endings (CR alone): save it with LF (Unix) "
        "or CRLF (Windows) line endings",
        f"content/e.md:8: {expansion_error(e_text)}",
        "content/entities/h.md:3: \"x\" is not a valid !!int value",
        "content/f.md:4: lists and mappings nested more than 100 deep",
        'content/g.md:3: invalid date: "2024-02-30" is not a date: use YYYY-MM-DD or '
        "YYYY-MM-DD HH:MM[:SS][+HH:MM]",
        'site.yml:5: warning: unknown key "paramz" (did you mean "params"?)',
        "site.yml:6: words_per_minute must be a whole number from 1 to 1,000,000, not 0",
        "build failed: 9 errors, 1 warning; nothing was written",
    ]
    assert snapshot(built.root / "public") == before
