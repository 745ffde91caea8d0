"""A crawl of a site whose markup no profile describes: metadata and generic layers must get everything."""

from __future__ import annotations

import json

from archive_checks import connect, mismatches


def test_generic_crawl_archives_every_field(generic_archive):
    assert all(r.returncode == 0 for r in generic_archive.results), generic_archive.results[0].stderr[-3000:]
    con = connect(generic_archive.db)
    expected = [e for e in generic_archive.expected if e.status == 200]
    assert len(expected) >= 12
    problems = [m for e in expected for m in mismatches(con, generic_archive.server.url, e)]
    assert problems == []


def test_fields_come_from_metadata_and_generic_layers(generic_archive):
    con = connect(generic_archive.db)
    layers = [json.loads(r["extraction"]) for r in con.execute("SELECT extraction FROM articles")]
    assert all(layer["body"] == "generic" for layer in layers)
    assert all(layer.get(k) != "profile" for layer in layers for k in ("lead", "body", "published_at", "author"))
    assert any(layer["published_at"] == "json-ld" for layer in layers)
    assert any(layer["published_at"] == "generic" for layer in layers)


def test_profile_drift_is_reported(generic_archive):
    """The demo profile claims 127.0.0.1; on a redesigned site its selectors fail and the crawl says so."""
    stderr = generic_archive.results[0].stderr
    assert "DRIFT: site profile 'demo'" in stderr
    con = connect(generic_archive.db)
    drift = json.loads(con.execute("SELECT drift FROM crawls ORDER BY id DESC").fetchone()[0])
    assert {"body", "published_at"} <= set(drift)


def test_windows_1251_page_decoded(generic_archive):
    con = connect(generic_archive.db)
    russian = [r for r in con.execute("SELECT title, body, language FROM articles_full WHERE language = 'ru'")]
    assert russian
    for row in russian:
        assert "Ð" not in row["body"] and "�" not in row["body"]
        assert any("а" <= ch <= "я" for ch in row["title"].lower())
