"""The terminal for people and for cron: a quiet `newscrawl crawl` with a progress line on a terminal and one
summary line, `scrapy crawl`'s one summary line at INFO, LOG_FILE's folder, the README's cron line, help and
--version. Every test runs the real command in a subprocess against a real server on 127.0.0.1."""
from __future__ import annotations

import argparse
import os
import re
import select
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from conftest import FAST, ROOT, run_crawl

from newscrawl.cli import build_parser
from newscrawl.demo.site import DEMO_START_PATH
from newscrawl.extensions import SUMMARY_PREFIX

CLI = [sys.executable, "-m", "newscrawl.cli"]
QUICK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
SUMMARY_LINE = re.compile(r"^Crawl #(\d+) (ok|failed|interrupted): (\d+) new, (\d+) updated, (\d+) unchanged, "
                          r"(\d+) not modified(, \d+ dropped)?, (\d+) errors? in [\d.]+s; (.+): (\d+) articles")


def newscrawl(*args: str, cwd: Path = ROOT, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- newscrawl crawl ----------------------------------------------------------------------------------------

def test_quiet_crawl_ends_with_one_summary_line_and_no_scrapy_info(demo_archive, tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    result = newscrawl("crawl", "--db", str(db), "--start-url", demo_archive.server.url + DEMO_START_PATH,
                       "--max-pages", "0", *QUICK)
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.splitlines()[-1]
    match = SUMMARY_LINE.match(last)
    assert match, result.stdout
    assert match[2] == "ok" and int(match[3]) > 0 and match[9] == str(db)
    assert [line for line in result.stdout.splitlines() if line.startswith("Crawl #")] == [last]
    assert "New articles, newest first:" in result.stdout
    # quiet: neither Scrapy's INFO log nor the crawl's own summary log line; no progress line without a terminal
    assert " INFO: " not in result.stderr and SUMMARY_PREFIX not in result.stderr, result.stderr[-3000:]
    assert "\r" not in result.stderr and "ETA" not in result.stderr
    again = newscrawl("crawl", "--db", str(db), "--start-url", demo_archive.server.url + DEMO_START_PATH,
                      "--max-pages", "0", *QUICK)
    match = SUMMARY_LINE.match(again.stdout.splitlines()[-1])
    assert match and match[1] == "2" and match[3] == "0", again.stdout
    assert "New articles" not in again.stdout  # nothing new: no list, and never an empty one


def test_verbose_restores_scrapys_log(demo_archive, tmp_path: Path) -> None:
    result = newscrawl("crawl", "-v", "--db", str(tmp_path / "news.db"), "--start-url",
                       demo_archive.server.url + DEMO_START_PATH, *QUICK)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[scrapy.core.engine] INFO: Spider opened" in result.stderr
    assert f"{SUMMARY_PREFIX}status=ok" in result.stderr
    assert SUMMARY_LINE.match(result.stdout.splitlines()[-1])


def test_refused_connection_is_one_failed_line_without_an_empty_list(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    result = newscrawl("crawl", "--db", str(db), "--start-url", f"http://127.0.0.1:{free_port()}/kr/siyosat/",
                       *QUICK, "-s", "RETRY_TIMES=0")
    assert result.returncode == 1, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    match = SUMMARY_LINE.match(lines[0])
    assert match and match[2] == "failed" and "start page" in lines[0], lines[0]
    assert "Newest" not in result.stdout and "New articles" not in result.stdout


def test_progress_line_is_drawn_in_place_on_a_terminal(demo_archive, tmp_path: Path) -> None:
    """stderr on a pseudo-terminal: the progress line is redrawn in place (\\r, clear to end of line) with
    articles done of the total, the rate and, once the listing is walked, an ETA; it is cleared at the end."""
    primary, secondary = os.openpty()
    command = [*CLI, "crawl", "--db", str(tmp_path / "news.db"), "--start-url",
               demo_archive.server.url + DEMO_START_PATH, "--max-pages", "0",
               "-s", "DOWNLOAD_DELAY=0.1", "-s", "AUTOTHROTTLE_ENABLED=False"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=secondary) as proc:
        os.close(secondary)
        seen = b""
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1)
            if ready:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:  # the terminal's other side closed: the crawl has ended
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        assert proc.stdout is not None
        stdout = proc.stdout.read().decode()
    os.close(primary)
    assert proc.returncode == 0, seen[-3000:]
    text = seen.decode(errors="replace")
    updates = re.findall(r"\r\x1b\[Kcrawl \d+:\d\d  (\d+) pages  (\d+)/(\d+)\+? articles  [\d.]+/s", text)
    assert len(updates) >= 2, text[-3000:]
    done = [int(u[1]) for u in updates]
    assert done == sorted(done) and done[-1] > 0, "articles done never goes back"
    assert re.search(r"/\d+ articles  [\d.]+/s  ETA \d+:\d\d", text), text[-3000:]
    assert text.endswith("\r\x1b[K"), "the progress line is cleared before the summary"
    assert SUMMARY_LINE.match(stdout.splitlines()[-1]), stdout


# --- scrapy crawl ---------------------------------------------------------------------------------------------

def summary_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if SUMMARY_PREFIX in line]


def test_scrapy_crawl_logs_exactly_one_summary_line_at_info(demo_archive) -> None:
    for result in demo_archive.results:  # crawled with LOG_LEVEL=INFO
        lines = summary_lines(result.stderr)
        assert len(lines) == 1 and f"INFO: {SUMMARY_PREFIX}status=ok new=" in lines[0], lines


def test_at_log_level_warning_only_a_failed_run_is_logged(demo_archive, tmp_path: Path) -> None:
    """As documented (docs/operations.md): WARNING shows problems only, so an ok run is silent and a failed run
    still logs its one summary line, at ERROR."""
    ok = run_crawl(tmp_path / "ok.db", "-a", f"start_url={demo_archive.server.url}{DEMO_START_PATH}",
                   "-s", "LOG_LEVEL=WARNING")
    assert ok.returncode == 0 and summary_lines(ok.stderr) == [], ok.stderr[-3000:]
    failed = run_crawl(tmp_path / "failed.db", "-a", f"start_url=http://127.0.0.1:{free_port()}/kr/siyosat/",
                       "-s", "LOG_LEVEL=WARNING", "-s", "RETRY_TIMES=0")
    lines = summary_lines(failed.stderr)
    assert failed.returncode == 1 and len(lines) == 1 and f"ERROR: {SUMMARY_PREFIX}status=failed" in lines[0]


def test_log_files_folder_is_created(demo_archive, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "nested" / "siyosat.log"
    result = run_crawl(tmp_path / "news.db", "-a", f"start_url={demo_archive.server.url}{DEMO_START_PATH}",
                       "-s", f"LOG_FILE={log}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(summary_lines(log.read_text(encoding="utf-8"))) == 1
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    result = run_crawl(tmp_path / "other.db", "-s", f"LOG_FILE={blocked}/x.log")
    assert result.returncode == 2 and "cannot create the folder of LOG_FILE" in result.stderr
    assert "Traceback" not in result.stderr


def readme_block(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [line for block in re.findall(rf"```{language}\n(.*?)```", text, re.S) for line in block.splitlines()]


def fresh_checkout(target: Path) -> Path:
    """The project's tracked files (as a fresh clone has them: no logs/, no data/news.db) copied to `target`."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_readme_cron_line_runs_on_a_fresh_checkout(demo_archive, tmp_path: Path) -> None:
    (cron,) = [line for line in readme_block("cron") if line.strip() and not line.startswith("#")]
    command = cron.split("&&", 1)[1].strip()  # what cron runs after `cd /srv/newscrawl`
    checkout = fresh_checkout(tmp_path / "newscrawl")
    assert not (checkout / "logs").exists()
    argv = shlex.split(command)
    assert argv[0] == ".venv/bin/scrapy"
    argv = [sys.executable, "-m", "scrapy", *argv[1:]]
    # the demo site stands in for the real one
    argv = [re.sub(r"^start_url=https://SITE/", f"start_url={demo_archive.server.url}/", a) for a in argv]
    assert any(a.startswith(f"start_url={demo_archive.server.url}") for a in argv), command
    result = subprocess.run([*argv, *FAST], cwd=checkout, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    log = checkout / re.search(r"LOG_FILE=(\S+)", command)[1]  # type: ignore[index]
    assert len(summary_lines(log.read_text(encoding="utf-8"))) == 1
    assert (checkout / "data" / "news.db").exists()


# --- help and version -------------------------------------------------------------------------------------------

def test_bare_newscrawl_prints_help_and_exits_0() -> None:
    result = newscrawl()
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: newscrawl") and "latest" in result.stdout and "show" in result.stdout


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version
    result = newscrawl("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"newscrawl {version('newscrawl')}"


def test_every_command_has_a_description_and_every_option_a_help_text() -> None:
    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert subparsers.choices
    helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
    for name, sub in subparsers.choices.items():
        assert helps.get(name), f"{name} has no one-line help in `newscrawl --help`"
        assert sub.description, f"`newscrawl {name} --help` has no description"
        for action in sub._actions:
            assert action.help, f"newscrawl {name}: {action.option_strings or action.dest} has no help text"
    for action in parser._actions:
        assert action.help or isinstance(action, argparse._SubParsersAction), action


def test_crawl_with_a_log_file_keeps_the_full_log_there(demo_archive, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "crawl.log"
    result = newscrawl("crawl", "--db", str(tmp_path / "news.db"), "--start-url",
                       demo_archive.server.url + DEMO_START_PATH, "-s", f"LOG_FILE={log}", *QUICK)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == "" and SUMMARY_LINE.match(result.stdout.splitlines()[-1])
    text = log.read_text(encoding="utf-8")
    assert "INFO: Spider opened" in text and len(summary_lines(text)) == 1
