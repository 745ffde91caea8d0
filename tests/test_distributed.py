"""The distributed crawl with real parts: a real redis-server (append-only, on a free port), the demo site on
127.0.0.1, `newscrawl archiver` and `newscrawl worker` processes, jobs queued with `newscrawl enqueue`; each
result compared field by field with a single-process crawl of the same site (docs/distributed.md)."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import LATIN_START_PATH, ROOT, run_crawl
from distributed_parts import FAST_JOB, Process, archiver, assert_same_archive, count, drained, enqueue, \
    enqueue_category, integrity, newscrawl, rows, wait_for, worker
from newscrawl.archive import Archive
from newscrawl.demo.server import DemoServer
from newscrawl.demo.site import DEMO_START_PATH, demo_site
from newscrawl.distributed import keys
from newscrawl.distributed.state import RedisCrawlState, sync_from_archive
from newscrawl.state import SqliteCrawlState
from redis_server import RedisServer, free_port

PATHS = (DEMO_START_PATH, LATIN_START_PATH)
SLOW_JOB = ["-s", "DOWNLOAD_DELAY=0.3", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
"""A crawl slow enough (~15 s) that a test can act on it while it runs."""
PASSWORD = "s3cret-Pa55"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoServer, Path]]:
    """The demo site, and a single-process crawl of both its categories: the reference archive."""
    pages, _ = demo_site(datetime.now(timezone.utc))
    server = DemoServer(pages).start()
    reference = tmp_path_factory.mktemp("reference") / "news.db"
    for path in PATHS:
        result = run_crawl(reference, "-a", f"start_url={server.url}{path}", "-a", "max_pages=0")
        assert result.returncode == 0, result.stderr[-3000:]
    yield server, reference
    server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def redis_with_password(tmp_path: Path) -> Iterator[RedisServer]:
    """requirepass, as docs/distributed.md tells production to set it."""
    with RedisServer(tmp_path / "redis", password=PASSWORD) as server:
        yield server


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Every process a test starts, stopped at its end whatever happened."""
    started: list[Process] = []
    yield started
    for process in started:
        if process.proc.poll() is None:
            process.stop(timeout=30)


def test_off_by_default_and_bad_url_is_one_line(tmp_path: Path, site: tuple[DemoServer, Path]) -> None:
    from scrapy.settings import Settings

    from newscrawl import settings as project
    from newscrawl.distributed.addon import Distributed
    settings = Settings()
    settings.setmodule(project)
    before = {k: settings[k] for k in ("SCHEDULER", "DUPEFILTER_CLASS")}
    Distributed().update_settings(settings)
    assert {k: settings[k] for k in before} == before
    assert "newscrawl.pipelines.ArchivePipeline" in settings.getdict("ITEM_PIPELINES")
    result = run_crawl(tmp_path / "news.db", "-s", "NEWSCRAWL_REDIS_URL=http://x/", "-a", "start_url=http://127.0.0.1:9/")
    assert result.returncode == 2
    assert "bad NEWSCRAWL_REDIS_URL 'http://x/'" in result.stderr
    assert not (tmp_path / "news.db").exists()


def test_three_workers_one_archiver_match_a_single_process_crawl(tmp_path: Path, site: tuple[DemoServer, Path],
                                                                 redis_server: RedisServer,
                                                                 processes: list[Process]) -> None:
    server, reference = site
    db = tmp_path / "news.db"
    url = redis_server.url
    client = redis_server.client()
    processes.append(archiver(db, url, tmp_path / "archiver.log", "--batch", "7"))
    for path in PATHS:
        enqueue(url, server.url + path)
    again = enqueue(url, server.url + PATHS[0])
    assert "already queued" in again.stdout  # cron does not pile up identical jobs
    for n in range(3):
        processes.append(worker(url, tmp_path / f"worker{n}.log", "--lease-seconds", "5"))
    wait_for(lambda: count(db, "SELECT count(*) FROM crawls") == 2 and drained(client, db), 180, "both jobs",
             *processes)
    assert_same_archive(db, reference)
    # the state the archiver updated after each commit is the state rebuilt from the archive
    kept = {key: client.hgetall(key) for key in (keys.KNOWN, keys.MISSING, keys.LAST_RUNS)}
    with Archive(db, readonly=True) as archive:
        sync_from_archive(client, archive)
    assert {key: client.hgetall(key) for key in kept} == kept
    crawls = rows(db, "SELECT * FROM crawls ORDER BY id")
    assert [c["status"] for c in crawls] == ["ok", "ok"], crawls
    assert sum(c["items_new"] for c in crawls) == count(reference, "SELECT count(*) FROM articles")
    # one site, one worker: the two crawls of the same host never overlapped
    assert crawls[0]["finished_at"] <= crawls[1]["started_at"]
    # a second round changes nothing and duplicates nothing: everything is known to the workers through Redis
    for path in PATHS:
        enqueue(url, server.url + path, "--max-pages", "1")
    wait_for(lambda: count(db, "SELECT count(*) FROM crawls") == 4 and drained(client, db), 180, "second round",
             *processes)
    assert_same_archive(db, reference)
    second = rows(db, "SELECT * FROM crawls WHERE id > 2")
    assert [c["status"] for c in second] == ["ok", "ok"]
    assert sum(c["items_new"] + c["items_updated"] for c in second) == 0
    for process in processes:
        assert process.stop() == 0, process.output()[-2000:]
    # the finished runs left no frontier behind
    assert not client.keys(f"{keys.PREFIX}run:*")


