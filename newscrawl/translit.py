"""Uzbek Cyrillic <-> Latin (1995 alphabet as revised: oʻ gʻ sh ch ng ʼ) and cross-script search folding.

Stored text is never transliterated; these functions serve display and search. `fold` is the key
used on both indexed text and queries, so "Ўзбекистон", "Oʻzbekiston", "O'zbekiston" and "Ozbekiston"
all meet at "ozbekiston".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

OKINA = "\u02bb"  # ʻ modifier letter turned comma, in oʻ and gʻ
TUTUQ = "\u02bc"  # ʼ modifier letter apostrophe, for ъ and the tutuq belgisi
APOSTROPHES = "ʻʼ‘’'`´ʹ′"
APOSTROPHE_SET = frozenset(APOSTROPHES)

CYRILLIC_VOWELS = frozenset("аеёиоуэюяўы")
LATIN_VOWELS = frozenset("aeiou")
IOTATED = frozenset("еёюя")
HARD_SOFT = frozenset("ъь")
CONTEXT_LETTERS = frozenset("ецъ")
YOTATED_LATIN = frozenset("eoua")
OG = frozenset("og")
SC = frozenset("sc")

CYRILLIC_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ё": "yo", "ж": "j", "з": "z", "и": "i", "й": "y",
    "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "x", "ч": "ch", "ш": "sh", "щ": "sh", "ы": "i", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ў": "o" + OKINA, "қ": "q", "ғ": "g" + OKINA, "ҳ": "h",
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ә": "a", "ө": "o", "ү": "u", "ң": "ng", "һ": "h", "ҷ": "j",
}

LATIN_TO_CYRILLIC = {
    "a": "а", "b": "б", "c": "ц", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "ҳ", "i": "и", "j": "ж",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "қ", "r": "р", "s": "с", "t": "т",
    "u": "у", "v": "в", "w": "в", "x": "х", "y": "й", "z": "з",
}

# Words whose Cyrillic spelling keeps letters the Latin one lost (ь, ц, йо); matched whole, any case.
CYRILLIC_EXCEPTIONS = {
    "yanvar": "январь", "fevral": "февраль", "aprel": "апрель", "iyun": "июнь", "iyul": "июль",
    "sentyabr": "сентябрь", "oktyabr": "октябрь", "noyabr": "ноябрь", "dekabr": "декабрь",
    "rayon": "район", "rayoni": "райони", "rayonida": "районида", "mayor": "майор",
}

LATIN_WORD_RE = re.compile(rf"[A-Za-z]+(?:[{APOSTROPHES}][A-Za-z]+)*(?:(?<=[oOgG])[{APOSTROPHES}])?")
PROTECTED_RE = re.compile(r"(\S*(?:://|www\.|@)\S*)")


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f"


def _cased(piece: str, upper: bool, all_caps: bool) -> str:
    if not upper or not piece:
        return piece
    return piece.upper() if all_caps else piece[0].upper() + piece[1:]


def to_latin(text: str) -> str:
    """Uzbek Cyrillic to Latin; Latin and other characters pass through unchanged."""
    out: list[str] = []
    n = len(text)
    for i, ch in enumerate(text):
        low = ch.lower()
        if not _is_cyrillic(ch) or (low not in CYRILLIC_TO_LATIN and low not in CONTEXT_LETTERS):
            out.append(ch)
            continue
        prev = text[i - 1].lower() if i > 0 else ""
        nxt = text[i + 1].lower() if i + 1 < n else ""
        after_vowel = prev in CYRILLIC_VOWELS or prev in LATIN_VOWELS
        word_start = not prev.isalpha()
        if low == "е":
            piece = "ye" if word_start or after_vowel or prev in HARD_SOFT else "e"
        elif low == "ц":
            piece = "ts" if after_vowel else "s"
        elif low == "ъ":
            piece = "" if nxt in IOTATED else TUTUQ
        elif low == "с" and nxt == "ҳ":
            piece = "s" + TUTUQ
        else:
            piece = CYRILLIC_TO_LATIN[low]
        out.append(_cased(piece, ch.isupper(), _caps_context(text, i)))
    return "".join(out)


def _caps_context(text: str, i: int) -> bool:
    """True when the letter at i sits in an ALL-CAPS word, so a digraph is written SH, not Sh."""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if nxt.isalpha() and nxt.lower() != nxt.upper():
        return nxt.isupper()
    prev = text[i - 1] if i > 0 else ""
    return prev.isalpha() and prev.isupper()


def to_cyrillic(text: str) -> str:
    """Uzbek Latin (any apostrophe variant) to Cyrillic; Cyrillic, URLs and e-mail addresses pass through."""
    parts = PROTECTED_RE.split(text)
    for index in range(0, len(parts), 2):
        parts[index] = LATIN_WORD_RE.sub(lambda m: _word_to_cyrillic(m.group(0)), parts[index])
    return "".join(parts)


def _word_to_cyrillic(word: str) -> str:
    key = "".join(ch for ch in word.lower() if ch not in APOSTROPHE_SET)
    if key in CYRILLIC_EXCEPTIONS and all(ch not in APOSTROPHE_SET for ch in word):
        exception = CYRILLIC_EXCEPTIONS[key]
        if word.isupper() and len(word) > 1:
            return exception.upper()
        return exception[0].upper() + exception[1:] if word[0].isupper() else exception
    out: list[str] = []
    low = word.lower()
    n = len(word)
    i = 0
    while i < n:
        ch, c = word[i], low[i]
        c1 = low[i + 1] if i + 1 < n else ""
        c2 = low[i + 2] if i + 2 < n else ""
        c3 = low[i + 3] if i + 3 < n else ""
        prev = low[i - 1] if i > 0 else ""
        step, piece = 1, ""
        if c in APOSTROPHE_SET:
            if not (prev == "s" and c1 == "h"):
                piece = "Ъ" if i + 1 < n and word[i - 1].isupper() and word[i + 1].isupper() else "ъ"
        elif c in OG and c1 in APOSTROPHE_SET:
            step, piece = 2, "ў" if c == "o" else "ғ"
        elif c in SC and c1 == "h":
            step, piece = 2, "ш" if c == "s" else "ч"
        elif c == "y" and c1 in YOTATED_LATIN and not (c1 == "o" and c2 in APOSTROPHE_SET):
            step = 2
            if c1 == "e":
                piece = "е" if i == 0 or prev in LATIN_VOWELS or prev in APOSTROPHE_SET else "ъе"
            else:
                piece = {"o": "ё", "u": "ю", "a": "я"}[c1]
        elif c == "t" and c1 == "s" and (i == 0 or (c2 == "i" and (c3 in LATIN_VOWELS or c3 == "y"))):
            step, piece = 2, "ц"
        elif c == "e":
            piece = "э" if i == 0 or prev in LATIN_VOWELS else "е"
        else:
            piece = LATIN_TO_CYRILLIC.get(c, ch)
        following = word[i + step] if i + step < n else ""
        all_caps = (following.isupper() if following.isalpha() else (i > 0 and word[i - 1].isupper()))
        out.append(_cased(piece, ch.isupper(), all_caps or len(piece) == 1))
        i += step
    return "".join(out)


CYRILLIC_LETTER_RE = re.compile(r"[\u0400-\u0481\u048a-\u052f]")
LATIN_LETTER_RE = re.compile(r"[A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")
# Letters are counted by runs (a word is one match, not one per letter): the same counts, a fifth of the matches
# on an article's text (detect_script runs on every article's title, lead and body).
_CYRILLIC_RUN_RE = re.compile(CYRILLIC_LETTER_RE.pattern + "+")
_LATIN_RUN_RE = re.compile(LATIN_LETTER_RE.pattern + "+")


def _letters(run: re.Pattern[str], text: str) -> int:
    return sum(map(len, run.findall(text)))


def detect_script(text: str, threshold: float = 0.2) -> str | None:
    """'cyrl', 'latn' or 'mixed' by letter counts (digits, punctuation and ʻ ʼ ignored); None without letters."""
    if threshold >= 0:  # a text without a letter of one script (most articles) is the other's: nothing to count
        if _LATIN_RUN_RE.search(text) is None:
            return "cyrl" if _CYRILLIC_RUN_RE.search(text) else None
        if _CYRILLIC_RUN_RE.search(text) is None:
            return "latn"
    return _counted_script(text, threshold)


def _counted_script(text: str, threshold: float) -> str | None:
    """detect_script by counting both scripts' letters."""
    cyrillic = _letters(_CYRILLIC_RUN_RE, text)
    latin = _letters(_LATIN_RUN_RE, text)
    total = cyrillic + latin
    if total == 0:
        return None
    if min(cyrillic, latin) / total > threshold:
        return "mixed"
    return "cyrl" if cyrillic > latin else "latn"


