"""Faults in the archive, the worker and the site's redirects, and Ctrl-C: real crawls against HostileServer.

Each test pre-populates the archive with a good crawl, injects one fault into a second, real `scrapy crawl`
(or `newscrawl crawl`) and checks what an operator relies on: the exit status, the `crawls` row naming the
cause, an intact archive that lost nothing stored before, no traceback and a log without page bodies.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archive_checks import connect
from conftest import FAST, ROOT, run_crawl
from hostile import HostileServer, Reply, Request, html, redirect

from newscrawl.processing import WRITER_NAME

LISTING = "/kr/siyosat/"
WORDS = ("Ўзбекистон Президенти Сенат мажлиси қонун ислоҳот ҳукумат вазир давлат иқтисодиёт халқаро ҳамкорлик "
         "шартнома ташриф музокара депутат сайлов бюджет маблағ лойиҳа вилоят ҳоким тадбиркор инвестиция").split()
BODY_MARK = "BODYMARK"
"""Every article body repeats this word, so a body that reaches the log is found there."""
LOG_LIMIT = 200_000
"""A crawl of a few dozen articles logs a few lines each: far less than one page body of BODY_WORDS."""


def article_path(i: int) -> str:
    return f"/kr/news/2025/11/15/maqola-{i}/"


def article_page(i: int, words: int = 400) -> str:
    rng = random.Random(i)
    paragraphs = "".join("<p>" + " ".join(rng.choice(WORDS) for _ in range(40)) + f" {BODY_MARK}.</p>"
                         for _ in range(max(1, words // 40)))
    title = f"Сенат мажлиси бўлиб ўтди, мақола {i}"
    return (f'<html lang="uz-Cyrl"><head><meta charset="utf-8"><title>{title}</title></head><body>'
            '<nav class="breadcrumb"><a href="/kr/">Асосий</a><a href="/kr/siyosat/">Сиёсат</a></nav>'
            f'<article class="news-single"><h1 class="news-single__title">{title}</h1>'
            '<div class="news-single__meta"><span class="news-single__date">15.11.2025 10:00</span></div>'
            '<p class="news-single__lead">Сенат ялпи мажлисида муҳим қарорлар қабул қилинди.</p>'
            f'<div class="news-single__body">{paragraphs}</div></article></body></html>')


def listing_page(paths: list[str]) -> str:
    cards = "".join(f'<div class="news-card"><a class="news-card__title" href="{p}">Мақола {n} ҳақида</a>'
                    f'<span class="news-card__date">15.11.2025 10:00</span></div>' for n, p in enumerate(paths))
    return (f'<html><head><meta charset="utf-8"></head><body><main class="content"><div class="news-list">{cards}'
            '</div></main></body></html>')


class Site:
    """A listing of `count` articles (the count can grow between crawls), served by a HostileServer."""

    def __init__(self, count: int, words: int = 400, delay: float = 0.0) -> None:
        self.count, self.words, self.delay = count, words, delay
        self.extra: list[str] = []
        """Further listing links (redirecting ones), after the articles."""
        self.server = HostileServer([
            (r"^/kr/siyosat/$", lambda req: html(listing_page([article_path(i) for i in range(self.count)]
                                                              + self.extra))),
            (r"^/kr/news/2025/11/15/maqola-(\d+)/$", self.article),
        ])

    def article(self, req: Request) -> Reply:
        reply = html(article_page(int(req.match[1]), self.words))
        reply.delay = self.delay
        return reply

    @property
    def start(self) -> str:
        return f"start_url={self.server.url}{LISTING}"

    def article_hits(self) -> int:
        return sum(1 for p in self.server.paths() if p.startswith("/kr/news/"))


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site(5)
    with s.server:
        yield s


def crawl_rows(db: Path) -> list[sqlite3.Row]:
    return connect(db).execute("SELECT * FROM crawls ORDER BY id").fetchall()


def archived(db: Path) -> set[str]:
    return {r[0] for r in connect(db).execute("SELECT url FROM articles")}


def assert_healthy(db: Path, before: set[str]) -> None:
    """The archive is intact and still holds everything stored before the fault."""
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    assert before <= archived(db)


def assert_clean_output(output: str) -> None:
    assert "Traceback" not in output, output[-3000:]
    assert BODY_MARK not in output, "a page body reached the log"
    assert len(output) < LOG_LIMIT, len(output)


def good_crawl(site: Site, db: Path) -> set[str]:
    result = run_crawl(db, "-a", site.start)
    assert result.returncode == 0, result.stderr[-3000:]
    stored = archived(db)
    assert len(stored) == site.count
    return stored


def summary_line(output: str) -> str:
    lines = [line for line in output.splitlines() if "newscrawl summary:" in line]
    assert lines, output[-3000:]
    return lines[-1]


# --- archive faults ------------------------------------------------------------------------------------------

def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        # Python ignores SIGXFSZ, so a write past the limit fails with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_full_disk_fails_the_run_and_names_the_cause(site: Site, tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    before = good_crawl(site, db)
    site.count, site.words = 40, 4000  # 35 new articles of ~40 KB text each
    limit = db.stat().st_size + 400_000  # room for a few of them, in the file and in its WAL
    command = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-s", f"NEWSCRAWL_DB={db}", *FAST,
               "-a", site.start]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240,
                            preexec_fn=_file_size_limit(limit))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    line = summary_line(output)
    assert "status=failed" in line and "fetched articles not stored: disk full (" in line, line
    assert_healthy(db, before)
    stored_now = len(archived(db)) - len(before)
    assert stored_now < 35, "the limit was not reached: the test proves nothing"
    assert_clean_output(output)
    last = crawl_rows(db)[-1]
    if last["status"] != "running":  # the row may have found room; if it did, it says the same
        assert last["status"] == "failed" and "disk full" in last["reason"]
        # SQLite reports an error from the checkpoint that follows a commit, though that commit took place:
        # at most one article counted as not stored can be in the archive after all
        assert 0 <= json.loads(last["error_causes"])["disk_full"] - (35 - stored_now) <= 1


PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3


def _without_root_file_powers() -> None:
    """Root writes to read-only files anyway: the crawl runs without the capabilities that let it, so file modes
    apply to it as to any user (dropped from the bounding set, they stay dropped across exec)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _crawl_unprivileged(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-s", f"NEWSCRAWL_DB={db}", *FAST, *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240,
                          preexec_fn=_without_root_file_powers)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_archive_fails_before_any_request(site: Site, tmp_path: Path, what: str) -> None:
    folder = tmp_path / "archive"
    db = folder / "news.db"
    before = good_crawl(site, db)
    rows_before = len(crawl_rows(db))
    if what == "folder":  # with its WAL files in place the archive stays writable: a clean copy, read-only
        sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        for companion in (Path(f"{db}-wal"), Path(f"{db}-shm")):
            companion.unlink()
        folder.chmod(0o555)
    else:
        db.chmod(0o444)
    site.count = 10
    requests_before = len(site.server.paths())
    result = _crawl_unprivileged(db, "-a", site.start)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert len(site.server.paths()) == requests_before, "requests made for an archive that cannot store them"
    assert "status=failed" in output and ("read-only archive" in output or "cannot lock the archive" in output), \
        output[-3000:]
    assert_clean_output(output)
    folder.chmod(0o755)
    assert_healthy(db, before)
    assert len(crawl_rows(db)) == rows_before


