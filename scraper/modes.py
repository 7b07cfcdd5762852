"""How a crawl loads comments: named once here, for the CLI (which must not import the
crawler's heavy dependencies just to build its parser) and for ``scraper.crawl``."""

from __future__ import annotations

COMMENTS_MODES: dict[str, str] = {
    "adaptive": "pages and comment pages over plain HTTP; a sample of posts loaded in "
    "Chromium and its ดูความเห็นเพิ่มเติม button clicked until gone, to prove nothing is "
    "missed (any difference switches the run to click)",
    "render": "every post page navigated in Chromium with JavaScript off; the comments JSON "
    "over plain HTTP",
    "click": "every post rendered in Chromium and its button clicked until it is gone",
}
DEFAULT_COMMENTS_MODE = "adaptive"
