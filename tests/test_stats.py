"""`newscrawl stats`: per-day/category counts for the last weeks and the last crawl runs, on a real archive file."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from newscrawl.archive import Archive
from newscrawl.cli import main, stats

TASHKENT = timezone(timedelta(hours=5))


def article(n: int, published: datetime, category: str) -> dict:
    return {"url": f"https://example.uz/kr/news/{n}/", "title": f"Сенат ялпи мажлиси {n}", "body": "Матн.",
            "published_at": published.isoformat(), "category": category,
            "fetched_at": "2025-11-20T08:00:00+00:00"}


def build(path: Path, now: datetime) -> None:
    """Articles at fixed offsets from `now` in two categories, and twelve crawl runs."""
    today = now.replace(hour=0, minute=30, second=0, microsecond=0)
    plan = [(0, "Сиёсат"), (0, "Сиёсат"), (0, "Siyosat"), (1, "Сиёсат"), (6, "Siyosat"),
            (13, "Сиёсат"), (27, "Сиёсат"), (28, "Сиёсат"), (40, "Siyosat")]
    with Archive(path) as archive:
        for n, (days_back, category) in enumerate(plan):
            archive.upsert_article(article(n, today - timedelta(days=days_back), category))
        archive.upsert_article({**article(99, today, "Сиёсат"), "published_at": None})
        for i in range(12):
            crawl_id = archive.start_crawl(spider="siyosat", site="demo", start_url="https://example.uz/kr/siyosat/")
            values = {"status": "ok", "exit_code": 0, "items_new": i, "items_updated": 1, "items_unchanged": 2,
                      "items_dropped": 0, "errors": 0, "not_modified": 3, "duration_s": 12.5 + i}
            if i == 11:
                values.update(status="failed", exit_code=1, reason="listing layout changed: no cards on page 1",
                              duration_s=125.0)
            archive.finish_crawl(crawl_id, values)


def run_stats(*argv: str) -> int:
    return main(["stats", *argv])


def day_rows(text: str) -> dict[str, list[str]]:
    return {m[1]: m[2].split() for m in re.finditer(r"^(\d{4}-\d\d-\d\d|all days)\s+(.*)$", text, re.M)}


def test_cli_counts_per_day_and_category(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    now = datetime.now(TASHKENT)
    db = tmp_path / "news.db"
    build(db, now)
    assert run_stats("--db", str(db)) == 0
    out = capsys.readouterr().out
    today = now.date()
    assert "Archive: 10 articles" in out
    header = next(line for line in out.splitlines() if line.startswith("day"))
    assert header.split() == ["day", "total", "siyosat"]  # Сиёсат and Siyosat are one category_key
    rows = day_rows(out)
    assert rows[today.isoformat()] == ["3", "3"]
    assert rows[(today - timedelta(days=1)).isoformat()] == ["1", "1"]
    assert rows[(today - timedelta(days=6)).isoformat()] == ["1", "1"]
    assert rows[(today - timedelta(days=27)).isoformat()] == ["1", "1"]
    assert (today - timedelta(days=28)).isoformat() not in rows  # outside 4 weeks
    assert rows["all days"] == ["7", "7"]
    first, oldest = today - timedelta(days=27), today - timedelta(days=40)
    assert f"(2 articles published before {first}: --since {oldest} shows them)" in out
    # days without articles: four in a row (2-5 days back) are one line; fewer than three stay lines of "-"
    assert f"{today - timedelta(days=2)}…{today - timedelta(days=5)}  no articles (4 days)" in out
    assert (today - timedelta(days=2)).isoformat() not in rows
    assert list(rows) == [(today - timedelta(days=n)).isoformat() for n in (0, 1, 6, 13, 27)] + ["all days"]


def test_weeks_option_widens_the_window(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    now = datetime.now(TASHKENT)
    db = tmp_path / "news.db"
    build(db, now)
    run_stats("--db", str(db), "--weeks", "6")
    rows = day_rows(capsys.readouterr().out)
    today = now.date()
    # six weeks back from the newest day, but not before the oldest (40 days back)
    assert rows["all days"] == ["9", "9"] and (today - timedelta(days=40)).isoformat() in rows
    assert run_stats("--db", str(db), "--weeks", "0") == 2
    assert "argument --weeks: 0 is out of range" in capsys.readouterr().err


def test_last_ten_crawls_newest_first(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    build(db, datetime(2025, 11, 20, 12, 0, tzinfo=TASHKENT))
    with Archive(db, readonly=True) as archive:
        text = stats.render(archive.db, today=date(2025, 11, 20))
    crawl_lines = text.split("Last crawls (times in UTC):\n", 1)[1].splitlines()[1:]
    assert [int(line.split()[0]) for line in crawl_lines] == list(range(12, 2, -1))
    newest = crawl_lines[0].split()
    assert newest[3:5] == ["failed", "11"]
    assert crawl_lines[0].endswith("2m05s  listing layout changed: no cards on page 1")
    assert crawl_lines[1].split()[3:11] == ["ok", "10", "1", "2", "0", "3", "0", "22.5s"]


def test_empty_archive(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    Archive(db).close()
    with Archive(db, readonly=True) as archive:
        text = stats.render(archive.db, weeks=1, today=date(2025, 11, 20))
    assert "Archive: 0 articles" in text and "(no crawls recorded)" in text
    assert day_rows(text)["all days"] == ["-"]


def test_default_window_is_the_archives_own_days(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Three days of articles a year ago: three lines, not four weeks up to today of "-"."""
    db = tmp_path / "news.db"
    with Archive(db) as archive:
        for n, day in enumerate((10, 11, 11, 13)):
            archive.upsert_article(article(n, datetime(2024, 5, day, 9, 0, tzinfo=TASHKENT), "Сиёсат"))
    assert run_stats("--db", str(db)) == 0
    out = capsys.readouterr().out
    rows = day_rows(out)
    assert list(rows) == ["2024-05-13", "2024-05-12", "2024-05-11", "2024-05-10", "all days"]
    assert rows["2024-05-12"] == ["-", "-"]  # one empty day stays a line
    assert rows["2024-05-11"] == ["2", "2"] and rows["all days"] == ["4", "4"]
    assert "published 2024-05-10 to 2024-05-13" in out
    assert run_stats("--db", str(db), "--since", "2024-05-11", "--until", "2024-05-12") == 0
    assert list(day_rows(capsys.readouterr().out)) == ["2024-05-12", "2024-05-11", "all days"]
    assert run_stats("--db", str(db), "--since", "2024-05-12", "--until", "2024-05-11") == 2
    assert "--since 2024-05-12 is after --until 2024-05-11" in capsys.readouterr().err


def test_json_and_category_in_either_script(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import json
    now = datetime.now(TASHKENT)
    db = tmp_path / "news.db"
    build(db, now)
    with Archive(db) as archive:
        archive.upsert_article(article(200, now.replace(hour=1), "Жамият"))
    assert run_stats("--db", str(db), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["articles"] == 11 and report["per_category"] == {"siyosat": 7, "jamiyat": 1}
    assert report["per_day"][0] == {"day": now.date().isoformat(), "stories": 4, "total": 4,
                                    "by_category": {"siyosat": 3, "jamiyat": 1}}
    assert len(report["crawls"]) == 10 and report["crawls"][0]["status"] == "failed"
    for spelling in ("Siyosat", "СИЁСАТ", "siyosat"):
        assert run_stats("--db", str(db), "--json", "--category", spelling) == 0
        assert json.loads(capsys.readouterr().out)["per_category"] == {"siyosat": 7}
