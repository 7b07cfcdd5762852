"""Spam score from named signals.

Each signal is something generally true of advertising posts on a blog platform, not of
one generator: gambling vocabulary (matched after removing spaces and zero-width
characters, so ``ส ล็ อ ต`` and ``สล็​อต`` still match), many links for little text, LINE
IDs and phone numbers to contact, very short or mostly non-Thai text, the same line over
and over, and the same text posted under several accounts.

Signals combine as a noisy-or: ``score = 1 - prod(1 - weight_i)``. One strong gambling
term alone reaches the threshold; contact details alone (a LINE ID and a phone number)
stay below it, since honest posts carry those too.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from warehouse.thai import compact_text, normalise_text, remove_zero_width

SPAM_THRESHOLD = 0.5

# Compact forms (no spaces, case folded). Strong: words that on a Thai blog mean a
# gambling advertisement. Weak: words an honest post may use (a post about the lottery).
STRONG_TERMS = (
    "สล็อต",
    "สลอต",
    "บาคาร่า",
    "บาคารา",
    "เว็บตรง",
    "ฝากถอน",
    "ฝาก-ถอน",
    "แทงบอล",
    "คาสิโน",
    "คาสิโนออนไลน์",
    "ufabet",
    "pgslot",
    "slotxo",
    "joker123",
    "sagame",
    "sexybaccarat",
    "baccarat",
    "เว็บพนัน",
    "พนันออนไลน์",
    "แทงหวย",
    "หวยออนไลน์",
    "รูเล็ต",
    "ป๊อกเด้ง",
    "ถอนได้จริง",
    "เว็บสล็อต",
)
WEAK_TERMS = (
    "พนัน",
    "หวย",
    "เครดิตฟรี",
    "โบนัส",
    "ทดลองเล่น",
    "สมัครสมาชิก",
    "โปรโมชั่น",
    "แจกฟรี",
    "casino",
    "slot",
    "jackpot",
    "แจ็คพอต",
    "ได้เงินจริง",
    "รวยเร็ว",
    "ยิงปลา",
    "ไฮโล",
    "เสือมังกร",
    "ไม่มีขั้นต่ำ",
    "แตกง่าย",
)
WEIGHTS = {
    "strong_terms": 0.6,  # first strong term; each further distinct one adds 0.15
    "weak_terms": 0.15,  # each distinct weak term, up to 3
    "link_density": 0.35,
    "links": 0.15,
    "line_id": 0.3,
    "phone": 0.25,
    "very_short": 0.1,
    "non_thai": 0.2,
    "repeated_lines": 0.25,
    "cross_account_copy": 0.3,
}
LINK_DENSITY_LIMIT = 0.5  # URLs per 100 characters of text
MANY_LINKS = 3
VERY_SHORT_CHARS = 80
NON_THAI_RATIO = 0.7  # share of letters that are not Thai
REPEATED_LINE_TIMES = 3

_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|co|io|bet|vip|xyz|me|cc)\b", re.I
)
_LINE_RE = re.compile(
    r"line\s*id\s*[:：]?\s*@?[a-z0-9._-]{3,}|line\s*[:：]\s*@?[a-z0-9._-]{3,}|line\s*@[a-z0-9._-]{3,}"
    r"|ไลน์\s*(?:ไอดี)?\s*[:：]?\s*@?[a-z0-9._-]{3,}|(?<![\w.@])@[a-z0-9._-]{3,}"
    r"|ไลน์ไอดี|line\s*id|แอดไลน์",
    re.I,
)
# Thai mobiles: 0[689]x-xxx-xxxx with any spacing or dashes; also +66 forms.
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?66[\s.-]?|0)[689](?:[\s.-]?\d){8}(?!\d)")
_URL_HINTS = (
    "http",
    "www.",
    ".com",
    ".net",
    ".org",
    ".co",
    ".io",
    ".bet",
    ".vip",
    ".xyz",
    ".me",
    ".cc",
)
_LINE_HINTS = ("line", "ไลน์", "@")
_PHONE_HINTS = ("06", "08", "09", "66")
_STRONG = tuple(dict.fromkeys(compact_text(t) for t in STRONG_TERMS))
_WEAK = tuple(dict.fromkeys(compact_text(t) for t in WEAK_TERMS))


@dataclass(frozen=True, slots=True)
class SpamResult:
    score: float
    signals: dict[str, Any] = field(default_factory=dict)  # name -> the value that fired

    @property
    def is_spam(self) -> bool:
        return self.score >= SPAM_THRESHOLD

    def why(self) -> str:
        names = ", ".join(_describe(name, value) for name, value in self.signals.items())
        return f"Looks like spam (score {self.score:.2f}): {names}."


def _describe(name: str, value: Any) -> str:
    if name in ("strong_terms", "weak_terms"):
        label = "gambling terms" if name == "strong_terms" else "weak gambling terms"
        return f"{label} {', '.join(value)}"
    if name == "link_density":
        return f"{value} links per 100 characters"
    if name == "links":
        return f"{value} links"
    if name == "line_id":
        return f"LINE ID {', '.join(value)}"
    if name == "phone":
        return f"phone {', '.join(value)}"
    if name == "very_short":
        return f"very short text ({value} characters)"
    if name == "non_thai":
        return f"{value:.0%} of letters not Thai"
    if name == "repeated_lines":
        return f"a line repeated {value} times"
    if name == "cross_account_copy":
        return f"the same text under {value} accounts"
    return f"{name}={value}"


def _terms_in(compact: str, terms: tuple[str, ...]) -> list[str]:
    found = [t for t in terms if t in compact]
    # "สล็อต" inside "เว็บสล็อต" is one finding, not two.
    return [t for t in found if not any(t != o and t in o for o in found)]


_NOT_LATIN_BYTES = bytes(b for b in range(256) if not (65 <= b <= 90 or 97 <= b <= 122))


def _letter_counts(text: str) -> tuple[int, int]:
    """(Thai characters, Latin letters) in ``text``, counted on its UTF-8 bytes: every Thai
    character starts with E0 B8 or E0 B9; multi-byte sequences never hold ASCII bytes."""
    data = text.encode("utf-8")
    thai = data.count(b"\xe0\xb8") + data.count(b"\xe0\xb9")
    return thai, len(data.translate(None, _NOT_LATIN_BYTES))


def body_normal_lines(body_text: str) -> list[str]:
    """The body's lines, with zero-width characters removed (copies hide behind them)."""
    return remove_zero_width(body_text).splitlines()


