"""The moderation log: decisions are only ever appended. An entry's current decision is its
latest row (highest ``decision_id``); undo is a new decision. The crawler never writes here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

import duckdb

from warehouse import rules
from warehouse.audit import audit
from warehouse.campaigns import claim_decisions, get_campaign
from warehouse.errors import UserError
from warehouse.thai import BANGKOK
from warehouse.users import Role, require_actor


class EntryStatus(StrEnum):
    """An entry's status: what its current decision says (``pending``: none yet)."""

    PENDING = "pending"
    ELIGIBLE = "eligible"
    DUPLICATE = "duplicate"
    SPAM = "spam"
    INELIGIBLE = "ineligible"


class DecisionSource(StrEnum):
    MODERATOR = "moderator"
    RULE = "rule"


STATUSES: Final = tuple(EntryStatus)
# Read when this module loads, for pages that list the codes; a decision is checked
# against the registry as it is when it is recorded (``warehouse.rules.reason_codes``).
REASON_CODES: Final = rules.reason_codes()
SOURCES: Final = tuple(DecisionSource)


class _Any:
    """Sentinel: the caller does not say which decision it saw (no staleness check)."""

    def __repr__(self) -> str:
        return "ANY"


ANY: Final = _Any()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Decision:
    decision_id: int
    campaign_slug: str
    post_number: int
    status: EntryStatus
    reason: str | None
    note: str | None
    duplicate_of: int | None
    decided_by: str
    source: DecisionSource
    supersedes: int | None  # the decision that was current when this one was made
    decided_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "campaign_slug": self.campaign_slug,
            "post_number": self.post_number,
            "status": self.status,
            "reason": self.reason,
            "note": self.note,
            "duplicate_of": self.duplicate_of,
            "decided_by": self.decided_by,
            "source": self.source,
            "supersedes": self.supersedes,
            "decided_at": self.decided_at.isoformat(),
        }


class StaleDecision(UserError):
    """The entry's decision changed since the moderator looked at it."""

    def __init__(self, message: str, current: Decision | None) -> None:
        super().__init__(message)
        self.current = current


_COLUMNS = (
    "decision_id, campaign_slug, post_number, status, reason, note, duplicate_of, "
    "decided_by, source, supersedes, epoch_us(decided_at)"
)


def _from_row(row: Sequence[Any]) -> Decision:
    values = list(row)
    values[3] = EntryStatus(values[3])
    values[8] = DecisionSource(values[8])
    values[10] = (_EPOCH + timedelta(microseconds=values[10])).astimezone(BANGKOK)
    return Decision(*values)


def latest_decision(con: duckdb.DuckDBPyConnection, slug: str, post_number: int) -> Decision | None:
    row = con.execute(
        f"SELECT {_COLUMNS} FROM decisions WHERE campaign_slug = ? AND post_number = ? "
        "ORDER BY decision_id DESC LIMIT 1",
        [slug, post_number],
    ).fetchone()
    return _from_row(row) if row else None


def current_decisions(con: duckdb.DuckDBPyConnection, slug: str) -> dict[int, Decision]:
    """post_number -> its latest decision, for every post of the campaign that has one."""
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM decisions WHERE campaign_slug = ? "
        "QUALIFY row_number() OVER (PARTITION BY post_number ORDER BY decision_id DESC) = 1",
        [slug],
    ).fetchall()
    return {row[2]: _from_row(row) for row in rows}


def decision_history(con: duckdb.DuckDBPyConnection, slug: str, post_number: int) -> list[Decision]:
    """Every decision on one entry, oldest first."""
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM decisions WHERE campaign_slug = ? AND post_number = ? "
        "ORDER BY decision_id",
        [slug, post_number],
    ).fetchall()
    return [_from_row(r) for r in rows]


def _post_known(con: duckdb.DuckDBPyConnection, slug: str, post_number: int) -> bool:
    row = con.execute(
        "SELECT EXISTS (SELECT 1 FROM posts WHERE post_number = $n) "
        "OR EXISTS (SELECT 1 FROM campaign_posts WHERE campaign_slug = $s AND post_number = $n)",
        {"n": post_number, "s": slug},
    ).fetchone()
    return bool(row and row[0])


