"""The one Thai-text normaliser and the one Thai date parser, used by every part.

Dates on the site are Asia/Bangkok time in several forms: ``6 สิงหาคม 2013 15:00 น.``
(Christian era), ``6 สิงหาคม 2556 15:00 น.`` (Buddhist era = CE + 543),
``7 ส.ค. 2556`` (short month), and Thai digits (``๗ ส.ค. ๒๕๕๖``). Our own parser,
because ``thai_strptime`` mis-reads Buddhist-era years and fails on Thai digits.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from typing import overload
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")
BUDDHIST_ERA_OFFSET = 543
BUDDHIST_ERA_FROM = 2400  # a year from here on is Buddhist era

# Invisible characters that change bytes but not what a reader sees: every format
# character (Unicode category Cf: zero-width spaces and joiners, LRM/RLM, the bidi
# embeddings, overrides and isolates U+202A-202E and U+2066-2069, BOM, soft hyphen, tag
# characters...) plus COMBINING GRAPHEME JOINER (U+034F, category Mn). A fixed list, not
# computed from ``unicodedata`` at import: what is stored normalised must not change with
# the Python version (tests/test_thai.py checks it covers the running Unicode's Cf).
INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x0600, 0x0605),  # Arabic number signs
    (0x061C, 0x061C),  # Arabic letter mark
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200F),  # ZWSP, ZWNJ, ZWJ, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0x2066, 0x206F),  # bidi isolates, deprecated format characters
    (0xFEFF, 0xFEFF),  # BOM / ZWNBSP
    (0xFFF9, 0xFFFB),  # interlinear annotation
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls (to Unicode 15)
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),  # language tag
    (0xE0020, 0xE007F),  # tag characters
)
ZERO_WIDTH_CHARS = [chr(c) for a, b in INVISIBLE_RANGES for c in range(a, b + 1)]
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_THAI_DIGIT_TABLE = {ord(t): str(i) for i, t in enumerate(THAI_DIGITS)}
_WHITESPACE = re.compile(r"\s+")


# str.translate walks a dict per character (slow on Thai text); a regex scan is ~15x faster
# and most texts have nothing to replace.
_ZERO_WIDTH_RE = re.compile(
    "[" + "".join(f"{chr(a)}-{chr(b)}" if a != b else chr(a) for a, b in INVISIBLE_RANGES) + "]"
)
_THAI_DIGIT_RE = re.compile(f"[{THAI_DIGITS}]")


def thai_digits_to_ascii(text: str) -> str:
    if _THAI_DIGIT_RE.search(text) is None:
        return text
    return text.translate(_THAI_DIGIT_TABLE)


def remove_zero_width(text: str) -> str:
    return _ZERO_WIDTH_RE.sub("", text)


NIKHAHIT = "\u0e4d"
# SARA AM (U+0E33) typed as NIKHAHIT + SARA AA, which renders the same (NFC does not join
# them), also with a tone mark typed between: ``น + ํ + ้ + า`` is ``น้ำ``. A tone typed
# before the NIKHAHIT is the plain case. Thai has no other NIKHAHIT + SARA AA sequence.
_SPLIT_SARA_AM_RE = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")


def join_sara_am(text: str) -> str:
    """NIKHAHIT (+ tone mark) + SARA AA as SARA AM (tone mark first, as Thai is encoded)."""
    if NIKHAHIT not in text:
        return text
    return _SPLIT_SARA_AM_RE.sub("\\1\u0e33", text)


def squash_whitespace(text: str) -> str:
    """Every run of whitespace (NBSP and newlines included) becomes one space; trimmed."""
    # str.split() splits on exactly the characters regex \s matches, 3x faster.
    return " ".join(text.split())


def normalise_characters(text: str) -> str:
    """Invisible characters removed (``INVISIBLE_RANGES``), NFC, SARA AM typed as
    NIKHAHIT + SARA AA joined, Thai digits as ASCII; whitespace left as it is (the
    duplicate detector keeps paragraphs apart).

    Invisible characters go before NFC: a removed joiner can leave marks that NFC must
    still put in order.
    """
    text = join_sara_am(unicodedata.normalize("NFC", remove_zero_width(text)))
    return thai_digits_to_ascii(text)


def normalise_text(text: str) -> str:
    """``normalise_characters`` with whitespace squashed. For comparing and matching; text
    is stored as the site shows it."""
    return squash_whitespace(normalise_characters(text))


def compact_text(text: str) -> str:
    """``normalise_text`` with all whitespace removed and case folded: for matching terms
    that spammers split with spaces or zero-width characters (``ส ล็ อ ต``)."""
    return "".join(normalise_text(text).split()).casefold()


def normalise_tag(tag: str) -> str:
    """A tag as compared with a campaign keyword: ``normalise_text`` (invisible characters
    removed, NFC, SARA AM joined, Thai digits as ASCII, whitespace squashed), leading ``#``
    removed, trimmed, case folded."""
    text = normalise_text(tag)
    text = text.lstrip("#＃").strip()
    return text.casefold()


# --- dates --------------------------------------------------------------------------------

_MONTHS_FULL = [
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
]
_MONTHS_SHORT = [
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
]
_MONTH_LOOKUP: dict[str, int] = {}
for _i, (_full, _short) in enumerate(zip(_MONTHS_FULL, _MONTHS_SHORT, strict=True), start=1):
    _MONTH_LOOKUP[_full] = _i
    _MONTH_LOOKUP[_short.replace(".", "")] = _i  # ส.ค., สค., ส.ค all become สค
_MONTH_LOOKUP["กพ"] = 2

# No number is cut short: the day starts and the year, minute and second end at a
# non-digit ("131 ส.ค." is not the 31st, "25567" is not 2556).
_DATE_CORE = (
    r"(?<!\d)(?P<day>\d{1,2})\s*(?P<month>[\u0E00-\u0E7F.]+)\s*(?P<year>\d{4})(?!\d)"
    r"(?:\s*(?:เวลา\s*)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?(?!\d))?"
)
# Site text: a date anywhere in it.
_DATE_PATTERN = re.compile(_DATE_CORE)
# Typed by an operator: the whole text is the date (an optional ``น.`` after the time).
_TYPED_DATE_PATTERN = re.compile(rf"\s*{_DATE_CORE}(?:(?<=\d)\s*น\.?)?\s*")
# What may not follow a date in site text: a time that the pattern could not read whole.
_UNREAD_TIME = re.compile(r"\s*(?:เวลา\s*\d|\d{1,2}[:.]\d)")


_ISO_WITH_OFFSET = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}"
)


class ThaiDateError(ValueError):
    """A date that could not be read; the message quotes it."""


@overload
def as_bangkok(value: datetime) -> datetime: ...
@overload
def as_bangkok(value: None) -> None: ...
def as_bangkok(value: datetime | None) -> datetime | None:
    """A stored time in Asia/Bangkok; a time without a zone is taken as Bangkok time (the
    warehouse stores TIMESTAMPTZ, so only old or hand-made rows lack one)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=BANGKOK)
    return value.astimezone(BANGKOK)


