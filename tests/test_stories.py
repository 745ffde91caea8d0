"""Stories across scripts: the Cyrillic and Latin versions of one story share articles.story_key, and nothing else
does. The pure matcher (newscrawl/stories.py), the archive's key on every write and migration 0011 (real SQLite
files), hreflang extraction, and real crawls of the demo site (which publishes three stories in both scripts)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest
import sqlite_utils
from archive_checks import connect
from conftest import LATIN_START_PATH, run_crawl

from newscrawl.archive import SCHEMA, Archive
from newscrawl.demo.server import DemoServer
from newscrawl.demo.site import DEMO_NOW, DEMO_START_PATH, ExpectedArticle, demo_site
from newscrawl.extract import extract_article
from newscrawl.stories import (MIN_SIMILARITY, STORY_COUNT_SQL, WINDOW, Candidate, best_twin, is_twin, story_key,
                               title_key, title_similarity)

SITE = "https://news.example.uz"
AT = datetime.fromisoformat("2025-11-15T12:33:00+05:00")


def _story(path: str) -> str:
    """The slug: a story's /kr/ and /oz/ versions share it (and their dated path)."""
    return path.rstrip("/").rsplit("/", 1)[1]


def _twin_pairs(expected: list[ExpectedArticle]) -> set[frozenset[str]]:
    """The demo's ground truth: pairs of paths that are one story in two scripts."""
    live = [e for e in expected if e.status == 200]
    return {frozenset((a.path, b.path)) for a, b in combinations(live, 2)
            if _story(a.path) == _story(b.path) and a.path[:4] != b.path[:4]}


def _candidate(index: int, title: str | None, script: str | None, published: datetime | None) -> Candidate:
    return Candidate(index, title, script, published.isoformat() if published else None, None)


# --- the pure matcher ------------------------------------------------------------------------------------------------

def test_titles_fold_across_scripts_apostrophes_and_punctuation() -> None:
    assert title_key("Ўзбекистон – АҚШ: 1,3 млрд") == title_key("O‘zbekiston - AQSH 1.3 mlrd") == \
        title_key("Oʻzbekiston – AQSh: 1,3 mlrd") == "ozbekiston aqsh 1 3 mlrd"
    assert title_similarity("Мирзиёев Тоқаевни мукофотлади", "Mirziyoyev Toqayevni mukofotladi") == 1.0
    assert title_similarity(None, "Senat") == title_similarity("", "") == 0.0


# Measured with title_similarity; the threshold (MIN_SIMILARITY) lies between the two groups.
SAME_STORY = [
    ("Мирзиёев ва Тоқаев 1,3 млрд долларлик лойиҳаларни ишга туширди",
     "Mirziyoev va Toqaev 1,3 mlrd dollarlik loyihalarni ishga tushirdi"),  # a name spelled its own way
    ("Ўзбекистон ва Тожикистон чегара масалаларида янги келишувга эришди",
     "O'zbekiston va Tojikiston chegara masalalarida yangi kelishuvga erishdi"),
    ("Шавкат Мирзиёев Қасим-Жомарт Тоқаев билан телефон орқали суҳбат ўтказди",
     "Mirziyoyev Qasim-Jomart To‘qayev bilan telefon orqali suhbat o‘tkazdi"),  # a word dropped
    ("Олий Мажлис Сенатининг навбатдаги ялпи мажлиси бўлиб ўтди",
     "Oliy Majlis Senatining navbatdagi yalpi majlisi boʻlib oʻtdi."),
]
OTHER_STORY = [
    ("Президент Хитой делегациясини қабул қилди", "Prezident Fransiya delegatsiyasini qabul qildi"),  # one template
    ("Президент Жанубий Корея делегациясини қабул қилди", "Prezident Yaponiya delegatsiyasini qabul qildi"),
    ("Олий Мажлис Сенатининг навбатдаги ялпи мажлиси бўлиб ўтди",
     "Oliy Majlis palatalarining qoʻshma majlisi boʻlib oʻtdi"),
    ("Ўзбекистон ва Қозоғистон ўртасида товар айирбошлаш 4 млрд долларга етди",
     "Oʻzbekiston va Qozogʻiston parlamentlari qoʻshma komissiya tuzadi"),
    ("Товар айирбошлаш 4 млрд долларга етди", "Tovar ayirboshlash 5 mlrd dollarga yetdi"),  # numbers differ
]


