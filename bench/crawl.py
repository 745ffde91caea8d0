"""Benchmark the full crawl against a bare Scrapy spider on the same local site, in the same run.

Measures crawl throughput (pages/s) of

* **bare**: ``bench/bare_spider.py`` — follows listing pagination and article links with two CSS
  selectors and does nothing else (no extraction, no items, no pipelines);
* **ours**: ``scrapy crawl siyosat -a max_pages=0`` — extraction of every article, validation and
  archiving into a fresh SQLite file per round (raw pages stored, FTS indexes maintained);

both as ``python -m scrapy`` subprocesses with identical benchmarking settings (no delay, no
autothrottle, 16 concurrent requests, no robots.txt, no HTTP cache), alternated for ``--rounds``
rounds against one ``synthetic_site(--articles)`` (or, with ``--realistic``, the 41-50 KB pages of
``newscrawl.demo.realistic.realistic_site(--articles)``) served in a separate server process (so the server
never shares a GIL with a crawler) by bench/static_server.py: every page rendered once before the first round and
served as stored bytes, so serving takes as little as possible of the CPU the crawlers share (``--demo-server``:
``DemoServer``, which renders each request, for comparison). Pages are counted from the server's
request log; wall time is the crawler process from spawn to exit (startup included); "span" is first
to last request as seen by the server (crawl phase only). The median round per side is reported, with
the ratio ours/bare. The full crawl's archive must hold exactly ``--articles`` articles or the script
exits non-zero. Reads nothing outside the repo (not /work/shared).

    python bench/crawl.py [--articles 2000] [--rounds 2] [--realistic] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BENCH_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "ROBOTSTXT_OBEY": "False",
    "LOG_LEVEL": "WARNING",
    "HTTPCACHE_ENABLED": "False",
    "TELNETCONSOLE_ENABLED": "False",
    "COOKIES_ENABLED": "False",
}


def serve(articles: int, per_page: int, realistic: bool = False, demo_server: bool = False) -> None:
    """Server-process mode: serve the synthetic site and answer `stats` / `times` / `reset` lines on stdin.

    The site is served by bench/static_server.py (pages rendered once, ~0.1-0.2 ms of CPU per request), or with
    `demo_server` by DemoServer itself (rendered per request, a thread per connection: ~0.7 ms per page)."""
    from newscrawl.demo.realistic import realistic_site
    from newscrawl.demo.site import DEMO_START_PATH, synthetic_site

    site = realistic_site(articles, per_page) if realistic else synthetic_site(articles, per_page)
    log, url = _start_demo_server(site) if demo_server else _start_static_server(site)
    print(json.dumps({"url": url + DEMO_START_PATH}), flush=True)
    cpu_at_reset = time.process_time()
    for line in sys.stdin:
        command = line.strip()
        served = list(log)  # (monotonic seconds, path, status) of this round, in order
        if command == "stats":
            statuses = Counter(status for _, _, status in served)
            span = served[-1][0] - served[0][0] if served else 0.0
            print(json.dumps({"requests": len(served), "status": dict(statuses), "span_s": span,
                              "server_cpu_s": time.process_time() - cpu_at_reset}), flush=True)
        elif command == "times":  # [[monotonic seconds, is an article page], ...] of this round, in order
            print(json.dumps([(at, "/news/" in path and status == 200) for at, path, status in served]), flush=True)
        elif command == "reset":
            log.clear()
            cpu_at_reset = time.process_time()
            print(json.dumps({"ok": True}), flush=True)


def _start_static_server(site: Any) -> tuple[list[tuple[float, str, int]], str]:
    """bench/static_server.py's server on its own event-loop thread: its request log and base URL."""
    import asyncio
    import threading

    from static_server import StaticServer

    server = StaticServer(site)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(server.start())
    threading.Thread(target=loop.run_forever, name="static-server", daemon=True).start()
    return server.log, server.url


