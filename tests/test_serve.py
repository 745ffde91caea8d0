"""`newscrawl serve`: Datasette over a real crawled archive, canned queries, FTS, read-only; metadata coverage."""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from newscrawl.archive import Archive, known_migrations
from newscrawl.datasette import metadata
# one way to crawl the demo and to serve an archive, shared with the README screenshots
from newscrawl.datasette.screenshots import crawl_demo, free_port
from newscrawl.datasette.screenshots import serving as datasette_serving
from newscrawl.translit import fold

ROOT = Path(__file__).resolve().parent.parent


def add_changed_version(db: Path) -> str:
    """Re-archive one crawled article with an edited lead, as a later crawl would; returns its URL."""
    with Archive(db) as archive:
        row = next(archive.db.query("SELECT * FROM articles WHERE modified_at IS NULL ORDER BY id LIMIT 1"))
        article = {k: row[k] for k in row if k not in ("id",)}
        for key in ("tags", "extraction", "problems"):
            article[key] = json.loads(row[key])
        article["lead"] = (row["lead"] or "") + " (янгиланди)"
        article["fetched_at"] = "2099-01-01T00:00:00+00:00"
        assert archive.upsert_article(article) == "updated"
        return row["url"]




def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_json(base: str, path: str, **params: str):
    status, body = get(f"{base}{path}?{urllib.parse.urlencode({**params, '_shape': 'array'})}")
    assert status == 200, body[:500]
    return json.loads(body)


@pytest.fixture(scope="module")
def archive_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("serve") / "news.db"
    crawl_demo(db)
    changed = add_changed_version(db)
    return db, changed


@pytest.fixture(scope="module")
def server(archive_file: tuple[Path, str]):
    db, _ = archive_file
    with datasette_serving(db) as base:
        yield base


@pytest.fixture(scope="module")
def rows(archive_file: tuple[Path, str]) -> list[dict]:
    conn = sqlite3.connect(archive_file[0])
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM articles_full")]
    finally:
        conn.close()


def test_crawl_gave_a_real_archive(rows: list[dict]) -> None:
    titles = {r["title"] for r in rows}
    assert len(rows) >= 20
    assert "Мирзиёев Тоқаевни мукофотлади" in titles
    assert {r["script"] for r in rows} >= {"cyrl", "latn"}


def test_articles_per_day_matches_the_file(server: str, rows: list[dict]) -> None:
    result = get_json(server, "/news/articles_per_day.json")
    expected = Counter(r["published_at"][:10] for r in rows if r["published_at"])
    assert {d["day"]: d["articles"] for d in result} == dict(expected)
    assert [d["day"] for d in result] == sorted(expected, reverse=True)
    assert all(d["cyrillic"] + d["latin"] <= d["articles"] for d in result)


def _mentions(rows: list[dict], term: str) -> set[int]:
    key = fold(term)
    return {r["id"] for r in rows
            if any(key in fold(r[f] or "") for f in ("title", "lead", "body"))}


def test_search_any_script_meets_across_scripts(server: str, rows: list[dict]) -> None:
    cyrillic = get_json(server, "/news/search_any_script.json", q="Мирзиёев")
    latin = get_json(server, "/news/search_any_script.json", q="Mirziyoyev")
    assert {r["id"] for r in cyrillic} == {r["id"] for r in latin} == _mentions(rows, "Мирзиёев")
    assert "Мирзиёев Тоқаевни мукофотлади" in {r["title"] for r in latin}
    apostrophes = [{r["id"] for r in get_json(server, "/news/search_any_script.json", q=q)}
                   for q in ("Ўзбекистон", "Oʻzbekiston", "O'zbekiston", "Ozbekiston")]
    assert apostrophes[0] and all(hits == apostrophes[0] for hits in apostrophes)
    assert {r["script"] for r in get_json(server, "/news/search_any_script.json", q="Ozbekiston")} >= {"cyrl", "latn"}


def test_mentions_per_week(server: str, rows: list[dict]) -> None:
    weeks = get_json(server, "/news/mentions_per_week.json", term="mirziyoyev")
    assert sum(w["articles"] for w in weeks) == len(_mentions(rows, "Mirziyoyev")) > 0
    for week in weeks:
        assert week["week_start"] <= week["first"][:10] <= week["last"][:10]
    assert get_json(server, "/news/mentions_per_week.json", term="") == []


