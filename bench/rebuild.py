"""Time whole ``postil build`` processes: cold, no-change and one-edit rebuilds.

    python bench/rebuild.py [--articles N ...] [--entities E] [--rounds R] [--seed S]
                            [--keep DIR] [--code DIR] [--python PATH] [--jobs J]
                            [--settle SECONDS]

Each build is a separate process started the way a user starts it,
``python3 -m builder build SITE -o OUT -q``, so every figure includes the
interpreter's start-up, the imports, reading the cache and writing the
output: what a user waits for at the shell. (``bench/build.py`` times the
``build()`` call inside one process instead.)

For each corpus size N, the script generates a corpus with
``bench/generate.py N DIR --entities E`` (or reuses a kept one, see ``--keep``),
gives the site its own copy of the theme's ``base.html`` (``SITE/templates/``,
copied from the theme of the code being measured, so the pages are the same as
without it), and then, R times in turn, runs four scenarios:

1. **cold**: the output folder and the site's ``.postil-cache/`` are deleted
   first: everything is parsed, rendered and written;
2. **no-change**: the same build again, nothing edited: whatever the builder
   reuses, it may reuse; it should write no file;
3. **one article edited**: one sentence appended to the body of one article (the
   middle one in name order), then a build;
4. **one template edited**: an HTML comment appended to the site's own
   ``templates/base.html`` (so every page changes), then a build.

After each round the article and the template get their original text back,
and at the end the site's ``templates/`` copy is removed, so a kept corpus stays
exactly as ``generate.py`` made it (a marker file,
``SITE/.postil-bench-rebuild.json``, lets the next run undo what a killed run
left behind). The figures
for each scenario are the minimum and the median over the R rounds: on a shared
machine the minimum is the least disturbed run. The 1-minute load average
(``os.getloadavg``) is printed before and after each table and at the start of
each round, to judge how busy the machine was.

When ``hugo`` or ``pelican`` is on ``PATH``, the same articles are also built
with them, in the same rounds, taking turns with Postil (a note says so when
they are missing). The Hugo site gets the articles (``author:`` turned into an
``authors`` list) with ``tags`` and ``authors`` taxonomies, the entities as a
section of plain pages, and three small layouts; the Pelican site gets the
articles in Pelican's ``Key: value`` metadata format with tags and authors, no
entities, the default theme and its content cache on. Neither autolinks
entities, so the comparison is rough. Pelican has no template-edit row (its
templates are inside its package).

What each column means:

* **min s**, **median s**: wall-clock seconds of the whole process, from its start
  to its exit (``time.perf_counter``), lowest and median over the rounds;
* **rounds s**: every round's seconds, in order;
* **ms/article**: min s × 1000 / N;
* **× first**: the row's min s divided by the first tool's min s for the same
  scenario (the first tool is Postil, or the first ``--code`` given);
* **peak RSS MiB, largest process**: the highest ``ru_maxrss`` in the build's
  process tree (from ``os.wait4`` on the child, as ``/usr/bin/time`` reports it:
  the largest single process among the build and its workers), highest over
  the rounds;
* **peak PSS MiB, summed**: the highest sum of PSS (``/proc/PID/smaps_rollup``)
  over the build's process tree, sampled every 50 ms, highest over the rounds.
  PSS divides a shared page among the processes that map it, so forked workers
  do not count their inherited pages twice. Empty without ``/proc``;
* **files**: files in the output folder after the build (Postil's manifest and
  lock file are not counted);
* **written**: files created or replaced by the build: new names, and names
  whose inode, size or ``mtime_ns`` changed;
* **removed**: files the build deleted.

A no-change build that writes or removes files is reported in a note.

Options:

* ``--articles N ...``: corpus sizes, smallest first (default 1000);
* ``--entities E``: entities in each corpus (default 0), autolink on when E > 0;
* ``--rounds R``: rounds of each scenario (default 3);
* ``--seed S``: corpus seed (default 1);
* ``--keep DIR``: generate the corpora into ``DIR/articles-N-entities-E`` (the
  names ``bench/build.py --keep`` uses) and keep them, with the outputs in
  ``DIR/output-...``; a kept corpus whose size, seed and E match is reused, so
  figures taken before and after a change are on the same files;
* ``--code DIR``: measure the ``builder`` package of another checkout, e.g. a
  ``git worktree`` of an older commit: the child runs with ``PYTHONPATH=DIR`` and
  its working folder in DIR (default: the checkout this script is in, unless
  ``--python`` is given). The script checks which ``builder`` is imported and
  prints it. Given several times, every checkout runs the four scenarios in
  each round, taking turns (the order is reversed every other round), with its
  own output folder and its own theme's ``base.html``: the fairest before and
  after comparison on a machine whose load changes;
* ``--python PATH``: the interpreter that runs the builds (default: this one);
  alone, it measures whatever ``builder`` that interpreter imports;
* ``--settle SECONDS``: on a shared machine, before each build wait up to
  SECONDS for a one-second window in which the CPUs are at least 90% idle
  (from ``/proc/stat``); a line under the table says how many builds started
  on a busy machine anyway (default 0: no waiting);
* ``--jobs J``: worker processes. Passed as ``build --jobs J`` when the builder
  has that option; otherwise the child runs the same command line through a
  two-line shim that makes ``os.cpu_count()`` return J, which is where the
  builder takes its default.

Example: an older commit and the current tree on the same corpus, taking turns::

    git worktree add --detach /tmp/postil-old HEAD~5
    python bench/rebuild.py --articles 1000 --entities 200 --keep /tmp/corpora \\
        --code /tmp/postil-old --code .
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# Run from anywhere without installing: the repository root holds ``bench/``.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.generate import generate_site, read_stamp, stamp_for  # noqa: E402

SCENARIOS = ("cold", "no-change", "one article edited", "one template edited")
#: the site-local template the template scenario edits
TEMPLATE = "base.html"
#: how to undo a run's changes to a kept corpus, in the site folder (outside content/)
MARKER = ".postil-bench-rebuild.json"
#: files Postil keeps in its output folder that are not part of the site
HIDDEN_PREFIX = ".postil"
CACHE_DIR = ".postil-cache"
SAMPLE_SECONDS = 0.05
#: with ``--settle``, a build starts once the CPUs were this idle for a second
IDLE_WANTED = 0.9

#: run ``builder`` with ``os.cpu_count()`` patched, for builders without ``--jobs``
_CPU_SHIM = ("import os, runpy, sys; n = int(sys.argv.pop(1)); os.cpu_count = lambda: n; "
             "runpy.run_module('builder', run_name='__main__', alter_sys=True)")


# --------------------------------------------------------------------------
# Measuring one process
# --------------------------------------------------------------------------


class TreeSampler(threading.Thread):
    """Samples the summed PSS and RSS of a process and its descendants every 50 ms."""

    def __init__(self, root: int, interval: float = SAMPLE_SECONDS) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.done = threading.Event()
        self.peak_pss = 0  # KiB
        self.peak_rss = 0  # KiB
        self._parents: dict[int, int] = {}

    def run(self) -> None:
        while True:
            self.sample()
            if self.done.wait(self.interval):
                return

    def _tree(self) -> set[int]:
        """The root and its descendants, from ``/proc/PID/stat`` (each read once per pid)."""
        try:
            alive = {int(name) for name in os.listdir("/proc") if name.isdigit()}
        except OSError:
            return {self.root}
        for pid in list(self._parents):
            if pid not in alive:  # gone: a reused pid is classified again
                del self._parents[pid]
        for pid in alive - self._parents.keys():
            try:
                with open(f"/proc/{pid}/stat", "rb") as handle:
                    stat = handle.read()
                self._parents[pid] = int(stat[stat.rindex(b")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                continue
        tree = {self.root}
        grew = True
        while grew:
            grew = False
            for pid, parent in self._parents.items():
                if parent in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        return tree

    def sample(self) -> None:
        pss = rss = 0
        for pid in self._tree():
            try:
                with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                    for line in handle:
                        if line.startswith(b"Pss:"):
                            pss += int(line.split()[1])
                        elif line.startswith(b"Rss:"):
                            rss += int(line.split()[1])
            except (OSError, ValueError, IndexError):
                continue
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_rss = max(self.peak_rss, rss)


@dataclass
class Run:
    """One timed process."""

    seconds: float
    rss_largest: float  # MiB, ru_maxrss of the largest process in the tree
    pss_summed: float | None  # MiB, peak of the summed PSS; None without /proc
    files: int
    written: int
    removed: int
    touched: list[str]  # a few written or removed names, for the no-change note
    idle: float | None = None  # CPU idle fraction in the second before the start (--settle)


Snapshot = dict[str, tuple[int, int, int]]


def snapshot(root: Path) -> Snapshot:
    """Every file under ``root`` → (inode, size, mtime_ns); Postil's own dot-files left out."""
    found: Snapshot = {}
    if not root.is_dir():
        return found
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if not prefix and entry.name.startswith(HIDDEN_PREFIX):
                    continue
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((Path(entry.path), name + "/"))
                else:
                    st = entry.stat(follow_symlinks=False)
                    found[name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return found


def cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of all CPUs so far, from ``/proc/stat``; None without it."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(value) for value in handle.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return fields[3] + fields[4], sum(fields)  # idle + iowait, all


def settle(max_wait: float, wanted: float = IDLE_WANTED) -> float | None:
    """Wait, at most ``max_wait`` seconds, for a second in which the CPUs are mostly idle.

    Returns the idle fraction of the last one-second window (None without ``/proc/stat``).
    """
    deadline = time.monotonic() + max_wait
    while True:
        first = cpu_times()
        time.sleep(1.0)
        second = cpu_times()
        if first is None or second is None:
            return None
        total = second[1] - first[1]
        idle = (second[0] - first[0]) / total if total else 1.0
        if idle >= wanted or time.monotonic() >= deadline:
            return idle


class BuildError(Exception):
    """A build process failed; the message holds its command, status and output."""


def run_process(argv: list[str], cwd: Path, env: dict[str, str], output: Path,
                max_wait: float = 0.0) -> Run:
    """Run one build process to its end; time it and measure its memory and its writes.

    With ``max_wait`` > 0, first wait up to that many seconds for an idle machine.
    """
    before = snapshot(output)
    if hasattr(os, "sync"):  # earlier writes land now, not during this timing
        os.sync()
    idle = settle(max_wait) if max_wait > 0 else None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        sampler = TreeSampler(proc.pid) if os.path.isdir("/proc") else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if sampler:
            sampler.done.set()
            sampler.join()
        if proc.returncode != 0:
            out.seek(0)
            err.seek(0)
            text = (out.read() + err.read()).decode("utf-8", "replace").strip()
            raise BuildError(f"{' '.join(argv)} exited with {proc.returncode} in {cwd}:\n"
                             + "\n".join(text.splitlines()[-30:]))
    after = snapshot(output)
    written = [name for name, stat in after.items() if before.get(name) != stat]
    removed = [name for name in before if name not in after]
    rss_unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB
    return Run(seconds=seconds, rss_largest=usage.ru_maxrss * rss_unit / 2**20,
               pss_summed=sampler.peak_pss / 1024 if sampler and sampler.peak_pss else None,
               files=len(after), written=len(written), removed=len(removed),
               touched=sorted(written + removed)[:5], idle=idle)


# --------------------------------------------------------------------------
# The tools and their sites
# --------------------------------------------------------------------------


@dataclass
class Tool:
    """One site generator set up on one corpus: how to build, what to reset and edit."""

    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    output: Path
    cold_paths: list[Path]  # deleted before each cold build (output, caches)
    article: Path  # the article the edit scenario appends a sentence to
    template: Path | None  # the template the template scenario edits; None: no such row
    originals: dict[Path, bytes] = field(default_factory=dict)

    def remember(self) -> None:
        """Keep the unedited bytes of the files the scenarios edit."""
        for path in (self.article, self.template):
            if path is not None:
                self.originals[path] = path.read_bytes()

    def restore(self) -> None:
        for path, data in self.originals.items():
            if path.read_bytes() != data:
                path.write_bytes(data)

    def reset_cold(self) -> None:
        self.restore()
        for path in self.cold_paths:
            shutil.rmtree(path, ignore_errors=True)

    def build(self, max_wait: float = 0.0) -> Run:
        return run_process(self.argv, self.cwd, self.env, self.output, max_wait)


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


@dataclass
class Code:
    """The interpreter and the checkout whose ``builder`` is measured."""

    python: str
    env: dict[str, str]
    cwd: Path
    builder: Path  # the imported package's folder
    describe: str  # for the header: where it comes from
    label: str  # short name for the table: the commit, or the folder's name
    native_jobs: bool  # the builder has ``build --jobs``


def locate_code(python: str | None, code: Path | None, scratch: Path) -> Code:
    """Resolve ``--python`` and ``--code`` and check which ``builder`` the child imports."""
    interpreter = python or sys.executable
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if code is None and python is None:
        code = REPO
    if code is not None:
        code = code.resolve()
        env["PYTHONPATH"] = str(code)
        cwd = code
    else:
        cwd = scratch  # no stray ``builder`` folder to shadow the installed one
    probe = subprocess.run([interpreter, "-c", "import builder; print(builder.__file__)"],
                           cwd=cwd, env=env, capture_output=True, text=True)
    if probe.returncode != 0:
        raise SystemExit(f"{interpreter} cannot import builder (cwd {cwd}):\n{probe.stderr}")
    package = Path(probe.stdout.strip()).resolve().parent
    if code is not None and not package.is_relative_to(code):
        raise SystemExit(f"with PYTHONPATH={code}, {interpreter} imports {package}, "
                         "not the checkout's builder")
    where, label = str(package.parent), package.parent.name
    git = subprocess.run(["git", "-C", str(package.parent), "describe", "--always", "--dirty"],
                         capture_output=True, text=True)
    if git.returncode == 0:
        label = git.stdout.strip()
        where += f" (commit {label})"
    helptext = subprocess.run([interpreter, "-m", "builder", "build", "--help"], cwd=cwd,
                              env=env, capture_output=True, text=True).stdout
    # Compile the package's bytecode now, so that the first timed build does not.
    subprocess.run([interpreter, "-c", "import builder.cli, builder.pipeline"], cwd=cwd,
                   env=env, capture_output=True)
    return Code(python=interpreter, env=env, cwd=cwd, builder=package, describe=where, label=label,
                native_jobs="--jobs" in helptext)


def postil_tool(code: Code, site: Path, output: Path, jobs: int | None,
                name: str = "Postil") -> Tool:
    """Postil on the corpus itself, with a site-local copy of its theme's ``base.html``.

    The copy is (re)written from this checkout's theme before each cold build, so that
    several checkouts can take turns on one corpus.
    """
    own = site / "templates" / TEMPLATE
    own.parent.mkdir(exist_ok=True)
    article = edited_article(site)
    originals = {
        article: article.read_bytes(),
        own: (code.builder / "themes" / "default" / "templates" / TEMPLATE).read_bytes(),
    }
    own.write_bytes(originals[own])
    command = ["build", str(site), "-o", str(output), "-q"]
    if jobs is None:
        argv = [code.python, "-m", "builder", *command]
    elif code.native_jobs:
        argv = [code.python, "-m", "builder", *command, "--jobs", str(jobs)]
    else:
        argv = [code.python, "-c", _CPU_SHIM, str(jobs), *command]
    return Tool(name=name, argv=argv, cwd=code.cwd, env=code.env, output=output,
                cold_paths=[output, site / CACHE_DIR], article=article, template=own,
                originals=originals)


def edited_article(site: Path) -> Path:
    """The article the edit scenario changes: the middle one in name order."""
    articles = sorted((site / "content").glob("*.md"))
    return articles[len(articles) // 2]


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter without its ``---`` lines, body) of a generated Markdown file."""
    _, front, body = text.split("---\n", 2)
    return front, body


HUGO_CONFIG = """\
baseURL = "https://bench.example.org/"
title = "Postil benchmark archive"
languageCode = "en"
timeZone = "Europe/Paris"
[taxonomies]
tag = "tags"
author = "authors"
"""

HUGO_LAYOUTS = {
    "baseof.html": """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ site.Title }}</title></head>
