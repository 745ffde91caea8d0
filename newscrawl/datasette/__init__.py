"""The newscrawl Datasette plugin: SQL functions, metadata, templates, the article, search and chart pages.

Registered through the `datasette` entry point in pyproject.toml, so a plain `datasette data/news.db` gets the
same pages as `newscrawl serve`:
- `fold(text)`, `to_latin(text)`, `to_cyrillic(text)`, `search_match(query)` and `search_snippet(query, text...)`
  on every connection, so canned queries search the script-folded index with whatever the user typed;
- the bundled metadata (descriptions, canned queries) for every database that is a newscrawl archive;
- templates: an article page on the articles row page, a compact articles table, a search box on top;
- routes `/<db>/-/search?q=` (cross-script prefix search with highlighted snippets) and `/<db>/-/chart`.
The static files (CSS, the vendored Vega-Lite) are served by Datasette from ./static, templates from ./templates.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from datasette import hookimpl
from markupsafe import Markup

from newscrawl.datasette import charting, reading
from newscrawl.search import build_match
from newscrawl.translit import fold, to_cyrillic, to_latin

METADATA_PATH = Path(__file__).with_name("metadata.yml")
METADATA_DATABASE = "news"
PLUGIN_NAME = "newscrawl"  # the entry point's name: Datasette serves ./static under /-/static-plugins/newscrawl/

# Speed at 100k articles (issue 12): facet suggestions cost seconds per table page, so they are off; a facet a
# user asks for gets a short time limit, and a query 5 s at most. `newscrawl serve` passes these as --setting;
# a plain `datasette` gets them at startup where the command line left Datasette's default.
SETTINGS: dict[str, Any] = {
    "suggest_facets": False,
    "facet_time_limit_ms": 100,
    "sql_time_limit_ms": 5000,
    "truncate_cells_html": 300,
    "default_page_size": 50,
    "allow_download": False,
}
DATASETTE_DEFAULTS = {"suggest_facets": True, "facet_time_limit_ms": 200, "sql_time_limit_ms": 1000}

# Tables a reader never needs in the table list: bookkeeping, and the search indexes (queried via the search
# page or SQL; Datasette hides their shadow tables by the same prefix).
HIDDEN_TABLES = ("_sqlite_migrations", "articles_fts", "articles_search", "page_dictionaries", "sqlite_stat1")
# Columns of the compact articles table (the rest is one click away: ?_full=1).
COMPACT_COLUMNS = ("id", "published_at", "category", "script", "title")

# Datasette's own databases, which it writes to itself; every other one is an archive and is never written.
DATASETTE_OWN = frozenset({"_internal", "_memory"})


def register_functions(conn: sqlite3.Connection) -> None:
    """Add fold(), to_latin(), to_cyrillic(), search_match() and search_snippet() to a sqlite3 connection."""
    for name, function in (("fold", fold), ("to_latin", to_latin), ("to_cyrillic", to_cyrillic)):
        conn.create_function(name, 1, lambda text, f=function: None if text is None else f(str(text)),
                             deterministic=True)
    conn.create_function("search_match", 1, search_match, deterministic=True)
    # search_snippet(query, text, ...): HTML, the raw words around the first match with matching words in <mark>.
    conn.create_function("search_snippet", -1, lambda query, *texts: reading.snippet_html(
        str(query or ""), *(None if t is None else str(t) for t in texts)), deterministic=True)


def search_match(query: object) -> str:
    """The FTS5 MATCH expression for articles_search (newscrawl.search.build_match); for a query with no word,
    the empty phrase, which matches no row (NULL would be an FTS5 syntax error on the page)."""
    return build_match("" if query is None else str(query)) or '""'


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str) -> None:
    register_functions(conn)
    if database not in DATASETTE_OWN:
        # Datasette opens a mutable file `mode=ro`, but its write connection (for `write: true` canned queries)
        # would not be: query_only refuses every write on any connection to the archive.
        conn.execute("PRAGMA query_only = 1")


@lru_cache(maxsize=1)
def _metadata_text() -> str:
    data = yaml.safe_load(METADATA_PATH.read_text(encoding="utf-8"))
    tables = data["databases"][METADATA_DATABASE].setdefault("tables", {})
    for name in HIDDEN_TABLES:
        tables.setdefault(name, {})["hidden"] = True
    return json.dumps(data, ensure_ascii=False)


def metadata(database: str) -> dict[str, Any]:
    """The bundled metadata with its database section renamed to the served file's Datasette name."""
    data: dict[str, Any] = json.loads(_metadata_text())  # a fresh copy: Datasette merges into what it is given
    databases = data.get("databases", {})
    if METADATA_DATABASE in databases and database != METADATA_DATABASE:
        databases[database] = databases.pop(METADATA_DATABASE)
    return data