def test_category_spider_as_a_distributed_worker_matches_a_single_process_crawl(
        tmp_path: Path, site: tuple[DemoServer, Path], redis_with_password: RedisServer,
        processes: list[Process]) -> None:
    """The category spider (`scrapy crawl category -a site=PROFILE -a category=SLUG`) run by a worker from a job
    `newscrawl enqueue category` queued, stored by the archiver: the same archive as a single-process crawl of that
    category. Redis wants a password: the crawl's summary line names the stream its items went to, with the URL
    shown without the password (not NEWSCRAWL_DB, which a worker never opens)."""
    redis_server = redis_with_password
    server, _ = site
    profile = tmp_path / "demo-here.toml"  # the demo profile, with base_url pointing at the demo site served here
    text = (ROOT / "newscrawl" / "sites" / "demo.toml").read_text()
    profile.write_text(text.replace('name = "demo"', f'name = "demo-here"\nbase_url = "{server.url}/"', 1))
    reference = tmp_path / "reference.db"
    result = run_crawl(reference, "-a", f"site={profile}", "-a", "category=siyosat", "-a", "max_pages=0",
                       spider="category")
    assert result.returncode == 0, result.stderr[-3000:]
    assert count(reference, "SELECT count(*) FROM articles") > 10
    db = tmp_path / "news.db"
    url = redis_server.url
    client = redis_server.client()
    queued = enqueue_category(url, str(profile), "siyosat")
    assert "(category on 127.0.0.1)" in queued.stdout, queued.stdout  # the profile's host: one lease per site
    processes.append(archiver(db, url, tmp_path / "archiver.log"))
    processes.append(worker(url, tmp_path / "worker.log", "--lease-seconds", "5"))
    wait_for(lambda: count(db, "SELECT count(*) FROM crawls") == 1 and drained(client, db), 180, "the category job",
             *processes)
    assert_same_archive(db, reference)
    crawls = rows(db, "SELECT spider, site, start_url, status, exit_code, items_new FROM crawls")
    want = rows(reference, "SELECT spider, site, start_url, status, exit_code, items_new FROM crawls")
    assert crawls == want and crawls[0]["spider"] == "category" and crawls[0]["status"] == "ok", (crawls, want)
    summary = [line for line in processes[1].output().splitlines() if "newscrawl summary: " in line]
    assert len(summary) == 1, processes[1].output()[-3000:]
    assert "newscrawl summary: status=ok " in summary[0], summary
    assert f" redis=redis://***@127.0.0.1:{redis_server.port}/0 stream={keys.STREAM}" in summary[0], summary
    assert " db=" not in summary[0] and PASSWORD not in summary[0], summary
    # the worker says what it handed over; new/updated/unchanged are the archiver's to count (the crawls row has them)
    queued = int(summary[0].split(" queued=")[1].split()[0])
    assert queued > 0 and " new=" not in summary[0], summary
    for process in processes:
        assert process.stop() == 0, process.output()[-2000:]


def test_redis_state_answers_like_the_archive(tmp_path: Path, site: tuple[DemoServer, Path],
                                              redis_server: RedisServer) -> None:
    _, reference = site
    client = redis_server.client()
    with Archive(reference, readonly=True) as archive:
        synced = sync_from_archive(client, archive)
        urls = [r["url"] for r in archive.db.query("SELECT url FROM articles")]
        urls += [r["alias"] for r in archive.db.query("SELECT alias FROM url_aliases")]
        urls += [r["url"] for r in archive.db.query("SELECT url FROM missing_pages")]
    assert synced["known"] >= len(urls) - synced["missing"]
    sqlite_state = SqliteCrawlState(reference)
    redis_state = RedisCrawlState(client, outage=5)
    urls = [*urls, *(u.rstrip("/") for u in urls), "http://127.0.0.1:1/unknown/"]
    _look_up(sqlite_state, urls)
    for url in urls:
        assert redis_state.known_article(url) == sqlite_state.known_article(url), url
        assert redis_state.missing_since(url) == sqlite_state.missing_since(url), url
    for path in PATHS:
        start = next(iter(rows(reference, f"SELECT start_url FROM crawls WHERE start_url LIKE '%{path}'")))
        assert redis_state.previous_run_unfinished("siyosat", start["start_url"]) is None


