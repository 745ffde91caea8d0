"""A resource of a demo site: what the site modules build and the DemoServer serves."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Page:
    """One resource of the demo site, served exactly as given (after `{{BASE}}` substitution)."""

    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None
    etag: bool = True
