"""Archive files under fault: writers never harm the archive, bad files and bad options are one-line refusals,
reads never create files, reparse waits for a crawl, and `serve` reads live. Real files, real subprocesses."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FAST, ROOT, run_crawl
from hostile import HostileServer, html
from test_serve import datasette_serving, free_port, get

CLI = [sys.executable, "-m", "newscrawl.cli"]


def newscrawl(*args: str, cwd: Path = ROOT, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, **kwargs)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def article_count(db: Path) -> int:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        conn.close()


def assert_one_line(result: subprocess.CompletedProcess[str], *fragments: str, code: int = 2) -> str:
    """Exit code, exactly one stderr line containing every fragment, no traceback; returns the line."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == code, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(lines) == 1, result.stderr[-2000:]
    assert all(f in lines[0] for f in fragments), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real crawl of the demo site; the file is closed and checkpointed (no -wal beside it)."""
    db = tmp_path_factory.mktemp("crawled") / "news.db"
    result = run_crawl(db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not Path(f"{db}-wal").exists()
    return db


@pytest.fixture
def archive(crawled: Path, tmp_path: Path) -> Path:
    """A private copy of the crawled archive in its own folder."""
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "news.db"
    shutil.copy(crawled, db)
    return db


# --- 1. writing files never harms the archive or a previous output ------------------------------------------

SPELLINGS = ["same", "dotdot", "symlink", "hardlink", "wal", "shm", "lock", "migrate-lock", "relative"]


def spelled(db: Path, how: str) -> tuple[str, Path]:
    """An output path that names the archive (or a companion file) some other way, and the cwd to run in."""
    folder = db.parent
    if how == "same":
        return str(db), ROOT
    if how == "dotdot":
        return str(folder / ".." / folder.name / db.name), ROOT
    if how == "symlink":
        (folder / "link.db").symlink_to(db)
        return str(folder / "link.db"), ROOT
    if how == "hardlink":
        os.link(db, folder / "hard.db")
        return str(folder / "hard.db"), ROOT
    if how == "relative":
        return f"./{db.name}", folder
    suffix = {"wal": "-wal", "shm": "-shm", "lock": ".lock", "migrate-lock": ".migrate-lock"}[how]
    return f"{db}{suffix}", ROOT


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "warc"])
@pytest.mark.parametrize("how", SPELLINGS)
def test_export_refuses_the_archive_however_spelled(archive: Path, how: str, fmt: str) -> None:
    before, count = digest(archive), article_count(archive)
    target, cwd = spelled(archive, how)
    listing = sorted(p.name for p in archive.parent.iterdir())
    db_arg = str(archive) if cwd == ROOT else archive.name
    result = newscrawl("export", "--db", db_arg, "--format", fmt, "-o", target, cwd=cwd)
    assert_one_line(result, "newscrawl export: refusing to write to", str(Path(target)))
    assert digest(archive) == before and article_count(archive) == count
    assert sorted(p.name for p in archive.parent.iterdir()) == listing, "no file created or removed"


def test_export_refuses_stdout_appending_to_the_archive(archive: Path) -> None:
    before = digest(archive)
    with open(archive, "ab") as out:
        result = subprocess.run([*CLI, "export", "--db", str(archive), "--format", "warc"], cwd=ROOT, stdout=out,
                                stderr=subprocess.PIPE, text=True, timeout=60)
    assert_one_line(result, "refusing to write to standard output: it is the archive")
    assert digest(archive) == before


def test_export_replaces_a_previous_output_only_when_complete(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    os.chmod(out, 0o640)
    result = newscrawl("export", "--db", str(archive), "-o", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == article_count(archive) and all(json.loads(line)["url"] for line in lines)
    assert out.stat().st_mode & 0o777 == 0o640, "the previous file's permissions are kept"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


@pytest.fixture
def big_archive(archive: Path) -> Path:
    """The crawled archive with 3,000 more stored pages, so a WARC export takes long enough to be interrupted."""
    conn = sqlite3.connect(archive)
    row = conn.execute("SELECT url, final_url, status, headers, fetched_at, last_fetched_at, size, compression, "
                       "body FROM pages LIMIT 1").fetchone()
    with conn:
        conn.executemany("INSERT INTO pages (url, final_url, status, headers, fetched_at, last_fetched_at, sha256, "
                         "size, compression, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [(*row[:6], f"{i:064x}", *row[6:]) for i in range(3000)])
    conn.close()
    return archive


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_interrupted_export_leaves_the_previous_output_intact(big_archive: Path, tmp_path: Path, how: str) -> None:
    out = tmp_path / "pages.warc.gz"
    out.write_bytes(b"previous export")
    process = subprocess.Popen([*CLI, "export", "--db", str(big_archive), "--format", "warc", "-o", str(out)],
                               cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".pages.warc.gz.*.partial")):
        assert process.poll() is None and time.monotonic() < deadline, "the export must write a temporary file"
        time.sleep(0.005)
    time.sleep(0.2)  # well into writing
    assert process.poll() is None, "export finished before it could be interrupted"
    process.send_signal(getattr(signal, how))
    process.wait(timeout=30)
    stderr = process.stderr.read()
    process.stderr.close()
    assert out.read_bytes() == b"previous export"
    partial = list(tmp_path.glob("*.partial"))
    if how == "SIGINT":  # Ctrl-C: one line, exit 130, the temporary file removed
        assert process.returncode == 130 and stderr == "newscrawl export: interrupted\n", stderr
        assert partial == []
    else:  # kill -9 cannot clean up: the leftover is visibly a .partial file beside an intact target
        assert process.returncode == -signal.SIGKILL and len(partial) == 1


def test_savefixture_names_cannot_leave_their_folder(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Сарлавҳа</h1><p>Матн.</p></body></html>", encoding="utf-8")
    root = tmp_path / "fixtures"
    for option, value in (("--name", "../../x"), ("--name", "/etc/x"), ("--site", ".."), ("--name", ".hidden"),
                          ("--site", "a/b")):
        args = ["--name", "ok", "--site", "generic"]
        args[args.index(option) + 1] = value
        result = newscrawl("savefixture", str(page), "--url", "http://127.0.0.1/x/", "--dir", str(root), *args)
        assert_one_line(result, f"argument {option}", "one plain name")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["page.html"]
    (root / "generic").mkdir(parents=True)
    (root / "generic" / "escape").symlink_to(tmp_path)
    result = newscrawl("savefixture", str(page), "--url", "http://127.0.0.1/x/", "--dir", str(root), "--name", "escape")
    assert_one_line(result, "is outside")
    result = newscrawl("savefixture", str(page), "--url", "http://127.0.0.1/x/", "--dir", str(root), "--name", "ok")
    assert result.returncode == 0, result.stderr
    saved = root / "generic" / "ok"
    assert sorted(p.name for p in saved.iterdir()) == ["expected.json", "fetched_at.txt", "page.html", "profile.txt",
                                                       "url.txt"]
    assert json.loads((saved / "expected.json").read_text(encoding="utf-8"))["title"] == "Сарлавҳа"


# --- 10 (CLI half). bad options: one line naming the option, exit 2, no file touched -------------------------

BAD_OPTIONS = [
    ("search", "x", "--limit", "100000000000000000000"),
    ("search", "x", "--limit", "1e20"),
    ("search", "x", "--limit", "-1"),
    ("search", "x", "--since", "2025-13-01"),
    ("search", "x", "--since", "9999-12-31"),
    ("stats", "--weeks", "100000000000000000000"),
    ("stats", "--weeks", "-3"),
    ("export", "--since", "yesterday"),
    ("export", "--until", "9999-12-31"),
    ("export", "--since", "0001-01-01T00:00+14:00"),
    ("export", "--format", "xml"),
    ("reparse", "--since", "last week"),
    ("reparse", "--wait", "-1"),
    ("serve", "--port", "70000"),
    ("serve", "--port", "http"),
    ("extract", "page.html", "--fetched-at", "noon"),
    ("savefixture", "page.html", "--name", "../x"),
]


@pytest.mark.parametrize("args", BAD_OPTIONS, ids=lambda a: " ".join(a))
def test_bad_option_is_one_line_before_any_file_activity(tmp_path: Path, args: tuple[str, ...]) -> None:
    option = next(a for a in reversed(args) if a.startswith("--"))
    db_args = () if args[0] in ("extract", "savefixture") else ("--db", "data/news.db")
    result = newscrawl(*args, *db_args, cwd=tmp_path)
    assert_one_line(result, f"newscrawl {args[0]}: error: argument {option}")
    assert list(tmp_path.iterdir()) == []


def test_read_commands_refuse_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "news.db").touch()
    for command in ("search x", "stats", "export", "serve", "reparse"):
        result = newscrawl(*command.split(), "--db", "news.db", cwd=tmp_path)
        assert_one_line(result, f"newscrawl {command.split()[0]}: archive news.db is empty")
    assert [p.name for p in tmp_path.iterdir()] == ["news.db"] and (tmp_path / "news.db").stat().st_size == 0


@pytest.mark.parametrize("command", ["search x", "stats", "export", "export --format warc", "serve", "reparse"])
def test_read_commands_never_create_a_missing_archive(tmp_path: Path, command: str) -> None:
    result = newscrawl(*command.split(), "--db", "data/news.db", cwd=tmp_path)
    assert_one_line(result, f"newscrawl {command.split()[0]}: archive data/news.db does not exist")
    (tmp_path / "data").mkdir()
    result = newscrawl(*command.split(), "--db", "data/news.db", cwd=tmp_path)
    assert_one_line(result, "does not exist")
    assert [p.name for p in tmp_path.rglob("*")] == ["data"], "no db, -wal, -shm, .lock or .migrate-lock"


# --- 6. archive files: newer schema, not an archive, truncated, corrupted -----------------------------------

def make_bad(archive: Path, kind: str) -> str:
    """Turn the archive copy into a bad file; returns what the refusal line must say."""
    data = archive.read_bytes()
    if kind == "newer":
        conn = sqlite3.connect(archive)
        conn.execute("PRAGMA user_version = 99")
        conn.close()
        return "has schema version 99, newer than this newscrawl"
    if kind == "text":
        archive.write_text("id,title\n1,not a database\n" * 50, encoding="utf-8")
        return "is not a SQLite database"
    if kind == "truncated":
        archive.write_bytes(data[:len(data) // 2])
        return "is truncated"
    if kind == "corrupted":
        page = 4096
        middle = (len(data) // page // 2) * page
        archive.write_bytes(data[:middle] + b"\xa5" * page * 4 + data[middle + page * 4:])
        return "damaged"
    if kind == "other-app":
        archive.unlink()
        conn = sqlite3.connect(archive)
        conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.org/')")
        conn.commit()
        conn.close()
        return "is a SQLite database but not a newscrawl archive (tables: moz_places)"
    raise AssertionError(kind)


COMMANDS = ["search Мирзиёев", "stats", "export", "export --format warc", "reparse", "serve"]
BAD_FILES = ["newer", "text", "truncated", "corrupted", "other-app"]


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_archive_is_refused_by_every_command(archive: Path, kind: str, tmp_path: Path) -> None:
    expected = make_bad(archive, kind)
    before = digest(archive)
    listing = sorted(p.name for p in archive.parent.iterdir())
    for command in COMMANDS:
        name, *rest = command.split()
        extra = ["--port", str(free_port())] if name == "serve" else []
        out = ["-o", str(tmp_path / "out")] if name == "export" else []
        result = newscrawl(name, *rest, "--db", str(archive), *extra, *out, timeout=60)
        assert_one_line(result, f"newscrawl {name}: archive {archive}", expected)
        assert digest(archive) == before, command
        assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in archive.parent.iterdir() if not p.name.endswith(("-wal", "-shm"))) == listing


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_archive_is_refused_by_the_crawl_before_any_request(archive: Path, kind: str) -> None:
    expected = make_bad(archive, kind)
    before = digest(archive)
    with HostileServer([(r".*", lambda req: html("<a href='/kr/news/1/'>x</a>"))]) as server:
        for command in (["scrapy"], ["newscrawl"]):
            if command == ["scrapy"]:
                result = run_crawl(archive, "-a", f"start_url={server.url}/kr/siyosat/")
            else:
                result = newscrawl("crawl", "--db", str(archive), "--start-url", f"{server.url}/kr/siyosat/")
            assert result.returncode == 2, result.stderr[-2000:]
            assert "Traceback" not in result.stderr and expected in result.stderr, result.stderr[-2000:]
            assert "Spider opened" not in result.stderr
        assert server.paths() == []
    assert digest(archive) == before


def test_newer_schema_is_not_reset(archive: Path) -> None:
    make_bad(archive, "newer")
    result = run_crawl(archive)
    assert result.returncode == 2
    conn = sqlite3.connect(archive)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
    conn.close()


def test_reserved_characters_in_the_archive_path(archive: Path, crawled: Path) -> None:
    weird = archive.parent / "news #1?x=%41.db"
    archive.rename(weird)
    count = article_count(weird)
    result = newscrawl("search", "Мирзиёев", "--db", str(weird))
    assert result.returncode == 0 and result.stdout.count("\n  http") >= 1, result.stderr
    result = newscrawl("stats", "--db", str(weird))
    assert result.returncode == 0 and f"Archive: {count} articles" in result.stdout, result.stderr
    # The crawl reads what is archived through a read-only URI: a misread path would look empty and re-fetch all.
    crawl = run_crawl(weird, "-s", "NEWSCRAWL_REFRESH_HOURS=0")
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert "new=0 " in crawl.stderr and article_count(weird) == count
    names = {p.name for p in weird.parent.iterdir()}
    assert names <= {weird.name, *(weird.name + s for s in ("-wal", "-shm", ".lock", ".migrate-lock"))}, names


# --- 6. reparse coordinates with a running crawl --------------------------------------------------------------

def test_reparse_waits_for_a_running_crawl(archive: Path) -> None:
    count = article_count(archive)
    # A slow real crawl of the demo site into the same archive: it holds the archive lock and writes.
    crawl = subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "siyosat", "-s", f"NEWSCRAWL_DB={archive}",
                              *FAST, "-s", "DOWNLOAD_DELAY=0.4", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                              "-s", "NEWSCRAWL_REFRESH_HOURS=1000000"],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        lock = Path(f"{archive.resolve()}.lock")
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().strip() == str(crawl.pid)):
            assert crawl.poll() is None and time.monotonic() < deadline, "the crawl should take the lock"
            time.sleep(0.05)
        reparse = newscrawl("reparse", "--db", str(archive), timeout=240)
        # The crawl records its finished row, then releases the lock: reparse can only have run after that.
        conn = sqlite3.connect(f"{archive.resolve().as_uri()}?mode=ro", uri=True)
        last_crawl = conn.execute("SELECT status, finished_at FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
        conn.close()
    finally:
        crawl.wait(timeout=240)
        crawl_err = crawl.stderr.read()
        crawl.stderr.close()
    assert crawl.returncode == 0, crawl_err[-3000:]
    assert reparse.returncode == 0, reparse.stderr[-3000:]
    assert "Traceback" not in reparse.stderr and "locked" not in reparse.stderr
    assert f"waiting for the crawl (pid {crawl.pid}) writing to {archive} to finish" in reparse.stderr
    assert last_crawl[0] == "ok" and last_crawl[1], "reparse only ran once the crawl had finished"
    assert reparse.stdout.startswith("reparsed ") and article_count(archive) == count


def test_reparse_gives_up_after_wait(archive: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from newscrawl.lock import acquire; "
                               "acquire(sys.argv[1]); print('held', flush=True); time.sleep(60)", str(archive)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = digest(archive)
        started = time.monotonic()
        result = newscrawl("reparse", "--db", str(archive), "--wait", "1")
        assert 1 <= time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 75 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("newscrawl reparse: waiting for the crawl") and f"(pid {holder.pid})" in lines[-1]
    assert digest(archive) == before


# --- 7. serve reads live, committed data ---------------------------------------------------------------------

WRITER = """
import json, os, signal, sys
from newscrawl.archive import Archive
archive = Archive(sys.argv[1])
for i in range(int(sys.argv[2])):
    archive.upsert_article({"url": f"http://127.0.0.1/live/{sys.argv[3]}/{i}/", "title": f"Live {i}{sys.argv[5]}",
                            "fetched_at": "2026-01-01T00:00:00+00:00", "published_at": "2026-01-01T10:00:00+05:00",
                            "extraction": {}, "problems": [], "tags": []})
