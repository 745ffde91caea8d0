"""Plain dateparser.parse versus newscrawl.dates.parse_date on the forms in tests/date_cases.py.

A form counts as right when the result equals the expected instant to the precision the text gives
(the day for "15.11.2025", the minute for "Бугун 13:35", the second for ISO with seconds), and a
non-date counts as right when the result is None. Also prints parses per second for both.
Run: python bench/dates.py [-v]. Reads no shared data.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import dateparser  # noqa: E402
from date_cases import CASES, NOT_DATES, DateCase  # noqa: E402

from newscrawl.dates import TASHKENT, parse_date, to_tashkent  # noqa: E402

Parser = Callable[[str, datetime], "datetime | None"]


def plain_dateparser(text: str, base: datetime) -> datetime | None:
    """dateparser as one would call it directly: day first, uz/ru/en, relative to the fetch time in Tashkent."""
    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": "Asia/Tashkent",
        "TO_TIMEZONE": "Asia/Tashkent",
        "RELATIVE_BASE": to_tashkent(base).replace(tzinfo=None),
    }
    return dateparser.parse(text, languages=["uz", "ru", "en"], settings=settings)


def truncate(value: datetime, precision: str) -> datetime:
    value = value.astimezone(TASHKENT)
    if precision == "day":
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    if precision == "minute":
        return value.replace(second=0, microsecond=0)
    return value.replace(microsecond=0)


def right(parser: Parser, case: DateCase) -> tuple[bool, datetime | None]:
    try:
        got = parser(case.text, case.base_datetime())
    except Exception:  # noqa: BLE001 - a crash counts as wrong
        return False, None
    if got is None or got.tzinfo is None:
        return False, got
    return truncate(got, case.precision) == datetime.fromisoformat(case.expected), got


def right_none(parser: Parser, text: str, base: datetime) -> tuple[bool, datetime | None]:
    try:
        got = parser(text, base)
    except Exception:  # noqa: BLE001
        return False, None
    return got is None, got


def rate(parser: Parser, rounds: int) -> float:
    texts = [(c.text, c.base_datetime()) for c in CASES] + [(t, CASES[0].base_datetime()) for t in NOT_DATES]
    start = time.perf_counter()
    for _ in range(rounds):
        for text, base in texts:
            parser(text, base)
    return rounds * len(texts) / (time.perf_counter() - start)


def main() -> None:
    verbose = "-v" in sys.argv
    base = CASES[0].base_datetime()
    print(f"{len(CASES)} date forms, {len(NOT_DATES)} non-dates")
    for name, parser in (("dateparser.parse", plain_dateparser), ("newscrawl parse_date", parse_date)):
        dates_right = 0
        for case in CASES:
            ok, got = right(parser, case)
            dates_right += ok
            if verbose and not ok:
                print(f"    {name}: {case.text!r} -> {got.isoformat() if got else None}, expected {case.expected}")
        none_right = 0
        for text in NOT_DATES:
            ok, got = right_none(parser, text, base)
            none_right += ok
            if verbose and not ok:
                print(f"    {name}: {text!r} -> {got.isoformat() if got else None}, expected None")
        rounds = 3 if parser is plain_dateparser else 30
        print(f"{name:22} dates {dates_right}/{len(CASES)}  non-dates {none_right}/{len(NOT_DATES)}  "
              f"total {dates_right + none_right}/{len(CASES) + len(NOT_DATES)}  {rate(parser, rounds):,.0f} parses/s")


if __name__ == "__main__":
    main()
