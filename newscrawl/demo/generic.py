"""A second news site whose markup no profile knows."""
from __future__ import annotations

GENERIC_START_PATH = "/news/politics/"


def generic_site(now=None):
    raise NotImplementedError
