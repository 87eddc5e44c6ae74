"""The long rebuild oracle: many seeds and steps of ``tests/oracle/``.

    python3 bench/oracle.py [--seed S] [--seeds N] [--steps K] [--articles A] [--entities E]
                            [--cases 1,2,…|all|none] [--macro-chance P] [--fail-chance P]
                            [--faults] [--probe-every] [--keep-going] [--keep DIR]

For each seed S, S+1, … (``--seeds`` of them) it generates a small archive
with entities and autolink on, then makes ``--steps`` seeded steps of edits
(bodies, titles, dates, slugs, tags, authors, ``entities:``; adding, deleting
and renaming articles and entities; aliases; templates, one reading
``site.articles``; the stylesheet; ``site.yml``; pages of the output changed
by hand). The macros in ``--cases`` (the eight cases of issue 8, and extras)
are each forced once at a seeded step; ``--macro-chance`` makes any other step
a case too, ``--fail-chance`` an edit that breaks the build
(and the next step undoes it). After each step a long-lived builder, a fresh
``postil build`` process into the previous output, and a cold build must be
byte-identical. ``--faults`` adds the crash oracle at every step:
``POSTIL_FAULT=crash-write:K``, ``crash-rename:K`` or ``enospc:K`` with a
seeded K, then a build that must repair everything. ``--probe-every`` checks
at every step (not only at case 6) that a rebuild kept the parsed-article
cache.

Progress goes to stderr, a step a line. A failure prints the seed, the step,
its edits, the differing files with a short diff, and the command that
replays it; the exit status is 1 if any step failed. ``--keep-going`` goes on
after a failure (the incremental folder is reset to the cold build and the
long-lived builder restarted), to see every case a change breaks.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from oracle import MACROS, Oracle, OracleFailure, OracleOptions  # noqa: E402


def parse_cases(text: str) -> list[str]:
    if text == "all":
        return list(MACROS)
    if text == "none":
        return []
    cases = [case.strip() for case in text.split(",") if case.strip()]
    unknown = [case for case in cases if case not in MACROS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown case {', '.join(unknown)}: the cases are "
                                         f"{', '.join(MACROS)}")
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the rebuild oracle for many steps.",
                                     epilog="macros: " + "; ".join(f"{k}: {v}"
                                                                   for k, v in MACROS.items()))
    parser.add_argument("--seed", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds (default 1)")
    parser.add_argument("--steps", type=int, default=60, help="steps per seed (default 60)")
    parser.add_argument("--articles", type=int, default=25, help="articles (default 25)")
    parser.add_argument("--entities", type=int, default=12, help="entities (default 12)")
    parser.add_argument("--cases", type=parse_cases, default=list(MACROS),
                        help="macros forced once each: cases of issue 8 (1,…,8) and extras "
                        "(spelling, tamper); all (default) or none")
    parser.add_argument("--macro-chance", type=float, default=0.15,
                        help="chance that another step is a case too (default 0.15)")
    parser.add_argument("--fail-chance", type=float, default=0.03,
                        help="chance that a step breaks the build, undone next (default 0.03)")
    parser.add_argument("--faults", action="store_true",
                        help="the crash oracle at every step (crash-write, crash-rename, enospc)")
    parser.add_argument("--probe-every", action="store_true",
                        help="check the parsed-article cache after every step")
    parser.add_argument("--keep-going", action="store_true",
                        help="go on after a failing step (resynchronised) and report them all")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR/seed-S (kept) instead of a temporary folder")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.seeds < 1 or args.articles < 8 or args.entities < 5:
        parser.error("need --steps and --seeds of 1 or more, 8 or more articles, 5 or more "
                     "entities")

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    failed: list[str] = []
    started = time.perf_counter()
    for seed in range(args.seed, args.seed + args.seeds):
        options = OracleOptions(articles=args.articles, entities=args.entities, cases=args.cases,
                                macro_chance=args.macro_chance, fail_chance=args.fail_chance,
                                faults=args.faults, probe_every=args.probe_every,
                                keep_going=args.keep_going)
        if args.keep:
            workdir = args.keep / f"seed-{seed}"
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            workdir = Path(tempfile.mkdtemp(prefix=f"postil-oracle-{seed}-"))
        log(f"seed {seed}: {args.steps} steps in {workdir}")
        try:
            failures = Oracle(workdir, seed, args.steps, options, log=log).run()
        except OracleFailure as failure:
            failures = [str(failure)]
            log(str(failure))
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        failed += [f"seed {seed}: {f.splitlines()[0]}" for f in failures]
    seconds = time.perf_counter() - started
    if failed:
        print(f"{len(failed)} failing step(s) in {seconds:.0f} s:", *failed, sep="\n")
        return 1
    print(f"ok: {args.seeds} seed(s) × {args.steps} steps, three builds agreed at every step "
          f"({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
