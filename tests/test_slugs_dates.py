from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from builder.dates import parse_date
from builder.slugs import fold, slugify


@pytest.mark.parametrize(("text", "slug"), [
    ("Zürich", "zurich"),
    ("Hello, World!", "hello-world"),
    ("  Lashkar-e-Taiba  ", "lashkar-e-taiba"),
    ("Straße & Ærø", "strasse-aero"),
    ("Ehsan’s warning", "ehsans-warning"),
    ("LeT", "let"),
    ("../../etc/passwd", "etc-passwd"),
    ("日本", ""),
])
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_fold_keeps_spacing_and_folds_case():
    assert fold("Mīr Shafīq") == "mir shafiq"


def test_date_only_stays_a_calendar_date_in_any_zone():
    day, moment = parse_date(date(2025, 10, 7), ZoneInfo("Pacific/Kiritimati"))
    assert day == date(2025, 10, 7) and moment is None
    assert parse_date("2025-10-07", ZoneInfo("America/Los_Angeles")) == (date(2025, 10, 7), None)


def test_naive_datetime_uses_site_zone():
    day, moment = parse_date(datetime(2025, 10, 7, 23, 30), ZoneInfo("Asia/Kolkata"))
    assert day == date(2025, 10, 7)
    assert moment.utcoffset() == timedelta(hours=5, minutes=30)


def test_datetime_with_offset_keeps_its_own_date():
    tz = timezone(timedelta(hours=-8))
    day, moment = parse_date("2025-10-07T23:30:00-08:00", ZoneInfo("UTC"))
    assert day == date(2025, 10, 7)
    assert moment == datetime(2025, 10, 7, 23, 30, tzinfo=tz)


@pytest.mark.parametrize("bad", ["yesterday", "2025-13-01", 12, ["2025-01-01"]])
def test_invalid_dates_raise(bad):
    with pytest.raises(ValueError):
        parse_date(bad, ZoneInfo("UTC"))
