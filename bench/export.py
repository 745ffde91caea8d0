"""JSONL export against its peer, a bare `SELECT * FROM articles` serialised to JSON in Python, on the same archive
in the same run; prints rows/s of each (by CPU seconds) and the ratio export/bare (issue 12 asks >= 0.8).

Reads nothing outside the repository. Usage:
    python bench/export.py [--articles 5000] [--rounds 3] [--db FILE] [--cli]
Without --db it writes a temporary archive of --articles realistic articles (5-8 KB bodies in both scripts, six
related links each) through Archive.upsert_article, as a crawl stores them. --cli also times the whole
`newscrawl export --format jsonl -o FILE` command in a subprocess (CPU of the child, start-up included).
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
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newscrawl.archive import Archive
from newscrawl.export import export_articles

TASHKENT = timezone(timedelta(hours=5))
CYRILLIC = ("Ўзбекистон Республикаси Олий Мажлиси Сенатининг навбатдаги ялпи мажлиси бўлиб ўтди, "
            "унда {n} масала кўрилди.")
LATIN = ("Oʻzbekiston Respublikasi Oliy Majlisi Senatining navbatdagi yalpi majlisi boʻlib oʻtdi, "
         "unda {n} masala koʻrildi.")


def build(path: Path, count: int) -> None:
    start = datetime(2025, 1, 1, 9, 0, tzinfo=TASHKENT)
    with Archive(path) as archive:
        for i in range(count):
            latin = i % 5 == 0
            sentence = (LATIN if latin else CYRILLIC).format(n=i)
            body = "\n\n".join(" ".join([sentence] * 4) for _ in range(10 + i % 6))
            published = (start + timedelta(minutes=37 * i)).isoformat()
            archive.upsert_article({
                "url": f"https://example.uz/{'oz' if latin else 'kr'}/news/{i}/", "title": sentence[:60],
                "lead": sentence, "body": body, "published_at": published, "published_precision": "minute",
                "published_text": published[:16], "fetched_at": "2025-11-15T08:00:00+00:00",
                "category": "Siyosat" if latin else "Сиёсат", "author": "Дилшод Раҳимов", "language": "uz",
                "script": "latn" if latin else "cyrl", "tags": ["Сенат", "Oliy Majlis"],
                "extraction": {"title": "profile", "body": "generic"}, "problems": [],
                "related": [{"url": f"https://example.uz/kr/news/{i - p - 1}/", "title": sentence[:50],
                             "category": "Сиёсат", "published_text": "Кеча 19:48", "lead": sentence,
                             "position": p} for p in range(6)],
            }, record_version=False)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare(db: Path, out_path: Path) -> int:
    """The peer: every articles row as a dict, json.dumps'd, one per line."""
    conn = sqlite3.connect(db)
    count = 0
    with out_path.open("w", encoding="utf-8") as out:
        cursor = conn.execute("SELECT * FROM articles")
        columns = [d[0] for d in cursor.description]
        for values in cursor:
            out.write(json.dumps(dict(zip(columns, values, strict=True)), ensure_ascii=False))
            out.write("\n")
            count += 1
    conn.close()
    return count


def ours(db: Path, out_path: Path) -> int:
    with Archive(db, readonly=True) as archive, out_path.open("w", encoding="utf-8", newline="") as out:
        return export_articles(archive, out, "jsonl")


def timed(run: Callable[[Path, Path], int], db: Path, out_path: Path) -> tuple[int, float]:
    before = cpu()
    count = run(db, out_path)
    return count, cpu() - before


def cli_cpu(db: Path, out_path: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "newscrawl.cli", "export", "--format", "jsonl", "--db", str(db),
                    "-o", str(out_path)], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000, help="articles in the generated archive")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each side counts")
    parser.add_argument("--db", type=Path, help="measure this archive instead of a generated one")
    parser.add_argument("--cli", action="store_true", help="also time the whole `newscrawl export` command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = args.db
        if db is None:
            db = Path(folder) / "news.db"
            started = time.monotonic()
            build(db, args.articles)
            print(f"built {args.articles} articles in {time.monotonic() - started:.1f}s "
                  f"({os.path.getsize(db) / 1e6:.1f} MB)")
        out_path = Path(folder) / "out.jsonl"
        best: dict[str, float] = {}
        rows = 0
        for _ in range(args.rounds):
            for name, run in (("bare", bare), ("export", ours)):
                rows, seconds = timed(run, db, out_path)
                best[name] = min(best.get(name, seconds), seconds)
                size = out_path.stat().st_size
                print(f"  {name:6}  {rows} rows  {seconds:.3f} s CPU  {rows / seconds:,.0f} rows/s  "
                      f"{size / 1e6:.1f} MB")
        ratio = best["bare"] / best["export"]
        print(f"bare SELECT * to JSON: {rows / best['bare']:,.0f} rows/s; newscrawl export jsonl (with related "
              f"links): {rows / best['export']:,.0f} rows/s; ratio export/bare = {ratio:.2f} (goal >= 0.8)")
        if args.cli:
            seconds = min(cli_cpu(db, out_path) for _ in range(args.rounds))
            print(f"whole command `newscrawl export --format jsonl`: {seconds:.3f} s CPU, "
                  f"{rows / seconds:,.0f} rows/s including start-up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