def _year_to_ce(year: int) -> int:
    # A year of 2400 or more is Buddhist era (2400 BE = 1857 CE, long before the web); the
    # same rule for the Thai forms and ISO dates.
    return year - BUDDHIST_ERA_OFFSET if year >= BUDDHIST_ERA_FROM else year


def parse_thai_datetime(text: str) -> datetime:
    """Parse a site date into an aware datetime in Asia/Bangkok.

    Also accepts ISO 8601 (``2013-08-22T10:05:00+07:00``), as the comments JSON uses,
    with a Buddhist-era year read as such (``2556-08-31``). A date without a time is
    midnight.
    """
    return _parse(text)[0]


def _parse(text: str, *, whole: bool = False) -> tuple[datetime, str]:
    """The datetime and the smallest unit the text gave: day, hour, minute or second.

    ``whole``: the text must be the date and nothing else (typed input); otherwise the date
    may sit in other text (site pages), but a number is never read in part.
    """
    if text is None:
        raise ThaiDateError("no date given")
    # What the site writes in <time datetime> and the comments JSON (thousands per crawl)
    # is plain ASCII that normalising would not change: skip it there.
    cleaned = text if _ISO_WITH_OFFSET.fullmatch(text) else normalise_text(text)
    iso = _parse_iso(cleaned)
    if iso is not None:
        return iso
    if whole:
        match = _TYPED_DATE_PATTERN.fullmatch(cleaned)
    else:
        match = _DATE_PATTERN.search(cleaned)
        if match and _UNREAD_TIME.match(cleaned, match.end()):
            match = None
    if not match:
        raise ThaiDateError(f"not a date: {text!r}")
    month_key = match["month"].replace(".", "")
    month = _MONTH_LOOKUP.get(month_key)
    if month is None:
        raise ThaiDateError(f"unknown month {match['month']!r} in {text!r}")
    try:
        value = datetime(
            _year_to_ce(int(match["year"])),
            month,
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            tzinfo=BANGKOK,
        )
    except ValueError as exc:
        raise ThaiDateError(f"impossible date {text!r}: {exc}") from None
    return value, "second" if match["second"] else "minute" if match["hour"] else "day"


