"""Issue 8: rebuilds that are always right. One test per case of the issue, and two more.

Every rebuild here is judged the way a user would judge it, against the one
right answer: a cold build of the same sources into an empty folder. Outputs
are compared as *published* files (every path and its bytes), never through
the builder's internals, which are free to change. The only files left out of
a comparison are the output folder's own bookkeeping, the manifest
(``.postil-manifest.json``) and the lock file (``.postil-lock``); anything else
in the folder, staging leftovers included, counts as published. Where a build
must leave the folder untouched, the manifest's bytes are compared too.

Builds that the issue describes as separate ``postil`` runs are run as
separate processes (``python -m builder``, with this checkout first on the
path); builds that only make the previous output run in this process. A
long-lived builder is a :class:`SiteBuilder` with the options of ``postil
build`` (no drafts), as the preview server keeps one, or the preview's own
:class:`LiveSite`.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element

from builder.cli import main
from builder.pipeline import BuildOptions, SiteBuilder, build
from builder.problems import BuildFailed
from builder.serve.live import LiveSite
from conftest import REPO, SITE_YML, SiteMaker, article, parse_html, snapshot, text_of

MANIFEST, LOCK = ".postil-manifest.json", ".postil-lock"
#: the output folder's own files, which are not part of the site
BOOKKEEPING = {MANIFEST, LOCK}
BASE = "https://example.org/"  # base_url of SITE_YML
_cold_folders = count(1)


# --- helpers -------------------------------------------------------------------------------

def published(folder: Path) -> dict[str, bytes]:
    """Every file a web server would publish from ``folder``: path → bytes.

    Everything counts but the manifest and the lock file; a symbolic link to a
    file counts with the bytes it leads to, as a web server would serve them.
    """
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if name in BOOKKEEPING:
            continue
        if path.is_file():
            files[name] = path.read_bytes()
    return files


def untouched(folder: Path) -> dict[str, object]:
    """What a build that writes nothing leaves as it was: every published file's bytes and
    mtime (:func:`conftest.snapshot`), and the manifest's bytes. The manifest's mtime and the
    lock file are the writer's own business (taking the lock may open its file)."""
    kept: dict[str, object] = {}
    for name, (data, mtime) in snapshot(folder).items():
        if name != LOCK:
            kept[name] = data if name == MANIFEST else (data, mtime)
    return kept


def cold(site_dir: Path) -> dict[str, bytes]:
    """The right answer: a build of ``site_dir`` as it is now into a new, empty folder."""
    folder = site_dir.parent / f"cold-{next(_cold_folders)}"
    assert not folder.exists()
    build(site_dir, BuildOptions(output=folder, cache=False, jobs=1))
    return published(folder)


def differences(got: dict[str, bytes], want: dict[str, bytes]) -> list[str]:
    """The paths whose bytes differ, with what is wrong; ``[]`` when the outputs are equal."""
    found = []
    for name in sorted(set(got) | set(want)):
        if name not in got:
            found.append(f"{name}: missing")
        elif name not in want:
            found.append(f"{name}: not in a cold build")
        elif got[name] != want[name]:
            found.append(f"{name}: differs")
    return found