def spam_signals(title: str, body_text: str, *, accounts_with_same_text: int = 1) -> dict[str, Any]:
    """The named signals that fire for one post, with their values."""
    title_normal = normalise_text(title)
    body_normal = normalise_text(body_text)
    normal = f"{title_normal} {body_normal}"
    body_compact = "".join(body_normal.split()).lower()
    compact = "".join(title_normal.split()).lower() + body_compact
    signals: dict[str, Any] = {}
    strong = _terms_in(compact, _STRONG)
    if strong:
        signals["strong_terms"] = strong
    weak = [t for t in _terms_in(compact, _WEAK) if not any(t in s for s in strong)]
    if weak:
        signals["weak_terms"] = weak
    lower = normal.lower()
    # Cheap substring checks first: most posts have no link, LINE ID or phone number, and
    # the regexes cost ten times more than these scans.
    urls = _URL_RE.findall(normal) if any(h in lower for h in _URL_HINTS) else []
    chars = max(1, len(compact))
    if urls:
        density = round(len(urls) * 100 / chars, 2)
        if density >= LINK_DENSITY_LIMIT:
            signals["link_density"] = density
        elif len(urls) >= MANY_LINKS:
            signals["links"] = len(urls)
    line_ids = (
        sorted({m.group(0).strip() for m in _LINE_RE.finditer(normal)})
        if any(h in lower for h in _LINE_HINTS)
        else []
    )
    if line_ids:
        signals["line_id"] = line_ids[:5]
    phones = (
        sorted({m.group(0).strip() for m in _PHONE_RE.finditer(normal)})
        if any(h in normal for h in _PHONE_HINTS)
        else []
    )
    if phones:
        signals["phone"] = phones[:5]
    if len(body_compact) < VERY_SHORT_CHARS:
        signals["very_short"] = len(body_compact)
    thai, latin = _letter_counts(body_normal)
    if thai + latin >= 20 and latin / (thai + latin) >= NON_THAI_RATIO:
        signals["non_thai"] = round(latin / (thai + latin), 3)
    lines = [line for line in map(str.strip, body_normal_lines(body_text)) if len(line) >= 6]
    if len(lines) - len(set(lines)) >= REPEATED_LINE_TIMES - 1:
        times = Counter(lines).most_common(1)[0][1]
        if times >= REPEATED_LINE_TIMES:
            signals["repeated_lines"] = times
    if accounts_with_same_text >= 2:
        signals["cross_account_copy"] = accounts_with_same_text
    return signals


def score_signals(signals: dict[str, Any]) -> float:
    keep = 1.0
    for name, value in signals.items():
        weight = WEIGHTS.get(name, 0.0)
        if name == "strong_terms":
            weight = min(0.95, weight + 0.15 * (len(value) - 1))
            keep *= 1 - weight
        elif name == "weak_terms":
            for _ in value[:3]:
                keep *= 1 - weight
        else:
            keep *= 1 - weight
    return round(1 - keep, 4)


def spam_score(title: str, body_text: str, *, accounts_with_same_text: int = 1) -> SpamResult:
    signals = spam_signals(title, body_text, accounts_with_same_text=accounts_with_same_text)
    return SpamResult(score=score_signals(signals), signals=signals)
