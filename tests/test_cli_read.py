"""Reading the archive in the terminal: `latest`, `show ID|URL` with related links and versions, `--json` on
search, stats, latest and show, `--category` in either script. The real command runs in a subprocess against a
real archive: one crawled from the demo site, and one written with Archive upserts (for versions)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT

from newscrawl.archive import Archive
from newscrawl.cli.stats import per_day

CLI = [sys.executable, "-m", "newscrawl.cli"]
FIRST = {
    "url": "https://example.uz/kr/news/2025/11/14/mukofot/", "title": "Мирзиёев Тоқаевни мукофотлади",
    "lead": "Қозоғистон билан шериклик мустаҳкамланди.",
    "body": "Биринчи хатбоши.\n\nИккинчи хатбоши, узунроқ.",
    "published_at": "2025-11-14T19:48:00+05:00", "published_precision": "minute", "published_text": "14.11.2025 19:48",
    "fetched_at": "2025-11-15T08:00:00+00:00", "category": "Сиёсат", "author": "Дилшод Раҳимов", "script": "cyrl",
    "related": [
        {"url": "https://example.uz/oz/news/2025/11/13/senat/", "title": "Senat yigʻilishi", "position": 0,
         "published_text": "Kecha 10:00"},
        {"url": "https://elsewhere.example/x/", "title": "Бошқа сайт", "position": 1},
    ],
}
SECOND = {
    "url": "https://example.uz/oz/news/2025/11/13/senat/", "title": "Senat yigʻilishi",
    "body": "Matn.", "published_at": "2025-11-13T10:00:00+05:00", "published_precision": "minute",
    "fetched_at": "2025-11-15T08:00:00+00:00", "category": "Siyosat", "script": "latn",
}
THIRD = {
    "url": "https://example.uz/ru/news/2025/11/15/sport/", "title": "Футбол", "body": "Текст.",
    "published_at": "2025-11-15T09:00:00+05:00", "fetched_at": "2025-11-15T08:00:00+00:00", "category": "Спорт",
}


def newscrawl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("read") / "news.db"
    with Archive(path) as archive:
        archive.upsert_article({**FIRST, "title": "Мирзиёев Тоқаевни тақдирлади", "body": "Эски матн."})
        archive.upsert_article(SECOND)
        archive.upsert_article(THIRD)
        assert archive.upsert_article(FIRST) == "updated"
    return path


def test_latest_newest_first_with_ids(db: Path) -> None:
    result = newscrawl("latest", "--db", str(db), "-n", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.index("Футбол") < result.stdout.index("Мирзиёев Тоқаевни мукофотлади")
    assert "Senat" not in result.stdout  # -n 2
    assert "#3  2025-11-15 09:00 +05:00  [Спорт]" in result.stdout


@pytest.mark.parametrize("category", ["Сиёсат", "Siyosat", "siyosat", "SIYOSAT"])
def test_latest_category_in_either_script(db: Path, category: str) -> None:
    rows = json.loads(newscrawl("latest", "--db", str(db), "--category", category, "--json").stdout)
    assert [r["url"] for r in rows] == [FIRST["url"], SECOND["url"]]
    assert {r["category_key"] for r in rows} == {"siyosat"}


def test_show_reads_an_article_with_related_links_and_versions(db: Path) -> None:
    for key in ("1", FIRST["url"], FIRST["url"].rstrip("/")):  # id, URL, another form of the URL
        result = newscrawl("show", key, "--db", str(db))
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert out.startswith("Мирзиёев Тоқаевни мукофотлади\n")
        assert "Published: 2025-11-14 19:48 +05:00  (printed: 14.11.2025 19:48)" in out
        assert "Category:  Сиёсат    Author: Дилшод Раҳимов" in out
        assert "Биринчи хатбоши.\n\nИккинчи хатбоши, узунроқ." in out  # paragraphs kept apart
        assert "Related links (2):\n  1. Senat yigʻilishi  -> #2\n" in out  # linked to the archived article
        assert "  2. Бошқа сайт\n     https://elsewhere.example/x/" in out
        assert "Earlier versions (1, oldest first):" in out
        assert "title, body changed after it" in out and "title was: Мирзиёев Тоқаевни тақдирлади" in out


def test_show_json_has_the_same_names_as_the_tables(db: Path) -> None:
    shown = json.loads(newscrawl("show", "1", "--db", str(db), "--json").stdout)
    assert shown["id"] == 1 and shown["body"] == FIRST["body"] and shown["category_key"] == "siyosat"
    assert [link["archived_id"] for link in shown["related_links"]] == [2, None]
    assert shown["related_links"][0]["published_text"] == "Kecha 10:00"
    (version,) = shown["versions"]
    assert version["title"] == "Мирзиёев Тоқаевни тақдирлади" and version["seen_until"]
    assert "related" not in shown


def test_show_unknown_article_is_one_line(db: Path) -> None:
    for key in ("999", "https://example.uz/nope/"):
        result = newscrawl("show", key, "--db", str(db))
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.startswith("newscrawl show: no archived article with id or URL")
        assert len(result.stderr.splitlines()) == 1


def test_search_json(demo_archive) -> None:
    result = newscrawl("search", "Mirziyoyev", "--db", str(demo_archive.db), "--limit", "3", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert 0 < len(hits) <= 3 and set(hits[0]) == {"published_at", "title", "url", "snippet"}
    assert "[" in hits[0]["snippet"]  # matches marked, never a terminal's escape codes
    assert json.loads(newscrawl("search", "qwertyzzz", "--db", str(demo_archive.db), "--json").stdout) == []


def test_latest_and_show_on_a_crawled_archive(demo_archive) -> None:
    rows = json.loads(newscrawl("latest", "--db", str(demo_archive.db), "--json", "-n", "3").stdout)
    assert len(rows) == 3 and rows[0]["published_at"] >= rows[1]["published_at"] >= rows[2]["published_at"]
    shown = json.loads(newscrawl("show", str(rows[0]["id"]), "--db", str(demo_archive.db), "--json").stdout)
    assert shown["url"] == rows[0]["url"] and shown["body"]
    text = newscrawl("show", rows[0]["url"], "--db", str(demo_archive.db)).stdout
    assert text.startswith(rows[0]["title"])


TWIN_CYRL = {
    "url": "https://example.uz/kr/news/2025/11/16/forum/", "title": "Тошкентда халқаро форум бўлиб ўтди",
    "body": "Форум матни.", "published_at": "2025-11-16T10:00:00+05:00", "published_precision": "minute",
    "fetched_at": "2025-11-16T12:00:00+00:00", "category": "Сиёсат", "script": "cyrl",
}
TWIN_LATN = {**TWIN_CYRL, "url": "https://example.uz/oz/news/2025/11/16/forum/",
             "title": "Toshkentda xalqaro forum boʻlib oʻtdi", "body": "Forum matni.", "category": "Siyosat",
             "script": "latn", "published_at": "2025-11-16T10:05:00+05:00"}


def test_show_links_the_story_in_the_other_script_and_stats_counts_it_once(tmp_path: Path) -> None:
    """The Cyrillic and Latin copies of one story share a story key (docs/stories.md): `show` names the other copy
    (text and --json) and `stats` counts the story once on its day."""
    path = tmp_path / "news.db"
    with Archive(path) as archive:
        archive.upsert_article(TWIN_CYRL)
        archive.upsert_article(TWIN_LATN)
        archive.upsert_article(THIRD)
        ids = dict(archive.db.execute("SELECT script, id FROM articles WHERE script IS NOT NULL").fetchall())
    shown = newscrawl("show", "--db", str(path), str(ids["cyrl"]))
    assert shown.returncode == 0, shown.stderr
    assert f"Also published in latn: #{ids['latn']} Toshkentda xalqaro forum" in shown.stdout
    as_json = json.loads(newscrawl("show", "--db", str(path), TWIN_LATN["url"], "--json").stdout)
    assert [twin["id"] for twin in as_json["twins"]] == [ids["cyrl"]]
    with Archive(path, readonly=True) as archive:
        assert per_day(archive.db, date(2025, 11, 16), date(2025, 11, 16)) == {"2025-11-16": {"siyosat": 1}}
    # the text says what it counts: "Archive: 3 articles" above a total of 2 would read as a bug otherwise
    text = newscrawl("stats", "--db", str(path)).stdout
    assert "Stories per day" in text and "a story published in both scripts counts once" in text
    assert re.search(r"^all days +2 ", text, re.M), text
    # so does the JSON: `articles` counts rows, every other count stories, and `counts` says which is which
    report = json.loads(newscrawl("stats", "--db", str(path), "--json").stdout)
    assert (report["articles"], report["stories"], report["per_category"]) == (3, 2, {"siyosat": 1, "sport": 1})
    assert "articles: rows" in report["counts"] and "stories" in report["counts"]
    (day,) = [d for d in report["per_day"] if d["day"] == "2025-11-16"]
    assert day["stories"] == day["total"] == 1 and day["by_category"] == {"siyosat": 1}