@pytest.mark.parametrize(("cyrillic", "latin"), SAME_STORY)
def test_the_same_story_in_two_scripts_is_linked(cyrillic: str, latin: str) -> None:
    assert title_similarity(cyrillic, latin) >= MIN_SIMILARITY
    assert is_twin(_candidate(1, cyrillic, "cyrl", AT), _candidate(2, latin, "latn", AT + timedelta(minutes=7)))


@pytest.mark.parametrize(("cyrillic", "latin"), OTHER_STORY)
def test_different_stories_of_the_same_hour_stay_apart(cyrillic: str, latin: str) -> None:
    assert title_similarity(cyrillic, latin) < MIN_SIMILARITY
    assert not is_twin(_candidate(1, cyrillic, "cyrl", AT), _candidate(2, latin, "latn", AT + timedelta(minutes=3)))


def test_time_script_and_date_rules() -> None:
    title, latin = SAME_STORY[1]
    cyrillic = _candidate(1, title, "cyrl", AT)
    assert is_twin(cyrillic, _candidate(2, latin, "latn", AT - WINDOW))
    assert not is_twin(cyrillic, _candidate(2, latin, "latn", AT + WINDOW + timedelta(minutes=1)))
    assert not is_twin(cyrillic, _candidate(2, latin, "latn", AT + timedelta(days=2)))  # the same title, days apart
    assert not is_twin(cyrillic, _candidate(2, title, "cyrl", AT))  # one script: a duplicate, not a twin
    assert not is_twin(cyrillic, _candidate(2, latin, "latn", None))  # no date: no match by time
    assert not is_twin(cyrillic, _candidate(2, latin, "mixed", AT))
    assert not is_twin(cyrillic, cyrillic)
    # the offset is understood: 12:33 in Tashkent is 07:33 UTC
    assert is_twin(cyrillic, Candidate(2, latin, "latn", "2025-11-15T07:40:00+00:00", None))


def test_best_twin_and_the_key() -> None:
    title, latin = SAME_STORY[0]
    me = _candidate(9, title, "cyrl", AT)
    exact = Candidate(4, latin, "latn", AT.isoformat(), 3)
    rough = _candidate(2, latin.replace("dollarlik ", ""), "latn", AT)
    other = _candidate(1, "Senat yalpi majlisi boʻlib oʻtdi", "latn", AT)
    assert best_twin(me, [other, rough, exact]) == exact
    assert story_key(me, [], [other, rough, exact]) == 3  # the twin's key (its story began with article 3)
    assert story_key(me, [], [other]) == 9  # no twin: a story of its own
    # the page's own hreflang link wins over time and title (a headline rewritten for the other edition)
    linked = _candidate(7, "Butunlay boshqa sarlavha", "latn", AT + timedelta(days=1))
    assert story_key(me, [linked], [exact]) == 7


def test_on_the_demo_exactly_the_twin_pairs_match() -> None:
    """Every pair of the demo's articles, by what the site prints (title, script, publication time)."""
    _, expected = demo_site(DEMO_NOW)
    live = [e for e in expected if e.status == 200]
    twins = _twin_pairs(expected)
    assert len(twins) == 3
    matched = {frozenset((a.path, b.path)) for (i, a), (j, b) in combinations(enumerate(live), 2)
               if is_twin(_candidate(i, a.title, a.script, a.published_at), _candidate(j, b.title, b.script,
                                                                                      b.published_at))}
    assert matched == twins


# --- hreflang: extraction ------------------------------------------------------------------------------------------

