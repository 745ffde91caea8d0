"""Migrations are frozen in time: what an old migration does never changes when live code changes later."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
from archive_checks import folded_index

import newscrawl.archive
import newscrawl.translit
import newscrawl.urls
from newscrawl.archive import SCHEMA, Archive

OLD_ARTICLES = [
    {"url": "http://old.example/kr/news/1/?utm_source=tg", "title": "Мирзиёев Тоқаевни мукофотлади",
     "lead": "Орден топширилди.", "body": "Президент Шавкат Мирзиёев Тоқаевни тақдирлади.",
     "published_at": "2025-11-15T13:35:00+05:00", "fetched_at": "2025-11-15T09:00:00+00:00", "category": "Сиёсат",
     "tags": "[]", "language": "uz"},
    {"url": "http://old.example/oz/news/сенат/", "title": "Oʻzbekiston va Qozogʻiston savdosi oʻsdi",
     "lead": None, "body": "Tovar ayirboshlash 4 mlrd dollarga yetdi.", "published_at": "2025-11-15T12:09:00+05:00",
     "fetched_at": "2025-11-15T09:00:00+00:00", "category": "Siyosat", "tags": "[]", "language": "uz"},
]


def _first_schema_file(path: Path) -> Path:
    """An archive as the first newscrawl wrote it (migration 0001 only), with two articles."""
    db = sqlite_utils.Database(path)
    SCHEMA.apply(db, stop_before="0002_history")
    db.execute("PRAGMA user_version = 1")
    for row in OLD_ARTICLES:
        db.execute(f"INSERT INTO articles ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    db.conn.commit()
    db.close()
    return path


def _migrated_state(path: Path) -> dict[str, list[tuple]]:
    """What the migrations computed (times of the run itself left out)."""
    with sqlite3.connect(path) as con:
        return {
            "articles": con.execute("SELECT id, url, content_hash, category_key FROM articles ORDER BY id").fetchall(),
            "articles_search": folded_index(con),
            "url_aliases": con.execute("SELECT alias, url FROM url_aliases ORDER BY alias").fetchall(),
        }


def _changed_live_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Later versions of fold(), canonical_url() and the content hash, wherever the live code uses them."""
    def new_fold(text: str) -> str:
        return "NEW-FOLD " + text

    def new_canonical(url: str) -> str:
        return url.upper()

    for module in (newscrawl.translit, newscrawl.archive):
        monkeypatch.setattr(module, "fold", new_fold)
    for module in (newscrawl.urls, newscrawl.archive):
        monkeypatch.setattr(module, "canonical_url", new_canonical)
    monkeypatch.setattr(newscrawl.archive, "content_hash", lambda row: "NEW-HASH")
    monkeypatch.setattr(newscrawl.archive, "category_key", lambda category: "NEW-KEY")


def test_changing_fold_later_needs_a_new_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Archive(_first_schema_file(tmp_path / "before.db")):
        pass
    expected = _migrated_state(tmp_path / "before.db")
    assert expected["articles_search"][0][1] == "mirziyoyev toqayevni mukofotladi"
    assert [a[3] for a in expected["articles"]] == ["siyosat", "siyosat"]
    assert expected["articles"][1][1] == "http://old.example/oz/news/%D1%81%D0%B5%D0%BD%D0%B0%D1%82/"

    _changed_live_code(monkeypatch)
    old_file = _first_schema_file(tmp_path / "after.db")
    with Archive(old_file) as archive:
        # a fresh run of every migration on an old file gives exactly what it gave before the code changed
        assert _migrated_state(old_file) == expected
        # live writes do use the new fold: it reaches rows written from now on, and old rows only through a
        # migration of its own (re-folding articles_search with a frozen copy of the new fold)
        archive.upsert_article({"url": "https://new.example/a/", "title": "Сиёсат", "fetched_at": "2025-11-16"})
        new_id = archive.db.execute("SELECT id FROM articles WHERE url = 'HTTPS://NEW.EXAMPLE/A/'").fetchone()[0]
        assert dict((doc, title) for doc, title, _, _ in folded_index(archive.db.conn))[new_id] == \
            "new fold сиёсат"  # "NEW-FOLD Сиёсат" as FTS5 tokenizes it
    assert _migrated_state(old_file)["articles_search"][:2] == expected["articles_search"]


OLD_PROBLEMS = [
    ("[]", []),
    ('["no title found", "no lead found", "no body found", "no published found"]',
     [{"code": "no_title"}, {"code": "no_lead"}, {"code": "no_body"}, {"code": "no_published_at"}]),
    ('["unparseable published date (profile): \'Сана кўрсатилмаган\'", '
     '"unparseable modified date (json-ld): \'2025-13-45\'"]',
     [{"code": "unparsed_date", "detail": "published_at from profile: 'Сана кўрсатилмаган'"},
      {"code": "unparsed_date", "detail": "modified_at from json-ld: '2025-13-45'"}]),
    ('["extraction failed: ValueError: bad markup: no closing tag"]',
     [{"code": "extraction_failed", "detail": "ValueError: bad markup: no closing tag"}]),
    ('["no lead found", "someone typed this"]',
     [{"code": "no_lead"}, {"code": "unknown", "detail": "someone typed this"}]),
    ('[{"code": "no_lead"}]', [{"code": "no_lead"}]),
    (None, None),
]


def test_0009_turns_problem_sentences_into_codes(tmp_path: Path) -> None:
    path = tmp_path / "v8.db"
    db = sqlite_utils.Database(path)
    SCHEMA.apply(db, stop_before="0009_structured_problems")
    db.execute("PRAGMA user_version = 8")
    for i, (stored, _) in enumerate(OLD_PROBLEMS):
        db.execute("INSERT INTO articles (url, title, problems) VALUES (?, 'T', ?)", [f"https://e.uz/{i}/", stored])
    db.conn.commit()
    db.close()
    with Archive(path) as archive:
        assert archive.schema_version == len(newscrawl.archive.known_migrations())
        got = [json.loads(p) if p is not None else None
               for (p,) in archive.db.execute("SELECT problems FROM articles ORDER BY id")]
    assert got == [expected for _, expected in OLD_PROBLEMS]
    with sqlite3.connect(path) as con:  # the whole-text index was kept in step by its triggers
        assert con.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'T'").fetchone()[0] == 7
