"""Code frozen in time for the archive's migrations (registered in newscrawl/archive.py, which owns the schema).

A migration that calls live code (`fold`, `canonical_url`, `content_hash`, ...) would do something else the day
that code changes: re-running it on an old file would give a different archive, and a changed `fold()` would
silently leave `articles_search` stale instead of asking for a migration of its own. So every function a
migration needs is copied here as it was when the migration was written, one module per snapshot, and never
edited afterwards. These modules import nothing from newscrawl outside this package. A later change that must
reach existing archives (a new fold, a new URL form) comes with a new migration and, if needed, a new snapshot.

Whole modules are copied (rather than a few private functions in archive.py) because fold() and canonical_url()
pull in tables, regexes and helpers: a partial copy would be easy to get subtly wrong, a verbatim one is not.
"""