def postil(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``postil ARGS`` as a user would, in its own process, with this checkout's code."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("POSTIL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    return subprocess.run([sys.executable, "-m", "builder", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def built(site_dir: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``postil build SITE_DIR ARGS``, which must succeed."""
    run = postil("build", site_dir, "-q", *args)
    assert run.returncode == 0, run.stderr
    return run


def long_lived(site_dir: Path) -> SiteBuilder:
    """A builder kept across edits, as ``postil serve`` keeps one, with build's options."""
    return SiteBuilder(site_dir, BuildOptions(write=False, drafts=False, jobs=1))


def target_of(page_path: str, href: str) -> str:
    """The output file a link on the page at site path ``page_path`` leads to."""
    path = urlsplit(urljoin(BASE + page_path.lstrip("/"), href)).path
    name = path.removeprefix(urlsplit(BASE).path)
    return name + "index.html" if not name or name.endswith("/") else name


def links(page: Element) -> Iterator[tuple[str, str]]:
    """(text, href) of every link on a parsed page."""
    for anchor in page.iter("a"):
        if anchor.get("href") is not None:
            yield text_of(anchor), anchor.get("href", "")


def entity(name: str, body: str, kind: str = "person") -> str:
    """The text of an entity file."""
    return f"---\nname: {name}\ntype: {kind}\n---\n{body}\n"


# --- case 1: an entity's notes link to an article whose slug changes -----------------------

def test_1_entity_notes_follow_a_slug_change_across_build_processes(site: SiteMaker) -> None:
    """An entity's ``[[Some article]]`` follows the article's new slug in later ``postil build``
    runs into the same folder; ``postil check`` passes, and the entity page never links to the
    old URL."""
    site({
        "content/entities/ada.md": entity("Ada Lovelace", "Notes: see [[Some article]]."),
        "content/some.md": article("Some article", "2024-05-02", slug="old-name",
                                   body="Text about engines."),
        "content/other.md": article("Other", "2024-05-01", entities="[ada]",
                                    body="Ada Lovelace wrote notes."),
    })
    site.build()
    site.write("content/some.md", article("Some article", "2024-05-02", slug="new-name",
                                          body="Text about engines."))
    check = postil("check", site.root)
    assert check.returncode == 0, check.stderr
    built(site.root)
    built(site.root)
    output = published(site.root / "public")
    page = parse_html(output["entities/ada/index.html"])
    targets = [target_of("/entities/ada/", href) for text, href in links(page)
               if text == "Some article"]
    assert targets
    assert set(targets) == {"articles/new-name/index.html"}
    assert all(target_of("/entities/ada/", href) != "articles/old-name/index.html"
               for _, href in links(page))
    want = cold(site.root)
    assert output["entities/ada/index.html"] == want["entities/ada/index.html"]
    assert differences(output, want) == []


# --- case 2: feeds of an article that links to one whose slug changes ----------------------

def test_2_feeds_follow_a_linked_articles_slug_change_in_a_long_lived_builder(
        site: SiteMaker) -> None:
    """In a builder kept alive (as by ``postil serve``), the site, tag and author feeds of an
    article that links to another follow that other article's new slug."""
    site({
        "content/a.md": article("Linking", "2024-05-02", tags="[t]", author="Ann",
                                body="See [the other](b.md) for more."),
        "content/b.md": article("Linked", "2024-05-01", slug="before", body="Linked text."),
    })
    builder = long_lived(site.root)
    builder.build()
    site.write("content/b.md", article("Linked", "2024-05-01", slug="after",
                                       body="Linked text."))
    files = builder.build().files
    want = cold(site.root)
    feeds = [name for name in want if name.endswith("feed.xml")]
    assert {"feed.xml", "tags/t/feed.xml", "authors/ann/feed.xml"} <= set(feeds)
    assert differences({name: files[name] for name in feeds if name in files},
                       {name: want[name] for name in feeds}) == []
    assert differences(files, want) == []


# --- case 3: a template that reads site.articles ----------------------------------------------

RECENT = """\
<aside class="recent"><h2>Recent articles</h2><ul>
{% for recent in site.articles[:3] %}<li><a href="{{ url(recent.url) }}">{{ recent.title }}</a></li>
{% endfor %}</ul></aside>
"""


def test_3_a_base_template_reading_site_articles_shows_a_new_article_everywhere(
        site: SiteMaker) -> None:
    """A site's own ``base.html`` listing ``site.articles[:3]`` shows a newly added article on
    every page, in a long-lived builder and in a second ``postil build`` process."""
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}", tags=f"[t{i}]")
          for i in range(1, 6)})
    base = (REPO / "themes/default/templates/base.html").read_text(encoding="utf-8")
    assert "</main>" in base
    site.write("templates/base.html", base.replace("</main>", "</main>\n" + RECENT, 1))
    builder = long_lived(site.root)
    builder.build()
    site.build()
    site.write("content/newest.md", article("Newest of all", "2024-02-01", tags="[fresh]"))
    in_memory = builder.build().files
    built(site.root)
    want = cold(site.root)
    page = parse_html(want["articles/a1/index.html"])  # the right answer shows the new one
    assert "Newest of all" in [text_of(a) for a in page.iterfind(".//aside//a")]
    assert (differences(in_memory, want), differences(published(site.root / "public"), want)) \
        == ([], [])


# --- case 4: the site's default author changes ------------------------------------------------

