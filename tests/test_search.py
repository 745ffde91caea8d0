"""Search: the MATCH builder never lets user text become FTS5 syntax, and cross-script search on a crawled archive."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import newscrawl.cli as cli
from newscrawl.archive import Archive
from newscrawl.search import build_match, search, snippet

TASHKENT = timezone(timedelta(hours=5))
APOSTROPHES = "ʻʼ‘’'`"
TRICKY = ['"', "(", ")", "*", "-", "+", "^", ":", "NEAR", "NEAR(", "AND", "OR", "NOT", "'", ";", "--",
          "ʻ", "’", "Oʻzbekiston", "Тоқаев", "title:", "{", "}", "\\", "\x00", "\u0301", "DROP TABLE articles"]


def fts_table() -> sqlite3.Connection:
    """An FTS5 table with the archive's tokenizer, holding folded text like articles_search."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(title, lead, body, tokenize='unicode61 remove_diacritics 2')")
    docs = [
        (1, "mirziyoyev toqayevni mukofotladi", "ozbekiston prezidenti", "shavkat mirziyoyev qozogiston"),
        (2, "senat yalpi majlisi", "ozbekiston va ozarbayjon", "toshkentda bolib otdi"),
        (3, "parlament forumi", "toshkentda", "hitoy delegatsiyasi near and or not"),
    ]
    conn.executemany("INSERT INTO t (rowid, title, lead, body) VALUES (?, ?, ?, ?)", docs)
    return conn


def matching(conn: sqlite3.Connection, query: str) -> set[int]:
    expression = build_match(query)
    if expression is None:
        return set()
    return {row[0] for row in conn.execute("SELECT rowid FROM t WHERE t MATCH ?", [expression])}


query_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=6)), max_size=12).map(" ".join),
    st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=3)), max_size=12).map("".join),
)


@settings(max_examples=400, deadline=None)
@given(query_text)
def test_build_match_never_raises_in_fts5(query: str) -> None:
    conn = fts_table()
    expression = build_match(query)
    assert expression is None or expression.strip()
    if expression is not None:
        conn.execute("SELECT rowid FROM t WHERE t MATCH ?", [expression]).fetchall()


@settings(max_examples=100, deadline=None)
@given(query_text)
def test_search_never_raises_on_an_archive(tmp_path_factory: pytest.TempPathFactory, query: str) -> None:
    path = tmp_path_factory.getbasetemp() / "property.db"
    with Archive(path) as archive:
        if not archive.db["articles"].count:
            archive.upsert_article({"url": "https://x.uz/1", "title": "Мирзиёев (NEAR) \"AND\"", "body": "* - ^ :"})
        hits = search(archive.db, query)
    assert all(hit.url == "https://x.uz/1" for hit in hits)


@pytest.mark.parametrize("query, expected", [
    ("Мирзиёев", '"mirziyoyev"*'),
    ("Тоқаев", '"toqayev"*'),
    ("O'zbekiston", '"ozbekiston"*'),
    ("Oʻzbekiston", '"ozbekiston"*'),
    ("Ўзбекистон", '"ozbekiston"*'),
    ('"Шавкат Мирзиёев"', '"shavkat"* + "mirziyoyev"*'),
    ("senat OR parlament toshkent", '("senat"* OR "parlament"*) AND "toshkent"*'),
    ("ozbekiston -Xitoy", '"ozbekiston"* NOT ("hitoy"*)'),
    ('toshkent -"yalpi majlis"', '"toshkent"* NOT ("yalpi"* + "majlis"*)'),
    ("NEAR(a b) AND c*", '"near"* + "a"* AND "b"* AND "and"* AND "c"*'),
    ("'; DROP TABLE articles; --", '"drop"* AND "table"* AND "articles"*'),
    ('"unbalanced quote', '"unbalanced"* AND "quote"*'),
    ("title:senat ^majlis", '"title"* + "senat"* AND "majlis"*'),
    ("OR", '"or"*'),
    ("Ўзбекистон–Хитой", '"ozbekiston"* + "hitoy"*'),
])
def test_build_match_table(query: str, expected: str) -> None:
    assert build_match(query) == expected


