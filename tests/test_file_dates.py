"""Dates and titles from the file (issue 11): the date of a ``YYYY-MM-DD-`` file-name
prefix, the file name as a missing title, and, for a note with no date anywhere, its last
git commit or its modification time, as inputs the rebuild logic records."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from builder import state
from builder.cli import main
from builder.pipeline import BuildOptions, SiteBuilder
from builder.reader import ReadSettings, read_article
from conftest import SITE_YML, article, cold_files, is_delta, output_files, replace_once

SETTINGS = ReadSettings()
JAN = int(datetime(2021, 1, 15, 12, 0, tzinfo=UTC).timestamp())
MAR = int(datetime(2022, 3, 4, 5, 6, 7, tzinfo=UTC).timestamp())


def read(path: str, text: str):
    record, problems = read_article(path, text.encode(), SETTINGS)
    return record, [str(p) for p in problems]


def test_jekyll_file_name_gives_date_and_slug_and_front_matter_date_wins():
    record, problems = read("content/_posts/2013-05-06-jekyll-1-0-0-released.markdown",
                            '---\ntitle: "Jekyll 1.0.0 Released"\n'
                            'date: "2013-05-06 02:12:52 +0200"\n---\nx\n')
    assert problems == []
    assert record.slug == "jekyll-1-0-0-released" and record.date == date(2013, 5, 6)
    assert record.iso_date == "2013-05-06T02:12:52+02:00" and record.dated_by == ""
    record, _ = read("content/2013-05-06-a.md", "---\ntitle: A\ndate: 2013-05-07\n---\nx\n")
    assert (record.date, record.slug) == (date(2013, 5, 7), "a")


def test_a_note_without_title_or_date_takes_both_from_its_name():
    record, problems = read("content/notes/2024-01-02-Hello, Wörld.md", "---\ntags: [a]\n---\n")
    assert problems == []
    assert (record.title, record.slug, record.date, record.datetime, record.dated_by) == (
        "Hello, Wörld", "hello-world", date(2024, 1, 2), None, "name")


def test_a_daily_note_named_by_its_date():
    record, problems = read("content/journal/2024-03-09.md", "---\ntags: [day]\n---\nx\n")
    assert problems == []
    assert (record.title, record.slug, record.date, record.dated_by) == (
        "2024-03-09", "2024-03-09", date(2024, 3, 9), "name")


def test_a_note_with_no_date_anywhere_waits_for_its_file_date():
    record, problems = read("content/Idea.md", "---\ntitle: An idea\n---\nx\n")
    assert problems == [] and record.dated_by == "file" and record.title == "An idea"


def git(root: Path, *args: str, when: int | None = None) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    subprocess.run(["git", "-C", str(root), "-c", "user.name=T", "-c", "user.email=t@example.org",
                    *args], check=True, capture_output=True, env=env)


NOTE = "---\ntitle: Note\n---\nBody of the note.\n"


def dates_of(result) -> dict[str, tuple[str, str]]:
    return {a.source: (a.iso_date, a.dated_by) for a in result.site.articles}


def test_outside_git_the_modification_time(site):
    root = site({"content/note.md": NOTE, "content/dated.md": article("D", "2020-01-01")})
    os.utime(root / "content/note.md", (JAN, JAN))
    result = site.build(write=False)
    assert dates_of(result) == {"content/note.md": ("2021-01-15T12:00:00+00:00", "mtime"),
                                "content/dated.md": ("2020-01-01", "")}
    page = result.files["articles/note/index.html"].decode()
    assert 'datetime="2021-01-15T12:00:00+00:00"' in page


def test_in_git_the_last_commit_and_uncommitted_files_their_time(site, tmp_path):
    root = site({"content/note.md": NOTE, "content/other.md": "---\ntitle: O\n---\nx\n"})
    git(root, "init", "-q")
    git(root, "add", "content/note.md", "site.yml")
    git(root, "commit", "-qm", "one", when=JAN)
    os.utime(root / "content/other.md", (MAR, MAR))
    result = site.build(write=False)
    assert dates_of(result) == {"content/note.md": ("2021-01-15T12:00:00+00:00", "git"),
                                "content/other.md": ("2022-03-04T05:06:07+00:00", "mtime")}
    # A later commit of the note; an edit left uncommitted keeps the commit's date.
    (root / "content/note.md").write_text(NOTE + "More.\n", encoding="utf-8")
    git(root, "commit", "-qam", "two", when=MAR)
    (root / "content/note.md").write_text(NOTE + "More, uncommitted.\n", encoding="utf-8")
    result = site.build(write=False)
    assert dates_of(result)["content/note.md"] == ("2022-03-04T05:06:07+00:00", "git")


def test_a_site_in_a_subfolder_of_the_repository(site, tmp_path):
    root = site({"content/note.md": NOTE})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "one", when=JAN)
    assert dates_of(site.build(write=False)) == {
        "content/note.md": ("2021-01-15T12:00:00+00:00", "git")}
    assert root.parent == tmp_path


def test_a_new_commit_or_a_touch_rebuilds_what_shows_the_date_exactly(site, monkeypatch):
    monkeypatch.setattr(state, "RACY_SECONDS", 0.0)
    root = site({"content/note.md": NOTE, "content/b.md": article("B", "2020-01-01")})
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "one", when=JAN)
    out = root / "public"
    key = state.condition(root, None, None, False, False)
    first = site.build()
    assert state.unchanged(root, key) is not None  # nothing changed: a build may stop early
    git(root, "commit", "-q", "--allow-empty", "-m", "empty")  # no file changes: same dates
    assert state.unchanged(root, key) is None  # …but the state said to look again
    (root / "content/note.md").write_text(NOTE + "Edited.\n", encoding="utf-8")
    git(root, "commit", "-qam", "two", when=MAR)
    second = site.build()  # a new process's build, with the cache and the output folder
    assert "articles/note/index.html" in second.rendered and "index.html" in second.rendered
    assert second.sources["content/note.md"] != first.sources["content/note.md"]
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and p.name != ".postil-manifest.json"} == \
        {name: data for name, data in cold_files(root).items()}
    # Outside git again, a touch moves the date: the same builder sees it.
    builder = SiteBuilder(root, BuildOptions(write=False, jobs=1))
    (root / ".git").rename(root / "git-was-here")
    os.utime(root / "content/note.md", (JAN, JAN))
    built = output_files(builder.build())
    assert b'datetime="2021-01-15T12:00:00+00:00"' in built["articles/note/index.html"]
    os.utime(root / "content/note.md", (MAR, MAR))
    assert output_files(builder.build()) == cold_files(root)


def test_a_delta_build_keeps_git_dates_and_refuses_after_a_commit(site):
    root = site({"content/note.md": NOTE, "content/idea.md": "---\ntitle: Idea\n---\nx\n",
                 "content/b.md": article("B", "2020-01-01")})
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "one", when=JAN)
    builder = SiteBuilder(root, BuildOptions(write=False, jobs=1, delta=True))
    builder.build()
    saved = replace_once(root, "content/note.md", "Body of", "The body of")
    result = builder.build(saved=[saved])
    assert is_delta(result) and output_files(result) == cold_files(root)
    # A commit of another note moves its date: a delta build of the saved one would miss it.
    (root / "content/idea.md").write_text("---\ntitle: Idea\n---\ny\n", encoding="utf-8")
    git(root, "commit", "-qm", "two", "content/idea.md", when=MAR)
    saved = replace_once(root, "content/note.md", "The body", "And the body")
    result = builder.build(saved=[saved])
    assert not is_delta(result) and output_files(result) == cold_files(root)
    assert dates_of(result)["content/idea.md"] == ("2022-03-04T05:06:07+00:00", "git")


def test_a_delta_build_of_an_mtime_dated_note_is_a_full_one(site):
    root = site({"content/note.md": NOTE, "content/b.md": article("B", "2020-01-01")})
    builder = SiteBuilder(root, BuildOptions(write=False, jobs=1, delta=True))
    builder.build()
    saved = replace_once(root, "content/note.md", "Body of", "The body of")
    os.utime(saved, (MAR, MAR))
    result = builder.build(saved=[saved])
    assert not is_delta(result) and output_files(result) == cold_files(root)


def test_check_lists_the_articles_dated_by_their_file(site, capsys):
    root = site({"content/note.md": NOTE, "content/other.md": "---\ntitle: O\n---\nx\n",
                 "content/2020-02-02-named.md": "---\ntitle: N\n---\nx\n",
                 "content/dated.md": article("D", "2020-01-01")})
    git(root, "init", "-q")
    git(root, "add", "content/note.md")
    git(root, "commit", "-qm", "one", when=JAN)
    os.utime(root / "content/other.md", (MAR, MAR))
    assert main(["check", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        "2 articles with no date in the front matter or the file name, dated by git or the "
        "file's time:",
        "  content/note.md: 2021-01-15T12:00:00+00:00 (last git commit)",
        "  content/other.md: 2022-03-04T05:06:07+00:00 (modification time)"]
    assert out[3].startswith("ok: 4 articles")


@pytest.mark.parametrize("config", [SITE_YML.replace("UTC", "Asia/Karachi")])
def test_file_dates_are_shown_in_the_site_time_zone(site, config):
    root = site({"content/note.md": NOTE}, config=config)
    os.utime(root / "content/note.md", (JAN, JAN))
    assert dates_of(site.build(write=False)) == {
        "content/note.md": ("2021-01-15T17:00:00+05:00", "mtime")}


def test_a_jekyll_date_with_the_year_repeated_is_read_with_a_warning():
    record, problems = read("content/2023-01-29-x.md", '---\ntitle: X\n'
                            'date: 2023-01-29 18:30:22 2023 -0800\n---\nx\n')
    assert record.iso_date == "2023-01-29T18:30:22-08:00"
    assert problems == ['content/2023-01-29-x.md:3: warning: date "2023-01-29 18:30:22 2023 '
                        '-0800" read as "2023-01-29 18:30:22 -0800" (the year again is left '
                        "out): write it so"]
    _, problems = read("content/x.md", "---\ntitle: X\ndate: 2023-01-29 18:30:22 2022 -0800\n"
                       "---\nx\n")
    assert problems[0].startswith('content/x.md:3: invalid date: "2023-01-29 18:30:22 2022')


JEKYLL = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "jekyll-posts"


@pytest.mark.skipif(not JEKYLL.is_dir(), reason="the shared corpora are not here")
def test_every_jekyll_post_reads_with_its_file_name_date_and_slug():
    names = sorted(p.name for p in JEKYLL.iterdir() if p.suffix in (".md", ".markdown"))
    assert len(names) == 102
    named = 0
    for name in names:
        record, problems = read_article(f"content/_posts/{name}", (JEKYLL / name).read_bytes(),
                                        SETTINGS)
        assert record is not None and not [p for p in problems if not p.warning], name
        stem = name.rsplit(".", 1)[0]
        if "date" not in record.lines:  # (else the front matter's wins: 9 posts differ)
            named += 1
            assert (record.date.isoformat(), record.dated_by) == (stem[:10], "name"), name
        assert record.slug == stem[11:].lower().replace(".", "-"), name
    assert named == 3
    record, _ = read_article("content/_posts/2013-05-06-jekyll-1-0-0-released.markdown",
                             (JEKYLL / "2013-05-06-jekyll-1-0-0-released.markdown").read_bytes(),
                             SETTINGS)
    assert (record.title, record.iso_date) == ("Jekyll 1.0.0 Released",
                                               "2013-05-06T02:12:52+02:00")