def test_4_a_new_site_author_reaches_articles_without_their_own_in_a_long_lived_builder(
        site: SiteMaker) -> None:
    """Changing ``author:`` in site.yml in a kept builder: articles naming no author of their
    own show the new one, and every page equals a cold build."""
    site({"content/a.md": article("Anonymous", "2024-05-02"),
          "content/b.md": article("Signed", "2024-05-01", author="Bo Own")},
         config=SITE_YML + "author: Old Writer\n")
    builder = long_lived(site.root)
    builder.build()
    site.write("site.yml", SITE_YML + "author: New Writer\n")
    files = builder.build().files
    want = cold(site.root)
    shown = text_of(parse_html(files["articles/a/index.html"]).find(".//main"))
    assert "New Writer" in shown and "Old Writer" not in shown
    assert differences(files, want) == []


# --- case 5: a build that fails while writing ---------------------------------------------------

def test_5_a_build_failing_on_a_too_long_name_leaves_the_site_and_the_next_build_is_right(
        site: SiteMaker) -> None:
    """The issue's repro: a same-length title change plus a 300-character slug fails with one
    clear line and leaves the previous site byte-identical (mtimes too); once both changes are
    undone, the next build equals a cold build (404.html and annotations/ show the original
    title again, not the one of the failed build)."""
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}", body="Text {==marked==}.")
          for i in range(1, 4)}, config=SITE_YML)
    site.build()
    before = untouched(site.root / "public")
    assert len("Best archive") == len("Test archive")
    site.write("site.yml", SITE_YML.replace("Test archive", "Best archive"))
    slug = "s" * 300
    site.write("content/long.md", article("Long", "2024-01-09", slug=slug))
    failed = postil("build", site.root, "-q")
    unchanged = untouched(site.root / "public") == before

    site.write("site.yml", SITE_YML)
    (site.root / "content/long.md").unlink()
    built(site.root)
    output = published(site.root / "public")
    titles = [text_of(parse_html(output[name]).find(".//title")).endswith("Test archive")
              for name in ("404.html", "annotations/index.html")]
    verdict = {
        "the failed build exits non-zero": failed.returncode != 0,
        "without a traceback": "Traceback" not in failed.stderr,
        "with a line naming the file": any("long.md" in line or slug[:40] in line
                                           for line in failed.stderr.splitlines()),
        "leaving the previous site byte-identical": unchanged,
        "404.html and annotations/ have the original title": titles == [True, True],
        "the next good build equals a cold build": differences(output, cold(site.root)) == [],
    }
    assert verdict == dict.fromkeys(verdict, True), failed.stderr.strip().splitlines()[-1:]


# --- case 6: the preview keeps the parse cache ------------------------------------------------

def cache_contents(site_dir: Path) -> tuple[int, int]:
    """(files, bytes) under the site's ``.postil-cache/``, whatever its format."""
    files = [p for p in (site_dir / ".postil-cache").rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def test_6_the_preview_keeps_the_parse_cache_across_rebuilds_without_changes(
        site: SiteMaker) -> None:
    """A :class:`LiveSite` built twice without changes leaves ``.postil-cache/`` filled, so the
    next preview started on the site parses nothing again."""
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}") for i in range(1, 4)})
    quiet = [].append
    live = LiveSite(site.root, drafts=False, out=quiet, err=quiet)
    assert live.build().ok
    files, size = cache_contents(site.root)
    assert files > 0 and size > 0
    assert live.build().ok
    files, size = cache_contents(site.root)
    assert files > 0 and size > 0, "the cache was emptied"
    restarted = LiveSite(site.root, drafts=False, out=quiet, err=quiet).build()
    assert restarted.ok and restarted.parsed == []


# --- case 7: links to files whose names need escaping ----------------------------------------

def test_7_a_link_to_a_file_with_an_ampersand_resolves_and_a_missing_one_is_an_error(
        site: SiteMaker) -> None:
    """``[x](q&a.md)`` leads to that article's page (no placeholder reaches any output file);
    ``[x](missing&b.md)`` fails the build naming the file and its line."""
    site({"content/q&a.md": article("Questions and answers", "2024-05-01", slug="questions"),
          "content/a.md": article("Asking", "2024-05-02", body="Read [x](q&a.md) first.")})
    site.build()
    output = published(site.root / "public")
    page = parse_html(output["articles/a/index.html"])
    targets = [target_of("/articles/a/", href) for text, href in links(page) if text == "x"]
    assert targets == ["articles/questions/index.html"]
    assert [name for name, data in output.items() if b"postil-ref:" in data] == []

    site.write("content/c.md", article("Broken", "2024-05-03", body="Line five [x](missing&b.md)."))
    try:
        site.build()
    except BuildFailed as failure:
        problems = [str(problem) for problem in failure.problems]
    else:
        problems = []
    assert [p for p in problems if p.startswith("content/c.md:5:") and "missing&b.md" in p], \
        problems


