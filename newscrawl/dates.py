"""Parse the publication dates an Uzbek news site prints (Uzbek Cyrillic/Latin, Russian, English).

Every result is an aware datetime in Tashkent time (UTC+05:00), or in the `zone` a caller passes for a site
elsewhere (a site profile's `timezone`). Relative forms ("Бугун 13:35", "2 soat oldin", "Вчера в 19:48")
resolve against the fetch time in that zone's calendar. Text that
is not clearly one date gives None: the parser never raises and never guesses.

Clean forms go through a token grammar (fast, exact); anything else with a day, month and year
is handed to dateparser with strict settings after Uzbek month names are rewritten in English.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dateparser.date import DateDataParser
from typing import cast

TASHKENT = timezone(timedelta(hours=5), "Asia/Tashkent")
PRECISIONS = ("day", "minute", "second")
MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_LENGTH = 160
_ZONE: ContextVar[timezone] = ContextVar("newscrawl_date_zone", default=TASHKENT)
"""The zone of text that names none, for the parse under way (set by parse_date_precise)."""


@dataclass(frozen=True)
class ParsedDate:
    """A parsed instant in Tashkent time and how much of it the text gave."""

    value: datetime
    precision: str


def _month_words() -> dict[str, int]:
    words: dict[str, int] = {}
    uz_cyrl = "январ феврал март апрел май июн июл август сентябр октябр ноябр декабр".split()
    uz_latn = "yanvar fevral mart aprel may iyun iyul avgust sentyabr oktyabr noyabr dekabr".split()
    ru_gen = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()
    ru_loc = "январе феврале марте апреле мае июне июле августе сентябре октябре ноябре декабре".split()
    ru_abbr = "янв фев мар апр мая июн июл авг сен окт ноя дек".split()
    en = "january february march april may june july august september october november december".split()
    cyrl_suffixes = ["", "ь", "да", "ьда", "дан", "ьдан", "ни", "ьни", "нинг", "ьнинг", "и", "ида"]
    latn_suffixes = ["", "'", "da", "dan", "ni", "ning", "i", "ida"]
    for number in range(1, 13):
        for suffix in cyrl_suffixes:
            words[uz_cyrl[number - 1] + suffix] = number
        for suffix in latn_suffixes:
            words[uz_latn[number - 1] + suffix] = number
        for form in (ru_gen, ru_loc, ru_abbr, en):
            words[form[number - 1]] = number
        words[en[number - 1][:3]] = number
    words.update({"sept": 9, "сент": 9, "февр": 2, "нояб": 11, "sentabr": 9, "oktabr": 10, "сентабр": 9, "октабр": 10,
                  "sentabrda": 9, "oktabrda": 10, "iyn": 6, "iyl": 7})
    return words


MONTHS = _month_words()
ENGLISH_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December"]

WEEKDAYS = frozenset(
    "душанба сешанба чоршанба пайшанба жума шанба якшанба "
    "dushanba seshanba chorshanba payshanba juma shanba yakshanba "
    "понедельник вторник среда четверг пятница суббота воскресенье "
    "пн вт ср чт пт сб вс "
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun".split()
)

FILLERS = frozenset(
    "в во at on the of soat соат г г. года год йил йили йилда йилнинг yil yili yilda yilning year й й. y. "
    "kuni куни da да - — –".split()
)

DAY_WORDS = {
    "бугун": 0, "bugun": 0, "сегодня": 0, "today": 0,
    "кеча": -1, "kecha": -1, "вчера": -1, "yesterday": -1,
    "позавчера": -2,
    "эртага": 1, "ertaga": 1, "завтра": 1, "tomorrow": 1,
}

LABEL_RE = re.compile(
    r"^(?:янгиланди|yangilandi|чоп этилди|chop etildi|нашр этилди|nashr etildi|эълон қилинди|e'lon qilindi"
    r"|опубликовано|обновлено|изменено|добавлено|дата публикации|дата обновления|последнее обновление"
    r"|published(?: on)?|updated(?: on)?|last updated|posted(?: on)?|modified|created"
    r"|сана|sana|дата|date|вақт|vaqt|время|time)\s*:?\s+"
)

LOCAL_TIME_RE = re.compile(
    r"[\s,(]*(?:toshkent vaqti(?: bilan)?|тошкент вақти(?: билан)?|по ташкентскому времени|по ташкенту"
    r"|ташкентское время|tashkent time)\)?$"
)
APOSTROPHES = str.maketrans({c: "'" for c in "ʻʼ‘’`´ʹ′"})
SPACES_RE = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
DASHES_RE = re.compile(r"[\u2010-\u2015\u2212]")
SEPARATORS_RE = re.compile(r"\s[/|•·]\s|[,;()\[\]]")
DIGIT_WORD_DASH_RE = re.compile(r"(?<=\d)-(?=[^\W\d_])|(?<=\d{4})(?=(?:г|й|y|yil|йил|года|год)\b)")
ORDINAL_RE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|-го|-chi|-чи)$")

ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*(z|utc|gmt|[+-]\d{2}(?::?\d{2})?)?$"
)
TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(am|pm|a\.m\.|p\.m\.)?(z|[+-]\d{2}:?\d{2})?$")
NUMERIC_DATE_RE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})$")
YEAR_FIRST_DATE_RE = re.compile(r"^(\d{4})([./-])(\d{1,2})\2(\d{1,2})$")
ZONE_RE = re.compile(r"^(?:gmt|utc|ut)?([+-])(\d{1,2})(?::?(\d{2}))?$")
NAMED_ZONES = {"gmt": 0, "utc": 0, "ut": 0, "z": 0, "мск": 3, "msk": 3}
AMPM = {"am": "am", "a.m.": "am", "pm": "pm", "p.m.": "pm"}

NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "бир": 1, "bir": 1, "один": 1, "одну": 1, "одна": 1}
UNIT_WORDS: dict[str, str] = {}
for _unit, _forms in {
    "second": "сония сониya секунд секунда секунды секунду сек сек. soniya sekund sec secs second seconds s",
    "minute": "дақиқа дакика дақ. дақ минут минута минуты минуту мин мин. daqiqa dakika daq. daq minut min min. "
              "mins minute minutes",
    "hour": "соат час часа часов ч ч. soat hr hrs hour hours h",
    "day": "кун день дня дней kun day days",
    "week": "ҳафта хафта неделя недели недель неделю hafta week weeks",
    "month": "ой месяц месяца месяцев мес мес. oy month months",
    "year": "йил год года лет yil year years",
}.items():
    for _form in _forms.split():
        UNIT_WORDS[_form] = _unit
AGO_WORDS = frozenset("олдин аввал oldin avval назад ago".split())
JUST_NOW = frozenset({"ҳозиргина", "hozirgina", "ҳозир", "hozir", "только что", "just now", "right now", "сейчас"})


def to_tashkent(moment: datetime | None) -> datetime:
    """An aware datetime in Tashkent time; naive input is taken as UTC, None as now."""
    if moment is None:
        return datetime.now(TASHKENT)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(TASHKENT)


def parse_date(text: str, base: datetime | None = None, zone: timezone | None = None) -> datetime | None:
    """The instant `text` names, in Tashkent time (or `zone`), or None when it is not clearly one date."""
    parsed = parse_date_precise(text, base, zone)
    return parsed.value if parsed else None


def parse_date_precise(text: str, base: datetime | None = None, zone: timezone | None = None) -> ParsedDate | None:
    """Like parse_date, also telling whether the text gave a day, a minute or a second."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_LENGTH:
        return None
    token = _ZONE.set(zone or TASHKENT)
    try:
        return _parse(text, to_tashkent(base).astimezone(_ZONE.get()))
    except (ValueError, OverflowError, TypeError):
        return None
    finally:
        _ZONE.reset(token)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower().translate(APOSTROPHES)
    text = DASHES_RE.sub("-", SPACES_RE.sub(" ", text)).strip(" .|•·:")
    text = LABEL_RE.sub("", text + " ").strip()
    return LOCAL_TIME_RE.sub("", text)


