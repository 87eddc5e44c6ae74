"""Time whole ``postil build`` processes: cold, no-change and one-edit rebuilds.

    python bench/rebuild.py [--articles N ...] [--entities E] [--rounds R] [--seed S]
                            [--scenarios NAME ...] [--serve] [--serve-edits E]
                            [--tools TOOL ...] [--hugo PATH] [--pelican PATH]
                            [--keep DIR] [--code DIR] [--python PATH] [--jobs J]
                            [--settle SECONDS]

Each build is a separate process started the way a user starts it,
``python3 -m builder build SITE -o OUT`` (without ``-q``: its summary line
gives the pages rendered and the files written), so every figure includes the
interpreter's start-up, the imports, reading the cache and writing the output:
what a user waits for at the shell. (``bench/build.py`` times the ``build()``
call inside one process instead.)

For each corpus size N, the script generates a corpus with
``bench/generate.py N DIR --entities E`` (or reuses a kept one, see ``--keep``;
generating is not part of any figure), gives the site its own copy of the
theme's ``base.html`` (``SITE/templates/``, copied from the theme of the code
being measured, so the pages are the same as without it) and, when the builder
has a ``search`` key in ``site.yml``, ``search: false`` (every goal of the
speed issue is measured without search). Then, R times in turn, it runs four
scenarios:

1. **cold**: the output folder and the site's ``.postil-cache/`` are deleted
   first: everything is parsed, rendered and written;
2. **no-change**: the same build again, nothing edited: whatever the builder
   reuses, it may reuse; it should render no page and write no file;
3. **one article edited**: one sentence appended to the body of one article (the
   middle one in name order), then a build;
4. **one template edited**: an HTML comment appended to the site's own
   ``templates/base.html`` (so every page changes), then a build.

``--scenarios`` picks some of them (``cold``, ``no-change``, ``article``,
``template``); every round still starts with a cold build, left out of the
table when ``cold`` is not picked. With ``--serve`` (or the scenario ``serve``)
it also times ``postil serve`` once per size, after the rounds, by running
``bench/serve_latency.py --child`` of the measured checkout on the same corpus:
a server's first build, then ``--serve-edits`` saves of one article, each from
the rename to the reload event the tab receives.

After each round the article and the template get their original text back,
and at the end ``site.yml`` is restored and the site's ``templates/`` copy is
removed, so a kept corpus stays exactly as ``generate.py`` made it (a marker
file, ``SITE/.postil-bench-rebuild.json``, lets the next run undo what a killed
run left behind). The figures for each scenario are the minimum and the median
over the R rounds: on a shared machine the minimum is the least disturbed run.
The 1-minute load average (``os.getloadavg``) is printed before and after each
table and at the start of each round, to judge how busy the machine was.

When ``hugo`` or ``pelican`` is found (on ``PATH``, or given by ``--hugo`` and
``--pelican``), the same articles are also built with them, in the same rounds,
taking turns with Postil (a note says so when they are missing; ``--tools``
leaves them out). The Hugo site (``bench/hugo_site.py``) builds Postil's
default pages from the same articles, ``paginate`` 10: every article page,
the paginated home page, ``/archive/``, the tag, author and entity pages
(``tags``, ``authors`` and ``entities`` taxonomies, term pages paginated;
which entities an article names is found before the run with Postil's own
matcher and written into its front matter), the ``/tags/``, ``/authors/`` and
``/entities/`` lists, a feed of the 20 newest articles in full for the site
and for every term, the sitemap and a 404 page. It does not autolink entity
names in the prose, quote passages on entity pages, or build related
articles, co-mentions, the timeline, annotations or JSON-LD: Postil does more
per build (see bench/README.md). The Pelican site gets the
articles in Pelican's ``Key: value`` metadata format with tags and authors, no
entities, the default theme and its content cache on. Pelican has no
template-edit row (its templates are inside its package).

What each column means:

* **articles**: articles built (from Postil's summary line; the corpus's N for
  the others); **entities**: entities built as pages (Postil's entity pages,
  Hugo's plain pages; 0 for Pelican);
* **pages**: ``.html`` files in the output folder after the build;
* **min s**, **median s**: wall-clock seconds of the whole process, from its start
  to its exit (``time.perf_counter``), lowest and median over the rounds (three
  decimals below one second);
* **rounds s**: every round's seconds, in order;
* **ms/article**: min s × 1000 / articles;
* **× Postil**: the row's min s divided by Postil's min s for the same scenario
  (the first ``--code`` given, when there are several);
* **peak PSS MiB, summed**: the highest sum of PSS (``/proc/PID/smaps_rollup``)
  over the build's process tree, sampled every 50 ms, highest over the rounds.
  PSS divides a shared page among the processes that map it, so forked workers
  do not count their inherited pages twice. Empty without ``/proc``;
* **peak RSS MiB, largest process**: the highest ``ru_maxrss`` in the build's
  process tree (from ``os.wait4`` on the child, as ``/usr/bin/time`` reports it:
  the largest single process among the build and its workers), highest over
  the rounds;
* **rendered**: pages the build rendered, not reused: Postil's summary line
  (``built N articles into OUT: R rendered, W written, ...``), Hugo's
  statistics (``Pages`` + ``Paginator pages``); ``?`` when the tool does not say;
* **written**: Postil: files written, from its summary line (``?`` without
  it; a note says when it differs from what the disk shows); Hugo and Pelican:
  files created or replaced, seen on disk (new names, and names whose inode,
  size or ``mtime_ns`` changed);
* **removed**: files the build deleted;
* **files**: files in the output folder after the build (Postil's manifest and
  lock file are not counted).

The ``Postil serve`` rows: "first build" is the server's cold first build (in
memory, its process pool allowed), with the peak PSS and RSS of the server's
process tree over the whole session and the files it serves; "article saved →
reload event" gives min, median and every save's latency, and the median of
the pages each rebuild rendered.

A no-change build that renders pages or writes or removes files is reported in
a note.

Options:

* ``--articles N ...``: corpus sizes, smallest first (default 1000);
* ``--entities E``: entities in each corpus (default 0), autolink on when E > 0;
* ``--rounds R``: rounds of each scenario (default 3);
* ``--scenarios NAME ...``: ``cold``, ``no-change``, ``article``, ``template``,
  ``serve`` (default: the first four);
* ``--serve``: add ``serve``; ``--serve-edits E``: article saves it times (default 5);
* ``--tools TOOL ...``: ``postil``, ``hugo``, ``pelican`` (default: all three,
  Hugo and Pelican when found);
* ``--hugo PATH``, ``--pelican PATH``: the executables (default: on ``PATH``),
  e.g. Pelican installed in a virtual environment of its own;
* ``--seed S``: corpus seed (default 1);
* ``--keep DIR``: generate the corpora into ``DIR/articles-N-entities-E`` (the
  names ``bench/build.py --keep`` uses) and keep them, with the outputs in
  ``DIR/output-...``; a kept corpus whose size, seed and E match is reused, so
  figures taken before and after a change are on the same files;
* ``--code DIR``: measure the ``builder`` package of another checkout, e.g. a
  ``git worktree`` of an older commit: the child runs with ``PYTHONPATH=DIR`` and
  its working folder in DIR (default: the checkout this script is in, unless
  ``--python`` is given). The script checks which ``builder`` is imported and
  prints it. Given several times, every checkout runs the scenarios in
  each round, taking turns (the order is reversed every other round), with its
  own output folder and its own theme's ``base.html``: the fairest before and
  after comparison on a machine whose load changes. ``serve`` measures the
  first checkout only;
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

Examples: the issue's table with Hugo, Pelican and serve; the 100,000-article
cold build alone; an older commit and the current tree on the same corpus::

    python bench/rebuild.py --articles 1000 10000 --entities 2000 --serve
    python bench/rebuild.py --articles 100000 --entities 20000 --rounds 1 \\
        --scenarios cold --tools postil
    git worktree add --detach ../postil-old HEAD~5
    python bench/rebuild.py --articles 1000 --entities 200 --keep ../corpora \\
        --code ../postil-old --code .
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
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
from bench.hugo_site import front_matter as split_front_matter  # noqa: E402
from bench.hugo_site import write_hugo_site  # noqa: E402

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
class Report:
    """What a build process said about its own work; None for what it did not say."""

    articles: int | None = None
    rendered: int | None = None  # pages rendered (not reused)
    written: int | None = None  # files written


@dataclass
class Run:
    """One timed process."""

    seconds: float
    rss_largest: float  # MiB, ru_maxrss of the largest process in the tree
    pss_summed: float | None  # MiB, peak of the summed PSS; None without /proc
    files: int  # files in the output folder after the build
    pages: int  # of which .html
    changed: int  # files created or replaced, seen on disk (inode, size or mtime_ns)
    removed: int
    touched: list[str]  # a few written or removed names, for the no-change note
    report: Report = field(default_factory=Report)  # from the build's own output
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


@dataclass
class Finished:
    """A process that ran to its end, with its output, time and memory."""

    status: int  # exit code
    seconds: float  # wall clock, start to exit
    stdout: str
    stderr: str
    rss_largest: float  # MiB, ru_maxrss of the largest process in the tree
    pss_summed: float | None  # MiB, peak of the summed PSS; None without /proc


def run_sampled(argv: list[str], cwd: Path, env: dict[str, str]) -> Finished:
    """Run ``argv`` to its end, timing it and sampling the summed PSS of its process tree."""
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
        out.seek(0)
        err.seek(0)
        stdout, stderr = (out.read().decode("utf-8", "replace"),
                          err.read().decode("utf-8", "replace"))
    rss_unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB
    return Finished(status=proc.returncode, seconds=seconds, stdout=stdout, stderr=stderr,
                    rss_largest=usage.ru_maxrss * rss_unit / 2**20,
                    pss_summed=sampler.peak_pss / 1024 if sampler and sampler.peak_pss
                    else None)


def run_process(argv: list[str], cwd: Path, env: dict[str, str], output: Path,
                max_wait: float = 0.0, parse: Callable[[str], Report] | None = None) -> Run:
    """Run one build process to its end; time it and measure its memory and its writes.

    With ``max_wait`` > 0, first wait up to that many seconds for an idle machine.
    ``parse`` reads the process's standard output into a :class:`Report`.
    """
    before = snapshot(output)
    if hasattr(os, "sync"):  # earlier writes land now, not during this timing
        os.sync()
    idle = settle(max_wait) if max_wait > 0 else None
    done = run_sampled(argv, cwd, env)
    if done.status != 0:
        text = (done.stdout + done.stderr).strip()
        raise BuildError(f"{' '.join(argv)} exited with {done.status} in {cwd}:\n"
                         + "\n".join(text.splitlines()[-30:]))
    after = snapshot(output)
    written = [name for name, stat in after.items() if before.get(name) != stat]
    removed = [name for name in before if name not in after]
    return Run(seconds=done.seconds, rss_largest=done.rss_largest, pss_summed=done.pss_summed,
               files=len(after), pages=sum(1 for name in after if name.endswith(".html")),
               changed=len(written), removed=len(removed),
               touched=sorted(written + removed)[:5],
               report=parse(done.stdout) if parse else Report(), idle=idle)


_POSTIL_SUMMARY = re.compile(r"^built (\d+) articles? into .*$", re.MULTILINE)
_HUGO_PAGES = re.compile(r"^\s*(Pages|Paginator pages)\s*[|│]\s*(\d+)", re.MULTILINE)


def postil_report(stdout: str) -> Report:
    """Postil's summary line: ``built N articles into OUT: R rendered, W written, ...``.

    Counts the line does not give (an older builder, or no line at all) stay None.
    """
    found = list(_POSTIL_SUMMARY.finditer(stdout))
    if not found:
        return Report()
    line = found[-1]
    counts = {word: int(number) for number, word in
              re.findall(r"(\d+) (rendered|written)\b", line.group(0).rsplit(": ", 1)[-1])}
    return Report(articles=int(line.group(1)), rendered=counts.get("rendered"),
                  written=counts.get("written"))


def hugo_report(stdout: str) -> Report:
    """Hugo's statistics table: pages rendered = ``Pages`` + ``Paginator pages``."""
    counts = {name: int(number) for name, number in _HUGO_PAGES.findall(stdout)}
    return Report(rendered=sum(counts.values()) if "Pages" in counts else None)


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
    articles: int = 0  # articles in the corpus it builds
    entities: int = 0  # entities it builds (as entity pages; taxonomy term pages for Hugo)
    parse: Callable[[str], Report] | None = None  # reads its standard output
    reports_writes: bool = False  # the "written" column is its own count (Postil), not ours

    def remember(self) -> None:
        """Keep the unedited bytes of the files the scenarios edit."""
        for path in (self.article, self.template):
            if path is not None:
                self.originals[path] = path.read_bytes()

    def restore(self) -> None:
        """Give every edited file its original bytes back (recreating it if it is gone)."""
        for path, data in self.originals.items():
            if not path.is_file() or path.read_bytes() != data:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)

    def reset_cold(self) -> None:
        """Restore the edited files and delete the output and the caches."""
        self.restore()
        for path in self.cold_paths:
            shutil.rmtree(path, ignore_errors=True)

    def build(self, max_wait: float = 0.0) -> Run:
        """One timed build process (see :func:`run_process`)."""
        return run_process(self.argv, self.cwd, self.env, self.output, max_wait, self.parse)


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
    search: bool | None = False  # site.yml takes a ``search`` key; None: could not tell


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
                native_jobs="--jobs" in helptext, search=knows_search(interpreter, cwd, env))


