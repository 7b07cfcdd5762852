"""The draw, tagdraw-draw-v1: a fair, repeatable, publicly verifiable ranking of the pool.

Same idea as RFC 3797, with HMAC-SHA256 (how to check a draw by hand: docs/draw.md):

1. The frozen pool is the text ``post_number,author_key`` (header, rows sorted by post number,
   LF line ends, a final LF, UTF-8); ``pool_hash`` is the SHA-256 hex of its bytes.
2. The randomness string is each published value in canonical form (:func:`canonical_value`:
   trimmed, every Unicode decimal digit as its ASCII digit, anything else refused), followed
   by ``/``: only ASCII digits and ``/``. The freeze fixes how many values there are and how
   many digits each has (``--value-digits`` or a named :data:`SOURCE_PRESETS` entry).
3. ``prk = HMAC-SHA256(bytes.fromhex(pool_hash), randomness)``;
   ``score = HMAC-SHA256(prk, str(post_number) + b"\\x01")`` as a big-endian integer;
   rank ascending by ``(score, post_number)``.
4. Walk the ranking, skipping (with one prize per author) authors already chosen; the first
   ``prizes`` chosen win in prize order, the next ``alternates`` are the alternates in order.
5. A certificate holds every input and output; :func:`verify_certificate` re-derives it.

Nothing here uses ``random``: Python does not promise that a seeded sequence stays the same.

The first half of this module is pure (no database); the second half is the stateful freeze /
unfreeze / run / replace over the warehouse, each in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from typing import Any

from warehouse.audit import audit
from warehouse.campaigns import freeze_campaign, get_campaign, unfreeze_campaign
from warehouse.decisions import record_decision
from warehouse.entries import Entry, list_entries
from warehouse.errors import UserError
from warehouse.thai import BANGKOK, as_bangkok
from warehouse.users import Role, require_actor

ALGORITHM = "tagdraw-draw-v1"
POOL_HEADER = "post_number,author_key"
CERTIFICATE_KEYS = (
    "algorithm",
    "campaign",
    "pool",
    "pool_hash",
    "randomness",
    "sources",
    "prizes",
    "alternates",
    "one_prize_per_author",
    "ranking",
    "winners",
    "alternate_list",
    "replacements",
    "created_at",
    "version",
)
# How many individual ranking differences verify lists before summarising the rest.
_MAX_LISTED_DIFFERENCES = 10
# The largest post number a pool may hold: the warehouse stores post numbers as BIGINT.
MAX_POST_NUMBER = 2**63 - 1
# The one form a randomness string takes: ASCII digits, each value followed by '/'.
_RANDOMNESS_FORM = re.compile(r"(?:[0-9]+/)+")


def _shown(text: str, limit: int = 40) -> str:
    """``repr`` of a possibly huge or hostile input, cut to ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} chars)"


def code_version() -> str:
    try:
        return f"tagdraw {metadata.version('tagdraw')}"
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "tagdraw (source)"


# --- the pure algorithm -------------------------------------------------------------------


@dataclass(frozen=True)
class RankedEntry:
    post_number: int
    author_key: str
    score_hex: str  # 64 lower-case hex digits

    def as_json(self) -> dict[str, Any]:
        return {
            "post_number": self.post_number,
            "author_key": self.author_key,
            "score": self.score_hex,
        }


def _check_author_key(post_number: int, author_key: str) -> None:
    if not author_key or any(ch in author_key for ch in ",\r\n"):
        raise UserError(
            f"post {post_number}: author key {author_key!r} cannot go into the pool "
            "(it must be non-empty and hold no comma or line break)"
        )


def pool_text(rows: Iterable[tuple[int, str]]) -> str:
    """The frozen pool file's text: header, ``post_number,author_key`` rows sorted by post
    number, LF line ends, a final LF. ``author_key`` is lower-cased here."""
    seen: set[int] = set()
    lines = [POOL_HEADER]
    for post_number, author_key in sorted(rows, key=lambda row: int(row[0])):
        number = int(post_number)
        if number < 0:
            raise UserError(f"post number {number} cannot be negative")
        if number > MAX_POST_NUMBER:
            raise UserError(f"post number {number} is too large for a pool (at most 2**63 - 1)")
        if number in seen:
            raise UserError(f"post {number} is in the pool twice")
        seen.add(number)
        key = (author_key or "").strip().lower()
        _check_author_key(number, key)
        lines.append(f"{number},{key}")
    return "\n".join(lines) + "\n"


