"""Start-up of the `newscrawl` command: the archive commands load neither Scrapy nor the extractors.

A functional property (which modules a command imports), checked in a fresh interpreter; the seconds it saves
are measured in bench/scale.py, never here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from newscrawl.archive import Archive

# Crawl-only and extraction-only packages: Scrapy and Twisted, the HTML stack, the date parser, trafilatura.
HEAVY = ("scrapy", "twisted", "parsel", "lxml", "dateparser", "trafilatura", "newscrawl.extract",
         "newscrawl.pages.article", "newscrawl.processing")
PROBE = """
import json, sys
from newscrawl.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _imports(*args: str) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], {name.split(".")[0] if not name.startswith("newscrawl") else name
                            for name in result["modules"]}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "news.db"
    with Archive(path) as opened:
        opened.upsert_article({"url": "https://example.uz/a/", "title": "Сенат", "body": "Сенат йиғилиши.",
                               "published_at": "2025-11-15T10:00:00+05:00", "fetched_at": "2025-11-15T08:00:00+00:00",
                               "tags": [], "extraction": {}, "problems": []})
    return path


@pytest.mark.parametrize("command", [["search", "Сенат"], ["stats"], ["export", "--format", "jsonl"], ["--help"]])
def test_archive_commands_do_not_import_the_crawler_or_extractors(archive: Path, command: list[str]) -> None:
    args = command if command == ["--help"] else [*command, "--db", str(archive)]
    code, modules = _imports(*args)
    assert code == 0
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_the_probe_sees_heavy_imports_when_a_command_needs_them(tmp_path: Path) -> None:
    """The same probe on `extract` does list the extractors: the check above can fail."""
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>Сенат</title></head><body><p>Матн.</p></body></html>", encoding="utf-8")
    code, modules = _imports("extract", str(page), "--profile", "none")
    assert code == 0 and {"lxml", "parsel", "newscrawl.extract"} <= modules


def test_the_archive_writer_process_loads_no_extractor() -> None:
    """The writer process imports newscrawl.processing (its entry points live there) and unpickles Articles: it
    must not pay the extraction stack's memory (parsel, lxml, dateparser: ~13 MB of each crawl's writer)."""
    probe = ("import json, sys; import newscrawl.processing, newscrawl.items; "
             "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    loaded = {name.split(".")[0] for name in json.loads(done.stdout.strip().splitlines()[-1])}
    assert not loaded & {"parsel", "lxml", "dateparser", "charset_normalizer", "scrapy"}
