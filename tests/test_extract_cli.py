"""`newscrawl extract` and `newscrawl savefixture`, run as the installed console script in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from newscrawl.demo.server import DemoServer, Page
from test_fixture_pages import PAGES

SEED = PAGES / "demo" / "seed"
SEED_URL = (SEED / "url.txt").read_text(encoding="utf-8").strip()
SEED_TITLE = "Мирзиёев ва Тоқаев 1,3 млрд долларлик лойиҳаларни ишга туширди"
FETCHED = "2025-11-15T09:00:00+00:00"
NEWSCRAWL = Path(sys.executable).parent / "newscrawl"


def newscrawl(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = [str(NEWSCRAWL)] if NEWSCRAWL.exists() else [
        sys.executable, "-c", "import sys; from newscrawl.cli import main; sys.exit(main())"]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def extract_json(*args: str) -> dict:
    result = newscrawl("extract", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_extract_file_prints_json_with_provenance() -> None:
    article = extract_json(str(SEED / "page.html"), "--url", SEED_URL, "--fetched-at", FETCHED)
    assert article["url"] == SEED_URL
    assert article["title"] == SEED_TITLE
    assert article["published_at"] == "2025-11-15T12:33:00+05:00"
    assert article["body"].count("\n\n") == 13
    assert article["extraction"]["title"] == "profile" and article["extraction"]["body"] == "profile"
    assert article["problems"] == []


def test_extract_output_is_readable_unicode() -> None:
    result = newscrawl("extract", str(SEED / "page.html"), "--url", SEED_URL)
    assert SEED_TITLE in result.stdout, "Cyrillic printed as text, not \\u escapes"


def test_extract_file_without_url_uses_file_uri_and_no_profile_matches() -> None:
    article = extract_json(str(SEED / "page.html"), "--fetched-at", FETCHED)
    assert article["url"] == (SEED / "page.html").resolve().as_uri()
    assert article["title"] == SEED_TITLE
    assert "profile" not in article["extraction"].values()


def test_profile_none_switches_to_other_layers() -> None:
    article = extract_json(str(SEED / "page.html"), "--url", SEED_URL, "--fetched-at", FETCHED, "--profile", "none")
    assert "profile" not in article["extraction"].values()
    assert article["extraction"]["title"] == "opengraph" and article["extraction"]["body"] == "generic"
    assert article["title"] == SEED_TITLE


def test_profile_by_name_on_a_foreign_host() -> None:
    article = extract_json(str(SEED / "page.html"), "--url", "https://news.example.uz/kr/news/x/",
                           "--profile", "demo")
    assert article["extraction"]["title"] == "profile"


def test_extract_url_from_a_demo_server() -> None:
    page = (PAGES / "generic" / "cp1251-russian" / "page.html").read_bytes()
    with DemoServer({"/news/a.html": Page(page, content_type="text/html; charset=windows-1251"),
                     "/kr/news/seed/": Page((SEED / "page.html").read_bytes())}) as server:
        russian = extract_json(server.url + "/news/a.html", "--fetched-at", FETCHED)
        seed = extract_json(server.url + "/kr/news/seed/", "--fetched-at", FETCHED)
    assert russian["url"] == server.url + "/news/a.html"
    assert russian["title"] == "Президент подписал указ о реформе государственной службы"
    assert russian["language"] == "ru"
    assert seed["title"] == SEED_TITLE
    assert seed["extraction"]["title"] == "profile", "127.0.0.1 is a demo profile host: 'auto' picks it"


def test_missing_file_is_a_one_line_error() -> None:
    result = newscrawl("extract", "no/such/page.html", "--url", SEED_URL)
    assert_one_line_error(result, "newscrawl extract: ")
    assert "no/such/page.html" in result.stderr


def assert_one_line_error(result: subprocess.CompletedProcess[str], start: str) -> None:
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), result.stderr


def test_http_error_is_a_one_line_error() -> None:
    with DemoServer({}) as server:
        result = newscrawl("extract", server.url + "/gone/")
    assert_one_line_error(result, f"newscrawl extract: cannot fetch {server.url}/gone/: HTTP 404")


def test_refused_connection_is_a_one_line_error() -> None:
    with DemoServer({}) as server:
        url = server.url + "/x/"
    assert_one_line_error(newscrawl("extract", url), f"newscrawl extract: cannot fetch {url}: ")


def test_unknown_profile_is_a_one_line_error() -> None:
    result = newscrawl("extract", str(SEED / "page.html"), "--profile", "nope")
    assert_one_line_error(result, "newscrawl extract: site profile ")
    assert "no such profile" in result.stderr


def test_savefixture_writes_a_case_that_the_regression_test_accepts(tmp_path: Path) -> None:
    result = newscrawl("savefixture", str(SEED / "page.html"), "--url", SEED_URL, "--fetched-at", FETCHED,
                       "--site", "demo", "--name", "copy", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    case = tmp_path / "demo" / "copy"
    assert (case / "page.html").read_bytes() == (SEED / "page.html").read_bytes()
    assert (case / "url.txt").read_text().strip() == SEED_URL
    assert (case / "profile.txt").read_text().strip() == "auto"
    assert json.loads((case / "expected.json").read_text()) == json.loads((SEED / "expected.json").read_text())