<body><header><a href="{{ "/" | relURL }}">{{ site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main>
</body></html>
""",
    "single.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p>{{ .Date.Format "2 January 2006" }}{{ range .GetTerms "authors" }} · <a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>{{ end }}</p>
<p>{{ range .GetTerms "tags" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</p>
{{ .Content }}</article>{{ end }}
""",  # noqa: E501
    "list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ $pages := .Pages }}{{ if .IsHome }}{{ $pages = where site.RegularPages "Section" "posts" }}{{ end }}
{{ $pager := .Paginate $pages }}<ul>{{ range $pager.Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Date.Format "2006-01-02" }}</li>{{ end }}</ul>
{{ with $pager.Next }}<a href="{{ .URL }}">next</a>{{ end }}{{ end }}
""",  # noqa: E501
}


def hugo_tool(hugo: str, site: Path, mirror: Path, output: Path) -> Tool:
    """A Hugo site holding the corpus's articles (and entities, as plain pages)."""
    shutil.rmtree(mirror, ignore_errors=True)
    posts = mirror / "content" / "posts"
    posts.mkdir(parents=True)
    for source in sorted((site / "content").glob("*.md")):
        lines = source.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(lines):
            if line == "---" and i:
                break
            if line.startswith("author: "):  # one author: into the ``authors`` taxonomy
                lines[i] = f"authors: [{line[len('author: '):]}]"
        (posts / source.name).write_text("\n".join(lines), encoding="utf-8")
    entities = mirror / "content" / "entities"
    entities.mkdir()
    for source in sorted((site / "content" / "entities").glob("*.md")):
        front, body = split_front_matter(source.read_text(encoding="utf-8"))
        # Only the name: ``aliases`` and ``type`` mean something else to Hugo.
        name = next(line for line in front.splitlines() if line.startswith("name: "))
        (entities / source.name).write_text(f"---\ntitle: {name[len('name: '):]}\n---\n{body}",
                                            encoding="utf-8")
    layouts = mirror / "layouts" / "_default"
    layouts.mkdir(parents=True)
    for name, text in HUGO_LAYOUTS.items():
        (layouts / name).write_text(text, encoding="utf-8")
    (mirror / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    cache = mirror / ".hugo-cache"
    return Tool(name="Hugo", argv=[hugo, "--source", str(mirror), "--config",
                                   str(mirror / "hugo.toml"), "--destination", str(output),
                                   "--cacheDir", str(cache), "--quiet"],
                cwd=mirror, env=dict(os.environ), output=output,
                cold_paths=[output, cache, mirror / "resources"],
                article=posts / edited_article(site).name, template=layouts / "baseof.html")


PELICAN_CONFIG = """\
AUTHOR = "Postil bench"
SITENAME = "Postil benchmark archive"
SITEURL = ""
PATH = {content!r}
TIMEZONE = "Europe/Paris"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 10
DELETE_OUTPUT_DIRECTORY = False
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = {cache!r}
"""


def pelican_tool(pelican: str, site: Path, mirror: Path, output: Path) -> Tool:
    """A Pelican site holding the corpus's articles in Pelican's metadata format."""
    import yaml  # a dependency of Postil; only needed here

    shutil.rmtree(mirror, ignore_errors=True)
    content = mirror / "content"
    content.mkdir(parents=True)
    for source in sorted((site / "content").glob("*.md")):
        front, body = split_front_matter(source.read_text(encoding="utf-8"))
        meta = yaml.safe_load(front)
        authors = meta.get("authors") or [meta["author"]]
        lines = [f"Title: {meta['title']}", f"Date: {meta['date']}",
                 f"Tags: {', '.join(str(tag) for tag in meta.get('tags', []))}",
                 f"Authors: {', '.join(authors)}"]
        if meta.get("summary"):
            lines.append(f"Summary: {meta['summary']}")
        (content / source.name).write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
    cache = mirror / "cache"
    settings = mirror / "pelicanconf.py"
    settings.write_text(PELICAN_CONFIG.format(content=str(content), cache=str(cache)),
                        encoding="utf-8")
    return Tool(name="Pelican", argv=[pelican, "-s", str(settings), "-o", str(output), "-q"],
                cwd=mirror, env=dict(os.environ), output=output, cold_paths=[output, cache],
                article=content / edited_article(site).name, template=None)


# --------------------------------------------------------------------------
# Corpus, rounds and the table
# --------------------------------------------------------------------------


def corpus(root: Path, articles: int, seed: int, entities: int) -> tuple[Path, str]:
    """The site folder for this size (the names ``bench/build.py`` uses), generated if needed."""
    name = f"articles-{articles}" + (f"-entities-{entities}" if entities else "")
    site = root / name
    recover(site)
    if read_stamp(site) == stamp_for(articles, seed, entities):
        return site, "reused from an earlier run"
    stats = generate_site(articles, site, seed=seed, entities=entities, force=True)
    return site, f"{stats.bytes / 2**20:.1f} MiB of Markdown, generated in {stats.seconds:.2f} s"


def recover(site: Path) -> None:
    """Undo what a killed run left in a kept corpus: an edited article, a site-local template."""
    try:
        record = json.loads((site / MARKER).read_text(encoding="utf-8"))
        article, text = site / record["article"], record["text"]
        template = site / record["template"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    if article.read_text(encoding="utf-8") != text:
        article.write_text(text, encoding="utf-8")
    template.unlink(missing_ok=True)
    if template.parent.is_dir() and not any(template.parent.iterdir()):
        template.parent.rmdir()
    (site / MARKER).unlink()


def write_marker(site: Path, tool: Tool) -> None:
    """Record how to undo this run's changes to the corpus, should the run be killed."""
    assert tool.template is not None
    record = {"article": tool.article.relative_to(site).as_posix(),
              "text": tool.originals[tool.article].decode("utf-8"),
              "template": tool.template.relative_to(site).as_posix()}
    (site / MARKER).write_text(json.dumps(record), encoding="utf-8")


def cleanup(site: Path, tool: Tool) -> None:
    """Leave the corpus as generated: original article, no site-local template, no marker."""
    tool.restore()
    if tool.template is not None:
        tool.template.unlink(missing_ok=True)
        if not any(tool.template.parent.iterdir()):
            tool.template.parent.rmdir()
    (site / MARKER).unlink(missing_ok=True)


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return _n(low) if low == high else f"{_n(low)}–{_n(high)}"


def table(results: dict[str, dict[str, list[Run]]], articles: int) -> str:
    header = ("| tool | build | min s | median s | rounds s | ms/article | × first "
              "| peak RSS MiB, largest process | peak PSS MiB, summed | files | written "
              "| removed |")
    rows = [header, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    first = next(iter(results))
    for tool, scenarios in results.items():
        for scenario in SCENARIOS:
            runs = scenarios.get(scenario)
            if not runs:
                continue
            times = [run.seconds for run in runs]
            best = min(times)
            ratio = ""
            if tool != first and results[first].get(scenario):
                ratio = f"{best / min(run.seconds for run in results[first][scenario]):.2f}"
            pss = [run.pss_summed for run in runs if run.pss_summed is not None]
            rows.append(
                f"| {tool} | {scenario} | {best:.2f} | {statistics.median(times):.2f} "
                f"| {', '.join(f'{t:.2f}' for t in times)} | {best * 1000 / articles:.2f} "
                f"| {ratio} | {_n(max(run.rss_largest for run in runs))} "
                f"| {_n(max(pss)) if pss else ''} | {_span([run.files for run in runs])} "
                f"| {_span([run.written for run in runs])} "
                f"| {_span([run.removed for run in runs])} |")
    return "\n".join(rows)


def measure(tools: list[Tool], rounds: int, max_wait: float, progress: Callable[[str], None]
            ) -> tuple[dict[str, dict[str, list[Run]]], list[str]]:
    """R rounds; in each, every tool runs every scenario in turn. Returns runs and round loads."""
    results: dict[str, dict[str, list[Run]]] = {tool.name: {} for tool in tools}
    loads: list[str] = []
    for round_no in range(1, rounds + 1):
        loads.append(f"{os.getloadavg()[0]:.2f}")
        for tool in tools if round_no % 2 else tools[::-1]:  # take turns fairly
            tool.reset_cold()
            runs = results[tool.name]
            progress(f"round {round_no}/{rounds}: {tool.name} cold")
            runs.setdefault("cold", []).append(tool.build(max_wait))
            progress(f"round {round_no}/{rounds}: {tool.name} no-change")
            runs.setdefault("no-change", []).append(tool.build(max_wait))
            append(tool.article, f"\nOne more sentence for the rebuild benchmark, round "
                                 f"{round_no}.\n")
            progress(f"round {round_no}/{rounds}: {tool.name} one article edited")
            runs.setdefault("one article edited", []).append(tool.build(max_wait))
            if tool.template is not None:
                append(tool.template, f"<!-- rebuild benchmark: template edited, round "
                                      f"{round_no} -->\n")
                progress(f"round {round_no}/{rounds}: {tool.name} one template edited")
                runs.setdefault("one template edited", []).append(tool.build(max_wait))
            tool.restore()
    return results, loads


def run_size(root: Path, codes: list[Code], articles: int, entities: int, seed: int,
             rounds: int, jobs: int | None, others: dict[str, str], max_wait: float = 0.0
             ) -> bool:
    """Measure one corpus size and print its table. False if a build failed."""
    def progress(message: str) -> None:
        print(f"[{datetime.now():%H:%M:%S}] {_n(articles)} articles: {message}",
              file=sys.stderr, flush=True)

    site, made = corpus(root, articles, seed, entities)
    if hasattr(os, "sync"):
        os.sync()
    name = site.name
    outputs = root / f"output-{name}"
    tools = []
    try:
        for i, code in enumerate(codes, start=1):
            if len(codes) == 1:
                tools.append(postil_tool(code, site, outputs / "postil", jobs))
            else:
                label = code.label if sum(c.label == code.label for c in codes) == 1 \
                    else f"{code.label} ({i})"
                tools.append(postil_tool(code, site, outputs / f"postil-{i}", jobs,
                                         name=f"Postil {label}"))
            if i == 1:
                write_marker(site, tools[0])
        postil = len(tools)
        if "hugo" in others:
            tools.append(hugo_tool(others["hugo"], site, root / f"{name}-hugo",
                                   outputs / "hugo"))
        if "pelican" in others:
            tools.append(pelican_tool(others["pelican"], site, root / f"{name}-pelican",
                                      outputs / "pelican"))
        for tool in tools[postil:]:
            tool.remember()
        title = f"### {_n(articles)} articles" + (f", {_n(entities)} entities" if entities
                                                   else "")
        print(f"{title}\n\ncorpus: {made}; load average before: {load()}\n", flush=True)
        try:
            results, loads = measure(tools, rounds, max_wait, progress)
        except BuildError as exc:
            print(f"build failed: {exc}", file=sys.stderr)
            return False
    finally:
        for tool in tools[1:]:
            tool.restore()
        if tools:
            cleanup(site, tools[0])
    print(table(results, articles) + "\n")
    print(f"load average after: {load()}; 1-minute load at the start of each round: "
          f"{', '.join(loads)}\n", flush=True)
    idles = [run.idle for runs in results.values() for group in runs.values() for run in group
             if run.idle is not None]
    if idles:
        busy = sum(1 for idle in idles if idle < IDLE_WANTED)
        print(f"--settle {max_wait:g}: {busy} of {len(idles)} builds started on a busy machine "
              f"(CPUs under {IDLE_WANTED:.0%} idle in the second before, after waiting); "
              f"lowest idle {min(idles):.0%}\n", flush=True)
    for tool in tools[:postil]:
        for run in results[tool.name]["no-change"]:
            if run.written or run.removed:
                print(f"note: a no-change build of {tool.name} wrote {run.written} and removed "
                      f"{run.removed} file(s); it should touch none: "
                      f"{', '.join(run.touched)}\n", flush=True)
                break
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time whole `postil build` processes: cold, no-change, one article "
                    "edited, one template edited.")
    parser.add_argument("--articles", type=int, nargs="+", default=[1000], metavar="N",
                        help="corpus sizes, smallest first (default 1000)")
    parser.add_argument("--entities", type=int, default=0, metavar="E",
                        help="entities in each corpus, autolink on when E > 0 (default 0)")
    parser.add_argument("--rounds", type=int, default=3, metavar="R",
                        help="rounds of every scenario (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="generate corpora and outputs in DIR and keep them; reuse a "
                             "matching corpus found there")
    parser.add_argument("--code", type=Path, action="append", default=None, metavar="DIR",
                        help="measure the builder of this checkout (PYTHONPATH=DIR, cwd DIR); "
                             "give it several times to take turns; default: this checkout")
    parser.add_argument("--python", default=None, metavar="PATH",
                        help="interpreter that runs the builds (default: this one)")
    parser.add_argument("--settle", type=float, default=0.0, metavar="SECONDS",
                        help="before each build, wait up to SECONDS for a second in which the "
                             "CPUs are 90%% idle (default 0: do not wait)")
    parser.add_argument("--jobs", type=int, default=None, metavar="J",
                        help="worker processes (default: the builder's, one per core)")
    args = parser.parse_args(argv)
    if min(args.articles) < 1 or args.entities < 0 or args.rounds < 1 or \
            (args.jobs is not None and args.jobs < 1):
        parser.error("N, R and J must be 1 or more and E 0 or more")
    for folder in args.code or []:
        if not (folder / "builder").is_dir():
            parser.error(f"{folder} holds no builder/ package")

    scratch = Path(tempfile.mkdtemp(prefix="postil-rebuild-"))
    root = args.keep.resolve() if args.keep else scratch
    root.mkdir(parents=True, exist_ok=True)
    try:
        codes = [locate_code(args.python, folder, scratch) for folder in args.code or [None]]
        others = {name: path for name in ("hugo", "pelican") if (path := shutil.which(name))}
        jobs = f"jobs={args.jobs}" if args.jobs else \
            f"jobs: the builder's default ({os.cpu_count()})"
        if args.jobs and not all(code.native_jobs for code in codes):
            jobs += " (through the os.cpu_count shim where the builder has no --jobs)"
        print("## Postil rebuild benchmark: whole `postil build` processes\n")
        builders = "; ".join(f"builder: {code.describe}" for code in codes)
        print(f"{datetime.now():%Y-%m-%d %H:%M}; {builders}; Python "
              f"{platform.python_version()} ({codes[0].python}) on {platform.system()} "
              f"{platform.machine()}, {os.cpu_count()} CPUs, {jobs}; seed {args.seed}, "
              f"{args.rounds} rounds, min and median over rounds"
              f"{f'; --settle {args.settle:g}' if args.settle else ''}\n")
        missing = [name for name in ("hugo", "pelican") if name not in others]
        if missing:
            print(f"not installed, so no rows: {' and '.join(missing)}\n")
        sys.stdout.flush()
        for size in sorted(args.articles):
            if not run_size(root, codes, size, args.entities, args.seed, args.rounds,
                            args.jobs, others, args.settle):
                return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
