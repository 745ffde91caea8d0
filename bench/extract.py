"""Benchmark generic body extraction: ours vs trafilatura, on both development sets, in one run.

This is one of the scripts that reads ``../shared`` (nothing in ``newscrawl/`` or ``tests/`` does):

* ``../shared/benchmarks/article-extraction``: 88 pages, ``html/<key>.html.gz`` + ``ground-truth.json``,
  scored with 4-token shingles (per-page precision/recall averaged, F1 their harmonic mean);
* ``../shared/benchmarks/snippet-eval``: 490 pages, ``html/NNN.html.gz`` + ``annotations.json``, scored with
  that corpus's snippet metric (a ``with`` segment found is a TP, missing a FN; a ``without`` segment found
  is a FP; counts summed over pages).

Every set is split into two stable halves by a hash of the page key (``A`` = even first byte of SHA-1,
used for choosing; ``B`` = odd, for confirming). The table prints F1/P/R for each half and the whole set,
and pages/s, for every extractor, all measured in the same run on the same decoded pages.

The ``profile`` set (read from the package, not ``../shared``) times the **profile path**: the bundled demo
site's article pages extracted with the demo site profile (``newscrawl/sites/demo.toml``), body alone and the
full ``extract_article`` a crawl runs, against ``trafilatura.extract`` on the same HTML strings, page by page
in turn, every extractor the same number of rounds after an untimed warm-up.

    python bench/extract.py [--sets zyte,snippet,profile] [--only ours,trafilatura] [--worst 10] [--rounds 10]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newscrawl.pages.body import extract_body  # noqa: E402
from newscrawl.pages.body_score import PageScore, score_page, summarize  # noqa: E402

SHARED = REPO.parent / "shared/benchmarks"
Extractor = Callable[[str, str], str]
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.I)
_SPACE = re.compile(r"\s+")


def decode(raw: bytes) -> str:
    """Page bytes as text: UTF-8 when valid, else the declared charset, else the detected one."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(raw[:4096])
    if declared:
        try:
            return raw.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    return str(best) if best is not None else raw.decode("utf-8", "replace")


def half_of(key: str) -> str:
    return "A" if hashlib.sha1(key.encode()).digest()[0] % 2 == 0 else "B"


@dataclass
class Page:
    key: str
    url: str
    html: str
    truth: object  # the reference body (str) or the annotation dict

    @property
    def half(self) -> str:
        return half_of(self.key)


@dataclass
class Counts:
    """Aggregated result of one extractor on a set of pages."""

    p: float
    r: float

    @property
    def f1(self) -> float:
        return 2 * self.p * self.r / (self.p + self.r) if self.p + self.r else 0.0


@dataclass
class BenchSet:
    name: str
    pages: list[Page]
    score: Callable[[str, object], object]          # per page
    aggregate: Callable[[list[object]], Counts]     # over pages
    page_f1: Callable[[object], float]
    results: dict[str, dict[str, object]] = field(default_factory=dict)
    speeds: dict[str, float] = field(default_factory=dict)


def load_zyte(data: Path) -> list[Page]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    return [Page(key, truth[key]["url"], decode(gzip.open(data / "html" / f"{key}.html.gz").read()),
                 truth[key]["articleBody"]) for key in sorted(truth)]


