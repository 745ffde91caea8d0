"""Every `newscrawl ...` line of the README's ```sh blocks runs as written, from a folder whose data/news.db is a
copy of the crawled demo archive (as after the README's first command). `newscrawl crawl` and `newscrawl serve`
are left to their own tests (test_cli_terminal, test_archive_lifecycle, test_serve): one crawls, one never ends."""
from __future__ import annotations

import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

CLI = [sys.executable, "-m", "newscrawl.cli"]
LEFT_TO_OTHER_TESTS = ("crawl", "serve")


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S) for line in block.splitlines()]
    return [line for line in lines if line.startswith("newscrawl ")]


COMMANDS = readme_commands()


def test_the_readme_shows_every_reading_command() -> None:
    shown = {shlex.split(line)[1] for line in COMMANDS}
    assert {"crawl", "latest", "show", "search", "stats", "export"} <= shown


@pytest.fixture(scope="module")
def workdir(demo_archive, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    (folder / "data").mkdir()
    source = sqlite3.connect(demo_archive.db)
    target = sqlite3.connect(folder / "data" / "news.db")
    source.backup(target)  # a consistent copy, WAL included
    source.close()
    target.close()
    return folder


@pytest.mark.parametrize("line", [c for c in COMMANDS if shlex.split(c)[1] not in LEFT_TO_OTHER_TESTS])
def test_readme_command_runs_as_written(workdir: Path, line: str) -> None:
    argv = shlex.split(line)
    result = subprocess.run([*CLI, *argv[1:]], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{line}\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr
    if "-o" in argv:
        output = workdir / argv[argv.index("-o") + 1]
        assert output.stat().st_size > 0
        assert "written to" in result.stderr
    else:
        assert result.stdout.strip(), line
