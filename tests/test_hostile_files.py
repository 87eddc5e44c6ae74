"""Hostile and broken files and folders (issue 10): a clear error or a warning every time,
never a traceback or a hang, and the previous output byte-identical after an error."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builder.pipeline import BuildOptions, SiteBuilder, build
from builder.problems import BuildFailed
from builder.slugs import WORD_LIMIT, cut, slugify
from builder.writer import WriteFailed
from conftest import REPO, SITE_YML, article, parse_html, text_of

TIMEOUT = 60


def postil(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The CLI in a new process; a hang fails the test instead of stopping the run."""
    return subprocess.run([sys.executable, "-m", "builder", *args], capture_output=True,
                          text=True, timeout=TIMEOUT,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def everything(folder: Path) -> dict[str, object]:
    """Every entry under ``folder`` (hidden ones too): bytes and mtime of files, folders,
    link targets; or the file itself if ``folder`` is one."""
    if not folder.is_dir():
        return {"": (folder.read_bytes(), folder.stat().st_mtime_ns)}
    found: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            found[name] = ("link", os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            found[name] = "folder"
        else:
            found[name] = (path.read_bytes(), info.st_mtime_ns)
    return found


def published(folder: Path) -> dict[str, bytes]:
    """The site's files in ``folder`` and their bytes, without Postil's own (the manifest)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".postil")}


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


@pytest.fixture
def built(site):
    """A site with one article, built once into public/."""
    site({"content/a.md": article("A", tags="[x]")})
    result = postil("build", str(site.root))
    assert result.returncode == 0, result.stderr
    return site


def fails_leaving_output(site, args: list[str], expected: list[str], output: Path | None = None,
                         env: dict[str, str] | None = None) -> None:
    """``postil build`` exits with 1, prints exactly ``expected`` on stderr, and the output
    folder (or whatever is at its place) is byte-identical afterwards."""
    output = output or site.root / "public"
    before = everything(output)
    result = postil("build", str(site.root), *args, env=env)
    assert (result.returncode, lines(result.stderr)) == (1, expected), result.stderr
    assert "Traceback" not in result.stderr
    assert everything(output) == before


# --- names too long for a file system ------------------------------------------------------

def test_shortened_slugs_are_stable_distinct_and_fit_a_file_name():
    long_a, long_b = "a" * 300, "a" * 299 + "b"
    assert len(slugify(long_a)) == WORD_LIMIT == len(slugify(long_b))
    assert slugify(long_a) != slugify(long_b)
    assert slugify(long_a) == cut("a" * 300) == slugify("A" * 300)  # stable
    assert slugify(long_a).startswith("a" * 70) and slugify(long_a)[-9] == "-"
    assert slugify("word " * 16) == "-".join(["word"] * 16)  # short slugs are as before
    assert slugify("word " * 20) == "-".join(["word"] * 16)  # long ones cut at a word
    assert len(slugify("ä" * 1000)) == WORD_LIMIT


def test_postil_new_with_a_long_title_makes_a_usable_file(site):
    site()
    title = "A very long title " * 30
    result = postil("new", title, str(site.root))
    assert result.returncode == 0, result.stderr
    made = list((site.root / "content").glob("*.md"))
    assert [p.name for p in made] == [
        "a-very-long-title-a-very-long-title-a-very-long-title-a-very-long-title-a-very.md"]
    assert result.stdout.splitlines()[0] == f"wrote {made[0]}"  # (then: it is a draft)
    result = postil("build", str(site.root), "--drafts")
    assert result.returncode == 0, result.stderr
    page = site.root / "public/articles" / made[0].stem / "index.html"
    assert text_of(parse_html(page).find(".//h1")) == title.strip()
    # Again: the same file name, never overwritten.
    result = postil("new", title, str(site.root))
    assert result.returncode == 2 and "exists already; not overwriting it" in result.stderr


def test_postil_new_that_cannot_write_is_one_line(site):
    site()
    (site.root / "content").rmdir()
    (site.root / "content").write_text("a file where a folder should be")
    result = postil("new", "Title", str(site.root))
    assert result.returncode == 2
    assert lines(result.stderr) == [
        f"postil: cannot write {site.root / 'content' / 'title.md'}: "
        f"{site.root / 'content'} is not a folder"]


def test_long_tags_authors_slugs_and_file_names_build(site):
    long = "Long " * 60  # 300 characters
    site({"content/a.md": article("A", tags=f"[{long}]", author=long.strip()),
          f"content/{'f' * 250}.md": article("B"),
          "content/c.md": article("C", slug="s" * 200),
          f"content/entities/{'e' * 250}.md": "---\nname: Ent\ntype: person\n---\n",
          "content/d.md": article("D", entities=f"[{'e' * 250}]")},
         config=SITE_YML + "permalinks: {article: '/{year}/{slug}.html'}\n")
    result = postil("build", str(site.root))
    assert result.returncode == 0, result.stderr
    public = site.root / "public"
    names = [p.relative_to(public).as_posix() for p in public.rglob("*")]
    assert max(len(os.fsencode(part)) for name in names for part in name.split("/")) <= 255
    assert (public / "tags" / slugify(long) / "index.html").is_file()
    assert (public / "authors" / slugify(long) / "feed.xml").is_file()
    assert (public / "2024" / f"{'s' * 200}.html").is_file()
    assert (public / "2024" / f"{slugify('f' * 250)}.annotations.json").is_file()
    assert (public / "entities" / slugify("e" * 250) / "index.html").is_file()


def test_a_slug_given_too_long_is_an_error_on_its_line(built):
    built.write("content/c.md", article("C", slug="S" * 201))
    fails_leaving_output(built, [], [
        "content/c.md:4: slug is 201 characters long; at most 200 (a file name has at most "
        "255 bytes)", "build failed: 1 error; nothing was written"])


# --- the output folder: full, read-only, a file in the way --------------------------------

def test_a_full_disk_is_one_line_and_leaves_the_output(built):
    built.write("content/a.md", article("A", body="Changed."))
    fails_leaving_output(built, [], ["postil: cannot write 'articles/a/index.html': "
                                     "No space left on device"],
                         env={"POSTIL_FAULT": "enospc:1"})


def test_a_file_where_a_folder_should_be(built):
    public = built.root / "public"
    shutil.rmtree(public / "articles")
    (public / "articles").write_text("mine")
    built.write("content/a.md", article("A", body="Changed."))
    fails_leaving_output(built, [], ["postil: cannot write 'articles/a/annotations.json': "
                                     "articles is a file, not a folder"])


def test_a_file_where_the_output_folder_should_be(built):
    shutil.rmtree(built.root / "public")
    (built.root / "public").write_text("mine")
    fails_leaving_output(built, [], [f"postil: {built.root / 'public'} is not a folder"])


def test_an_output_folder_whose_parent_is_a_file(built, tmp_path):
    (tmp_path / "plain").write_text("mine")
    fails_leaving_output(built, ["-o", str(tmp_path / "plain" / "out")],
                         [f"postil: cannot create {tmp_path / 'plain' / 'out'}: Not a directory"],
                         output=tmp_path / "plain")


def test_missing_parents_of_the_output_are_made_and_removed_again_if_it_fails(built, tmp_path):
    out = tmp_path / "new" / "deeper" / "out"
    result = postil("build", str(built.root), "-o", str(out),
                    env={"POSTIL_FAULT": "enospc:3"})
    assert result.returncode == 1 and "No space left on device" in result.stderr
    assert not (tmp_path / "new").exists()
    result = postil("build", str(built.root), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "articles/a/index.html").is_file()


def _read_only(folder: Path) -> list[str] | None:
    """A command prefix that runs with ``folder`` read-only, or None if this machine
    cannot: as root, a read-only bind mount in a new mount namespace; else chmod."""
    if os.geteuid() != 0:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir():
                path.chmod(0o555)
        return []
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-m", "sh", "-c",
                            f"mount --bind '{folder}' '{folder}' && "
                            f"mount -o remount,ro,bind '{folder}' '{folder}'"],
                           capture_output=True)
    if probe.returncode != 0:
        return None
    return ["unshare", "-m", "sh", "-c", f"mount --bind '{folder}' '{folder}' && mount -o "
            f"remount,ro,bind '{folder}' '{folder}' && exec \"$0\" \"$@\""]


def _build_with(prefix: list[str], root: Path) -> subprocess.CompletedProcess:
    """``postil build`` run under ``prefix`` (see :func:`_read_only`); afterwards the
    output's folders are writable again, for pytest to clean up."""
    public = root / "public"
    try:
        return subprocess.run([*prefix, sys.executable, "-m", "builder", "build", str(root)],
                              capture_output=True, text=True, timeout=TIMEOUT,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        for path in [public, *public.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)


def test_a_read_only_output_folder_is_one_line(built):
    public = built.root / "public"
    built.write("content/a.md", article("A", body="Changed."))
    before = everything(public)
    prefix = _read_only(public)
    if prefix is None:
        pytest.skip("no way to make a read-only folder here")
    result = _build_with(prefix, built.root)
    assert result.returncode == 1, result.stderr
    assert lines(result.stderr)[0] in (f"postil: cannot write into {public}: Read-only file "
                                       "system", f"postil: cannot write into {public}: "
                                       "Permission denied")
    assert everything(public) == before


def test_a_read_only_folder_inside_the_output_is_found_before_anything_is_renamed(built):
    """annotations/index.html sorts (and was renamed) before articles/a/index.html."""
    public = built.root / "public"
    built.write("content/a.md", article("A", body="Now {==marked==}."))
    before = everything(public)
    prefix = _read_only(public / "articles")
    if prefix is None:
        pytest.skip("no way to make a read-only folder here")
    result = _build_with(prefix, built.root)
    assert (result.returncode, lines(result.stderr)) == (1, [
        "postil: cannot write 'articles/a/annotations.json': articles/a is read-only (no "
        "permission to write into it)"])
    assert everything(public) == before
    assert postil("build", str(built.root)).returncode == 0


# --- static files with names no host can serve, special files ------------------------------

def test_static_files_a_host_cannot_serve_are_skipped_with_a_warning(built):
    built.write("static/a\\b.css", "a {}")
    built.write("static/c\x01d.txt", "x")
    (built.root / "static").joinpath(os.fsdecode(b"e\xfff.txt")).write_text("x")
    built.write("static/fine.txt", "fine")
    result = postil("build", str(built.root))
    assert result.returncode == 0, result.stderr
    assert lines(result.stderr) == [
        "static/a\\b.css:1: warning: skipped: no web host can serve a file of this name: "
        "it has a backslash, which browsers read as /",
        "static/c\\x01d.txt:1: warning: skipped: no web host can serve a file of this name: "
        "it has a control character",
        "static/e\\xfff.txt:1: warning: skipped: no web host can serve a file of this name: "
        "it has bytes that are not UTF-8"]
    public = built.root / "public"
    assert (public / "fine.txt").read_text() == "fine"
    assert sorted(p.name for p in public.iterdir() if p.suffix in (".css", ".txt")) == [
        "fine.txt", "robots.txt"]
    before = everything(public)
    strict = postil("build", str(built.root), "--strict")
    assert strict.returncode == 1 and "build failed: 0 errors, 3 warnings" in strict.stderr
    assert everything(public) == before


def test_special_files_are_skipped_with_a_warning_and_never_opened(built):
    for name in ("content/x.md", "content/entities/y.md", "static/z.css",
                 "templates/article.html"):
        (built.root / name).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(built.root / name)
    os.symlink(built.root / "content/x.md", built.root / "content/link.md")  # to a FIFO
    result = postil("build", str(built.root))  # a FIFO opened would hang: timeout
    assert result.returncode == 0, result.stderr
    assert sorted(lines(result.stderr)) == [
        "content/entities/y.md:1: warning: skipped: a FIFO, not a regular file",
        "content/link.md:1: warning: skipped: a FIFO, not a regular file",
        "content/x.md:1: warning: skipped: a FIFO, not a regular file",
        "static/z.css:1: warning: skipped: a FIFO, not a regular file",
        "templates/article.html:1: warning: skipped: a FIFO, not a regular file"]
    public = built.root / "public"
    assert text_of(parse_html(public / "articles/a/index.html").find(".//h1")) == "A"
    assert not (public / "z.css").exists() and not (public / "articles/x").exists()


def test_a_socket_in_content_is_skipped(site):
    import socket

    site({"content/a.md": article("A")})
    server = socket.socket(socket.AF_UNIX)
    try:
        os.chdir(site.root / "content")  # a socket path is short: bind by a relative name
        server.bind("s.md")
    finally:
        os.chdir(REPO)
    try:
        result = site.build()
    finally:
        server.close()
    assert [str(w) for w in result.warnings] == [
        "content/s.md:1: warning: skipped: a socket, not a regular file"]


def test_the_preview_server_skips_a_fifo_and_rebuilds_after_it_is_gone(serve, site):
    from test_serve_rebuild import TIMEOUT as WAIT
    from test_serve_rebuild import get, rebuilt_for

    server = serve({"content/a.md": article("A")})
    os.mkfifo(site.root / "content/x.md")
    record = rebuilt_for(server, "content/x.md")[-1]
    assert record.ok and record.problems == [
        "content/x.md:1: warning: skipped: a FIFO, not a regular file"]
    os.unlink(site.root / "content/x.md")
    time.sleep(0.05)
    site.write("content/a.md", article("A2"))
    assert server.live.wait_for(lambda live: live.history[-1].ok and any(
        s.endswith("content/a.md") for s in live.history[-1].sources), WAIT)
    assert server.live.history[-1].problems == []
    status, page = get(server, "/articles/a/")
    assert status == 200 and text_of(parse_html(page).find(".//h1")) == "A2"


# --- entity files whose names give one slug --------------------------------------------------

@pytest.mark.parametrize("first, second", [("Evil.md", "evil.md"), ("a b.md", "a-b.md")])
def test_entity_files_with_the_same_slug_are_an_error_naming_both(built, first, second):
    slug = "evil" if first == "Evil.md" else "a-b"
    built.write(f"content/entities/{first}", "---\nname: One\ntype: person\n---\n")
    built.write(f"content/entities/{second}", "---\nname: Two\ntype: person\n---\n")
    fails_leaving_output(built, [], [
        f'content/entities/{second}:1: duplicate slug "{slug}": content/entities/{first} '
        "has it too", "build failed: 1 error; nothing was written"])


# --- -o into someone's folder, or into the sources ----------------------------------------

def test_a_folder_postil_did_not_make_needs_force(built, tmp_path):
    mine = tmp_path / "mine"
    (mine / "css").mkdir(parents=True)
    (mine / "index.html").write_text("my own page")
    (mine / "css/style.css").write_text("my own style")
    (mine / "robots.txt").write_text("my own robots")
    fails_leaving_output(built, ["-o", str(mine)], [
        f"postil: output folder {mine} holds files Postil did not write (css, index.html, "
        "robots.txt) and no .postil-manifest.json: a build would overwrite those of the same "
        "name as its own. Choose an empty or new folder, or build with --force to write into it "
        "anyway (Postil then removes only files it wrote)"], output=mine)
    (mine / "notes.txt").write_text("kept")
    result = postil("build", str(built.root), "-o", str(mine), "--force")
    assert result.returncode == 0, result.stderr
    assert (mine / "index.html").read_text() != "my own page"
    assert (mine / "notes.txt").read_text() == "kept"
    again = postil("build", str(built.root), "-o", str(mine))  # Postil's folder now
    assert again.returncode == 0, again.stderr


def test_an_empty_folder_or_one_with_postils_leftovers_needs_no_force(built, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    leftovers = tmp_path / "leftovers"
    (leftovers / ".postil-staging-0123456789abcdef").mkdir(parents=True)
    (leftovers / ".postil-lock").write_text("")
    for folder in (empty, leftovers):
        result = postil("build", str(built.root), "-o", str(folder))
        assert result.returncode == 0, result.stderr
        assert (folder / "index.html").is_file()


@pytest.mark.parametrize("where, what", [
    ("templates/out", "lies inside the site's templates/"),
    ("static", "is the site's static/"),
    (".postil-cache/out", "lies inside the site's .postil-cache/"),
    ("content/out", "lies inside the site's content/"),
    ("themes/mine/out", "lies inside the site's themes/"),
    (".", "is the site folder"),
    ("..", "holds the site folder"),
])
def test_the_output_folder_may_not_be_in_the_sources(built, where, what):
    (built.root / "templates").mkdir()
    (built.root / "static").mkdir()
    output = (built.root / where).resolve()
    before = everything(built.root)
    result = postil("build", str(built.root), "-o", str(built.root / where))
    assert (result.returncode, lines(result.stderr)) == (1, [
        f"site.yml:1: output folder {output} (-o) {what}: a build there would overwrite the "
        "site's own files; choose a folder such as public/",
        "build failed: 1 error; nothing was written"])
    assert everything(built.root) == before


def test_output_dir_in_the_sources_is_reported_on_its_line(built):
    built.write("site.yml", SITE_YML + "output_dir: templates/site\n")
    with pytest.raises(BuildFailed) as caught:
        built.build()
    assert [str(p) for p in caught.value.problems] == [
        f"site.yml:5: output folder {built.root / 'templates/site'} (output_dir) lies inside "
        "the site's templates/: a build there would overwrite the site's own files; choose a "
        "folder such as public/"]


def test_the_api_refuses_a_foreign_folder_too(site, tmp_path):
    site({"content/a.md": article("A")})
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "index.html").write_text("theirs")
    with pytest.raises(WriteFailed, match="build with --force"):
        build(site.root, BuildOptions(output=tmp_path / "theirs"))
    assert (tmp_path / "theirs" / "index.html").read_text() == "theirs"
    build(site.root, BuildOptions(output=tmp_path / "theirs", force=True))


# --- cache entries of the wrong shape ---------------------------------------------------------

WRONG = [7, None, "x", [], {}, [1, 2], {"!tuple": []}, {"!nope": 1}, [[["deep"]]]]


def _cached_site(site) -> Path:
    site({"content/a.md": article("A", "2024-05-01 10:00", tags="[x]", entities="[ent]",
                                  events='[{date: "2024-05", text: "It began", entities: [ent]}]',
                                  body="About [[Ent]].\n\n## A heading\n\nText."),
          "content/b.md": article("B", date="2024-05-02", tags="[x]"),
          "content/entities/ent.md": "---\nname: Ent\ntype: person\n---\nNotes on [[A]].\n",
          "content/entities/ev.md": "---\nname: Ev\ntype: event\ndate: 2024-05-03\n---\n"},
         config=SITE_YML + "entities: {autolink: true}\n")
    return site.root


def _set_every(database: Path, table: str, column: str, value: object) -> int:
    db = sqlite3.connect(database)
    try:
        raw = json.dumps(value)
        stored = raw.encode() if table in ("entries", "entities") else raw
        count = db.execute(f"UPDATE {table} SET {column} = ?", (stored,)).rowcount
        db.commit()
        return count
    finally:
        db.close()


@pytest.mark.parametrize("table, column", [("entries", "value"), ("entities", "value"),
                                           ("memos", "value"), ("builds", "stamp"),
                                           ("builds", "sources")])
def test_cache_entries_of_the_wrong_shape_are_misses(site, tmp_path, table, column):
    root = _cached_site(site)
    cold = tmp_path / "cold"
    assert postil("build", str(root), "-o", str(cold)).returncode == 0
    expected = published(cold)
    time.sleep(2.1)  # past builder.state.RACY_SECONDS: the next build records its stamp
    out = tmp_path / "out"
    assert postil("build", str(root), "-o", str(out)).returncode == 0
    cache = root / ".postil-cache"
    database = cache / ("articles.sqlite3" if table == "entries" else "build.sqlite3")
    saved = tmp_path / "saved-cache"
    shutil.copytree(cache, saved)
    for value in WRONG:
        shutil.rmtree(cache)
        shutil.copytree(saved, cache)
        assert _set_every(database, table, column, value) > 0
        if table != "builds":  # else a no-change build stops before reading the cache
            _set_every(cache / "build.sqlite3", "builds", "stamp", None)
        shutil.rmtree(out)
        # In this process (a subprocess per value costs seconds): any exception fails.
        build(root, BuildOptions(output=out, explain="/articles/a/"))
        assert published(out) == expected, value


def test_a_stamp_naming_roots_of_the_wrong_type_is_no_stamp(site):
    from builder import state

    root = _cached_site(site)
    time.sleep(2.1)
    assert postil("build", str(root)).returncode == 0
    database = root / ".postil-cache" / "build.sqlite3"
    db = sqlite3.connect(database)
    (key, raw), = db.execute("SELECT condition, stamp FROM builds").fetchall()
    stamp = json.loads(raw)
    stamp["roots"] = [{"!tuple": []}, 7]
    db.execute("UPDATE builds SET stamp = ?", (json.dumps(stamp),))
    db.commit()
    db.close()
    assert state.unchanged(root, key) is None
    result = postil("build", str(root))
    assert result.returncode == 0 and "Traceback" not in result.stderr


def test_a_long_lived_builder_survives_a_fifo_that_replaced_an_article(site):
    site({"content/a.md": article("A"), "content/b.md": article("B", date="2024-05-02")})
    builder = SiteBuilder(site.root, BuildOptions(write=False))
    assert len(builder.build().site.articles) == 2
    os.unlink(site.root / "content/b.md")
    os.mkfifo(site.root / "content/b.md")
    result = builder.build()
    assert [a.title for a in result.site.articles] == ["A"]
    assert [str(w) for w in result.warnings] == [
        "content/b.md:1: warning: skipped: a FIFO, not a regular file"]
    os.unlink(site.root / "content/b.md")
    site.write("content/b.md", article("B2", date="2024-05-02"))
    assert [a.title for a in builder.build().site.articles] == ["B2", "A"]


def test_a_site_folder_name_too_long_is_a_usage_error(tmp_path):
    folder = tmp_path / ("a" * 300)
    for args, message in [
            (["build", str(folder)], f"postil: no site.yml in {folder} (run 'postil init DIR' "
                                     "to make a site)"),
            (["new", "T", str(folder)], f"postil: no site.yml in {folder}: run 'postil init "
                                        "DIR' first"),
            (["init", str(folder)], f"postil: cannot write into {folder}: File name too long")]:
        result = postil(*args)
        assert (result.returncode, lines(result.stderr)) == (2, [message])


def _damage_articles(database: Path, damage) -> None:
    from builder.cache import CODEC, encode_entry

    db = sqlite3.connect(database)
    for key, value in db.execute("SELECT key, value FROM entries").fetchall():
        record, problems = CODEC.decode(value)[3]
        if record is not None and record.title == "A":
            db.execute("UPDATE entries SET value = ? WHERE key = ?",
                       (encode_entry(key, (damage(record), problems)), key))
    db.commit()
    db.close()


def _damage_entities(database: Path, damage) -> None:
    from builder.cache import CODEC

    db = sqlite3.connect(database)
    for name, value in db.execute("SELECT name, value FROM entities").fetchall():
        code, stored = CODEC.decode(value)
        if name.startswith("file:") and stored[1][0] is not None:
            key, (record, problems) = stored
            db.execute("UPDATE entities SET value = ? WHERE name = ?",
                       (CODEC.encode([code, (key, (damage(record), problems))]), name))
    db.execute("UPDATE builds SET stamp = 'null'")
    db.commit()
    db.close()


@pytest.mark.parametrize("damage", [
    "heading without its id", "event with a date of another type", "time without its zone",
    "entity date of another type"])
def test_cached_records_of_a_shape_the_reader_never_makes_are_misses(site, tmp_path, damage):
    """Fields the codec cannot check by their annotation (``Any`` inside) are checked."""
    from dataclasses import replace

    root = _cached_site(site)
    cold = tmp_path / "cold"
    assert postil("build", str(root), "-o", str(cold)).returncode == 0
    cache = root / ".postil-cache"
    if damage == "entity date of another type":
        _damage_entities(cache / "build.sqlite3", lambda r: replace(r, date={"y": 2024}))
    else:
        _damage_articles(cache / "articles.sqlite3", {
            "heading without its id": lambda r: replace(r, headings=[{"level": 2}] * 3),
            "event with a date of another type": lambda r: replace(
                r, events=[{**r.events[0], "date": "2024-05"}]),
            "time without its zone": lambda r: replace(
                r, datetime=r.datetime.replace(tzinfo=None)),
        }[damage])
        _set_every(cache / "build.sqlite3", "builds", "stamp", None)
    out = tmp_path / "out"
    result = postil("build", str(root), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert published(out) == published(cold)


def test_links_to_files_outside_the_site_are_skipped_and_never_published(built, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0:the secret\n", encoding="utf-8")
    (outside / "out.md").write_text(article("Outside", body="The secret article."),
                                    encoding="utf-8")
    (outside / "ent.md").write_text("---\nname: Secret Ent\ntype: person\n---\nSecret.\n",
                                    encoding="utf-8")
    (built.root / "static").mkdir(exist_ok=True)
    os.symlink(outside / "secret.txt", built.root / "static/passwd.txt")
    os.symlink(outside / "out.md", built.root / "content/out.md")
    (built.root / "content/entities").mkdir(exist_ok=True)
    os.symlink(outside / "ent.md", built.root / "content/entities/secret.md")
    # A link that stays inside the site folder is followed as before.
    built.write("notes/inside.md", article("Inside", body="Kept."))
    os.symlink(built.root / "notes/inside.md", built.root / "content/inside.md")
    result = postil("build", str(built.root))
    assert result.returncode == 0, result.stderr
    why = "warning: skipped: a symbolic link to a file outside the site folder"
    assert sorted(lines(result.stderr)) == [f"content/entities/secret.md:1: {why}",
                                            f"content/out.md:1: {why}",
                                            f"static/passwd.txt:1: {why}"]
    files = published(built.root / "public")
    assert "passwd.txt" not in files and "articles/out/index.html" not in files
    assert not any(b"secret" in data.lower() for data in files.values())
    assert text_of(parse_html(files["articles/inside/index.html"]).find(".//h1")) == "Inside"


def test_a_site_folder_whose_name_is_not_utf8_builds_and_stops_early_next_time(tmp_path):
    """A folder name of stray bytes (an old archive's, or a Windows share's) reaches the
    build state's key and the databases' file names: no traceback, and the no-change
    build after it finds its stamp."""
    root = Path(os.fsdecode(bytes(tmp_path) + b"/s\xffite"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    made = subprocess.run([sys.executable, "-m", "builder", "init", root], env=env,
                          capture_output=True, text=True, errors="replace")
    assert made.returncode == 0, made.stderr
    runs = [subprocess.run([sys.executable, "-m", "builder", "build", root], env=env,
                           capture_output=True, text=True, errors="replace")
            for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert "Traceback" not in runs[0].stderr + runs[1].stderr
    assert " 0 rendered, 0 written" in runs[1].stdout
    assert {p.name for p in (root / ".postil-cache").iterdir()} >= {"build.sqlite3",
                                                                    "articles.sqlite3"}
