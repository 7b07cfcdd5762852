"""The replica's own small Thai text and date helpers.

The replica is the ground truth the crawler is checked against, so it must not share
code with the product (``warehouse.thai``, ``scraper``): a bug there would then be on both
sides of the comparison and hide. These helpers cover only what the replica writes.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")
BUDDHIST_ERA_OFFSET = 543
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
TO_THAI_DIGITS = str.maketrans("0123456789", THAI_DIGITS)
MONTHS_FULL = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip
MONTHS_SHORT = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip


def thai_date(
    value: datetime,
    *,
    era: str = "BE",
    short: bool = False,
    with_time: bool = True,
    thai_digits: bool = False,
) -> str:
    """``6 สิงหาคม 2556 15:00 น.`` (BE) / ``6 สิงหาคม 2013 15:00 น.`` (CE) / ``7 ส.ค. 2556``."""
    local = value.astimezone(BANGKOK)
    year = local.year + (BUDDHIST_ERA_OFFSET if era == "BE" else 0)
    month = (MONTHS_SHORT if short else MONTHS_FULL)[local.month - 1]
    text = f"{local.day} {month} {year}"
    if with_time:
        text += f" {local.hour:02d}:{local.minute:02d} น."
    return text.translate(TO_THAI_DIGITS) if thai_digits else text


def is_invisible(char: str) -> bool:
    """A format character (Unicode Cf: zero-width spaces and joiners, BOM, soft hyphen...)."""
    return unicodedata.category(char) == "Cf"


def written_tag(shown: str) -> str:
    """The tag as its author wrote it, from how a page shows it: invisible characters
    removed, NFC, whitespace trimmed, no leading ``#``; case kept."""
    text = "".join(ch for ch in shown if not is_invisible(ch))
    text = unicodedata.normalize("NFC", text).strip()
    return text.lstrip("#").strip()


def tag_key(tag: str) -> str:
    """How the site matches a tag with a listing's keyword: the written form, case folded,
    inner whitespace squashed."""
    return " ".join(written_tag(tag).split()).casefold()


def compact(text: str) -> str:
    """Text without invisible characters and whitespace, NFC, case folded (for the
    replica's own near-miss label: the keyword mentioned anywhere)."""
    kept = "".join(ch for ch in text if not is_invisible(ch))
    return "".join(unicodedata.normalize("NFC", kept).split()).casefold()