#: prints whether ``load_config`` accepts ``search: false`` without an "unknown key" warning
_SEARCH_PROBE = """\
import pathlib, shutil, tempfile
from builder.config import load_config
folder = pathlib.Path(tempfile.mkdtemp())
try:
    (folder / "site.yml").write_text("search: false\\n", encoding="utf-8")
    _, problems = load_config(folder)
    print("unknown" if any("search" in str(getattr(p, "message", p)) for p in problems)
          else "known")
finally:
    shutil.rmtree(folder)
"""


def knows_search(python: str, cwd: Path, env: dict[str, str]) -> bool | None:
    """Whether this builder's ``site.yml`` has a ``search`` key (None: the probe failed).

    Every goal of the speed issue is measured with ``search: false``, so when the key
    exists the benchmark writes it into the corpus's ``site.yml`` for the run.
    """
    probe = subprocess.run([python, "-c", _SEARCH_PROBE], cwd=cwd, env=env,
                           capture_output=True, text=True)
    answer = probe.stdout.strip()
    return {"known": True, "unknown": False}.get(answer) if probe.returncode == 0 else None


def search_off(config: Path) -> bool:
    """Make ``site.yml`` say ``search: false`` (replacing any ``search:`` line); True if changed."""
    text = config.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not re.match(r"search\s*:", line)]
    wanted = "\n".join([*lines, "search: false"]) + "\n"
    if wanted == text:
        return False
    config.write_text(wanted, encoding="utf-8")
    return True


