"""Campaigns: a keyword, a window in Asia/Bangkok, prizes and the rules of one prize draw.

Every write is validated first; bad input raises ``UserError`` with one clear line and
writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlparse

import duckdb

from warehouse.audit import audit
from warehouse.errors import UserError
from warehouse.settings import LIVE_SITE_URL, get_settings
from warehouse.thai import BANGKOK, ThaiDateError, as_bangkok, normalise_tag, parse_user_datetime
from warehouse.users import Role, require_actor

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_USERNAME_PATTERN = re.compile(r"^[^\s]+$")

# Bounds on what an operator may type: far beyond any real campaign, well inside the
# columns' types (INTEGER, BIGINT) and the dates Python and DuckDB exchange safely.
MAX_PRIZES = 100_000
MAX_ENTRIES_PER_AUTHOR = 1_000_000
MAX_CRAWL_AFTER_CLOSE_DAYS = 3_660
MAX_POST_NUMBER = 2**63 - 1
FIRST_YEAR, LAST_YEAR = 1970, 2199


@dataclass(frozen=True)
class Campaign:
    slug: str
    title: str | None
    keywords: tuple[str, ...]  # normalised (warehouse.thai.normalise_tag)
    near_miss_tags: tuple[str, ...]  # normalised
    opens_at: datetime  # aware, Asia/Bangkok
    closes_at: datetime  # aware, Asia/Bangkok, inclusive
    prizes: int
    prize_description: str | None
    alternates: int
    one_prize_per_author: bool
    max_entries_per_author: int | None
    excluded_authors: tuple[str, ...]  # lower-cased usernames
    announcement_post: int | None
    site_url: str
    crawl_after_close_days: int
    frozen_at: datetime | None
    # Shown on the public results site under "not listed?" (migration 0012).
    contact_text: str | None = None
    contact_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-able dict (datetimes as ISO 8601 with +07:00)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
            elif isinstance(value, tuple):
                out[key] = list(value)
        return out


# Columns of ``campaigns`` that map 1:1 onto Campaign fields, in order.
_FIELDS = tuple(f.name for f in fields(Campaign))


# --- validation ---------------------------------------------------------------------------


def parse_campaign_time(value: datetime | date | str, *, end_of_day: bool) -> datetime:
    """A campaign boundary: a datetime (naive = Asia/Bangkok), a date (the start of the day,
    or 23:59:59 with ``end_of_day``), or text for ``parse_user_datetime``."""
    if isinstance(value, datetime):
        moment = (
            value.replace(tzinfo=BANGKOK) if value.tzinfo is None else value.astimezone(BANGKOK)
        )
    elif isinstance(value, date):
        moment = datetime.combine(value, time(23, 59, 59) if end_of_day else time(0), BANGKOK)
    else:
        text = str(value or "").strip()
        if not text:
            raise UserError("A date is required (YYYY-MM-DD or YYYY-MM-DDTHH:MM, Asia/Bangkok).")
        try:
            moment = parse_user_datetime(text, end_of_day=end_of_day).astimezone(BANGKOK)
        except (ThaiDateError, ValueError, OverflowError) as exc:
            shown = _shown(text)
            reason = str(exc) if len(str(exc)) < 200 else f"not a date: {shown}"
            raise UserError(
                f"{reason[:1].upper()}{reason[1:]}; use YYYY-MM-DD or YYYY-MM-DDTHH:MM "
                "(Asia/Bangkok)."
            ) from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise UserError(
            f"The date {moment.date().isoformat()} is out of range: campaigns fall between "
            f"{FIRST_YEAR} and {LAST_YEAR}."
        )
    return moment


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for one-line messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def validate_slug(slug: str) -> str:
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise UserError(
            f"Bad campaign slug {slug!r}: use 1-64 lowercase letters, digits and dashes "
            "(for example 'social-media-2013')."
        )
    return slug


def _normalise_tags(values: Iterable[str] | str | None, what: str, *, required: bool) -> tuple:
    if values is None:
        values = ()
    if isinstance(values, str):
        values = (values,)
    out: list[str] = []
    for raw in values:
        tag = normalise_tag(str(raw or ""))
        if not tag:
            raise UserError(f"Empty {what} {raw!r}: a {what} needs at least one visible character.")
        if tag not in out:
            out.append(tag)
    if required and not out:
        raise UserError(f"At least one {what} is required.")
    return tuple(out)


def _normalise_authors(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = (values,)
    out: list[str] = []
    for raw in values:
        name = str(raw or "").strip().lstrip("@").strip().lower()
        if not name or not _USERNAME_PATTERN.match(name):
            raise UserError(f"Bad excluded author {raw!r}: give a username without spaces.")
        if name not in out:
            out.append(name)
    return tuple(out)


def _int(
    value: Any, what: str, *, minimum: int, maximum: int, allow_none: bool = False
) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool):
        raise UserError(f"{what} must be a whole number, not {value!r}.")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
        if not isinstance(value, (int, str)) and number != value:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{what} must be a whole number, not {_shown(value)}.") from None
    if number < minimum:
        raise UserError(f"{what} must be at least {minimum}, not {_shown(number)}.")
    if number > maximum:
        raise UserError(f"{what} must be at most {maximum}, not {_shown(number)}.")
    return number


def _site_url(value: Any) -> str:
    text = str(value or "").strip()
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in text:
        raise UserError(f"Bad site URL {text!r}: it must start with http:// or https://.")
    return text.rstrip("/")


def _contact_url(value: Any) -> str | None:
    text = _optional_text(value)
    if text is None:
        return None
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https", "mailto") or any(ch.isspace() for ch in text):
        raise UserError(
            f"Bad contact URL {text!r}: it must start with http://, https:// or mailto:."
        )
    return text


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# --- the fields -----------------------------------------------------------------------------


class FieldKind(StrEnum):
    """What a form shows for a field (the value it validates to)."""

    SLUG = "slug"  # str
    TEXT = "text"  # str | None, one line
    LONG_TEXT = "long_text"  # str | None, several lines
    TAGS = "tags"  # tuple[str, ...], normalised tags
    USERNAMES = "usernames"  # tuple[str, ...], lower-cased
    START = "start"  # datetime (Asia/Bangkok); a date alone is its first second
    END = "end"  # datetime (Asia/Bangkok); a date alone is its last second
    NUMBER = "number"  # int, or None when not ``required`` and left empty
    FLAG = "flag"  # bool
    URL = "url"  # str


# A validator gets the raw value and the fields validated before it (table order), and
# returns the normalised value or raises UserError.
Validator = Callable[[Any, Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class CampaignField:
    name: str  # the Campaign attribute and campaigns column
    kind: FieldKind
    label_th: str
    label_en: str
    help_th: str
    help_en: str
    validate: Validator
    required: bool = False  # a new campaign must give it (no default)
    default: Callable[[], Any] | None = None  # a new campaign's value when not given
    empty_is_default: bool = False  # an empty text given also takes the default
    editable: bool = True  # update_campaign may change it
    minimum: int | None = None  # NUMBER: the bounds validate checks
    maximum: int | None = None

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_th

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_th


def _number(
    what: str, minimum: int, maximum: int, *, optional: bool = False
) -> Callable[[Any, Mapping[str, Any]], int | None]:
    def check(value: Any, _earlier: Mapping[str, Any]) -> int | None:
        return _int(value, what, minimum=minimum, maximum=maximum, allow_none=optional)

    return check


def _closes(value: Any, earlier: Mapping[str, Any]) -> datetime:
    closes_at = parse_campaign_time(value, end_of_day=True)
    opens_at = earlier.get("opens_at")
    if opens_at is not None and closes_at <= opens_at:
        raise UserError(
            f"The campaign closes ({closes_at.isoformat()}) before it opens "
            f"({opens_at.isoformat()})."
        )
    return closes_at


CAMPAIGN_FIELDS: Final[tuple[CampaignField, ...]] = (
    CampaignField(
        "slug",
        FieldKind.SLUG,
        "รหัสแคมเปญ",
        "Slug",
        "ตัวอักษรอังกฤษตัวเล็ก ตัวเลข และขีด 1-64 ตัว เช่น social-media-2013",
        "1-64 lowercase letters, digits and dashes, e.g. social-media-2013",
        lambda v, _: validate_slug(v),
        required=True,
        editable=False,
    ),
    CampaignField(
        "title",
        FieldKind.TEXT,
        "ชื่อแคมเปญ",
        "Title",
        "",
        "",
        lambda v, _: _optional_text(v),
    ),
    CampaignField(
        "keywords",
        FieldKind.TAGS,
        "แท็กที่ใช้ส่งผลงาน",
        "Entry tags",
        "ผลงานต้องติดแท็กอย่างน้อยหนึ่งแท็กนี้",
        "an entry carries at least one of these tags",
        lambda v, _: _normalise_tags(v, "keyword", required=True),
        required=True,
    ),
    CampaignField(
        "near_miss_tags",
        FieldKind.TAGS,
        "แท็กใกล้เคียง",
        "Near-miss tags",
        "แท็กที่เก็บข้อมูลเพิ่มเพื่อหาผู้ที่เกือบเข้าร่วม",
        "tags crawled to find near misses",
        lambda v, _: _normalise_tags(v, "near-miss tag", required=False),
        default=tuple,
    ),
    CampaignField(
        "opens_at",
        FieldKind.START,
        "เปิดรับ",
        "Opens",
        "วันที่ (และเวลา) เวลาประเทศไทย",
        "date (and time), Asia/Bangkok",
        lambda v, _: parse_campaign_time(v, end_of_day=False),
        required=True,
    ),
    CampaignField(
        "closes_at",
        FieldKind.END,
        "ปิดรับ",
        "Closes",
        "วันที่อย่างเดียวหมายถึง 23:59:59 ของวันนั้น",
        "a date alone means 23:59:59 that day",
        _closes,
        required=True,
    ),
    CampaignField(
        "prizes",
        FieldKind.NUMBER,
        "จำนวนรางวัล",
        "Prizes",
        "อย่างน้อย 1",
        "at least 1",
        _number("prizes", 1, MAX_PRIZES),
        required=True,
        minimum=1,
        maximum=MAX_PRIZES,
    ),
    CampaignField(
        "prize_description",
        FieldKind.LONG_TEXT,
        "รายละเอียดรางวัล",
        "Prize description",
        "",
        "",
        lambda v, _: _optional_text(v),
    ),
    CampaignField(
        "alternates",
        FieldKind.NUMBER,
        "จำนวนรายชื่อสำรอง",
        "Alternates",
        "",
        "",
        _number("alternates", 0, MAX_PRIZES),
        default=lambda: 0,
        minimum=0,
        maximum=MAX_PRIZES,
    ),
    CampaignField(
        "one_prize_per_author",
        FieldKind.FLAG,
        "หนึ่งรางวัลต่อคน",
        "One prize per author",
        "",
        "",
        lambda v, _: bool(v),
        default=lambda: True,
    ),
    CampaignField(
        "max_entries_per_author",
        FieldKind.NUMBER,
        "จำนวนผลงานสูงสุดต่อคน",
        "Max entries per author",
        "เว้นว่างได้: ไม่จำกัด",
        "empty: no limit",
        _number("max entries per author", 1, MAX_ENTRIES_PER_AUTHOR, optional=True),
        minimum=1,
        maximum=MAX_ENTRIES_PER_AUTHOR,
    ),
    CampaignField(
        "excluded_authors",
        FieldKind.USERNAMES,
        "ผู้ที่ไม่มีสิทธิ์รับรางวัล",
        "Excluded authors",
        "ชื่อผู้ใช้ของผู้จัดหรือเจ้าหน้าที่",
        "usernames of organisers and staff",
        lambda v, _: _normalise_authors(v),
        default=tuple,
    ),
    CampaignField(
        "announcement_post",
        FieldKind.NUMBER,
        "บันทึกประกาศ",
        "Announcement post",
        "หมายเลขบันทึกที่ประกาศแคมเปญ",
        "the number of the post that announces the campaign",
        _number("announcement post", 1, MAX_POST_NUMBER, optional=True),
        minimum=1,
        maximum=MAX_POST_NUMBER,
    ),
    CampaignField(
        "site_url",
        FieldKind.URL,
        "เว็บไซต์",
        "Site URL",
        "ขึ้นต้นด้วย http:// หรือ https://",
        "starts with http:// or https://",
        lambda v, _: _site_url(v or LIVE_SITE_URL),
        default=lambda: get_settings().site_url,
        empty_is_default=True,
    ),
    CampaignField(
        "crawl_after_close_days",
        FieldKind.NUMBER,
        "เก็บข้อมูลต่อหลังปิดรับ (วัน)",
        "Crawl after close (days)",
        "",
        "",
        _number("crawl-after-close days", 0, MAX_CRAWL_AFTER_CLOSE_DAYS),
        default=lambda: get_settings().crawl_after_close_days,
        minimum=0,
        maximum=MAX_CRAWL_AFTER_CLOSE_DAYS,
    ),
    CampaignField(
        "contact_text",
        FieldKind.LONG_TEXT,
        "ช่องทางติดต่อผู้จัด",
        "Contact text",
        "แสดงในหน้าผลประกาศสาธารณะ",
        "shown on the public results site",
        lambda v, _: _optional_text(v),
    ),
    CampaignField(
        "contact_url",
        FieldKind.URL,
        "ลิงก์ติดต่อผู้จัด",
        "Contact URL",
        "http://, https:// หรือ mailto:",
        "http://, https:// or mailto:",
        lambda v, _: _contact_url(v),
    ),
)
# Campaign attributes that are not input: set by freezing and unfreezing.
STATE_FIELDS: Final = ("frozen_at",)
_BY_NAME: Final = {f.name: f for f in CAMPAIGN_FIELDS}
EDITABLE_FIELDS: Final = frozenset(f.name for f in CAMPAIGN_FIELDS if f.editable)
# The table and the record name the same fields: a field added to one fails here at import.
if {*_BY_NAME, *STATE_FIELDS} != set(_FIELDS):
    raise RuntimeError("CAMPAIGN_FIELDS and the Campaign record name different fields")


def campaign_field(name: str) -> CampaignField:
    """The field called ``name``; ``UserError`` naming the known ones otherwise."""
    found = _BY_NAME.get(name)
    if found is None:
        raise UserError(
            f"Unknown campaign field {name!r}; known: {', '.join(f.name for f in CAMPAIGN_FIELDS)}."
        )
    return found


def validate_field(name: str, value: Any, earlier: Mapping[str, Any] | None = None) -> Any:
    """One field's value, checked and normalised (``UserError`` if bad). ``earlier``: the
    validated fields before it in ``CAMPAIGN_FIELDS`` that it is checked against
    (``closes_at`` against ``opens_at``)."""
    return campaign_field(name).validate(value, earlier or {})


def missing_fields(values: Mapping[str, Any]) -> list[CampaignField]:
    """The required fields a new campaign's ``values`` lack (absent or None)."""
    return [f for f in CAMPAIGN_FIELDS if f.required and values.get(f.name) is None]