def archive_names(datasette: Any) -> list[str]:
    """The served databases that are newscrawl archives (known after startup)."""
    return list(getattr(datasette, "_newscrawl_archives", []))


@hookimpl
def get_metadata(datasette: Any) -> dict[str, Any]:
    names = archive_names(datasette)
    if not names:
        return {}
    data = metadata(names[0])
    section = data["databases"][names[0]]
    for name in names[1:]:
        data["databases"][name] = json.loads(json.dumps(section))
    return data


@hookimpl
def startup(datasette: Any) -> Any:
    async def inner() -> None:
        archives = []
        for name, db in datasette.databases.items():
            if name in DATASETTE_OWN:
                continue
            tables = set(await db.table_names())
            if {"articles", "_sqlite_migrations"} <= tables:
                archives.append(name)
        datasette._newscrawl_archives = archives
        # Datasette has no hook for settings; `_settings` is where `datasette.setting()` reads them. Only values
        # the command line left at Datasette's default are changed, so `--setting` still wins (except that a
        # value equal to Datasette's default cannot be told apart: the plugin setting speed_settings: false in
        # the metadata's `plugins: newscrawl:` section keeps Datasette's own values, as bench/ does for its peer).
        if (datasette.plugin_config(PLUGIN_NAME) or {}).get("speed_settings", True) is False:
            return
        for key, default in DATASETTE_DEFAULTS.items():
            if datasette._settings.get(key) == default:
                datasette._settings[key] = SETTINGS[key]

    return inner


def _article_path(datasette: Any, database: str, article_id: Any) -> str:
    return str(datasette.urls.row(database, "articles", str(article_id)))


async def _article_id_for_url(datasette: Any, database: str, url: str) -> int | None:
    result = await datasette.get_database(database).execute(
        "SELECT coalesce((SELECT id FROM articles WHERE url = :u), (SELECT a.id FROM url_aliases s "
        "JOIN articles a ON a.url = s.url WHERE s.alias = :u))", {"u": url})
    row = result.first()
    return row[0] if row else None


def _link(href: str, text: Any, title: str = "") -> Markup:
    extra = Markup(' title="{}"').format(title) if title else Markup("")
    return Markup('<a href="{}"{}>{}</a>').format(href, extra, text)


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    """Article ids and article URLs link to the article page wherever they appear."""
    if database not in archive_names(datasette) or value is None or value == "":
        return None
    keys = set(row.keys()) if hasattr(row, "keys") else set()
    if column == "article_id" and table in ("related_links", "article_versions", None):
        return _link(_article_path(datasette, database, value), value, "the article")
    if table is None and (column in ("source_id", "target_id")
                          or (column == "id" and "title" in keys and "url" in keys)):
        # a canned query's article ids (search_any_script, changed_after_publication, related_graph)
        return _link(_article_path(datasette, database, value), value, "the article")
    # URLs of archived articles in a table page (at most a page of rows: one indexed lookup per cell)
    url_columns = {"related_links": ("article_url", "url"), "article_versions": ("article_url",),
                   "url_aliases": ("url",)}
    if table in url_columns and column in url_columns[table] and isinstance(value, str):
        async def inner() -> Markup | None:
            article_id = await _article_id_for_url(datasette, database, value)
            if article_id is None:
                return None
            return Markup('{} <a class="newscrawl-archived" href="{}" title="the archived article">'
                          '[archived #{}]</a>').format(_link(value, value), _article_path(datasette, database,
                                                                                        article_id), article_id)
        return inner
    return None


@lru_cache(maxsize=1)
def _static_name() -> str:
    """Datasette names the plugin after its distribution (installed: `newscrawl`) or after the module
    (registered by run_datasette from a source tree); its static files are served under that name."""
    from datasette.plugins import get_plugins

    static = str(Path(__file__).with_name("static"))
    return next((str(p["name"]) for p in get_plugins() if p["static_path"] == static), PLUGIN_NAME)


