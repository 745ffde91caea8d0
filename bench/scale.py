"""Scale benchmark (issue 12): crawl a realistic site with ours and a bare Scrapy spider, then time the archive.

    python bench/scale.py --articles N [--per-page 20] [--rounds 1] [--skip SECTION,...] [--json]

1. **crawl** — serves ``newscrawl.demo.realistic.realistic_site(N)`` (41-50 KB article pages, one in five
   Latin) from a separate server process (bench/crawl.py's: pages rendered once by bench/static_server.py, or
   rendered per request with ``--demo-server``), then crawls it with the bare spider
   (bench/bare_spider.py) and ours (``scrapy crawl siyosat -a max_pages=0``, fresh archive) in turn, with
   bench/crawl.py's settings. While each crawl runs, its process tree (the crawl process and its
   extraction workers) is sampled from /proc every 0.1 s: CPU seconds and RSS per process. Prints, per side:
   pages/s in each 10% slice of the crawl (from the server's request timestamps), CPU ms per page (main
   process, workers, whole tree; the tree's total is exact, from wait4), peak RSS of each process and of the
   tree, and the tree's peak RSS up to the moment 10% of the articles were served against the whole crawl.
2. **size** — bytes per article by table (SQLite's dbstat; indexes and FTS shadow tables counted with their
   table) and the file.
3. **commands** — on the crawled archive: `newscrawl --help` (start-up), `newscrawl search` for a frequent
   word (whole command, and search() in-process), `newscrawl stats`, JSONL export in-process against a bare
   ``SELECT *`` to JSON (rows/s and ratio) plus the whole `newscrawl export` command.
4. **reparse** — `newscrawl reparse` on two copies of the archive: ``--processes 1`` and ``--processes
   <cpus>``; pages/s and the ratio.
5. **datasette** — starts `newscrawl serve` on a free port and times each main page: the articles table, a
   frequent-word search on it, and every canned query of the bundled metadata (its parameters set to the word).

Wall-clock figures are medians of 3 runs unless said; on a shared machine compare ratios within one run.
Exits 1 when a crawl did not fetch the whole site or our archive does not hold exactly N articles.
Reads nothing outside the repository (not /work/shared).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import crawl as crawl_bench  # noqa: E402 - bench/crawl.py: the server process and the crawl commands

REPO = crawl_bench.REPO
SECTIONS = ("crawl", "size", "commands", "reparse", "datasette")
SAMPLE_S = 0.1
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


# --- process tree sampling (/proc) -------------------------------------------------------------------------------

def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds, RSS bytes) of a live process, from /proc/PID/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) ": state is fields[0]
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS, int(fields[21]) * PAGE_BYTES


def _children(pid: int) -> list[int] | None:
    """Child pids of a process from /proc/PID/task/*/children (each thread lists the children it started);
    None when the kernel does not provide those files."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            found += [int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except FileNotFoundError:
            if not Path(f"/proc/{pid}/task/{task}").exists():
                continue  # the thread ended meanwhile
            return None
        except OSError:
            continue
    return found


def _tree(root: int) -> dict[int, tuple[float, int]]:
    """{pid: (CPU s, RSS bytes)} of root and every descendant alive now."""
    members, frontier = {root}, [root]
    while frontier:
        children = _children(frontier.pop())
        if children is None:
            return _tree_by_scan(root)
        for child in children:
            if child not in members:
                members.add(child)
                frontier.append(child)
    usage = {pid: _stat(pid) for pid in members}
    return {pid: stat[1:] for pid, stat in usage.items() if stat is not None}


def _tree_by_scan(root: int) -> dict[int, tuple[float, int]]:
    """_tree() the slow way, reading every process's parent from /proc/*/stat."""
    parents: dict[int, int] = {}
    usage: dict[int, tuple[float, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                parents[int(entry)] = stat[0]
                usage[int(entry)] = stat[1:]
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in members:
                members.add(pid)
                frontier.append(pid)
    return {pid: usage[pid] for pid in members if pid in usage}


@dataclass
class Watched:
    """What sampling saw of one process tree."""

    wall_s: float = 0.0
    total_cpu_s: float = 0.0
    """The whole tree's CPU from wait4 (exact: every worker was reaped by its parent)."""
    cpu_s: dict[int, float] = field(default_factory=dict)
    peak_rss: dict[int, int] = field(default_factory=dict)
    tree_rss: list[tuple[float, int]] = field(default_factory=list)
    """(monotonic time, sum of RSS over the tree) per sample."""
    root: int = 0


