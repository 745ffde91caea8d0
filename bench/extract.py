"""Benchmark article-body extraction: ours vs trafilatura on the same pages in the same run.

Reads the development set under /work/shared (by default ``../shared/benchmarks/article-extraction``
relative to the repo root: ``html/<key>.html.gz`` plus ``ground-truth.json``) and prints F1,
precision, recall and pages/s per extractor. Scoring follows that set's README (4-token shingles,
per-page precision and recall averaged over pages, F1 the harmonic mean of the averages).

    python bench/extract.py [--data DIR] [--half even|odd] [--worst N] [--only ours,trafilatura]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newscrawl.pages.body import extract_body  # noqa: E402
from newscrawl.pages.body_score import PageScore, score_page, summarize  # noqa: E402

Extractor = Callable[[str, str], str]


def decode(raw: bytes) -> str:
    """Page bytes as text: UTF-8 when valid, else the detected encoding."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(raw).best()
        return str(best) if best is not None else raw.decode("utf-8", "replace")


def load(data: Path, half: str | None) -> list[tuple[str, str, str, str]]:
    """(key, url, html, expected body) for every page of the set, or of one stable half of it."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth):
        if half and (hashlib.sha1(key.encode()).digest()[0] % 2 == 0) != (half == "even"):
            continue
        raw = gzip.open(data / "html" / f"{key}.html.gz").read()
        pages.append((key, truth[key]["url"], decode(raw), truth[key]["articleBody"]))
    return pages


def ours(html: str, url: str) -> str:
    return "\n\n".join(extract_body(html, url))


def trafilatura_default(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url) or ""


EXTRACTORS: dict[str, Extractor] = {"ours": ours, "trafilatura": trafilatura_default}


def run(extract: Extractor, pages: list[tuple[str, str, str, str]]) -> tuple[dict[str, PageScore], float]:
    """Per-page scores and pages per second of one extractor."""
    scores = {}
    elapsed = 0.0
    for key, url, html, truth in pages:
        start = time.perf_counter()
        text = extract(html, url)
        elapsed += time.perf_counter() - start
        scores[key] = score_page(text, truth)
    return scores, len(pages) / elapsed if elapsed else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/benchmarks/article-extraction")
    parser.add_argument("--half", choices=("even", "odd"), help="score one stable half of the pages")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages of ours")
    parser.add_argument("--only", default=",".join(EXTRACTORS), help="comma-separated extractors")
    args = parser.parse_args(argv)

    pages = load(args.data, args.half)
    results = {}
    print(f"{len(pages)} pages from {args.data}")
    print(f"{'extractor':<12} {'F1':>7} {'prec':>7} {'recall':>7} {'pages/s':>8}")
    for name in args.only.split(","):
        scores, speed = run(EXTRACTORS[name], pages)
        results[name] = scores
        s = summarize(scores.values())
        print(f"{name:<12} {s.f1:7.4f} {s.precision:7.4f} {s.recall:7.4f} {speed:8.1f}")
    if args.worst and "ours" in results:
        urls = {key: url for key, url, _, _ in pages}
        other = results.get("trafilatura", {})
        print(f"\nworst {args.worst} pages of ours (F1 ours / trafilatura, P, R):")
        for key, s in sorted(results["ours"].items(), key=lambda kv: kv[1].f1)[: args.worst]:
            t = other.get(key)
            tf = f"{t.f1:.3f}" if t else "  -  "
            print(f"  {key[:10]} {s.f1:.3f} / {tf}  P={s.precision:.2f} R={s.recall:.2f}  {urls[key][:70]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