def test_hreflang_links_of_the_demo_twins_are_extracted() -> None:
    pages, expected = demo_site(DEMO_NOW)
    base = "http://127.0.0.1:8000"
    for truth in (e for e in expected if e.status == 200):
        html = pages[truth.path].body.replace(b"{{BASE}}", base.encode())
        article = extract_article(html, base + truth.path, DEMO_NOW)
        assert article["alternates"] == [base + path for path in truth.alternates], truth.path
    assert sum(1 for e in expected if e.alternates) == 6


def test_hreflang_extraction_leaves_out_the_page_itself_and_x_default() -> None:
    html = ('<html><head><link rel="canonical" href="/kr/a/">'
            '<link rel="alternate" hreflang="uz-Cyrl" href="/kr/a/"><link rel="alternate" hreflang="uz-Latn" '
            'href="/oz/a/"><link rel="alternate" hreflang="ru" href="https://news.example.uz/ru/a/">'
            '<link rel="alternate" hreflang="x-default" href="/"><link rel="alternate" type="application/rss+xml" '
            'href="/rss/"></head><body><h1>Сарлавҳа</h1><p>Матн.</p></body></html>')
    article = extract_article(html.encode(), f"{SITE}/kr/a/", AT)
    assert article["alternates"] == [f"{SITE}/oz/a/", f"{SITE}/ru/a/"]


# --- the archive: a key on every write, migration 0011 -------------------------------------------------------------

def _article(path: str, title: str, script: str, published: datetime | None, **extra: object) -> dict[str, object]:
    return {"url": SITE + path, "title": title, "script": script, "body": "Матн.",
            "published_at": published.isoformat() if published else None,
            "fetched_at": "2025-11-15T09:00:00+00:00", **extra}


def _keys(db: sqlite_utils.Database) -> dict[str, int]:
    return {row["url"].removeprefix(SITE): row["story_key"] for row in db.query("SELECT url, story_key FROM articles")}


def test_each_write_links_the_twin_and_nothing_else(tmp_path: Path) -> None:
    same_cyrl, same_latn = SAME_STORY[1]
    other_cyrl, other_latn = OTHER_STORY[3]
    with Archive(tmp_path / "news.db") as archive:
        archive.upsert_article(_article("/kr/1/", same_cyrl, "cyrl", AT))
        archive.upsert_article(_article("/kr/2/", other_cyrl, "cyrl", AT + timedelta(minutes=10)))
        archive.upsert_article(_article("/oz/3/", other_latn, "latn", AT + timedelta(minutes=12)))  # same hour
        archive.upsert_article(_article("/oz/1/", same_latn, "latn", AT + timedelta(minutes=4)))
        archive.upsert_article(_article("/oz/4/", same_latn, "latn", AT + timedelta(days=3)))  # a later story
        archive.upsert_article(_article("/oz/5/", same_latn, "latn", None))
        keys = _keys(archive.db)
        assert keys == {"/kr/1/": 1, "/kr/2/": 2, "/oz/3/": 3, "/oz/1/": 1, "/oz/4/": 5, "/oz/5/": 6}
        # stored again (unchanged or edited), an article keeps its story
        archive.upsert_article(_article("/kr/1/", same_cyrl + "!", "cyrl", AT))
        assert _keys(archive.db)["/kr/1/"] == 1
        stories = archive.db.execute(f"SELECT {STORY_COUNT_SQL} FROM articles").fetchone()[0]
        assert stories == 5  # six articles, one story in two scripts


def test_a_twin_archived_first_gives_its_key_and_hreflang_links_what_titles_would_not(tmp_path: Path) -> None:
    with Archive(tmp_path / "news.db") as archive:
        archive.upsert_article(_article("/oz/1/", SAME_STORY[0][1], "latn", AT))
        archive.upsert_article(_article("/kr/1/", SAME_STORY[0][0], "cyrl", AT))
        # the Latin edition rewrote its headline: only the page's hreflang link tells they are one story
        archive.upsert_article(_article("/kr/2/", "Сенат йиғилиши", "cyrl", AT, alternates=[f"{SITE}/oz/2"]))
        archive.upsert_article(_article("/oz/2/", "Senatorlar yigʻildi", "latn", AT, alternates=[f"{SITE}/kr/2/"]))
        assert _keys(archive.db) == {"/oz/1/": 1, "/kr/1/": 1, "/kr/2/": 3, "/oz/2/": 3}


