"""Time every Datasette page of the default setup: ours (`newscrawl serve`) against Datasette's own defaults.

Builds an archive by crawling ``synthetic_site(--articles)`` (served by ``DemoServer`` on 127.0.0.1, the same
realistic pages as bench/crawl.py) with ``scrapy crawl siyosat``, or uses ``--db``. Then, in alternating
rounds, it serves the archive twice with the newscrawl plugin:

* **ours**: ``newscrawl serve`` (facet suggestions off, facets limited to 100 ms);
* **peer**: the same, but with Datasette's default speed settings (``suggest_facets`` on, 200 ms facets), which is
  what the issue measured (2.54 s for the articles table at 100k).

Each page is fetched ``--repeat`` times per round after one warm-up fetch; the median wall time per page and side
is printed, with the server process's CPU seconds per fetch (from /proc, which survive a busy machine) and the
ratio ours/peer. Exits 1 when a page does not answer 200. Reads nothing outside the repo (not /work/shared).

    python bench/datasette_pages.py [--articles 3000] [--db PATH] [--rounds 2] [--repeat 5] [--plain] [--json]

``--plain`` serves "ours" with a plain ``datasette`` (the plugin sets the same settings at startup) instead of
``newscrawl serve``, e.g. for an archive of a newer schema than this checkout's archive module opens.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CRAWL_SETTINGS = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=16",
                  "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=WARNING"]
# Datasette's defaults for the settings newscrawl changes (the peer); the plugin leaves them alone when told to.
PEER_SETTINGS = {"suggest_facets": "on", "facet_time_limit_ms": "200", "sql_time_limit_ms": "1000"}


def build(db: Path, articles: int) -> None:
    from newscrawl.demo.server import DemoServer
    from newscrawl.demo.site import DEMO_START_PATH, synthetic_site

    server = DemoServer(synthetic_site(articles)).start()
    try:
        subprocess.run([sys.executable, "-m", "scrapy", "crawl", "siyosat", "-a", f"start_url={server.url}"
                        f"{DEMO_START_PATH}", "-a", "max_pages=0", "-s", f"NEWSCRAWL_DB={db}", *CRAWL_SETTINGS],
                       cwd=REPO, check=True, capture_output=True, timeout=3600)
    finally:
        server.stop()


def frequent_word(db: Path) -> str:
    """The folded word in the most articles (a temporary fts5vocab table; the archive is not written)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, articles_search, 'row')")
        row = conn.execute("SELECT term FROM temp.vocab WHERE length(term) > 3 ORDER BY doc DESC LIMIT 1").fetchone()
        return str(row[0])
    finally:
        conn.close()


def pages(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        article = conn.execute("SELECT id FROM articles ORDER BY id DESC LIMIT 1").fetchone()[0]
    finally:
        conn.close()
    word = urllib.parse.quote(frequent_word(db))
    name = db.stem
    return ["/", f"/{name}", f"/{name}/articles", f"/{name}/articles?_full=1", f"/{name}/articles?_search={word}",
            f"/{name}/-/search?q={word}", f"/{name}/-/search?q=Mirzi", f"/{name}/articles/{article}",
            f"/{name}/-/chart", f"/{name}/related_links", f"/{name}/pages", f"/{name}/article_versions",
            f"/{name}/crawls", f"/{name}/articles_per_day", f"/{name}/search_any_script?q={word}",
            f"/{name}/mentions_per_week?term={word}", f"/{name}/changed_after_publication",
            f"/{name}/related_graph"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(db: Path, peer: bool, workdir: Path, plain: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    from newscrawl.datasette.screenshots import free_port

    port = free_port()
    if peer:
        metadata = workdir / "peer.json"
        metadata.write_text(json.dumps({"plugins": {"newscrawl": {"speed_settings": False}}}))
        command = [str(Path(sys.executable).with_name("datasette")), "serve", str(db), "--port", str(port),
                   "--metadata", str(metadata)]
        for name, value in PEER_SETTINGS.items():
            command += ["--setting", name, value]
    elif plain:
        command = [str(Path(sys.executable).with_name("datasette")), "serve", str(db), "--port", str(port)]
    else:
        command = [sys.executable, "-m", "newscrawl.cli", "serve", "--db", str(db), "--port", str(port)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/-/settings.json", timeout=5) as response:
                settings = json.load(response)
                assert settings["suggest_facets"] is peer, settings
                return process, base
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("datasette did not start") from None
            time.sleep(0.1)


class PageError(Exception):
    pass


def fetch(url: str) -> float:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
    except urllib.error.HTTPError as error:
        raise PageError(f"HTTP {error.code}") from None
    return time.perf_counter() - started


def measure(db: Path, paths: list[str], peer: bool, repeat: int, workdir: Path,
            plain: bool = False) -> dict[str, tuple[float, float]]:
    """Per page: (median wall seconds, server CPU seconds per fetch)."""
    process, base = serve(db, peer, workdir, plain)
    try:
        out = {}
        for path in paths:
            try:
                fetch(base + path)  # warm-up: SQLite's page cache and Datasette's table counts
            except PageError as error:
                print(f"{path}: {error}", file=sys.stderr)
                out[path] = (math.nan, math.nan)
                continue
            cpu = cpu_seconds(process.pid)
            walls = [fetch(base + path) for _ in range(repeat)]
            out[path] = (statistics.median(walls), (cpu_seconds(process.pid) - cpu) / repeat)
        return out
    finally:
        process.terminate()
        process.wait(timeout=20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--db", type=Path, help="an existing archive instead of a fresh crawl")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plain", action="store_true", help="ours: plain `datasette`, not `newscrawl serve`")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-datasette-") as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "news.db"
            started = time.perf_counter()
            build(db, args.articles)
            print(f"built {db} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        count = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        conn.close()
        paths = pages(db)
        runs: dict[str, list[dict[str, tuple[float, float]]]] = {"ours": [], "peer": []}
        for _ in range(args.rounds):
            for side in ("peer", "ours"):
                runs[side].append(measure(db, paths, side == "peer", args.repeat, Path(tmp), args.plain))
    result = {path: {side: (statistics.median(r[path][0] for r in runs[side]),
                            statistics.median(r[path][1] for r in runs[side])) for side in runs} for path in paths}
    failed = any(math.isnan(v[0]) for sides in result.values() for v in sides.values())
    if args.json:
        print(json.dumps({"articles": count, "pages": result}, indent=1))
        return 1 if failed else 0
    print(f"{count} articles; median of {args.rounds} rounds x {args.repeat} fetches; ms wall (server CPU ms)")
    print(f"{'page':60} {'peer':>16} {'ours':>16} {'ours/peer':>9}")
    for path, sides in result.items():
        (pw, pc), (ow, oc) = sides["peer"], sides["ours"]
        print(f"{path[:60]:60} {pw * 1000:7.1f} ({pc * 1000:5.1f}) {ow * 1000:7.1f} ({oc * 1000:5.1f}) "
              f"{ow / pw:9.2f}")
    slowest = max((s["ours"][0] for s in result.values() if not math.isnan(s["ours"][0])), default=math.nan)
    print(f"slowest page, ours: {slowest * 1000:.1f} ms" + ("; some pages failed (nan)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
