"""Date parsing: every printed form, Tashkent's calendar, precision, and never guessing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from date_cases import CASES, NOT_DATES
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl.dates import TASHKENT, ParsedDate, parse_date, parse_date_precise

BASE = datetime(2025, 11, 15, 18, 0, tzinfo=TASHKENT)


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 80
    assert len({c.text for c in CASES}) >= 80


@pytest.mark.parametrize("case", CASES, ids=[f"{i}:{c.text}" for i, c in enumerate(CASES)])
def test_forms(case) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_date_precise(case.text, case.base_datetime())
    assert parsed is not None, case.text
    assert parsed.value.isoformat() == case.expected
    assert parsed.precision == case.precision
    assert parsed.value.utcoffset() == timedelta(hours=5)


@pytest.mark.parametrize("text", NOT_DATES)
def test_not_dates(text: str) -> None:
    assert parse_date(text, BASE) is None
    assert parse_date_precise(text, BASE) is None


def test_today_after_midnight_in_tashkent_is_the_next_utc_day() -> None:
    base = datetime(2025, 11, 15, 20, 30, tzinfo=timezone.utc)
    assert parse_date("Бугун 00:15", base) == datetime(2025, 11, 16, 0, 15, tzinfo=TASHKENT)
    assert parse_date("Кеча 23:50", base) == datetime(2025, 11, 15, 23, 50, tzinfo=TASHKENT)


def test_naive_base_is_utc() -> None:
    naive = datetime(2025, 11, 15, 20, 30)
    assert parse_date("Bugun 00:15", naive) == datetime(2025, 11, 16, 0, 15, tzinfo=TASHKENT)


def test_day_without_year_is_latest_not_after_fetch() -> None:
    fetched = datetime(2025, 1, 3, 12, 0, tzinfo=TASHKENT)
    assert parse_date("14 ноябрь", fetched) == datetime(2024, 11, 14, tzinfo=TASHKENT)
    assert parse_date("2 январ", fetched) == datetime(2025, 1, 2, tzinfo=TASHKENT)
    assert parse_date("3 yanvar", fetched) == datetime(2025, 1, 3, tzinfo=TASHKENT)
    assert parse_date("4 yanvar", fetched) == datetime(2024, 1, 4, tzinfo=TASHKENT)


def test_february_29_without_year_goes_back_to_a_leap_year() -> None:
    fetched = datetime(2025, 11, 15, tzinfo=TASHKENT)
    assert parse_date("29 феврал", fetched) == datetime(2024, 2, 29, tzinfo=TASHKENT)


def test_precision() -> None:
    assert parse_date_precise("15.11.2025", BASE) == ParsedDate(datetime(2025, 11, 15, tzinfo=TASHKENT), "day")
    assert parse_date_precise("15.11.2025 12:33", BASE).precision == "minute"  # type: ignore[union-attr]
    assert parse_date_precise("15.11.2025 12:33:07", BASE).precision == "second"  # type: ignore[union-attr]
    assert parse_date_precise("Кеча", BASE).precision == "day"  # type: ignore[union-attr]


def test_parsed_date_is_frozen() -> None:
    parsed = parse_date_precise("15.11.2025", BASE)
    with pytest.raises(AttributeError):
        parsed.precision = "second"  # type: ignore[misc, union-attr]


def test_explicit_zone_is_converted_to_tashkent() -> None:
    assert parse_date("2025-11-15T23:00:00Z", BASE) == datetime(2025, 11, 16, 4, 0, tzinfo=TASHKENT)
    assert parse_date("15 Nov 2025 07:33 UTC", BASE) == datetime(2025, 11, 15, 12, 33, tzinfo=TASHKENT)


def test_default_base_is_now() -> None:
    parsed = parse_date("Hozirgina")
    assert parsed is not None
    assert abs(parsed - datetime.now(TASHKENT)) < timedelta(minutes=2)


def test_non_string_input_is_none() -> None:
    assert parse_date(None) is None  # type: ignore[arg-type]
    assert parse_date(20251115) is None  # type: ignore[arg-type]


def test_dateparser_fallback_still_needs_day_month_and_year() -> None:
    assert parse_date("15 November, 2025 year", BASE) == datetime(2025, 11, 15, tzinfo=TASHKENT)
    assert parse_date("November, 2025 yangiliklar", BASE) is None


WORDS = ["ноябрь", "ноября", "noyabr", "mart", "май", "Бугун", "Кеча", "kecha", "соат", "олдин", "oldin", "назад",
         "ago", "йил", "yil", "г.", "Шанба", "Juma", "Янгиланди:", "в", "at", "pm", "GMT", "Z", "T"]
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.integers(min_value=0, max_value=99999).map(str),
    st.sampled_from([".", ":", "/", "-", ",", " ", " / ", "+", "|", "'", "ʻ"]),
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_never_raises_on_any_text(text: str) -> None:
    result = parse_date_precise(text, BASE)
    assert result is None or (result.value.tzinfo is not None and result.precision in ("day", "minute", "second"))


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=10).map("".join))
def test_never_raises_on_date_like_text(text: str) -> None:
    result = parse_date_precise(text, BASE)
    assert result is None or result.value.utcoffset() == timedelta(hours=5)


def test_a_site_zone_replaces_tashkent_for_text_without_one() -> None:
    moscow = timezone(timedelta(hours=3))
    base = datetime(2025, 11, 15, 20, 30, tzinfo=timezone.utc)
    assert parse_date("15.11.2025 12:33", base, moscow).isoformat() == "2025-11-15T12:33:00+03:00"
    assert parse_date("Сегодня 00:15", base, moscow).isoformat() == "2025-11-15T00:15:00+03:00"
    assert parse_date("Бугун 00:15", base).isoformat() == "2025-11-16T00:15:00+05:00"
    assert parse_date("15 ноября 2025 г., 13:35", base, moscow).isoformat() == "2025-11-15T13:35:00+03:00"
    assert parse_date("2025-11-15T12:33:00+05:00", base, moscow).isoformat() == "2025-11-15T10:33:00+03:00"


def test_a_remembered_reading_still_resolves_against_each_base_and_zone() -> None:
    """The reading of a text is cached across calls; the moment and the zone it resolves against are not."""
    other = BASE + timedelta(days=3)
    utc = timezone.utc
    for text in ("Кеча, 17:22", "2 soat oldin", "15 ноябрь, 13:35", "15.11.2025 13:35", "2025-11-15 13:35", "ҳозир"):
        first = [parse_date_precise(text, base, zone) for base in (BASE, other) for zone in (None, utc)]
        assert [parse_date_precise(text, base, zone) for base in (BASE, other) for zone in (None, utc)] == first
    for text in ("Кеча, 17:22", "2 soat oldin", "ҳозир"):  # relative: another fetch time, another moment
        assert parse_date(text, BASE) != parse_date(text, other), text
    for text in ("Кеча, 17:22", "15.11.2025 13:35", "2025-11-15 13:35"):  # no zone printed: the site's zone
        assert parse_date(text, BASE) != parse_date(text, BASE, utc), text
    assert parse_date("2 soat oldin", other) == other.replace(second=0) - timedelta(hours=2)