def _look_up(state: object, urls: list[str]) -> None:
    """The archive's CrawlState reads per listing page where it has look_up() (it answers only for those)."""
    look_up = getattr(state, "look_up", None)
    if look_up is not None:
        look_up(urls)


def _crawl_into_stream(url: str, server: DemoServer) -> int:
    """Workers' crawls of every category with no archiver running: everything waits on the stream, whose length
    is returned."""
    for path in PATHS:
        command = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-a", f"start_url={server.url}{path}", "-a",
                   "max_pages=0", "-s", f"NEWSCRAWL_REDIS_URL={url}", *FAST_JOB]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, result.stderr[-3000:]
    return int(redis.Redis.from_url(url).xlen(keys.STREAM))


def _next_archiver_stores_what_was_pending(db: Path, url: str, tmp_path: Path, processes: list[Process],
                                           client: redis.Redis, reference: Path) -> str:
    """A second archiver, run until the stream has been empty 2 s: it exits 0 with the stream drained, nothing
    pending, and the archive equal to the single-process reference; its output is returned."""
    second = archiver(db, url, tmp_path / "archiver2.log", "--idle-exit", "2")
    processes.append(second)
    assert second.proc.wait(timeout=120) == 0, second.output()[-3000:]
    assert client.xlen(keys.STREAM) == 0
    assert client.xpending(keys.STREAM, keys.GROUP)["pending"] == 0
    assert_same_archive(db, reference)
    return second.output()


def test_archiver_killed_between_consume_and_commit(tmp_path: Path, site: tuple[DemoServer, Path],
                                                    redis_server: RedisServer, processes: list[Process]) -> None:
    server, reference = site
    db = tmp_path / "news.db"
    url = redis_server.url
    client = redis_server.client()
    total = _crawl_into_stream(url, server)
    # an archiver that read a batch and died before committing it: its entries are pending, read by nobody
    client.xgroup_create(keys.STREAM, keys.GROUP, id="0")
    taken = client.xreadgroup(keys.GROUP, "dead-archiver", {keys.STREAM: ">"}, count=10)
    assert len(taken[0][1]) == 10
    # and a real archiver killed with -9 between consuming and committing: the test holds SQLite's write lock,
    # so the archiver has claimed and read its batch and waits to commit it when it is killed
    Archive(db).close()
    holder = sqlite3.connect(db)
    holder.execute("BEGIN IMMEDIATE")
    first = archiver(db, url, tmp_path / "archiver1.log", "--batch", "3")
    processes.append(first)

    def consumed_by_first() -> bool:
        return any(c["name"] != b"dead-archiver" and c["pending"] > 0
                   for c in client.xinfo_consumers(keys.STREAM, keys.GROUP))
    wait_for(consumed_by_first, 60, "the archiver to consume entries", first)
    first.kill9()
    holder.rollback()
    holder.close()
    assert count(db, "SELECT count(*) FROM articles") == 0  # nothing was committed
    assert "Claimed" in _next_archiver_stores_what_was_pending(db, url, tmp_path, processes, client, reference)
    assert total > 10
    crawls = rows(db, "SELECT * FROM crawls ORDER BY id")
    assert [(c["status"], c["exit_code"]) for c in crawls] == [("ok", 0), ("ok", 0)], crawls
    # the crawls row of the run whose entries the dead archivers held tells of it
    assert "items taken over from an archiver that stopped before acknowledging them" in crawls[0]["reason"], crawls
    assert crawls[1]["reason"] is None, crawls


def test_worker_killed_mid_crawl_job_is_reclaimed(tmp_path: Path, site: tuple[DemoServer, Path],
                                                  redis_server: RedisServer, processes: list[Process]) -> None:
    server, reference = site
    db = tmp_path / "news.db"
    url = redis_server.url
    client = redis_server.client()
    processes.append(archiver(db, url, tmp_path / "archiver.log"))
    for path in PATHS:
        enqueue(url, server.url + path, *SLOW_JOB)
    doomed = worker(url, tmp_path / "doomed.log", "--lease-seconds", "3")
    processes.append(doomed)
    wait_for(lambda: count(db, "SELECT count(*) FROM articles") >= 3, 120, "the first articles", doomed)
    doomed.kill9()  # the worker and its crawl, mid-crawl
    # the dead run's frontier is not kept for ever: every key of it has an expiry
    assert all(client.ttl(key) > 0 for key in client.keys(f"{keys.PREFIX}run:*")), client.keys(f"{keys.PREFIX}run:*")
    assert count(db, "SELECT count(*) FROM articles") < count(reference, "SELECT count(*) FROM articles")
    survivor = worker(url, tmp_path / "survivor.log", "--lease-seconds", "3")
    processes.append(survivor)
    wait_for(lambda: count(db, "SELECT count(*) FROM crawls WHERE status = 'ok'") == 2 and drained(client, db),
             240, "the reclaimed job and the other one", survivor)
    assert "reclaimed" in survivor.output()
    assert_same_archive(db, reference)
    crawls = rows(db, "SELECT * FROM crawls ORDER BY id")
    assert [(c["status"], c["exit_code"]) for c in crawls] == [("killed", 1), ("ok", 0), ("ok", 0)], crawls
    assert "stopped renewing its lease mid-crawl" in crawls[0]["reason"]


