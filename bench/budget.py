"""CPU budget per article, stage by stage, in one process: what each step of the crawl costs in isolation.

On N article pages of the demo markup (``--realistic``: the 41-50 KB pages of newscrawl.demo.realistic) it times,
with process CPU time, each stage the full crawl runs for an article besides Scrapy's own fetch:

* ``listing``: parsing the listing pages into cards (per article);
* ``ipc``: pickling the fetched page to an extraction worker and the extracted Article back;
* ``extraction``: ``extract_fetched`` (parse, every field, related links);
* ``storage``: ``ArchiveWriter.handle_batch`` in batches of 16 into a fresh archive (row, related links, raw page,
  both search indexes, one transaction per batch), and of it ``zstd``, the raw page's compression alone (with a
  dictionary trained on the first pages, as the archive does).

Scrapy's own cost per page is the bare spider's (``bench/crawl.py`` prints its CPU ms per page). Reads nothing
outside the repo.

    python bench/budget.py [--articles 400] [--realistic]
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newscrawl import codec  # noqa: E402
from newscrawl.demo.realistic import realistic_site  # noqa: E402
from newscrawl.demo.site import synthetic_site  # noqa: E402
from newscrawl.items import Article, FetchedArticle, RawPage  # noqa: E402
from newscrawl.pages.article import ListingHint  # noqa: E402
from newscrawl.pages.listing import parse_listing  # noqa: E402
from newscrawl.processing import ArchiveWriter, extract_fetched  # noqa: E402
from newscrawl.sites import load_profile  # noqa: E402

BASE = "http://127.0.0.1:8765"


def cpu_ms(work: Callable[[], object], count: int) -> float:
    """CPU milliseconds per item of one call of work() over count items."""
    started = time.process_time()
    work()
    return (time.process_time() - started) / count * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--realistic", action="store_true")
    args = parser.parse_args(argv)
    n = args.articles
    site = realistic_site(n, 20) if args.realistic else synthetic_site(n, 20)
    profile = load_profile("demo")
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    paths = [p for p in site if "/news/" in p][:n]
    listings = [p for p in site if "/news/" not in p and site[p].content_type.startswith("text/html")]
    fetched = [FetchedArticle(page=RawPage(url=BASE + p, final_url=BASE + p, status=200, body=site[p].body,
                                           fetched_at=stamp, headers={"Content-Type": "text/html; charset=utf-8"}),
                              hint=ListingHint()) for p in paths]
    budget: dict[str, float] = {}
    budget["listing"] = cpu_ms(lambda: [parse_listing(site[p].body.decode(), BASE + p, profile)
                                        for p in listings], len(paths))
    articles: list[Article] = []

    def extract() -> None:
        articles.extend(a for a in (extract_fetched(item, profile).article for item in fetched) if a)

    budget["ipc"] = cpu_ms(lambda: [pickle.loads(pickle.dumps(item)) for item in fetched], len(paths))
    budget["extraction"] = cpu_ms(extract, len(paths))
    budget["ipc"] += cpu_ms(lambda: [pickle.loads(pickle.dumps(a)) for a in articles], len(paths))
    for article, item in zip(articles, fetched, strict=True):
        article.raw_page = item.page
    with tempfile.TemporaryDirectory(prefix="bench-budget-") as tmp:
        writer = ArchiveWriter(str(Path(tmp) / "news.db"), store_raw=True)
        budget["storage"] = cpu_ms(lambda: [writer.handle_batch(articles[k:k + 16])
                                            for k in range(0, len(articles), 16)], len(articles))
        writer.close()
    # the raw page's compression as the archive does it once a site has its dictionary: zstd with that dictionary
    page_codec = codec.PageCodec()
    page_codec.add_dictionary(1, codec.train([item.page.body for item in fetched[:codec.TRAIN_PAGES]]))
    budget["of it zstd"] = cpu_ms(lambda: [page_codec.compress(item.page.body, 1) for item in fetched], len(paths))
    size = sum(len(item.page.body) for item in fetched) / len(fetched) / 1000
    print(f"{'realistic' if args.realistic else 'demo'} pages ({size:.1f} KB on average), {len(paths)} articles: "
          "CPU ms per article")
    for stage, ms in budget.items():
        print(f"  {stage:12}{ms:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
