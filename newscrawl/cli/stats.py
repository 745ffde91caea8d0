"""`newscrawl stats`: articles per day and category for the last weeks, then the last crawl runs."""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from newscrawl.cli import add_db_argument, bounded_int, open_archive
from newscrawl.dates import TASHKENT

if TYPE_CHECKING:  # the archive opens it at run time; --help and the other commands need not import it
    import sqlite_utils

MAX_CATEGORY_COLUMNS = 6
MAX_WEEKS = 5200  # a century: one line per day is already more than anyone reads
OTHER = "other"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("stats", help="articles per day and category, and the last crawls",
                                   description="Print articles per publication day (Tashkent date) and category "
                                               "for the last weeks, then the last 10 crawl runs.")
    add_db_argument(parser)
    parser.add_argument("--weeks", type=bounded_int(1, MAX_WEEKS), default=4,
                        help=f"how many weeks back from today (default: 4, at most {MAX_WEEKS})")
    return parser


def run(args: argparse.Namespace) -> int:
    with open_archive(args.db) as archive:
        print(render(archive.db, weeks=args.weeks))
    return 0


def per_day(db: sqlite_utils.Database, first: date, last: date) -> dict[str, dict[str, int]]:
    """{day: {category: count}} for articles published first..last (Tashkent dates, inclusive)."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    sql = ("SELECT substr(published_at, 1, 10) AS day, coalesce(nullif(category, ''), '(none)') AS category, "
           "count(*) AS n FROM articles WHERE published_at >= ? AND published_at < ? GROUP BY day, category")
    for row in db.query(sql, [first.isoformat(), (last + timedelta(days=1)).isoformat()]):
        counts[row["day"]][row["category"]] = row["n"]
    return counts


def day_table(counts: dict[str, dict[str, int]], first: date, last: date) -> list[str]:
    """One line per day, newest first, a column per category (the largest few, the rest as "other")."""
    totals: dict[str, int] = defaultdict(int)
    for by_category in counts.values():
        for category, n in by_category.items():
            totals[category] += n
    ranked = sorted(totals, key=lambda c: (-totals[c], c))
    shown = ranked if len(ranked) <= MAX_CATEGORY_COLUMNS else [*ranked[:MAX_CATEGORY_COLUMNS - 1], OTHER]
    widths = [max(len(c), 5) for c in shown]

    def line(label: str, total: int, cells: list[int]) -> str:
        values = "  ".join(f"{(n or '-')!s:>{w}}" for n, w in zip(cells, widths, strict=True))
        return f"{label:<10}  {total or '-'!s:>5}  {values}".rstrip()

    def cells(by_category: dict[str, int]) -> list[int]:
        return [by_category.get(c, 0) if c != OTHER else
                sum(n for k, n in by_category.items() if k not in shown) for c in shown]

    header = f"{'day':<10}  {'total':>5}  " + "  ".join(f"{c:>{w}}" for c, w in zip(shown, widths, strict=True))
    lines = [header.rstrip()]
    day = last
    while day >= first:
        by_category = counts.get(day.isoformat(), {})
        lines.append(line(day.isoformat(), sum(by_category.values()), cells(by_category)))
        day -= timedelta(days=1)
    lines.append(line("all days", sum(totals.values()), cells(totals)))
    return lines


def _local(timestamp: str | None) -> str:
    if not timestamp:
        return "-"
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(TASHKENT).strftime("%Y-%m-%d %H:%M")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def crawl_table(db: sqlite_utils.Database, limit: int = 10) -> list[str]:
    """The last crawl runs, newest first: when, outcome, item counts, errors, duration and reason."""
    header = (f"{'#':>4}  {'started (+05:00)':<16}  {'status':<11}  {'new':>4}  {'upd':>4}  {'same':>4}  "
              f"{'drop':>4}  {'304':>4}  {'err':>4}  {'time':>7}  reason")
    lines = [header]

    def number(value: Any) -> str:
        return "-" if value is None else str(value)

    for row in db.query("SELECT * FROM crawls ORDER BY id DESC LIMIT ?", [limit]):
        reason = (row["reason"] or "").replace("\n", " ")
        lines.append(
            f"{row['id']:>4}  {_local(row['started_at']):<16}  {row['status'] or '-':<11}  "
            f"{number(row['items_new']):>4}  {number(row['items_updated']):>4}  {number(row['items_unchanged']):>4}  "
            f"{number(row['items_dropped']):>4}  {number(row['not_modified']):>4}  {number(row['errors']):>4}  "
            f"{_duration(row['duration_s']):>7}  {reason[:80]}".rstrip())
    if len(lines) == 1:
        lines.append("  (no crawls recorded)")
    return lines


def render(db: sqlite_utils.Database, *, weeks: int = 4, today: date | None = None) -> str:
    """The whole report as text."""
    last = today or datetime.now(TASHKENT).date()
    first = last - timedelta(days=7 * weeks - 1)
    counts = per_day(db, first, last)
    total = db.execute("SELECT count(*), max(published_at) FROM articles").fetchone()
    lines = [f"Archive: {total[0]} articles, newest published {total[1] or '-'}",
             "", f"Articles per day and category, {first} to {last} (Tashkent dates, newest first):"]
    lines += day_table(counts, first, last)
    lines += ["", "Last crawls:", *crawl_table(db)]
    return "\n".join(lines)