def postil_tool(code: Code, site: Path, output: Path, jobs: int | None,
                name: str = "Postil", articles: int = 0, entities: int = 0,
                also: dict[Path, bytes] | None = None) -> Tool:
    """Postil on the corpus itself, with a site-local copy of its theme's ``base.html``.

    The copy is (re)written from this checkout's theme before each cold build, so that
    several checkouts can take turns on one corpus. ``also``: more files to restore
    at the end (path → original bytes), such as a ``site.yml`` given ``search: false``.
    """
    own = site / "templates" / TEMPLATE
    own.parent.mkdir(exist_ok=True)
    article = edited_article(site)
    originals = {
        article: article.read_bytes(),
        own: (code.builder / "themes" / "default" / "templates" / TEMPLATE).read_bytes(),
    }
    own.write_bytes(originals[own])
    originals.update(also or {})
    # Not -q: the summary line gives the pages rendered and the files written.
    command = ["build", str(site), "-o", str(output)]
    if jobs is None:
        argv = [code.python, "-m", "builder", *command]
    elif code.native_jobs:
        argv = [code.python, "-m", "builder", *command, "--jobs", str(jobs)]
    else:
        argv = [code.python, "-c", _CPU_SHIM, str(jobs), *command]
    return Tool(name=name, argv=argv, cwd=code.cwd, env=code.env, output=output,
                cold_paths=[output, site / CACHE_DIR], article=article, template=own,
                originals=originals, articles=articles, entities=entities,
                parse=postil_report, reports_writes=True)


