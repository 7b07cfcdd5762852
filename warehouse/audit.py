"""The audit log: who did what, when. Every moderator decision, campaign change, freeze,
backup and restore writes one row here (inside the caller's transaction)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from warehouse.thai import BANGKOK


@dataclass(frozen=True)
class AuditEntry:
    audit_id: int
    at: datetime
    actor: str
    action: str
    campaign_slug: str | None
    details: dict[str, Any]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def audit(
    con: duckdb.DuckDBPyConnection,
    actor: str,
    action: str,
    campaign_slug: str | None = None,
    **details: Any,
) -> None:
    """Append one audit row. ``details`` is stored as JSON (datetimes as ISO text)."""
    if not actor or not actor.strip():
        raise ValueError("audit needs an actor")
    con.execute(
        "INSERT INTO audit_log (actor, action, campaign_slug, details) VALUES (?, ?, ?, ?)",
        [
            actor.strip(),
            action,
            campaign_slug,
            json.dumps(details, ensure_ascii=False, default=_json_default, sort_keys=True),
        ],
    )


def audit_entries(
    con: duckdb.DuckDBPyConnection,
    campaign_slug: str | None = None,
    *,
    action: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Audit rows, newest first; optionally of one campaign and/or one action."""
    sql = 'SELECT audit_id, "at", actor, action, campaign_slug, details FROM audit_log WHERE true'
    params: list[Any] = []
    if campaign_slug is not None:
        sql += " AND campaign_slug = ?"
        params.append(campaign_slug)
    if action is not None:
        sql += " AND action = ?"
        params.append(action)
    sql += " ORDER BY audit_id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [
        AuditEntry(
            audit_id=row[0],
            at=row[1].astimezone(BANGKOK),
            actor=row[2],
            action=row[3],
            campaign_slug=row[4],
            details=json.loads(row[5]) if row[5] else {},
        )
        for row in con.execute(sql, params).fetchall()
    ]
