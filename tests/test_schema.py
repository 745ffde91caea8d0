"""Schema facts in one place: newscrawl/schema.py, the migrated archive, Datasette's metadata and docs/schema.md
name exactly the same tables and columns."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import ROOT

from newscrawl.archive import Archive
from newscrawl.datasette import METADATA_DATABASE, METADATA_PATH
from newscrawl.schema import FTS_TABLES, TABLES

DOCUMENTED = {**TABLES, **FTS_TABLES}


@pytest.fixture(scope="module")
def archive_columns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Every user-facing table of a freshly migrated archive and its columns (FTS5's own shadow tables and
    sqlite-utils' migrations table are SQLite's and sqlite-utils' business)."""
    with Archive(tmp_path_factory.mktemp("schema") / "fresh.db") as archive:
        shadow = re.compile(r".+_(data|idx|docsize|config|content)")
        names = [n for n in archive.db.table_names()
                 if not n.startswith(("_sqlite", "sqlite_")) and not shadow.fullmatch(n)]
        return {name: {c.name for c in archive.db[name].columns} for name in names}


def _as_sets(tables: dict[str, tuple[str, ...]] | dict[str, set[str]]) -> dict[str, set[str]]:
    return {name: set(columns) for name, columns in tables.items()}


def test_schema_module_names_every_table_and_column_of_the_archive(archive_columns: dict[str, set[str]]) -> None:
    assert archive_columns == _as_sets(DOCUMENTED)
    for name, columns in TABLES.items():
        assert len(columns) == len(set(columns)), f"{name} lists a column twice"


def test_datasette_metadata_describes_exactly_the_archive(archive_columns: dict[str, set[str]]) -> None:
    tables = yaml.safe_load(METADATA_PATH.read_text(encoding="utf-8"))["databases"][METADATA_DATABASE]["tables"]
    described = {name: set((table or {}).get("columns") or {}) for name, table in tables.items()}
    assert described == archive_columns
    empty = [f"{t}.{c}" for t, table in tables.items() for c, text in (table.get("columns") or {}).items() if not text]
    assert empty == []


def _documented_tables(text: str) -> dict[str, set[str]]:
    """Column tables of docs/schema.md: a heading naming tables in backticks, then rows `| `column` | ...`."""
    found: dict[str, set[str]] = {}
    current: list[str] = []
    in_columns = False
    for line in text.splitlines():
        if line.startswith("#"):
            current = [n for n in re.findall(r"`([a-z0-9_]+)`", line)]
            in_columns = False
        elif line.startswith("| column |"):
            in_columns = True
            for name in current:
                found.setdefault(name, set())
        elif in_columns and (row := re.match(r"\| `([a-z0-9_]+)` \|", line)):
            for name in current:
                found[name].add(row.group(1))
        elif not line.startswith("|"):
            in_columns = False
    return found


def test_docs_describe_exactly_the_archive(archive_columns: dict[str, set[str]]) -> None:
    assert _documented_tables((ROOT / "docs" / "schema.md").read_text(encoding="utf-8")) == archive_columns


def test_the_docs_check_notices_an_undocumented_column() -> None:
    doc = "## `articles`\n\n| column | holds |\n|---|---|\n| `id` | row id |\n| `url` | the URL |\n\nText.\n"
    assert _documented_tables(doc) == {"articles": {"id", "url"}}
    assert _documented_tables(doc.replace("| `url` | the URL |\n", "")) != {"articles": {"id", "url"}}


def test_the_items_carry_every_column_the_archive_writes_from_them() -> None:
    """An Article field the archive has no column for, or a column no Article field fills, would be lost silently."""
    from dataclasses import fields

    from newscrawl.items import Article, RelatedLink
    from newscrawl.schema import BOOKKEEPING_COLUMNS, EXTRACTED_COLUMNS, RELATED_FIELDS

    article_fields = {f.name for f in fields(Article)}
    assert set(EXTRACTED_COLUMNS) <= article_fields
    assert {f.name for f in fields(RelatedLink)} == set(RELATED_FIELDS)
    stored = article_fields & set(TABLES["articles"])
    assert stored <= set(EXTRACTED_COLUMNS) | set(BOOKKEEPING_COLUMNS)