def test_changed_after_publication(server: str, rows: list[dict], archive_file: tuple[Path, str]) -> None:
    changed = {r["url"]: r for r in get_json(server, "/news/changed_after_publication.json")}
    assert changed[archive_file[1]]["earlier_versions"] == 1
    updated_on_page = {r["url"] for r in rows if r["modified_at"] and r["modified_at"] > r["published_at"]}
    assert updated_on_page and updated_on_page <= set(changed)
    assert set(changed) == updated_on_page | {archive_file[1]}


def test_related_graph(server: str, archive_file: tuple[Path, str]) -> None:
    edges = get_json(server, "/news/related_graph.json", _size="max")
    conn = sqlite3.connect(archive_file[0])
    pairs = conn.execute("SELECT count(DISTINCT article_id || ' ' || url) FROM related_links").fetchone()[0]
    inbound = dict(conn.execute("SELECT url, count(*) FROM related_links GROUP BY url"))
    conn.close()
    assert len(edges) == min(pairs, 100) > 0  # the 100 most linked edges: a page of thousands of rows is slow
    assert [e["target_inbound"] for e in edges] == sorted((e["target_inbound"] for e in edges), reverse=True)
    assert all(e["target_inbound"] == inbound[e["target"]] for e in edges)
    assert any(e["target_archived"] for e in edges) and all(e["source_title"] for e in edges)


def test_table_page_and_full_text_search(server: str, archive_file: tuple[Path, str]) -> None:
    status, html = get(f"{server}/news/articles")
    assert status == 200
    page = html.decode()
    assert "Мирзиёев Тоқаевни мукофотлади" in page and "One row per article URL" in page
    status, html = get(f"{server}/news/articles?_search=" + urllib.parse.quote("Тоқаев"))
    assert status == 200 and "rows where search matches" in html.decode()
    hits = get_json(server, "/news/articles.json", _search="Тоқаев", _col="title")
    conn = sqlite3.connect(archive_file[0])
    expected = conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'Тоқаев'").fetchone()[0]
    conn.close()
    assert len(hits) == expected > 0
    assert "Мирзиёев Тоқаевни мукофотлади" in {h["title"] for h in hits}


def test_fold_is_an_sql_function(server: str) -> None:
    result = get_json(server, "/news.json", sql="select fold('Ўзбекистон Ҳукумати') as f, to_latin('Тошкент') as l")
    assert result == [{"f": "ozbekiston hukumati", "l": "Toshkent"}]


def test_served_read_only(server: str, archive_file: tuple[Path, str]) -> None:
    db = archive_file[0]
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    databases = get_json(server, "/-/databases.json")
    # mutable in Datasette's terms: opened mode=ro, reading the WAL live (not immutable); still never written
    assert [d["is_mutable"] for d in databases if d["name"] == "news"] == [True]
    for sql in ("insert into crawls (spider) values ('x')", "delete from articles", "drop table articles"):
        status, body = get(f"{server}/news.json?" + urllib.parse.urlencode({"sql": sql}))
        assert status == 400, body
    request = urllib.request.Request(f"{server}/news/articles_per_day", data=b"x=1", method="POST")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)
    assert get_json(server, "/news.json", sql="select count(*) as n from crawls where spider = 'x'") == [{"n": 0}]
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_metadata_describes_every_column(archive_file: tuple[Path, str]) -> None:
    tables = metadata("news")["databases"]["news"]["tables"]
    conn = sqlite3.connect(archive_file[0])
    docs = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    for table in ("articles", "related_links", "pages", "article_versions", "crawls", "url_aliases"):
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        described = tables[table]["columns"]
        assert set(columns) == set(described), table
        assert all(described[c] for c in columns)
        section = docs.split(f"## `{table}`", 1)[1].split("\n## ", 1)[0]
        assert all(f"`{c}`" in section for c in columns), table
    conn.close()
    assert metadata("archive")["databases"].keys() == {"archive"}