@pytest.mark.parametrize("query", ["", "   ", "***", '""', "()", "-", "--", "ʻ’", "-senat", '-"a b"'])
def test_nothing_searchable_is_none(query: str) -> None:
    assert build_match(query) is None


@pytest.mark.parametrize("query, expected", [
    ("toqayev", {1}),
    ("ozbekiston", {1, 2}),
    ("ozbekiston -senat", {1}),
    ("hitoy OR senat", {2, 3}),
    ('"shavkat mirziyoyev"', {1}),
    ('"mirziyoyev shavkat"', set()),
    ("toshkent parlament", {3}),
    ("NEAR", {3}),
    ("AND OR", {3}),
    ("Мирзиёевнинг", set()),
])
def test_queries_select_the_right_documents(query: str, expected: set[int]) -> None:
    assert matching(fts_table(), query) == expected


def test_snippet_marks_raw_word_and_keeps_punctuation_outside() -> None:
    body = ("Ўзбекистон Президенти Шавкат Мирзиёев Қозоғистон Президенти Қасим-Жомарт «Тоқаевни», юксак давлат "
            "мукофоти билан тақдирлади ва бу ҳақда ахборот хизмати маълум қилди.")
    text = snippet((None, body, "Сарлавҳа"), ["toqayev"])
    assert "«[Тоқаевни]»," in text
    assert text.startswith("… ") and text.endswith(" …")
    assert len(text.split()) <= 14
    assert snippet(("O‘zbekiston va Qozogʻiston", None, None), ["ozbekiston"]) == "[O‘zbekiston] va Qozogʻiston"


def test_since_rejects_garbage(tmp_path) -> None:
    with Archive(tmp_path / "news.db") as archive, \
            pytest.raises(ValueError, match="not a date or datetime: 'last tuesday'"):
        search(archive.db, "senat", since="last tuesday")


# --- a real archive written by a real crawl of the demo site (Cyrillic category, then its Latin twins) ---

FORMS = {
    "mirziyoyev": r"Мирзиёев|Mirziyoyev",
    "ozbekiston": rf"Ўзбекистон|O[{APOSTROPHES}]?zbekiston",
    "toqayev": r"Тоқаев|Toqayev",
}


@pytest.fixture(scope="module")
def archive(demo_archive):
    assert all(r.returncode == 0 for r in demo_archive.results), demo_archive.results[-1].stderr[-3000:]
    with Archive(demo_archive.db, readonly=True) as opened:
        yield opened


def containing(archive: Archive, key: str) -> set[str]:
    """URLs whose raw title, lead or body has a word starting with one of the spellings: the oracle."""
    pattern = re.compile(rf"(?<!\w)(?:{FORMS[key]})", re.IGNORECASE)
    return {row["url"] for row in archive.db.query("SELECT url, title, lead, body FROM articles_full")
            if pattern.search(" ".join(row[k] or "" for k in ("title", "lead", "body")))}


def urls(archive: Archive, query: str, **kwargs) -> set[str]:
    return {hit.url for hit in search(archive.db, query, limit=None, **kwargs)}


def scripts(archive: Archive, found: set[str]) -> set[str]:
    rows = archive.db.query("SELECT url, script FROM articles")
    return {row["script"] for row in rows if row["url"] in found}


def test_latin_query_finds_cyrillic_articles(archive: Archive) -> None:
    found = urls(archive, "Mirziyoyev")
    assert found == containing(archive, "mirziyoyev")
    assert {"cyrl", "latn"} <= scripts(archive, found)


def test_cyrillic_query_finds_latin_articles(archive: Archive) -> None:
    found = urls(archive, "Мирзиёев")
    assert found == urls(archive, "Mirziyoyev")
    latin = {row["url"] for row in archive.db.query("SELECT url FROM articles_full WHERE body LIKE '%Mirziyoyev%'")}
    assert latin and latin <= found


