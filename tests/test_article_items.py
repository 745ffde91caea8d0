"""The item a crawl yields is the extracted Article: feed exports get articles (never raw bytes), the archive still
gets the raw page; the archive lock is one object; the production spider does not need the demo package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from archive_checks import connect
from conftest import ROOT, run_crawl

from newscrawl.demo.server import DemoServer
from newscrawl.demo.site import demo_site
from newscrawl.lock import ArchiveLock, ArchiveLocked

ARTICLE_KEYS = {"url", "title", "lead", "body", "published_at", "related_links", "extraction", "problems",
                "fetched_at"}


@pytest.mark.parametrize("processes", ["0", "1", "2"])
def test_feed_export_writes_extracted_articles_and_the_archive_keeps_raw_pages(demo_archive, tmp_path: Path,
                                                                                processes: str) -> None:
    db, out = tmp_path / "news.db", tmp_path / "articles.jsonl"
    result = run_crawl(db, "-a", f"start_url={demo_archive.server.url}/kr/siyosat/", "-a", "max_pages=0",
                       "-s", f"NEWSCRAWL_EXTRACT_PROCESSES={processes}", "-o", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    con = connect(db)
    archived = {r["url"]: r for r in con.execute("SELECT url, title, body FROM articles_full")}
    assert len(rows) == len(archived) > 20, "one exported line per archived article, and nothing else"
    for row in rows:
        assert set(row) >= ARTICLE_KEYS, sorted(row)
        assert "raw_page" not in row and "page" not in row
        assert "related" not in row, "one name for related links: the table's and `newscrawl export`'s"
        assert (row["title"], row["body"]) == (archived[row["url"]]["title"], archived[row["url"]]["body"])
    assert any(row["related_links"] and row["related_links"][0]["url"] for row in rows), "related links are exported"
    text = out.read_text(encoding="utf-8")
    assert "<html" not in text and "<!DOCTYPE" not in text, "no raw page reached the feed"
    assert con.execute("SELECT count(*) FROM pages").fetchone()[0] == len(archived), "raw pages still archived"


def test_every_article_feed_names_related_links_as_the_table_does(demo_archive, tmp_path: Path) -> None:
    """CSV headers and a feed configured in FEEDS (articles only) say `related_links` too; a feed that sets its own
    `fields` keeps them."""
    db, csv_out, own = tmp_path / "news.db", tmp_path / "articles.csv", tmp_path / "own.jsonl"
    feeds = {str(own): {"format": "jsonlines", "item_classes": ["newscrawl.items.Article"],
                        "fields": ["url", "related"]}}
    result = run_crawl(db, "-a", f"start_url={demo_archive.server.url}/kr/siyosat/", "-a", "max_pages=1",
                       "-s", f"FEEDS={json.dumps(feeds)}", "-O", str(csv_out))
    assert result.returncode == 0, result.stderr[-3000:]
    header = csv_out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert "related_links" in header and "related" not in header, header
    assert header[0] == "url" and "raw_page" not in header
    rows = [json.loads(line) for line in own.read_text(encoding="utf-8").splitlines()]
    assert rows and all(set(row) == {"url", "related"} for row in rows)


def test_the_archive_lock_is_held_by_one_object(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    with ArchiveLock(db) as first:
        second = ArchiveLock(db)
        with pytest.raises(ArchiveLocked, match="another newscrawl run"):
            second.acquire()
        assert first.held and not second.held and second.held_by_this_process()
    assert not first.held
    second.acquire()  # free again once its holder let go
    second.release()


def test_the_production_spider_does_not_import_the_demo_site() -> None:
    code = ("import sys, newscrawl.spiders.siyosat, newscrawl.pipelines, newscrawl.extensions; "
            "print(sorted(m for m in sys.modules if m.startswith('newscrawl.demo')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_spider_without_a_start_url_outside_the_crawl_command_says_so(tmp_path: Path) -> None:
    """The demo site is the crawl command's doing: a library crawl with no start URL fails with one clear line."""
    code = ("import sys\nfrom scrapy.crawler import CrawlerProcess\nfrom scrapy.utils.project import "
            "get_project_settings\nfrom newscrawl.spiders.siyosat import SiyosatSpider\n"
            "settings = get_project_settings(); settings.set('NEWSCRAWL_DB', sys.argv[1])\n"
            "process = CrawlerProcess(settings); process.crawl(SiyosatSpider); process.start()\n"
            "sys.exit(1 if process.bootstrap_failed else 0)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "news.db")], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={"SCRAPY_SETTINGS_MODULE": "newscrawl.settings",
                                                         "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "no start URL configured: pass -a start_url=URL" in result.stderr
    assert not (tmp_path / "news.db").exists()


STATE_CRAWL = """
import sys
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings
from newscrawl.archive import KnownArticle
from newscrawl.spiders.siyosat import SiyosatSpider

class EverythingKnown:
    def look_up(self, urls):
        pass
    def known_article(self, url):
        return KnownArticle(url=url, published_at=None, etag=None, last_modified=None)
    def missing_since(self, url):
        return None
    def previous_run_unfinished(self, spider, start_url):
        return None

class SharedStateSpider(SiyosatSpider):
    def open_state(self, settings):
        return EverythingKnown()

settings = get_project_settings()
settings.set("NEWSCRAWL_DB", sys.argv[1])
process = CrawlerProcess(settings)
process.crawl(SharedStateSpider, start_url=sys.argv[2])
process.start()
"""


def test_crawl_state_comes_only_through_the_crawl_state_interface(tmp_path: Path) -> None:
    """A CrawlState that says every URL is archived (as a shared store could) stops every article fetch, although
    the archive file itself is empty."""
    with DemoServer(demo_site()[0]) as server:
        result = subprocess.run([sys.executable, "-c", STATE_CRAWL, str(tmp_path / "news.db"),
                                 f"{server.url}/kr/siyosat/"], cwd=ROOT, capture_output=True, text=True,
                                timeout=120, check=False,
                                env={"SCRAPY_SETTINGS_MODULE": "newscrawl.settings", "PATH": "/usr/bin:/bin"})
    assert "newscrawl summary: status=ok new=0" in result.stderr, result.stderr[-3000:]
    assert "'newscrawl/skipped_archived'" in result.stderr
    assert [r.path for r in server.requests if r.path.startswith("/kr/news/")] == []
