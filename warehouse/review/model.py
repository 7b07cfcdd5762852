"""Plain data the review detectors read and write.

The detectors (duplicates, spam, rules, near misses) are pure functions over these
dataclasses; ``warehouse.review.service`` fills them from the warehouse and stores the
results. Tests and the bench fill them straight from the replica's ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KINDS = ("duplicate", "spam", "rule", "near_miss")


@dataclass(frozen=True, slots=True)
class ReviewComment:
    comment_id: int
    post_number: int
    author_key: str | None  # lower-cased username; None for guests
    author_name: str | None
    created_at: datetime | None
    body_text: str


@dataclass(frozen=True, slots=True)
class ReviewPost:
    post_number: int
    author_key: str | None  # lower-cased username
    created_at: datetime | None
    title: str
    body_text: str
    tags: tuple[str, ...] = ()  # as written (compared through normalise_tag)
    author_name: str | None = None
    comments: tuple[ReviewComment, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One thing a moderator should look at, with the evidence for it.

    Suggestions are derived data: recomputed on every run, never a decision.
    """

    kind: str  # one of KINDS
    score: float  # 0..1, higher = more certain
    duplicate_of: int | None
    why: str  # one human sentence
    evidence: dict[str, Any] = field(default_factory=dict)
    post_number: int | None = None
    comment_id: int | None = None

    def brief(self) -> dict[str, Any]:
        """The form an ``entries`` line carries."""
        return {
            "kind": self.kind,
            "score": round(self.score, 4),
            "duplicate_of": self.duplicate_of,
            "why": self.why,
        }
