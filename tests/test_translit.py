"""Uzbek transliteration both ways, script detection, and the cross-script search fold."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from translit_cases import FOLD_GROUPS, LATIN_VARIANTS, PAIRS

from newscrawl.translit import OKINA, TUTUQ, detect_script, fold, to_cyrillic, to_latin


@pytest.mark.parametrize("pair", PAIRS, ids=[p.cyrillic for p in PAIRS])
def test_to_latin(pair) -> None:  # type: ignore[no-untyped-def]
    assert to_latin(pair.cyrillic) == pair.latin


@pytest.mark.parametrize("pair", [p for p in PAIRS if p.back], ids=[p.latin for p in PAIRS if p.back])
def test_to_cyrillic(pair) -> None:  # type: ignore[no-untyped-def]
    assert to_cyrillic(pair.latin) == pair.cyrillic


@pytest.mark.parametrize(("latin", "cyrillic"), LATIN_VARIANTS)
def test_to_cyrillic_accepts_every_apostrophe(latin: str, cyrillic: str) -> None:
    assert to_cyrillic(latin) == cyrillic


def test_official_apostrophe_code_points() -> None:
    assert to_latin("ў") == "o\u02bb" and OKINA == "\u02bb"
    assert to_latin("маъно") == "ma\u02bcno" and TUTUQ == "\u02bc"


def test_each_script_is_left_alone_by_its_own_direction() -> None:
    latin = "Oʻzbekiston Respublikasi, 2025-yil: Toshkent shahri (O'zbekiston) https://kun.uz/news"
    cyrillic = "Ўзбекистон Республикаси, 2025 йил: Тошкент шаҳри"
    assert to_latin(latin) == latin
    assert to_cyrillic(cyrillic) == cyrillic


def test_mixed_text_converts_only_the_other_script() -> None:
    assert to_latin("Президент Shavkat Мирзиёев") == "Prezident Shavkat Mirziyoyev"
    assert to_cyrillic("Президент Shavkat Mirziyoyev") == "Президент Шавкат Мирзиёев"


def test_urls_and_emails_are_not_transliterated() -> None:
    assert to_cyrillic("yozing: info@gov.uz yoki https://gov.uz/oz") == "ёзинг: info@gov.uz ёки https://gov.uz/oz"


def test_quotes_and_punctuation_survive() -> None:
    assert to_latin("«Ўзбекистон — 2030» стратегияси.") == "«Oʻzbekiston — 2030» strategiyasi."
    assert to_cyrillic("“Yangi Oʻzbekiston” gazetasi") == "“Янги Ўзбекистон” газетаси"


def test_detect_script() -> None:
    assert detect_script("Ўзбекистон Республикаси") == "cyrl"
    assert detect_script("Oʻzbekiston Respublikasi") == "latn"
    assert detect_script("Ўзбекистон Республикаси Oʻzbekiston Respublikasi") == "mixed"
    assert detect_script("Ўзбекистон Республикаси Президенти Шавкат Мирзиёев, BBC") == "cyrl"
    assert detect_script("2025, 15:35 — 1 245") is None
    assert detect_script("") is None
    assert detect_script("ʻʼ'") is None


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(max_codepoint=0x2000)))
def test_letters_are_counted_by_runs_as_one_by_one(text: str) -> None:
    """detect_script counts letters by runs: the same counts as one match per letter, whatever the text."""
    from newscrawl.translit import (_CYRILLIC_RUN_RE, _LATIN_RUN_RE, CYRILLIC_LETTER_RE, LATIN_LETTER_RE,
                                    _letters)

    assert _letters(_CYRILLIC_RUN_RE, text) == len(CYRILLIC_LETTER_RE.findall(text))
    assert _letters(_LATIN_RUN_RE, text) == len(LATIN_LETTER_RE.findall(text))


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from("abcʻ Ўзб12,.\n") | st.characters(max_codepoint=0x2000)),
       st.sampled_from([0.0, 0.2, 0.5, -0.1]))
def test_detect_script_answers_as_counting_both_scripts(text: str, threshold: float) -> None:
    """A text with letters of one script only is answered without counting: the same answer as the counts."""
    from newscrawl.translit import _counted_script

    assert detect_script(text, threshold) == _counted_script(text, threshold)


@pytest.mark.parametrize("group", FOLD_GROUPS, ids=[g[0] for g in FOLD_GROUPS])
def test_fold_groups_meet(group: list[str]) -> None:
    keys = {fold(word) for word in group}
    assert len(keys) == 1, keys


def test_fold_examples() -> None:
    assert fold("Ўзбекистон") == "ozbekiston"
    assert fold("Oʻzbekiston Respublikasi") == "ozbekiston respublikasi"
    assert fold("Мирзиёев") == fold("Mirziyoyev") == "mirziyoyev"
    assert fold("Тоқаев") == fold("Toqayev") == "toqayev"
    assert fold("Россия Федерацияси, щит, подъезд, это") == "rossiya federatsiyasi, shit, podyezd, eto"


def test_fold_keeps_distinct_words_apart() -> None:
    assert fold("қол") != fold("кол")
    assert fold("шаҳар") != fold("сахар")


def test_fold_keeps_whitespace_exactly() -> None:
    text = "Ўзбекистон\tРеспубликаси\n  Президенти ъ ь '"
    folded = fold(text)
    assert re.findall(r"\s+", folded) == re.findall(r"\s+", text)
    assert len(folded.split()) == len(text.split()) == 6


def _fold_by_regex(text: str) -> str:
    """fold() as it was written before its str.split fast path: every whitespace run kept, every token folded."""
    import unicodedata

    from newscrawl.translit import WHITESPACE_RE, _fold_token
    pieces = WHITESPACE_RE.split(unicodedata.normalize("NFC", text))
    return "".join(piece if index % 2 else _fold_token(piece) for index, piece in enumerate(pieces))


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(alphabet=st.sampled_from("Ўзб ек\nOʻz  x\t\r\xa0\u2009\u3000\x1c.,'"), max_size=40),
                 st.text(max_size=40)))
def test_fold_fast_path_equals_the_regex_split(text: str) -> None:
    """fold() cuts text with only spaces and newlines by str.split, any other by the regular expression: the
    same answer either way (a tab, NBSP or thin space among the words takes the regular expression)."""
    assert fold(text) == _fold_by_regex(text)


@pytest.mark.parametrize("text", ["", " ", "\n", "a  b", " a\n\nb ", "Ўзбекистон\tРеспубликаси", "x\xa0y z",
                                  "Oʻzbekiston \r\n ҳа", "a \n b\u2009c", "a\xa0\nb",
                                  "soft\xadhyphen zero\u200bwidth", "x\x1cy", "\u2028 \u2029", "a\x85b"])
def test_fold_fast_path_cases(text: str) -> None:
    assert fold(text) == _fold_by_regex(text)


def test_only_the_space_is_printable_whitespace() -> None:
    """fold()'s fast path rests on it: a line with no unprintable character has no whitespace but " "."""
    assert [hex(code) for code in range(0x110000) if chr(code).isspace() and chr(code).isprintable()] == ["0x20"]


LETTERS = st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяўқғҳABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "АБВЕЁЦЪЬЎҒҚҲʻʼ‘’'` -\t\n.,", max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), LETTERS))
def test_never_raises_and_fold_keeps_tokens(text: str) -> None:
    assert isinstance(to_latin(text), str)
    assert isinstance(to_cyrillic(text), str)
    folded = fold(text)
    assert len(folded.split()) == len(text.split())
    assert fold(folded) == folded


@settings(max_examples=200, deadline=None)
@given(LETTERS)
def test_to_latin_leaves_no_uzbek_cyrillic(text: str) -> None:
    assert not any("\u0400" <= ch <= "\u04ff" for ch in to_latin(text))