print("written", flush=True)
if sys.argv[4] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)  # as a killed crawl: the WAL is never checkpointed
sys.stdin.readline()  # stay open (a running crawl) until told to go
"""


@pytest.fixture
def serve(archive: Path) -> Iterator[str]:
    with datasette_serving(archive) as base:
        yield base


def test_serve_with_reserved_characters_in_the_path(archive: Path) -> None:
    weird = archive.parent / "news #1?x=%41.db"
    archive.rename(weird)
    with datasette_serving(weird) as base:
        status, body = get(f"{base}/archive.json?sql=select+count(*)+as+n+from+articles&_shape=array")
        assert status == 200 and json.loads(body)[0]["n"] == article_count(weird) > 0, body[:500]
    assert {p.name for p in weird.parent.iterdir()} <= {weird.name, weird.name + "-wal", weird.name + "-shm"}


def test_serve_bad_listen_address_is_one_line(archive: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = newscrawl("serve", "--db", str(archive), "--port", str(port), timeout=30)
    assert_one_line(result, f"newscrawl serve: cannot listen on 127.0.0.1:{port}")
    result = newscrawl("serve", "--db", str(archive), "--host", "192.0.2.1", "--port", "1", timeout=30)
    assert_one_line(result, "newscrawl serve: cannot listen on 192.0.2.1:1")


def served_count(base: str) -> int:
    status, body = get(f"{base}/news.json?sql=select+count(*)+as+n+from+articles&_shape=array")
    assert status == 200, body[:500]
    return json.loads(body)[0]["n"]


def write_articles(db: Path, n: int, tag: str, how: str, title: str = "") -> subprocess.Popen[str]:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(n), tag, how, title], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "written"
    return writer


def test_serve_shows_what_a_killed_crawl_committed(archive: Path) -> None:
    count = article_count(archive)
    writer = write_articles(archive, 7, "killed", "kill")
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    assert Path(f"{archive}-wal").stat().st_size > 0, "the commits are still only in the WAL"
    with datasette_serving(archive) as base:
        assert served_count(base) == count + 7


def test_serve_follows_a_writer_while_it_writes(archive: Path, serve: str) -> None:
    count = article_count(archive)
    assert served_count(serve) == count
    writer = write_articles(archive, 5, "running", "stay")
    try:
        assert served_count(serve) == count + 5, "committed rows are visible while the writer keeps the file open"
        second = write_articles(archive, 3, "second", "exit")
        second.stdin.close()
        second.wait(timeout=30)
        second.stdout.close()
        assert served_count(serve) == count + 8
        # An edit of articles the open writer stored: the canned query shows new titles beside their version counts.
        edit = write_articles(archive, 5, "running", "exit", title=" (edited)")
        edit.stdin.close()
        edit.wait(timeout=30)
        edit.stdout.close()
        status, body = get(f"{serve}/news/changed_after_publication.json?_shape=array&_size=max")
        assert status == 200, body[:500]
        changed = {r["url"]: r for r in json.loads(body) if "/live/running/" in r["url"]}
        assert len(changed) == 5
        assert all(r["earlier_versions"] == 1 and r["title"].endswith(" (edited)") for r in changed.values())
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
        writer.stdout.close()
    assert served_count(serve) == count + 8 == article_count(archive)


def test_quick_check_stops_on_time_and_the_connection_keeps_working(tmp_path: Path) -> None:
    """The cap on the up-front check holds on a big file: SQLite checks the b-trees in one VM step, which a
    progress handler never interrupts (it let the check run 0.5-8 s at 100,000 articles)."""
    from newscrawl.archive import Archive
    archive = Archive(str(tmp_path / "news.db"))
    try:
        with archive.db.conn:  # ~80 MB of pages to check: far more than a millisecond's work
            archive.db.execute("CREATE TABLE filler (b BLOB)")
            archive.db.conn.executemany("INSERT INTO filler VALUES (randomblob(2000))", [()] * 40_000)
        assert archive.quick_check(600) is True
        assert archive.quick_check(0.001) is False
        time.sleep(0.05)  # a timer that fired late must not interrupt what follows the check
        assert archive.db.execute("SELECT count(*) FROM filler").fetchone()[0] == 40_000
    finally:
        archive.close()


def test_an_in_memory_archive_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Archive(":memory:") migrates without its cross-process lock file: that file was created in the working
    directory as ':memory:.migrate-lock' (and once committed to the repository from there)."""
    from newscrawl.archive import Archive

    monkeypatch.chdir(tmp_path)
    with Archive(":memory:") as archive:
        assert archive.db.execute("PRAGMA user_version").fetchone()[0] > 0
    assert list(tmp_path.iterdir()) == []
