"""One story in two scripts: whether two archived articles are the Cyrillic and Latin versions of one story.

The site publishes most stories twice, in Uzbek Cyrillic and in Uzbek Latin, at two URLs. The archive gives both
the same `articles.story_key` (see docs/stories.md), so counts per day count stories, not copies. Two articles are
twins when the site says so (`<link rel=alternate hreflang>`, Article.alternates) or, without that, when they are
in different scripts, were published within WINDOW of each other, and their titles match once transliterated and
folded (newscrawl.translit.fold) with a similarity of at least MIN_SIMILARITY.

Pure: no database. The archive (newscrawl/archive.py) looks the candidates up by published_at (indexed) and stores
the key; migration 0011 uses a frozen copy of these rules (newscrawl/migrations/stories_v1.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from functools import lru_cache

from newscrawl.translit import fold

WINDOW = timedelta(minutes=30)
"""How far apart the two versions' publication times may be. The site publishes them together; editors finish the
second script some minutes later. Stories 30+ minutes apart with matching titles are rare (a follow-up with the
same headline is usually hours or days later), and the title must match as well."""
MIN_SIMILARITY = 0.85
"""Title similarity (title_similarity: the share of shared words) from which two versions are one story. Twins on
one site score 1.0 (the site transliterates its own headline), or 0.9+ when the Latin edition adds or drops a word
of a long headline. Headlines built on one template ("Президент X делегациясини қабул қилди") differ in one word
of five or six and score 0.73-0.8: they stay apart, at the cost of missing a twin whose short headline was
rewritten (tests/test_stories.py holds the measured cases)."""
WORD_SIMILARITY = 0.8
"""Character similarity (difflib ratio) from which two words are spellings of one word."""
SCRIPTS = frozenset({"cyrl", "latn"})
STORY_COUNT_SQL = "count(DISTINCT coalesce(story_key, id))"
"""Counts stories, not copies, over a set of `articles` rows (the twins of a story share story_key)."""
CACHED_TITLES = 1024
"""Titles (and published times) whose folded words are remembered: a new article is compared with the articles of
its hour only, a few dozen on a busy site; 4,096 held ~7 MB in the archive writer for nothing."""
NOT_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Candidate:
    """An archived article that might be the other version of a story (the columns the match needs)."""

    id: int
    title: str | None
    script: str | None
    published_at: str | None
    story_key: int | None

    @property
    def key(self) -> int:
        """The story key this article carries (its own id until it has one)."""
        return self.story_key if self.story_key is not None else self.id


@lru_cache(maxsize=CACHED_TITLES)  # a title is compared with every article of its hour
def title_key(title: str | None) -> str:
    """The title folded across scripts and apostrophes, punctuation dropped: "Oʻzbekiston – AQSh: 1,3 mlrd" and
    "Ўзбекистон - АҚШ 1.3 млрд" both give "ozbekiston aqsh 1 3 mlrd"."""
    return " ".join(NOT_WORD.sub(" ", fold(title or "")).replace("_", " ").split())


def title_similarity(a: str | None, b: str | None) -> float:
    """0..1: the share of words two folded titles have in common (Dice: 2 * shared / total words). A word also
    matches another spelling of itself (Mirziyoev/Mirziyoyev, delegatsiyasi/delegatsiyasini): the same first
    three letters and a character similarity of at least WORD_SIMILARITY. Numbers match only exactly."""
    (first, first_keys), (second, second_keys) = _words(a), _words(b)
    if not first or not second:
        return 0.0
    # Every matching pair of words shares its match key (the word, or the first letters of a spellable word):
    # an upper bound that rules out almost every candidate of the hour without comparing a character.
    possible = min(sum(key in second_keys for key, _ in first), sum(key in first_keys for key, _ in second))
    if 2 * possible / (len(first) + len(second)) < MIN_SIMILARITY:
        return 2 * possible / (len(first) + len(second))
    return _shared_words([word for _, word in first], [word for _, word in second])


@lru_cache(maxsize=CACHED_TITLES)
def _words(title: str | None) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    """The folded title's words with their match keys, and the set of those keys."""
    words = tuple((word[:3] if _spellable(word) else word, word) for word in title_key(title).split())
    return words, frozenset(key for key, _ in words)


