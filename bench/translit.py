"""Accuracy of newscrawl.translit against the PyPI package `alifbo` on tests/translit_cases.py.

Counts exact matches Cyrillic -> Latin, Latin -> Cyrillic (every pair, including the ones whose
Latin spelling lost information), apostrophe variants, and fold groups that meet at one key.
Run: python bench/translit.py   (alifbo is optional: `pip install alifbo`). Reads no shared data.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from translit_cases import FOLD_GROUPS, LATIN_VARIANTS, PAIRS  # noqa: E402

from newscrawl import translit  # noqa: E402

Converter = Callable[[str], str]


def alifbo_functions() -> dict[str, Converter] | None:
    """alifbo's converters in the 1995 Latin alphabet, or None when it is not installed."""
    try:
        import alifbo
    except ImportError:
        return None

    def latin(text: str) -> str:
        return alifbo.to_old_latin(alifbo.from_cyrillic(text).text).text

    return {
        "to_latin": latin,
        "to_cyrillic": lambda text: alifbo.to_cyrillic(text).text,
        "to_cyrillic_all": lambda text: alifbo.to_cyrillic(text, foreign_words="transliterate").text,
        "fold": alifbo.fold_search_key,
        "fold_loose": alifbo.fold_search_key_loose,
    }


def score(name: str, function: Converter, cases: list[tuple[str, str]], show: bool) -> int:
    right = 0
    for source, expected in cases:
        try:
            got = function(source)
        except Exception as error:  # noqa: BLE001 - a crash counts as wrong
            got = f"<{type(error).__name__}>"
        if got == expected:
            right += 1
        elif show:
            print(f"    {name}: {source!r} -> {got!r}, expected {expected!r}")
    return right


def groups_met(function: Converter) -> int:
    return sum(1 for group in FOLD_GROUPS if len({function(word) for word in group}) == 1)


def speed(function: Converter, words: list[str], rounds: int = 200) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for word in words:
            function(word)
    return rounds * len(words) / (time.perf_counter() - start)


def main() -> None:
    show = "-v" in sys.argv
    forward = [(p.cyrillic, p.latin) for p in PAIRS]
    backward = [(p.latin, p.cyrillic) for p in PAIRS]
    ours: dict[str, Converter] = {"to_latin": translit.to_latin, "to_cyrillic": translit.to_cyrillic,
                                  "fold": translit.fold}
    theirs = alifbo_functions()
    print(f"{len(PAIRS)} word pairs, {len(LATIN_VARIANTS)} apostrophe variants, {len(FOLD_GROUPS)} fold groups")
    rows = [("ours", ours)]
    if theirs is None:
        print("alifbo: not importable (pip install alifbo to compare)")
    else:
        rows.append(("alifbo", theirs))
    for name, functions in rows:
        print(f"{name}:")
        print(f"  Cyrillic -> Latin   {score(name, functions['to_latin'], forward, show)}/{len(forward)}")
        back = score(name, functions["to_cyrillic"], backward, show)
        print(f"  Latin -> Cyrillic   {back}/{len(backward)}")
        if name == "ours":
            saved = dict(translit.CYRILLIC_EXCEPTIONS)
            translit.CYRILLIC_EXCEPTIONS.clear()
            print(f"    (without the exception list: {score(name, translit.to_cyrillic, backward, False)}"
                  f"/{len(backward)})")
            translit.CYRILLIC_EXCEPTIONS.update(saved)
        if "to_cyrillic_all" in functions:
            print(f"    (foreign_words='transliterate': "
                  f"{score(name, functions['to_cyrillic_all'], backward, False)}/{len(backward)})")
        print(f"  apostrophe variants {score(name, functions['to_cyrillic'], LATIN_VARIANTS, show)}"
              f"/{len(LATIN_VARIANTS)}")
        print(f"  fold groups met     {groups_met(functions['fold'])}/{len(FOLD_GROUPS)}")
        if "fold_loose" in functions:
            print(f"    (fold_search_key_loose: {groups_met(functions['fold_loose'])}/{len(FOLD_GROUPS)})")
        words = [p.cyrillic for p in PAIRS]
        print(f"  to_latin speed      {speed(functions['to_latin'], words):,.0f} words/s")


if __name__ == "__main__":
    main()