def edited_article(site: Path) -> Path:
    """The article the edit scenario changes: the middle one in name order."""
    articles = sorted((site / "content").glob("*.md"))
    return articles[len(articles) // 2]


def hugo_tool(hugo: str, site: Path, mirror: Path, output: Path) -> Tool:
    """A Hugo site building Postil's pages from the corpus's articles (see bench/hugo_site.py)."""
    posts, template, articles, entities = write_hugo_site(site, mirror)
    cache = mirror / ".hugo-cache"
    # Not --quiet: its statistics table gives the pages rendered.
    return Tool(name="Hugo", argv=[hugo, "--source", str(mirror), "--config",
                                   str(mirror / "hugo.toml"), "--destination", str(output),
                                   "--cacheDir", str(cache)],
                cwd=mirror, env=dict(os.environ), output=output,
                cold_paths=[output, cache, mirror / "resources"],
                article=posts / edited_article(site).name, template=template,
                articles=articles, entities=entities, parse=hugo_report)


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
        # Slug: the file's, as Postil's; Pelican's own comes from the title, and
        # generated titles repeat (Pelican 4.12 then refuses to overwrite the page).
        lines = [f"Title: {meta['title']}", f"Slug: {source.stem}", f"Date: {meta['date']}",
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
                article=content / edited_article(site).name, template=None,
                articles=sum(1 for _ in content.glob("*.md")))


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
    """Undo what a killed run left in a kept corpus: edited files, a site-local template."""
    try:
        record = json.loads((site / MARKER).read_text(encoding="utf-8"))
        # "files": this version; "article" and "text": the marker of earlier versions
        files = record.get("files") or {record["article"]: record["text"]}
        template = site / record["template"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    for name, text in files.items():
        path = site / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    template.unlink(missing_ok=True)
    if template.parent.is_dir() and not any(template.parent.iterdir()):
        template.parent.rmdir()
    (site / MARKER).unlink()


def write_marker(site: Path, tool: Tool) -> None:
    """Record how to undo this run's changes to the corpus, should the run be killed."""
    assert tool.template is not None
    record = {"files": {path.relative_to(site).as_posix(): data.decode("utf-8")
                        for path, data in tool.originals.items() if path != tool.template},
              "template": tool.template.relative_to(site).as_posix()}
    (site / MARKER).write_text(json.dumps(record), encoding="utf-8")


def cleanup(site: Path, tool: Tool) -> None:
    """Leave the corpus as generated: original files, no site-local template, no marker."""
    tool.restore()
    if tool.template is not None:
        tool.template.unlink(missing_ok=True)
        if tool.template.parent.is_dir() and not any(tool.template.parent.iterdir()):
            tool.template.parent.rmdir()
    (site / MARKER).unlink(missing_ok=True)


# --------------------------------------------------------------------------
# postil serve: save to reload, through bench/serve_latency.py
# --------------------------------------------------------------------------


def measure_serve(code: Code, site: Path, edits: int) -> tuple[dict, Finished] | str:
    """Time ``postil serve`` on ``site`` with the measured checkout's ``bench/serve_latency.py``.

    Runs its one-measurement child (``serve_latency.py --child SITE --edits E
    --no-template``): a cold first build in a fresh server, then E saves of one article,
    each timed from the rename to the reload event, and E stylesheet saves. Its process
    tree's summed PSS is sampled meanwhile. Returns (its figures, the process), or why
    there are none.
    """
    script = code.builder.parent / "bench" / "serve_latency.py"
    if not script.is_file():
        return f"no serve row: {script} does not exist"
    done = run_sampled([code.python, str(script), "--child", str(site), "--edits", str(edits),
                        "--no-template"], code.cwd, code.env)
    lines = done.stdout.strip().splitlines()
    if done.status != 0 or not lines:
        text = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        return f"no serve row: {script.name} exited with {done.status}:\n{text}"
    try:
        return json.loads(lines[-1]), done
    except ValueError:
        return f"no serve row: {script.name} printed no figures: {lines[-1][:200]}"


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------


def load() -> str:
    """The 1-, 5- and 15-minute load averages, for the notes."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _s(seconds: float) -> str:
    """Seconds, with milliseconds below one second."""
    return f"{seconds:,.3f}" if seconds < 1 else f"{seconds:,.2f}"


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return _n(low) if low == high else f"{_n(low)}–{_n(high)}"


def _counts(values: list[int | None]) -> str:
    """The span of counts a build reported, or "?" when a build did not report one."""
    if not values or any(value is None for value in values):
        return "?"
    return _span([value for value in values if value is not None])


COLUMNS = ("tool", "build", "articles", "entities", "pages", "min s", "median s", "rounds s",
           "ms/article", "× Postil", "peak PSS MiB, summed", "peak RSS MiB, largest process",
           "rendered", "written", "removed", "files")


def build_rows(results: dict[str, dict[str, list[Run]]], tools: list[Tool]) -> list[list[str]]:
    """One row per tool and scenario measured: the cells of :data:`COLUMNS`."""
    rows = []
    first = tools[0].name
    for tool in tools:
        for scenario in SCENARIOS:
            runs = results[tool.name].get(scenario)
            if not runs:
                continue
            times = [run.seconds for run in runs]
            best = min(times)
            said = [run.report.articles for run in runs if run.report.articles is not None]
            articles = max(said) if said else tool.articles
            ratio = ""
            if tool.name != first and results[first].get(scenario):
                ratio = f"{best / min(run.seconds for run in results[first][scenario]):.2f}"
            pss = [run.pss_summed for run in runs if run.pss_summed is not None]
            written = _counts([run.report.written for run in runs]) if tool.reports_writes \
                else _span([run.changed for run in runs])
            rows.append([
                tool.name, scenario, _n(articles), _n(tool.entities),
                _span([run.pages for run in runs]), _s(best), _s(statistics.median(times)),
                ", ".join(_s(t) for t in times),
                f"{best * 1000 / articles:.2f}" if articles else "",
                ratio, _n(max(pss)) if pss else "", _n(max(run.rss_largest for run in runs)),
                _counts([run.report.rendered for run in runs]), written,
                _span([run.removed for run in runs]), _span([run.files for run in runs])])
    return rows


def serve_rows(name: str, data: dict, done: Finished, entities: int) -> list[list[str]]:
    """The rows of one ``postil serve`` measurement (see :func:`measure_serve`).

    The first build's row carries the server's peak memory over the whole session;
    "rendered" on the save row is the median of the pages each rebuild rendered.
    """
    articles = int(data["articles"])
    first = float(data["first_build"])
    pss = _n(done.pss_summed) if done.pss_summed is not None else ""
    rows = [[f"{name} serve", "first build (cold, in memory)", _n(articles), _n(entities),
             "", _s(first), _s(first), _s(first),
             f"{first * 1000 / articles:.2f}" if articles else "", "", pss,
             _n(done.rss_largest), "?", "–", "–", _n(int(data["files"]))]]
    saves = data["rows"].get("article") or []
    if saves:
        latency = [float(row[0]) for row in saves]
        rendered = [int(row[2]) for row in saves]
        rows.append([f"{name} serve", "article saved → reload event", _n(articles),
                     _n(entities), "", _s(min(latency)), _s(statistics.median(latency)),
                     ", ".join(_s(t) for t in latency), "", "", "", "",
                     _n(statistics.median(rendered)), "–", "–", ""])
    return rows


def table(rows: list[list[str]]) -> str:
    """A Markdown table of :data:`COLUMNS` (numbers right-aligned)."""
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|---|---|" + "--:|" * (len(COLUMNS) - 2)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Rounds
# --------------------------------------------------------------------------


def measure(tools: list[Tool], rounds: int, max_wait: float, progress: Callable[[str], None],
            scenarios: tuple[str, ...] = SCENARIOS
            ) -> tuple[dict[str, dict[str, list[Run]]], list[str]]:
    """R rounds; in each, every tool runs the scenarios in turn. Returns runs and round loads.

    Every round starts with a cold build, timed but left out of the table when
    ``cold`` is not among ``scenarios``: the other scenarios start from a built site.
    """
    results: dict[str, dict[str, list[Run]]] = {tool.name: {} for tool in tools}
    loads: list[str] = []
    for round_no in range(1, rounds + 1):
        loads.append(f"{os.getloadavg()[0]:.2f}")
        for tool in tools if round_no % 2 else tools[::-1]:  # take turns fairly
            tool.reset_cold()
            runs = results[tool.name]
            for scenario in SCENARIOS:
                if scenario != "cold" and scenario not in scenarios:
                    continue
                if scenario == "one article edited":
                    append(tool.article, f"\nOne more sentence for the rebuild benchmark, "
                                         f"round {round_no}.\n")
                elif scenario == "one template edited":
                    if tool.template is None:
                        continue
                    append(tool.template, f"<!-- rebuild benchmark: template edited, round "
                                          f"{round_no} -->\n")
                kept = scenario in scenarios
                progress(f"round {round_no}/{rounds}: {tool.name} {scenario}"
                         + ("" if kept else " (to start from; not in the table)"))
                run = tool.build(max_wait)
                if kept:
                    runs.setdefault(scenario, []).append(run)
            tool.restore()
    return results, loads


def notes(results: dict[str, dict[str, list[Run]]], tools: list[Tool]) -> list[str]:
    """What looks wrong: a no-change build that did work, counts that disagree with the disk."""
    found = []
    for tool in tools:
        if not tool.reports_writes:
            continue
        for run in results.get(tool.name, {}).get("no-change", []):
            rendered = run.report.rendered or 0
            if run.changed or run.removed or rendered or run.report.written:
                found.append(f"note: a no-change build of {tool.name} rendered "
                             f"{run.report.rendered if run.report.rendered is not None else '?'}"
                             f" page(s), wrote {run.changed} and removed {run.removed} file(s) "
                             f"(on disk); it should do none of these"
                             + (f": {', '.join(run.touched)}" if run.touched else ""))
                break
        for scenario, runs in results.get(tool.name, {}).items():
            for run in runs:
                if run.report.written is None:
                    found.append(f"note: {tool.name} printed no summary line with a written "
                                 f"count ({scenario}): its rendered and written cells say ?")
                    break
                if run.report.written != run.changed:
                    found.append(f"note: {tool.name}, {scenario}: the summary says "
                                 f"{run.report.written} written, the disk shows {run.changed} "
                                 f"files created or replaced")
                    break
    return found


@dataclass
class Plan:
    """What to measure on each corpus size."""

    rounds: int = 3
    scenarios: tuple[str, ...] = SCENARIOS  # of SCENARIOS, in any order
    serve_edits: int = 0  # article saves timed under postil serve; 0: no serve rows
    jobs: int | None = None
    max_wait: float = 0.0  # --settle


def run_size(root: Path, codes: list[Code], articles: int, entities: int, seed: int,
             plan: Plan, others: dict[str, str]) -> bool:
    """Measure one corpus size and print its table. False if a build failed."""
    def progress(message: str) -> None:
        print(f"[{datetime.now():%H:%M:%S}] {_n(articles)} articles: {message}",
              file=sys.stderr, flush=True)

    site, made = corpus(root, articles, seed, entities)
    if hasattr(os, "sync"):
        os.sync()
    name = site.name
    outputs = root / f"output-{name}"
    config = site / "site.yml"
    tools: list[Tool] = []
    results: dict[str, dict[str, list[Run]]] = {}
    loads: list[str] = []
    rows: list[list[str]] = []
    extra: list[str] = []
    try:
        for i, code in enumerate(codes, start=1):
            if len(codes) == 1:
                tools.append(postil_tool(code, site, outputs / "postil", plan.jobs,
                                         articles=articles, entities=entities))
            else:
                label = code.label if sum(c.label == code.label for c in codes) == 1 \
                    else f"{code.label} ({i})"
                tools.append(postil_tool(code, site, outputs / f"postil-{i}", plan.jobs,
                                         name=f"Postil {label}", articles=articles,
                                         entities=entities))
            if i == 1:
                tools[0].originals[config] = config.read_bytes()
                write_marker(site, tools[0])
        # Every goal of the speed issue is measured without search.
        has_key = re.search(rb"^search\s*:", tools[0].originals[config], re.MULTILINE)
        if any(code.search for code in codes) or has_key:
            search_off(config)
            search = "off (`search: false` in site.yml for the run)"
        elif any(code.search is None for code in codes):
            search = "could not tell whether the builder has a `search` key; site.yml unchanged"
        else:
            search = "the builder has no `search` key"
        postil = len(tools)
        builds = any(scenario in plan.scenarios for scenario in SCENARIOS)
        if builds and "hugo" in others:
            tools.append(hugo_tool(others["hugo"], site, root / f"{name}-hugo",
                                   outputs / "hugo"))
        if builds and "pelican" in others:
            tools.append(pelican_tool(others["pelican"], site, root / f"{name}-pelican",
                                      outputs / "pelican"))
        for tool in tools[postil:]:
            tool.remember()
        title = f"### {_n(articles)} articles" + (f", {_n(entities)} entities" if entities
                                                   else "")
        print(f"{title}\n\ncorpus: {made}; search: {search}; load average before: {load()}\n",
              flush=True)
        if builds:
            try:
                results, loads = measure(tools, plan.rounds, plan.max_wait, progress,
                                         plan.scenarios)
            except BuildError as exc:
                print(f"build failed: {exc}", file=sys.stderr)
                return False
            rows = build_rows(results, tools)
        if plan.serve_edits:
            progress(f"postil serve: first build, then {plan.serve_edits} article saves")
            tools[0].restore()
            if tools[0].template is not None:  # serve_latency.py brings its own templates/
                tools[0].template.unlink(missing_ok=True)
            for code, tool in zip(codes, tools, strict=False):  # each builder, in turn
                served = measure_serve(code, site, plan.serve_edits)
                if isinstance(served, str):
                    extra.append(served)
                else:
                    rows += serve_rows(tool.name, *served, entities=entities)
    finally:
        for tool in tools[1:]:
            tool.restore()
        if tools:
            cleanup(site, tools[0])
    print(table(rows) + "\n")
    print(f"load average after: {load()}"
          + (f"; 1-minute load at the start of each round: {', '.join(loads)}" if loads else "")
          + "\n", flush=True)
    idles = [run.idle for runs in results.values() for group in runs.values() for run in group
             if run.idle is not None]
    if idles:
        busy = sum(1 for idle in idles if idle < IDLE_WANTED)
        print(f"--settle {plan.max_wait:g}: {busy} of {len(idles)} builds started on a busy "
              f"machine (CPUs under {IDLE_WANTED:.0%} idle in the second before, after "
              f"waiting); lowest idle {min(idles):.0%}\n", flush=True)
    for line in notes(results, tools[:postil]) + extra:
        print(line + "\n", flush=True)
    return True


#: ``--scenarios`` names
CHOICES = {"cold": "cold", "no-change": "no-change", "article": "one article edited",
           "template": "one template edited", "serve": "serve"}
TOOLS = ("postil", "hugo", "pelican")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, measure every size, print the tables; the exit status."""
    parser = argparse.ArgumentParser(
        description="Time whole `postil build` processes: cold, no-change, one article "
                    "edited, one template edited (and Hugo and Pelican, and postil serve).")
    parser.add_argument("--articles", type=int, nargs="+", default=[1000], metavar="N",
                        help="corpus sizes, smallest first (default 1000)")
    parser.add_argument("--entities", type=int, default=0, metavar="E",
                        help="entities in each corpus, autolink on when E > 0 (default 0)")
    parser.add_argument("--rounds", type=int, default=3, metavar="R",
                        help="rounds of every scenario (default 3)")
    parser.add_argument("--scenarios", nargs="+", choices=list(CHOICES), metavar="NAME",
                        default=["cold", "no-change", "article", "template"],
                        help="scenarios to measure: cold, no-change, article, template, serve "
                             "(default: all but serve)")
    parser.add_argument("--serve", action="store_true",
                        help="also time postil serve: save one article → reload event")
    parser.add_argument("--serve-edits", type=int, default=5, metavar="E",
                        help="article saves timed under postil serve (default 5)")
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS),
                        metavar="TOOL",
                        help="postil, hugo, pelican (default: all; Hugo and Pelican only "
                             "when found)")
    parser.add_argument("--hugo", default=None, metavar="PATH",
                        help="the hugo executable (default: hugo on PATH)")
    parser.add_argument("--pelican", default=None, metavar="PATH",
                        help="the pelican executable, e.g. in its own venv (default: pelican "
                             "on PATH)")
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
            args.serve_edits < 1 or (args.jobs is not None and args.jobs < 1):
        parser.error("N, R, --serve-edits and J must be 1 or more and E 0 or more")
    for folder in args.code or []:
        if not (folder / "builder").is_dir():
            parser.error(f"{folder} holds no builder/ package")
    if "postil" not in args.tools:
        parser.error("--tools must include postil: the ratios are to Postil")
    chosen = [CHOICES[name] for name in args.scenarios] + (["serve"] if args.serve else [])
    plan = Plan(rounds=args.rounds, scenarios=tuple(s for s in SCENARIOS if s in chosen),
                serve_edits=args.serve_edits if "serve" in chosen else 0, jobs=args.jobs,
                max_wait=args.settle)

    scratch = Path(tempfile.mkdtemp(prefix="postil-rebuild-"))
    root = args.keep.resolve() if args.keep else scratch
    root.mkdir(parents=True, exist_ok=True)
    try:
        codes = [locate_code(args.python, folder, scratch) for folder in args.code or [None]]
        others: dict[str, str] = {}
        missing = []
        for tool in ("hugo", "pelican"):
            if tool not in args.tools:
                continue
            given = getattr(args, tool)
            found = shutil.which(given) if given else shutil.which(tool)
            if found:
                others[tool] = found
            else:
                missing.append(f"{tool} ({given})" if given else tool)
        jobs = f"jobs={args.jobs}" if args.jobs else \
            f"jobs: the builder's default ({os.cpu_count()})"
        if args.jobs and not all(code.native_jobs for code in codes):
            jobs += " (through the os.cpu_count shim where the builder has no --jobs)"
        print("## Postil rebuild benchmark: whole `postil build` processes\n")
        builders = "; ".join(f"builder: {code.describe}" for code in codes)
        flags = {"hugo": "version", "pelican": "--version"}
        versions = "".join(f"; {name}: {version(path, flags[name], scratch)}"
                           for name, path in others.items())
        print(f"{datetime.now():%Y-%m-%d %H:%M}; {builders}; Python "
              f"{platform.python_version()} ({codes[0].python}) on {platform.system()} "
              f"{platform.machine()}, {os.cpu_count()} CPUs, {jobs}{versions}; seed "
              f"{args.seed}, {args.rounds} rounds, min and median over rounds"
              f"{f'; --settle {args.settle:g}' if args.settle else ''}\n")
        if missing:
            print(f"not found, so no rows: {' and '.join(missing)}\n")
        sys.stdout.flush()
        for size in sorted(args.articles):
            if not run_size(root, codes, size, args.entities, args.seed, plan, others):
                return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def version(executable: str, flag: str, cwd: Path) -> str:
    """The first line ``EXECUTABLE FLAG`` prints (``hugo version``, ``pelican --version``)."""
    try:
        done = subprocess.run([executable, flag], cwd=cwd, capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "(version unknown)"
    text = (done.stdout or done.stderr).strip()
    if done.returncode != 0 or not text:
        return "(version unknown)"
    return text.splitlines()[0].split(" BuildDate")[0][:60]


if __name__ == "__main__":
    sys.exit(main())