def _start_demo_server(site: Any) -> tuple[list[tuple[float, str, int]], str]:
    """DemoServer (rendering per request) with the same request log as the static server's."""
    from newscrawl.demo.server import DemoServer, RequestRecord

    log: list[tuple[float, str, int]] = []

    class TimedServer(DemoServer):
        """DemoServer that also remembers when each request of a round arrived (time.monotonic(), which is
        system-wide on Linux, so other processes can line their own samples up with it)."""

        def _log(self, record: RequestRecord) -> None:
            super()._log(record)
            log.append((time.monotonic(), record.path, record.status))

    server = TimedServer(site)
    server.start()
    return log, server.url


DEMO_SERVER = False
"""True (--demo-server): the server process serves with DemoServer instead of bench/static_server.py."""


class ServerProcess:
    """The demo server in its own Python process, driven over stdin/stdout."""

    def __init__(self, articles: int, per_page: int, realistic: bool = False) -> None:
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve",
                                      "--articles", str(articles), "--per-page", str(per_page),
                                      *(["--realistic"] if realistic else []),
                                      *(["--demo-server"] if DEMO_SERVER else [])],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
        self.url = self._read()["url"]

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("demo server process died")
        return json.loads(line)

    def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def settings_args(extra: dict[str, str] | None = None) -> list[str]:
    args: list[str] = []
    for name, value in {**BENCH_SETTINGS, **(extra or {})}.items():
        args += ["-s", f"{name}={value}"]
    return args


LAST_RSS: dict[str, float] = {}
"""Peak RSS in MB of the last run(): "main" (the crawler process) and "all" (it plus its child processes, each
at its own peak), sampled from /proc every 0.1 s."""
LAST_CPU: dict[str, float] = {}
"""CPU seconds of the last run(): "total" (the crawler and every process it waited for, from getrusage), and
per process as sampled from /proc every 0.1 s ("main"; "children": the crawler's child processes, the extraction
workers and the archive writer)."""


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a live process from /proc/PID/stat (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MB, 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def run(cmd: list[str], cwd: Path) -> float:
    """Run a crawler process to completion; its wall time in seconds. Fails loudly on a non-zero exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    main = 0.0
    workers: dict[int, float] = {}
    rss: dict[int, float] = {}
    # output to files, not pipes: nothing reads a pipe while the crawl runs, and a full one would stall it
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True)
        while proc.poll() is None:
            main = max(main, _cpu_seconds(proc.pid))
            rss[proc.pid] = max(rss.get(proc.pid, 0.0), _peak_rss_mb(proc.pid))
            for child in _children(proc.pid):
                workers[child] = max(workers.get(child, 0.0), _cpu_seconds(child))
                rss[child] = max(rss.get(child, 0.0), _peak_rss_mb(child))
            time.sleep(0.1)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    done = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU.clear()
    LAST_CPU.update(total=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), main=main,
                    children=sum(workers.values()))
    LAST_RSS.clear()
    LAST_RSS.update(main=rss.get(proc.pid, 0.0), all=sum(rss.values()))
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"{' '.join(cmd[:5])} ... exited {done.returncode}")
    if "Traceback" in done.stderr or " ERROR: " in done.stderr:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"{' '.join(cmd[:5])} ... logged errors")
    return elapsed


def run_bare(server: ServerProcess, workdir: Path) -> float:
    """The baseline runs outside the repo so the project's settings, pipelines and extensions do not load."""
    cmd = [sys.executable, "-m", "scrapy", "runspider", str(REPO / "bench" / "bare_spider.py"),
           "-a", f"start_url={server.url}", *settings_args()]
    return run(cmd, workdir)


SIDES = ["bare", "ours"]
"""The crawls each round runs (--only ours: a long memory run without the baseline; no ratio then)."""
OURS_SETTINGS: dict[str, str] = {}
"""Extra settings for our crawl only (--set NAME=VALUE), e.g. NEWSCRAWL_EXTRACT_PROCESSES=0."""


def run_ours(server: ServerProcess, db: Path) -> float:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-a", f"start_url={server.url}",
           "-a", "max_pages=0", *settings_args({"NEWSCRAWL_DB": str(db), **OURS_SETTINGS})]
    return run(cmd, REPO)