def test_schema_doc_sql_runs(archive_file: tuple[Path, str]) -> None:
    from newscrawl.datasette import register_functions

    blocks = re.findall(r"```sql\n(.*?)```", (ROOT / "docs" / "schema.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 8
    conn = sqlite3.connect(f"file:{archive_file[0]}?mode=ro", uri=True)
    register_functions(conn)
    results = []
    for block in blocks:
        for statement in filter(None, (s.strip() for s in block.split(";"))):
            params = {name: "Мирзиёев" for name in re.findall(r":(\w+)", statement)}
            results.append(conn.execute(statement, params).fetchall())
    conn.close()
    assert results[0] == [(len(known_migrations()),)]  # PRAGMA user_version: one per migration
    assert all(results[2:]), "every example query returns rows on a crawled archive"


def test_speed_settings(server: str) -> None:
    """Facet suggestions cost seconds per table page at 100k articles (issue 12): off, facets time-limited."""
    settings = get_json(server, "/-/settings.json")
    assert settings["suggest_facets"] is False
    assert settings["facet_time_limit_ms"] <= 100
    assert settings["sql_time_limit_ms"] <= 5000


def test_plain_datasette_gets_the_plugin(archive_file: tuple[Path, str], tmp_path: Path) -> None:
    """`datasette news.db` (no newscrawl serve): the entry point brings fold(), the metadata, canned queries,
    the search page and the speed settings."""
    port = free_port()
    datasette = Path(sys.executable).with_name("datasette")
    process = subprocess.Popen([str(datasette), "serve", str(archive_file[0]), "--port", str(port)], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"{base}/-/versions.json")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()[-2000:]
            time.sleep(0.1)
        plugins = get_json(base, "/-/plugins.json")
        assert [p["name"] for p in plugins] == ["newscrawl"] and plugins[0]["templates"] and plugins[0]["static"]
        assert get_json(base, "/news.json", sql="select fold('Мирзиёев') as f") == [{"f": "mirziyoyev"}]
        latin = get_json(base, "/news/search_any_script.json", q="Mirziyoyev")
        assert "Мирзиёев Тоқаевни мукофотлади" in {r["title"] for r in latin}
        status, html = get(f"{base}/news/-/search?q=Mirzi")
        assert status == 200 and "<mark>Мирзиёев</mark>" in html.decode()
        assert get_json(base, "/-/settings.json")["suggest_facets"] is False
        assert get_json(base, "/-/metadata.json")["databases"]["news"]["tables"]["_sqlite_migrations"]["hidden"]
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stderr.close()


def test_search_functions_in_sql(server: str) -> None:
    """search_match() builds the folded prefix query, search_snippet() highlights raw text (HTML-escaped)."""
    rows = get_json(server, "/news.json", sql="select search_match('Mirzi <b>') as m, "
                    "search_snippet('mirzi', 'Президент Шавкат Мирзиёев & <Тоқаев>') as s")
    assert rows == [{"m": '"mirzi"* AND "b"*', "s": "Президент Шавкат <mark>Мирзиёев</mark> &amp; &lt;Тоқаев&gt;"}]


def test_search_page_takes_any_input(server: str) -> None:
    """FTS5 syntax, quotes, markup and a long query are searched as text: an answer, never an error page."""
    for query in ('"', 'NEAR(a b)', "*", "title:x OR", "<script>alert(1)</script>", "ё" * 20000, "Mirzi -"):
        status, html = get(f"{server}/news/-/search?" + urllib.parse.urlencode({"q": query, "page": "99999"}))
        page = html.decode()
        assert status == 200, query[:20]
        assert "<script>alert" not in page
    status, html = get(f"{server}/news/-/search?" + urllib.parse.urlencode({"q": "Mirzi", "page": "-3"}))
    assert status == 200 and "<mark>Мирзиёев</mark>" in html.decode()
    assert get(f"{server}/nosuch/-/search?q=x")[0] == 404
    assert get(f"{server}/news/articles/999999")[0] == 404


@pytest.mark.parametrize("doc", ["README.md", "docs/search.md", "docs/stories.md"])
def test_doc_sql_examples_run(archive_file: tuple[Path, str], doc: str) -> None:
    """The SQL examples of the README and the docs run as written on a crawled archive (docs/schema.md's have
    test_schema_doc_sql_runs): a schema change that breaks one fails here."""
    blocks = re.findall(r"```sql\n(.*?)```", (ROOT / doc).read_text(encoding="utf-8"), re.S)
    assert blocks, doc
    conn = sqlite3.connect(f"file:{archive_file[0]}?mode=ro", uri=True)
    (url,) = conn.execute("SELECT a.url FROM articles a JOIN related_links r ON r.article_id = a.id").fetchone()
    results = []
    for block in blocks:
        block = re.sub(r"--[^\n]*", "", block)  # comments may hold a ";"
        for statement in filter(None, (s.strip() for s in block.split(";"))):
            params = {name: url if name == "url" else "Мирзиёев"
                      for name in re.findall(r":(\w+)", statement)}
            results.append((statement, conn.execute(statement, params).fetchall()))
    conn.close()
    if doc == "README.md":
        assert all(rows for _, rows in results), [s for s, rows in results if not rows]
