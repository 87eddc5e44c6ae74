"""Where a ``postil build`` process tree's memory goes, stage by stage.

    python bench/memory.py SITE [--output DIR] [--code DIR ...] [--jobs J]
                           [--rounds R] [--interval SECONDS] [--timeline]

Runs a cold build of SITE (its ``.postil-cache/`` and the output folder are
deleted first) as a separate process, ``python -m builder build SITE -o OUT -q``,
and samples ``/proc/PID/smaps_rollup`` of the process and its descendants every
50 ms, as ``bench/rebuild.py`` does. The child is started through a small shim
that wraps the builder's stage clock (``builder.pipeline._Clock``) and its
process pool (``builder.parallel.pool_map``), so each sample is labelled with the
stage the build is in: ``entities+read`` (until the read stage ends),
``index``, ``render``, ``other files`` and ``write``, and whether a pool is
running (``+pool``).

For each build it prints:

* the peak of the summed PSS, the stage it happened in and, at that sample,
  each process's PSS, RSS and private memory (Private_Clean + Private_Dirty:
  pages no other process shares, e.g. copy-on-write pages a worker touched);
* per stage: its seconds, the peak summed PSS within it, and the main process's
  peak PSS within it;
* with ``--timeline``, every tenth sample.

With several ``--code`` checkouts (``git worktree`` of an older commit, say), every
round builds with each in turn (reversed every other round), each into its own
output folder, and a summary table ends the run: the fairest before and after
comparison on a shared machine. SITE is never edited, except that its
``.postil-cache/`` is deleted before each build: build a copy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INTERVAL = 0.05

#: Runs ``builder``'s CLI with stage marks written to fd 3 as "monotonic-seconds label".
_SHIM = r"""
import os, sys, time
mark = os.fdopen(int(sys.argv.pop(1)), "w", buffering=1)
def say(label):
    mark.write(f"{time.monotonic():.4f} {label}\n")
import builder.pipeline as pipeline, builder.parallel as parallel, builder.sources as sources
clock_call = pipeline._Clock.__call__
def clocked(self, stage):
    clock_call(self, stage)
    say("end " + stage)
pipeline._Clock.__call__ = clocked
def pooled(mapper):
    def run(*args, **kwargs):
        say("pool start")
        try:
            yield from mapper(*args, **kwargs)
        finally:
            say("pool end")
    return run
if hasattr(parallel, "_shared_map"):  # every pool starts there
    parallel._shared_map = pooled(parallel._shared_map)
    if hasattr(parallel, "_fresh_map"):
        parallel._fresh_map = pooled(parallel._fresh_map)
else:
    parallel.pool_map = sources.pool_map = pooled(parallel.pool_map)
say("start")
from builder.cli import main
code = main(sys.argv[1:])
say("exit")
sys.exit(code)
"""

STAGES = ("entities+read", "index", "render", "other files", "write", "after")


@dataclass
class Sample:
    at: float  # monotonic seconds
    procs: dict[int, tuple[int, int, int]]  # pid → (pss, rss, private) KiB

    @property
    def pss(self) -> int:
        return sum(p[0] for p in self.procs.values())


def rollup(pid: int) -> tuple[int, int, int] | None:
    """(Pss, Rss, Private_Clean + Private_Dirty) of one process in KiB, None if gone."""
    pss = rss = private = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith(b"Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith((b"Private_Clean:", b"Private_Dirty:")):
                    private += int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pss, rss, private


def children(root: int) -> set[int]:
    """``root`` and its descendants, from each process's ``/proc/PID/stat``."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
            parents[int(name)] = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


