"""Bounded crawls against a hostile server on 127.0.0.1: every response, listing and wait has a limit, every
crawl ends by itself, bad arguments stop before any request, and an unattended crawl opens no control port.

Each test runs a real `scrapy crawl` into a real SQLite file and checks the exit status, the `crawls` row,
what is (and is not) archived, and, where the point is memory, the peak memory of the crawl's process tree.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from archive_checks import connect
from conftest import FAST, ROOT, run_crawl
from hostile import HostileServer, PeakMemory, Reply, Request, gzip_bomb_chunks, html
from test_bad_input import article, listing

from newscrawl.arguments import KNOWN_SETTINGS, SETTING_RULES, settings_problem
from newscrawl.middlewares import retry_after_seconds

LISTING = "/kr/siyosat/"
ARTICLE = r"^/kr/news/(\d+)/$"
MiB = 1024 * 1024


def cards(numbers: range | list[int]) -> list[tuple[str, str, str]]:
    return [(f"/kr/news/{n}/", f"Сенатнинг {n}-ялпи мажлиси бўлиб ўтди", "15.11.2025 10:00") for n in numbers]


def good_article(req: Request) -> Reply:
    n = req.match.group(1)
    return Reply(200, article(f"Сенатнинг {n}-ялпи мажлиси бўлиб ўтди", "15.11.2025 10:00"))


def crawl_row(db: Path) -> dict:
    return dict(connect(db).execute("SELECT * FROM crawls ORDER BY id DESC LIMIT 1").fetchone())


def skipped(db: Path) -> dict[str, dict]:
    return {r["url"].split(":", 2)[2].split("/", 1)[1]: dict(r)
            for r in connect(db).execute("SELECT * FROM skipped_pages")}


def stored_paths(db: Path) -> set[str]:
    return {"/" + r[0].split(":", 2)[2].split("/", 1)[1] for r in connect(db).execute("SELECT url FROM articles")}


def mark_interrupted(db: Path) -> None:
    """Make the last run look interrupted, as a Ctrl-C leaves it."""
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE crawls SET status = 'interrupted'")
    con.close()


def crawl_command(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-s", f"NEWSCRAWL_DB={db}", *FAST, *args]


# --- one response: bombs, huge pages, long bodies, non-HTML --------------------------------------------------

def test_gzip_bomb_and_endless_page_are_cut_off_while_streaming_and_memory_stays_bounded(tmp_path):
    bomb = list(gzip_bomb_chunks(200_000_000))  # ~0.4 MB on the wire, 200 MB once inflated
    sent = {"endless": 0}

    def endless() -> Iterator[bytes]:
        chunk = b"<p>" + "Сенат ялпи мажлиси бўлиб ўтди. ".encode() * 1000 + b"</p>"
        yield b"<html><body><h1>Endless</h1>"
        for _ in range(10_000):  # ~500 MB if it were all read
            sent["endless"] += len(chunk)
            yield chunk

    def page(req: Request) -> Reply:
        n = int(req.match.group(1))
        if n == 2:
            return Reply(200, iter(bomb), {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
        if n == 3:
            return Reply(200, endless())
        return good_article(req)

    routes = [(f"^{LISTING}$", lambda req: html(listing(cards(range(1, 7))).decode())), (ARTICLE, page)]
    db = tmp_path / "news.db"
    with HostileServer(routes) as server:
        started = time.monotonic()
        proc = subprocess.Popen(crawl_command(db, "-a", f"start_url={server.url}{LISTING}",
                                              "-s", f"NEWSCRAWL_MAX_PAGE_BYTES={MiB}"),
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with PeakMemory(proc.pid) as memory:
            _, stderr = proc.communicate(timeout=180)
        elapsed = time.monotonic() - started
        assert server.hits("/kr/news/2/") == 1 and server.hits("/kr/news/3/") == 1

    assert proc.returncode == 0, stderr[-3000:]
    assert memory.peak < 600 * MiB, f"peak memory of the crawl tree {memory.peak / MiB:.0f} MiB"
    assert elapsed < 60
    # The endless page was cut off while it streamed: the client hung up long before the server ran out.
    assert sent["endless"] < 32 * MiB, f"{sent['endless'] / MiB:.0f} MiB sent before the crawl hung up"
    assert stored_paths(db) == {f"/kr/news/{n}/" for n in (1, 4, 5, 6)}
    rows = skipped(db)
    assert set(rows) == {"kr/news/2/", "kr/news/3/"}
    assert rows["kr/news/2/"]["reason"] == "too_large"
    assert f"over NEWSCRAWL_MAX_PAGE_BYTES={MiB} once decompressed" in rows["kr/news/2/"]["detail"]
    assert f"over NEWSCRAWL_MAX_PAGE_BYTES={MiB} as received" in rows["kr/news/3/"]["detail"]
    assert f"Skipped {server.url}/kr/news/2/: over NEWSCRAWL_MAX_PAGE_BYTES" in stderr
    crawl = crawl_row(db)
    assert (crawl["status"], crawl["items_new"], crawl["errors"]) == ("ok", 4, 2)
    assert "'newscrawl/errors/too_large': 2" in stderr
    assert connect(db).execute("SELECT max(length(body)) FROM pages").fetchone()[0] < MiB


def test_body_over_the_stored_limit_is_skipped_and_recorded(tmp_path):
    long_story = "".join(f"<p>Мажлисда {i}-қонун лойиҳаси кўриб чиқилди ва маъқулланди.</p>" for i in range(300))

    def page(req: Request) -> Reply:
        if req.match.group(1) == "2":
            body = article("Узун мақоланинг сарлавҳаси бўлиб ўтди", "15.11.2025 10:00")
            return Reply(200, body.replace(b"</div></article>", long_story.encode() + b"</div></article>"))
        return good_article(req)

    routes = [(f"^{LISTING}$", lambda req: html(listing(cards([1, 2])).decode())), (ARTICLE, page)]
    db = tmp_path / "news.db"
    with HostileServer(routes) as server:
        result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}", "-s", "NEWSCRAWL_MAX_BODY_CHARS=5000")
    assert result.returncode == 0, result.stderr[-3000:]
    assert stored_paths(db) == {"/kr/news/1/"}
    row = skipped(db)["kr/news/2/"]
    assert row["reason"] == "body_too_long" and "over NEWSCRAWL_MAX_BODY_CHARS=5000" in row["detail"]
    assert f"body_too_long: {server.url}/kr/news/2/ not archived" in result.stderr
    crawl = crawl_row(db)
    assert crawl["status"] == "ok" and crawl["items_dropped"] == 1 and '"body_too_long": 1' in crawl["drop_reasons"]


def test_images_pdfs_and_empty_pages_are_not_archived_but_recorded_with_their_content_type(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8

    def page(req: Request) -> Reply:
        n = req.match.group(1)
        if n == "2":
            return Reply(200, png, {"Content-Type": "image/png"})
        if n == "3":
            return Reply(200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", {"Content-Type": "application/pdf"})
        if n == "4":
            return Reply(200, b"", {"Content-Type": "text/html; charset=utf-8"})
        return good_article(req)

    routes = [(f"^{LISTING}$", lambda req: html(listing(cards(range(1, 5))).decode())), (ARTICLE, page)]
    db = tmp_path / "news.db"
    with HostileServer(routes) as server:
        result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert stored_paths(db) == {"/kr/news/1/"}
    rows = skipped(db)
    assert {k: (v["reason"], v["content_type"]) for k, v in rows.items()} == {
        "kr/news/2/": ("not_html", "image/png"), "kr/news/3/": ("not_html", "application/pdf"),
        "kr/news/4/": ("empty", "text/html; charset=utf-8")}
    assert connect(db).execute("SELECT count(*) FROM pages").fetchone()[0] == 1
    assert crawl_row(db)["status"] == "ok"


def test_a_start_page_that_is_no_html_fails_the_run_with_its_content_type(tmp_path):
    routes = [(f"^{LISTING}$", lambda req: Reply(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
                                                 {"Content-Type": "image/png"}))]
    db = tmp_path / "news.db"
    with HostileServer(routes) as server:
        result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    crawl = crawl_row(db)
    assert crawl["status"] == "failed" and "Content-Type image/png" in crawl["reason"]
    assert skipped(db)["kr/siyosat/"]["reason"] == "not_html"


# --- listings: link cap, pagination that ends -----------------------------------------------------------------

def test_listing_links_over_the_cap_are_left_out_and_recorded(tmp_path):
    routes = [(f"^{LISTING}$", lambda req: html(listing(cards(range(1, 301))).decode())), (ARTICLE, good_article)]
    db = tmp_path / "news.db"
    with HostileServer(routes) as server:
        result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}", "-s", "NEWSCRAWL_MAX_LISTING_LINKS=5")
        fetched = [p for p in server.paths() if p.startswith("/kr/news/")]
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(fetched) == [f"/kr/news/{n}/" for n in range(1, 6)]
    row = skipped(db)["kr/siyosat/"]
    assert row["reason"] == "too_many_links"
    assert row["detail"] == "more article links than NEWSCRAWL_MAX_LISTING_LINKS=5: the first 5 were taken"
    assert "more article links than NEWSCRAWL_MAX_LISTING_LINKS=5" in result.stderr
    assert crawl_row(db)["items_new"] == 5


def endless_same_cards(req: Request) -> Reply:
    """Every page links ?page=N+1 and shows the same cards."""
    n = int(req.query.get("page", ["1"])[0])
    nav = f'<nav class="pagination"><a rel="next" href="{LISTING}?page={n + 1}">Кейинги »</a></nav>'
    return html(listing(cards(range(1, 4)), nav).decode())


def endless_new_cards(req: Request) -> Reply:
    """Every page links ?page=N+1 and shows two cards no other page shows."""
    n = int(req.query.get("page", ["1"])[0])
    nav = f'<nav class="pagination"><a rel="next" href="{LISTING}?page={n + 1}">Кейинги »</a></nav>'
    return html(listing(cards([2 * n, 2 * n + 1]), nav).decode())


def listing_hits(server: HostileServer) -> list[str]:
    return [p for p in server.paths() if p == LISTING or p.startswith(LISTING + "?")]


def test_endless_pagination_repeating_its_cards_ends_even_in_a_backfill_and_after_an_interrupted_run(tmp_path):
    db = tmp_path / "news.db"
    with HostileServer([(f"^{LISTING}", endless_same_cards), (ARTICLE, good_article)]) as server:
        start = f"start_url={server.url}{LISTING}"
        result = run_crawl(db, "-a", start, "-a", "max_pages=0", timeout=60)
        assert result.returncode == 0, result.stderr[-3000:]
        assert listing_hits(server) == [LISTING, f"{LISTING}?page=2"]
        assert "repeats only cards already seen in this run: stopping pagination" in result.stderr
        assert crawl_row(db)["items_new"] == 3
        # The next scheduled run after an interrupted one walks every page: it still ends at the first repeat.
        mark_interrupted(db)
        server.requests.clear()
        again = run_crawl(db, "-a", start, timeout=60)
        assert again.returncode == 0, again.stderr[-3000:]
        assert "did not finish: following every listing page" in again.stderr
        assert listing_hits(server) == [LISTING, f"{LISTING}?page=2"]
    assert crawl_row(db)["status"] == "ok"


def test_endless_pagination_with_new_cards_stops_at_the_listing_page_ceiling_with_a_warning(tmp_path):
    db = tmp_path / "news.db"
    with HostileServer([(f"^{LISTING}", endless_new_cards), (ARTICLE, good_article)]) as server:
        start = f"start_url={server.url}{LISTING}"
        result = run_crawl(db, "-a", start, "-a", "max_pages=0", "-s", "NEWSCRAWL_MAX_LISTING_PAGES=4", timeout=60)
        assert result.returncode == 0, result.stderr[-3000:]
        assert listing_hits(server) == [LISTING] + [f"{LISTING}?page={n}" for n in (2, 3, 4)]
        assert "the ceiling NEWSCRAWL_MAX_LISTING_PAGES=4: raise it to walk further" in result.stderr
        assert "WARNING" in next(line for line in result.stderr.splitlines() if "NEWSCRAWL_MAX_LISTING_PAGES=4" in line)
        # An interrupted run's "walk every page next time", with no page limit configured, is held by the ceiling.
        mark_interrupted(db)
        server.requests.clear()
        again = run_crawl(db, "-a", start, "-s", "NEWSCRAWL_MAX_PAGES=0", "-s", "NEWSCRAWL_MAX_LISTING_PAGES=6",
                          timeout=60)
        assert again.returncode == 0, again.stderr[-3000:]
        assert len(listing_hits(server)) == 6
    crawl = crawl_row(db)
    assert crawl["status"] == "ok" and crawl["items_new"] == 4  # pages 5 and 6 brought cards 10 to 13


def test_cycling_pagination_ends_at_the_first_page_seen_again(tmp_path):
    def cycling(req: Request) -> Reply:
        n = int(req.query.get("page", ["1"])[0])
        following = n % 3 + 1  # 1 -> 2 -> 3 -> 1
        nav = f'<nav class="pagination"><a rel="next" href="{LISTING}?page={following}">Кейинги »</a></nav>'
        return html(listing(cards([10 * n, 10 * n + 1]), nav).decode())

    db = tmp_path / "news.db"
    with HostileServer([(f"^{LISTING}", cycling), (ARTICLE, good_article)]) as server:
        result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}", "-a", "max_pages=0", timeout=60)
        hits = listing_hits(server)
    assert result.returncode == 0, result.stderr[-3000:]
    assert hits == [LISTING, f"{LISTING}?page=2", f"{LISTING}?page=3", f"{LISTING}?page=1"]
    assert stored_paths(db) == {f"/kr/news/{n}/" for n in (10, 11, 20, 21, 30, 31)}
    assert crawl_row(db)["status"] == "ok"


# --- politeness: Retry-After ---------------------------------------------------------------------------------

def test_retry_after_is_honoured_in_seconds_and_as_an_http_date(tmp_path):
    def page(req: Request) -> Reply:
        if req.hits == 0 and req.match.group(1) == "1":
            return Reply(429, b"slow down", {"Content-Type": "text/plain", "Retry-After": "2"})
        if req.hits == 0 and req.match.group(1) == "2":
            later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=3), usegmt=True)
            return Reply(503, b"busy", {"Content-Type": "text/plain", "Retry-After": later})
        return good_article(req)

    routes = [(f"^{LISTING}$", lambda req: html(listing(cards(range(1, 6))).decode())), (ARTICLE, page)]
    db = tmp_path / "news.db"
    with HostileServer(routes) as server:
        result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                           timeout=90)
        times = {p: [r.at for r in server.requests if r.path == p] for p in ("/kr/news/1/", "/kr/news/2/")}
        paused_at = min(r.at for r in server.requests if r.status in (429, 503))
        # The whole host is left alone, not just the URL (requests already on the wire may still arrive).
        during_pause = [r.path for r in server.requests if paused_at + 0.3 < r.at < paused_at + 1.9]
    assert result.returncode == 0, result.stderr[-3000:]
    assert during_pause == []
    one, two = times["/kr/news/1/"], times["/kr/news/2/"]
    assert len(one) == 2 and one[1] - one[0] >= 1.9, one
    assert len(two) == 2 and two[1] - two[0] >= 1.9, two  # the HTTP date was ~3 s ahead (1 s resolution)
    assert "with Retry-After: 2: nothing more is sent to 127.0.0.1 for 2.0 s" in result.stderr
    assert stored_paths(db) == {f"/kr/news/{n}/" for n in range(1, 6)}
    assert crawl_row(db)["status"] == "ok"


def test_a_huge_retry_after_is_capped(tmp_path):
    def page(req: Request) -> Reply:
        if req.hits == 0:
            return Reply(429, b"come back tomorrow", {"Content-Type": "text/plain", "Retry-After": "86400"})
        return good_article(req)

    routes = [(f"^{LISTING}$", lambda req: html(listing(cards([1])).decode())), (ARTICLE, page)]
    db = tmp_path / "news.db"
    with HostileServer(routes) as server:
        started = time.monotonic()
        result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}", "-s", "NEWSCRAWL_MAX_RETRY_AFTER=1.5",
                           timeout=60)
        elapsed = time.monotonic() - started
        times = [r.at for r in server.requests if r.path == "/kr/news/1/"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(times) == 2 and 1.4 <= times[1] - times[0] < 10, times
    assert elapsed < 40
    assert stored_paths(db) == {"/kr/news/1/"}


def test_retry_after_values():
    now = datetime(2025, 11, 15, 10, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Sat, 15 Nov 2025 10:00:30 GMT", now) == 30
    assert retry_after_seconds("Sat, 15 Nov 2025 09:00:00 GMT", now) == 0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds("-5", now) is None


# --- bad arguments: one line, exit 2, nothing touched -----------------------------------------------------------

@pytest.mark.parametrize(("args", "named"), [
    (["-a", "max_pages=-1"], "max_pages='-1'"),
    (["-a", "max_pages=abc"], "max_pages='abc'"),
    (["-a", "since=2025-13-01"], "since='2025-13-01'"),
    (["-a", "site=nosuchsite"], "nosuchsite.toml"),
    (["-s", "NEWSCRAWL_MAX_PAGES=abc"], "NEWSCRAWL_MAX_PAGES='abc'"),
    (["-s", "NEWSCRAWL_REFRESH_HOURS=-1"], "NEWSCRAWL_REFRESH_HOURS='-1'"),
    (["-s", "NEWSCRAWL_MAX_ERROR_SHARE=1.5"], "NEWSCRAWL_MAX_ERROR_SHARE='1.5'"),
    (["-s", "NEWSCRAWL_MAX_PAGE_BYTES=0"], "NEWSCRAWL_MAX_PAGE_BYTES='0'"),
    (["-s", "NEWSCRAWL_MAX_RETRY_AFTER=nan"], "NEWSCRAWL_MAX_RETRY_AFTER='nan'"),
    (["-s", "NEWSCRAWL_STORE_RAW=maybe"], "NEWSCRAWL_STORE_RAW='maybe'"),
    (["-s", "NEWSCRAWL_DEMO_NOW=2026-11-25 10:00"], "NEWSCRAWL_DEMO_NOW='2026-11-25 10:00'"),  # no zone
    (["-s", "NEWSCRAWL_MAX_PAGE=3"], "unknown setting NEWSCRAWL_MAX_PAGE (did you mean NEWSCRAWL_MAX_PAGES?)"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_arguments_and_settings_exit_2_with_one_line_before_any_request_or_file(tmp_path, args, named):
    db = tmp_path / "data" / "news.db"
    with HostileServer([(".*", lambda req: html("<p>never</p>"))]) as server:
        result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}", *args, timeout=60)
        assert server.requests == []
    assert result.returncode == 2, result.stderr[-3000:]
    problem = [line for line in result.stderr.splitlines() if line.startswith("newscrawl: ")]
    assert len(problem) == 1 and named in problem[0], result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert not db.parent.exists() or list(db.parent.iterdir()) == []


def test_every_newscrawl_setting_has_a_rule_and_a_documented_row():
    assert set(SETTING_RULES) == KNOWN_SETTINGS
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for name in KNOWN_SETTINGS:
        assert f"| `{name}` |" in operations, f"{name} has no row in docs/operations.md"


def test_the_default_settings_pass_their_own_rules():
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("newscrawl.settings")
    assert settings_problem(settings) is None


# --- least exposure ---------------------------------------------------------------------------------------------

def _listening_inodes() -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                found.add(fields[9])
    return found


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def test_an_unattended_crawl_opens_no_control_port_and_leaves_nothing_in_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)

    def slow_article(req: Request) -> Reply:
        reply = good_article(req)
        reply.delay = 0.3
        return reply

    routes = [(f"^{LISTING}$", lambda req: html(listing(cards(range(1, 9))).decode())), (ARTICLE, slow_article)]
    db = tmp_path / "news.db"
    listening: set[str] = set()
    with HostileServer(routes) as server:
        proc = subprocess.Popen(crawl_command(db, "-a", f"start_url={server.url}{LISTING}", "-s",
                                              "CONCURRENT_REQUESTS_PER_DOMAIN=1"),
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        checks = 0
        while proc.poll() is None:
            if server.hits("/kr/news/1/"):  # the engine (and any extension server) is up
                listening |= _socket_inodes(proc.pid) & _listening_inodes()
                checks += 1
            time.sleep(0.1)
        _, stderr = proc.communicate()
    assert proc.returncode == 0, stderr[-3000:]
    assert checks >= 3
    assert listening == set(), "the crawl process listens on a port"
    assert "Remote control" not in stderr and "Telnet console listening" not in stderr
    assert list(home.rglob("*")) == []