def validate_campaign(values: Mapping[str, Any]) -> dict[str, Any]:
    """Check and normalise a full set of campaign fields (every ``CAMPAIGN_FIELDS`` name;
    other keys are kept as they are), in table order, then the checks across fields."""
    v = dict(values)
    for spec in CAMPAIGN_FIELDS:
        v[spec.name] = spec.validate(v.get(spec.name), v)
    overlap = set(v["keywords"]) & set(v["near_miss_tags"])
    if overlap:
        raise UserError(f"A tag cannot be both a keyword and a near-miss tag: {sorted(overlap)}.")
    return v


# --- reading ------------------------------------------------------------------------------

_SELECT = f"SELECT {', '.join(_FIELDS)} FROM campaigns"


def _from_row(row: Sequence[Any]) -> Campaign:
    data = dict(zip(_FIELDS, row, strict=True))
    for key in ("keywords", "near_miss_tags", "excluded_authors"):
        data[key] = tuple(data[key] or ())
    for key in ("opens_at", "closes_at", "frozen_at"):
        data[key] = as_bangkok(data[key])
    return Campaign(**data)


def known_slugs(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT slug FROM campaigns ORDER BY slug").fetchall()]


# Every write that changes who may win bumps this one column (migration 0007), so that
# two such transactions in one campaign conflict and one is retried (DuckDB detects
# concurrent updates per column).
_BUMP = "decisions_version = decisions_version + 1"


def claim_decisions(con: duckdb.DuckDBPyConnection, slug: str) -> None:
    """Make this transaction conflict with any concurrent decision, freeze, unfreeze or rule
    edit in the campaign; call it before reading what a decision depends on."""
    con.execute(f"UPDATE campaigns SET {_BUMP} WHERE slug = ?", [slug])


def find_campaign(con: duckdb.DuckDBPyConnection, slug: str) -> Campaign | None:
    row = con.execute(f"{_SELECT} WHERE slug = ?", [slug]).fetchone()
    return _from_row(row) if row else None


def get_campaign(con: duckdb.DuckDBPyConnection, slug: str) -> Campaign:
    """The campaign, or a ``UserError`` naming the known slugs."""
    campaign = find_campaign(con, slug)
    if campaign is None:
        slugs = known_slugs(con)
        known = (
            ", ".join(slugs) if slugs else "none yet (create one with `tagdraw campaign create`)"
        )
        raise UserError(f"Unknown campaign {slug!r}; known campaigns: {known}.")
    return campaign


def list_campaigns(con: duckdb.DuckDBPyConnection) -> list[Campaign]:
    return [_from_row(r) for r in con.execute(f"{_SELECT} ORDER BY opens_at, slug").fetchall()]


# --- writing ------------------------------------------------------------------------------


def _write(con: duckdb.DuckDBPyConnection, values: dict[str, Any], *, insert: bool) -> None:
    params = [list(values[f]) if isinstance(values[f], tuple) else values[f] for f in _FIELDS]
    if insert:
        placeholders = ", ".join("?" for _ in _FIELDS)
        con.execute(f"INSERT INTO campaigns ({', '.join(_FIELDS)}) VALUES ({placeholders})", params)
    else:
        sets = ", ".join(f"{f} = ?" for f in _FIELDS if f != "slug")
        con.execute(
            f"UPDATE campaigns SET {sets}, updated_at = now(), {_BUMP} WHERE slug = ?",
            [p for f, p in zip(_FIELDS, params, strict=True) if f != "slug"] + [values["slug"]],
        )


def prepare_campaign(slug: str, **values: Any) -> dict[str, Any]:
    """Check and normalise a new campaign's fields (``CAMPAIGN_FIELDS`` names; a field not
    given, or given as None, takes its default) without touching the database (the CLI
    calls it first so that bad input never even creates a warehouse file)."""
    unknown = set(values) - set(_BY_NAME) - {"slug"}
    if unknown:
        raise UserError(
            f"Unknown campaign field {', '.join(sorted(unknown))}; "
            f"known: {', '.join(f.name for f in CAMPAIGN_FIELDS)}."
        )
    full: dict[str, Any] = {"slug": slug}
    for spec in CAMPAIGN_FIELDS[1:]:
        value = values.get(spec.name)
        if spec.default is not None and (value is None or (spec.empty_is_default and not value)):
            value = spec.default()
        full[spec.name] = value
    full.update(dict.fromkeys(STATE_FIELDS))
    return validate_campaign(full)


def create_campaign(
    con: duckdb.DuckDBPyConnection, slug: str, *, actor: str = "admin", **values: Any
) -> Campaign:
    """Validate and insert a campaign (``values`` as for ``prepare_campaign``); ``UserError``
    (nothing written) on bad input."""
    require_actor(con, actor, Role.ADMIN)
    checked = prepare_campaign(slug, **values)
    if find_campaign(con, checked["slug"]) is not None:
        raise UserError(f"A campaign {checked['slug']!r} already exists; use `campaign edit`.")
    _write(con, checked, insert=True)
    campaign = get_campaign(con, checked["slug"])
    audit(con, actor, "campaign.create", campaign.slug, campaign=campaign.to_json())
    return campaign


def update_campaign(
    con: duckdb.DuckDBPyConnection, slug: str, /, *, actor: str = "admin", **changes: Any
) -> Campaign:
    """Change some fields (names as in ``Campaign``); the result is validated as a whole.

    A frozen campaign (draw pool frozen) refuses changes: unfreeze it first.
    """
    require_actor(con, actor, Role.ADMIN)
    current = get_campaign(con, slug)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise UserError(
            f"Cannot change {', '.join(sorted(unknown))}; editable: {', '.join(sorted(EDITABLE_FIELDS))}."
        )
    if current.frozen_at is not None and changes:
        raise UserError(
            f"Campaign {slug!r} is frozen for the draw since {current.frozen_at.isoformat()}; "
            "unfreeze it first (logged) before changing its rules."
        )
    before = current.to_json()
    values = validate_campaign({**asdict(current), **changes})
    _write(con, values, insert=False)
    campaign = get_campaign(con, slug)
    after = campaign.to_json()
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed:
        audit(con, actor, "campaign.update", slug, changes=changed)
    return campaign


def freeze_campaign(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    *,
    actor: str,
    at: datetime | None = None,
    **details: Any,
) -> Campaign:
    """Lock decisions and rules (sets ``frozen_at``); logged."""
    current = get_campaign(con, slug)
    if current.frozen_at is not None:
        raise UserError(
            f"Campaign {slug!r} is already frozen since {current.frozen_at.isoformat()}."
        )
    when = at or datetime.now(BANGKOK)
    con.execute(
        f"UPDATE campaigns SET frozen_at = ?, updated_at = now(), {_BUMP} WHERE slug = ?",
        [when, slug],
    )
    audit(con, actor, "campaign.freeze", slug, frozen_at=when, **details)
    return get_campaign(con, slug)


def unfreeze_campaign(
    con: duckdb.DuckDBPyConnection, slug: str, *, actor: str, reason: str, **details: Any
) -> Campaign:
    """Unlock decisions and rules again; needs a reason, which is logged."""
    current = get_campaign(con, slug)
    if current.frozen_at is None:
        raise UserError(f"Campaign {slug!r} is not frozen.")
    if not reason or not reason.strip():
        raise UserError("Say why the campaign is unfrozen (it is logged).")
    con.execute(
        f"UPDATE campaigns SET frozen_at = NULL, updated_at = now(), {_BUMP} WHERE slug = ?",
        [slug],
    )
    audit(
        con,
        actor,
        "campaign.unfreeze",
        slug,
        reason=reason.strip(),
        was_frozen_at=current.frozen_at,
        **details,
    )
    return get_campaign(con, slug)
