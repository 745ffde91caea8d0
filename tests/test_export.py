"""Exports: JSON Lines and CSV of articles (with filters), WARC of raw pages, streaming in constant memory."""
from __future__ import annotations

import csv
import gzip
import io
import json
import random
import sqlite3
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newscrawl.archive import Archive
from newscrawl.cli import main
from newscrawl.dates import time_bound
from newscrawl.export import export_articles, export_warc, warc_date

TASHKENT = timezone(timedelta(hours=5))

ARTICLES = [
    {
        "url": "https://example.uz/kr/news/2025/11/14/mirziyoev-toqaevni-mukofotladi/",
        "title": "Мирзиёев Тоқаевни мукофотлади",
        "lead": "Қозоғистон билан стратегик шериклик янада мустаҳкамланди.",
        "body": "Ўзбекистон Президенти Шавкат Мирзиёев Тоқаевни тақдирлади.\n\n"
                "– Тинчлик ва барқарорлик, – деди «Шавкат Мирзиёев».",
        "published_at": "2025-11-14T19:48:00+05:00", "published_precision": "minute",
        "published_text": "14.11.2025 19:48", "fetched_at": "2025-11-15T08:00:00+00:00",
        "category": "Сиёсат", "author": "Дилшод Раҳимов", "language": "uz", "script": "cyrl",
        "tags": ["Қозоғистон", "Мирзиёев"], "extraction": {"title": "profile"}, "problems": [],
        "related": [
            {"url": "https://example.uz/kr/news/2025/11/13/tovar/", "title": "Товар айирбошлаш 4 млрд долларга етди",
             "category": "Сиёсат", "published_text": "Кеча 19:48", "position": 0},
            {"url": "https://example.uz/kr/news/2025/11/12/osiyo/", "title": "Марказий Осиё етакчилари йиғилади",
             "category": "Сиёсат", "published_text": "12.11.2025 10:00", "position": 1},
        ],
    },
    {
        "url": "https://example.uz/oz/news/2025/11/15/oliy-majlis/",
        "title": "Oliy Majlis Senatining navbatdagi yalpi majlisi boʻlib oʻtdi",
        "lead": "Senatorlar \"yangi\" qonunni, shu jumladan, 12 ta masalani koʻrib chiqdi.",
        "body": "Birinchi paragraf.\n\nIkkinchi, vergulli; paragraf.",
        "published_at": "2025-11-15T00:10:00+05:00", "published_precision": "minute",
        "published_text": "Bugun 00:10", "fetched_at": "2025-11-15T08:00:00+00:00",
        "category": "Siyosat", "language": "uz", "script": "latn", "tags": ["Senat"],
    },
    {
        "url": "https://example.uz/ru/news/2025/11/16/vybory/",
        "title": "Выборы: поправки приняты в первом чтении",
        "lead": None, "body": "Текст статьи.",
        "published_at": "2025-11-16T23:59:00+05:00", "published_precision": "minute",
        "published_text": "16.11.2025 23:59", "fetched_at": "2025-11-17T08:00:00+00:00",
        "category": "Политика", "language": "ru", "script": "cyrl", "tags": [],
        "problems": ["no_lead"],
    },
]

