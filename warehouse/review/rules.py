"""Rule facts -> automatic decisions and suggestions for a moderator.

Facts that settle an entry by themselves (written before the window opened or after it
closed, Asia/Bangkok; keyword tag missing or removed; written by an organiser or an
excluded author; deleted or private) become decisions with a reason code, source
``'rule'``, decided by ``'rules'``. They never override a moderator: if the latest decision
of an entry is a moderator's, the rules leave it alone. If the rule outcome is what the
latest rule decision already says, nothing is written; if no rule applies any more and the
latest decision is the rules', the entry goes back to ``pending``. So a second run with
nothing changed writes nothing.

Facts that need judgement (edited after the deadline, more entries by one author than the
campaign allows) become suggestions of kind ``'rule'``, with what changed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from warehouse import rules
from warehouse.review.model import Suggestion
from warehouse.thai import normalise_tag, normalise_text

RULE_ACTOR = "rules"


def settling_rules() -> list[rules.Rule]:
    """The rules that settle an entry by themselves, the most lasting first (an organiser
    stays an organiser; a private post may come back): the first that applies gives the
    decision's reason."""
    settling = [r for r in rules.rules() if r.settles is not None]
    return sorted(settling, key=lambda r: r.settles or 0)


class FactsLike(Protocol):
    """``warehouse.entries.RuleFacts``: every fact of ``warehouse.rules.facts()`` is read
    as an attribute of that name."""

    def __getattr__(self, name: str) -> bool | int: ...


class DecisionLike(Protocol):
    # Read-only members: a frozen dataclass (warehouse.decisions.Decision) satisfies them.
    @property
    def decision_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def source(self) -> str: ...


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    status: str  # 'ineligible'
    reason: str  # the reason code recorded
    reasons: tuple[str, ...]  # every automatic reason that applies
    note: str


@dataclass(frozen=True, slots=True)
class PlannedDecision:
    post_number: int
    status: str
    reason: str | None
    note: str
    expected_current: int | None  # the decision_id the plan was made against


@dataclass(frozen=True, slots=True)
class PostVersion:
    version_no: int
    seen_at: datetime
    title: str | None
    body_text: str | None
    tags: tuple[str, ...]  # as written
    updated_at: datetime | None


def automatic_reasons(facts: FactsLike) -> list[str]:
    return [r.code for r in settling_rules() if rules.applies(r, facts)]


def rule_outcome(facts: FactsLike) -> RuleOutcome | None:
    """The automatic decision the facts call for, or None if no rule settles the entry."""
    applying = [r for r in settling_rules() if rules.applies(r, facts)]
    if not applying:
        return None
    texts = []
    for rule in applying:
        text = rule.note
        for refinement in rules.rules():
            if refinement.refines == rule.code and rules.applies(refinement, facts):
                text = refinement.note
        texts.append(text)
    note = "Rule: " + "; ".join(texts) + "."
    reasons = tuple(r.code for r in applying)
    return RuleOutcome(status="ineligible", reason=reasons[0], reasons=reasons, note=note)


def plan_rule_decisions(
    facts_by_post: Mapping[int, FactsLike], current: Mapping[int, DecisionLike]
) -> list[PlannedDecision]:
    """The rule decisions to append so that the log reflects the facts, touching nothing a
    moderator decided and writing nothing that is already so."""
    planned = []
    for post_number in sorted(facts_by_post):
        latest = current.get(post_number)
        if latest is not None and latest.source != "rule":
            continue  # a moderator's decision stands
        outcome = rule_outcome(facts_by_post[post_number])
        latest_id = latest.decision_id if latest else None
        if outcome is not None:
            if latest is not None and (latest.status, latest.reason) == (
                outcome.status,
                outcome.reason,
            ):
                continue
            planned.append(
                PlannedDecision(
                    post_number, outcome.status, outcome.reason, outcome.note, latest_id
                )
            )
        elif latest is not None and latest.status != "pending":
            planned.append(
                PlannedDecision(
                    post_number,
                    "pending",
                    None,
                    f"Rule no longer applies (was {latest.status}: {latest.reason}); back to review.",
                    latest_id,
                )
            )
    return planned


