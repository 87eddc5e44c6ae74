"""The oracle: the site written, the three builds of every step, and their comparison."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from urllib.parse import urlsplit

from . import REPO
from .edits import MACROS, EditGenerator, Step, plan
from .faults import FaultChecks
from .model import render_files
from .trees import _walk, broken_links, compare, empty_folders, mtimes, read_tree

# --------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------


def live_options():  # builder loads late: after the oracle package sets the path
    """The options of the long-lived builder: ``postil serve``'s, without drafts."""
    from builder.pipeline import BuildOptions

    return BuildOptions(write=False, drafts=False, jobs=1, delta=True)


class OracleFailure(AssertionError):
    """Builds disagreed (or broke a promise) at some step; the message says where and how."""


@dataclass
class OracleOptions:
    articles: int = 25
    entities: int = 12
    cases: list[str] = field(default_factory=lambda: list(MACROS))  # forced once each
    macro_chance: float = 0.0  # chance that a random step is a case macro
    fail_chance: float = 0.0  # chance that a random step breaks the build (undone next step)
    faults: bool = False  # the crash oracle: kill the writer at every step
    probe_every: bool = False  # check the parsed-article cache at every step
    keep_going: bool = False  # report a failing step, resynchronise, go on

    def command(self, seed: int, steps: int) -> str:
        """The ``bench/oracle.py`` command line that replays this run."""
        parts = [f"python3 bench/oracle.py --seed {seed} --steps {steps}",
                 f"--articles {self.articles} --entities {self.entities}",
                 f"--cases {','.join(self.cases) or 'none'}"]
        parts.append(f"--macro-chance {self.macro_chance} --fail-chance {self.fail_chance}")
        if self.faults:
            parts.append("--faults")
        if self.probe_every:
            parts.append("--probe-every")
        return " ".join(parts)


@dataclass
class Run:
    """What a subprocess build did."""

    returncode: int
    stdout: str
    stderr: str

    def tail(self) -> str:
        text = (self.stderr or self.stdout).strip()
        return text if len(text) < 1200 else "…" + text[-1200:]


