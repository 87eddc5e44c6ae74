"""The build state (``builder.state``): a no-change build that stops early, exactly
the pages that show an edited article rendered again, ``--explain``, and commands
that must not write the cache.

The site is generated (``bench/generate.py``): 200 articles, 40 entities, autolink on.
Builds that must leave a stamp run with ``RACY_SECONDS = 0``: the test's files were
written a moment ago, which a real build rightly refuses to trust.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from builder import state
from builder.cli import main
from builder.pipeline import BuildOptions, build

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.generate import generate_site  # noqa: E402

BASE = "https://example.org/"

# Runs one `postil build` in a fresh interpreter and reports what it opened in the
# output folder and whether it imported the rendering and parsing libraries.
PROBE = """
import json, os, sys
site, out, racy, racy_files = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
opened = []
def audit(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path == out or path.startswith(out + os.sep):
            opened.append(path)
sys.addaudithook(audit)
import builder.state
builder.state.RACY_SECONDS = racy
builder.state.RACY_FILES = racy_files
from builder.cli import main
code = main(["build", site, "-o", out])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("jinja2", "markdown_it")
               or m in ("builder.pipeline", "builder.writer", "builder.problems"))
print(json.dumps({"code": code, "opened": opened, "heavy": heavy}))
"""


def probe(site: Path, out: Path, racy: float = 0.0, racy_files: int = state.RACY_FILES
          ) -> tuple[dict, str]:
    """(what the build opened and imported, the summary line it printed)."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(site), str(out), str(racy),
                           str(racy_files)],
                          capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]), lines[0]


def counts(summary: str) -> dict[str, int]:
    """'built N articles into OUT: 3 rendered, 2 written, …' → {'rendered': 3, …}."""
    found = {}
    for part in summary.split(": ", 1)[1].split(" in ")[0].split(", "):
        number, word = part.split(" ", 1)
        found[word.rstrip("s") if word.startswith("warning") else word] = int(number)
    return found