def archive_summary(db: Path) -> dict[str, Any]:
    """Articles archived, raw pages stored, which extraction layer produced the body, and file size."""
    with sqlite3.connect(db) as conn:
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        pages = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
        layers = Counter(json.loads(row[0] or "{}").get("body", "none")
                         for row in conn.execute("SELECT extraction FROM articles"))
        problems = conn.execute("SELECT count(*) FROM articles WHERE problems NOT IN ('[]', '') "
                                "AND problems IS NOT NULL").fetchone()[0]
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return {"articles": articles, "raw_pages": pages, "body_layers": dict(layers),
            "articles_with_problems": problems, "db_bytes": size}


def round_result(wall: float, stats: dict[str, Any]) -> dict[str, Any]:
    pages = stats["requests"]
    stats["status"] = {int(code): count for code, count in stats["status"].items()}
    cpu = {name: round(seconds / pages * 1000, 2) if pages else None for name, seconds in LAST_CPU.items()}
    cpu["server"] = round(stats["server_cpu_s"] / pages * 1000, 2) if pages else None
    return {"wall_s": round(wall, 3), "span_s": round(stats["span_s"], 3), "pages": pages,
            "status": stats["status"], "cpu_ms_per_page": cpu,
            "peak_rss_mb": {name: round(mb, 1) for name, mb in LAST_RSS.items()}, "pages_per_s": round(pages / wall, 1),
            "span_pages_per_s": round(pages / stats["span_s"], 1) if stats["span_s"] else None}


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median wall time (the lower middle one for an even count)."""
    ordered = sorted(rounds, key=lambda r: r["wall_s"])
    return ordered[(len(ordered) - 1) // 2]


def bench(articles: int, rounds: int, per_page: int, log: bool, realistic: bool = False) -> dict[str, Any]:
    expected_pages = articles + -(-articles // per_page)
    results: dict[str, list[dict[str, Any]]] = {"bare": [], "ours": []}
    summary: dict[str, Any] = {}
    server = ServerProcess(articles, per_page, realistic)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
            workdir = Path(tmp)
            for number in range(1, rounds + 1):
                for side in SIDES:
                    server.ask("reset")
                    db = workdir / f"round{number}.db"
                    wall = run_bare(server, workdir) if side == "bare" else run_ours(server, db)
                    result = round_result(wall, server.ask("stats"))
                    if side == "ours":
                        result["archive"] = archive_summary(db)
                        summary = result["archive"]
                    results[side].append(result)
                    if log:
                        print(f"  round {number} {side:4}: {result['pages']} pages in {wall:.2f}s "
                              f"({result['pages_per_s']} pages/s, span {result['span_s']}s), CPU ms per page "
                              f"{result['cpu_ms_per_page']}, peak RSS MB {result['peak_rss_mb']}", file=sys.stderr)
    finally:
        server.close()
    bare = median_round(results["bare"]) if results["bare"] else None
    ours = median_round(results["ours"]) if results["ours"] else None
    both = bare is not None and ours is not None
    report = {
        "site": "realistic" if realistic else "synthetic",
        "server": "DemoServer (rendered per request)" if DEMO_SERVER else "bench/static_server.py (pre-rendered)",
        "articles": articles, "per_page": per_page, "rounds": rounds, "expected_min_pages": expected_pages,
        "settings": BENCH_SETTINGS, "bare": bare, "ours": ours,
        "ratio_wall": round(ours["pages_per_s"] / bare["pages_per_s"], 3) if both else None,  # type: ignore[index]
        "ratio_span": (round(ours["span_pages_per_s"] / bare["span_pages_per_s"], 3)  # type: ignore[index]
                       if both and ours["span_pages_per_s"] and bare["span_pages_per_s"] else None),  # type: ignore[index]
        "archive": summary, "all_rounds": results,
    }
    return report


def check(report: dict[str, Any]) -> list[str]:
    """What is wrong with a run: every crawl must fetch the whole site and ours must archive every article."""
    failures = []
    for side in ("bare", "ours"):
        for number, result in enumerate(report["all_rounds"][side], 1):
            if result["status"].get(200, 0) < report["expected_min_pages"]:
                failures.append(f"{side} round {number} fetched {result['status'].get(200, 0)} pages with 200, "
                                f"expected at least {report['expected_min_pages']}")
    for number, result in enumerate(report["all_rounds"]["ours"], 1):
        if result["archive"]["articles"] != report["articles"]:
            failures.append(f"ours round {number} archived {result['archive']['articles']} articles, "
                            f"expected {report['articles']}")
    return failures


def print_report(report: dict[str, Any]) -> None:
    bare, ours, archive = report["bare"], report["ours"], report["archive"]
    print(f"{report['site']} site: {report['articles']} articles, {report['per_page']} per listing page; "
          f"median of {report['rounds']} round(s) per side; served by {report['server']}")
    print(f"{'':6}{'pages':>7}{'wall s':>9}{'pages/s':>9}{'span s':>9}{'span p/s':>10}"
          f"   CPU ms/page: total (crawl process + its children: extraction workers, writer); the site's server")
    for name, r in (("bare", bare), ("ours", ours)):
        if r is None:
            continue
        cpu = r["cpu_ms_per_page"]
        print(f"{name:6}{r['pages']:>7}{r['wall_s']:>9.2f}{r['pages_per_s']:>9.1f}{r['span_s']:>9.2f}"
              f"{r['span_pages_per_s'] or 0:>10.1f}   {cpu['total']} ({cpu['main']} + {cpu['children']}); "
              f"server {cpu['server']}, "
              f"peak RSS {r['peak_rss_mb']['all']} MB (crawl process {r['peak_rss_mb']['main']} MB)")
    if report["ratio_wall"] is not None:
        print(f"ratio ours/bare: {report['ratio_wall']:.3f} (wall), {report['ratio_span'] or 0:.3f} (span)")
    if not archive:
        return
    print(f"archived: {archive['articles']} articles, {archive['raw_pages']} raw pages, "
          f"body layers {archive['body_layers']}, {archive['articles_with_problems']} with problems, "
          f"DB {archive['db_bytes'] / 1e6:.1f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--realistic", action="store_true",
                        help="crawl the realistic site (41-50 KB pages, newscrawl.demo.realistic) instead")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for our crawl only, e.g. NEWSCRAWL_EXTRACT_PROCESSES=0")
    parser.add_argument("--only", choices=SIDES, help="run one side only (e.g. peak RSS of a long crawl); no ratio")
    parser.add_argument("--demo-server", action="store_true",
                        help="serve the site with DemoServer (renders every request; ~0.7 ms of CPU per page on "
                             "the crawler's cores) instead of bench/static_server.py")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.demo_server:
        global DEMO_SERVER
        DEMO_SERVER = True
    OURS_SETTINGS.update(item.split("=", 1) for item in args.set)
    if args.only:
        SIDES[:] = [args.only]
    if args.serve:
        serve(args.articles, args.per_page, args.realistic, args.demo_server)
        return 0
    report = bench(args.articles, args.rounds, args.per_page, log=not args.json, realistic=args.realistic)
    return finish(report, check, print_report, as_json=args.json)


def finish(report: dict[str, Any], check: Callable[[dict[str, Any]], list[str]],
           print_report: Callable[[dict[str, Any]], None], *, as_json: bool) -> int:
    """Print a benchmark's report (as JSON or as text) and its failures; the exit status (1 when any failed)."""
    failures = check(report)
    report["failures"] = failures
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_report(report)
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