class Sampler(threading.Thread):
    def __init__(self, root: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.done = threading.Event()
        self.samples: list[Sample] = []

    def run(self) -> None:
        while True:
            procs = {}
            for pid in children(self.root):
                got = rollup(pid)
                if got is not None:
                    procs[pid] = got
            self.samples.append(Sample(time.monotonic(), procs))
            if self.done.wait(self.interval):
                return


@dataclass
class Build:
    code: Path
    seconds: float
    samples: list[Sample]
    marks: list[tuple[float, str]]
    root: int
    cpu: float = 0.0  # user + system seconds of the build and every child it waited for
    stages: dict[str, tuple[float, float]] = field(default_factory=dict)  # name → (start, end)

    def stage_at(self, at: float) -> str:
        for name, (start, end) in self.stages.items():
            if start <= at < end:
                pooled = any(s <= at < e for s, e in self.pools())
                return name + ("+pool" if pooled else "")
        return "start-up" if at < self.stages[STAGES[0]][0] else "after"

    def pools(self) -> list[tuple[float, float]]:
        spans, opened = [], None
        for at, label in self.marks:
            if label == "pool start":
                opened = at
            elif label == "pool end" and opened is not None:
                spans.append((opened, at))
                opened = None
        return spans

    @property
    def peak(self) -> Sample:
        return max(self.samples, key=lambda s: s.pss)


def run_build(code: Path, site: Path, output: Path, jobs: int | None, interval: float) -> Build:
    shutil.rmtree(site / ".postil-cache", ignore_errors=True)
    shutil.rmtree(output, ignore_errors=True)
    read_end, write_end = os.pipe()
    argv = [sys.executable, "-c", _SHIM, str(write_end), "build", str(site), "-o", str(output),
            "-q"]
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    env = dict(os.environ, PYTHONPATH=str(code))
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=code, env=env, pass_fds=(write_end,))
    os.close(write_end)
    sampler = Sampler(child.pid, interval)
    sampler.start()
    with os.fdopen(read_end) as marks_file:
        text = marks_file.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    if child.returncode:
        raise SystemExit(f"the build failed with exit code {child.returncode}")
    marks = [(float(at), label) for at, label in
             (line.split(" ", 1) for line in text.splitlines())]
    build = Build(code, seconds, sampler.samples, marks, child.pid,
                  cpu=usage.ru_utime + usage.ru_stime)
    ends = [at for at, label in marks if label.startswith("end ")]
    begin = next(at for at, label in marks if label == "start")
    finish = next((at for at, label in marks if label == "exit"), float("inf"))
    bounds = [begin] + ends + [finish]
    names = [label[4:] for _, label in marks if label.startswith("end ")]
    names = ["entities+read" if n == "read" else n for n in names] + ["after"]
    for name, start, end in zip(names, bounds, bounds[1:], strict=False):
        build.stages[name] = (start, end)
    return build


def mib(kib: float) -> str:
    return f"{kib / 1024:,.0f}"


def report(build: Build, timeline: bool) -> None:
    peak = build.peak
    print(f"\n{build.code}: {build.seconds:.2f} s ({build.cpu:.1f} s of CPU), peak PSS summed "
          f"{mib(peak.pss)} MiB in {build.stage_at(peak.at)}, "
          f"{len(peak.procs)} processes at the peak")
    print("| process | PSS MiB | RSS MiB | private MiB |\n|---|--:|--:|--:|")
    for pid, (pss, rss, private) in sorted(peak.procs.items(), key=lambda p: -p[1][0]):
        name = "main" if pid == build.root else f"worker {pid}"
        print(f"| {name} | {mib(pss)} | {mib(rss)} | {mib(private)} |")
    print("\n| stage | seconds | peak PSS summed MiB | main PSS peak MiB | processes |\n"
          "|---|--:|--:|--:|--:|")
    for name, (start, end) in build.stages.items():
        inside = [s for s in build.samples if start <= s.at < end]
        if not inside:
            print(f"| {name} | {end - start:.2f} | | | |")
            continue
        top = max(inside, key=lambda s: s.pss)
        main = max(s.procs.get(build.root, (0, 0, 0))[0] for s in inside)
        print(f"| {name} | {end - start:.2f} | {mib(top.pss)} | {mib(main)} | "
              f"{max(len(s.procs) for s in inside)} |")
    if timeline:
        print("\n| s | stage | PSS summed | per process (PSS/private) |\n|--:|---|--:|---|")
        begin = build.samples[0].at
        for sample in build.samples[::10]:
            each = ", ".join(f"{mib(p[0])}/{mib(p[2])}" for _, p in sorted(sample.procs.items()))
            print(f"| {sample.at - begin:.1f} | {build.stage_at(sample.at)} | {mib(sample.pss)} "
                  f"| {each} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--output", type=Path, help="output folder (default: SITE-memory-out;"
                        " with several --code, one folder per checkout beside it)")
    parser.add_argument("--code", type=Path, action="append",
                        help="checkout whose builder to run (default: this one)")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--interval", type=float, default=INTERVAL)
    parser.add_argument("--timeline", action="store_true")
    args = parser.parse_args(argv)
    site = args.site.resolve()
    codes = [c.resolve() for c in args.code] if args.code else [REPO]
    base = (args.output or site.with_name(site.name + "-memory-out")).resolve()
    results: dict[Path, list[Build]] = {code: [] for code in codes}
    for round_number in range(args.rounds):
        order = codes if round_number % 2 == 0 else codes[::-1]
        for code in order:
            output = base if len(codes) == 1 else base.with_name(
                f"{base.name}-{codes.index(code)}")
            build = run_build(code, site, output, args.jobs, args.interval)
            results[code].append(build)
            report(build, args.timeline)
    if len(codes) > 1 or args.rounds > 1:
        print("\n| code | peak PSS summed MiB, each round | largest process PSS MiB | seconds "
              "| CPU seconds |\n|---|---|---|---|---|")
        for code, builds in results.items():
            peaks = ", ".join(mib(b.peak.pss) for b in builds)
            largest = ", ".join(mib(max(p[0] for s in b.samples for p in s.procs.values()))
                                for b in builds)
            seconds = ", ".join(f"{b.seconds:.2f}" for b in builds)
            cpu = ", ".join(f"{b.cpu:.1f}" for b in builds)
            print(f"| {code} | {peaks} | {largest} | {seconds} | {cpu} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