FOLD_CACHE = 16384
"""Distinct words whose fold() is remembered (least recently used dropped first): running text repeats its common
words, while titles bring words never seen again, so a bigger cache only holds memory in the archive writer
(65,536 entries held ~10 MB once a crawl of ~65,000 articles had filled it, for no measurable speed)."""
FOLD_TABLE = str.maketrans({**{a: None for a in APOSTROPHE_SET}, "x": "h"})
WHITESPACE_RE = re.compile(r"(\s+)")


def fold(text: str) -> str:
    """Search key: lowercase, Cyrillic to Latin, x/х/ҳ to h, apostrophes removed; whitespace kept as is."""
    text = unicodedata.normalize("NFC", text)
    # Text whose only whitespace is spaces and newlines (nearly every title, lead and body) is cut with str.split,
    # several times faster than the regular expression on an article body (the archive folds every article's
    # text on every write). The words then are exactly the regular expression's tokens. The check: a line with
    # nothing unprintable holds no whitespace but the space (every other whitespace character, \t \r \xa0
    # \u2009 ..., is unprintable), in one C loop, where comparing the words with str.split() built two lists.
    # Unprintable text that is not whitespace (a soft hyphen) merely takes the regular expression.
    lines = text.split("\n")
    if all(map(str.isprintable, lines)):
        return "\n".join([" ".join(map(_fold_token, line.split(" "))) for line in lines])
    pieces = WHITESPACE_RE.split(text)
    pieces[::2] = map(_fold_token, pieces[::2])
    return "".join(pieces)


@lru_cache(maxsize=FOLD_CACHE)
def _fold_token(token: str) -> str:
    """fold() of one whitespace-free token ("" for ""); cached, since running text repeats its words."""
    folded = to_latin(token.lower()).lower().translate(FOLD_TABLE)
    return folded or token.lower()