def run_watched(cmd: list[str], cwd: Path, log: Path) -> Watched:
    """Run a command to completion, sampling its process tree; fails loudly on a non-zero exit or logged errors."""
    watched = Watched()
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
    watched.root = proc.pid
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        now = time.monotonic()
        tree = _tree(proc.pid)
        for member, (cpu, rss) in tree.items():
            watched.cpu_s[member] = max(cpu, watched.cpu_s.get(member, 0.0))
            watched.peak_rss[member] = max(rss, watched.peak_rss.get(member, 0))
        watched.tree_rss.append((now, sum(rss for _, rss in tree.values())))
        time.sleep(SAMPLE_S)
    proc.returncode = os.waitstatus_to_exitcode(status)
    watched.wall_s = time.perf_counter() - started
    watched.total_cpu_s = rusage.ru_utime + rusage.ru_stime
    text = log.read_text(errors="replace")
    if proc.returncode != 0 or "Traceback" in text or " ERROR: " in text:
        sys.stderr.write(text[-4000:])
        raise SystemExit(f"{' '.join(cmd[:6])} ... exited {proc.returncode} or logged errors")
    return watched


# --- the crawl section -------------------------------------------------------------------------------------------

def slices(times: list[float], parts: int = 10) -> list[float]:
    """Pages/s in each of `parts` equal shares of the requests, in request order."""
    if len(times) < parts + 1:
        return []
    bounds = [round(i * (len(times) - 1) / parts) for i in range(parts + 1)]
    rates = []
    for a, b in itertools.pairwise(bounds):
        span = times[b] - times[a]
        rates.append(round((b - a) / span, 1) if span > 0 else 0.0)
    return rates


