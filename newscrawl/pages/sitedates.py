"""Dates as a site prints them: the profile's own formats and time zone, then the general date parser."""

from __future__ import annotations

from datetime import datetime, timezone

from newscrawl.dates import ParsedDate, parse_date_precise
from newscrawl.sites import Profile


def site_date(text: str, base: datetime, profile: Profile | None, formats: bool = False) -> ParsedDate | None:
    """A date printed on the site: the profile's own strptime formats first (when asked), then parse_date
    in the profile's time zone (Tashkent without a profile)."""
    zone = profile.zone if profile else None
    for fmt in profile.date_formats if profile and formats else ():
        try:
            value = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        precision = "second" if "%S" in fmt else "minute" if "%M" in fmt else "day"
        return ParsedDate(value.replace(tzinfo=value.tzinfo or zone), precision)
    return parse_date_precise(text, base, zone)


def card_date(text: str | None, fetched_at: datetime | None, profile: Profile | None) -> ParsedDate | None:
    """The date a listing or related-news card prints, read as the profile says (its `date_formats` and
    zone), relative forms resolved against when the card was fetched. The one reading of a card's date:
    extraction stores it, and a `--since` backfill decides with it which cards are too old."""
    if not text:
        return None
    base = fetched_at or datetime.now(timezone.utc)
    return site_date(text, base if base.tzinfo else base.replace(tzinfo=timezone.utc), profile, formats=True)
