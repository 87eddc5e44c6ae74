"""The first hour with Postil (issue 14): init, new, the build summary, entity types,
check's wording and argument parsing, as a new user meets them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from builder.cli import main, make_parser
from conftest import article, parse_html, text_of


def run(capsys, *args: str) -> tuple[int, list[str], list[str]]:
    """``postil ARGS`` in this process: (exit code, stdout lines, stderr lines)."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


# --- argument parsing ----------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["build", "--base", "https://example.org/"],  # --base-url
    ["check", "--stri"],  # --strict
    ["publish", "--dry"],  # --dry-run
    ["serve", "--po", "8001"],  # --port
    ["new", "--ent", "X"],  # --entity
    ["--vers"],  # --version
])
def test_abbreviated_options_are_refused(args, capsys):
    with pytest.raises(SystemExit) as stopped:
        make_parser().parse_args(args)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments" in err or "invalid choice" in err, err
    full = {"--base": "--base-url", "--stri": "--strict", "--dry": "--dry-run",
            "--po": "--port", "--ent": "--entity", "--vers": "--version"}
    spelled = [full.get(a, a) for a in args]
    if spelled != ["--version"]:  # (which prints and exits 0)
        assert make_parser().parse_args(spelled).command == args[0]


def test_check_strict_says_check_failed(site, capsys):
    site({"content/a.md": article("A")},
         config="title: T\nbase_url: https://example.org/\nno_such_key: 1\n")
    code, out, err = run(capsys, "check", str(site.root), "--strict")
    assert code == 1
    assert err[-1] == "check failed: 0 errors, 1 warning", err
    assert not any("build failed" in line for line in err)
    code, _, err = run(capsys, "build", str(site.root), "--strict", "-q")
    assert code == 1 and err[-1] == "build failed: 0 errors, 1 warning; nothing was written"


# --- postil init ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def welcome(tmp_path_factory):
    """``postil init`` in a new folder, then a build: (init's stdout lines, the site)."""
    import contextlib
    import io

    root = tmp_path_factory.mktemp("init") / "my reading"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["init", str(root)]) == 0
        assert main(["build", str(root), "-q"]) == 0
    return out.getvalue().splitlines(), root


def test_init_ends_with_the_next_step(welcome):
    lines, root = welcome
    assert lines[-1] == f"next: cd '{root}' && postil serve"  # quoted: the name has a space
    made = lines[0].split(": ", 1)[1].split(", ")
    assert "content/entities/samuel-taylor-coleridge.md" in made


def test_the_welcome_article_shows_what_postil_adds(welcome):
    _, root = welcome
    page = parse_html(root / "public/articles/welcome/index.html")
    body = page.find(".//div[@class='article-body']")
    if body is None:
        body = page.find(".//article")
    marks = [m for m in body.iter("mark") if m.get("id", "").startswith("hl-")]
    assert len(marks) >= 2  # a highlight, and one with a note
    notes = [s for s in body.iter("span") if "sidenote" in (s.get("class") or "").split()]
    assert len(notes) == 1 and notes[0].get("role") == "note"
    assert text_of(notes[0]).startswith("This is a margin note.")
    mentions = [a for a in body.iter("a") if a.get("class") == "mention"]
    assert [(a.get("id"), a.get("href")) for a in mentions] == [
        ("m-samuel-taylor-coleridge-1", "../../entities/samuel-taylor-coleridge/")]
    entity = parse_html(root / "public/entities/samuel-taylor-coleridge/index.html")
    assert "Samuel Taylor Coleridge" in text_of(entity.find(".//h1"))
    wikilinks = [a for a in body.iter("a") if a.get("class") == "wikilink"]
    assert [a.get("href") for a in wikilinks] == ["#what-to-do-next"]
    assert page.find(".//h2[@id='what-to-do-next']") is not None


# --- postil new -----------------------------------------------------------------------

def test_new_entity_makes_an_entity_file_and_never_overwrites(site, capsys):
    site({"content/a.md": article("A", body="About [[Acme Ltd]] and [[Lahore]].")})
    code, out, _ = run(capsys, "new", "--entity", "Acme Ltd", "--type", "organisation",
                       str(site.root))
    assert code == 0, out
    path = site.root / "content/entities/acme-ltd.md"
    assert out == [f"wrote {path}", "mention it in an article as [[Acme Ltd]]"]
    text = path.read_text()
    assert 'name: "Acme Ltd"' in text.splitlines() and "type: organization" in text.splitlines()
    code, _, err = run(capsys, "new", "--entity", "Acme Ltd", str(site.root))
    assert code == 2 and err == [f"postil: {path} exists already; not overwriting it"]
    assert path.read_text() == text
    code, _, _ = run(capsys, "new", "--entity", "Lahore", "--type", "location", str(site.root))
    assert code == 0
    assert "type: place" in (site.root / "content/entities/lahore.md").read_text().splitlines()
    code, _, err = run(capsys, "new", "--entity", "Bob", "--type", "pet", str(site.root))
    assert code == 2 and err == ['postil: unknown entity type "pet" (use one of: person, '
                                 'organization, place, event, work, other)']
    code, _, err = run(capsys, "new", "Bob", str(site.root), "--type", "person")
    assert code == 2 and "--type goes with --entity" in err[0]
    code, _, err = run(capsys, "new", "Bob", str(site.root), "--entity", "Bob")
    assert code == 2 and err == ["postil new: give a TITLE or --entity NAME, not both"]
    assert not (site.root / "content/entities/bob.md").exists()
    assert not (site.root / "content/bob.md").exists()
    code, _, err = run(capsys, "build", str(site.root), "-q")
    assert code == 0, err
    page = parse_html(site.root / "public/entities/acme-ltd/index.html")
    assert text_of(page.find(".//h1/span[@class='kicker']")) == "Organisation"
    page = parse_html(site.root / "public/entities/lahore/index.html")
    assert text_of(page.find(".//h1/span[@class='kicker']")) == "Place"


