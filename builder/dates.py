"""Front-matter dates: calendar dates stay calendar dates; times get a zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo


def parse_date(value: object, tz: tzinfo) -> tuple[date, datetime | None]:
    """Return the calendar date and, when a time was given, an aware datetime.

    ``value`` is what YAML, TOML or a Pelican header gives: a date, a datetime (aware
    or not) or text. A date-only value is a calendar date: it is never shifted by time zones
    (the classic "off by one day" bug). A datetime without an offset is read
    in the site's time zone; one with an offset keeps it.
    Raises ValueError with a message for the user.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value, None
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text), None
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f'"{value}" is not a date: use YYYY-MM-DD or '
                             "YYYY-MM-DD HH:MM[:SS][+HH:MM]") from None
    elif isinstance(value, time):  # TOML's local time
        raise ValueError(f"{value.isoformat()} is a time without a day: use YYYY-MM-DD or "
                         "YYYY-MM-DDTHH:MM:SS")
    else:
        raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.date(), moment


#: ``2023-01-29 18:30:22 2023 -0800``: a date and time, the year again, an offset (one of
#: Jekyll's own posts; Ruby's Time.parse skips the year)
_REPEATED_YEAR = re.compile(r"((\d{4})-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?) +(\d{4}) +"
                            r"([+-]\d{2}:?\d{2})")


def repaired_date(value: object) -> str | None:
    """The date text ``value`` likely meant, when it is one :func:`parse_date` refuses
    but Jekyll reads (the year repeated before the offset); else None. The caller warns."""
    match = _REPEATED_YEAR.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or match.group(2) != match.group(3):
        return None
    return f"{match.group(1)} {match.group(4)}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


class PartialDate:
    """A date known to the decade, the year, the month or the day: ``2000s``, ``2015``,
    ``2025-06``, ``2015-05-13``.

    Sorts chronologically, a coarser date before the finer ones it contains (``2000s``,
    then ``2000``, then ``2000-01``). A decade is what a source says when it says "the
    early 2000s": naming a year there would claim more than the source does.
    """

    __slots__ = ("year", "month", "day", "decade")

    def __init__(self, year: int, month: int = 0, day: int = 0, decade: bool = False):
        self.year, self.month, self.day, self.decade = year, month, day, decade

    @classmethod
    def parse(cls, value: object) -> PartialDate:
        """From YAML: a date, a datetime, an int year or a string. Raises ValueError."""
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            return cls(value.year, value.month, value.day)
        text = str(value).strip()
        if isinstance(value, str) and len(text) == 5 and text.endswith("0s") and \
                text[:4].isdigit():
            return cls(int(text[:4]), decade=True)
        parts = text.split("-")
        if isinstance(value, (int, str)) and 1 <= len(parts) <= 3 and \
                all(p.isdigit() for p in parts) and len(parts[0]) == 4 and \
                all(len(p) == 2 for p in parts[1:]):
            numbers = [int(p) for p in parts] + [0, 0]
            result = cls(numbers[0], numbers[1], numbers[2])
            if result.month and not 1 <= result.month <= 12:
                raise ValueError(f'"{text}" has no month {result.month}')
            if result.day:
                try:
                    date(result.year, result.month, result.day)
                except ValueError:
                    raise ValueError(f'"{text}" is not a day of the calendar') from None
            return result
        raise ValueError(f'"{text}" is not a date: use YYYY-MM-DD, YYYY-MM, YYYY or a '
                         'decade such as 2000s')

    @property
    def sort_key(self) -> tuple[int, int, int, int]:
        return (self.year, not self.decade, self.month, self.day)

    @property
    def iso(self) -> str:
        """``2015-05-13``, ``2025-06``, ``2015``, or ``2000s`` for a decade (which
        :meth:`parse` reads back; it is not ISO 8601: see :attr:`datetime`)."""
        if self.decade:
            return f"{self.year:04d}s"
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
            if self.day:
                text += f"-{self.day:02d}"
        return text

    @property
    def datetime(self) -> str:
        """The ISO 8601 form for HTML's ``<time datetime>`` and schema.org dates; empty
        for a decade, which neither can express."""
        return "" if self.decade else self.iso

    @property
    def label(self) -> str:
        if self.decade:
            return f"{self.year}s"
        if not self.month:
            return str(self.year)
        if not self.day:
            return f"{_MONTHS[self.month - 1]} {self.year}"
        return f"{self.day} {_MONTHS[self.month - 1]} {self.year}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PartialDate) and self.sort_key == other.sort_key

    def __lt__(self, other: PartialDate) -> bool:
        return self.sort_key < other.sort_key

    def __hash__(self) -> int:
        return hash(self.sort_key)

    def __repr__(self) -> str:
        return f"PartialDate({self.iso!r})"

    def __str__(self) -> str:
        return self.iso
