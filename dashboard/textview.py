"""Showing scraped text safely. Scraped text is hostile: it is only ever shown as text.

- Scraped text goes to ``st.text`` (or a dataframe cell), through ``inert``, never into a
  markdown element (``st.markdown``, captions, headers, alerts): Streamlit's markdown
  turns bare ``https://...``, ``www.`` and e-mail addresses into live links, and no
  escaping stops that (the autolink step matches the rendered text, after escapes).
- ``inert`` makes bidi controls (an unclosed RIGHT-TO-LEFT OVERRIDE would reverse what
  follows it) visible as ``[U+202E]`` instead of letting them reorder the page.
- ``md_escape`` makes a string literal inside Streamlit markdown (no emphasis, images,
  HTML, LaTeX, emoji or colour directives) for our own text; it does NOT stop autolinks.
- ``highlight_html`` escapes the whole text first and only then wraps the matched spans
  in ``<mark>``, so the only markup in its output is ours (HTML never autolinks).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from warehouse.thai import ZERO_WIDTH_CHARS

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all of
# them turns off emphasis, links, images, raw HTML, tables, headings, code, Streamlit's
# ``:colour[...]``/``:material/...:`` directives and ``$`` LaTeX in one go.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=\"'&%@^/;?,])")
_MAX_PASSAGE_SPANS = 200


# The invisible characters of the one Thai normaliser that steer text direction: the
# explicit embeddings, overrides and isolates, and the strong invisible marks (LRM, RLM,
# ALM), picked by their bidi class.
_STEERING = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", "L", "R", "AL"}
_BIDI_RE = re.compile(
    "["
    + "".join(re.escape(c) for c in ZERO_WIDTH_CHARS if unicodedata.bidirectional(c) in _STEERING)
    + "]"
)


def inert(text: str | None) -> str:
    """``text`` for ``st.text``: every bidi control shown as a visible ``[U+XXXX]``."""
    if not text:
        return ""
    return _BIDI_RE.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(text))


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
        out.append(html.escape(inert(text[position:start])))
        out.append(f"<mark>{html.escape(inert(text[start:end]))}</mark>")
        position = end
    out.append(html.escape(inert(text[position:])))
    body = "".join(out)
    return (
        '<div class="tagdraw-text" style="white-space: pre-wrap; word-break: break-word; '
        f'max-height: 32em; overflow-y: auto; font-size: 0.9em;">{body}</div>'
    )


def clip(text: str | None, limit: int = 200_000) -> tuple[str, bool]:
    """At most ``limit`` characters of ``text``, and whether it was cut."""
    text = text or ""
    return (text, False) if len(text) <= limit else (text[:limit], True)
