"""Time quotation matching (builder.quotes) on hostile snapshots and quotations.

    python bench/quotes.py [--size CHARS]

Each case prepares a snapshot of about ``--size`` characters (default 1,000,000),
then finds a quotation in it and, when it is not there, the closest text; then
the same at four times the size. Bound: each case under 2 s, and four times the
input at most five times the time (below 50 ms, growth is taken against 50 ms).
Exits 1 naming each case that misses a bound.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.quotes import SourceText, closest, find  # noqa: E402

LIMIT, GROWTH, FLOOR = 2.0, 5.0, 0.05

# name → (what, snapshot of about n characters, quotation)
CASES: dict[str, tuple[str, Callable[[int], str], str]] = {
    "one-paragraph": ("one paragraph of the same word; a quotation it lacks",
                      lambda n: "word " * (n // 5), "word word … word missing"),
    "many-paragraphs": ("a paragraph per word; an ellipsis that would cross them",
                        lambda n: "word\n\n" * (n // 6), "word … word"),
    "no-spaces": ("one run of letters; a quotation inside it",
                  lambda n: "a" * n, "aaaa"),
    "ellipses": ("a quotation of 1,000 ellipses in one paragraph",
                 lambda n: "a b " * (n // 4), " … ".join(["a b"] * 1000) + " … c"),
    "quote-marks": ("a snapshot of quotation marks and dashes",
                    lambda n: "“—’ " * (n // 4), "x"),
}


def timed(snapshot: str, quotation: str) -> float:
    started = time.perf_counter()
    source = SourceText.of(snapshot)
    if find(quotation, source) is None:
        closest(quotation, source)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    size = parser.parse_args().size
    missed = []
    print("| case | chars | s | s at 4x | growth | note |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, (what, make, quotation) in CASES.items():
        once = timed(make(size), quotation)
        four = timed(make(4 * size), quotation)
        growth = four / max(once, FLOOR)
        print(f"| {name} | {size:,} | {once:.3f} | {four:.3f} | {growth:.2f} | {what} |")
        if once > LIMIT or growth > GROWTH:
            missed.append(name)
    for name in missed:
        print(f"bound missed: {name}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