def test_redis_restart_workers_back_off_and_resume(tmp_path: Path, site: tuple[DemoServer, Path],
                                                   redis_server: RedisServer, processes: list[Process]) -> None:
    server, reference = site
    db = tmp_path / "news.db"
    url = redis_server.url
    client = redis_server.client()
    processes.append(archiver(db, url, tmp_path / "archiver.log"))
    for path in PATHS:
        enqueue(url, server.url + path, *SLOW_JOB)
    crawler = worker(url, tmp_path / "worker.log", "--lease-seconds", "20")
    processes.append(crawler)
    wait_for(lambda: count(db, "SELECT count(*) FROM articles") >= 3, 120, "the first articles", crawler)
    redis_server.stop()  # SIGTERM: Redis writes its append-only file and exits
    import time
    time.sleep(2)
    redis_server.start()
    wait_for(lambda: count(db, "SELECT count(*) FROM crawls WHERE status != 'running'") == 2 and
             drained(client, db), 240, "both jobs after the restart", *processes)
    assert "Redis unavailable" in crawler.output()
    assert "Redis is back" in crawler.output()
    assert_same_archive(db, reference)
    crawls = rows(db, "SELECT * FROM crawls ORDER BY id")
    assert [(c["status"], c["exit_code"]) for c in crawls] == [("ok", 0), ("ok", 0)], crawls
    # waited out, so ok; but the row of the run that was crawling during the restart tells of it
    assert "Redis unavailable during the run, waited out" in (crawls[0]["reason"] or ""), crawls


def _stop_in_time(process: Process, limit: float) -> int:
    """SIGTERM, as `systemctl stop` sends it; the exit status, which must come within `limit` seconds."""
    import signal
    import time

    started = time.monotonic()
    process.proc.send_signal(signal.SIGTERM)
    try:
        code = process.proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{process.log.name} ignored SIGTERM for {limit}s:\n{process.output()[-3000:]}") from None
    assert time.monotonic() - started < limit
    return code


def test_worker_stopped_during_a_redis_outage_exits_at_once_and_leaves_its_job_to_be_reclaimed(
        tmp_path: Path, site: tuple[DemoServer, Path], redis_server: RedisServer, processes: list[Process]) -> None:
    """SIGTERM while Redis is down: a worker does not wait for Redis to come back (systemctl stop would hang). The
    one running a job kills its crawl (which could neither queue its items nor report) after a short grace and
    exits 0, leaving the job, its lease and its run in Redis: once the lease has expired the job is reclaimed, as a
    killed worker's is. An idle worker (waiting for a job) exits 0 at once."""
    import time

    from newscrawl.distributed.jobs import STOP_GRACE_SECONDS, Worker

    server, _ = site
    url = redis_server.url
    client = redis_server.client()
    job_id = enqueue(url, server.url + PATHS[0], *SLOW_JOB).stdout.split()[2]
    busy = worker(url, tmp_path / "busy.log", "--lease-seconds", "3")
    processes.append(busy)
    wait_for(lambda: client.xlen(keys.STREAM) >= 3, 120, "the crawl's first items", busy)
    idle = worker(url, tmp_path / "idle.log", "--lease-seconds", "3")  # no job is free: it polls for one
    processes.append(idle)
    wait_for(lambda: "waiting for jobs" in idle.output(), 60, "the idle worker", idle)
    run = client.hget(keys.job(job_id), "run")
    assert run, client.hgetall(keys.job(job_id))
    redis_server.stop()
    wait_for(lambda: "Redis unavailable" in idle.output() and "Redis unavailable" in busy.output(), 30,
             "both workers to notice the outage", busy, idle)
    assert _stop_in_time(idle, 5) == 0, idle.output()[-3000:]
    assert "SIGTERM while Redis was unavailable (" in idle.output() and "it held no job" in idle.output()
    assert _stop_in_time(busy, STOP_GRACE_SECONDS + 7) == 0, busy.output()[-3000:]
    output = busy.output()
    assert f"Job {job_id}: SIGTERM while Redis is unavailable: the crawl cannot queue its items or report, " \
           "killing it" in output, output[-3000:]
    assert f"job {job_id} is left to be reclaimed by another worker once its lease expires" in output, output[-3000:]
    # Redis back: the job is still the stopped worker's run, and is reclaimed once its lease has expired
    redis_server.start()
    job = {k.decode(): v.decode() for k, v in client.hgetall(keys.job(job_id)).items()}
    assert job["state"] == "running" and job["run"] == run.decode(), job
    assert client.hget(keys.RUNNING, job_id) is not None
    time.sleep(max(0.0, client.pttl(keys.lease("127.0.0.1")) / 1000))
    reclaiming = Worker(url)
    try:
        assert reclaiming.reclaim() == [job_id]
    finally:
        reclaiming.client.close()
    assert client.lindex(keys.JOBS, -1) == job_id.encode()  # at the head of the queue, for the next idle worker


