"""`newscrawl stats`: articles per day and category (category_key) over the archive's days, then the last crawl runs."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from newscrawl.cli import (
    CommandError,
    add_db_argument,
    add_json_argument,
    bounded_int,
    date_argument,
    open_archive,
    print_json,
)
from newscrawl.reading import article_filter, story_count_sql
from newscrawl.dates import TASHKENT

if TYPE_CHECKING:  # the archive opens it at run time; --help and the other commands need not import it
    import sqlite_utils

MAX_CATEGORY_COLUMNS = 6
MAX_WEEKS = 5200  # a century: one line per day is already more than anyone reads
OTHER = "other"
STORIES = "a story published in both scripts counts once"
"""What the per-day numbers count (reading.story_count_sql): said wherever they are shown, since they can be fewer
than the archive's articles."""
JSON_COUNTS = (f"articles: rows in the archive; stories, per_day (stories, by_category) and per_category: stories "
               f"({STORIES}); per_day total: the same as stories, the key's name before it said so")
"""The `counts` key of `stats --json`: the report says what its numbers count."""
EMPTY_RUN = 3
"""Days in a row without articles shown as one line ("2025-11-20…2025-11-14  no articles (7 days)")."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "stats", help="stories per day and category, and the last crawls",
        description="Print stories per publication day (the Tashkent date, as stored) and category (grouped by "
                    f"category_key, so Сиёсат and Siyosat are one column; {STORIES}), then the last 10 crawl "
                    "runs with their start times in UTC (as stored, and as Datasette shows them). Without "
                    "--since/--until the days shown end at the newest publication day in the archive and go back "
                    "--weeks, never before the oldest one. With --json, `articles` counts rows and `stories`, "
                    "each day's `stories` (also under its old name `total`) and the category counts count stories; "
                    "`counts` says so.")
    add_db_argument(parser)
    parser.add_argument("--since", type=date_argument, help="first day shown, YYYY-MM-DD (default: --weeks before "
                                                           "--until, or the archive's oldest day if later)")
    parser.add_argument("--until", type=date_argument, help="last day shown, YYYY-MM-DD (default: the archive's "
                                                           "newest publication day)")
    parser.add_argument("--weeks", type=bounded_int(1, MAX_WEEKS), default=4,
                        help=f"how many weeks to show when --since is not given (default: 4, at most {MAX_WEEKS})")
    parser.add_argument("--category", help="only this category, in either script or any case "
                                           "(Сиёсат = Siyosat = siyosat)")
    add_json_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    since = date.fromisoformat(args.since) if args.since else None
    until = date.fromisoformat(args.until) if args.until else None
    if since and until and since > until:
        raise CommandError(f"--since {since} is after --until {until}")
    with open_archive(args.db) as archive:
        if args.json:
            print_json(report(archive.db, weeks=args.weeks, since=since, until=until, category=args.category))
        else:
            print(render(archive.db, weeks=args.weeks, since=since, until=until, category=args.category))
    return 0


def archive_days(db: sqlite_utils.Database, category: str | None = None) -> tuple[date, date] | None:
    """The oldest and newest publication day (Tashkent dates) of the archive's dated articles, or None."""
    where, params = article_filter(category=category)
    where = (where + " AND" if where else " WHERE") + " published_at IS NOT NULL"
    oldest, newest = db.execute(f"SELECT min(published_at), max(published_at) FROM articles{where}",
                                params).fetchone()
    if not oldest:
        return None
    return date.fromisoformat(oldest[:10]), date.fromisoformat(newest[:10])


def window(db: sqlite_utils.Database, *, weeks: int, since: date | None, until: date | None,
           category: str | None = None, today: date | None = None) -> tuple[date, date]:
    """The days to show: as given, else ending at the archive's newest day and starting --weeks before it, but
    not before its oldest day (so an archive of three days shows three lines, not four weeks of "-")."""
    span = archive_days(db, category)
    last = until or (span[1] if span else today or datetime.now(TASHKENT).date())
    if since:
        return since, last
    first = last - timedelta(days=7 * weeks - 1)
    if span and until is None:
        first = max(first, span[0])
    return min(first, last), last