READ_CACHE = 2048
"""Date texts whose reading (cleaning and tokens, apart from the fetch time) is remembered: the same card dates
recur on page after page (every article's related block, every listing). A page has a few dozen date texts; at
about 0.5 KB an entry the cache stays under 1 MB however long the crawl."""


@lru_cache(maxsize=READ_CACHE)
def _read(text: str) -> tuple[re.Match[str] | None, tuple[str, ...]]:
    """What a date text says before it is resolved against a moment: its ISO form, or its tokens."""
    cleaned = _clean(text)
    iso = ISO_RE.match(cleaned)
    if iso:
        return iso, ()
    flat = SEPARATORS_RE.sub(" ", DIGIT_WORD_DASH_RE.sub(" ", cleaned))
    return None, tuple(t for t in (tok.rstrip(",:") for tok in flat.split()) if t and t not in WEEKDAYS)


def _parse(text: str, base: datetime) -> ParsedDate | None:
    iso, read = _read(text)
    if iso:
        return _from_iso(iso)
    tokens = list(read)
    phrase = " ".join(tokens)
    if phrase in JUST_NOW:
        return ParsedDate(_minute(base), "minute")
    relative = _relative(tokens, base)
    if relative is not None:
        return relative
    return _from_tokens([t for t in tokens if t not in FILLERS], base, phrase)