def test_new_says_it_wrote_a_draft_and_the_build_counts_drafts(site, capsys):
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    site({"content/a.md": article("A"), "content/later.md": article("Later", tomorrow)},
         config="title: T\nbase_url: https://example.org/\nfuture: false\n")
    code, out, _ = run(capsys, "new", "My first note", str(site.root))
    assert code == 0
    assert out[0] == f"wrote {site.root / 'content/my-first-note.md'}"
    assert "it is a draft" in out[1] and "draft: false" in out[1] and "--drafts" in out[1]
    made = (site.root / "content/my-first-note.md").read_text().splitlines()
    assert "draft: true" in made and any(line.startswith("# In the text: ==highlight==")
                                         for line in made)
    code, out, _ = run(capsys, "build", str(site.root))
    assert code == 0
    assert out[0].startswith("built 1 articles into ")
    assert out[1:] == [
        "1 draft skipped: `content/my-first-note.md` (`postil build --drafts` or "
        "`postil serve` shows drafts; taking out draft: true, status: draft or published: "
        "false publishes one)",
        "1 article dated in the future skipped: `content/later.md` (built from that day "
        "on, or with future: true in site.yml)"]
    code, again, _ = run(capsys, "build", str(site.root))  # nothing changed: the same lines
    assert code == 0 and " 0 written" in again[0] and again[1:] == out[1:]
    code, out, _ = run(capsys, "build", str(site.root), "--drafts")
    assert code == 0 and out[0].startswith("built 2 articles")
    page = parse_html(site.root / "public/articles/my-first-note/index.html")
    assert text_of(page.find(".//h1")) == "My first note"
    assert "highlight" not in text_of(page.find(".//main"))  # (comments, not text)
    assert not any("draft" in line for line in out[1:])
    code, out, _ = run(capsys, "check", str(site.root))
    assert code == 0 and out[1].startswith("1 draft skipped: `content/my-first-note.md`")


def test_the_summary_names_three_drafts_and_counts_the_rest(site, capsys):
    site({f"content/d{n}.md": article(f"D{n}", draft="true") for n in range(5)})
    code, out, _ = run(capsys, "build", str(site.root))
    assert code == 0 and out[0].startswith("built 0 articles")
    assert out[1].startswith("5 drafts skipped: `content/d0.md`, `content/d1.md`, "
                             "`content/d2.md` and 2 more (")


# --- entity types ---------------------------------------------------------------------

def test_entity_types_accept_common_spellings(site):
    from builder.entities import canonical_type

    spellings = {"Organisation": "organization", "organization": "organization",
                 "org": "organization", "ORG": "organization", "location": "place",
                 "Place": "place", "Person": "person", "event": "event", " work ": "work"}
    files = {f"content/entities/e{n}.md": f"---\nname: E{n}\ntype: {spelling.strip()}\n---\n"
             for n, spelling in enumerate(spellings)}
    site({"content/a.md": article("A"), **files})
    result = site.build()
    types = {e.name: e.type for e in result.site.entities}
    assert types == {f"E{n}": kind for n, kind in enumerate(spellings.values())}
    assert [canonical_type(s) for s in spellings] == list(spellings.values())
    labels = {}
    for n in range(len(spellings)):
        page = parse_html(Path(site.root / f"public/entities/e{n}/index.html"))
        labels[f"E{n}"] = text_of(page.find(".//h1/span[@class='kicker']"))
    assert set(labels.values()) == {"Organisation", "Place", "Person", "Event", "Work"}
    assert labels["E0"] == labels["E1"] == labels["E2"] == "Organisation"
    site.write("content/entities/e0.md", "---\nname: E0\ntype: pet\n---\n")
    from builder.problems import BuildFailed

    with pytest.raises(BuildFailed) as failed:
        site.build()
    assert [str(p) for p in failed.value.problems] == [
        'content/entities/e0.md:3: unknown type "pet" (use one of: person, organization, '
        'place, event, work, other)']


# --- bench/generate.py --help ---------------------------------------------------------

def test_the_generator_help_tells_the_truth_about_entities(tmp_path):
    import os
    import subprocess
    import sys

    from builder.pipeline import BuildOptions, build
    from conftest import REPO

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(REPO / "bench/generate.py"), "--help"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0
    help_text = " ".join(done.stdout.split())
    assert "cannot" not in help_text
    assert "--entities E also write E entity files under content/entities/" in help_text
    made = subprocess.run([sys.executable, str(REPO / "bench/generate.py"), "3",
                           str(tmp_path / "gen"), "--entities", "4"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert made.returncode == 0, made.stderr
    result = build(tmp_path / "gen", BuildOptions(write=False))  # and they build
    assert len(result.site.entities) == 4
    assert any(entity.mentions for entity in result.site.entities)