def record_decision(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    post_number: int,
    status: str,
    *,
    decided_by: str,
    reason: str | None = None,
    note: str | None = None,
    duplicate_of: int | None = None,
    source: str = "moderator",
    expected_current: int | _Any | None = ANY,
    allow_frozen: bool = False,
) -> Decision:
    """Append a decision after validating it; also writes an audit_log row.

    ``expected_current`` is the ``decision_id`` the moderator saw (``None`` = no decision
    yet); if the latest decision differs, ``StaleDecision`` is raised and nothing written.
    A frozen campaign refuses decisions unless ``allow_frozen`` (the draw's replacement
    step uses it).
    """
    campaign = get_campaign(con, slug)
    claim_decisions(con, slug)
    if campaign.frozen_at is not None and not allow_frozen:
        raise UserError(
            f"Campaign {slug!r} is frozen for the draw since {campaign.frozen_at.isoformat()}: "
            "decisions are locked. Unfreeze it first (logged) to change a decision."
        )
    if status not in STATUSES:
        raise UserError(f"Unknown status {status!r}; use one of: {', '.join(STATUSES)}.")
    if source not in SOURCES:
        raise UserError(f"Unknown decision source {source!r}; use 'moderator' or 'rule'.")
    if not decided_by or not str(decided_by).strip():
        raise UserError("A decision needs the name of who made it.")
    require_actor(con, str(decided_by), Role.MODERATOR)
    if isinstance(post_number, bool) or not isinstance(post_number, int) or post_number < 1:
        raise UserError(f"Bad post number {post_number!r}.")
    if not _post_known(con, slug, post_number):
        raise UserError(f"Post {post_number} is not stored for campaign {slug!r}; crawl first.")
    if reason is None:
        reason = {"duplicate": "duplicate", "spam": "spam"}.get(status)
    known_reasons = rules.reason_codes()
    if reason is not None and reason not in known_reasons:
        raise UserError(f"Unknown reason {reason!r}; use one of: {', '.join(known_reasons)}.")
    if status == "ineligible" and reason is None:
        raise UserError(f"Say why post {post_number} is ineligible: a reason code is required.")
    if status == "duplicate":
        if duplicate_of is None:
            raise UserError(f"Say which post {post_number} duplicates (duplicate_of).")
        if isinstance(duplicate_of, bool) or not isinstance(duplicate_of, int):
            raise UserError(f"Bad duplicate_of {duplicate_of!r}: give a post number.")
        if duplicate_of == post_number:
            raise UserError(f"Post {post_number} cannot be a duplicate of itself.")
        if not _post_known(con, slug, duplicate_of):
            raise UserError(f"Post {duplicate_of} (duplicate_of) is not stored.")
    elif duplicate_of is not None:
        raise UserError("duplicate_of is only meaningful with status 'duplicate'.")
    note = (note or "").strip() or None

    current = latest_decision(con, slug, post_number)
    current_id = current.decision_id if current else None
    if not isinstance(expected_current, _Any) and expected_current != current_id:
        who = (
            f"{current.decided_by} set it to {current.status!r} at {current.decided_at:%H:%M:%S}"
            if current
            else "its decision was withdrawn"
        )
        raise StaleDecision(
            f"Post {post_number} changed while you were looking: {who}. Reload and decide again.",
            current,
        )
    row = con.execute(
        "INSERT INTO decisions (campaign_slug, post_number, status, reason, note, duplicate_of, "
        f"decided_by, source, supersedes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        [
            slug,
            post_number,
            status,
            reason,
            note,
            duplicate_of,
            str(decided_by).strip(),
            source,
            current_id,
        ],
    ).fetchone()
    assert row is not None
    decision = _from_row(row)
    audit(
        con,
        decision.decided_by,
        "decision" if source == "moderator" else "decision.rule",
        slug,
        post_number=post_number,
        decision_id=decision.decision_id,
        status=status,
        reason=reason,
        note=note,
        duplicate_of=duplicate_of,
        previous_status=current.status if current else None,
        previous_decision_id=current_id,
    )
    return decision
