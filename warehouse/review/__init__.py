"""Review intelligence: eligibility rules, duplicate clusters, spam signals, near misses.

``compute_suggestions(db_path, slug)`` reads a campaign's posts in one short transaction,
computes with no connection open and writes in one short transaction: the campaign's
``suggestions``, ``duplicate_clusters`` and ``near_misses`` rows are replaced, and rule
decisions are appended where the log does not already say so (never over a moderator).
The detectors themselves are pure functions over plain data (``duplicates``, ``spam``,
``rules``, ``near_miss``; the pipeline is ``detect.review_posts``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Loaded on first use: the detectors pull in datasketch, scipy and pandas (seconds to
# import), which every `tagdraw` command would otherwise pay for at start-up.
_EXPORTS = {
    "NearMiss": "warehouse.review.near_miss",
    "ReviewComment": "warehouse.review.model",
    "ReviewPost": "warehouse.review.model",
    "Suggestion": "warehouse.review.model",
    "ReviewSummary": "warehouse.review.service",
    "compute_suggestions": "warehouse.review.service",
    "entries_report": "warehouse.review.service",
    "last_review": "warehouse.review.service",
    "list_duplicate_clusters": "warehouse.review.service",
    "list_near_misses": "warehouse.review.service",
    "list_suggestions": "warehouse.review.service",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)


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
