"""CI smoke test of bench/scale.py: at a small N it runs every section to the end. Timings are not asserted
(speed is read from the script's own ratios, on a quiet machine, never from a test)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

SECTIONS = ("== realistic site: 60 articles", "== crawl", "ratio ours/bare", "pages/s per 10% slice",
            "peak RSS per process", "tree peak RSS at 10% of the articles", "== archive size", "B/article",
            "== commands", "newscrawl search", "bare SELECT * to JSON", "== reparse", "--processes 1",
            "== datasette", "articles table", "query articles_per_day")


def test_scale_benchmark_completes_at_small_n() -> None:
    done = subprocess.run([sys.executable, "bench/scale.py", "--articles", "60"], cwd=ROOT, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    missing = [s for s in SECTIONS if s not in done.stdout]
    assert not missing, (missing, done.stdout)
