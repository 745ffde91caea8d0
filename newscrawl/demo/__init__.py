"""The bundled demo news sites and the loopback HTTP server that serves them."""
from __future__ import annotations

from typing import Any

__all__ = ["DemoServer", "Page", "RequestRecord"]


def __getattr__(name: str) -> Any:
    """Import the server lazily so `python -m newscrawl.demo.server` runs cleanly."""
    if name in __all__:
        from newscrawl.demo import server

        return getattr(server, name)
    raise AttributeError(name)
