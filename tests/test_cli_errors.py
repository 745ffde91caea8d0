"""The `newscrawl` command's error handling: expected errors are one line and exit 2; a bug is a traceback and
exit 1, never dressed up as a usage error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import newscrawl.cli.stats
from newscrawl.archive import Archive
from newscrawl.cli import EXIT_BUG, EXIT_USAGE, main


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newscrawl.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def _one_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    assert all(f in lines[0] for f in fragments), lines[0]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "news.db"
    with Archive(path) as opened:
        opened.upsert_article({"url": "https://example.uz/a/", "title": "Сенат", "body": "Матн.",
                               "published_at": "2025-11-15T10:00:00+05:00", "fetched_at": "2025-11-15T08:00:00+00:00",
                               "tags": [], "extraction": {}, "problems": []})
    return path


def test_a_bug_shows_its_traceback_and_exits_1(archive: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A ValueError raised by a bug (here planted in the stats code) used to be printed as one line with exit 2,
    as if the user had typed something wrong."""
    def broken(*args: object, **kwargs: object) -> None:
        json.loads("{not json")  # a real ValueError (JSONDecodeError) from inside the command

    monkeypatch.setattr(newscrawl.cli.stats, "per_day", broken)
    assert main(["stats", "--db", str(archive)]) == EXIT_BUG
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "json.decoder.JSONDecodeError" in err
    assert "in broken" in err, "the traceback reaches the faulty line"
    assert err.strip().splitlines()[-1].startswith("newscrawl stats: unexpected error (a bug in newscrawl)")


def test_expected_errors_stay_one_line_exit_2(archive: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nhosts = []\n', encoding="utf-8")
    _one_line(_cli("reparse", "--db", str(archive), "--profile", str(bad)), "newscrawl reparse: ", "hosts")
    missing = tmp_path / "no-such-page.html"
    _one_line(_cli("extract", str(missing)), f"newscrawl extract: {missing}: No such file or directory")
    _one_line(_cli("stats", "--db", str(tmp_path / "none.db")), "newscrawl stats: archive", "does not exist")
    _one_line(_cli("export", "--db", str(archive), "-o", str(archive)), "newscrawl export: refusing to write to")