# --- judgement flags ------------------------------------------------------------------


def describe_edit(versions: Sequence[PostVersion], closes_at: datetime) -> dict[str, Any]:
    """What changed after the deadline: the last version seen by the deadline against the
    latest one (title, tags added/removed, body characters and similarity)."""
    ordered = sorted(versions, key=lambda v: v.version_no)
    if not ordered:
        return {"known": False, "summary": "no stored versions to compare"}
    before = [v for v in ordered if v.seen_at <= closes_at]
    latest = ordered[-1]
    if before:
        base = before[-1]
        basis = f"version {base.version_no} (seen {base.seen_at.isoformat()}, by the deadline)"
    else:
        base = ordered[0]
        basis = (
            f"version {base.version_no}, first seen {base.seen_at.isoformat()} after the "
            "deadline: earlier changes cannot be known"
        )
    change: dict[str, Any] = {
        "known": bool(before),
        "compared": [base.version_no, latest.version_no],
        "basis": basis,
        "updated_at": latest.updated_at.isoformat() if latest.updated_at else None,
    }
    if base is latest:
        change["summary"] = "the site shows an edit after the deadline; only one version stored"
        return change
    parts = []
    if (base.title or "") != (latest.title or ""):
        change["title"] = {"before": base.title, "after": latest.title}
        parts.append("title changed")
    # Compared in the normalised form (a tag written in another case is the same tag),
    # named as written.
    base_keys = {normalise_tag(t) for t in base.tags}
    latest_keys = {normalise_tag(t) for t in latest.tags}
    added = sorted({t for t in latest.tags if normalise_tag(t) not in base_keys})
    removed = sorted({t for t in base.tags if normalise_tag(t) not in latest_keys})
    if added or removed:
        change["tags_added"], change["tags_removed"] = added, removed
        parts.append("tags " + ", ".join([f"+{t}" for t in added] + [f"-{t}" for t in removed]))
    old = normalise_text(base.body_text or "")
    new = normalise_text(latest.body_text or "")
    if old != new:
        matcher = difflib.SequenceMatcher(None, old[:5000], new[:5000], autojunk=False)
        inserted = deleted = 0
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                deleted += i2 - i1
            if tag in ("replace", "insert"):
                inserted += j2 - j1
        change["body"] = {
            "chars_before": len(old),
            "chars_after": len(new),
            "inserted": inserted,
            "deleted": deleted,
            "similarity": round(matcher.ratio(), 3),
        }
        parts.append(f"body +{inserted}/-{deleted} characters")
    change["summary"] = "; ".join(parts) or "no visible change in title, tags or body"
    return change


def edited_after_close_suggestion(
    post_number: int, versions: Sequence[PostVersion], closes_at: datetime
) -> Suggestion:
    change = describe_edit(versions, closes_at)
    return Suggestion(
        kind="rule",
        score=0.8 if change.get("known") else 0.6,
        duplicate_of=None,
        why=f"Edited after the deadline: {change['summary']}.",
        evidence={"rule": "edited_after_close", **change},
        post_number=post_number,
    )


def over_limit_suggestion(
    post_number: int,
    author_key: str | None,
    author_posts: Sequence[int],
    limit: int | None,
) -> Suggestion:
    others = [n for n in author_posts if n != post_number]
    return Suggestion(
        kind="rule",
        score=0.9,
        duplicate_of=None,
        why=(
            f"Author {author_key} has {len(author_posts)} entries; the campaign allows "
            f"{limit}. Counted by date, this one is over the limit."
        ),
        evidence={
            "rule": "over_author_limit",
            "author_key": author_key,
            "limit": limit,
            "author_entries": list(author_posts),
            "others": others,
        },
        post_number=post_number,
    )
