"""FROZEN: the parser migration 0009 uses to turn the problem strings newscrawl wrote up to schema version 8 into
structured problems ({"code": ..., "detail": ...}). Never edit; it knows every string the old code built:

- `no {title|lead|body|published} found`            (pages/article.py, _note_missing)
- `unparseable {published|modified} date ({layer}): {text!r}`   (pages/article.py, _dates)
- `extraction failed: {error}`                          (processing.py and, earlier, the pipeline)
"""

from __future__ import annotations

import json
import re
from typing import Any

MISSING_RE = re.compile(r"no (title|lead|body|published) found")
MISSING_CODES = {"title": "no_title", "lead": "no_lead", "body": "no_body", "published": "no_published_at"}
UNPARSEABLE_RE = re.compile(r"unparseable (published|modified) date \((.*?)\): (.*)", re.DOTALL)
FAILED_PREFIX = "extraction failed: "
UNPARSED_DATE = "unparsed_date"
EXTRACTION_FAILED = "extraction_failed"
UNKNOWN = "unknown"
"""The code of a text no newscrawl version built (a hand edit): the text is kept whole as the detail."""


def problem(text: str) -> dict[str, Any]:
    """One old problem string as a structured problem (no detail key when there is none)."""
    if found := MISSING_RE.fullmatch(text):
        return {"code": MISSING_CODES[found.group(1)]}
    if found := UNPARSEABLE_RE.fullmatch(text):
        # the detail as the code of schema version 9 writes it: "published_at from profile: '...'"
        return {"code": UNPARSED_DATE, "detail": f"{found.group(1)}_at from {found.group(2)}: {found.group(3)}"}
    if text.startswith(FAILED_PREFIX):
        return {"code": EXTRACTION_FAILED, "detail": text[len(FAILED_PREFIX):]}
    return {"code": UNKNOWN, "detail": text}


def problems(stored: str | None) -> str | None:
    """An `articles.problems` value in the new form; already structured entries and NULL pass unchanged."""
    if stored is None:
        return None
    try:
        entries = json.loads(stored)
    except ValueError:
        entries = [stored]  # not JSON at all: one problem, its text kept
    if not isinstance(entries, list):
        entries = [entries]
    converted = [entry if isinstance(entry, dict) and "code" in entry else problem(str(entry)) for entry in entries]
    return json.dumps(converted, ensure_ascii=False)
