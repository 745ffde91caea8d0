"""Regression net for selector fixes: every saved page under tests/fixtures/pages/ re-extracts to its expected.json.

Cases are written by `newscrawl savefixture FILE_OR_URL --url U --site S --name CASE`; see docs/site-profiles.md.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from newscrawl.extract import extract_article

PAGES = Path(__file__).parent / "fixtures" / "pages"
CASES = sorted(p.parent for p in PAGES.glob("*/*/expected.json"))
CASE_FILES = ("page.html", "url.txt", "fetched_at.txt", "profile.txt", "expected.json")


def load_case(case: Path) -> tuple[bytes, str, datetime, str]:
    """(page bytes, url, fetched_at, profile) of a saved case."""
    def read(name: str) -> str:
        return (case / name).read_text(encoding="utf-8").strip()

    return (case / "page.html").read_bytes(), read("url.txt"), datetime.fromisoformat(read("fetched_at.txt")), \
        read("profile.txt")


def reextract(case: Path) -> dict[str, Any]:
    body, url, fetched_at, profile = load_case(case)
    return json.loads(json.dumps(extract_article(body, url, fetched_at, profile=profile), ensure_ascii=False))


def differences(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """One readable line per differing field (related cards compared one by one)."""
    lines = []
    for key in sorted(set(got) | set(want)):
        if key == "fetched_at" and got.get(key) and want.get(key):
            if datetime.fromisoformat(got[key]) == datetime.fromisoformat(want[key]):
                continue
        if key == "related" and isinstance(got.get(key), list) and isinstance(want.get(key), list):
            if len(got[key]) != len(want[key]):
                lines.append(f"related: {len(got[key])} cards, want {len(want[key])}")
            for i, (g, w) in enumerate(zip(got[key], want[key], strict=False)):
                lines += [f"related[{i}].{k}: got {g.get(k)!r}, want {w.get(k)!r}"
                          for k in sorted(set(g) | set(w)) if g.get(k) != w.get(k)]
            continue
        if got.get(key) != want.get(key):
            lines.append(f"{key}: got {got.get(key)!r:.300}, want {want.get(key)!r:.300}")
    return lines


def test_there_are_fixture_cases_from_both_sites() -> None:
    sites = {case.parent.name for case in CASES}
    assert {"demo", "generic"} <= sites
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_case_is_complete(case: Path) -> None:
    assert all((case / name).is_file() for name in CASE_FILES), f"{case}: needs {', '.join(CASE_FILES)}"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_page_reextracts_to_expected(case: Path) -> None:
    want = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    got = reextract(case)
    diff = differences(got, want)
    assert not diff, f"{case.relative_to(PAGES)} differs from expected.json:\n  " + "\n  ".join(diff)


def test_differences_names_the_field() -> None:
    """The failure message must say which field and which related card changed."""
    want = {"title": "A", "related": [{"url": "u", "title": "T"}], "fetched_at": "2025-11-15T09:00:00+00:00"}
    got = {"title": "B", "related": [{"url": "u", "title": "X"}], "fetched_at": "2025-11-15T14:00:00+05:00"}
    assert differences(got, want) == ["related[0].title: got 'X', want 'T'", "title: got 'B', want 'A'"]