def per_day(db: sqlite_utils.Database, first: date, last: date,
            category: str | None = None) -> dict[str, dict[str, int]]:
    """{day: {category_key: stories}} for articles published first..last (Tashkent dates, inclusive): a story
    published in both scripts counts once (reading.story_count_sql)."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    where, params = article_filter(first.isoformat(), last.isoformat(), category)
    sql = ("SELECT substr(published_at, 1, 10) AS day, coalesce(nullif(category_key, ''), '(none)') AS grouped, "
           f"{story_count_sql(db)} AS n FROM articles{where} GROUP BY day, grouped")
    for row in db.query(sql, params):
        counts[row["day"]][row["grouped"]] = row["n"]
    return counts


def day_table(counts: dict[str, dict[str, int]], first: date, last: date) -> list[str]:
    """One line per day, newest first, a column per category (the largest few, the rest as "other"); EMPTY_RUN or
    more days in a row without articles make one line."""
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
    empty: list[date] = []  # a run of days without articles, newest first

    def close_run() -> None:
        if len(empty) >= EMPTY_RUN:  # one line instead of a screen of "-"
            lines.append(f"{empty[0].isoformat()}…{empty[-1].isoformat()}  no articles ({len(empty)} days)")
        else:
            lines.extend(line(d.isoformat(), 0, cells({})) for d in empty)
        empty.clear()

    day = last
    while day >= first:
        by_category = counts.get(day.isoformat(), {})
        if by_category:
            close_run()
            lines.append(line(day.isoformat(), sum(by_category.values()), cells(by_category)))
        else:
            empty.append(day)
        day -= timedelta(days=1)
    close_run()
    lines.append(line("all days", sum(totals.values()), cells(totals)))
    return lines


def _utc(timestamp: str | None) -> str:
    if not timestamp:
        return "-"
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def crawl_table(db: sqlite_utils.Database, limit: int = 10) -> list[str]:
    """The last crawl runs, newest first: when, outcome, item counts, errors, duration and reason."""
    header = (f"{'#':>4}  {'started (UTC)':<16}  {'status':<11}  {'new':>4}  {'upd':>4}  {'same':>4}  "
              f"{'drop':>4}  {'304':>4}  {'err':>4}  {'time':>7}  reason")
    lines = [header]

    def number(value: Any) -> str:
        return "-" if value is None else str(value)

    for row in db.query("SELECT * FROM crawls ORDER BY id DESC LIMIT ?", [limit]):
        reason = (row["reason"] or "").replace("\n", " ")
        lines.append(
            f"{row['id']:>4}  {_utc(row['started_at']):<16}  {row['status'] or '-':<11}  "
            f"{number(row['items_new']):>4}  {number(row['items_updated']):>4}  {number(row['items_unchanged']):>4}  "
            f"{number(row['items_dropped']):>4}  {number(row['not_modified']):>4}  {number(row['errors']):>4}  "
            f"{_duration(row['duration_s']):>7}  {reason[:80]}".rstrip())
    if len(lines) == 1:
        lines.append("  (no crawls recorded)")
    return lines


def crawl_rows(db: sqlite_utils.Database, limit: int = 10) -> list[dict[str, Any]]:
    rows = list(db.query("SELECT * FROM crawls ORDER BY id DESC LIMIT ?", [limit]))
    for row in rows:
        for key in ("drop_reasons", "error_causes", "drift"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
    return rows


def report(db: sqlite_utils.Database, *, weeks: int = 4, since: date | None = None, until: date | None = None,
           category: str | None = None, today: date | None = None) -> dict[str, Any]:
    """What render() prints, as one JSON-ready dict (every day of the window, zero days included)."""
    first, last = window(db, weeks=weeks, since=since, until=until, category=category, today=today)
    counts = per_day(db, first, last, category)
    span = archive_days(db, category)
    days = []
    day = last
    while day >= first:
        by_category = counts.get(day.isoformat(), {})
        stories = sum(by_category.values())
        days.append({"day": day.isoformat(), "stories": stories, "total": stories, "by_category": by_category})
        day -= timedelta(days=1)
    totals: dict[str, int] = defaultdict(int)
    for by_category in counts.values():
        for key, n in by_category.items():
            totals[key] += n
    return {"articles": db.execute("SELECT count(*) FROM articles").fetchone()[0],
            "stories": db.execute(f"SELECT {story_count_sql(db)} FROM articles").fetchone()[0],
            "counts": JSON_COUNTS,
            "archive_days": [span[0].isoformat(), span[1].isoformat()] if span else None,
            "since": first.isoformat(), "until": last.isoformat(), "category": category,
            "per_day": days, "per_category": dict(totals), "crawls": crawl_rows(db)}


def render(db: sqlite_utils.Database, *, weeks: int = 4, since: date | None = None, until: date | None = None,
           category: str | None = None, today: date | None = None) -> str:
    """The whole report as text."""
    first, last = window(db, weeks=weeks, since=since, until=until, category=category, today=today)
    counts = per_day(db, first, last, category)
    total = db.execute("SELECT count(*), max(published_at) FROM articles").fetchone()
    span = archive_days(db, category)
    lines = [f"Archive: {total[0]} articles, published "
             + (f"{span[0]} to {span[1]}" if span else "- (none dated)"),
             "", f"Stories per day and category_key{f' ({category})' if category is not None else ''}, "
             f"{first} to {last} (publication day, Tashkent dates, newest first; {STORIES}):"]
    lines += day_table(counts, first, last)
    if span and span[0] < first:
        where, params = article_filter(until=(first - timedelta(days=1)).isoformat(), category=category)
        earlier = db.execute(f"SELECT count(*) FROM articles{where}", params).fetchone()[0]
        lines.append(f"({earlier} articles published before {first}: --since {span[0]} shows them)")
    lines += ["", "Last crawls (times in UTC):", *crawl_table(db)]
    return "\n".join(lines)
