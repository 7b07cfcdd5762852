"""What the dashboard's buttons do: plain functions over a connection (one transaction
each, through ``Ctx.call``), built on ``warehouse.decisions.record_decision``.

Every write passes ``expected_current`` = the decision id the moderator was shown, so
two moderators never silently overwrite each other: the second gets ``StaleDecision``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from dashboard.queries import undo_target
from warehouse.decisions import Decision, StaleDecision, decision_history, record_decision
from warehouse.errors import UserError


@dataclass(frozen=True)
class DecisionRequest:
    post_number: int
    shown_decision_id: int | None  # what the moderator saw (None = no decision yet)


@dataclass
class BulkResult:
    saved: list[Decision] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)  # post numbers that changed meanwhile
    refused: dict[int, str] = field(default_factory=dict)  # post number -> why


def decide(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    post_number: int,
    status: str,
    *,
    decided_by: str,
    shown_decision_id: int | None,
    reason: str | None = None,
    note: str | None = None,
    duplicate_of: int | None = None,
) -> Decision:
    """One moderator decision; raises StaleDecision if the entry changed since shown."""
    return record_decision(
        con,
        slug,
        post_number,
        status,
        decided_by=decided_by,
        reason=reason,
        note=note,
        duplicate_of=duplicate_of,
        expected_current=shown_decision_id,
    )


def undo(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    post_number: int,
    *,
    decided_by: str,
    shown_decision_id: int | None,
) -> Decision:
    """A new decision restoring what the latest decision replaced (pending if nothing)."""
    history = decision_history(con, slug, post_number)
    if not history:
        raise UserError(f"Post {post_number} has no decision to undo.")
    latest = history[-1]
    if shown_decision_id != latest.decision_id:
        raise StaleDecision(
            f"Post {post_number} changed while you were looking; reload and try again.", latest
        )
    status, reason, duplicate_of = undo_target(history)
    return record_decision(
        con,
        slug,
        post_number,
        status,
        decided_by=decided_by,
        reason=reason,
        duplicate_of=duplicate_of,
        note=f"undo of decision {latest.decision_id}",
        expected_current=latest.decision_id,
    )


def decide_many(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    requests: Sequence[DecisionRequest],
    status: str,
    *,
    decided_by: str,
    reason: str | None = None,
    note: str | None = None,
    duplicate_of: int | None = None,
) -> BulkResult:
    """The same decision for several entries in one transaction. Entries that changed since
    shown are skipped and reported, the rest are saved."""
    result = BulkResult()
    for request in requests:
        try:
            result.saved.append(
                record_decision(
                    con,
                    slug,
                    request.post_number,
                    status,
                    decided_by=decided_by,
                    reason=reason,
                    duplicate_of=duplicate_of,
                    note=note,
                    expected_current=request.shown_decision_id,
                )
            )
        except StaleDecision:
            result.stale.append(request.post_number)
        except UserError as exc:
            result.refused[request.post_number] = str(exc)
    return result


def keep_original(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    original: int,
    copies: Sequence[DecisionRequest],
    *,
    decided_by: str,
    note: str | None = None,
) -> BulkResult:
    """Mark every copy of a cluster ``duplicate`` of ``original``; the original's own
    decision is left alone (its eligibility is a separate question)."""
    return decide_many(
        con,
        slug,
        [request for request in copies if request.post_number != original],
        "duplicate",
        decided_by=decided_by,
        reason="duplicate",
        note=note,
        duplicate_of=original,
    )