def tree(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino,
                                               p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("corpus") / "site"
    generate_site(200, site, seed=3, entities=40)
    return site


@pytest.fixture
def site(corpus: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(corpus, copy)
    return copy


def test_a_no_change_build_renders_nothing_opens_no_output_file_and_imports_no_renderer(
        site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first, summary = probe(site, out)
    assert counts(summary)["written"] > 600 and first["heavy"]
    before = tree(out)

    again, summary = probe(site, out)
    assert again == {"code": 0, "opened": [], "heavy": []}
    assert counts(summary) == {"rendered": 0, "written": 0, "unchanged": len(before) - 1,
                               "removed": 0, "warning": 0}  # the manifest is not counted
    assert tree(out) == before


def test_anything_changed_means_a_full_build(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    probe(site, out)
    page = next(out.glob("articles/*/index.html"))
    page.unlink()  # an output file gone: written again
    result, summary = probe(site, out)
    assert result["heavy"] and counts(summary)["written"] == 1 and page.is_file()

    shutil.copytree(REPO / "themes" / "default" / "templates", site / "templates")
    base = site / "templates" / "base.html"
    base.write_text(base.read_text(encoding="utf-8") + "<!-- edited -->\n", encoding="utf-8")
    result, summary = probe(site, out)  # a template of the site's own: every page changes
    assert result["heavy"] and counts(summary)["written"] >= len(list(out.rglob("*.html")))

    base.write_text(base.read_text(encoding="utf-8") + "<!-- again -->\n", encoding="utf-8")
    result, summary = probe(site, out, racy=3600.0)  # inputs "just changed": not trusted
    assert result["heavy"] and counts(summary)["written"] > 0
    result, summary = probe(site, out)  # so it left no stamp: this one builds in full
    assert result["heavy"] and counts(summary)["written"] == 0
    result, _ = probe(site, out)
    assert not result["heavy"]


def test_the_build_right_after_an_edit_leaves_a_stamp(site: Path, tmp_path: Path) -> None:
    # Every file "just changed" (a window of an hour), and a stamp may vouch for all of
    # them: it keeps a digest of each one's bytes, so the next build still stops early.
    out = tmp_path / "out"
    probe(site, out)
    article = next((site / "content").glob("*.md"))
    article.write_text(article.read_text(encoding="utf-8") + "\nOne more line.\n",
                       encoding="utf-8")
    result, summary = probe(site, out, racy=3600.0, racy_files=10**6)
    assert result["heavy"] and counts(summary)["written"] > 0
    result, _ = probe(site, out, racy=3600.0, racy_files=10**6)
    assert not result["heavy"]


def test_a_racy_file_whose_bytes_change_under_the_same_stat_means_a_full_build(
        site: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(state, "RACY_SECONDS", 3600.0)
    monkeypatch.setattr(state, "RACY_FILES", 10**6)
    out = tmp_path / "out"
    build(site, BuildOptions(output=out))
    key = state.condition(site, out, None, False, False)
    stamp = state.unchanged(site, key)
    assert stamp is not None
    article = next((site / "content").glob("*.md"))
    assert str(article.resolve()) in stamp.racy
    original = article.read_bytes()
    # Within one tick of the file system's clock an edit need not change the stat: the
    # snapshot is made to see the same stat, and only the bytes tell.
    monkeypatch.setattr(state, "snapshot", lambda roots, since_ns=None: (stamp.inputs, [], {}))
    article.write_bytes(original.replace(b"e", b"E", 1))
    assert state.unchanged(site, key) is None
    article.write_bytes(original)
    assert state.unchanged(site, key) is not None


def test_a_future_dated_article_ends_the_stamp_on_its_day(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(state, "RACY_SECONDS", 0.0)
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "site.yml").write_text(f"title: T\nbase_url: {BASE}\nfuture: false\n")
    (site / "content" / "later.md").write_text("---\ntitle: Later\ndate: 2999-01-02\n---\nx\n")
    (site / "content" / "now.md").write_text("---\ntitle: Now\ndate: 2001-01-02\n---\nx\n")
    assert main(["build", str(site), "-q"]) == 0
    key = state.condition(site, None, None, False, False)
    assert state.unchanged(site, key, now=datetime(2999, 1, 1)) is not None
    assert state.unchanged(site, key, now=datetime(2999, 1, 2)) is None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def pages_linking_to(out: Path, url: str) -> set[str]:
    """Output names of the HTML pages with a link to the site path ``url``."""
    found = set()
    for path in out.rglob("*.html"):
        name = path.relative_to(out).as_posix()
        page_url = urljoin(BASE, name.removesuffix("index.html"))
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        if any(urlsplit(urljoin(page_url, href)).path == url for href in parser.hrefs):
            found.add(name)
    return found


def test_one_edit_renders_exactly_the_pages_that_show_that_article(
        site: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(state, "RACY_SECONDS", 0.0)
    out = tmp_path / "out"
    first = build(site, BuildOptions(output=out))
    article = first.site.articles[len(first.site.articles) // 2]
    path = site / article.source
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more plain sentence here.\n",
                    encoding="utf-8")

    again = build(site, BuildOptions(output=out))
    page = article.url.strip("/") + "/index.html"
    expected = pages_linking_to(out, article.url) | {page}
    assert len(expected) > 5  # its page, lists, tag and entity pages, neighbours
    assert set(again.rendered) == expected

    # --explain names the edit for the article's tag page, and an unrelated page is reused.
    tag = "/" + min(n for n in expected if n.startswith("tags/")).removesuffix("index.html")
    unrelated = next(p.url for p in again.site.pages if p.url.startswith("/tags/")
                     and p.url.count("/") == 3 and p.url.strip("/") + "/index.html" not in expected)
    path.write_text(path.read_text(encoding="utf-8") + "\nAnd another.\n", encoding="utf-8")
    lines = explain_lines(site, out, tag)
    assert lines == [f"{tag}: rendered again because:", f"  {article.source} changed"]
    assert explain_lines(site, out, unrelated) == [
        f"{unrelated}: reused (its signature is unchanged: none of its inputs changed)"]


def explain_lines(site: Path, out: Path, url: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "builder", "build", str(site), "-o", str(out),
                           "--explain", url], capture_output=True, text=True, cwd=REPO,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[1:]


def test_check_and_a_dry_run_write_nothing_into_the_cache(site: Path, tmp_path: Path) -> None:
    assert main(["build", str(site), "-q"]) == 0
    cache = site / ".postil-cache"
    path = next((site / "content").glob("*.md"))
    path.write_text(path.read_text(encoding="utf-8") + "\nAn edit the cache has not seen.\n",
                    encoding="utf-8")
    before = tree(cache)
    assert main(["check", str(site)]) == 0
    assert tree(cache) == before
    assert main(["publish", str(site), "--dir", str(tmp_path / "target"), "--dry-run"]) == 0
    assert tree(cache) == before
    assert not (tmp_path / "target").exists()


def test_stored_related_rankings_are_reused_only_when_they_name_articles(
        site: Path, tmp_path: Path) -> None:
    import sqlite3

    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "-q", "--no-cache"]) == 0
    cold = tree(out)
    database = site / ".postil-cache" / state.DATABASE
    with sqlite3.connect(database) as db:
        (value,) = db.execute("SELECT value FROM memos WHERE name = 'related-articles'"
                              ).fetchone()
        fingerprint, rankings = json.loads(value)
        assert len(rankings) == 200 + 1  # and "*": every article's key (entity_index)
        rankings = {key: ["content/no-such-article.md"] for key in rankings}
        db.execute("UPDATE memos SET value = ? WHERE name = 'related-articles'",
                   (json.dumps([fingerprint, rankings]),))
    path = next((site / "content").glob("*.md"))
    path.write_text(path.read_text(encoding="utf-8") + "\nA late addition.\n", encoding="utf-8")
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    path.write_text(path.read_text(encoding="utf-8").replace("\nA late addition.\n", ""),
                    encoding="utf-8")
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    def pages(files: dict) -> dict[str, bytes]:  # the manifest records stat: it differs
        return {name: data for name, (_, _, data) in files.items()
                if name != ".postil-manifest.json"}

    assert pages(tree(out)) == pages(cold)


def test_entity_files_are_parsed_and_their_notes_rendered_once_across_processes(
        site: Path, tmp_path: Path, monkeypatch) -> None:
    import sqlite3

    import builder.entities as entities
    from builder import delta_store

    out = tmp_path / "out"
    assert main(["build", str(site), "-o", str(out), "-q"]) == 0
    cold = tree(out)
    calls = {"read_entity": 0, "render_notes": 0}
    for name in calls:
        original = getattr(entities, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(entities, name, counted)

    def rebuild() -> None:  # an edit, so that the build does not stop early
        path = next((site / "content").glob("*.md"))
        path.write_text(path.read_text(encoding="utf-8") + " ", encoding="utf-8")
        # and a full build: a delta build reads no entity file (builder.delta_build)
        delta_store.remove(delta_store.database(site))
        assert main(["build", str(site), "-o", str(out), "-q"]) == 0

    rebuild()
    assert calls == {"read_entity": 0, "render_notes": 0}
    with sqlite3.connect(site / ".postil-cache" / state.DATABASE) as db:
        assert db.execute("SELECT count(*) FROM entities").fetchone()[0] == 80
        db.execute("UPDATE entities SET value = x'5b22782225'")  # damaged: each a miss
    rebuild()
    assert calls == {"read_entity": 40, "render_notes": 40}
    rebuild()
    assert calls == {"read_entity": 40, "render_notes": 40}
    assert {n: d for n, (_, _, d) in tree(out).items() if n.startswith("entities/")} == \
        {n: d for n, (_, _, d) in cold.items() if n.startswith("entities/")}
