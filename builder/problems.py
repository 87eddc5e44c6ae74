"""Problems found in a build, reported as ``path:line: message``.

Every stage collects problems instead of stopping at the first one, so a
user sees every mistake in one run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{self.path}:{self.line}: {kind}{self.message}"


class BuildFailed(Exception):
    """Raised when a build has errors; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        # By file and line; problems on one line keep the order they were found in.
        self.problems = sorted(problems, key=lambda p: (p.path, p.line))
        super().__init__("\n".join(str(p) for p in self.problems))


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if not p.warning]


def line_of_offset(text: str | bytes, offset: int) -> int:
    """1-based line number of a character (or byte) offset."""
    newline = b"\n" if isinstance(text, bytes) else "\n"
    return text.count(newline, 0, offset) + 1