def _shared_words(first: list[str], second: list[str]) -> float:
    left = Counter(second)
    shared, unmatched = 0, []
    for word in first:
        if left[word]:
            left[word] -= 1
            shared += 1
        else:
            unmatched.append(word)
    # the rest can only match a spelling of itself: the same first three letters (no numbers, no short words)
    rest: dict[str, list[str]] = {}
    for word, count in left.items():
        if _spellable(word):
            rest.setdefault(word[:3], []).extend([word] * count)
    total = len(first) + len(second)
    unmatched = [word for word in unmatched if _spellable(word) and word[:3] in rest]
    possible = sum(min(count, len(rest[prefix])) for prefix, count in Counter(w[:3] for w in unmatched).items())
    if 2 * (shared + possible) / total < MIN_SIMILARITY:  # cannot reach it: skip the character comparisons
        return 2 * shared / total
    for word in unmatched:
        others = rest[word[:3]]
        for index, other in enumerate(others):
            if SequenceMatcher(None, word, other, autojunk=False).ratio() >= WORD_SIMILARITY:
                del others[index]
                shared += 1
                break
    return 2 * shared / total


def _spellable(word: str) -> bool:
    """Whether a word may match another spelling of itself (numbers and words under four letters match exactly)."""
    return len(word) >= 4 and not word.isdigit()


@lru_cache(maxsize=CACHED_TITLES)
def published(value: str | None) -> datetime | None:
    """An archived published_at as an aware datetime; None when missing or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def search_window(published_at: str | None) -> tuple[str, str] | None:
    """The published_at range (as text, in the article's own offset, so it compares with the stored values of
    the same site on the published_at index) in which its twin must lie; None without a date."""
    moment = published(published_at)
    if moment is None:
        return None
    return (moment - WINDOW).isoformat(), (moment + WINDOW).isoformat()


def is_twin(article: Candidate, other: Candidate) -> bool:
    """Whether two articles are the two scripts' versions of one story by time and title (no hreflang)."""
    return _score(article, other) is not None


def _score(article: Candidate, other: Candidate) -> tuple[float, float] | None:
    """(similarity, -minutes apart) when other is a twin of article, else None."""
    if article.id == other.id or article.script not in SCRIPTS or other.script not in SCRIPTS:
        return None
    if article.script == other.script:
        return None
    mine, theirs = published(article.published_at), published(other.published_at)
    if mine is None or theirs is None or abs(mine - theirs) > WINDOW:
        return None
    similarity = title_similarity(article.title, other.title)
    if similarity < MIN_SIMILARITY:
        return None
    return similarity, -abs(mine - theirs).total_seconds() / 60


def best_twin(article: Candidate, candidates: Iterable[Candidate]) -> Candidate | None:
    """The candidate that is article's twin by time and title: the most similar title, then the nearest time,
    then the earliest archived; None when none is."""
    best: tuple[tuple[float, float, int], Candidate] | None = None
    for other in candidates:
        score = _score(article, other)
        if score is not None and (best is None or (*score, -other.id) > best[0]):
            best = ((*score, -other.id), other)
    return best[1] if best else None


def story_key(article: Candidate, alternates: Iterable[Candidate], candidates: Iterable[Candidate]) -> int:
    """The story key of article: that of a version the page itself links (hreflang), else that of its twin by time
    and title, else its own id (a story seen in one script so far)."""
    linked = [other for other in alternates if other.id != article.id]
    if linked:
        return min(linked, key=lambda other: other.id).key
    twin = best_twin(article, candidates)
    return twin.key if twin is not None else article.id