def pool_hash(text: str) -> str:
    """SHA-256 hex of the pool text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_value(value: str) -> str:
    """The one spelling of a published value that the draw uses: trimmed, and every Unicode
    decimal digit (Thai ``๑``, full-width ``１``, Arabic-Indic ``١``, mathematical ``𝟏``, ...)
    as its ASCII digit. Anything else (a comma, a space or a zero-width character inside, a
    sign, a superscript) is refused, never dropped: a value that could be typed two ways
    would let whoever types it choose between two outcomes. Not the text normaliser: that
    removes invisible characters, which here must be refused."""
    text = str(value).strip()
    if not text:
        raise UserError(f"randomness value {_shown(str(value))} is empty")
    digits: list[str] = []
    for char in text:
        digit = unicodedata.decimal(char, None)
        if digit is None:
            raise UserError(
                f"randomness value {_shown(str(value))}: {char!r} (U+{ord(char):04X}) is not a "
                "digit; give the published digits only (no commas, spaces or other marks)"
            )
        digits.append(str(digit))
    return "".join(digits)


def randomness_string(values: Sequence[str]) -> str:
    """Each published value in canonical form followed by ``/``, in the announced order."""
    if isinstance(values, str):
        raise TypeError("randomness_string takes a sequence of values, not one string")
    if not values:
        raise UserError("give at least one published randomness value")
    return "".join(canonical_value(value) + "/" for value in values)


def values_problems(values: Sequence[str], expected: int, digits: int | None) -> list[str]:
    """How canonical ``values`` depart from what the freeze announced (empty: they fit)."""
    problems: list[str] = []
    if len(values) != expected:
        problems.append(
            f"the freeze announced {_count(expected)} but {_count(len(values))} "
            f"{'was' if len(values) == 1 else 'were'} given"
        )
    for value in values:
        if digits is not None and not (
            len(value) == digits and value.isascii() and value.isdigit()
        ):
            problems.append(
                f"value {value!r} is not {digits} digits, the format the freeze announced"
            )
    return problems


def _count(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


@dataclass(frozen=True)
class SourcePreset:
    """A public source of randomness whose format is known: the freeze takes its count and
    digits from here (``--source-preset NAME``) instead of ``--value-count``/``--value-digits``."""

    name: str
    values: int  # how many published values the draw takes
    digits: int  # digits per value
    description: str  # what the value is, for --help and the dashboard


SOURCE_PRESETS: dict[str, SourcePreset] = {
    preset.name: preset
    for preset in (
        SourcePreset(
            "th-lottery-first-prize",
            values=1,
            digits=6,
            description="Thai Government Lottery first prize (สลากกินแบ่งรัฐบาล รางวัลที่ 1): "
            "1 value of 6 digits",
        ),
    )
}


def value_format(
    preset: str | None, values: int | None, digits: int | None
) -> tuple[int, int, str | None]:
    """(values, digits per value, preset name) a freeze announces. The format is always
    fixed: from a named preset, or from ``digits`` (with ``values``, default 1). An explicit
    count or digits that differ from the preset's are refused."""
    for name, number, low, high in (
        ("--value-count", values, 1, 20),
        ("--value-digits", digits, 1, 100),
    ):
        if number is not None and (isinstance(number, bool) or not low <= int(number) <= high):
            raise UserError(f"{name} must be {low} to {high}, not {number!r}")
    if preset is not None:
        chosen = SOURCE_PRESETS.get(preset.strip())
        if chosen is None:
            raise UserError(
                f"unknown source preset {_shown(preset)}; the presets are: "
                + ", ".join(SOURCE_PRESETS)
            )
        for name, given, fixed in (
            ("--value-count", values, chosen.values),
            ("--value-digits", digits, chosen.digits),
        ):
            if given is not None and int(given) != fixed:
                raise UserError(
                    f"{name} {given} contradicts the source preset {chosen.name} ({fixed}); "
                    "leave it out or do not use the preset"
                )
        return chosen.values, chosen.digits, chosen.name
    if digits is None:
        raise UserError(
            "say how many digits each published value has (--value-digits D), or name a "
            "source preset (--source-preset NAME: " + ", ".join(SOURCE_PRESETS) + "); a value "
            "of no fixed format could be typed in several ways, each with other winners"
        )
    return int(values) if values is not None else 1, int(digits), None


# The note freeze appends to the randomness source, e.g. ' [1 value, 6 digits each]': the
# announcement itself says how many values the draw takes, and the pool row keeps it.
_VALUES_NOTE = re.compile(r"\s*\[(\d+) values?(?:, (\d+) digits each)?\]\s*$")


def values_note(values: int, digits: int | None) -> str:
    return f" [{_count(values)}" + (f", {digits} digits each" if digits else "") + "]"


def parse_values_note(source: str) -> tuple[int, int | None]:
    """(expected number of values, digits per value or None) from a frozen source text.
    A source frozen before the note existed announced one value of no fixed format."""
    match = _VALUES_NOTE.search(source or "")
    if not match:
        return 1, None
    return int(match.group(1)), int(match.group(2)) if match.group(2) else None


def split_randomness(randomness: str) -> list[str]:
    """The values of a randomness string (``'123456/789/'`` -> ``['123456', '789']``)."""
    if not randomness.endswith("/"):
        raise UserError(
            f"randomness string {_shown(randomness)} must end with '/' (e.g. '123456/')"
        )
    values = randomness[:-1].split("/")
    if any(not v or v != v.strip() for v in values):
        raise UserError(
            f"randomness string {_shown(randomness)}: each value must be non-empty, trimmed, "
            "and followed by '/'"
        )
    return values


@dataclass(frozen=True)
class PoolRow:
    post_number: int
    author_key: str


def parse_pool(text: str) -> tuple[list[PoolRow], list[str]]:
    """Rows of a pool text and every way it departs from the canonical form."""
    problems: list[str] = []
    if not text.endswith("\n"):
        problems.append("pool: the text must end with a line feed")
    if "\r" in text:
        problems.append("pool: line ends must be LF, not CR LF")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    if not lines or lines[0] != POOL_HEADER:
        problems.append(f"pool: the first line must be {POOL_HEADER!r}")
        body = lines[1:] if lines and "," in lines[0] and not lines[0][:1].isdigit() else lines
    else:
        body = lines[1:]
    rows: list[PoolRow] = []
    previous: int | None = None
    for line_no, line in enumerate(body, start=2):
        number_text, sep, author_key = line.partition(",")
        if not sep or not number_text.isascii() or not number_text.isdigit():
            problems.append(f"pool line {line_no}: {_shown(line)} is not 'post_number,author_key'")
            continue
        # Checked before int(): Python refuses to convert more than 4,300 digits.
        if len(number_text) > len(str(MAX_POST_NUMBER)) or int(number_text) > MAX_POST_NUMBER:
            problems.append(
                f"pool line {line_no}: post number {_shown(number_text, 24)} is too large "
                "(at most 2**63 - 1)"
            )
            continue
        number = int(number_text)
        if str(number) != number_text:
            problems.append(f"pool line {line_no}: post number {number_text!r} has leading zeros")
        if not author_key or author_key != author_key.strip().lower():
            problems.append(
                f"pool line {line_no}: author key {_shown(author_key)} must be non-empty, "
                "trimmed and lower-case"
            )
        if previous is not None and number <= previous:
            problems.append(
                f"pool line {line_no}: post {number} is out of order or repeated (after {previous})"
            )
        previous = number
        rows.append(PoolRow(number, author_key))
    return rows, problems


def _prk(pool_hash_hex: str, randomness: str) -> bytes:
    return hmac.new(
        bytes.fromhex(pool_hash_hex), randomness.encode("utf-8"), hashlib.sha256
    ).digest()


def score_hex(prk: bytes, post_number: int) -> str:
    return hmac.new(prk, str(post_number).encode("ascii") + b"\x01", hashlib.sha256).hexdigest()


def rank_rows(rows: Sequence[PoolRow], pool_hash_hex: str, randomness: str) -> list[RankedEntry]:
    prk = _prk(pool_hash_hex, randomness)
    ranked = [RankedEntry(r.post_number, r.author_key, score_hex(prk, r.post_number)) for r in rows]
    # Fixed-width lower-case hex sorts like the big-endian integer it spells.
    ranked.sort(key=lambda e: (int(e.score_hex, 16), e.post_number))
    return ranked