def test_archiver_stopped_during_a_redis_outage_exits_at_once_and_loses_nothing(
        tmp_path: Path, site: tuple[DemoServer, Path], redis_server: RedisServer, processes: list[Process]) -> None:
    """SIGTERM while the archiver waits for Redis with a batch read and not committed: it exits 0 at once, with
    nothing of the batch committed or acknowledged; the next archiver, once Redis is back, claims and stores it: the
    archive equals a single-process crawl's."""
    server, reference = site
    db = tmp_path / "news.db"
    url = redis_server.url
    client = redis_server.client()
    total = _crawl_into_stream(url, server)
    # the test holds SQLite's write lock: the archiver reads its first batch and cannot store it; Redis goes away
    # while it waits to retry, the lock is released, and its retry waits for Redis, the batch uncommitted
    Archive(db).close()
    holder = sqlite3.connect(db)
    holder.execute("BEGIN IMMEDIATE")
    first = archiver(db, url, tmp_path / "archiver1.log", "--batch", "3")
    processes.append(first)
    try:
        wait_for(lambda: "Archive cannot take writes" in first.output(), 90, "the archiver to read a batch", first)
        redis_server.stop()
    finally:
        holder.rollback()
        holder.close()
    wait_for(lambda: "Redis unavailable" in first.output(), 30, "the archiver to wait for Redis", first)
    assert _stop_in_time(first, 5) == 0, first.output()[-3000:]
    assert "SIGTERM while Redis was unavailable (reading the run's crawl id)" in first.output(), first.output()[-3000:]
    assert count(db, "SELECT count(*) FROM crawls") == 0 and count(db, "SELECT count(*) FROM articles") == 0
    redis_server.start()
    assert client.xlen(keys.STREAM) == total  # nothing acknowledged and deleted
    assert client.xpending(keys.STREAM, keys.GROUP)["pending"] == 3  # the batch it read, still pending
    assert "Claimed 3 entries" in _next_archiver_stores_what_was_pending(db, url, tmp_path, processes, client,
                                                                         reference)
    crawls = rows(db, "SELECT * FROM crawls ORDER BY id")
    assert [(c["status"], c["exit_code"]) for c in crawls] == [("ok", 0), ("ok", 0)], crawls


def test_same_site_given_to_two_workers_runs_once_at_a_time(tmp_path: Path, site: tuple[DemoServer, Path],
                                                             redis_server: RedisServer,
                                                             processes: list[Process]) -> None:
    server, reference = site
    db = tmp_path / "news.db"
    url = redis_server.url
    client = redis_server.client()
    processes.append(archiver(db, url, tmp_path / "archiver.log"))
    # the same job twice (differing only in a setting, so enqueue takes both), two workers started together
    enqueue(url, server.url + PATHS[0], *SLOW_JOB)
    enqueue(url, server.url + PATHS[0], *SLOW_JOB, "-s", "NEWSCRAWL_PROGRESS_EVERY=99")
    enqueue(url, server.url + PATHS[1])
    both = [worker(url, tmp_path / f"worker{n}.log", "--lease-seconds", "5") for n in range(2)]
    processes.extend(both)
    wait_for(lambda: count(db, "SELECT count(*) FROM crawls WHERE status != 'running'") == 3 and
             drained(client, db), 240, "all three jobs", *both)
    crawls = rows(db, "SELECT * FROM crawls ORDER BY started_at")
    assert [c["status"] for c in crawls] == ["ok"] * 3, crawls
    for earlier, later in itertools.pairwise(crawls):  # never two crawls of the host at once
        assert earlier["finished_at"] <= later["started_at"], crawls
    assert sum(c["items_new"] for c in crawls) == count(reference, "SELECT count(*) FROM articles")
    assert_same_archive(db, reference)
    assert integrity(db) == "ok"


