"""Field extraction shared by the peer spiders (Crawlee, Scrapy, plain HTTP).

What a user of those frameworks would write: CSS selectors over the rendered HTML with
parsel (the selector library Scrapy uses). One module so every peer produces exactly the
same record for the same page, and the comparison measures the frameworks, not the
selectors. The record has the field names of the replica's ground truth.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from parsel import Selector

from warehouse.thai import normalise_tag, parse_thai_datetime

POST_LINK_CSS = ".post-list a[href*='/posts/']::attr(href)"
NEXT_LINK_CSS = "a[rel=next]::attr(href)"
LOAD_MORE_CSS = "button.load-more-comments"
POST_URL_RE = re.compile(r"/posts/(\d+)(?:[?#]|$)")
_NUMBER_RE = re.compile(r"(\d+)")
_PARAGRAPH_TAGS = ("p", "li", "blockquote", "pre", "h2", "h3", "h4", "div")


def post_number_from_url(url: str) -> int | None:
    match = POST_URL_RE.search(url)
    return int(match.group(1)) if match else None


def listing_links(html: str, base_url: str) -> tuple[list[str], str | None]:
    """The post URLs on one listing page (in order, de-duplicated) and the next page's URL."""
    sel = Selector(text=html)
    seen: dict[str, None] = {}
    for href in sel.css(POST_LINK_CSS).getall():
        url = urljoin(base_url, href)
        if post_number_from_url(url) is not None:
            seen.setdefault(url, None)
    next_href = sel.css(NEXT_LINK_CSS).get()
    return list(seen), urljoin(base_url, next_href) if next_href else None


def _text(sel: Selector | None) -> str:
    if sel is None:
        return ""
    return "".join(sel.xpath(".//text()").getall()).strip()


def _block_text(sel: Selector | None) -> str:
    """Paragraphs (block children) joined by a blank line, as the warehouse stores them."""
    if sel is None:
        return ""
    blocks = [
        _text(child)
        for child in sel.xpath("./*")
        if child.root.tag in _PARAGRAPH_TAGS or child.root.tag in ("ul", "ol")
    ]
    blocks = [b for b in blocks if b]
    if not blocks:
        return _text(sel)
    # Lists: one block per item, like a reader sees them.
    out: list[str] = []
    for child in sel.xpath("./*"):
        if child.root.tag in ("ul", "ol"):
            out.extend(t for t in (_text(li) for li in child.xpath("./li")) if t)
        else:
            t = _text(child)
            if t:
                out.append(t)
    return "\n\n".join(out)


def _date(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    return parse_thai_datetime(text).isoformat()


def _labelled_date(sel: Selector, css: str, label: str) -> str | None:
    node = sel.css(css)
    if not node:
        return None
    iso = node.css("time::attr(datetime)").get()
    if iso:
        return iso
    raw = _text(node[0]).replace(label, "", 1)
    return _date(raw.split("(")[0])


def parse_comment(li: Selector) -> dict[str, Any]:
    author_link = li.css(".comment-author a")
    username = None
    if author_link:
        href = author_link.attrib.get("href", "")
        username = href.rstrip("/").rsplit("/", 1)[-1] or None
    meta = _text(li.css(".comment-meta")[0] if li.css(".comment-meta") else None)
    meta = meta.replace("เขียนเมื่อ", "", 1).split("(")[0]
    return {
        "comment_id": int(_NUMBER_RE.search(li.attrib.get("id", "")).group(1)),
        "author_username": username,
        "author_name": _text(li.css(".comment-author")[0]),
        "created_at": _date(meta),
        "body_text": _block_text(li.css(".comment-body")[0] if li.css(".comment-body") else None),
    }


def parse_post(html: str, url: str, status: int = 200) -> dict[str, Any]:
    """One post record (comments included, as many as the HTML holds).

    A 404 or a redirect to /login is recorded as a gone post (state deleted / private).
    """
    number = post_number_from_url(url)
    if status == 404:
        return {"post_number": number, "state": "deleted", "comments": []}
    if "/login" in url or status in (301, 302, 303, 401, 403):
        return {"post_number": number, "state": "private", "comments": []}
    sel = Selector(text=html)
    meta = sel.css(".post-meta")
    number_text = _text(meta.css(".post-number")[0]) if meta.css(".post-number") else ""
    match = _NUMBER_RE.search(number_text)
    book_href = sel.css(".post-byline a.book::attr(href)").get() or ""
    author = sel.css(".post-byline a.author")
    raw_tags = [_text(a) for a in sel.css(".post-tags a.tag")]
    count_text = _text(sel.css("#comments h2")[0]) if sel.css("#comments h2") else ""
    count_match = _NUMBER_RE.search(count_text)
    return {
        "post_number": int(match.group(1)) if match else number,
        "url": url,
        "state": "public",
        "title": _text(sel.css("h1.post-title")[0]) if sel.css("h1.post-title") else "",
        "author_username": (author.attrib.get("href", "").rstrip("/").rsplit("/", 1)[-1] or None)
        if author
        else None,
        "author_name": _text(author[0]) if author else "",
        "book_slug": book_href.rstrip("/").rsplit("/", 1)[-1] or None,
        "created_at": _labelled_date(meta, ".created", "เขียนเมื่อ"),
        "updated_at": _labelled_date(meta, ".updated", "แก้ไขเมื่อ"),
        "tags": [normalise_tag(t) for t in raw_tags],
        "body_text": _block_text(sel.css(".post-body")[0] if sel.css(".post-body") else None),
        "comment_count_declared": int(count_match.group(1)) if count_match else None,
        "comments": [parse_comment(li) for li in sel.css("ol.comment-list > li.comment")],
        "load_more_left": bool(sel.css(LOAD_MORE_CSS)),
    }


def comments_from_json(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Comments of one page of ``/posts/<n>/comments?page=k`` (the plain-HTTP peer)."""
    out = []
    for item in payload.get("comments", []):
        author = item.get("author") or {}
        body = Selector(text=f"<div>{item.get('html', '')}</div>").css("body > div")
        out.append(
            {
                "comment_id": int(item["id"]),
                "author_username": author.get("username"),
                "author_name": author.get("name", ""),
                "created_at": item.get("created"),
                "body_text": _block_text(body[0] if body else None),
            }
        )
    return out
