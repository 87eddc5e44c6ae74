"""Front-matter dates: calendar dates stay calendar dates; times get a zone."""

from __future__ import annotations

from datetime import date, datetime, tzinfo


def parse_date(value: object, tz: tzinfo) -> tuple[date, datetime | None]:
    """Return the calendar date and, when a time was given, an aware datetime.

    A date-only value is a calendar date: it is never shifted by time zones
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
    else:
        raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.date(), moment
