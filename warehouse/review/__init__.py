"""Review intelligence: eligibility rules, duplicate clusters, spam signals, near misses.

``compute_suggestions(db_path, slug)`` reads a campaign's posts in one short transaction,
computes with no connection open and writes in one short transaction: the campaign's
``suggestions``, ``duplicate_clusters`` and ``near_misses`` rows are replaced, and rule
decisions are appended where the log does not already say so (never over a moderator).
The detectors themselves are pure functions over plain data (``duplicates``, ``spam``,
``rules``, ``near_miss``; the pipeline is ``detect.review_posts``).
"""

from __future__ import annotations

from warehouse.review.model import ReviewComment, ReviewPost, Suggestion
from warehouse.review.near_miss import NearMiss
from warehouse.review.service import (
    ReviewSummary,
    compute_suggestions,
    entries_report,
    last_review,
    list_duplicate_clusters,
    list_near_misses,
    list_suggestions,
)

__all__ = [
    "NearMiss",
    "ReviewComment",
    "ReviewPost",
    "ReviewSummary",
    "Suggestion",
    "compute_suggestions",
    "entries_report",
    "last_review",
    "list_duplicate_clusters",
    "list_near_misses",
    "list_suggestions",
]