def _from_iso(match: re.Match[str]) -> ParsedDate | None:
    year, month, day, hour, minute, second, zone = match.groups()
    tz = _zone(zone) if zone else _ZONE.get()
    if tz is None:
        return None
    precision = "day" if hour is None else ("minute" if second is None else "second")
    value = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz)
    return _checked(value.astimezone(_ZONE.get()), precision)


def _zone(token: str) -> timezone | None:
    if token in NAMED_ZONES:
        return timezone(timedelta(hours=NAMED_ZONES[token]))
    match = ZONE_RE.match(token)
    if not match:
        return None
    sign, hours, minutes = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if offset > timedelta(hours=14):
        return None
    return timezone(-offset if sign == "-" else offset)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=_ZONE.get())


def _checked(value: datetime, precision: str) -> ParsedDate | None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    return ParsedDate(value, precision)


def _relative(tokens: list[str], base: datetime) -> ParsedDate | None:
    """'2 soat oldin', '5 минут назад', 'an hour ago', 'час назад'."""
    if len(tokens) not in (2, 3) or tokens[-1] not in AGO_WORDS:
        return None
    unit = UNIT_WORDS.get(tokens[-2])
    if unit is None:
        return None
    if len(tokens) == 2:
        count = 1
    elif tokens[0].isdigit() and len(tokens[0]) <= 4:
        count = int(tokens[0])
    elif tokens[0] in NUMBER_WORDS:
        count = NUMBER_WORDS[tokens[0]]
    else:
        return None
    if unit == "second":
        return ParsedDate(base.replace(microsecond=0) - timedelta(seconds=count), "second")
    if unit in ("minute", "hour"):
        delta = timedelta(minutes=count) if unit == "minute" else timedelta(hours=count)
        return ParsedDate(_minute(base - delta), "minute")
    if unit in ("day", "week"):
        days = count if unit == "day" else 7 * count
        return _checked(_midnight(base.date() - timedelta(days=days)), "day")
    months = count if unit == "month" else 12 * count
    index = base.year * 12 + base.month - 1 - months
    year, month = divmod(index, 12)
    if year < MIN_YEAR:
        return None
    day = min(base.day, monthrange(year, month + 1)[1])
    return _checked(_midnight(date(year, month + 1, day)), "day")


def _time(token: str) -> tuple[time, str, timezone | None] | None:
    """(time of day, precision, explicit zone) from '13:35', '07:33:00', '1:35pm', '12:33+05:00'."""
    match = TIME_RE.match(token)
    if not match:
        return None
    hour, minute, second, ampm, zone = match.groups()
    h = int(hour)
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if AMPM[ampm] == "pm" else 0)
    tz = _zone(zone) if zone else None
    if zone and tz is None:
        return None
    return time(h, int(minute), int(second or 0)), ("minute" if second is None else "second"), tz


def _from_tokens(tokens: list[str], base: datetime, phrase: str) -> ParsedDate | None:
    """Parse a token list such as ['15', 'ноябрь', '2025', '13:35'] with a small grammar."""
    kinds: list[str] = []
    values: list[object] = []
    for i, token in enumerate(tokens):
        kind, value = _classify(token)
        if kind == "A":
            if not kinds or kinds[-1] != "T":
                return _fallback(tokens, base)
            kinds[-1], values[-1] = "T", _time(tokens[i - 1] + str(value))
            if values[-1] is None:
                return None
            continue
        if kind == "?":
            return _fallback(tokens, base)
        kinds.append(kind)
        values.append(value)
    if kinds.count("T") > 1 or kinds.count("Z") > 1:
        return None
    clock: tuple[time, str, timezone | None] | None = None
    zone: timezone | None = None
    parts: list[tuple[str, object]] = []
    for kind, value in zip(kinds, values, strict=True):
        if kind == "T":
            clock = value  # type: ignore[assignment]
        elif kind == "Z":
            zone = value  # type: ignore[assignment]
        else:
            parts.append((kind, value))
    if zone is not None and (clock is None or clock[2] is not None):
        return None
    day = _day(parts, base)
    if day is None:
        return None
    if clock is None:
        return _checked(_midnight(day), "day")
    tz = clock[2] or zone or _ZONE.get()
    value = datetime.combine(day, clock[0], tzinfo=tz).astimezone(_ZONE.get())
    return _checked(value, clock[1])


