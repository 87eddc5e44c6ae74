"""What a new user who tries odd input meets in the first hour (issue 14): ``postil new``
with names the front matter or a wikilink cannot hold, a site with its own
``content_dir``, and ``postil publish`` with a kept path that clashes with a built one,
``-q`` with rsync, and a base_url of this machine in a short IPv4 form."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_publish_git import clone, git

from builder.cli import main
from builder.publish.command import is_local_host
from conftest import article

#: every test commits as a known committer, with no user git configuration
pytestmark = pytest.mark.usefixtures("git_identity")

CONFIG = "title: T\nbase_url: https://example.org/\n"


def run(capsys, *args: str) -> tuple[int, list[str], list[str]]:
    """``postil ARGS`` in this process: (exit code, stdout lines, stderr lines)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


# --- postil new -----------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["Bell\x07 here"], "postil: the title holds the control character U+0007, which front "
                         "matter cannot hold"),
    (["--entity", "Ent\x01ity"], "postil: the name holds the control character U+0001, "
                                 "which front matter cannot hold"),
    (["del\x7f"], "postil: the title holds the control character U+007F, which front matter "
                  "cannot hold"),
    (["x\uffff"], "postil: the title holds the character U+FFFF, which front matter cannot "
                  "hold"),
    (["--entity", "x\ufffe"], "postil: the name holds the character U+FFFE, which front "
                              "matter cannot hold"),
    # Bytes that are not UTF-8 on the command line reach Python as lone surrogates.
    (["\udcff\udcfe bad"], "postil: the title is not valid UTF-8 (is the terminal set to "
                           "another encoding?)"),
    (["--entity", "\udcff x"], "postil: the name is not valid UTF-8 (is the terminal set to "
                               "another encoding?)"),
])
def test_new_refuses_what_front_matter_cannot_hold(site, capsys, args, message):
    """Once, a file the next build rejected (or a traceback and an empty file)."""
    site({"content/a.md": article("A")}, config=CONFIG)
    before = files_under(site.root)
    code, out, err = run(capsys, "new", *args, str(site.root))
    assert (code, out, err) == (2, [], [message])
    assert files_under(site.root) == before


def test_new_keeps_white_space_in_a_title(site, capsys):
    site({}, config=CONFIG)
    code, _, err = run(capsys, "new", "Tab\there\nand a line", str(site.root))
    assert code == 0 and err == []
    assert run(capsys, "build", str(site.root), "--drafts", "-q")[0] == 0


def test_new_entity_whose_name_a_wikilink_cannot_hold_is_mentioned_by_slug(site, capsys):
    site({}, config=CONFIG)
    code, out, _ = run(capsys, "new", "--entity", 'Act #2 | "Part" [x]', str(site.root))
    assert code == 0
    assert out[-1] == "mention it in an article as [[act-2-part-x]]"
    code, out, _ = run(capsys, "new", "--entity", "O'Brien & Co.", str(site.root))
    assert out[-1] == "mention it in an article as [[O'Brien & Co.]]"
    # The mentions printed work, as printed.
    site.write("content/a.md", article("A", body="[[act-2-part-x]] and [[O'Brien & Co.]]."))
    code, _, err = run(capsys, "build", str(site.root), "-q")
    assert code == 0, err
    page = (site.root / "public/articles/a/index.html").read_text()
    assert 'href="../../entities/act-2-part-x/"' in page
    assert 'href="../../entities/obrien-co/"' in page


def test_new_entity_refuses_a_name_another_entity_claims(site, capsys):
    """Coleridge is an alias of an entity: a second one would stop the build."""
    site({"content/entities/samuel-taylor-coleridge.md":
          "---\nname: Samuel Taylor Coleridge\naliases: [Coleridge]\n---\n"}, config=CONFIG)
    for name in ("Coleridge", "COLERIDGE"):
        code, _, err = run(capsys, "new", "--entity", name, "--type", "person",
                           str(site.root))
        assert code == 2 and err == [
            'postil: content/entities/samuel-taylor-coleridge.md ("Samuel Taylor Coleridge") '
            f'has "{name}" as its name or an alias already: mention it as [[{name}]]'], err
    assert files_under(site.root / "content") == {"entities/samuel-taylor-coleridge.md"}
    code, _, _ = run(capsys, "new", "--entity", "S. T. Coleridge", str(site.root))
    assert code == 0 and run(capsys, "build", str(site.root), "-q")[0] == 0


