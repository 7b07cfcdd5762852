"""The site options shared by ``tagdraw crawl`` and ``tagdraw schedule``: how hard and how
long a crawl may talk to the site, bounded while the arguments are parsed."""

from __future__ import annotations

import argparse
from typing import Any

# What the site options accept. A rate below one request per 100 s, or a timeout of more
# than an hour, is a typing mistake, not a politeness setting (and NaN or infinity would
# hang or crash the rate limiter).
RATE_RANGE = (0.01, 1000.0)
TIMEOUT_RANGE = (0.1, 3600.0)
CONCURRENCY_RANGE = (1, 64)


def _bounded(kind: type[float] | type[int], low: float, high: float) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number") from None
        if not low <= value <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}, not {text[:40]!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def add_site_options(parser: argparse.ArgumentParser) -> None:
    """How hard and how long the crawl may talk to the site."""
    parser.add_argument(
        "--rate",
        type=_bounded(float, *RATE_RANGE),
        default=None,
        metavar="R",
        help="requests per second to the site (default $TAGDRAW_RATE_PER_S, 1)",
    )
    parser.add_argument(
        "--concurrency",
        type=_bounded(int, *CONCURRENCY_RANGE),
        default=None,
        metavar="N",
        help="pages in flight at once (default $TAGDRAW_CONCURRENCY, 4)",
    )
    parser.add_argument(
        "--unthrottled",
        action="store_true",
        help="no rate limit; honoured ONLY when the site is 127.0.0.1/localhost (a replica)",
    )
    parser.add_argument(
        "--timeout",
        type=_bounded(float, *TIMEOUT_RANGE),
        default=None,
        metavar="S",
        help="seconds before a request is given up and retried "
        "(default $TAGDRAW_REQUEST_TIMEOUT_S, 20)",
    )


def site_options_from(args: argparse.Namespace) -> dict[str, Any]:
    """The options of ``add_site_options`` (bounded while parsing) as ``run_crawl``
    keywords."""
    options: dict[str, Any] = {"unthrottled": args.unthrottled}
    for key, value in (
        ("rate_per_s", args.rate),
        ("concurrency", args.concurrency),
        ("request_timeout_s", args.timeout),
    ):
        if value is not None:
            options[key] = value
    return options