def rank(pool_text: str, randomness: str) -> list[RankedEntry]:
    """The whole pool ranked by score (ascending), ties by post number."""
    rows, problems = parse_pool(pool_text)
    if problems:
        raise UserError("; ".join(problems))
    return rank_rows(rows, pool_hash(pool_text), randomness)


def choose(
    ranking: Sequence[RankedEntry], prizes: int, alternates: int, one_prize_per_author: bool = True
) -> tuple[list[int], list[int]]:
    """(winners in prize order, alternates in order) by walking the ranking."""
    if prizes < 0 or alternates < 0:
        raise UserError("prizes and alternates cannot be negative")
    chosen: list[int] = []
    authors: set[str] = set()
    for entry in ranking:
        if len(chosen) >= prizes + alternates:
            break
        if one_prize_per_author and entry.author_key in authors:
            continue
        chosen.append(entry.post_number)
        authors.add(entry.author_key)
    return chosen[:prizes], chosen[prizes:]


# --- replacements ---------------------------------------------------------------------------


def next_alternate(
    ranking_authors: Mapping[int, str],
    alternate_list: Sequence[int],
    current_winners: Sequence[int | None],
    used: set[int],
    vacated_rank: int,
    one_prize_per_author: bool,
) -> int | None:
    """The first alternate not yet used whose author holds no other current prize."""
    others = {
        ranking_authors.get(p)
        for i, p in enumerate(current_winners)
        if p is not None and i != vacated_rank - 1
    }
    for candidate in alternate_list:
        if candidate in used:
            continue
        if one_prize_per_author and ranking_authors.get(candidate) in others:
            continue
        return candidate
    return None