def test_new_writes_into_the_sites_content_dir(site, capsys):
    """Not content/, which the build of such a site never reads."""
    site({}, config=CONFIG + "content_dir: notes\n")
    (site.root / "content").rmdir()
    (site.root / "notes").mkdir()
    assert run(capsys, "new", "A note", str(site.root))[0] == 0
    assert run(capsys, "new", "--entity", "Ada", str(site.root))[0] == 0
    assert files_under(site.root / "notes") == {"a-note.md", "entities/ada.md"}
    assert not (site.root / "content").exists()
    code, out, _ = run(capsys, "build", str(site.root))
    assert code == 0 and out[1].startswith("1 draft skipped: `notes/a-note.md`")


# --- postil publish -------------------------------------------------------------------

def test_git_keep_never_takes_the_place_of_a_built_file(site, tmp_path, capsys):
    """A kept file where the build makes a folder, or a kept folder where it makes a
    file: the build's file is published (a tree cannot hold both), as for a kept file
    of the same name. Once, the build's feed.xml and archive page vanished."""
    site({"content/a.md": article("A")},
         config=CONFIG + "publish:\n  keep: [feed.xml, archive, CNAME]\n")
    remote = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(remote))
    work = tmp_path / "work"
    git("clone", "--quiet", str(remote), str(work))
    git("checkout", "--quiet", "--orphan", "gh-pages", cwd=work)
    (work / "feed.xml").mkdir()
    (work / "feed.xml/inner.txt").write_text("a folder on the branch\n")
    (work / "archive").write_text("a file on the branch\n")
    (work / "CNAME").write_text("reading.example.org\n")
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "By hand", cwd=work)
    git("push", "--quiet", "origin", "gh-pages", cwd=work)
    code, out, err = run(capsys, "publish", str(site.root), "--git",
                         str(remote))
    assert code == 0, err
    after = clone(remote, tmp_path / "after")
    built = site.build(write=False).files
    assert after["feed.xml"] == built["feed.xml"]
    assert after["archive/index.html"] == built["archive/index.html"]
    assert set(after) == set(built) | {".nojekyll", "CNAME"}
    assert after["CNAME"] == b"reading.example.org\n"


@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync not installed")
def test_rsync_keep_never_stops_a_built_file(site, tmp_path, capsys):
    """As with --git: the build's file takes the place of a kept one of another kind;
    what the target keeps beside the build's files stays. Once, rsync could not make
    way and failed halfway."""
    site({"content/a.md": article("A")},
         config=CONFIG + "publish:\n  keep: [feed.xml, archive, tags, CNAME, index.html/x]\n")
    target = tmp_path / "mirror"
    (target / "feed.xml").mkdir(parents=True)
    (target / "feed.xml/inner.txt").write_text("a folder on the target\n")
    (target / "archive").write_text("a file on the target\n")
    (target / "tags").mkdir()
    (target / "tags/extra.html").write_text("kept beside the built tag pages\n")
    (target / "CNAME").write_text("reading.example.org\n")
    code, _, err = run(capsys, "publish", str(site.root), "--rsync", str(target), "-q")
    assert (code, err) == (0, [])
    built = site.build(write=False).files
    assert files_under(target) == set(built) | {"tags/extra.html", "CNAME"}
    assert (target / "feed.xml").read_bytes() == built["feed.xml"]


@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync not installed")
def test_publish_quiet_with_rsync_prints_only_problems(site, tmp_path, capsys):
    site({"content/a.md": article("A")}, config=CONFIG)
    code, out, err = run(capsys, "publish", str(site.root), "--rsync", str(tmp_path / "m"),
                         "-q")
    assert (code, out, err) == (0, [], [])
    assert "index.html" in files_under(tmp_path / "m")


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "0"])
def test_short_ipv4_forms_of_this_machine_are_local(host):
    """Browsers and inet_aton read these as 127.0.0.1 and 0.0.0.0."""
    assert is_local_host(host)


@pytest.mark.parametrize("host", ["1", "10.1", "0x", "deadbeef", "1.2.3.4.5", "12.0.0.1"])
def test_short_ipv4_forms_elsewhere_are_not(host):
    assert not is_local_host(host)


