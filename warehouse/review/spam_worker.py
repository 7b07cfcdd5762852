"""The review's second process: ``python -m warehouse.review.spam_worker`` reads pickled
``(post_number, title, body_text)`` tuples on stdin and writes the pickled
``{post_number: signals}`` of the posts whose spam signals fired on stdout.

A fresh interpreter, started by ``warehouse.review.detect`` for large campaigns: never a
fork of the caller (the scheduler runs the review in a thread, and a child forked from a
threaded process can deadlock), and never a re-run of the caller's main script (which
multiprocessing's spawn and forkserver do: under Streamlit that is the dashboard app)."""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterable
from typing import Any

from warehouse.review.spam import spam_signals


def signals_of(items: Iterable[tuple[int, str, str]]) -> dict[int, dict[str, Any]]:
    """post number -> the spam signals that fired (posts with none left out)."""
    out = {}
    for number, title, body_text in items:
        signals = spam_signals(title, body_text)
        if signals:
            out[number] = signals
    return out


def main() -> None:
    items = pickle.load(sys.stdin.buffer)
    pickle.dump(signals_of(items), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()
