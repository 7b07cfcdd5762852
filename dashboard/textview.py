"""Showing scraped text safely. Scraped text is hostile: it is only ever shown as text.

- ``md_escape`` makes a string inert inside Streamlit markdown (no links, images, HTML,
  LaTeX, emoji or colour directives).
- ``highlight_html`` escapes the whole text first and only then wraps the matched spans
  in ``<mark>``, so the only markup in its output is ours.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all of
# them turns off emphasis, links, images, raw HTML, tables, headings, code, Streamlit's
# ``:colour[...]``/``:material/...:`` directives and ``$`` LaTeX in one go.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=\"'&%@^/;?,])")
_MAX_PASSAGE_SPANS = 200


def md_escape(text: str | None) -> str:
    """``text`` as literal characters in st.markdown (newlines become spaces)."""
    if not text:
        return ""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def _flexible_pattern(passage: str) -> re.Pattern[str] | None:
    """A regex matching ``passage`` with any whitespace (and zero-width characters) between
    its words, since evidence may come from normalised text."""
    words = passage.split()
    if not words:
        return None
    gap = r"[\s\u200b-\u200f\u2060-\u2064\ufeff\u00ad]+"
    zw = r"[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]*"
    parts = [zw.join(re.escape(ch) for ch in word) for word in words]
    return re.compile(gap.join(parts))


def find_spans(text: str, passages: Iterable[str]) -> list[tuple[int, int]]:
    """Sorted, merged (start, end) spans of ``text`` where any passage occurs."""
    spans: list[tuple[int, int]] = []
    for passage in passages:
        passage = (passage or "").strip()
        if len(passage) < 2:
            continue
        pattern = _flexible_pattern(passage)
        if pattern is None:
            continue
        for match in pattern.finditer(text):
            spans.append(match.span())
            if len(spans) > _MAX_PASSAGE_SPANS:
                break
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight_html(text: str | None, passages: Iterable[str]) -> str:
    """Escaped ``text`` in a pre-wrapped block with the shared passages in ``<mark>``."""
    text = text or ""
    out: list[str] = []
    position = 0
    for start, end in find_spans(text, passages):
        out.append(html.escape(text[position:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    out.append(html.escape(text[position:]))
    body = "".join(out)
    return (
        '<div class="tagdraw-text" style="white-space: pre-wrap; word-break: break-word; '
        f'max-height: 32em; overflow-y: auto; font-size: 0.9em;">{body}</div>'
    )


def clip(text: str | None, limit: int = 200_000) -> tuple[str, bool]:
    """At most ``limit`` characters of ``text``, and whether it was cut."""
    text = text or ""
    return (text, False) if len(text) <= limit else (text[:limit], True)