def crawl_side(side: str, server: crawl_bench.ServerProcess, workdir: Path, db: Path) -> dict[str, Any]:
    server.ask("reset")
    if side == "bare":
        cmd = [sys.executable, "-m", "scrapy", "runspider", str(BENCH / "bare_spider.py"),
               "-a", f"start_url={server.url}", *crawl_bench.settings_args()]
        watched = run_watched(cmd, workdir, workdir / "bare.log")
    else:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-a", f"start_url={server.url}",
               "-a", "max_pages=0", *crawl_bench.settings_args({"NEWSCRAWL_DB": str(db), **crawl_bench.OURS_SETTINGS})]
        watched = run_watched(cmd, REPO, workdir / "ours.log")
    stats = server.ask("stats")
    assert server.proc.stdin is not None and server.proc.stdout is not None
    server.proc.stdin.write("times\n")
    server.proc.stdin.flush()
    times: list[list[Any]] = json.loads(server.proc.stdout.readline())
    requests = [t for t, _ in times]
    articles = [t for t, is_article in times if is_article]
    pages = len(requests)
    span = requests[-1] - requests[0] if pages > 1 else 0.0
    main_cpu = watched.cpu_s.get(watched.root, 0.0)
    tenth = articles[max(0, len(articles) // 10 - 1)] if articles else 0.0
    early = [rss for t, rss in watched.tree_rss if t <= tenth]
    return {
        "pages": pages, "status": {int(k): v for k, v in stats["status"].items()},
        "articles_served": len(articles), "wall_s": round(watched.wall_s, 2), "span_s": round(span, 2),
        "pages_per_s": round(pages / watched.wall_s, 1),
        "span_pages_per_s": round(pages / span, 1) if span else None,
        "slices_pages_per_s": slices(requests),
        "cpu_ms_per_page": {"main": round(1000 * main_cpu / pages, 2),
                            "workers": round(1000 * max(0.0, watched.total_cpu_s - main_cpu) / pages, 2),
                            "tree": round(1000 * watched.total_cpu_s / pages, 2)},
        "processes": len(watched.cpu_s),
        "peak_rss_mb": {"main": round(watched.peak_rss.get(watched.root, 0) / 1e6, 1),
                        "each_worker": sorted((round(v / 1e6, 1) for pid, v in watched.peak_rss.items()
                                               if pid != watched.root), reverse=True),
                        "tree": round(max((rss for _, rss in watched.tree_rss), default=0) / 1e6, 1),
                        "tree_at_10pct_articles": round(max(early, default=0) / 1e6, 1)},
    }


def crawl_section(articles: int, per_page: int, rounds: int, workdir: Path, log: Callable[[str], None]
                  ) -> tuple[dict[str, Any], Path]:
    server = crawl_bench.ServerProcess(articles, per_page, realistic=True)
    results: dict[str, list[dict[str, Any]]] = {"bare": [], "ours": []}
    db = workdir / "news.db"
    try:
        for number in range(1, rounds + 1):
            for side in ("bare", "ours"):
                target = db if number == rounds else workdir / f"round{number}.db"
                result = crawl_side(side, server, workdir, target)
                results[side].append(result)
                log(f"  crawl round {number} {side}: {result['pages']} pages in {result['wall_s']} s")
    finally:
        server.close()
    bare, ours = (crawl_bench.median_round(results[s]) for s in ("bare", "ours"))
    report = {"bare": bare, "ours": ours, "ratio_wall": round(ours["pages_per_s"] / bare["pages_per_s"], 3),
              "ratio_span": (round(ours["span_pages_per_s"] / bare["span_pages_per_s"], 3)
                             if ours["span_pages_per_s"] and bare["span_pages_per_s"] else None),
              "all_rounds": results}
    return report, db


# --- archive size ------------------------------------------------------------------------------------------------

def size_section(db: Path) -> dict[str, Any]:
    """Bytes per article by table: each table with its indexes; an FTS table with its shadow tables."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        articles = con.execute("SELECT count(*) FROM articles").fetchone()[0] or 1
        owners = dict(con.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        virtual = [name for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")]
        by_table: Counter[str] = Counter()
        for name, size in con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            owner = owners.get(name, name)
            for fts in virtual:
                if owner.startswith(fts + "_"):
                    owner = fts
            by_table[owner] += size
    file_bytes = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return {"articles": articles, "file_bytes": file_bytes, "bytes_per_article": round(file_bytes / articles),
            "by_table": {name: {"bytes": size, "per_article": round(size / articles),
                                "share": round(size / max(1, sum(by_table.values())), 3)}
                         for name, size in by_table.most_common()}}


# --- commands on the archive -------------------------------------------------------------------------------------

@dataclass
class Timed:
    wall_s: float
    cpu_s: float
    """User + system CPU of the command and every process it waited for (wait4)."""


def cli_timed(*args: str) -> Timed:
    """One `newscrawl` command (output discarded); a failure stops the benchmark."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "newscrawl.cli", *args], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, rusage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            err.seek(0)
            sys.stderr.write(err.read().decode(errors="replace")[-3000:])
            raise SystemExit(f"newscrawl {' '.join(args[:3])} exited {proc.returncode}")
    return Timed(elapsed, rusage.ru_utime + rusage.ru_stime)


def cli(*args: str) -> float:
    return cli_timed(*args).wall_s


def cli_median(runs: int, *args: str) -> dict[str, float]:
    """Median wall and CPU seconds of a command run `runs` times."""
    times = [cli_timed(*args) for _ in range(runs)]
    return {"wall_s": round(statistics.median(t.wall_s for t in times), 3),
            "cpu_s": round(statistics.median(t.cpu_s for t in times), 3)}


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def frequent_word(db: Path) -> str:
    """A word in many articles: the commonest long word of the first bodies (the site reuses its stories)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        table = "articles_full" if con.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'articles_full'").fetchone() else "articles"
        counts: Counter[str] = Counter()
        for (body,) in con.execute(f"SELECT body FROM {table} WHERE script = 'cyrl' LIMIT 200"):
            counts.update(set(re.findall(r"\w{6,}", body or "")))
    return counts.most_common(1)[0][0] if counts else "Сенат"


def article_source(con: sqlite3.Connection) -> str:
    """The table or view with every article column (articles_full once bodies live in their own table)."""
    found = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles_full'").fetchone()
    return "articles_full" if found else "articles"


def commands_section(db: Path, word: str, workdir: Path) -> dict[str, Any]:
    from newscrawl.archive import Archive
    from newscrawl.export import export_articles
    from newscrawl.search import search
    from newscrawl.translit import fold

    report: dict[str, Any] = {"word": word}
    report["startup_help"] = cli_median(3, "--help")
    report["search_command"] = cli_median(3, "search", word, "--db", str(db))
    def timed_open() -> float:
        """What every read-only command pays before its query: open_archive's quick_check (capped in time)."""
        from newscrawl.cli import open_archive

        started = time.perf_counter()
        open_archive(str(db)).close()
        return time.perf_counter() - started
    report["open_archive_ms"] = round(1000 * median_of(3, timed_open), 1)
    with Archive(db, readonly=True) as archive:
        def timed_search() -> float:
            started = time.perf_counter()
            search(archive.db, word, limit=20)
            return time.perf_counter() - started
        timed_search()
        report["search_in_process_ms"] = round(1000 * median_of(3, timed_search), 1)
        match = '"' + fold(word).replace('"', "") + '"*'
        conn = archive.db.conn

        def bare_match() -> float:
            started = time.perf_counter()
            conn.execute("SELECT rowid FROM articles_search WHERE articles_search MATCH ? LIMIT 20",
                         [match]).fetchall()
            return time.perf_counter() - started
        report["bare_match_ms"] = round(1000 * median_of(3, bare_match), 2)
        report["matches"] = conn.execute("SELECT count(*) FROM articles_search WHERE articles_search MATCH ?",
                                         [match]).fetchone()[0]

        def ours_export() -> float:
            started = time.perf_counter()
            with open(workdir / "export.jsonl", "w", encoding="utf-8") as out:
                export_articles(archive, out, "jsonl")
            return time.perf_counter() - started

        source = article_source(conn)

        def bare_export() -> float:
            started = time.perf_counter()
            cursor = conn.execute(f"SELECT * FROM {source}")
            names = [d[0] for d in cursor.description]
            with open(workdir / "bare.jsonl", "w", encoding="utf-8") as out:
                for row in cursor:
                    out.write(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) + "\n")
            return time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        ours_s, bare_s = median_of(3, ours_export), median_of(3, bare_export)
    report["stats_command"] = cli_median(3, "stats", "--db", str(db))
    report["export_command"] = cli_median(1, "export", "--format", "jsonl", "--db", str(db),
                                          "-o", str(workdir / "cli.jsonl"))
    report["export_rows_per_s"] = round(rows / ours_s)
    report["bare_select_json_rows_per_s"] = round(rows / bare_s)
    report["export_ratio"] = round(bare_s / ours_s, 3)
    return report


def reparse_section(db: Path, workdir: Path) -> dict[str, Any]:
    """`newscrawl reparse` with 1 process and with one worker per CPU, each on a fresh copy of the archive.

    Besides the measured wall ratio (which a busy machine drags down), the CPU split gives the ratio an idle
    machine would reach: one process's CPU per page over the parallel run's critical path, which is the larger of
    the writer's own CPU per page and the whole tree's CPU per page spread over every core."""
    cpus = os.cpu_count() or 1
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        pages = con.execute("SELECT count(DISTINCT final_url) FROM pages WHERE status < 400").fetchone()[0]
    result: dict[str, Any] = {"pages": pages, "cpus": cpus}
    for processes in (1, cpus):
        copy = workdir / f"reparse-{processes}.db"
        shutil.copy(db, copy)
        cmd = [sys.executable, "-m", "newscrawl.cli", "reparse", "--db", str(copy), "--processes", str(processes)]
        watched = run_watched(cmd, REPO, workdir / f"reparse-{processes}.log")
        writer = watched.cpu_s.get(watched.root, 0.0)
        result[f"processes_{processes}"] = {
            "wall_s": round(watched.wall_s, 2), "pages_per_s": round(pages / watched.wall_s, 1),
            "cpu_ms_per_page": {"writer": round(1000 * writer / max(1, pages), 2),
                                "workers": round(1000 * max(0.0, watched.total_cpu_s - writer) / max(1, pages), 2),
                                "tree": round(1000 * watched.total_cpu_s / max(1, pages), 2)},
            "peak_rss_mb": round(max((rss for _, rss in watched.tree_rss), default=0) / 1e6, 1)}
        copy.unlink()
    one, many = result["processes_1"], result[f"processes_{cpus}"]
    result["ratio"] = round(many["pages_per_s"] / one["pages_per_s"], 3)
    critical = max(many["cpu_ms_per_page"]["writer"], many["cpu_ms_per_page"]["tree"] / cpus)
    result["ratio_idle_machine"] = round(one["cpu_ms_per_page"]["tree"] / critical, 3) if critical else None
    return result


# --- Datasette ---------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch_s(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
    return time.perf_counter() - started


def datasette_section(db: Path, word: str) -> dict[str, Any]:
    import yaml

    metadata = yaml.safe_load((REPO / "newscrawl" / "datasette" / "metadata.yml").read_text(encoding="utf-8"))
    queries: dict[str, Any] = next(iter(metadata["databases"].values())).get("queries", {})
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "newscrawl.cli", "serve", "--db", str(db), "--port", str(port)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/{db.stem}"
    pages = {"articles table": f"{base}/articles",
             f"articles search ({word})": f"{base}/articles?" + urllib.parse.urlencode({"_search": word})}
    for name, query in queries.items():
        params = {p: word for p in re.findall(r"(?<!:):(\w+)", query.get("sql", ""))}
        pages[f"query {name}"] = f"{base}/{name}" + ("?" + urllib.parse.urlencode(params) if params else "")
    timings: dict[str, float] = {}
    cpu_ms: dict[str, float] = {}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch_s(f"http://127.0.0.1:{port}/-/versions.json")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    problem = proc.stderr.read() if proc.stderr else ""
                    raise SystemExit(f"newscrawl serve did not start: {problem}") from None
                time.sleep(0.2)
        for label, url in pages.items():
            fetch_s(url)  # warm: Datasette's first request of a page type pays for its imports and caches
            before = _stat(proc.pid)
            timings[label] = round(1000 * median_of(3, functools.partial(fetch_s, url)), 1)
            after = _stat(proc.pid)
            if before and after:
                cpu_ms[label] = round(1000 * (after[1] - before[1]) / 3, 1)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return {"ms": timings, "server_cpu_ms": cpu_ms, "slowest_ms": max(timings.values())}


# --- report ------------------------------------------------------------------------------------------------------

def check(report: dict[str, Any]) -> list[str]:
    failures = []
    crawl = report.get("crawl")
    if crawl:
        expected = report["articles"] + -(-report["articles"] // report["per_page"])
        for side in ("bare", "ours"):
            for number, result in enumerate(crawl["all_rounds"][side], 1):
                if result["status"].get(200, 0) < expected:
                    failures.append(f"{side} round {number} fetched {result['status'].get(200, 0)} pages with 200, "
                                    f"expected at least {expected}")
    size = report.get("size")
    if size and size["articles"] != report["articles"]:
        failures.append(f"our archive holds {size['articles']} articles, expected {report['articles']}")
    return failures


def print_report(report: dict[str, Any]) -> None:
    print(f"== realistic site: {report['articles']} articles, {report['per_page']} per listing page "
          f"({report['cpus']} CPUs)")
    crawl = report.get("crawl")
    if crawl:
        print("\n== crawl (median round per side)")
        print(f"{'':6}{'pages':>7}{'wall s':>8}{'pages/s':>9}{'span p/s':>10}{'CPU ms/page main':>18}"
              f"{'workers':>9}{'tree':>7}{'peak RSS MB main':>18}{'tree':>7}{'@10%':>7}")
        for side in ("bare", "ours"):
            r = crawl[side]
            cpu, rss = r["cpu_ms_per_page"], r["peak_rss_mb"]
            print(f"{side:6}{r['pages']:>7}{r['wall_s']:>8.2f}{r['pages_per_s']:>9.1f}"
                  f"{r['span_pages_per_s'] or 0:>10.1f}"
                  f"{cpu['main']:>18.2f}{cpu['workers']:>9.2f}{cpu['tree']:>7.2f}{rss['main']:>18.1f}"
                  f"{rss['tree']:>7.1f}{rss['tree_at_10pct_articles']:>7.1f}")
        print(f"ratio ours/bare: {crawl['ratio_wall']:.3f} (wall), {crawl['ratio_span'] or 0:.3f} (span)")
        print("pages/s per 10% slice of the crawl:")
        for side in ("bare", "ours"):
            print(f"  {side:5} " + " ".join(f"{v:>6.0f}" for v in crawl[side]["slices_pages_per_s"]))
        print("peak RSS per process (MB): " + "; ".join(
            f"{side} main {crawl[side]['peak_rss_mb']['main']}, workers {crawl[side]['peak_rss_mb']['each_worker']}"
            for side in ("bare", "ours")))
        rss = crawl["ours"]["peak_rss_mb"]
        print(f"ours: tree peak RSS at 10% of the articles {rss['tree_at_10pct_articles']} MB, "
              f"at 100% {rss['tree']} MB")
    size = report.get("size")
    if size:
        print(f"\n== archive size: {size['file_bytes'] / 1e6:.1f} MB, {size['bytes_per_article']} bytes per article")
        for name, row in size["by_table"].items():
            print(f"  {name:28}{row['bytes'] / 1e6:>9.2f} MB{row['per_article']:>9} B/article{row['share']:>7.1%}")
    commands = report.get("commands")
    if commands:
        print(f"\n== commands (frequent word {commands['word']!r}, {commands['matches']} matches)")
        print(f"  {'':36}{'wall s':>8}{'CPU s':>8}")
        for label, key in (("newscrawl --help (start-up)", "startup_help"), ("newscrawl search", "search_command"),
                           ("newscrawl stats", "stats_command"), ("newscrawl export jsonl", "export_command")):
            print(f"  {label:36}{commands[key]['wall_s']:>8.3f}{commands[key]['cpu_s']:>8.3f}")
        print(f"  open_archive() (quick_check)       {commands['open_archive_ms']:>8.1f} ms")
        print(f"  search() in-process                {commands['search_in_process_ms']:>8.1f} ms")
        print(f"  bare FTS MATCH, 20 rowids          {commands['bare_match_ms']:>8.2f} ms")
        print(f"  export jsonl in-process            {commands['export_rows_per_s']:>8} rows/s")
        print(f"  bare SELECT * to JSON              {commands['bare_select_json_rows_per_s']:>8} rows/s "
              f"(export ratio {commands['export_ratio']:.3f})")
    reparse = report.get("reparse")
    if reparse:
        cpus = reparse["cpus"]
        print(f"\n== reparse ({reparse['pages']} pages)")
        print(f"  {'':16}{'wall s':>8}{'pages/s':>9}{'CPU ms/page writer':>20}{'workers':>9}{'tree':>7}{'RSS MB':>8}")
        for processes in sorted({1, cpus}):
            r = reparse[f"processes_{processes}"]
            cpu = r["cpu_ms_per_page"]
            print(f"  --processes {processes:<4}{r['wall_s']:>8.2f}{r['pages_per_s']:>9.1f}{cpu['writer']:>20.2f}"
                  f"{cpu['workers']:>9.2f}{cpu['tree']:>7.2f}{r['peak_rss_mb']:>8.1f}")
        print(f"  ratio {cpus} processes / 1: {reparse['ratio']:.3f} measured; "
              f"{reparse['ratio_idle_machine'] or 0:.3f} on an idle machine (from the CPU split)")
    datasette = report.get("datasette")
    if datasette:
        print("\n== datasette (after one warm-up request: median wall of 3, mean server CPU; 10 ms CPU ticks)")
        for label, ms in datasette["ms"].items():
            print(f"  {label:45}{ms:>9.1f} ms{datasette['server_cpu_ms'].get(label, 0):>9.1f} ms CPU")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="crawl rounds per side (median reported)")
    parser.add_argument("--skip", default="",
                        help=f"comma-separated sections to leave out of {', '.join(SECTIONS[2:])}")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for our crawl only, e.g. NEWSCRAWL_EXTRACT_PROCESSES=0")
    parser.add_argument("--keep", metavar="FILE", help="copy the crawled archive to FILE (for a closer look)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--demo-server", action="store_true",
                        help="serve the site with DemoServer (renders every request) instead of "
                             "bench/static_server.py, as bench/crawl.py --demo-server")
    args = parser.parse_args(argv)
    if args.demo_server:
        crawl_bench.DEMO_SERVER = True
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if skip - set(SECTIONS[2:]):
        parser.error(f"--skip: unknown section(s) {sorted(skip - set(SECTIONS[2:]))}")
    crawl_bench.OURS_SETTINGS.update(item.split("=", 1) for item in args.set)
    # the whole site is one walk of the listing: above 1,000 listing pages (NEWSCRAWL_MAX_LISTING_PAGES, a guard
    # against endless pagination) the crawl would stop short of --articles
    crawl_bench.OURS_SETTINGS.setdefault("NEWSCRAWL_MAX_LISTING_PAGES", str(-(-args.articles // args.per_page) + 1))

    def log(line: str) -> None:
        if not args.json:
            print(line, file=sys.stderr, flush=True)

    report: dict[str, Any] = {"articles": args.articles, "per_page": args.per_page, "cpus": os.cpu_count() or 1,
                              "settings": crawl_bench.BENCH_SETTINGS}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        workdir = Path(tmp)
        report["crawl"], db = crawl_section(args.articles, args.per_page, args.rounds, workdir, log)
        report["size"] = size_section(db)
        if args.keep:
            with sqlite3.connect(db) as source, sqlite3.connect(args.keep) as target:
                source.backup(target)
        word = frequent_word(db)
        if "commands" not in skip:
            log("  commands ...")
            report["commands"] = commands_section(db, word, workdir)
        if "reparse" not in skip:
            log("  reparse ...")
            report["reparse"] = reparse_section(db, workdir)
        if "datasette" not in skip:
            log("  datasette ...")
            report["datasette"] = datasette_section(db, word)
    return crawl_bench.finish(report, check, print_report, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
