"""When a post is loaded in Chromium, and whether a sampled render check is due.

Adaptive crawling (as Crawlee's AdaptivePlaywrightCrawler does): pages are read over plain
HTTP, and a sample is also loaded in Chromium with the page's own script, its
ดูความเห็นเพิ่มเติม button clicked until gone, to prove that nothing is lost by not
rendering. The first difference makes every later post rendered and clicked, and every
post read without rendering so far is read again that way. The policy is only state and
decisions; the crawl does the fetching.
"""

from __future__ import annotations

from typing import Literal

from scraper.options import COMMENTS_MODES, CommentsMode

Way = Literal["http", "render", "click"]

RENDER_CHECK_FIRST = 3  # the first posts with comments from the comments endpoint
RENDER_CHECK_EVERY = 100  # then one post in this many


class RenderPolicy:
    """``mode``: 'adaptive', 'render' or 'click' (see ``scraper.options.COMMENTS_MODES``)."""

    def __init__(
        self,
        mode: CommentsMode,
        *,
        check_first: int = RENDER_CHECK_FIRST,
        check_every: int = RENDER_CHECK_EVERY,
    ) -> None:
        if mode not in COMMENTS_MODES:
            raise ValueError(f"comments_mode must be one of {tuple(COMMENTS_MODES)}, not {mode!r}")
        self.mode = mode
        self.check_first = check_first
        self.check_every = check_every
        self.switched_because: str | None = None  # why every post is now clicked
        self._posts = 0
        self._checks_due = 0
        self._unrendered: dict[int, str] = {}  # read over plain HTTP: number -> source

    @property
    def clicking_everything(self) -> bool:
        return self.mode == "click" or self.switched_because is not None

    @property
    def uses_javascript(self) -> bool:
        """Whether Chromium runs the page's script (checks and clicking need it)."""
        return self.mode in ("adaptive", "click")

    def way(self) -> Way:
        """How the next post is fetched."""
        if self.clicking_everything:
            return "click"
        return "render" if self.mode == "render" else "http"

    def read_over_http(self, number: int, source: str, *, comment_pages: int) -> bool:
        """Note a post read over plain HTTP; True when it is due for a render check: the
        first ``check_first`` posts whose comments came partly from the comments endpoint,
        then one post in every ``check_every``."""
        self._unrendered[number] = source
        self._posts += 1
        if self._checks_due < self.check_first and comment_pages > 0:
            self._checks_due += 1
            return True
        return self._posts % self.check_every == 0

    def check_skipped(self, checks_made: int) -> None:
        """A sampled check could not be made (the page failed): while the first checks
        are not all made, sample another post instead."""
        if checks_made < self.check_first:
            self._checks_due = max(0, self._checks_due - 1)

    def rendered(self, number: int) -> None:
        """The post's rendered result replaced the one read over HTTP."""
        self._unrendered.pop(number, None)

    def switch_to_click(self, why: str) -> tuple[bool, dict[int, str]]:
        """A check differed (or failed): click every post from now on. Returns (whether
        this is the switch, the posts read without rendering that must be read again)."""
        first = self.switched_because is None and self.mode != "click"
        if first:
            self.switched_because = why
        again, self._unrendered = self._unrendered, {}
        return first, again