def test_every_spelling_of_ozbekiston_finds_the_same_articles(archive: Archive) -> None:
    results = {q: urls(archive, q) for q in ("O'zbekiston", "Oʻzbekiston", "O‘zbekiston", "Ozbekiston",
                                                "Ўзбекистон", "ЎЗБЕКИСТОН", "oʼzbekiston")}
    expected = containing(archive, "ozbekiston")
    assert expected and {"cyrl", "latn"} <= scripts(archive, expected)
    assert all(found == expected for found in results.values()), {q: len(f) for q, f in results.items()}


def test_suffixed_forms_are_found(archive: Archive) -> None:
    hits = search(archive.db, "Тоқаев", limit=None)
    assert {hit.url for hit in hits} == containing(archive, "toqayev")
    assert any("[Тоқаевни]" in hit.snippet for hit in hits)
    assert urls(archive, "Тоқаевни") < urls(archive, "Тоқаев")


def published(hit) -> datetime:
    return datetime.fromisoformat(hit.published_at)


def test_newest_first_and_limit(archive: Archive) -> None:
    hits = search(archive.db, "Ozbekiston", limit=None)
    assert len(hits) > 5
    moments = [published(h) for h in hits]
    assert moments == sorted(moments, reverse=True)
    assert search(archive.db, "Ozbekiston", limit=3) == hits[:3]


def test_since_filters_by_tashkent_day(archive: Archive) -> None:
    hits = search(archive.db, "Mirziyoyev", limit=None)
    day = published(hits[len(hits) // 2]).astimezone(TASHKENT).date()
    start = datetime.combine(day, datetime.min.time(), TASHKENT)
    recent = search(archive.db, "Mirziyoyev", limit=None, since=day.isoformat())
    assert recent == [h for h in hits if published(h) >= start]
    assert 0 < len(recent) < len(hits)
    assert search(archive.db, "Mirziyoyev", limit=None, since=start.astimezone(timezone.utc).isoformat()) == recent


def test_accepts_a_plain_sqlite3_connection(demo_archive, archive: Archive) -> None:
    conn = sqlite3.connect(demo_archive.db)
    try:
        assert search(conn, "Тоқаев") == search(archive.db, "Тоқаев")
    finally:
        conn.close()


@pytest.fixture
def run_cli(monkeypatch, capsys):
    monkeypatch.setattr(cli, "SUBCOMMANDS", ("search",))

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(["search", *argv])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_cli_prints_blocks_with_highlighted_snippets(run_cli, demo_archive, archive: Archive) -> None:
    code, out, _ = run_cli("Mirziyoyev", "--db", str(demo_archive.db), "--limit", "3")
    assert code == 0
    hits = search(archive.db, "Mirziyoyev", limit=3)
    for hit in hits:
        assert f"{hit.title}\n  {hit.url}\n  {hit.snippet}" in out
        assert hit.published_at[:16].replace("T", " ") in out
    assert "[Мирзиёев" in out or "[Mirziyoyev" in out
    assert out.count("\n\n") == 3


def test_cli_since_and_no_matches(run_cli, demo_archive) -> None:
    code, out, _ = run_cli("Mirziyoyev", "--db", str(demo_archive.db), "--since", "2999-01-01")
    assert (code, out.strip()) == (0, "no matches")
    code, out, _ = run_cli("***", "--db", str(demo_archive.db))
    assert (code, out.strip()) == (0, "no matches")


def test_cli_errors_clearly(run_cli, demo_archive, tmp_path) -> None:
    missing = tmp_path / "missing.db"
    code, _, err = run_cli("senat", "--db", str(missing))
    assert code == 2 and str(missing) in err and "does not exist" in err
    assert not missing.exists()
    code, _, err = run_cli("senat", "--db", str(demo_archive.db), "--since", "yesterday")
    assert code == 2 and "since" in err
