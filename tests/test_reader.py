from datetime import date

from builder.reader import ReadSettings, read_article
from conftest import article

SETTINGS = ReadSettings()


def read(text, path="content/a.md", settings=SETTINGS):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return read_article(path, raw, settings)


def messages(problems):
    return [str(p) for p in problems]


def test_front_matter_becomes_an_article():
    text = article("Zürich notes", "2024-02-29", "First *para*.\n\nSecond.",
                   authors="[Ann, Bo]", tags="LeT, news", source="https://example.com/x",
                   publication="The Paper", lang="de", mood="curious")
    found, problems = read(text, "content/Zürich Notes.md")
    assert problems == []
    assert found.title == "Zürich notes" and found.date == date(2024, 2, 29)
    assert found.slug == "zurich-notes"
    assert found.authors == ["Ann", "Bo"] and found.tags == ["LeT", "news"]
    assert found.summary == "First para."
    assert found.extra == {"mood": "curious"}
    assert found.source_url == "https://example.com/x" and found.lang == "de"
    assert "<em>para</em>" in found.body_html


def test_slug_from_front_matter_is_made_safe():
    found, _ = read(article(slug="../../etc/passwd"))
    assert found.slug == "etc-passwd"


def test_without_title_and_date_a_note_takes_its_file_name_and_waits_for_a_file_date():
    found, problems = read("---\nauthor: X\n---\nBody\n", "content/My Note.md")
    assert problems == []
    assert (found.title, found.slug, found.dated_by) == ("My Note", "my-note", "file")


def test_invalid_values_report_their_own_lines():
    text = "---\ntitle: T\ndate: someday\ntags: {a: 1}\ndraft: maybe\n---\nx\n"
    found, problems = read(text)
    assert found is None
    assert messages(problems) == [
        'content/a.md:3: invalid date: "someday" is not a date: use YYYY-MM-DD or '
        "YYYY-MM-DD HH:MM[:SS][+HH:MM]",
        "content/a.md:4: tags must be a list (or a comma-separated string)",
        "content/a.md:5: draft must be true or false",
    ]


def test_yaml_error_points_into_the_file():
    _, problems = read("---\ntitle: T\ndate: 2024-01-01\ntags: [a, b\nauthor: X\n---\n")
    assert messages(problems)[0].startswith("content/a.md:5: invalid YAML: ")


def test_non_utf8_file_names_the_line():
    _, problems = read(b"---\ntitle: T\ndate: 2024-01-01\n---\ncaf\xe9\n")
    assert messages(problems) == [
        "content/a.md:5: not valid UTF-8 (byte 0xe9); save the file as UTF-8"]


def test_summary_is_truncated_first_paragraph():
    body = " ".join(f"w{i}" for i in range(100))
    found, _ = read(article(body=body), settings=ReadSettings(summary_words=5))
    assert found.summary == "w0 w1 w2 w3 w4…"


def test_datetime_without_offset_uses_site_zone():
    found, _ = read(article(date="2024-05-01 23:30"), settings=ReadSettings(timezone="Asia/Tokyo"))
    assert found.date == date(2024, 5, 1)
    assert found.iso_date == "2024-05-01T23:30:00+09:00"