PAGES = [
    ("https://example.uz/kr/news/a/", "https://example.uz/kr/news/a/", 200,
     {"Content-Type": "text/html; charset=utf-8", "ETag": '"abc"', "Last-Modified": "Fri, 14 Nov 2025 14:48:00 GMT"},
     "<html><body><h1>Мирзиёев Тоқаевни мукофотлади</h1></body></html>".encode(), "2025-11-15T08:00:00+00:00"),
    ("http://example.uz/oz/b", "https://example.uz/oz/b/", 200,
     {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip", "Content-Length": "17"},
     "<p>Oʻzbekiston – O‘zbekiston</p>".encode(), "2025-11-15T13:05:09+05:00"),
    ("https://example.uz/gone/", "https://example.uz/gone/", 404, {"Content-Type": "text/html"},
     b"<h1>404</h1>", "2025-11-16T01:02:03+00:00"),
    ("https://example.uz/bin/", "https://example.uz/bin/", 200, {"Content-Type": "application/octet-stream"},
     bytes(range(256)) * 3, "2025-11-16T01:02:04+00:00"),
]


def build_archive(path: Path) -> Path:
    """A small archive with three articles in three scripts/languages and four raw pages."""
    with Archive(path) as archive:
        for article in ARTICLES:
            archive.upsert_article(article)
        for url, final_url, status, headers, body, fetched_at in PAGES:
            archive.store_page(url=url, final_url=final_url, status=status, headers=headers, body=body,
                               fetched_at=fetched_at)
    return path


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return build_archive(tmp_path / "news.db")


def run_export(*argv: str) -> int:
    return main(["export", *argv])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_has_every_article_with_tags_and_related(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    assert run_export("--db", str(db), "-o", str(out)) == 0
    rows = read_jsonl(out)
    assert [r["title"] for r in rows] == [a["title"] for a in ARTICLES]
    first = rows[0]
    assert first["tags"] == ["Қозоғистон", "Мирзиёев"]
    assert first["extraction"] == {"title": "profile"}
    assert first["body"] == ARTICLES[0]["body"]
    assert [link["title"] for link in first["related_links"]] == ["Товар айирбошлаш 4 млрд долларга етди",
                                                            "Марказий Осиё етакчилари йиғилади"]
    assert first["related_links"][0]["published_text"] == "Кеча 19:48"
    # every stored column of a related link but the article it belongs to (published_precision was once left out)
    with sqlite3.connect(db) as con:
        stored = [r[1] for r in con.execute("PRAGMA table_info(related_links)")]
    assert sorted(first["related_links"][0]) == sorted(set(stored) - {"article_id"})
    assert rows[1]["related_links"] == []
    assert rows[2]["problems"] == ["no_lead"] and rows[2]["lead"] is None
    assert "Мирзиёев" in out.read_text(encoding="utf-8")  # not \u-escaped


@pytest.mark.parametrize("category", ["Siyosat", "siyosat", "Сиёсат", "СИЁСАТ"])
def test_jsonl_to_stdout_category_in_either_script(db: Path, capsysbinary: pytest.CaptureFixture,
                                                   category: str) -> None:
    assert run_export("--db", str(db), "--category", category) == 0
    lines = capsysbinary.readouterr().out.decode("utf-8").splitlines()
    assert [json.loads(line)["url"] for line in lines] == [ARTICLES[0]["url"], ARTICLES[1]["url"]]


def test_jsonl_is_what_python_would_write(db: Path, tmp_path: Path) -> None:
    """The JSON made by SQLite (article_json_lines) decodes to exactly what decoding each row in Python gives."""
    from newscrawl.reading import iter_articles
    out = tmp_path / "a.jsonl"
    assert run_export("--db", str(db), "-o", str(out)) == 0
    with Archive(db, readonly=True) as archive:
        assert read_jsonl(out) == list(iter_articles(archive.db))


def test_csv_bom_for_excel(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    plain, excel = tmp_path / "a.csv", tmp_path / "excel.csv"
    assert run_export("--db", str(db), "--format", "csv", "-o", str(plain)) == 0
    assert run_export("--db", str(db), "--format", "csv", "--excel", "-o", str(excel)) == 0
    assert excel.read_bytes() == b"\xef\xbb\xbf" + plain.read_bytes()
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    with excel.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.DictReader(handle))["title"] == ARTICLES[0]["title"]
    assert run_export("--db", str(db), "--bom", "-o", str(tmp_path / "a.jsonl")) == 2
    assert "--bom (--excel) is for --format csv only" in capsys.readouterr().err


def test_exports_link_the_story_in_both_scripts_by_story_key(tmp_path: Path) -> None:
    """The Cyrillic and Latin copies of one story share story_key in JSONL and CSV (docs/stories.md), as in the
    table: a script groups them by it; an article of its own carries its own id."""
    cyrillic = {"url": "https://example.uz/kr/news/2025/11/16/forum/", "title": "Тошкентда халқаро форум бўлиб ўтди",
                "body": "Форум матни.", "published_at": "2025-11-16T10:00:00+05:00", "script": "cyrl",
                "fetched_at": "2025-11-16T12:00:00+00:00", "category": "Сиёсат"}
    latin = {**cyrillic, "url": "https://example.uz/oz/news/2025/11/16/forum/", "script": "latn",
             "title": "Toshkentda xalqaro forum boʻlib oʻtdi", "body": "Forum matni.", "category": "Siyosat"}
    alone = {**cyrillic, "url": "https://example.uz/kr/news/2025/11/16/boshqa/", "title": "Бошқа хабар",
             "body": "Бошқа матн."}
    db, jsonl, table = tmp_path / "news.db", tmp_path / "a.jsonl", tmp_path / "a.csv"
    with Archive(db) as archive:
        for article in (cyrillic, latin, alone):
            archive.upsert_article(article)
    assert run_export("--db", str(db), "-o", str(jsonl)) == 0
    assert run_export("--db", str(db), "--format", "csv", "-o", str(table)) == 0
    with table.open(encoding="utf-8", newline="") as handle:
        from_csv = {row["url"]: int(row["story_key"]) for row in csv.DictReader(handle)}
    from_jsonl = {row["url"]: row["story_key"] for row in read_jsonl(jsonl)}
    ids = {row["url"]: row["id"] for row in read_jsonl(jsonl)}
    assert from_jsonl == from_csv == {cyrillic["url"]: ids[cyrillic["url"]], latin["url"]: ids[cyrillic["url"]],
                                      alone["url"]: ids[alone["url"]]}


def test_warc_applies_the_filters(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    with Archive(path) as archive:
        for article in ARTICLES:
            archive.upsert_article(article)
            archive.store_page(url=article["url"], final_url=article["url"], status=200,
                               headers={"Content-Type": "text/html"}, body=article["title"].encode(),
                               fetched_at=article["fetched_at"])
    for argv, expected in ((["--category", "siyosat"], [0, 1]), (["--since", "2025-11-15"], [1, 2]),
                           (["--until", "2025-11-14"], [0]), ([], [0, 1, 2])):
        out = tmp_path / "p.warc.gz"
        assert run_export("--db", str(path), "--format", "warc", "-o", str(out), *argv) == 0
        with out.open("rb") as handle:
            uris = [r[1] for r in _records(handle) if r[0] == "response"]
        assert uris == [ARTICLES[i]["url"] for i in expected], argv


def test_warc_is_never_written_to_a_terminal(db: Path) -> None:
    """Run for real with stdout on a pseudo-terminal: one line on stderr, exit 2, no bytes on the terminal."""
    import os
    import subprocess
    import sys
    primary, secondary = os.openpty()
    try:
        result = subprocess.run([sys.executable, "-m", "newscrawl.cli", "export", "--format", "warc", "--db",
                                 str(db)], stdout=secondary, stderr=subprocess.PIPE, text=True, timeout=60)
        os.set_blocking(primary, False)
        try:
            written = os.read(primary, 65536)
        except BlockingIOError:
            written = b""
    finally:
        os.close(primary)
        os.close(secondary)
    assert result.returncode == 2 and written == b""
    assert result.stderr == ("newscrawl export: refusing to write a gzipped WARC file to the terminal: "
                             "give -o FILE or pipe it\n")


@pytest.mark.parametrize(("since", "until", "expected"), [
    ("2025-11-15", None, [1, 2]),
    (None, "2025-11-15", [0, 1]),
    ("2025-11-15", "2025-11-15", [1]),
    ("2025-11-14T19:48", None, [0, 1, 2]),
    ("2025-11-14T19:49", None, [1, 2]),
    ("2025-11-14T14:48:00Z", "2025-11-14T14:48:00+00:00", [0]),
    (None, "2025-11-16T23:58", [0, 1]),
])
def test_date_filters(db: Path, tmp_path: Path, since: str | None, until: str | None, expected: list[int]) -> None:
    out = tmp_path / "f.jsonl"
    argv = ["--db", str(db), "-o", str(out)]
    argv += ["--since", since] if since else []
    argv += ["--until", until] if until else []
    run_export(*argv)
    assert [r["url"] for r in read_jsonl(out)] == [ARTICLES[i]["url"] for i in expected]


def test_bounds_are_tashkent_iso() -> None:
    assert time_bound("2025-11-15") == "2025-11-15T00:00:00+05:00"
    assert time_bound("2025-11-15", end_of_day=True) == "2025-11-16T00:00:00+05:00"
    assert time_bound("2025-11-15T10:00") == "2025-11-15T10:00:00+05:00"
    assert time_bound("2025-11-15T10:00", end_of_day=True) == "2025-11-15T10:00:00+05:00"
    assert time_bound("2025-11-15T00:00:00Z") == "2025-11-15T05:00:00+05:00"
    with pytest.raises(ValueError, match="not a date"):
        time_bound("yesterday")


def test_csv_header_and_utf8_rows(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    run_export("--db", str(db), "--format", "csv", "-o", str(out))
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames[:3] == ["id", "url", "canonical_url"] and "published_at" in reader.fieldnames
    assert [r["title"] for r in rows] == [a["title"] for a in ARTICLES]
    assert rows[0]["body"] == ARTICLES[0]["body"]  # newlines and quotes survive
    assert rows[1]["lead"] == ARTICLES[1]["lead"]
    assert json.loads(rows[0]["tags"]) == ["Қозоғистон", "Мирзиёев"]
    assert rows[2]["lead"] == ""


def test_warc_round_trip(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "pages.warc.gz"
    assert run_export("--db", str(db), "--format", "warc", "-o", str(out)) == 0
    with out.open("rb") as handle:
        assert handle.read(2) == b"\x1f\x8b"
    with out.open("rb") as handle:
        records = list(_records(handle))
    assert records[0][0] == "warcinfo"
    responses = [r for r in records if r[0] == "response"]
    assert [r[1] for r in responses] == [p[1] for p in PAGES]
    assert [r[2] for r in responses] == [str(p[2]) for p in PAGES]
    assert [r[3] for r in responses] == [p[4] for p in PAGES]
    assert [r[4] for r in responses] == ["2025-11-15T08:00:00Z", "2025-11-15T08:05:09Z", "2025-11-16T01:02:03Z",
                                         "2025-11-16T01:02:04Z"]
    first_headers = responses[0][5]
    assert first_headers.get_header("ETag") == '"abc"'
    assert first_headers.get_header("Content-Type") == "text/html; charset=utf-8"
    gz_headers = responses[1][5]
    assert gz_headers.get_header("Content-Encoding") is None
    assert gz_headers.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert gz_headers.get_header("Content-Length") == str(len(PAGES[1][4]))


def _records(handle):
    for record in ArchiveIterator(handle):
        if record.rec_type == "response":
            yield ("response", record.rec_headers.get_header("WARC-Target-URI"),
                   record.http_headers.get_statuscode(), record.content_stream().read(),
                   record.rec_headers.get_header("WARC-Date"), record.http_headers)
        else:
            yield (record.rec_type,)


def test_warc_date_is_utc() -> None:
    assert warc_date("2025-11-15T13:05:09+05:00") == "2025-11-15T08:05:09Z"
    assert warc_date("2025-11-15T08:05:09+00:00") == "2025-11-15T08:05:09Z"


def test_bad_input_is_a_clear_error(tmp_path: Path, db: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_export("--db", str(tmp_path / "missing.db")) == 2
    assert "missing.db does not exist" in capsys.readouterr().err
    assert run_export("--db", str(db), "--since", "last week") == 2
    assert "not a date or datetime: 'last week'" in capsys.readouterr().err


def _bulk_archive(path: Path, n: int) -> int:
    """n generated articles with ~5 KB bodies and two related links each; returns the body size total."""
    start = datetime(2025, 1, 1, 9, 0, tzinfo=TASHKENT)
    paragraph = "Ўзбекистон Республикаси Олий Мажлиси Сенатининг ялпи мажлиси бўлиб ўтди. " * 4
    total = 0
    with Archive(path) as archive, archive.db.conn:
        rows, bodies, links = [], [], []
        for i in range(n):
            body = f"{i}\n\n" + "\n\n".join([paragraph] * 10)
            total += len(body.encode())
            url = f"https://example.uz/kr/news/{i}/"
            rows.append({"id": i + 1, "url": url, "title": f"Мақола {i}", "category": "Сиёсат",
                         "published_at": (start + timedelta(hours=i)).isoformat(), "tags": '["Сенат"]',
                         "extraction": "{}", "problems": "[]"})
            bodies.append({"article_id": i + 1, "body": body})
            links += [{"article_id": i + 1, "position": p, "url": f"https://example.uz/kr/news/{i - p - 1}/",
                       "title": f"Мақола {i - p - 1}"} for p in range(2)]
        archive.db["articles"].insert_all(rows, batch_size=500)
        archive.db["article_bodies"].insert_all(bodies, batch_size=500)
        archive.db["related_links"].insert_all(links, batch_size=500)
    return total


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_streams_in_constant_memory(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "big.db"
    body_bytes = _bulk_archive(path, 3000)
    out = tmp_path / f"big.{fmt}"
    with Archive(path, readonly=True) as archive, out.open("w", encoding="utf-8", newline="") as handle:
        tracemalloc.start()
        count = export_articles(archive, handle, fmt)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert count == 3000
    assert out.stat().st_size > body_bytes > 10_000_000
    assert peak < 1_000_000, f"peak {peak} bytes while exporting {body_bytes} bytes of bodies"
    if fmt == "jsonl":
        with out.open(encoding="utf-8") as handle:
            last = json.loads(handle.readlines()[-1])
        assert last["title"] == "Мақола 2999" and len(last["related_links"]) == 2


def test_warc_export_streams_in_constant_memory(tmp_path: Path) -> None:
    """Behaviour, not source: pages totalling 12 MB go out while Python holds well under 2 MB at its peak, so the
    export reads one row at a time off the cursor (a fetchall or a list of rows would hold them all)."""
    path = tmp_path / "pages.db"
    total = 0
    with Archive(path) as archive:
        for i in range(120):
            body = random.Random(i).randbytes(100_000)  # incompressible: a held row weighs what its page does
            total += len(body)
            archive.store_page(url=f"https://example.uz/{i}/", final_url=f"https://example.uz/{i}/", status=200,
                               headers={"Content-Type": "text/html"}, body=body,
                               fetched_at="2025-11-15T08:00:00+00:00")
    out = tmp_path / "pages.warc.gz"
    with Archive(path, readonly=True) as archive, out.open("wb") as handle:
        tracemalloc.start()
        count = export_warc(archive, handle)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert count == 120 and total > 10_000_000
    assert peak < 2_000_000, f"peak {peak} bytes while exporting {total} bytes of pages"


def test_warc_of_many_pages_streams(tmp_path: Path) -> None:
    path = tmp_path / "pages.db"
    with Archive(path) as archive:
        for i in range(300):
            archive.store_page(url=f"https://example.uz/{i}/", final_url=f"https://example.uz/{i}/", status=200,
                               headers={"Content-Type": "text/html"}, body=f"<p>{i}</p>".encode() * 500,
                               fetched_at="2025-11-15T08:00:00+00:00")
    buffer = io.BytesIO()
    with Archive(path, readonly=True) as archive:
        assert export_warc(archive, buffer) == 300
    buffer.seek(0)
    bodies = [r[3] for r in _records(buffer) if r[0] == "response"]
    assert len(bodies) == 300 and bodies[123] == b"<p>123</p>" * 500
    assert gzip.decompress(buffer.getvalue())  # a valid multi-member gzip file
