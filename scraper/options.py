"""The comments modes of a crawl. Kept light: building the CLI parser reads them and must not
import the crawler's heavy dependencies (aiohttp, Playwright, DuckDB)."""

from __future__ import annotations

from typing import Literal

COMMENTS_MODES: dict[str, str] = {
    "adaptive": "pages and comment pages over plain HTTP; a sample of posts loaded in "
    "Chromium and its ดูความเห็นเพิ่มเติม button clicked until gone, to prove nothing is "
    "missed (any difference switches the run to click)",
    "render": "every post page navigated in Chromium with JavaScript off; the comments JSON "
    "over plain HTTP",
    "click": "every post rendered in Chromium and its button clicked until it is gone",
}
CommentsMode = Literal["adaptive", "render", "click"]
DEFAULT_COMMENTS_MODE: CommentsMode = "adaptive"