class Oracle(FaultChecks):
    """Runs ``steps`` seeded steps on a generated site in ``workdir``; see the module doc."""

    def __init__(self, workdir: Path, seed: int, steps: int,
                 options: OracleOptions | None = None,
                 log: Callable[[str], None] | None = None, repo: Path = REPO):
        self.work = Path(workdir)
        self.seed = seed
        self.steps = steps
        self.options = options or OracleOptions()
        self.log = log or (lambda text: None)
        self.repo = repo
        self.site = self.work / "site"
        self.out = self.work / "out-incremental"
        self.rng = Random(seed)
        self.fault_rng = Random(f"faults {seed}")  # crash points, apart from the edits
        self.generator = EditGenerator(self.rng, self.options.articles, self.options.entities,
                                       repo / "themes" / "default")
        self.written: dict[str, bytes] = {}
        self.saved: set[str] = set()  # written or removed since the long-lived builder built
        self.deltas = 0  # builds of the long-lived builder made without indexing again
        self.cli_deltas = 0  # postil build processes that made a delta build (see _incremental)
        self.delta = False  # the last one was
        self._clock = 0
        self.live = None
        self.failures: list[str] = []
        self.faults_run: list[str] = []
        self._reported: set[str] = set()
        self.cases_done: list[str] = []  # the cases of issue 8 this run went through

    # --- the run ---------------------------------------------------------------------

    def run(self) -> list[str]:
        """Every step; raises :class:`OracleFailure` at the first failing one unless
        ``keep_going`` (then returns the failures)."""
        from builder.pipeline import SiteBuilder

        self.work.mkdir(parents=True, exist_ok=True)
        self._write_site()
        self.live = SiteBuilder(self.site, live_options())
        self._check(0, Step(edits=["the generated site, first build"]),
                    self._step(0, Step(), {}))
        forced = sorted(plan(self.rng, self.steps, self.options.cases).items())
        for n in range(1, self.steps + 1):
            if not self.generator.pending and forced and forced[0][0] <= n:
                name = forced.pop(0)[1]
                step = self.generator.case(name)
                self.cases_done.append(name)
            elif self.options.faults:
                step = self.generator.crash_step()
            else:
                step = self.generator.step(self.options.macro_chance, self.options.fail_chance)
            previous = self.written
            self._write_site()
            self._tamper(step)
            started, self.delta = time.perf_counter(), False
            problems = self._fresh(self._step(n, step, previous))
            self.log(f"seed {self.seed} step {n}/{self.steps} "
                     f"({time.perf_counter() - started:.1f} s): {step.describe()}"
                     + (" [delta build]" if self.delta else "")
                     + (f"  -> {len(problems)} problem(s)" if problems else ""))
            self._check(n, step, problems)
        return self.failures

    def _fresh(self, problems: list[str]) -> list[str]:
        """With ``keep_going``, each problem once, not again at every later step."""
        if not (problems and self.options.keep_going):
            return problems
        fresh = [p for p in problems if p not in self._reported]
        self._reported.update(fresh)
        if fresh and len(fresh) < len(problems):
            fresh.append(f"(and {len(problems) - len(fresh)} problems of earlier steps)")
        return fresh

    def _check(self, n: int, step: Step, problems: list[str]) -> None:
        if not problems:
            return
        message = (f"oracle: seed {self.seed}, step {n} of {self.steps}: {step.describe()}\n"
                   f"  replay: {self.options.command(self.seed, self.steps)}\n"
                   + "\n".join("  - " + p.replace("\n", "\n    ") for p in problems))
        self.failures.append(message)
        if not self.options.keep_going:
            raise OracleFailure(message)
        self.log(message)
        if not step.expect_failure:  # what a failed build left is for the next step to see
            self._resync(n)

    def _resync(self, n: int) -> None:
        """After a failure: the incremental folder becomes the cold build, the long-lived
        builder a new one, so the next steps test themselves."""
        from builder.pipeline import SiteBuilder

        cold = self.work / "cold" / f"step-{n}"
        shutil.rmtree(self.out, ignore_errors=True)
        if cold.is_dir():
            shutil.copytree(cold, self.out, symlinks=True)
        self.live = SiteBuilder(self.site, live_options())
        self.saved = set()
        with contextlib.suppress(Exception):  # a broken step: the next one builds it again
            self.live.build()

    # --- the site's files ---------------------------------------------------------------

    def _write_site(self) -> None:
        self._write(render_files(self.generator.model))

    def _write(self, files: dict[str, bytes]) -> None:
        """Write the files that changed, remove those that went; every written file gets an
        mtime later than any before, so a change is never hidden by the clock."""
        for name in self.written:
            if name not in files:
                path = self.site / name
                path.unlink()
                self.saved.add(str(path))
                folder = path.parent
                while folder != self.site and not any(folder.iterdir()):
                    folder.rmdir()
                    folder = folder.parent
        for name, data in files.items():
            if self.written.get(name) != data:
                path = self.site / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                self.saved.add(str(path))
                self._clock = max(time.time_ns(), self._clock + 1_000_000)
                os.utime(path, ns=(self._clock, self._clock))
        self.written = files

    def _tamper(self, step: Step) -> None:
        """Change pages of the output folder by hand, as a step asks: the next build must
        notice (by the bytes, or by a stat that is no longer the one recorded)."""
        pages = [name for name, _ in _walk(self.out) if name.endswith(".html")]
        for kind, index in step.tamper:
            if not pages:
                return
            name = pages[index % len(pages)]
            path = self.out / name
            old = path.stat().st_mtime_ns
            data = path.read_bytes()
            if kind == "delete":
                path.unlink()
                pages.remove(name)
            elif kind == "truncate":
                path.write_bytes(data[: len(data) // 2])
            elif kind == "same-size":
                at = next((i for i in range(len(data) // 2, len(data))
                           if chr(data[i]).isascii() and chr(data[i]).isalpha()), None)
                if at is not None:
                    path.write_bytes(data[:at] + chr(data[at]).swapcase().encode()
                                     + data[at + 1:])
            if kind != "delete":
                self._clock = max(time.time_ns(), self._clock + 1_000_000, old + 1_000_000)
                os.utime(path, ns=(self._clock, self._clock))
            step.edits.append(f"(by hand: {kind} {name})")

    # --- builds -------------------------------------------------------------------------

    def _command(self) -> tuple[list[str], dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if k != "POSTIL_FAULT"}
        env["PYTHONPATH"] = os.pathsep.join([str(self.repo)] + (
            [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        return ([sys.executable, "-m", "builder", "build", str(self.site), "-o", str(self.out),
                 "-q"], env)

    def _start(self, fault: str | None = None) -> subprocess.Popen:
        command, env = self._command()
        if fault:
            env["POSTIL_FAULT"] = fault
        return subprocess.Popen(command, cwd=self.repo, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    @staticmethod
    def _finish(process: subprocess.Popen) -> Run:
        stdout, stderr = process.communicate(timeout=600)
        return Run(process.returncode, stdout, stderr)

    def _incremental(self, fault: str | None = None) -> Run:
        before = self._stored()
        run = self._finish(self._start(fault))
        self._count_delta(before)
        return run

    def _stored(self) -> tuple[int, int] | None:
        """(inode, mtime) of the stored build: a full build stores a new file, a delta build
        changes it in place (builder.delta_store)."""
        try:
            info = (self.site / ".postil-cache" / "delta.sqlite3").stat()
        except OSError:
            return None
        return info.st_ino, info.st_mtime_ns

    def _count_delta(self, before: tuple[int, int] | None) -> None:
        after = self._stored()
        if before is not None and after is not None and after[0] == before[0] and \
                after[1] != before[1]:
            self.cli_deltas += 1

    def _cold(self, n: int, kind: str = "cold") -> tuple[dict[str, bytes] | None, str, Path]:
        """A cold build into an empty folder, in this process, without the cache."""
        from builder.pipeline import BuildOptions, build

        folder = self.work / kind / f"step-{n}"
        for old in sorted((self.work / kind).glob("step-*")):
            shutil.rmtree(old)
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            build(self.site, BuildOptions(output=folder, cache=False, jobs=1))
        except Exception as exc:  # noqa: BLE001 - reported as a finding
            return None, f"{type(exc).__name__}: {exc}", folder
        return read_tree(folder), "", folder

    def _live(self) -> tuple[dict[str, bytes] | None, str]:
        # Told what changed, as the preview server's watcher tells it: a step that
        # only edits article bodies is then built without indexing (builder.delta).
        saved, self.saved = sorted(self.saved), set()
        try:
            result = self.live.build(saved=saved)
            self.delta = "delta" in result.timings
            self.deltas += self.delta
            return result.files, ""
        except Exception as exc:  # noqa: BLE001 - reported as a finding
            return None, f"{type(exc).__name__}: {str(exc)[:600]}"

    # --- one step -----------------------------------------------------------------------

    def _step(self, n: int, step: Step, previous: dict[str, bytes]) -> list[str]:
        """Build three ways and compare; ``previous`` are the site's files before the step."""
        if step.expect_failure:
            return self._failing_step(n)
        problems: list[str] = []
        if step.lock:
            problems += self._check_lock()
        if step.race:
            problems += self._check_race()
        if self.options.faults and n > 0:
            cold, error, folder = self._cold(n)
            if cold is not None:
                found, kinds = self._check_faults(n, cold)
                problems += found
                if "crash-rename" in kinds:  # a mix on disk, then the edits are undone
                    problems += self._abandon(n, previous)
            before, before_times = read_tree(self.out), mtimes(self.out)
            run = self._incremental()
        else:
            before, before_times = read_tree(self.out), mtimes(self.out)
            stored = self._stored()
            process = self._start()  # meanwhile, the cold build in this process
            cold, error, folder = self._cold(n)
            run = self._finish(process)
            self._count_delta(stored)
        if cold is None:
            return problems + [f"the cold build failed: {error}"]
        problems += [f"cold build: {p}" for p in broken_links(cold, self._base_path())[:10]]
        if run.returncode != 0 or "Traceback" in run.stderr:
            problems.append(f"postil build into the previous output exited {run.returncode}:\n"
                            f"{run.tail()}")
        else:
            after = read_tree(self.out)
            problems += compare(cold, after, "incremental build (postil build into the "
                                "previous output)")
            if empty_folders(self.out):
                problems.append("incremental build left empty folders: "
                                + ", ".join(empty_folders(self.out)[:10]))
            after_times = mtimes(self.out)
            rewritten = [name for name, data in after.items()
                         if before.get(name) == data and before_times[name] != after_times[name]]
            if rewritten:
                problems.append(f"incremental build rewrote {len(rewritten)} files whose bytes "
                                f"did not change: {', '.join(rewritten[:8])}")
        live, error = self._live()
        if live is None:
            problems.append(f"the long-lived builder failed: {error}")
        else:
            problems += compare(cold, live, "long-lived builder (as postil serve keeps it)")
        if step.probe or self.options.probe_every:
            problems += self._probe(cold)
        return problems

    def _base_path(self) -> str:
        return urlsplit(self.generator.model.base_url).path or "/"