def test_newscrawl_crawl_reports_a_run_the_archive_could_not_record(site: Site, tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    good_crawl(site, db)
    db.chmod(0o444)
    command = [sys.executable, "-m", "newscrawl.cli", "crawl", "--db", str(db), "--start-url",
               site.start.split("=", 1)[1]]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240,
                            preexec_fn=_without_root_file_powers)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Crawl failed (exit 1); the archive has no record of it: status=failed reason=archive " in result.stdout
    assert "read-only archive" in result.stdout, result.stdout
    assert "Crawl #1 ok" not in result.stdout, "the previous run's row is not this run's verdict"
    assert_clean_output(result.stdout + result.stderr)


LIBRARY_CRAWL = """
import sys
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings
from newscrawl.spiders.siyosat import SiyosatSpider
settings = get_project_settings()
settings.set("NEWSCRAWL_DB", sys.argv[1])
process = CrawlerProcess(settings)
process.crawl(SiyosatSpider, start_url=sys.argv[2])
process.start()
"""


def test_read_only_archive_used_as_a_library_stops_before_any_request(site: Site, tmp_path: Path) -> None:
    """Without the crawl command's check up front, the crawls row that cannot be written stops the crawl."""
    db = tmp_path / "news.db"
    before = good_crawl(site, db)
    db.chmod(0o444)
    requests_before = len(site.server.paths())
    result = subprocess.run([sys.executable, "-c", LIBRARY_CRAWL, str(db), site.start.split("=", 1)[1]], cwd=ROOT,
                            capture_output=True, text=True, timeout=240, preexec_fn=_without_root_file_powers,
                            env={**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings"})
    output = result.stdout + result.stderr
    assert len(site.server.paths()) == requests_before
    line = summary_line(output)
    assert "status=failed" in line and "reason=archive cannot be written (read-only archive: " in line, line
    assert_clean_output(output)
    assert_healthy(db, before)


BUGGY_CRAWL = """
import sys
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings
from newscrawl.spiders.siyosat import SiyosatSpider


class BuggySpider(SiyosatSpider):
    def parse_listing(self, response):
        if sys.argv[3] == "first":
            raise RuntimeError("a bug meets the start page")
        yield from super().parse_listing(response)
        raise RuntimeError("a bug after the cards")


settings = get_project_settings()
settings.set("NEWSCRAWL_DB", sys.argv[1])
process = CrawlerProcess(settings)
process.crawl(BuggySpider, start_url=sys.argv[2])
process.start()
"""


@pytest.mark.parametrize("where", ["first", "after"])
def test_an_exception_in_the_spider_is_an_error_and_an_empty_run_fails(site: Site, tmp_path: Path,
                                                                        where: str) -> None:
    """Scrapy only logs a callback's exception: the verdict counts it, so a run that stored nothing fails."""
    db, script = tmp_path / "news.db", tmp_path / "buggy_crawl.py"
    script.write_text(BUGGY_CRAWL, encoding="utf-8")  # a file: Scrapy reads a generator callback's source
    result = subprocess.run([sys.executable, str(script), str(db), site.start.split("=", 1)[1], where],
                            cwd=ROOT, capture_output=True, text=True, timeout=240,
                            env={**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings"})
    row = crawl_rows(db)[-1]
    causes = json.loads(row["error_causes"] or "{}")
    assert causes.get("spider_exception") == 1, (dict(row), result.stderr[-3000:])
    if where == "first":
        assert row["status"] == "failed", dict(row)
        assert "start page could not be parsed" in row["reason"], dict(row)
    else:  # the cards before the exception were followed: stored, one error out of six attempts
        counts = (row["status"], row["items_new"], row["errors"])
        assert counts == ("ok", site.count, 1), (dict(row), result.stderr[-3000:])


# --- the worker ----------------------------------------------------------------------------------------------

def _worker_pids(pid: int) -> list[int]:
    """The crawl's extraction workers (multiprocessing spawn children), not its resource tracker, nor its archive
    writer: that has the same command line and names itself WRITER_NAME once started, so nothing is returned
    before it has (a worker may be killed while it starts, as before the writer had a process)."""
    found = []
    writer_started = False
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            name = Path(f"/proc/{child}/comm").read_text().strip()
        except OSError:
            continue
        writer_started |= name == WRITER_NAME
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline and name != WRITER_NAME:
            found.append(int(child))
    return found if writer_started else []


def _kill_worker_when(proc: subprocess.Popen[str], ready: Callable[[], bool], timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _worker_pids(proc.pid)
        if workers and ready():
            os.kill(workers[0], signal.SIGKILL)
            return workers[0]
        time.sleep(0.05)
    raise AssertionError("the crawl ended before its worker could be killed")


def crawl_process(db: Path, site: Site) -> subprocess.Popen[str]:
    """A real `scrapy crawl siyosat` of the site, output merged, for tests that act on it while it runs."""
    command = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-s", f"NEWSCRAWL_DB={db}", *FAST, "-a", site.start]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_killed_worker_is_replaced_and_nothing_is_lost(tmp_path: Path) -> None:
    site = Site(30, delay=0.15)
    db = tmp_path / "news.db"
    with site.server, crawl_process(db, site) as proc:
        _kill_worker_when(proc, lambda: site.article_hits() >= 8)
        output, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, output[-3000:]
    assert "worker_restarts=1" in summary_line(output)
    assert len(archived(db)) == 30, "an item in flight when the worker died was not retried"
    row = crawl_rows(db)[-1]
    assert (row["status"], row["errors"], row["items_new"]) == ("ok", 0, 30)
    assert_clean_output(output)


def test_a_worker_that_keeps_dying_fails_the_run(tmp_path: Path) -> None:
    site = Site(60, delay=0.1)
    db = tmp_path / "news.db"
    with site.server, crawl_process(db, site) as proc:
        killed: set[int] = set()
        for _ in range(4):  # MAX_WORKER_RESTARTS + 1 deaths
            killed.add(_kill_worker_when(proc, lambda: not killed & set(_worker_pids(proc.pid))))
            time.sleep(0.3)
        output, _ = proc.communicate(timeout=240)
    assert proc.returncode == 1, output[-3000:]
    row = crawl_rows(db)[-1]
    assert row["status"] == "failed" and "extraction worker died 4 times" in row["reason"], row["reason"]
    assert_clean_output(output)
    assert_healthy(db, set())


def _writer_pid(pid: int) -> int | None:
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == WRITER_NAME:
                return int(child)
        except OSError:
            continue
    return None


def test_a_killed_archive_writer_is_replaced_and_its_batch_counted(tmp_path: Path) -> None:
    """The writer process dies mid-crawl: the batch it had fails with worker_died (counted, never reported as
    stored), a new writer stores the rest, and the archive stays intact."""
    site = Site(60, delay=0.1)
    db = tmp_path / "news.db"
    with site.server, crawl_process(db, site) as proc:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            writer = _writer_pid(proc.pid)
            if writer is not None and db.exists() and len(archived(db)) >= 5:
                os.kill(writer, signal.SIGKILL)
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the crawl ended before its writer could be killed")
        output, _ = proc.communicate(timeout=240)
    assert_healthy(db, set())
    stored = len(archived(db))
    row = crawl_rows(db)[-1]
    lost = json.loads(row["error_causes"] or "{}")
    assert set(lost) <= {"worker_died"}, lost
    assert stored + lost.get("worker_died", 0) == 60, (stored, lost)
    assert row["items_new"] == stored, "an article counted as stored is not in the archive, or the reverse"
    assert stored > 5 + 16, "nothing was stored after the writer died"
    assert "The archive writer process died: starting a new one" in output, output[-3000:]
    assert_clean_output(output)


# --- redirects and refused URLs ------------------------------------------------------------------------------

def test_redirect_loops_and_off_site_redirects_are_errors(site: Site, tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    before = good_crawl(site, db)
    port = site.server.port
    site.server.add(r"^/kr/news/2025/11/15/ping/$", lambda req: redirect("/kr/news/2025/11/15/pong/"))
    site.server.add(r"^/kr/news/2025/11/15/pong/$", lambda req: redirect("/kr/news/2025/11/15/ping/"))
    site.server.add(r"^/kr/news/2025/11/15/spiral/(?:\?n=(\d+))?$",
                    lambda req: redirect(f"/kr/news/2025/11/15/spiral/?n={int(req.match[1] or 0) + 1}"))
    # localhost is loopback too, but another host than the 127.0.0.1 the crawl is allowed on
    site.server.add(r"^/kr/news/2025/11/15/away/$",
                    lambda req: redirect(f"http://localhost:{port}/kr/news/2025/11/15/elsewhere/"))
    site.extra = ["/kr/news/2025/11/15/ping/", "/kr/news/2025/11/15/spiral/", "/kr/news/2025/11/15/away/"]
    result = run_crawl(db, "-a", site.start, "-s", "REDIRECT_MAX_TIMES=3")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert site.server.hits("/kr/news/2025/11/15/elsewhere/") == 0
    row = crawl_rows(db)[-1]
    assert row["status"] == "failed" and row["errors"] == 3
    assert json.loads(row["error_causes"]) == {"redirect_loop": 2, "offsite_redirect": 1}
    assert "redirect loop (2)" in row["reason"] and "off-site redirect (1)" in row["reason"], row["reason"]
    assert_healthy(db, before)
    assert_clean_output(output)


def test_a_start_url_over_the_length_limit_fails_the_run(site: Site, tmp_path: Path) -> None:
    long_url = f"{site.server.url}{LISTING}?q={'x' * 2100}"
    result = run_crawl(tmp_path / "news.db", "-a", f"start_url={long_url}")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert site.server.paths() == []
    assert "start page never fetched (URL longer than URLLENGTH_LIMIT)" in summary_line(output)
    row = crawl_rows(tmp_path / "news.db")[-1]
    assert row["status"] == "failed" and json.loads(row["error_causes"]) == {"url_too_long": 1}


def test_a_profile_with_an_invalid_timezone_is_refused_before_any_request(site: Site, tmp_path: Path) -> None:
    text = (ROOT / "newscrawl" / "sites" / "demo.toml").read_text(encoding="utf-8")
    profile = tmp_path / "badzone.toml"
    profile.write_text(text.replace('timezone = "+05:00"', 'timezone = "+25:00"'), encoding="utf-8")
    result = run_crawl(tmp_path / "news.db", "-a", site.start, "-a", f"site={profile}")
    assert result.returncode == 2, result.stderr[-3000:]
    assert f"site profile {profile}: key 'timezone'" in result.stderr
    assert site.server.paths() == []
    assert "Traceback" not in result.stderr


# --- Ctrl-C --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["newscrawl crawl", "scrapy crawl"])
def test_ctrl_c_stops_gracefully(tmp_path: Path, how: str) -> None:
    site = Site(40, delay=0.3)
    db = tmp_path / "news.db"
    if how == "scrapy crawl":
        command = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-s", f"NEWSCRAWL_DB={db}"]
    else:
        command = [sys.executable, "-m", "newscrawl.cli", "crawl", "--db", str(db)]
    with site.server:
        command += ["-a", site.start] if how == "scrapy crawl" else ["--start-url", site.start.split("=", 1)[1]]
        for i in range(0, len(FAST), 2):
            command += ["-s", FAST[i + 1]]
        with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True) as proc:
            deadline = time.monotonic() + 60
            while site.article_hits() < 6 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it: to every process of the group
            stdout, stderr = proc.communicate(timeout=120)
        hits = site.article_hits()
    output = stdout + stderr
    assert proc.returncode == 1, output[-3000:]
    assert hits < 40, "the crawl was not interrupted"
    assert "Traceback" not in output and "BrokenProcessPool" not in output, output[-3000:]
    assert "status=interrupted" in summary_line(output)
    row = crawl_rows(db)[-1]
    assert row["status"] == "interrupted" and row["exit_code"] == 1
    assert row["errors"] == 0, "items in flight were lost instead of drained"
    assert row["items_new"] == len(archived(db)) >= 1
    if how == "newscrawl crawl":
        assert f"Crawl #{row['id']} interrupted" in stdout


def test_a_second_ctrl_c_forces_the_stop_and_still_fails_the_run(tmp_path: Path) -> None:
    site = Site(40, delay=1.0)  # the graceful stop waits for the requests in flight: the second Ctrl-C lands first
    db = tmp_path / "news.db"
    with site.server:
        command = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-s", f"NEWSCRAWL_DB={db}", *FAST,
                   "-a", site.start]
        with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True) as proc:
            deadline = time.monotonic() + 60
            while site.article_hits() < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGINT)
            time.sleep(0.2)
            os.killpg(proc.pid, signal.SIGINT)
            output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, output[-3000:]
    assert "status=failed reason=stopped before the crawl could finish (forced shutdown)" in output
    assert "Traceback" not in output, output[-3000:]
    assert crawl_rows(db)[-1]["status"] == "running", "the next run marks it killed"