def static_url(datasette: Any, path: str) -> str:
    """URL of a file in ./static."""
    return str(datasette.urls.static_plugins(_static_name(), path))


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    return [static_url(datasette, "newscrawl.css")]


@hookimpl
def extra_template_vars(template: str, database: str | None, table: str | None, view_name: str, request: Any,
                        datasette: Any) -> Any:
    async def inner() -> dict[str, Any]:
        names = archive_names(datasette)
        archive = database if database in names else (names[0] if names else None)
        values: dict[str, Any] = {"newscrawl_archive": archive,
                                  "newscrawl_full": bool(request and request.args.get("_full")),
                                  "newscrawl_static": lambda path: static_url(datasette, path)}
        if archive is None or database != archive or table != "articles" or values["newscrawl_full"]:
            return values
        db = datasette.get_database(archive)
        if view_name == "row":
            article_id = request.url_vars.get("pks", "")
            if article_id.isdigit():
                values["newscrawl_article"] = await db.execute_fn(
                    lambda conn: reading.article_page(conn, int(article_id)))
        elif view_name == "table":
            explicit = any(k in request.args for k in ("_col", "_nocol"))
            values["newscrawl_compact"] = not explicit
            values["newscrawl_compact_columns"] = COMPACT_COLUMNS

            async def snippets(rows: list[Any]) -> dict[int, str]:
                ids = [r["id"] for r in rows]
                row_columns = list(rows[0].keys()) if rows else []  # sqlite3.Row: `in` looks at the values
                if "body" in row_columns:
                    texts = {r["id"]: r["body"] for r in rows}
                else:
                    texts = await db.execute_fn(lambda conn: reading.bodies(conn, ids))
                return {i: _shorten(texts.get(i) or "") for i in ids}

            values["newscrawl_snippets"] = snippets
        return values

    return inner


def _shorten(text: str, limit: int = 180) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/(?P<database>[^/]+)/-/search$", search_view), (r"^/(?P<database>[^/]+)/-/chart$", chart_view)]


def _archive_or_404(datasette: Any, request: Any) -> str | None:
    database = request.url_vars["database"]
    return database if database in archive_names(datasette) else None


async def search_view(datasette: Any, request: Any) -> Any:
    from datasette.utils.asgi import NotFound

    database = _archive_or_404(datasette, request)
    if database is None:
        raise NotFound("not a newscrawl archive")
    query = request.args.get("q", "")
    page = request.args.get("page", "1")
    result = await datasette.get_database(database).execute_fn(
        lambda conn: reading.search_page(conn, query, int(page) if page.isdigit() else 1))
    return await _render(datasette, request, "newscrawl_search.html", {"database": database, **result})


async def chart_view(datasette: Any, request: Any) -> Any:
    from datasette.utils.asgi import NotFound

    database = _archive_or_404(datasette, request)
    if database is None:
        raise NotFound("not a newscrawl archive")
    data = await datasette.get_database(database).execute_fn(charting.per_day)
    context = {"database": database, "data": data,
               "day_spec": _script_json(charting.vega_lite_spec(data)),
               "category_spec": _script_json(charting.per_category_spec(data))}
    return await _render(datasette, request, "newscrawl_chart.html", context)


def _script_json(value: Any) -> str:
    """JSON to put inside a <script> element: '</' escaped, so no category name can close the element."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


async def _render(datasette: Any, request: Any, template: str, context: dict[str, Any]) -> Any:
    from datasette.utils.asgi import Response

    html = await datasette.render_template(template, context, request=request, view_name=template)
    return Response.html(html)


def run_datasette(argv: list[str]) -> int:
    """Run the `datasette` command line in this process with the newscrawl plugin registered."""
    from datasette.cli import cli
    from datasette.plugins import pm

    # Installed, the entry point has registered the plugin already; from a bare source tree it has not.
    if not any(plugin is sys.modules[__name__] for plugin in pm.get_plugins()):
        pm.register(sys.modules[__name__], name=PLUGIN_NAME)
    try:
        cli.main(argv, prog_name="datasette", standalone_mode=False)
    except KeyboardInterrupt:
        return 0
    return 0
