"""Crawl failures that reach the operator as one line (the CLI prints them, exits non-zero)."""

from __future__ import annotations

from warehouse.errors import TagdrawError


class CrawlLocked(TagdrawError):
    """Another live process is crawling the same campaign."""

    exit_code = 3


class SiteUnreachable(TagdrawError):
    """The site did not answer (connection refused, DNS, timeouts) even after retries."""

    exit_code = 5


class RobotsForbidden(TagdrawError):
    """robots.txt forbids a URL the crawl needs (for example the tag listing)."""

    exit_code = 6