# --- case 8: two builds into one folder at the same time -------------------------------------

def test_8_a_build_into_a_folder_another_build_holds_is_refused_and_writes_nothing(
        site: SiteMaker) -> None:
    """While another build holds the output folder's lock, ``postil build`` exits 1 with one
    line and no traceback and leaves the folder byte-identical; once free, a build succeeds."""
    site({"content/a.md": article("First", "2024-05-01")})
    site.build()
    public = site.root / "public"
    site.write("content/b.md", article("Second", "2024-05-02"))
    fd = os.open(public / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        before = untouched(public)
        try:
            refused = postil("build", site.root, timeout=30)
        except subprocess.TimeoutExpired:
            refused = subprocess.CompletedProcess([], -1, "", "waited for the lock, not refused")
        after = untouched(public)
    finally:
        os.close(fd)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    message = refused.stderr.strip().splitlines()
    assert len(message) == 1 and message[0].startswith("postil: output folder "), message
    assert message[0].endswith(" is in use by another postil build; try again when it has "
                               "finished"), message
    assert after == before
    site.build()
    assert differences(published(public), cold(site.root)) == []


# --- a symbolic link at the writer's temporary name ------------------------------------------

TRAPS = (".index.html.postil-tmp", "articles/a/.index.html.postil-tmp", ".feed.xml.postil-tmp",
         ".404.html.postil-tmp", ".postil-manifest.json.postil-tmp")


def plant(folder: Path, outside: Path) -> None:
    """Symbolic links to ``outside`` at the names the old writer gave its temporary files."""
    for name in TRAPS:
        link = folder / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(outside)


def test_symlinks_at_temporary_names_never_lead_a_build_or_a_publish_outside(
        site: SiteMaker, tmp_path: Path) -> None:
    """Links planted at temporary file names in the output folder (``postil build``) and in a
    ``publish --dir`` target lead nowhere: the file they point at stays as it was, and the
    pages are the right ones, as regular files."""
    site({"content/a.md": article("First", "2024-05-01")})
    secret = b"a file outside the output folder\n"
    outside = {kind: tmp_path / "elsewhere" / kind / "keep.txt" for kind in ("build", "dir")}
    for path in outside.values():
        path.parent.mkdir(parents=True)
        path.write_bytes(secret)
    public, target = site.root / "public", tmp_path / "www"
    site.build()
    assert main(["publish", str(site.root), "--dir", str(target), "-q"]) == 0
    plant(public, outside["build"])
    plant(target, outside["dir"])
    site.write("site.yml", SITE_YML.replace("Test archive", "Renamed archive"))
    site.write("content/a.md", article("First, edited", "2024-05-01"))

    build_run = postil("build", site.root, "-q")
    publish_run = postil("publish", site.root, "--dir", target, "-q")
    assert {kind: path.read_bytes() == secret for kind, path in outside.items()} == \
        {"build": True, "dir": True}
    assert [p.name for p in outside["build"].parent.iterdir()] == ["keep.txt"]
    assert [p.name for p in outside["dir"].parent.iterdir()] == ["keep.txt"]
    assert (build_run.returncode, publish_run.returncode) == (0, 0), \
        build_run.stderr + publish_run.stderr
    want = cold(site.root)
    for folder in (public, target):
        assert not any((folder / name).is_symlink() for name in want)
        got = {name: data for name, data in published(folder).items() if name not in TRAPS}
        assert differences(got, want) == []


# --- a crafted cache entry ----------------------------------------------------------------

class _Touch:
    """Unpickling this creates a file: what a crafted cache entry could do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch '{self.marker}'",))


def test_a_crafted_cache_entry_runs_no_code_and_is_a_miss(site: SiteMaker,
                                                          tmp_path: Path) -> None:
    """Every file of ``.postil-cache/`` replaced by a pickle that would create a file when
    loaded: the next build runs none of it and its output equals a cold build."""
    site({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}", body=f"Body {i}.")
          for i in range(1, 4)})
    site.build()
    cache = site.root / ".postil-cache"
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Touch(marker))
    for path in entries:
        path.write_bytes(payload)
    try:
        site.build()
    except Exception as exc:  # reported below, once it is known whether the payload ran
        error = f"{type(exc).__name__}: {exc}"
    else:
        error = ""
    assert not marker.exists(), "loading the cache ran the crafted entry's code"
    assert error == ""
    assert differences(published(site.root / "public"), cold(site.root)) == []