def parse_thai_date(text: str) -> date:
    return parse_thai_datetime(text).date()


_ISO_DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}(?P<minute>:?\d{2})?(?P<second>:?\d{2})?")


def _parse_iso(text: str) -> tuple[datetime, str] | None:
    date_match = _ISO_DATE.match(text)
    if date_match is None:
        return None
    typed, year = text, int(date_match[1])
    if _year_to_ce(year) != year:  # read the rest in the Christian era (29 Feb 2555 BE)
        text = f"{_year_to_ce(year):04d}{text[4:]}"
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=BANGKOK)
        value = value.astimezone(BANGKOK)
    except (ValueError, OverflowError) as exc:
        raise ThaiDateError(f"not a date: {typed!r} ({exc})") from None
    time_match = _ISO_TIME.match(text)
    if time_match is None:
        given = "day"
    elif time_match["second"]:
        given = "second"
    else:
        given = "minute" if time_match["minute"] else "hour"
    return value, given


def parse_user_datetime(text: str, *, end_of_day: bool = False) -> datetime:
    """A date typed by an operator: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]`` (Asia/Bangkok
    unless an offset is given; a year of 2400 or more is Buddhist era), or any Thai site
    form, matched whole (anything more is refused). A date or time means all of it: its
    start, or with ``end_of_day`` its end: a date alone 23:59:59, a time to the minute that
    minute's last instant (``23:59`` is 23:59:59.999999, so a post at 23:59:30 is in time);
    seconds typed are kept."""
    value, given = _parse(text or "", whole=True)  # _parse normalises what needs it
    if not end_of_day or given == "second":
        return value
    if given == "day":
        return datetime.combine(value.date(), time(23, 59, 59), tzinfo=BANGKOK)
    value = value.replace(second=59, microsecond=999999)
    return value.replace(minute=59) if given == "hour" else value


def format_thai_date(
    value: datetime | date, *, era: str = "BE", short: bool = False, with_time: bool = True
) -> str:
    """``6 สิงหาคม 2556 15:00 น.`` (era ``BE``) or ``6 สิงหาคม 2013 15:00 น.`` (``CE``)."""
    if isinstance(value, datetime):
        value = value.astimezone(BANGKOK)
    year = value.year + (BUDDHIST_ERA_OFFSET if era.upper() == "BE" else 0)
    month = (_MONTHS_SHORT if short else _MONTHS_FULL)[value.month - 1]
    text = f"{value.day} {month} {year}"
    if with_time and isinstance(value, datetime):
        text += f" {value:%H:%M} น."
    return text
