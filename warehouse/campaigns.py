"""Campaigns: a keyword, a window in Asia/Bangkok, prizes and the rules of one prize draw.

Every write is validated first; bad input raises ``UserError`` with one clear line and
writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlparse

import duckdb

from warehouse.audit import audit
from warehouse.errors import UserError
from warehouse.settings import LIVE_SITE_URL, get_settings
from warehouse.thai import BANGKOK, ThaiDateError, normalise_tag, parse_user_datetime
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
EDITABLE_FIELDS = frozenset(_FIELDS) - {"slug", "frozen_at"}


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


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a full set of campaign fields (all keys of Campaign)."""
    v = dict(values)
    v["slug"] = validate_slug(v["slug"])
    v["title"] = _optional_text(v.get("title"))
    v["keywords"] = _normalise_tags(v.get("keywords"), "keyword", required=True)
    v["near_miss_tags"] = _normalise_tags(v.get("near_miss_tags"), "near-miss tag", required=False)
    v["opens_at"] = parse_campaign_time(v["opens_at"], end_of_day=False)
    v["closes_at"] = parse_campaign_time(v["closes_at"], end_of_day=True)
    if v["closes_at"] <= v["opens_at"]:
        raise UserError(
            f"The campaign closes ({v['closes_at'].isoformat()}) before it opens "
            f"({v['opens_at'].isoformat()})."
        )
    v["prizes"] = _int(v.get("prizes"), "prizes", minimum=1, maximum=MAX_PRIZES)
    v["prize_description"] = _optional_text(v.get("prize_description"))
    v["alternates"] = _int(v.get("alternates", 0), "alternates", minimum=0, maximum=MAX_PRIZES)
    v["one_prize_per_author"] = bool(v.get("one_prize_per_author", True))
    v["max_entries_per_author"] = _int(
        v.get("max_entries_per_author"),
        "max entries per author",
        minimum=1,
        maximum=MAX_ENTRIES_PER_AUTHOR,
        allow_none=True,
    )
    v["excluded_authors"] = _normalise_authors(v.get("excluded_authors"))
    v["announcement_post"] = _int(
        v.get("announcement_post"),
        "announcement post",
        minimum=1,
        maximum=MAX_POST_NUMBER,
        allow_none=True,
    )
    v["site_url"] = _site_url(v.get("site_url") or LIVE_SITE_URL)
    v["crawl_after_close_days"] = _int(
        v.get("crawl_after_close_days"),
        "crawl-after-close days",
        minimum=0,
        maximum=MAX_CRAWL_AFTER_CLOSE_DAYS,
    )
    v["contact_text"] = _optional_text(v.get("contact_text"))
    v["contact_url"] = _contact_url(v.get("contact_url"))
    overlap = set(v["keywords"]) & set(v["near_miss_tags"])
    if overlap:
        raise UserError(f"A tag cannot be both a keyword and a near-miss tag: {sorted(overlap)}.")
    return v


# --- reading ------------------------------------------------------------------------------

_SELECT = f"SELECT {', '.join(_FIELDS)} FROM campaigns"


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(BANGKOK)


def _from_row(row: Sequence[Any]) -> Campaign:
    data = dict(zip(_FIELDS, row, strict=True))
    for key in ("keywords", "near_miss_tags", "excluded_authors"):
        data[key] = tuple(data[key] or ())
    for key in ("opens_at", "closes_at", "frozen_at"):
        data[key] = _aware(data[key])
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


def prepare_campaign(
    slug: str,
    *,
    keywords: Sequence[str] | str,
    opens_at: datetime | date | str,
    closes_at: datetime | date | str,
    prizes: int,
    alternates: int = 0,
    site_url: str | None = None,
    title: str | None = None,
    near_miss_tags: Sequence[str] = (),
    prize_description: str | None = None,
    one_prize_per_author: bool = True,
    max_entries_per_author: int | None = None,
    excluded_authors: Sequence[str] = (),
    announcement_post: int | None = None,
    crawl_after_close_days: int | None = None,
    contact_text: str | None = None,
    contact_url: str | None = None,
) -> dict[str, Any]:
    """Check and normalise a new campaign's fields without touching the database
    (the CLI calls it first so that bad input never even creates a warehouse file)."""
    return _validated(
        {
            "slug": slug,
            "title": title,
            "keywords": keywords,
            "near_miss_tags": near_miss_tags,
            "opens_at": opens_at,
            "closes_at": closes_at,
            "prizes": prizes,
            "prize_description": prize_description,
            "alternates": alternates,
            "one_prize_per_author": one_prize_per_author,
            "max_entries_per_author": max_entries_per_author,
            "excluded_authors": excluded_authors,
            "announcement_post": announcement_post,
            "site_url": site_url or get_settings().site_url,
            "crawl_after_close_days": (
                get_settings().crawl_after_close_days
                if crawl_after_close_days is None
                else crawl_after_close_days
            ),
            "frozen_at": None,
            "contact_text": contact_text,
            "contact_url": contact_url,
        }
    )


def create_campaign(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    *,
    keywords: Sequence[str] | str,
    opens_at: datetime | date | str,
    closes_at: datetime | date | str,
    prizes: int,
    alternates: int = 0,
    site_url: str | None = None,
    title: str | None = None,
    near_miss_tags: Sequence[str] = (),
    prize_description: str | None = None,
    one_prize_per_author: bool = True,
    max_entries_per_author: int | None = None,
    excluded_authors: Sequence[str] = (),
    announcement_post: int | None = None,
    crawl_after_close_days: int | None = None,
    contact_text: str | None = None,
    contact_url: str | None = None,
    actor: str = "admin",
) -> Campaign:
    """Validate and insert a campaign; ``UserError`` (nothing written) on bad input."""
    require_actor(con, actor, Role.ADMIN)
    values = prepare_campaign(
        slug,
        keywords=keywords,
        opens_at=opens_at,
        closes_at=closes_at,
        prizes=prizes,
        alternates=alternates,
        site_url=site_url,
        title=title,
        near_miss_tags=near_miss_tags,
        prize_description=prize_description,
        one_prize_per_author=one_prize_per_author,
        max_entries_per_author=max_entries_per_author,
        excluded_authors=excluded_authors,
        announcement_post=announcement_post,
        crawl_after_close_days=crawl_after_close_days,
        contact_text=contact_text,
        contact_url=contact_url,
    )
    if find_campaign(con, values["slug"]) is not None:
        raise UserError(f"A campaign {values['slug']!r} already exists; use `campaign edit`.")
    _write(con, values, insert=True)
    campaign = get_campaign(con, values["slug"])
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
    values = _validated({**asdict(current), **changes})
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
