"""The build summary's lines on articles read but not built: drafts, and articles dated
in the future (with ``future: false``), so that a new draft does not seem to vanish."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from builder.model import ArticleRecord

SHOWN = 3  # files named on a line; the rest are counted


def unpublished_lines(records: Iterable[ArticleRecord], drafts: bool, future: bool,
                      today: date) -> list[str]:
    """At most two lines: the drafts left out (unless ``drafts``), then the articles
    dated after ``today`` left out (unless ``future``), each naming its first files
    (site-relative paths, sorted) and how to include them. A draft dated in the future
    counts as a draft."""
    held = [r.source for r in records if r.draft and not drafts]
    due = [r.source for r in records if not (r.draft and not drafts)
           and not future and r.date > today]
    lines = []
    if held:
        lines.append(f"{_count(len(held), 'draft')} skipped: {_names(held)} (`postil build "
                     "--drafts` or `postil serve` shows drafts; taking out draft: true, "
                     "status: draft or published: false publishes one)")
    if due:
        lines.append(f"{_count(len(due), 'article')} dated in the future skipped: "
                     f"{_names(due)} (built from that day on, or with future: true in site.yml)")
    return lines


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"


def _names(paths: list[str]) -> str:
    paths = sorted(paths)
    more = f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
    return ", ".join(f"`{p}`" for p in paths[:SHOWN]) + more
