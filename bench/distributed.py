"""Benchmark the distributed crawl: 1, 2 and 3 workers with one archiver, against the same local site.

The site is ``synthetic_site(--articles)`` served by a separate process under three loopback hosts (127.0.0.1,
127.0.0.2, 127.0.0.3: one ``DemoServer`` each, same pages), because one site host is crawled by one worker at a
time (the lease): three hosts give three jobs that up to three workers can run at once. Each round starts a
real ``redis-server`` (from PATH, append-only, its own folder), ``newscrawl archiver`` and N ``newscrawl worker``
processes, enqueues the three jobs (``--mode full``, benchmarking settings) and waits until every crawl is
archived. As the peer in the same run, a single-process ``scrapy crawl`` crawls the same three hosts one after
the other into its own archive.

Printed per round: pages/s (responses the crawls reported, over the wall time from enqueue to the last commit),
archive rows/s (articles over the same time), the archiver's CPU seconds per article (getrusage in the archiver,
from its last log line) and the workers' CPU per article (their crawl processes, getrusage of the children).
The single writer saturates when the workers hand it articles faster than 1 / (its CPU per article): with W
workers each on a core of its own, at W ≈ worker CPU per article / archiver CPU per article. On a 2-core machine
the rounds measure correctness and per-item costs, not speed-up.

``--memory N`` also measures Redis memory per million known URLs: N archived-article entries written to the
state hash as the archiver writes them (every URL form), ``used_memory`` before and after.

Reads nothing outside the repo (not /work/shared).

    python bench/distributed.py [--articles 300] [--workers 1 2 3] [--memory 200000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
BENCH_SETTINGS = {
    "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "ROBOTSTXT_OBEY": "False", "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": "False",
}
CPU_LINE = re.compile(r"newscrawl archiver: .* cpu ([0-9.]+)s")


def serve(articles: int) -> None:
    """Server-process mode: the synthetic site under every host of HOSTS, until stdin closes."""
    from newscrawl.demo.server import DemoServer
    from newscrawl.demo.site import DEMO_START_PATH, synthetic_site

    pages = synthetic_site(articles)
    servers = [DemoServer(pages, host=host).start() for host in HOSTS]
    print(json.dumps([server.url + DEMO_START_PATH for server in servers]), flush=True)
    sys.stdin.read()
    for server in servers:
        server.stop()


def settings_args() -> list[str]:
    return [arg for name, value in BENCH_SETTINGS.items() for arg in ("-s", f"{name}={value}")]


def newscrawl(*args: str) -> list[str]:
    return [sys.executable, "-m", "newscrawl.cli", *args]


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return int(con.execute(sql).fetchone()[0] or 0)
    except sqlite3.OperationalError:
        return 0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def single_round(urls: list[str], workdir: Path) -> dict[str, Any]:
    db = workdir / "single.db"
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings"}
    cpu, start = children_cpu(), time.monotonic()
    for url in urls:
        subprocess.run([sys.executable, "-m", "scrapy", "crawl", "siyosat", "-a", f"start_url={url}", "-a",
                        "max_pages=0", "-s", f"NEWSCRAWL_DB={db}", *settings_args()], cwd=REPO, env=env,
                       check=True, capture_output=True)
    wall = time.monotonic() - start
    articles = count(db, "SELECT count(*) FROM articles")
    return {"workers": "single", "wall_s": wall, "articles": articles,
            "pages": count(db, "SELECT sum(pages_fetched) FROM crawls"), "cpu_s": children_cpu() - cpu}


def distributed_round(urls: list[str], workers: int, workdir: Path) -> dict[str, Any]:
    from redis_server import RedisServer

    from newscrawl.distributed import keys

    db = workdir / f"distributed-{workers}.db"
    with RedisServer(workdir / f"redis-{workers}") as server:
        client = server.client()
        log = open(workdir / f"archiver-{workers}.log", "wb")  # noqa: SIM115 - closed below
        archiver = subprocess.Popen(newscrawl("archiver", "--db", str(db), "--redis", server.url), cwd=REPO,
                                    stdout=log, stderr=subprocess.STDOUT)
        for url in urls:
            subprocess.run(newscrawl("enqueue", "siyosat", "--redis", server.url, "--start-url", url, "--mode",
                                     "full", *settings_args()), cwd=REPO, check=True, capture_output=True)
        cpu_before, start = children_cpu(), time.monotonic()
        procs = [subprocess.Popen(newscrawl("worker", "--redis", server.url, "--idle-exit", "2"), cwd=REPO,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
        deadline = time.monotonic() + 1800
        while count(db, "SELECT count(*) FROM crawls WHERE status != 'running'") < len(urls) or \
                client.xlen(keys.STREAM) or client.llen(keys.JOBS) or client.hlen(keys.RUNNING):
            if time.monotonic() > deadline or archiver.poll() is not None:
                raise SystemExit(f"round with {workers} workers did not finish (see {log.name})")
            time.sleep(0.1)
        wall = time.monotonic() - start
        for proc in procs:
            proc.wait(timeout=120)
        workers_cpu = children_cpu() - cpu_before  # the workers and their crawls, reaped
        archiver.send_signal(signal.SIGTERM)
        archiver.wait(timeout=120)
        log.close()
        client.close()
    found = CPU_LINE.findall((workdir / f"archiver-{workers}.log").read_text(errors="replace"))
    articles = count(db, "SELECT count(*) FROM articles")
    statuses = count(db, "SELECT count(*) FROM crawls WHERE status = 'ok'")
    with sqlite3.connect(db) as con:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    return {"workers": workers, "wall_s": wall, "articles": articles, "crawls_ok": statuses,
            "pages": count(db, "SELECT sum(pages_fetched) FROM crawls"), "worker_cpu_s": workers_cpu,
            "archiver_cpu_s": float(found[-1]) if found else None, "integrity": integrity}


def memory(entries: int, workdir: Path) -> dict[str, Any]:
    """Redis bytes per million known articles, as the archiver writes them (one field per article URL)."""
    from redis_server import RedisServer

    from newscrawl.archive import KnownArticle
    from newscrawl.distributed import keys
    from newscrawl.distributed.state import encode_known

    with RedisServer(workdir / "redis-memory") as server:
        client = server.client()
        before = int(client.info("memory")["used_memory"])
        pipe = client.pipeline(transaction=False)
        fields = 0
        for n in range(entries):
            url = f"https://kun.uz/kr/news/2025/11/{n % 28 + 1:02d}/maqola-sarlavhasi-uchun-namuna-{n}/"
            value = encode_known(KnownArticle(url=url, published_at="2025-11-12T17:40:00+05:00",
                                              etag=f'"{n:x}-5f3a2b1c"', last_modified="Wed, 12 Nov 2025 12:40:00 GMT"))
            pipe.hset(keys.KNOWN, url, value)  # as the archiver stores it: the URL (and aliases, rare)
            fields += 1
            if n % 5000 == 4999:
                pipe.execute()
        pipe.execute()
        used = int(client.info("memory")["used_memory"]) - before
        client.close()
    return {"articles": entries, "hash_fields": fields, "bytes": used,
            "mib_per_million_articles": used / entries * 1e6 / 2**20}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="articles per site host (default 300)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--memory", type=int, default=0, metavar="N", help="also measure Redis memory with N articles")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    if shutil.which("redis-server") is None:
        print("redis-server is not on PATH (apt-get install -y redis-server)", file=sys.stderr)
        return 2
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(args.articles)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    urls = json.loads(server.stdout.readline())
    rounds: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp:
            rounds.append(single_round(urls, Path(tmp)))
            for workers in args.workers:
                rounds.append(distributed_round(urls, workers, Path(tmp)))
            report: dict[str, Any] = {"articles_per_host": args.articles, "hosts": len(urls), "rounds": rounds,
                                      "cpus": os.cpu_count()}
            if args.memory:
                report["memory"] = memory(args.memory, Path(tmp))
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    expected = args.articles * len(urls)
    bad = [r for r in rounds if r["articles"] != expected or r.get("integrity", "ok") != "ok"]
    return 1 if bad else 0


def print_report(report: dict[str, Any]) -> None:
    print(f"{report['hosts']} hosts x {report['articles_per_host']} articles, {report['cpus']} CPUs")
    print(f"{'workers':>8} {'wall s':>7} {'pages/s':>8} {'rows/s':>7} {'archiver ms/article':>20} "
          f"{'worker ms/article':>18} {'articles':>8}")
    def per(seconds: float | None, articles: int) -> str:
        return f"{1000 * seconds / articles:.2f}" if seconds is not None and articles else "-"

    for r in report["rounds"]:
        worker_cpu = r.get("worker_cpu_s", r.get("cpu_s"))
        archiver_ms, worker_ms = per(r.get("archiver_cpu_s"), r["articles"]), per(worker_cpu, r["articles"])
        print(f"{r['workers']!s:>8} {r['wall_s']:7.1f} {r['pages'] / r['wall_s']:8.1f} "
              f"{r['articles'] / r['wall_s']:7.1f} {archiver_ms:>20} {worker_ms:>18} "
              f"{r['articles']:>8}")
    distributed = [r for r in report["rounds"] if r["workers"] != "single" and r.get("archiver_cpu_s")]
    if distributed:
        archiver_ms = sum(1000 * r["archiver_cpu_s"] / r["articles"] for r in distributed) / len(distributed)
        worker_ms = sum(1000 * r["worker_cpu_s"] / r["articles"] for r in distributed) / len(distributed)
        print(f"single writer: {archiver_ms:.2f} ms CPU per article -> saturates at about "
              f"{1000 / archiver_ms:.0f} articles/s; a worker spends {worker_ms:.2f} ms CPU per article, so the "
              f"writer saturates at about {worker_ms / archiver_ms:.1f} workers with a core each "
              "(politeness delays, not CPU, limit real crawls)")
    if "memory" in report:
        m = report["memory"]
        print(f"Redis memory: {m['bytes'] / 2**20:.1f} MiB for {m['articles']} articles ({m['hash_fields']} hash "
              f"fields) -> {m['mib_per_million_articles']:.0f} MiB per million known articles")


if __name__ == "__main__":
    sys.exit(main())