def test_one_job_reaching_two_workers_the_stalled_one_is_fenced_off(tmp_path: Path, site: tuple[DemoServer, Path],
                                                                    redis_server: RedisServer,
                                                                    processes: list[Process]) -> None:
    """The same job id in two workers: worker A stalls (SIGSTOP, with its crawl) past its lease, worker B reclaims
    the job and runs it, then A resumes. A notices it lost the lease (the lease holder and the job's run are the
    fencing token), stops its crawl and writes nothing: no finish, no job state, no release of B's lease. The
    archive ends as an undisturbed run's; the crawls table tells of A's run."""
    import signal
    import time

    server, reference = site
    db = tmp_path / "news.db"
    url = redis_server.url
    client = redis_server.client()
    processes.append(archiver(db, url, tmp_path / "archiver.log"))
    queued = enqueue(url, server.url + PATHS[0], *SLOW_JOB).stdout.split()[2]
    enqueue(url, server.url + PATHS[1])
    stalled = worker(url, tmp_path / "stalled.log", "--lease-seconds", "3")
    processes.append(stalled)
    wait_for(lambda: count(db, "SELECT count(*) FROM articles") >= 3, 120, "the first articles", stalled)
    os.killpg(stalled.pid, signal.SIGSTOP)  # the worker and its crawl
    try:
        other = worker(url, tmp_path / "other.log", "--lease-seconds", "3")
        processes.append(other)
        wait_for(lambda: count(db, "SELECT count(*) FROM crawls WHERE status = 'killed'") == 1 and
                 count(db, "SELECT count(*) FROM crawls WHERE status = 'running'") == 1, 60, "the reclaim", other)
        time.sleep(1)
    finally:
        os.killpg(stalled.pid, signal.SIGCONT)
    wait_for(lambda: "another worker took it over" in stalled.output(), 30, "the stalled worker to notice", stalled)
    # it left the job to the other worker: still running there, its lease and reclaim entry untouched
    job = {k.decode(): v.decode() for k, v in client.hgetall(keys.job(queued)).items()}
    assert job["state"] == "running" and job["worker"] in other.output(), job
    assert client.hget(keys.RUNNING, queued) is not None
    assert other.proc.poll() is None
    wait_for(lambda: count(db, "SELECT count(*) FROM crawls WHERE status = 'ok'") == 2 and drained(client, db),
             240, "both jobs", stalled, other)
    assert_same_archive(db, reference)  # no duplicate rows, integrity_check ok
    crawls = rows(db, "SELECT * FROM crawls ORDER BY id")
    assert [(c["status"], c["exit_code"]) for c in crawls] == [("killed", 1), ("ok", 0), ("ok", 0)], crawls
    assert "stopped renewing its lease mid-crawl (died, or stalled past --lease-seconds)" in crawls[0]["reason"]
    assert f"job {queued} reclaimed by" in crawls[0]["reason"], crawls[0]
    assert crawls[1]["reason"] is None, crawls[1]
    assert "lease of 127.0.0.1 lost" in stalled.output() or "is not sent" in stalled.output()
    for process in (stalled, other):
        assert process.stop() == 0, process.output()[-3000:]