def test_migration_0011_backfills_existing_archives(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    SCHEMA.apply(db, stop_before="0011_story_key")
    rows = [("/kr/1/", SAME_STORY[1][0], "cyrl", AT), ("/kr/2/", OTHER_STORY[3][0], "cyrl", AT),
            ("/oz/3/", OTHER_STORY[3][1], "latn", AT + timedelta(minutes=5)),
            ("/oz/1/", SAME_STORY[1][1], "latn", AT + timedelta(minutes=2)),
            ("/oz/4/", SAME_STORY[1][1], "latn", AT + timedelta(days=1)), ("/oz/5/", "Senat", "latn", None)]
    for url, title, script, published in rows:
        db.execute("INSERT INTO articles (url, title, script, published_at) VALUES (?, ?, ?, ?)",
                   [SITE + url, title, script, published.isoformat() if published else None])
    db.conn.commit()
    db.close()
    with Archive(path) as archive:
        assert _keys(archive.db) == {"/kr/1/": 1, "/kr/2/": 2, "/oz/3/": 3, "/oz/1/": 1, "/oz/4/": 5, "/oz/5/": 6}
        indexes = {i.name: i.columns for i in archive.db["articles"].indexes}
        assert ["story_key"] in indexes.values()


def test_the_twin_lookup_reads_the_published_at_index() -> None:
    with Archive(":memory:") as archive:  # the query _link_story runs, as SQLite plans it
        plan = " ".join(row[3] for row in archive.db.execute(
            "EXPLAIN QUERY PLAN SELECT id, title, script, published_at, story_key FROM articles "
            "WHERE published_at BETWEEN ? AND ? AND script != ? AND id != ?", ["a", "b", "cyrl", 1]))
    assert "USING INDEX" in plan and "published_at" in plan, plan


# --- real crawls of the demo -----------------------------------------------------------------------------------------

def _crawled_keys(db: Path, base: str) -> dict[str, int]:
    rows = connect(db).execute("SELECT url, story_key FROM articles")
    return {row["url"].removeprefix(base): row["story_key"] for row in rows}


def _assert_twins_share_keys_and_nothing_else(keys: dict[str, int], expected: list[ExpectedArticle]) -> None:
    assert set(keys) == {e.path for e in expected if e.status == 200}
    linked = {frozenset((a, b)) for a, b in combinations(keys, 2) if keys[a] == keys[b]}
    assert linked == _twin_pairs(expected)


def test_the_crawled_demo_links_each_twin_pair_and_no_other(demo_archive) -> None:
    keys = _crawled_keys(demo_archive.db, demo_archive.server.url)
    _assert_twins_share_keys_and_nothing_else(keys, demo_archive.expected)
    with sqlite3.connect(demo_archive.db) as con:
        articles, stories = con.execute(f"SELECT count(*), {STORY_COUNT_SQL} FROM articles").fetchone()
    assert articles - stories == 3


def test_without_hreflang_time_and_title_link_the_same_pairs(tmp_path: Path) -> None:
    """The demo with its hreflang links taken out, crawled for real: the pairs are found by time and title alone."""
    pages, expected = demo_site(datetime.now(DEMO_NOW.tzinfo))
    stripped = {path: replace(page, body=b"\n".join(line for line in page.body.split(b"\n")
                                                   if b"hreflang" not in line)) for path, page in pages.items()}
    assert not any(b"hreflang" in page.body for page in stripped.values())
    db = tmp_path / "news.db"
    with DemoServer(stripped) as server:
        for start in (DEMO_START_PATH, LATIN_START_PATH):
            result = run_crawl(db, "-a", f"start_url={server.url}{start}", "-a", "max_pages=0")
            assert result.returncode == 0, result.stderr[-3000:]
        _assert_twins_share_keys_and_nothing_else(_crawled_keys(db, server.url), expected)