@lru_cache(maxsize=READ_CACHE)  # pure, and tokens recur even more than texts ("2025", "ноябрь", "13:35")
def _classify(token: str) -> tuple[str, object]:
    """One of N (day number), Y (year), M (month), D (numeric date), T (time), A (am/pm), Z (zone), R (day word)."""
    if token.isdigit():
        if len(token) <= 2:
            return "N", int(token)
        if len(token) == 4:
            return "Y", int(token)
        return "?", None
    ordinal = ORDINAL_RE.match(token)
    if ordinal:
        return "N", int(ordinal.group(1))
    month = MONTHS.get(token) or MONTHS.get(token.rstrip("."))
    if month:
        return "M", month
    if token in DAY_WORDS:
        return "R", DAY_WORDS[token]
    if token in AMPM:
        return "A", token
    if token in NAMED_ZONES or ZONE_RE.match(token):
        zone = _zone(token)
        return ("Z", zone) if zone else ("?", None)
    if ":" in token:
        clock = _time(token)
        return ("T", clock) if clock else ("X", None)
    numeric = NUMERIC_DATE_RE.match(token)
    if numeric:
        day, _, month_number, year = numeric.groups()
        full_year = int(year) + 2000 if len(year) == 2 else int(year)
        return "D", (full_year, int(month_number), int(day))
    year_first = YEAR_FIRST_DATE_RE.match(token)
    if year_first:
        year, _, month_number, day = year_first.groups()
        return "D", (int(year), int(month_number), int(day))
    return "?", None


def _day(parts: list[tuple[str, object]], base: datetime) -> date | None:
    """The calendar day named by the date tokens (time and zone removed)."""
    signature = "".join(kind for kind, _ in parts)
    values = [value for _, value in parts]
    if "X" in signature:
        return None
    if signature == "D":
        year, month, day = cast("tuple[int, int, int]", values[0])
        return date(year, month, day)
    if signature == "R":
        return base.date() + timedelta(days=values[0])  # type: ignore[arg-type]
    layouts = {"NMY": (0, 1, 2), "MNY": (1, 0, 2), "YMN": (2, 1, 0), "YNM": (1, 2, 0), "NM": (0, 1, None),
               "MN": (1, 0, None)}
    if signature not in layouts:
        return None
    day_at, month_at, year_at = layouts[signature]
    day, month = int(values[day_at]), int(values[month_at])  # type: ignore[call-overload]
    if year_at is not None:
        return date(int(values[year_at]), month, day)  # type: ignore[call-overload]
    return _latest_day(month, day, base.date())


def _latest_day(month: int, day: int, today: date) -> date | None:
    """The latest `day` of `month` not after `today` (for dates printed without a year)."""
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    for year in range(today.year, today.year - 9, -1):
        if day <= monthrange(year, month)[1] and date(year, month, day) <= today:
            return date(year, month, day)
    return None


def _fallback(tokens: list[str], base: datetime) -> ParsedDate | None:
    """Hand a form the grammar does not know to dateparser, only when a day, month and year are all there."""
    months = [MONTHS[t] for t in tokens if t in MONTHS]
    numbers = [t for t in tokens if t.isdigit() or ORDINAL_RE.match(t)]
    years = [t for t in numbers if len(t) == 4 and t.isdigit()]
    if len(months) != 1 or len(years) != 1 or len(numbers) < 2 or len(tokens) > 12:
        return None
    rewritten = " ".join(ENGLISH_MONTHS[MONTHS[t] - 1] if t in MONTHS else t for t in tokens)
    local = _ZONE.get()
    found = _dateparser(_offset(local)).get_date_data(rewritten).date_obj
    if found is None or found.year != int(years[0]) or found.month != months[0]:
        return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=local)
    has_clock = any(TIME_RE.match(t) for t in tokens)
    if not has_clock:
        if (found.hour, found.minute, found.second) != (0, 0, 0):
            return None
        return _checked(_midnight(found.date()), "day")
    precision = "second" if any(t.count(":") == 2 for t in tokens) else "minute"
    return _checked(found.astimezone(local).replace(microsecond=0), precision)


def _offset(zone: timezone) -> str:
    """'+05:00' for a fixed-offset zone, as dateparser's settings want it."""
    minutes = int(zone.utcoffset(None).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@lru_cache(maxsize=8)
def _dateparser(offset: str = "+05:00") -> DateDataParser:
    """A cached dateparser instance (per zone offset) with strict, day-first, past-preferring settings."""
    from dateparser.date import DateDataParser

    return DateDataParser(
        languages=["en", "ru", "uz"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "past",
            "STRICT_PARSING": True,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "TIMEZONE": offset,
            "TO_TIMEZONE": offset,
            "PARSERS": ["absolute-time"],
        },
    )


def time_bound(value: str | date | datetime, *, end_of_day: bool = False) -> str:
    """A --since/--until value as an ISO 8601 Tashkent timestamp (how published_at is stored, so it compares as text).

    A date is midnight at its start, or with `end_of_day` midnight at the start of the next day; a datetime without
    a zone is Tashkent time. Raises ValueError naming the value when it is neither.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not a date or datetime: {text!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    if not isinstance(value, datetime):
        value = datetime.combine(value + timedelta(days=1) if end_of_day else value, time(0, 0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=TASHKENT)
    return value.astimezone(TASHKENT).isoformat()
