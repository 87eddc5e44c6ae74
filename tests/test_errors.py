"""Bad input: every problem as path:line: message, in one run; old output untouched."""

import pytest

from builder.problems import BuildFailed
from conftest import article, fails_with, snapshot


def test_broken_yaml(built):
    built.write("content/good.md", "---\ntitle: Good\ndate: 2024-01-01\ntags: [a\n---\nx\n")
    fails_with(built, "content/good.md:5: invalid YAML: did not find expected ',' or ']' "
                      "(while parsing a flow sequence that starts on line 4)")


def test_an_empty_title_and_an_impossible_file_name_date(built):
    built.write("content/good.md", "---\ntitle: ''\ntags: [a]\n---\nx\n")
    built.write("content/2024-02-30-x.md", "---\ntitle: X\n---\nx\n")
    fails_with(built, 'content/2024-02-30-x.md:1: the date in the file name, "2024-02-30", is '
                      "not a day of the calendar: rename the file, or give a date in the front "
                      "matter",
               "content/good.md:2: title is empty")


def test_invalid_date_and_non_list(built):
    built.write("content/good.md", article("Good", "2024-02-30", authors="{name: x}"))
    fails_with(built,
               'content/good.md:3: invalid date: "2024-02-30" is not a date: use YYYY-MM-DD or '
               "YYYY-MM-DD HH:MM[:SS][+HH:MM]",
               "content/good.md:4: authors must be a list (or a comma-separated string)")


def test_duplicate_slugs_name_both_files(built):
    built.write("content/sub/good.md", article("Another good", "2024-03-01"))
    hint = (' (give one a slug:, or set permalinks: {article: "/{path}/"} in site.yml for '
            "URLs that follow the folders)")
    fails_with(built, 'content/sub/good.md:1: duplicate slug "good": content/good.md has it '
               "too" + hint)
    built.write("content/sub/good.md", article("Another good", "2024-03-01", slug="other"))
    fails_with(built, 'content/sub/good.md:4: duplicate slug "other": content/other.md has it '
               "too" + hint)


def test_non_utf8_file(built):
    built.write("content/latin1.md", b"---\ntitle: Caf\xe9\ndate: 2024-01-01\n---\n")
    fails_with(built, "content/latin1.md:2: not valid UTF-8 (byte 0xe9); save the file as UTF-8")


def test_unreadable_file(built):
    # A link to a file that is gone cannot be read, even by root.
    (built.root / "content/gone.md").symlink_to(built.root / "nowhere.md")
    fails_with(built, "content/gone.md:1: cannot read: No such file or directory")


def test_template_that_does_not_exist(built):
    built.write("content/good.md", article("Good", "2024-01-01", template="fancy.html"))
    fails_with(built, 'content/good.md:4: template "fancy.html" not found')


def test_template_syntax_error_has_template_line(built):
    built.write("templates/article.html", '{% extends "base.html" %}\n{% block main %}\n'
                "{{ article.title }\n{% endblock %}\n")
    fails_with(built, "templates/article.html:3: template syntax error: unexpected '}'")


def test_template_runtime_error_has_template_line(built):
    built.write("templates/article.html", '{% extends "base.html" %}\n{% block main %}\n'
                "<p>{{ article.title }}</p>\n{{ 1 // 0 }}\n{% endblock %}\n")
    with pytest.raises(BuildFailed) as caught:
        built.build()
    [problem] = caught.value.problems
    assert problem.path == "templates/article.html" and problem.line == 4
    assert problem.message.startswith("ZeroDivisionError: integer division or modulo by zero")


def test_link_to_a_missing_article(built):
    built.write("content/other.md", article("Other", "2024-01-02",
                                            body="Intro.\n\nSee [it](gooood.md)."))
    fails_with(built, 'content/other.md:7: link to "content/gooood.md": does not exist '
                      '(did you mean "content/good.md"?)')


def test_unknown_theme(built):
    built.write("site.yml", "title: T\nbase_url: https://example.org/\ntheme: nope\n")
    fails_with(built, 'site.yml:1: theme "nope" not found in themes/ or the built-in themes')


def test_every_problem_of_every_file_in_one_run(built):
    built.write("content/good.md", "---\ntitle: [\n---\n")
    built.write("content/other.md", "---\ndate: 2024-01-01\ntitle: ''\n---\n")
    built.write("content/third.md", article("Third", "someday"))
    before = snapshot(built.root / "public")
    with pytest.raises(BuildFailed) as caught:
        built.build()
    assert [(p.path, p.line) for p in caught.value.problems] == [
        ("content/good.md", 3), ("content/other.md", 3), ("content/third.md", 3)]
    assert snapshot(built.root / "public") == before


def test_strict_turns_warnings_into_errors(built):
    built.write("site.yml", "title: T\nbase_url: https://example.org/\ncolour: red\n")
    assert [str(w) for w in built.build().warnings] == [
        'site.yml:3: warning: unknown key "colour"']
    before = snapshot(built.root / "public")
    with pytest.raises(BuildFailed):
        built.build(strict=True)
    assert snapshot(built.root / "public") == before


def test_output_folder_may_not_hold_the_sources(built):
    with pytest.raises(BuildFailed) as caught:
        built.build(output=built.root)
    assert "would overwrite the site's own files" in str(caught.value)


def test_reading_linking_and_template_problems_in_one_run(built):
    """A build that fails before rendering still reports its templates' problems: a
    template an article names that is missing, a syntax error in a template a page
    uses, and a template included by another that is missing (at the include's line).
    A broken template no page reaches is not reported, as a successful build ignores it.
    """
    built.write("content/good.md", article("Good", "someday"))
    built.write("content/other.md", article("Other", "2024-01-02", template="fancy.html",
                                            body="See [[Nowhere]]."))
    built.write("content/third.md", article("Third", "2024-01-03", template="mine.html"))
    built.write("templates/mine.html", '{% extends "base.html" %}\n{% block main %}\n'
                '{% include "part.html" ignore missing %}\n{% include "gone.html" %}\n'
                "{% endblock %}\n")
    built.write("templates/index.html", "{{ oops }\n")
    built.write("templates/unused.html", "{{ oops }\n")
    before = snapshot(built.root / "public")
    with pytest.raises(BuildFailed) as caught:
        built.build()
    assert sorted(str(p) for p in caught.value.problems) == sorted([
        'content/good.md:3: invalid date: "someday" is not a date: use YYYY-MM-DD or '
        "YYYY-MM-DD HH:MM[:SS][+HH:MM]",
        'content/other.md:6: unknown entity or article "Nowhere"',
        'content/other.md:4: template "fancy.html" not found',
        'templates/mine.html:4: template "gone.html" not found',
        "templates/index.html:1: template syntax error: unexpected '}'"])
    assert snapshot(built.root / "public") == before


def test_a_link_to_a_file_with_errors_of_its_own_says_so(site):
    """Not "does not exist": the file is there, and its own error is in the same list."""
    site({"content/broken.md": article("Broken", date="2024-13-01"),
          "content/a.md": article("A", body="[b](broken.md) [[Broken]]")})
    fails_with(site,
               'content/a.md:5: link to "content/broken.md": has errors of its own, so it is '
               "not built",
               'content/a.md:5: wikilink "Broken" names content/broken.md, which has errors of '
               "its own, so it is not built",
               'content/broken.md:3: invalid date: "2024-13-01" is not a date: use YYYY-MM-DD '
               "or YYYY-MM-DD HH:MM[:SS][+HH:MM]")