def test_commands_refuse_bad_arguments_in_one_line() -> None:
    for args in (["archiver", "--redis", "http://x"], ["worker", "--redis", "x"],
                 ["enqueue", "siyosat", "--redis", "redis://127.0.0.1:1/0", "--since", "2025-13-01"]):
        result = subprocess.run(newscrawl(*args), cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    _ = redis  # the client library is a dependency of the feature, imported by the helpers


def test_commands_given_an_unusable_redis_say_so_in_one_line(tmp_path: Path) -> None:
    """enqueue, worker and archiver against a Redis that is not there, one that refuses the password and one that
    wants a password the URL lacks: one line on stderr, exit 2, no traceback, the password never printed, and the
    archive never touched."""
    password = "s3cret-Pa55"
    with RedisServer(tmp_path / "redis", password=password) as server:
        wrong = f"redis://:wrong-{password}@127.0.0.1:{server.port}/0"
        cases = {
            f"redis://:{password}@127.0.0.1:{free_port()}/0": "is unreachable",
            wrong: "refused the credentials in the URL",
            f"redis://127.0.0.1:{server.port}/0": "requires a password: none in the URL",
        }
        db = tmp_path / "news.db"
        for url, problem in cases.items():
            for args in (["enqueue", "siyosat", "--redis", url, "--start-url", "http://127.0.0.1:9/kr/siyosat/"],
                         ["worker", "--redis", url, "--idle-exit", "1"],
                         ["archiver", "--db", str(db), "--redis", url, "--idle-exit", "1"]):
                result = subprocess.run(newscrawl(*args), cwd=ROOT, capture_output=True, text=True, timeout=60)
                assert result.returncode == 2, (args, result.stdout, result.stderr)
                lines = result.stderr.strip().splitlines()
                assert len(lines) == 1, result.stderr
                assert lines[0].startswith(f"newscrawl {args[0]}: Redis at redis://"), lines
                assert problem in lines[0], lines
                assert "Traceback" not in result.stderr and password not in result.stderr + result.stdout, lines
        assert not db.exists()  # the archiver checks Redis before it touches the archive
        assert server.client().llen(keys.JOBS) == 0


def test_redis_state_looks_up_a_listing_page_in_one_go(tmp_path: Path, site: tuple[DemoServer, Path],
                                                        redis_server: RedisServer) -> None:
    """look_up() (the per-listing-page read of the CrawlState protocol) answers as the per-URL reads do."""
    _, reference = site
    client = redis_server.client()
    with Archive(reference, readonly=True) as archive:
        sync_from_archive(client, archive)
        urls = [r["url"] for r in archive.db.query("SELECT url FROM articles")]
        urls += [r["url"] for r in archive.db.query("SELECT url FROM missing_pages")]
    urls += [u.rstrip("/") for u in urls] + ["http://127.0.0.1:1/unknown/"]
    single = RedisCrawlState(client, outage=5)
    batched = RedisCrawlState(client, outage=5)
    batched.look_up(urls)
    client.delete(keys.KNOWN, keys.MISSING)  # the answers now come from the look-up alone
    expected = SqliteCrawlState(reference)
    _look_up(expected, urls)
    assert [batched.known_article(u) for u in urls] == [expected.known_article(u) for u in urls]
    assert [batched.missing_since(u) for u in urls] == [expected.missing_since(u) for u in urls]
    assert single.known_article(urls[0]) is None  # not looked up: read from Redis, where it is gone now


def test_redis_gone_for_longer_than_the_limit_stops_the_crawl_cleanly(tmp_path: Path, site: tuple[DemoServer, Path],
                                                                       redis_server: RedisServer) -> None:
    """Past NEWSCRAWL_REDIS_OUTAGE_SECONDS the worker's crawl ends with a verdict (interrupted, exit 1), not a
    crash or a hang; the next run repairs the gap."""
    server, _ = site
    client = redis_server.client()
    command = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-a", f"start_url={server.url}{PATHS[0]}", "-a",
               "max_pages=0", "-s", f"NEWSCRAWL_REDIS_URL={redis_server.url}", *FAST_JOB, *SLOW_JOB,
               "-s", "NEWSCRAWL_REDIS_OUTAGE_SECONDS=3"]
    with open(tmp_path / "crawl.log", "wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: client.xlen(keys.STREAM) >= 3, 120, "the first items")
            redis_server.stop(kill=True)
            code = proc.wait(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
    output = (tmp_path / "crawl.log").read_text(errors="replace")
    assert code == 1, output[-3000:]
    assert "newscrawl summary: status=failed" in output
    assert "reason=crawl stopped early (redis_unavailable)" in output


def _run_scheduler(redis_server: RedisServer, run: str) -> Any:
    """A worker crawl's scheduler (RunScheduler, set up as the add-on does) on the real Redis, opened."""
    from scrapy import Spider
    from scrapy.settings import Settings
    from scrapy.utils.test import get_crawler

    from newscrawl import settings as project
    from newscrawl.distributed.addon import Distributed
    from newscrawl.distributed.scheduler import RunScheduler

    settings = Settings()
    settings.setmodule(project)
    settings.set("NEWSCRAWL_REDIS_URL", redis_server.url)
    settings.set("NEWSCRAWL_REDIS_RUN", run)
    Distributed().update_settings(settings)
    crawler = get_crawler(Spider, {name: settings[name] for name in (
        "SCHEDULER_QUEUE_CLASS", "SCHEDULER_QUEUE_KEY", "SCHEDULER_DUPEFILTER_KEY", "DUPEFILTER_CLASS", "REDIS_URL",
        "SCHEDULER_PERSIST", "NEWSCRAWL_REDIS_OUTAGE_SECONDS")})
    spider = Spider.from_crawler(crawler, name="siyosat")
    scheduler = RunScheduler.from_crawler(crawler)
    scheduler.open(spider)
    return scheduler


def test_run_keys_expire_from_their_first_write(redis_server: RedisServer) -> None:
    """A run killed at any moment leaves no frontier key for ever: each write that creates a run's queue or
    duplicate filter sets its expiry, also when Redis deleted the emptied queue and a push creates it again."""
    from scrapy import Request

    from newscrawl.distributed.scheduler import RUN_KEY_TTL

    scheduler = _run_scheduler(redis_server, "killed")
    client = redis_server.client()
    run_keys = [keys.run_requests("killed"), keys.run_dupefilter("killed")]

    def expiries() -> list[int]:
        return [client.ttl(key) for key in run_keys]
    assert scheduler.next_request() is None  # the scheduler's own refresh, before any key exists
    assert scheduler.enqueue_request(Request("http://127.0.0.1:1/a/"))
    assert all(0 < ttl <= RUN_KEY_TTL for ttl in expiries()), expiries()
    assert scheduler.next_request() is not None  # the queue is empty: Redis deleted it
    assert not client.exists(run_keys[0])
    assert scheduler.enqueue_request(Request("http://127.0.0.1:1/b/"))
    assert all(0 < ttl <= RUN_KEY_TTL for ttl in expiries()), expiries()
    assert not scheduler.enqueue_request(Request("http://127.0.0.1:1/a/"))  # still a duplicate filter


def test_a_request_whose_push_fails_in_a_redis_outage_is_pushed_not_dropped(redis_server: RedisServer) -> None:
    """scrapy-redis marks a request seen, then pushes it. Redis goes away between the two (a real stop of the
    server; the push raises a real ConnectionError) and comes back: the retried enqueue pushes the request instead
    of finding it 'seen' and dropping it (a lost listing page would cut pagination short)."""
    import threading

    from scrapy import Request

    from newscrawl import statkeys

    scheduler = _run_scheduler(redis_server, "outage")
    client = redis_server.client()
    push = scheduler.queue.push
    pushes: list[str] = []
    restarted: list[threading.Timer] = []

    def push_after_redis_went_away(request: Request) -> None:
        pushes.append(request.url)
        if len(pushes) == 1:  # the mark is written (and kept: SIGTERM flushes the append-only file)
            redis_server.stop()
            restarted.append(threading.Timer(1.5, redis_server.start))
            restarted[0].start()
        push(request)
    scheduler.queue.push = push_after_redis_went_away
    listing = Request("http://127.0.0.1:1/kr/siyosat/?page=2")
    try:
        assert scheduler.enqueue_request(listing)
    finally:
        for timer in restarted:
            timer.join()
    assert len(pushes) >= 2, pushes  # the first push failed against the stopped server, a retry pushed
    assert scheduler.stats.get_value(statkeys.REDIS_OUTAGES) == 1
    assert client.scard(keys.run_dupefilter("outage")) == 1  # the mark from before the outage
    popped = scheduler.next_request()
    assert popped is not None and popped.url == listing.url
    assert scheduler.next_request() is None  # pushed once: only the attempt that reached Redis
    attempts = len(pushes)
    assert not scheduler.enqueue_request(Request(listing.url))  # without an outage, still a duplicate filter
    assert len(pushes) == attempts


def test_worker_pauses_while_the_archiver_backlog_is_over_the_limit(tmp_path: Path, site: tuple[DemoServer, Path],
                                                                   redis_server: RedisServer,
                                                                   processes: list[Process]) -> None:
    """Back-pressure: with no archiver the stream stops growing near NEWSCRAWL_REDIS_BACKLOG and the crawl waits
    (it does not fail, and does not fetch on into memory); an archiver started later drains it and the crawl
    finishes with everything archived."""
    import threading
    import time

    server, reference = site
    db = tmp_path / "news.db"
    client = redis_server.client()
    backlog = 4
    command = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-a", f"start_url={server.url}{PATHS[0]}", "-a",
               "max_pages=0", "-s", f"NEWSCRAWL_REDIS_URL={redis_server.url}", *FAST_JOB,
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", f"NEWSCRAWL_REDIS_BACKLOG={backlog}"]
    lengths: list[int] = []
    done = threading.Event()

    def watch() -> None:
        watcher = redis_server.client()
        while not done.is_set():
            lengths.append(int(watcher.xlen(keys.STREAM)))
            time.sleep(0.01)
    watching = threading.Thread(target=watch)
    watching.start()
    try:
        crawl = Process(command, tmp_path / "crawl.log")
        processes.append(crawl)
        wait_for(lambda: "pausing" in crawl.output(), 120, "the worker to pause", crawl)
        time.sleep(3)  # paused: the stream does not grow however long the archiver is away
        paused_at = client.xlen(keys.STREAM)
        assert crawl.proc.poll() is None, crawl.output()[-3000:]
        processes.append(archiver(db, redis_server.url, tmp_path / "archiver.log", "--batch", "2"))
        assert crawl.proc.wait(timeout=180) == 0, crawl.output()[-3000:]
        wait_for(lambda: drained(client, db), 120, "the archiver", *processes[1:])
    finally:
        done.set()
        watching.join()
    # never past the limit, however many items were in progress together (only the run's start and finish
    # messages are not held back)
    assert max(lengths) <= backlog + 2, max(lengths)
    assert paused_at == backlog
    crawls = rows(db, "SELECT * FROM crawls")
    assert [(c["status"], c["exit_code"]) for c in crawls] == [("ok", 0)], crawls
    expected = rows(reference, "SELECT items_new FROM crawls ORDER BY id")[0]["items_new"]
    assert count(db, "SELECT count(*) FROM articles") == expected > backlog * 3
    assert integrity(db) == "ok"