def apply_replacement(
    certificate: dict[str, Any],
    disqualified: int,
    *,
    reason: str,
    by: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A new certificate where the next unused alternate takes ``disqualified``'s prize.

    The ranking, winners and alternates stay as drawn; the change is appended to
    ``replacements`` and ``final_winners`` shows who holds each prize now.
    """
    if not reason or not reason.strip():
        raise UserError("a replacement needs a reason")
    cert = json.loads(json.dumps(certificate))  # deep copy: the caller's dict stays as it was
    current = current_winners(cert)
    if disqualified not in current:
        raise UserError(
            f"post {disqualified} holds no prize in this draw (current winners: "
            f"{', '.join(str(p) for p in current if p is not None) or 'none'})"
        )
    prize_rank = current.index(disqualified) + 1
    authors = {r["post_number"]: r["author_key"] for r in cert["ranking"]}
    used = {r["replacement"] for r in cert.get("replacements", []) if r.get("replacement")}
    replacement = next_alternate(
        authors,
        cert["alternate_list"],
        current,
        used,
        prize_rank,
        bool(cert["one_prize_per_author"]),
    )
    cert.setdefault("replacements", []).append(
        {
            "prize_rank": prize_rank,
            "disqualified": disqualified,
            "replacement": replacement,
            "reason": reason.strip(),
            "by": by,
            "at": (at or datetime.now(BANGKOK)).isoformat(),
        }
    )
    cert["final_winners"] = current_winners(cert)
    return cert


def current_winners(certificate: Mapping[str, Any]) -> list[int | None]:
    """Who holds each prize after the certificate's replacements (None: vacant)."""
    holders: list[int | None] = list(certificate.get("winners", []))
    for item in certificate.get("replacements", []):
        index = int(item["prize_rank"]) - 1
        if 0 <= index < len(holders):
            holders[index] = item.get("replacement")
    return holders


# --- the certificate ------------------------------------------------------------------------


def build_certificate(
    *,
    campaign: str,
    pool: str,
    randomness: str,
    sources: Sequence[Mapping[str, Any]],
    prizes: int,
    alternates: int,
    one_prize_per_author: bool = True,
    created_at: datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the draw on a pool text and randomness string and return its certificate."""
    values = split_randomness(randomness)  # refuse a malformed string before deriving
    if not sources:
        sources = [{"value": value} for value in values]
    ranking = rank(pool, randomness)
    winners, alternate_list = choose(ranking, prizes, alternates, one_prize_per_author)
    cert: dict[str, Any] = {
        "algorithm": ALGORITHM,
        "campaign": campaign,
        "pool": pool,
        "pool_hash": pool_hash(pool),
        "randomness": randomness,
        "sources": [dict(s) for s in sources],
        "prizes": int(prizes),
        "alternates": int(alternates),
        "one_prize_per_author": bool(one_prize_per_author),
        "ranking": [e.as_json() for e in ranking],
        "winners": winners,
        "alternate_list": alternate_list,
        "replacements": [],
        "final_winners": list(winners),
        "pool_size": len(ranking),
        "created_at": (created_at or datetime.now(BANGKOK)).isoformat(),
        "version": code_version(),
    }
    if extra:
        cert.update({k: v for k, v in extra.items() if k not in cert})
    return cert


def certificate_json(cert: Mapping[str, Any]) -> str:
    return json.dumps(cert, ensure_ascii=False, indent=2) + "\n"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    differences: list[str] = field(default_factory=list)


def _short(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def verify_certificate(cert: Mapping[str, Any]) -> VerifyResult:
    """Re-derive everything from the certificate alone; list exactly what differs."""
    if not isinstance(cert, Mapping):
        return VerifyResult(False, ["the certificate is not a JSON object"])
    diffs: list[str] = [f"missing key {key!r}" for key in CERTIFICATE_KEYS if key not in cert]
    if cert.get("algorithm") != ALGORITHM:
        diffs.append(
            f"algorithm: {cert.get('algorithm')!r} is unknown (this verifier knows {ALGORITHM!r})"
        )
        return VerifyResult(False, diffs)
    if not isinstance(cert.get("version"), str) or not cert.get("version"):
        diffs.append("version: must name the code version that made the certificate")
    if not isinstance(cert.get("campaign"), str) or not cert.get("campaign"):
        diffs.append("campaign: must name the campaign")
    try:
        datetime.fromisoformat(str(cert.get("created_at")))
    except ValueError:
        diffs.append(f"created_at: {cert.get('created_at')!r} is not an ISO date and time")
    pool = cert.get("pool")
    randomness = cert.get("randomness")
    if not isinstance(pool, str) or not isinstance(randomness, str):
        diffs.append("pool and randomness must be strings; nothing else can be re-derived")
        return VerifyResult(False, diffs)

    rows, problems = parse_pool(pool)
    diffs.extend(problems)
    derived_hash = pool_hash(pool)
    if cert.get("pool_hash") != derived_hash:
        diffs.append(
            f"pool_hash: the certificate says {cert.get('pool_hash')!r} but its pool text "
            f"hashes to {derived_hash!r} (the pool was changed)"
        )
    if not _RANDOMNESS_FORM.fullmatch(randomness):
        # Every certificate, old ones too: a string that merely displays as the published
        # value (a zero-width character, another script's digits) would rank differently.
        diffs.append(
            f"randomness: {_shown(randomness)} is not canonical: only ASCII digits, each value "
            "followed by '/' (e.g. '123456/')"
        )
    try:
        values = split_randomness(randomness)
    except UserError as exc:
        diffs.append(f"randomness: {exc}")
        values = []
    sources = cert.get("sources")
    if (
        not isinstance(sources, list)
        or not sources
        or not all(isinstance(s, Mapping) and "value" in s for s in sources)
    ):
        diffs.append("sources: must list each published value (objects with a 'value')")
    elif values:
        listed = [str(s["value"]).strip() for s in sources]
        if listed != values:
            diffs.append(
                f"sources: the published values {_short(listed)} do not spell the randomness "
                f"string {_shown(randomness)}"
            )
    if values:
        diffs.extend(_verify_values(cert, values))

    ranking = rank_rows(rows, derived_hash, randomness)
    claimed = cert.get("ranking")
    if not isinstance(claimed, list):
        diffs.append("ranking: must be a list")
        claimed = []
    if len(claimed) != len(ranking):
        diffs.append(
            f"ranking: the certificate lists {len(claimed)} entries, the pool has {len(ranking)}"
        )
    ranking_diffs = []
    for index, (mine, theirs) in enumerate(zip(ranking, claimed, strict=False)):
        expected = mine.as_json()
        if not isinstance(theirs, Mapping):
            ranking_diffs.append(f"ranking[{index}]: not an object")
            continue
        for key in ("post_number", "author_key", "score"):
            if theirs.get(key) != expected[key]:
                ranking_diffs.append(
                    f"ranking[{index}].{key}: the certificate says {_short(theirs.get(key))}, "
                    f"re-derived {_short(expected[key])}"
                )
    diffs.extend(ranking_diffs[:_MAX_LISTED_DIFFERENCES])
    if len(ranking_diffs) > _MAX_LISTED_DIFFERENCES:
        diffs.append(
            f"ranking: {len(ranking_diffs) - _MAX_LISTED_DIFFERENCES} more differences not listed"
        )

    prizes, alternates = cert.get("prizes"), cert.get("alternates")
    one_per_author = cert.get("one_prize_per_author")
    if (
        not isinstance(prizes, int)
        or not isinstance(alternates, int)
        or prizes < 0
        or alternates < 0
    ):
        diffs.append("prizes and alternates must be whole numbers, 0 or more")
        return VerifyResult(False, diffs)
    if not isinstance(one_per_author, bool):
        diffs.append("one_prize_per_author must be true or false")
        one_per_author = True
    winners, alternate_list = choose(ranking, prizes, alternates, one_per_author)
    if cert.get("winners") != winners:
        diffs.append(
            f"winners: the certificate says {_short(cert.get('winners'))}, "
            f"re-derived {_short(winners)}"
        )
    if cert.get("alternate_list") != alternate_list:
        diffs.append(
            f"alternate_list: the certificate says {_short(cert.get('alternate_list'))}, "
            f"re-derived {_short(alternate_list)}"
        )
    diffs.extend(_verify_replacements(cert, ranking, winners, alternate_list, one_per_author))
    return VerifyResult(not diffs, diffs)


def _verify_values(cert: Mapping[str, Any], values: Sequence[str]) -> list[str]:
    """The values against the format the freeze announced, read from the certificate: its
    ``randomness_values``/``randomness_digits`` and the note the freeze appended to
    ``randomness_source`` (both, when present, must agree). A certificate made before the
    freeze recorded a format has neither and is checked for its form only."""
    diffs: list[str] = []
    announced: tuple[int, int | None] | None = None
    if "randomness_values" in cert or "randomness_digits" in cert:
        expected, digits = cert.get("randomness_values"), cert.get("randomness_digits")
        if not isinstance(expected, int) or isinstance(expected, bool) or expected < 1:
            return [f"randomness_values: {expected!r} is not a count of values"]
        if digits is not None and (
            not isinstance(digits, int) or isinstance(digits, bool) or digits < 1
        ):
            return [f"randomness_digits: {digits!r} is not a number of digits"]
        announced = (expected, digits)
    source = cert.get("randomness_source")
    if isinstance(source, str) and _VALUES_NOTE.search(source):
        noted = parse_values_note(source)
        if announced is not None and announced != noted:
            diffs.append(
                f"randomness_values/randomness_digits: the certificate says {announced[0]} "
                f"value(s) of {announced[1]} digits, the announced source {_shown(source, 80)} "
                f"says {noted[0]} of {noted[1]}"
            )
        announced = announced or noted
    if announced is not None:
        diffs.extend(f"randomness: {p}" for p in values_problems(values, *announced))
    return diffs


def _verify_replacements(
    cert: Mapping[str, Any],
    ranking: Sequence[RankedEntry],
    winners: Sequence[int],
    alternate_list: Sequence[int],
    one_prize_per_author: bool,
) -> list[str]:
    replacements = cert.get("replacements", [])
    if not isinstance(replacements, list):
        return ["replacements: must be a list"]
    diffs: list[str] = []
    authors = {e.post_number: e.author_key for e in ranking}
    current: list[int | None] = list(winners)
    used: set[int] = set()
    for index, item in enumerate(replacements):
        where = f"replacements[{index}]"
        if not isinstance(item, Mapping):
            diffs.append(f"{where}: not an object")
            continue
        disqualified, prize_rank = item.get("disqualified"), item.get("prize_rank")
        if not isinstance(prize_rank, int) or not 1 <= prize_rank <= len(current):
            diffs.append(f"{where}: prize_rank {prize_rank!r} is not a prize of this draw")
            continue
        if current[prize_rank - 1] != disqualified:
            diffs.append(
                f"{where}: prize {prize_rank} was held by {current[prize_rank - 1]}, "
                f"not by the disqualified post {disqualified}"
            )
        if not str(item.get("reason") or "").strip():
            diffs.append(f"{where}: no reason given")
        expected = next_alternate(
            authors, alternate_list, current, used, prize_rank, one_prize_per_author
        )
        if item.get("replacement") != expected:
            diffs.append(
                f"{where}: the certificate gives prize {prize_rank} to "
                f"{_short(item.get('replacement'))}, but the next unused alternate is "
                f"{_short(expected)}"
            )
        current[prize_rank - 1] = expected
        if expected is not None:
            used.add(expected)
    if "final_winners" in cert and cert["final_winners"] != current:
        diffs.append(
            f"final_winners: the certificate says {_short(cert['final_winners'])}, "
            f"re-derived {_short(current)}"
        )
    return diffs


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def parse_certificate_json(text: str) -> Any:
    """JSON as a certificate is read: an object holding one key twice is refused (one reader
    would see the first ``"winners"``, another the last)."""
    return json.loads(text, object_pairs_hook=_refuse_duplicate_keys)


def load_certificate(path: str) -> dict[str, Any]:
    """Read a certificate file; one clear line if it is missing, not JSON, or ambiguous."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = parse_certificate_json(handle.read())
    except FileNotFoundError:
        raise UserError(f"no certificate file at {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory, not a certificate file") from None
    except _DuplicateKey as exc:
        raise UserError(
            f"{path} is refused: it holds the key {str(exc)!r} twice in one object, so readers "
            "could disagree on its value"
        ) from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers longer than Python converts.
        raise UserError(f"{path} is not a JSON certificate: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a JSON certificate (expected an object)")
    return data


# --- over the warehouse: freeze, unfreeze, run, replace ---------------------------------------
# Each function works in the caller's transaction (warehouse.db.connect / run).


@dataclass(frozen=True)
class FrozenPool:
    pool_id: int
    campaign_slug: str
    state: str  # 'frozen' | 'voided' | 'drawn'
    pool_text: str
    pool_hash: str
    pool_size: int
    left_out: tuple[int, ...]
    randomness_source: str
    randomness_due: datetime
    frozen_at: datetime
    frozen_by: str
    voided_at: datetime | None
    voided_by: str | None
    void_reason: str | None
    # Entries not seen live since the close that an admin accepted (see UnverifiedEntry).
    unverified_entries: tuple[dict[str, Any], ...] = ()

    @property
    def expected_values(self) -> int:
        """How many published values the freeze announced (1 for pools frozen before the
        count was recorded)."""
        return parse_values_note(self.randomness_source)[0]

    @property
    def value_digits(self) -> int | None:
        """Digits per value, if the freeze announced a format."""
        return parse_values_note(self.randomness_source)[1]

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["left_out"] = list(self.left_out)
        out["unverified_entries"] = list(self.unverified_entries)
        for key in ("randomness_due", "frozen_at", "voided_at"):
            out[key] = out[key].isoformat() if out[key] else None
        out["expected_values"] = self.expected_values
        out["value_digits"] = self.value_digits
        return out

    def voided_json(self) -> dict[str, Any]:
        """What a certificate says of a voided pool of the same campaign."""
        return {
            "pool_hash": self.pool_hash,
            "randomness_source": self.randomness_source,
            "randomness_due": self.randomness_due.isoformat(),
            "frozen_at": self.frozen_at.isoformat(),
            "frozen_by": self.frozen_by,
            "voided_at": self.voided_at.isoformat() if self.voided_at else None,
            "voided_by": self.voided_by,
            "void_reason": self.void_reason,
        }


@dataclass(frozen=True)
class UnverifiedEntry:
    """A pool entry not seen live since the campaign closed. Seen live since the close means
    ``posts.gone = false AND posts.last_fetched_at >= campaigns.closes_at`` (the crawler sets
    ``last_fetched_at`` on every fetch, a 304 revalidation included)."""

    post_number: int
    state: str  # 'gone' | 'not_fetched_since_close' | 'never_fetched'
    last_fetched_at: datetime | None

    def describe(self) -> str:
        if self.state == "gone":
            return f"{self.post_number} (gone from the site)"
        if self.last_fetched_at is None:
            return f"{self.post_number} (never fetched)"
        return f"{self.post_number} (last fetched {self.last_fetched_at:%Y-%m-%d %H:%M})"

    def accepted(self, reason: str, accepted_by: str) -> dict[str, Any]:
        """As the pool, the certificate and the announcement record it once accepted."""
        return {
            "post_number": self.post_number,
            "state": self.state,
            "last_fetched_at": self.last_fetched_at.isoformat() if self.last_fetched_at else None,
            "reason": reason,
            "accepted_by": accepted_by,
        }


def unverified_entries(con: Any, slug: str, post_numbers: Sequence[int]) -> list[UnverifiedEntry]:
    """The entries among ``post_numbers`` not seen live since the campaign closed, in
    post-number order."""
    closes_at = get_campaign(con, slug).closes_at
    stored = {
        int(number): (bool(gone), as_bangkok(fetched))
        for number, gone, fetched in con.execute(
            "SELECT post_number, gone, last_fetched_at FROM posts "
            "WHERE post_number IN (SELECT unnest(?::BIGINT[]))",
            [sorted({int(n) for n in post_numbers})],
        ).fetchall()
    }
    out: list[UnverifiedEntry] = []
    for number in sorted({int(n) for n in post_numbers}):
        gone, fetched = stored.get(number, (False, None))
        if gone:
            out.append(UnverifiedEntry(number, "gone", fetched))
        elif fetched is None:
            out.append(UnverifiedEntry(number, "never_fetched", None))
        elif fetched < closes_at:
            out.append(UnverifiedEntry(number, "not_fetched_since_close", fetched))
    return out


@dataclass(frozen=True)
class FreezePlan:
    """What a freeze would do now: the pool, the undecided entries it would leave out, and
    the entries of the pool not seen live since the close (refused unless accepted)."""

    campaign_slug: str
    pool_rows: tuple[tuple[int, str], ...]
    pool_text: str
    pool_hash: str
    undecided: tuple[Entry, ...]  # status 'pending'
    status_counts: dict[str, int]
    unverified: tuple[UnverifiedEntry, ...] = ()


@dataclass(frozen=True)
class WinnerProblem:
    """A current prize holder whose post needs a `draw replace` decision: gone from the site
    or changed after the campaign closed."""

    prize_rank: int
    post_number: int
    kind: str  # 'gone' | 'edited_after_close' | 'not_stored'
    detail: str  # one line, our own words (no scraped text)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DrawStatus:
    campaign_slug: str
    frozen_at: datetime | None
    pool: FrozenPool | None  # the pool in force ('frozen' or 'drawn')
    voided: tuple[FrozenPool, ...]
    certificate: dict[str, Any] | None
    winner_problems: tuple[WinnerProblem, ...] = ()


_POOL_COLUMNS = (
    "pool_id, campaign_slug, state, pool_text, pool_hash, pool_size, left_out, "
    "randomness_source, randomness_due, frozen_at, frozen_by, voided_at, voided_by, void_reason, "
    "unverified_entries"
)


def _pool_from_row(row: Sequence[Any]) -> FrozenPool:
    values = list(row)
    for index in (6, 14):  # JSON lists
        values[index] = tuple(
            json.loads(values[index]) if isinstance(values[index], str) else values[index] or ()
        )
    for index in (8, 9, 11):
        values[index] = as_bangkok(values[index])
    return FrozenPool(*values)


def _pools(con: Any, slug: str) -> list[FrozenPool]:
    rows = con.execute(
        f"SELECT {_POOL_COLUMNS} FROM draw_pools WHERE campaign_slug = ? ORDER BY pool_id",
        [slug],
    ).fetchall()
    return [_pool_from_row(r) for r in rows]


def current_pool(con: Any, slug: str) -> FrozenPool | None:
    """The pool in force for the campaign ('frozen' or 'drawn'), if any. A 'frozen' pool of
    a campaign unfrozen by other means (warehouse.campaigns) is not in force."""
    frozen = get_campaign(con, slug).frozen_at is not None
    for pool in reversed(_pools(con, slug)):
        if pool.state == "drawn" or (pool.state == "frozen" and frozen):
            return pool
    return None


def _now(now: datetime | None) -> datetime:
    value = now or datetime.now(BANGKOK)
    if value.tzinfo is None:
        raise UserError("times must carry a time zone")
    return value.astimezone(BANGKOK)


def plan_freeze(con: Any, slug: str) -> FreezePlan:
    """The pool as it would be frozen now, and which entries are still undecided."""
    entries = list_entries(con, slug)
    counts: dict[str, int] = {}
    rows: list[tuple[int, str]] = []
    for entry in entries:
        counts[entry.status] = counts.get(entry.status, 0) + 1
        if entry.status != "eligible":
            continue
        if not entry.author_key:
            raise UserError(
                f"post {entry.post_number} is eligible but its author is unknown (its page was "
                "never stored); crawl it again or decide it otherwise before freezing"
            )
        rows.append((entry.post_number, entry.author_key))
    text = pool_text(rows)
    return FreezePlan(
        campaign_slug=slug,
        pool_rows=tuple(sorted(rows)),
        pool_text=text,
        pool_hash=pool_hash(text),
        undecided=tuple(e for e in entries if e.status == "pending"),
        status_counts=counts,
        unverified=tuple(unverified_entries(con, slug, [number for number, _ in rows])),
    )


def freeze(
    con: Any,
    slug: str,
    *,
    actor: str,
    randomness_source: str,
    randomness_due: datetime,
    randomness_values: int | None = None,
    randomness_digits: int | None = None,
    source_preset: str | None = None,
    leave_out_undecided: bool = False,
    accept_unverified: str | None = None,
    now: datetime | None = None,
) -> FrozenPool:
    """Freeze the pool of eligible entries and announce the source of randomness.

    The announcement also fixes how many values the draw takes and how many digits each
    has: ``randomness_digits`` (with ``randomness_values``, default 1) or a named
    ``source_preset`` (:data:`SOURCE_PRESETS`), one of them required. They are appended to
    the source text (``' [1 value, 6 digits each]'``), so the draw cannot be run on any
    other count or format. Refused while entries are undecided, unless the admin confirms leaving
    them out (``leave_out_undecided``); refused when the randomness is already due (it might
    be known); refused while an entry of the pool has not been seen live since the campaign
    closed (:func:`unverified_entries`: a post deleted after the close could otherwise win),
    unless the admin accepts them with a reason (``accept_unverified``), which is logged and
    recorded with the pool for the certificate and the announcement. Decisions on the
    campaign are locked until :func:`unfreeze`.
    """
    require_actor(con, actor, Role.ADMIN)
    when = _now(now)
    campaign = get_campaign(con, slug)
    if con.execute("SELECT 1 FROM draws WHERE campaign_slug = ?", [slug]).fetchone():
        raise UserError(f"campaign {slug!r} has been drawn already; its pool cannot change")
    if campaign.frozen_at is not None:
        raise UserError(
            f"campaign {slug!r} is already frozen since {campaign.frozen_at.isoformat()}; "
            "unfreeze it first (logged) to freeze a new pool"
        )
    if not randomness_source or not randomness_source.strip():
        raise UserError("say which public value will seed the draw (--randomness-source)")
    if _VALUES_NOTE.search(randomness_source):
        raise UserError(
            f"the randomness source {randomness_source.strip()!r} ends with a value-count note; "
            "give the count and digits as their own options (--value-count, --value-digits)"
        )
    count, digits, preset = value_format(source_preset, randomness_values, randomness_digits)
    source_text = randomness_source.strip() + values_note(count, digits)
    if randomness_due.tzinfo is None:
        raise UserError("the randomness due time needs a time zone")
    if randomness_due <= when:
        raise UserError(
            f"the randomness is due {randomness_due.astimezone(BANGKOK).isoformat()}, which is "
            "not in the future: announce a value that nobody can know yet"
        )
    plan = plan_freeze(con, slug)
    left_out = tuple(e.post_number for e in plan.undecided)
    if left_out and not leave_out_undecided:
        shown = ", ".join(str(n) for n in left_out[:20]) + (" ..." if len(left_out) > 20 else "")
        raise UserError(
            f"{len(left_out)} entries of {slug!r} are undecided ({shown}): decide them, or "
            "confirm that they are left out of the draw (--leave-out-undecided)"
        )
    if not plan.pool_rows:
        raise UserError(f"campaign {slug!r} has no eligible entries: nothing to draw from")
    accepted: list[dict[str, Any]] = []
    if plan.unverified:
        reason = (accept_unverified or "").strip()
        if not reason:
            shown = "; ".join(u.describe() for u in plan.unverified[:20]) + (
                " ..." if len(plan.unverified) > 20 else ""
            )
            raise UserError(
                f"{len(plan.unverified)} entries of {slug!r} have not been seen live since the "
                f"campaign closed ({campaign.closes_at.isoformat()}): {shown}. Run `tagdraw "
                f"crawl {slug} --verify` and freeze again, or give a reason to freeze them "
                "anyway (--accept-unverified REASON; logged and published)"
            )
        accepted = [u.accepted(reason, actor) for u in plan.unverified]
    # A stale 'frozen' pool (campaign unfrozen by other means) is void now.
    con.execute(
        "UPDATE draw_pools SET state = 'voided', voided_at = ?, voided_by = ?, "
        "void_reason = 'campaign was unfrozen outside the draw' "
        "WHERE campaign_slug = ? AND state = 'frozen'",
        [when, actor, slug],
    )
    row = con.execute(
        "INSERT INTO draw_pools (campaign_slug, state, pool_text, pool_hash, pool_size, left_out, "
        "randomness_source, randomness_due, frozen_at, frozen_by, unverified_entries) "
        f"VALUES (?, 'frozen', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_POOL_COLUMNS}",
        [
            slug,
            plan.pool_text,
            plan.pool_hash,
            len(plan.pool_rows),
            json.dumps(list(left_out)),
            source_text,
            randomness_due,
            when,
            actor,
            json.dumps(accepted, ensure_ascii=False),
        ],
    ).fetchone()
    pool = _pool_from_row(row)
    if accepted:
        audit(
            con,
            actor,
            "draw.accept_unverified",
            slug,
            pool_id=pool.pool_id,
            reason=accepted[0]["reason"],
            post_numbers=[item["post_number"] for item in accepted],
            entries=accepted,
        )
    freeze_campaign(
        con,
        slug,
        actor=actor,
        at=when,
        pool_id=pool.pool_id,
        pool_hash=pool.pool_hash,
        pool_size=pool.pool_size,
        randomness_source=pool.randomness_source,
        randomness_due=pool.randomness_due,
        randomness_values=pool.expected_values,
        randomness_digits=pool.value_digits,
        source_preset=preset,
        left_out_undecided=list(left_out),
        unverified_entries=[item["post_number"] for item in accepted],
    )
    return pool


def unfreeze(
    con: Any, slug: str, *, actor: str, reason: str, now: datetime | None = None
) -> FrozenPool | None:
    """Unlock decisions; the frozen pool and its announcement become void. Refused once the
    announced value is due (it may be public: voiding then would be a veto of a known
    outcome) and once the draw has run."""
    require_actor(con, actor, Role.ADMIN)
    if not reason or not reason.strip():
        raise UserError("say why the pool is unfrozen (--reason); it is logged and published")
    get_campaign(con, slug)
    if con.execute("SELECT 1 FROM draws WHERE campaign_slug = ?", [slug]).fetchone():
        raise UserError(
            f"the draw of {slug!r} has run: the pool stays frozen (replace a disqualified "
            "winner with `draw replace` instead)"
        )
    pool = current_pool(con, slug)
    when = _now(now)
    if pool is not None and when >= pool.randomness_due:
        raise UserError(
            f"the randomness of {slug!r} ({pool.randomness_source}) was due "
            f"{pool.randomness_due.isoformat()}: the announced value may already be public, so "
            "unfreezing now would let someone pick the outcome. Run the draw on the announced "
            "value (`draw run`) and replace a disqualified winner with `draw replace`"
        )
    if pool is not None:
        con.execute(
            "UPDATE draw_pools SET state = 'voided', voided_at = ?, voided_by = ?, void_reason = ? "
            "WHERE pool_id = ?",
            [when, actor, reason.strip(), pool.pool_id],
        )
    unfreeze_campaign(
        con,
        slug,
        actor=actor,
        reason=reason,
        voided_pool_id=pool.pool_id if pool else None,
        voided_pool_hash=pool.pool_hash if pool else None,
    )
    if pool is None:
        return None  # frozen by other means (campaign freeze): nothing was announced
    return next(p for p in _pools(con, slug) if p.pool_id == pool.pool_id)


def run_draw(
    con: Any,
    slug: str,
    *,
    randomness: str | Sequence[str],
    actor: str,
    sources_published_at: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Draw the frozen pool with the published value(s); store and return the certificate.

    ``randomness`` is the randomness string (``'123456/'``) or the list of values. Refused
    before the announced value is due, without a frozen pool, and for a second run.
    """
    require_actor(con, actor, Role.ADMIN)
    when = _now(now)
    campaign = get_campaign(con, slug)
    done = con.execute("SELECT ran_at FROM draws WHERE campaign_slug = ?", [slug]).fetchone()
    if done:
        raise UserError(
            f"the draw of {slug!r} already ran at {as_bangkok(done[0]).isoformat()}; it is never "
            "re-run (replace a disqualified winner with `draw replace`)"
        )
    pool = current_pool(con, slug)
    if pool is None or pool.state != "frozen" or campaign.frozen_at is None:
        raise UserError(f"campaign {slug!r} has no frozen pool: freeze it first (`draw freeze`)")
    if when < pool.randomness_due:
        raise UserError(
            f"the randomness ({pool.randomness_source}) is due "
            f"{pool.randomness_due.isoformat()}: run the draw after it is published"
        )
    if pool_hash(pool.pool_text) != pool.pool_hash:
        raise UserError(f"the stored pool of {slug!r} no longer matches its hash: investigate")
    if isinstance(randomness, str):
        entered = split_randomness(randomness.strip())
    else:
        entered = [str(v) for v in randomness]
    text = randomness_string(entered)  # canonical: one spelling per published value
    values = split_randomness(text)
    problems = values_problems(values, pool.expected_values, pool.value_digits)
    if problems:
        raise UserError(f"the freeze announced {pool.randomness_source!r}: " + "; ".join(problems))
    published = (
        sources_published_at.astimezone(BANGKOK).isoformat() if sources_published_at else None
    )
    sources = [
        {
            "position": index,
            "value": value,
            "source": pool.randomness_source
            if len(values) == 1
            else f"{pool.randomness_source} (value {index} of {len(values)})",
            "due": pool.randomness_due.isoformat(),
            "published_at": published,
        }
        for index, value in enumerate(values, start=1)
    ]
    cert = build_certificate(
        campaign=slug,
        pool=pool.pool_text,
        randomness=text,
        sources=sources,
        prizes=campaign.prizes,
        alternates=campaign.alternates,
        one_prize_per_author=campaign.one_prize_per_author,
        created_at=when,
        extra={
            "campaign_title": campaign.title,
            "frozen_at": pool.frozen_at.isoformat(),
            "randomness_source": pool.randomness_source,
            "randomness_due": pool.randomness_due.isoformat(),
            "left_out_undecided": list(pool.left_out),
            "randomness_values": pool.expected_values,
            "randomness_digits": pool.value_digits,
            "unverified_entries": list(pool.unverified_entries),
            "voided_pools": [p.voided_json() for p in _pools(con, slug) if p.state == "voided"],
        },
    )
    if cert["pool_hash"] != pool.pool_hash:  # cannot happen unless the code is broken
        raise UserError("internal error: the certificate's pool hash differs from the frozen one")
    con.execute(
        "INSERT INTO draws (campaign_slug, pool_id, pool_hash, randomness, winners, "
        "alternate_list, final_winners, certificate, ran_at, ran_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            slug,
            pool.pool_id,
            pool.pool_hash,
            text,
            json.dumps(cert["winners"]),
            json.dumps(cert["alternate_list"]),
            json.dumps(cert["final_winners"]),
            json.dumps(cert, ensure_ascii=False),
            when,
            actor,
        ],
    )
    con.execute("UPDATE draw_pools SET state = 'drawn' WHERE pool_id = ?", [pool.pool_id])
    audit(
        con,
        actor,
        "draw.run",
        slug,
        pool_id=pool.pool_id,
        pool_hash=pool.pool_hash,
        randomness=text,
        winners=cert["winners"],
        alternate_list=cert["alternate_list"],
    )
    return cert


def get_certificate(con: Any, slug: str) -> dict[str, Any] | None:
    """The campaign's current certificate (with replacements), or None before the draw."""
    row = con.execute("SELECT certificate FROM draws WHERE campaign_slug = ?", [slug]).fetchone()
    return json.loads(row[0]) if row else None


def require_certificate(con: Any, slug: str) -> dict[str, Any]:
    get_campaign(con, slug)
    cert = get_certificate(con, slug)
    if cert is None:
        raise UserError(f"the draw of {slug!r} has not run yet (`draw run`)")
    return cert


def replace_winner(
    con: Any, slug: str, post_number: int, *, reason: str, actor: str
) -> dict[str, Any]:
    """Disqualify a current winner; the next unused alternate takes the prize. Also records
    an 'ineligible' decision for the post. Returns the updated certificate."""
    require_actor(con, actor, Role.ADMIN)
    cert = require_certificate(con, slug)
    when = _now(None)
    updated = apply_replacement(cert, int(post_number), reason=reason, by=actor, at=when)
    item = updated["replacements"][-1]
    record_decision(
        con,
        slug,
        int(post_number),
        "ineligible",
        decided_by=actor,
        reason="other",
        note=f"disqualified after the draw: {item['reason']}",
        allow_frozen=True,
    )
    con.execute(
        "INSERT INTO draw_replacements (campaign_slug, prize_rank, disqualified, replacement, "
        "reason, replaced_by, replaced_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            slug,
            item["prize_rank"],
            item["disqualified"],
            item["replacement"],
            item["reason"],
            actor,
            when,
        ],
    )
    con.execute(
        "UPDATE draws SET certificate = ?, final_winners = ? WHERE campaign_slug = ?",
        [json.dumps(updated, ensure_ascii=False), json.dumps(updated["final_winners"]), slug],
    )
    audit(con, actor, "draw.replace", slug, **item)
    return updated


def winner_problems(con: Any, slug: str) -> list[WinnerProblem]:
    """Current prize holders whose post is gone, or changed after the campaign closed, as
    the warehouse knows it now (``draw run`` re-fetches the winners first: see
    ``tagdraw.commands.draw._recheck_winners``). Each needs a ``draw replace`` decision or
    a look; empty before the draw.

    Changed after the close: the page's edit date (``updated_at``) is after ``closes_at``, or
    a version of the post first seen after ``closes_at`` differs from the version as it was
    at the close (the last seen by then; the first ever stored if none was seen by then).
    """
    campaign = get_campaign(con, slug)
    cert = get_certificate(con, slug)
    if cert is None:
        return []
    closes_at = campaign.closes_at
    problems: list[WinnerProblem] = []
    for rank, number in enumerate(current_winners(cert), start=1):
        if number is None:
            continue
        row = con.execute(
            "SELECT gone, gone_reason, updated_at, last_fetched_at FROM posts "
            "WHERE post_number = ?",
            [number],
        ).fetchone()
        if row is None:
            problems.append(
                WinnerProblem(rank, number, "not_stored", "the post is not in the warehouse")
            )
            continue
        gone, gone_reason, updated_at, fetched = (
            row[0],
            row[1],
            as_bangkok(row[2]),
            as_bangkok(row[3]),
        )
        if gone:
            when = f" at the fetch of {fetched:%Y-%m-%d %H:%M}" if fetched else ""
            problems.append(
                WinnerProblem(
                    rank, number, "gone", f"gone from the site ({gone_reason or 'gone'}){when}"
                )
            )
            continue
        if updated_at is not None and updated_at > closes_at:
            problems.append(
                WinnerProblem(
                    rank,
                    number,
                    "edited_after_close",
                    f"edited {updated_at:%Y-%m-%d %H:%M}, after the close "
                    f"({closes_at:%Y-%m-%d %H:%M})",
                )
            )
            continue
        versions = [
            (as_bangkok(seen), content_hash)
            for seen, content_hash in con.execute(
                "SELECT seen_at, content_hash FROM post_versions WHERE post_number = ? "
                "ORDER BY version_no",
                [number],
            ).fetchall()
        ]
        by_close = [v for v in versions if v[0] <= closes_at] or versions[:1]
        if not by_close:
            continue
        at_close = by_close[-1][1]
        changed = [
            seen for seen, content_hash in versions if seen > closes_at and content_hash != at_close
        ]
        if changed:
            problems.append(
                WinnerProblem(
                    rank,
                    number,
                    "edited_after_close",
                    f"changed after the close: a version first seen {changed[0]:%Y-%m-%d %H:%M} "
                    "differs from the post as it was at the close",
                )
            )
    return problems


def draw_status(con: Any, slug: str) -> DrawStatus:
    campaign = get_campaign(con, slug)
    pools = _pools(con, slug)
    return DrawStatus(
        campaign_slug=slug,
        frozen_at=campaign.frozen_at,
        pool=current_pool(con, slug),
        voided=tuple(p for p in pools if p.state == "voided"),
        certificate=get_certificate(con, slug),
        winner_problems=tuple(winner_problems(con, slug)),
    )