def load_snippets(data: Path) -> list[Page]:
    notes = json.loads((data / "annotations.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(notes):
        with gzip.open(data / "html" / notes[key]["file"]) as file:
            raw = file.read()
        url = key.split("::", 1)[-1]
        pages.append(Page(key, url if "://" in url else f"https://{url}", decode(raw), notes[key]))
    return pages


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def snippet_score(text: str, note: object) -> tuple[int, int, int]:
    """(TP, FP, FN) of one page under the snippet metric."""
    assert isinstance(note, dict)
    text = _norm(text)
    found = [_norm(s) in text for s in note["with"]] if text else [False] * len(note["with"])
    leaked = sum(_norm(s) in text for s in note["without"]) if text else 0
    return sum(found), leaked, len(found) - sum(found)


def snippet_aggregate(scores: list[object]) -> Counts:
    counts = [cast(tuple[int, int, int], s) for s in scores]
    tp, fp, fn = (sum(c[i] for c in counts) for i in range(3))
    return Counts(tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0)


def snippet_page_f1(s: object) -> float:
    tp, fp, fn = cast(tuple[int, int, int], s)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def zyte_score(text: str, truth: object) -> object:
    return score_page(text, str(truth))


def zyte_aggregate(scores: list[object]) -> Counts:
    s = summarize(cast(PageScore, score) for score in scores)
    return Counts(s.precision, s.recall)


def zyte_page_f1(score: object) -> float:
    return cast(PageScore, score).f1


def ours(html: str, url: str) -> str:
    return "\n\n".join(extract_body(html, url))


def trafilatura_default(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url) or ""


def readability(html: str, url: str) -> str:
    from lxml.html import fromstring
    from readability import Document  # readability-lxml, when installed

    return fromstring(Document(html, url=url).summary()).text_content()


EXTRACTORS: dict[str, Extractor] = {"ours": ours, "trafilatura": trafilatura_default, "readability": readability}


def run_all(extractors: dict[str, Extractor], bench: BenchSet) -> None:
    """Score every extractor on every page, timing each call.

    The extractors take turns page by page (in an order that rotates), so the load of a shared machine
    falls on all of them alike and the pages/s ratios of one run are comparable.
    """
    names = list(extractors)
    for name in names:  # imports and first-call set-up are not per-page costs
        extractors[name](bench.pages[0].html, bench.pages[0].url)
    elapsed = dict.fromkeys(names, 0.0)
    scores: dict[str, dict[str, object]] = {name: {} for name in names}
    for i, page in enumerate(bench.pages):
        for name in names[i % len(names):] + names[: i % len(names)]:
            start = time.perf_counter()
            try:
                text = extractors[name](page.html, page.url)
            except Exception as exc:  # noqa: BLE001 - an extractor that raises scores nothing on that page
                print(f"  {name} raised on {page.key}: {exc!r}", file=sys.stderr)
                text = ""
            elapsed[name] += time.perf_counter() - start
            scores[name][page.key] = bench.score(text, page.truth)
    for name in names:
        bench.results[name] = scores[name]
        bench.speeds[name] = len(bench.pages) / elapsed[name] if elapsed[name] else 0.0


def demo_article_pages() -> tuple[list[tuple[str, str, list[str]]], datetime]:
    """(url, decoded HTML, expected body paragraphs) of every article page of the bundled demo site."""
    from newscrawl.demo.site import DEMO_NOW, demo_site

    base = "http://demo.newscrawl.test"  # a host of the demo profile
    pages, expected = demo_site(DEMO_NOW)
    return [(base + e.path, pages[e.path].body.replace(b"{{BASE}}", base.encode()).decode("utf-8"), e.body)
            for e in expected if e.status == 200], DEMO_NOW


def profile_speed(rounds: int) -> None:
    """The profile path against trafilatura on the demo site's article pages, in one run, page by page in turn.

    * ``profile body``: parse + the profile's body selectors (``_profile_body``), the body layer alone;
    * ``extract_article``: every field (profile, then metadata and generic layers where the profile has no
      value), related cards and dates: what a crawl runs per article page;
    * ``trafilatura``: ``trafilatura.extract(html, url=url)``, default options.

    Before timing, one untimed pass checks that the profile path really is the profile path: the body
    layer of every page is "profile" and the body is the page's expected paragraphs.
    """
    import trafilatura
    from parsel import Selector

    from newscrawl.extract import extract_article
    from newscrawl.pages.article import _profile_body
    from newscrawl.sites import load_profile

    profile = load_profile("demo")
    pages, now = demo_article_pages()

    def body_only(html: str, url: str) -> object:
        return _profile_body(Selector(text=html), profile)

    def full(html: str, url: str) -> dict[str, Any]:
        return extract_article(html, url, now, profile=profile)

    def traf(html: str, url: str) -> object:
        return trafilatura.extract(html, url=url)

    extractors: dict[str, Callable[[str, str], Any]] = {
        "profile body": body_only, "extract_article": full, "trafilatura": traf}
    right = 0
    for url, html, expected in pages:  # warm-up (imports, compiled selectors), untimed; and the checks
        article = full(html, url)
        assert article["extraction"].get("body") == "profile", (url, article["extraction"])
        assert body_only(html, url), url
        traf(html, url)
        right += (article["body"] or "").split("\n\n") == expected
    names = list(extractors)
    elapsed = dict.fromkeys(names, 0.0)
    turn = 0
    for _ in range(rounds):
        for url, html, _expected in pages:
            for name in names[turn % len(names):] + names[: turn % len(names)]:
                start = time.perf_counter()
                extractors[name](html, url)
                elapsed[name] += time.perf_counter() - start
            turn += 1
    calls = rounds * len(pages)
    speed = {name: calls / elapsed[name] for name in names}
    print(f"\nprofile path: demo site, {len(pages)} article pages x {rounds} rounds, demo profile "
          f"(body layer \"profile\" on all; body as expected on {right}/{len(pages)})")
    print(f"{'extractor':<16} {'pages/s':>8} {'ms/page':>8} {'x trafilatura':>14}")
    for name in names:
        print(f"{name:<16} {speed[name]:8.1f} {1000 / speed[name]:8.3f} {speed[name] / speed['trafilatura']:13.2f}x")


def report(bench: BenchSet, worst: int) -> None:
    print(f"\n{bench.name}: {len(bench.pages)} pages (A {sum(p.half == 'A' for p in bench.pages)}, "
          f"B {sum(p.half == 'B' for p in bench.pages)})")
    print(f"{'extractor':<12} {'F1 A':>6} {'F1 B':>6} {'F1':>6} {'P':>6} {'R':>6} {'pages/s':>8}")
    for name, scores in bench.results.items():
        def part(h: str | None, scores: dict[str, object] = scores) -> Counts:
            return bench.aggregate([s for k, s in scores.items() if h is None or half_of(k) == h])

        whole = part(None)
        print(f"{name:<12} {part('A').f1:6.4f} {part('B').f1:6.4f} {whole.f1:6.4f} {whole.p:6.4f} "
              f"{whole.r:6.4f} {bench.speeds[name]:8.1f}")
    if worst and "ours" in bench.results and "trafilatura" in bench.results:
        mine, theirs = bench.results["ours"], bench.results["trafilatura"]
        urls = {p.key: p.url for p in bench.pages}
        behind = [k for k in mine if bench.page_f1(mine[k]) < bench.page_f1(theirs[k])]
        loss = sorted(behind, key=lambda k: bench.page_f1(mine[k]) - bench.page_f1(theirs[k]))[:worst]
        print(f"{len(loss)} pages where ours loses most against trafilatura, of {len(behind)} where it loses "
              f"(page F1 ours / trafilatura):")
        for key in loss:
            print(f"  {half_of(key)} {bench.page_f1(mine[key]):.3f} / {bench.page_f1(theirs[key]):.3f}  "
                  f"{key[:40]:<40} {urls[key][:60]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED, help="folder holding both development sets")
    parser.add_argument("--sets", default="zyte,snippet,profile",
                        help="comma-separated: zyte, snippet, profile (the demo site with its profile)")
    parser.add_argument("--only", default="ours,trafilatura", help="comma-separated extractors "
                        f"({', '.join(EXTRACTORS)})")
    parser.add_argument("--worst", type=int, default=10, help="list the N pages where ours loses most")
    parser.add_argument("--rounds", type=int, default=10, help="timed passes over the demo pages (profile set)")
    args = parser.parse_args(argv)

    benches = []
    profile_path = False
    for name in args.sets.split(","):
        if name == "profile":
            profile_path = True
        elif name == "zyte":
            benches.append(BenchSet("article-extraction (shingle F1)", load_zyte(args.data / "article-extraction"),
                                    zyte_score, zyte_aggregate, zyte_page_f1))
        elif name == "snippet":
            benches.append(BenchSet("snippet-eval (snippet F1)", load_snippets(args.data / "snippet-eval"),
                                    snippet_score, snippet_aggregate, snippet_page_f1))
        else:
            parser.error(f"unknown set {name!r}")
    for bench in benches:
        run_all({name: EXTRACTORS[name] for name in args.only.split(",")}, bench)
        report(bench, args.worst)
    if profile_path:
        profile_speed(args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