def test_git_keeps_a_file_whose_name_is_not_utf8(site, tmp_path, capsys):
    """A kept folder may hold any name git has; once, a traceback."""
    site({"content/a.md": article("A")}, config=CONFIG + "publish:\n  keep: [keep/]\n")
    remote = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(remote))
    work = tmp_path / "work"
    git("clone", "--quiet", str(remote), str(work))
    git("checkout", "--quiet", "--orphan", "gh-pages", cwd=work)
    names = [b"keep/bad\xff.txt", 'keep/ü "q"\\.txt'.encode(), b"keep/new\nline.txt"]
    (work / "keep").mkdir()
    for name in names:
        try:
            (work / os.fsdecode(name)).write_bytes(name)
        except OSError:  # a file system that refuses such a name
            pytest.skip("no such names here")
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "By hand", cwd=work)
    git("push", "--quiet", "origin", "gh-pages", cwd=work)
    code, _, err = run(capsys, "publish", str(site.root), "--git", str(remote), "-q")
    assert (code, err) == (0, [])
    listed = subprocess.run(["git", "--git-dir", str(remote), "ls-tree", "-r", "-z",
                             "--name-only", "gh-pages"], capture_output=True, check=True)
    assert set(names) <= set(listed.stdout.split(b"\0"))


def test_init_next_step_works_for_a_folder_named_like_an_option(tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "init", "--", "-weird")
    assert code == 0 and out[-1] == "next: cd ./-weird && postil serve"
    done = subprocess.run(["sh", "-c", out[-1][len("next: "):].replace("postil serve", "pwd")],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip().endswith("/-weird")


# --- what the command line and site.yml may hold --------------------------------------

@pytest.mark.parametrize("url", ["http://[::1", "http://[example.org]/", "http://[/",
                                 "http://[::1]x/", "http://[::::]/"])
def test_a_broken_bracketed_host_in_base_url_is_an_error_at_its_line(site, capsys, url):
    """Once, a traceback (urlsplit's "Invalid IPv6 URL"), or a URL no browser reads."""
    site({}, config=f'title: T\nbase_url: "{url}"\n')
    code, _, err = run(capsys, "build", str(site.root), "-q")
    assert code == 1
    assert err[0] == f'site.yml:2: base_url has an invalid host name: "{url}"'
    with pytest.raises(SystemExit) as stopped:
        main(["check", str(site.root), "--base-url", url])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f'postil check: error: argument --base-url: has an invalid host name: "{url}"')


@pytest.mark.parametrize("url", ["http://[::1]:8000/sub/", "http://[2001:DB8::1]/",
                                 "http://[::ffff:127.0.0.1]/"])
def test_a_bracketed_ipv6_base_url_still_builds(site, capsys, url):
    site({"content/a.md": article("A")}, config=f'title: T\nbase_url: "{url}"\n')
    assert run(capsys, "build", str(site.root), "-q")[0] == 0


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "1e9", "abc"])
def test_add_timeout_must_be_a_sensible_number_of_seconds(site, capsys, value):
    """Once, --timeout inf was a traceback (OverflowError) after the request began."""
    site({}, config=CONFIG)
    with pytest.raises(SystemExit) as stopped:
        main(["add", "http://127.0.0.1:9/", str(site.root), "--timeout", value])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "postil add: error: argument --timeout: must be a number of seconds above 0, at most "
        f"86400, not '{value}'")


def test_publish_says_which_drafts_it_left_out(site, tmp_path, capsys):
    """As the build summary does: else the article of `postil new` seems lost."""
    site({"content/a.md": article("A"), "content/b.md": article("B", draft="true")},
         config=CONFIG)
    code, out, _ = run(capsys, "publish", str(site.root), "--dir", str(tmp_path / "www"))
    assert code == 0 and out[0] == "built 1 articles for https://example.org/"
    assert out[1].startswith("1 draft skipped: `content/b.md`")
    assert run(capsys, "publish", str(site.root), "--dir", str(tmp_path / "www"), "-q")[1] \
        == []


def test_new_entity_with_an_empty_type_is_refused(site, capsys):
    """Not read as "other" as if --type were not given."""
    site({}, config=CONFIG)
    code, _, err = run(capsys, "new", "--entity", "Zed", "--type", "", str(site.root))
    assert code == 2 and err == ['postil: unknown entity type "" (use one of: person, '
                                 'organization, place, event, work, other)']


def test_output_piped_into_a_reader_that_leaves_is_no_traceback(site):
    """`postil new "x" | head -0`: the reader left before the output came."""
    import sys

    site({"content/a.md": article("A")}, config=CONFIG)
    for args in (["new", "Piped", str(site.root)], ["build", str(site.root)]):
        reader, writer = os.pipe()
        os.close(reader)  # gone before anything is written: every write meets a closed pipe
        try:
            done = subprocess.run([sys.executable, "-m", "builder", *args], stdout=writer,
                                  stderr=subprocess.PIPE, text=True)
        finally:
            os.close(writer)
        assert (done.returncode, done.stderr) == (1, ""), done.stderr
