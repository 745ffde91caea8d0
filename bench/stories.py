"""What story keys cost at archive scale: migration 0011's backfill of N articles, and upsert_article with the
story lookup against the same upsert without it (the peer, in the same run), as CPU seconds.

The synthetic archive has N articles, half Cyrillic and half Latin twins with the same titles, published
`--minutes` apart (default 7: about 200 a day, the density of a busy Uzbek news site in two scripts), so the
published_at window of every lookup holds about nine articles. Reads no shared data.
Run: python bench/stories.py [--articles 100000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import sqlite_utils  # noqa: E402

import newscrawl.archive  # noqa: E402
from newscrawl.archive import SCHEMA, Archive  # noqa: E402
from newscrawl.demo.stories import load_stories, to_latin  # noqa: E402

START = datetime.fromisoformat("2024-01-01T08:00:00+05:00")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rows(count: int, minutes: int) -> list[tuple[str, str, str, str]]:
    titles = [s.title for s in load_stories("siyosat_kr")]
    found = []
    for i in range(count // 2):
        title = f"{titles[i % len(titles)]} {i}"
        moment = (START + timedelta(minutes=minutes * i)).isoformat()
        found.append((f"https://x.uz/kr/{i}/", title, "cyrl", moment))
        found.append((f"https://x.uz/oz/{i}/", to_latin(title), "latn", moment))
    return found


def upserts(path: Path, count: int, minutes: int, offset: int) -> float:
    """CPU seconds for `count` new articles (twins of each other in pairs) written into the archive at path."""
    titles = [s.title for s in load_stories("siyosat_kr")]
    with Archive(path) as archive:
        begin = cpu()
        for i in range(count):
            moment = START + timedelta(minutes=minutes * (offset + i // 2))
            title = f"{titles[i % len(titles)]} new {i // 2}"
            archive.upsert_article({"url": f"https://x.uz/{'kr' if i % 2 == 0 else 'oz'}/new-{offset}-{i}/",
                                    "title": title if i % 2 == 0 else to_latin(title), "body": "Матн. " * 300,
                                    "script": "cyrl" if i % 2 == 0 else "latn", "published_at": moment.isoformat(),
                                    "fetched_at": "2025-11-15T09:00:00+00:00"})
        return cpu() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--minutes", type=int, default=7)
    parser.add_argument("--writes", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "news.db"
        db = sqlite_utils.Database(path)
        SCHEMA.apply(db, stop_before="0011_story_key")
        db.conn.executemany("INSERT INTO articles (url, title, script, published_at) VALUES (?, ?, ?, ?)",
                            rows(args.articles, args.minutes))
        db.conn.commit()
        db.close()
        begin = cpu()
        with Archive(path) as archive:
            migrated = cpu() - begin
            linked = archive.db.execute("SELECT count(*) - count(DISTINCT story_key) FROM articles").fetchone()[0]
        print(f"migration 0011 on {args.articles:,} articles: {migrated:.2f} CPU s "
              f"({migrated / args.articles * 1e6:.0f} µs an article); {linked:,} twins linked")
        half = args.articles // 2
        with_keys = upserts(path, args.writes, args.minutes, offset=half)
        with mock.patch.object(newscrawl.archive, "_link_story", lambda *a, **k: None):
            without = upserts(path, args.writes, args.minutes, offset=half + args.writes)
        print(f"{args.writes} upserts into {args.articles:,} articles: {with_keys:.2f} CPU s with the story key, "
              f"{without:.2f} without (ratio {with_keys / without:.2f}; "
              f"{(with_keys - without) / args.writes * 1e3:.2f} ms an article)")


if __name__ == "__main__":
    main()
