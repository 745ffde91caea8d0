"""Datasette for the archive: the bundled metadata (descriptions, FTS, canned queries) and SQL functions.

`fold(text)`, `to_latin(text)` and `to_cyrillic(text)` are registered on every Datasette connection,
so canned queries can search the script-folded index with whatever the user typed.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import yaml
from datasette import hookimpl

from newscrawl.translit import fold, to_cyrillic, to_latin

METADATA_PATH = Path(__file__).with_name("metadata.yml")
METADATA_DATABASE = "news"


def register_functions(conn: sqlite3.Connection) -> None:
    """Add fold(), to_latin() and to_cyrillic() to a sqlite3 connection (NULL in, NULL out)."""
    for name, function in (("fold", fold), ("to_latin", to_latin), ("to_cyrillic", to_cyrillic)):
        conn.create_function(name, 1, lambda text, f=function: None if text is None else f(str(text)),
                             deterministic=True)


# Datasette's own databases, which it writes to itself; every other one is an archive and is never written.
DATASETTE_OWN = frozenset({"_internal", "_memory"})


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str) -> None:
    register_functions(conn)
    if database not in DATASETTE_OWN:
        # Datasette opens a mutable file `mode=ro`, but its write connection (for `write: true` canned queries)
        # would not be: query_only refuses every write on any connection to the archive.
        conn.execute("PRAGMA query_only = 1")


def metadata(database: str) -> dict[str, Any]:
    """The bundled metadata with its database section renamed to the served file's Datasette name."""
    data = yaml.safe_load(METADATA_PATH.read_text(encoding="utf-8"))
    databases = data.get("databases", {})
    if METADATA_DATABASE in databases and database != METADATA_DATABASE:
        databases[database] = databases.pop(METADATA_DATABASE)
    return data


def write_metadata(database: str, path: Path) -> Path:
    path.write_text(json.dumps(metadata(database), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def run_datasette(argv: list[str]) -> int:
    """Run the `datasette` command line in this process with the newscrawl SQL functions registered."""
    from datasette.cli import cli
    from datasette.plugins import pm

    if not pm.is_registered(sys.modules[__name__]):
        pm.register(sys.modules[__name__], name="newscrawl")
    try:
        cli.main(argv, prog_name="datasette", standalone_mode=False)
    except KeyboardInterrupt:
        return 0
    return 0
