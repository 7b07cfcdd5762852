"""Pure parsers: the site's HTML (and the comments JSON) to ``warehouse.models`` dataclasses.

They anchor on what is stable on the site: the visible Thai labels (``หมายเลขบันทึก:``,
``เขียนเมื่อ``, ``แก้ไขเมื่อ``, ``สัญญาอนุญาต:``, ``ความเห็น (N)``), URL patterns
(``/posts/<n>``, ``/profiles/users/<u>``, ``/blogs/books/<slug>``, ``/posts?tag=``) and
semantic structure (``h1``, ``article``, ``rel="next"``, ``id="comment-N"``), never on
class names. A page that lacks a required field raises ``ParseError``; the crawler records
it with a saved copy of the HTML instead of storing an empty row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment as HtmlComment

from warehouse.models import Comment, CommentsPage, ListingItem, ListingPage, Post
from warehouse.thai import (
    ThaiDateError,
    normalise_tag,
    parse_thai_datetime,
    squash_whitespace,
    thai_digits_to_ascii,
)


class ParseError(ValueError):
    """A page lacks something the crawler must not guess: ``url`` and ``what`` say which."""

    def __init__(self, url: str, what: str) -> None:
        super().__init__(f"{url}: {what}")
        self.url = url
        self.what = what


# --- URL patterns --------------------------------------------------------------------------

_DIGITS = "0-9๐-๙"
POST_PATH = re.compile(r"^/posts/(?P<n>[0-9]+)/?$")
PROFILE_PATH = re.compile(r"^/profiles/users/(?P<u>[^/?#]+)/?$")
BOOK_PATH = re.compile(r"^/blogs/books/(?P<b>[^/?#]+)/?$")
COMMENT_ID = re.compile(r"^comment-(?P<id>[0-9]+)$")
LOGIN_PATH = re.compile(r"^/(login|signin|sessions/new)\b")

_POST_NUMBER_LABEL = re.compile(rf"หมายเลขบันทึก\s*[:：]?\s*(?P<n>[{_DIGITS}]+)")
_COMMENT_COUNT_HEADING = re.compile(rf"ความเห็น\s*\(\s*(?P<n>[{_DIGITS},]+)\s*\)")
_LISTING_COMMENT_COUNT = re.compile(rf"ความเห็น\s*[:：]?\s*\(?\s*(?P<n>[{_DIGITS},]+)")
_RESULT_COUNT = re.compile(rf"พบ\s*(?P<n>[{_DIGITS},]+)\s*บันทึก")
_SHORT_DATE = re.compile(rf"[{_DIGITS}]{{1,2}}\s*[\u0E01-\u0E4F.]+\s*[{_DIGITS}]{{4}}")
_CREATED_LABEL = "เขียนเมื่อ"
_CREATED_VALUE = re.compile(rf"เขียนเมื่อ\s*[:：]?\s*[{_DIGITS}]")
_UPDATED_VALUE = re.compile(rf"แก้ไขเมื่อ\s*[:：]?\s*[{_DIGITS}]")
_UPDATED_LABEL = "แก้ไขเมื่อ"
_LICENSE_LABEL = re.compile(r"สัญญาอนุญาต\s*[:：]?\s*")
# Text that ends a label's value on the meta line (the copy of a real page runs them together).
_META_STOP = re.compile(r"\(|เขียนเมื่อ|แก้ไขเมื่อ|สัญญาอนุญาต|จำนวนที่อ่าน|หมายเลขบันทึก|คำสำคัญ")
LOAD_MORE_LABEL = "ดูความเห็นเพิ่มเติม"
GUEST_LABEL = "ผู้อ่านทั่วไป"

# Elements that start a new block of text; everything else is inline.
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "tr",
        "td",
        "th",
        "section",
        "article",
        "header",
        "footer",
        "aside",
        "figure",
        "figcaption",
        "address",
        "hr",
    ]
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "button", "iframe", "svg"})


def _int(text: str) -> int:
    return int(thai_digits_to_ascii(text).replace(",", ""))


def _path(href: str | None, base: str) -> str | None:
    if not href:
        return None
    parts = urlsplit(urljoin(base, href))
    return unquote(parts.path)


def post_number_from_url(url: str) -> int | None:
    match = POST_PATH.match(urlsplit(url).path)
    return int(match["n"]) if match else None


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def _text(node: Tag | NavigableString | None) -> str:
    if node is None:
        return ""
    if isinstance(node, NavigableString):
        return squash_whitespace(str(node))
    return squash_whitespace(node.get_text(" "))


def block_text(node: Tag | None) -> str:
    """The text of a piece of markup: one paragraph per block (``p``, ``li``, headings …),
    blocks joined by a blank line, whitespace inside a block squashed, zero-width characters
    kept, markup dropped."""
    if node is None:
        return ""
    blocks: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = squash_whitespace("".join(buffer))
        buffer.clear()
        if text:
            blocks.append(text)

    def walk(element: Tag) -> None:
        for child in element.children:
            if isinstance(child, HtmlComment):
                continue
            if isinstance(child, NavigableString):
                buffer.append(str(child))
                continue
            if not isinstance(child, Tag) or child.name in _SKIP_TAGS:
                continue
            if child.name == "br":
                buffer.append(" ")
            elif child.name in _BLOCK_TAGS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(node)
    flush()
    return "\n\n".join(blocks)


def html_to_text(html: str) -> str:
    """``block_text`` of an HTML fragment (the comments JSON carries HTML)."""
    soup = _soup(f"<div>{html or ''}</div>")
    root = soup.find("div")
    return block_text(root if isinstance(root, Tag) else None)


# --- listing -------------------------------------------------------------------------------


def _rel_next(soup: BeautifulSoup, url: str) -> str | None:
    for element in soup.find_all(["a", "link"], href=True):
        rel = element.get("rel") or []
        if isinstance(rel, str):
            rel = rel.split()
        if "next" in [r.lower() for r in rel]:
            return urljoin(url, str(element["href"]))
    return None


def _item_container(link: Tag, number: int, base: str) -> Tag:
    """The largest ancestor of ``link`` whose post links all point at the same post."""
    container = link
    for parent in link.parents:
        if not isinstance(parent, Tag) or parent.name in ("body", "html", "[document]"):
            break
        numbers = {
            post_number_from_url(urljoin(base, str(a["href"])))
            for a in parent.find_all("a", href=True)
        }
        numbers.discard(None)
        if numbers != {number}:
            break
        container = parent
    return container


def parse_listing(html: str, url: str) -> ListingPage:
    """A tag listing page: its items (post links with their listing facts) and rel=next."""
    soup = _soup(html)
    if soup.find("html") is None and soup.find("body") is None:
        raise ParseError(url, "not an HTML page")
    query = parse_qs(urlsplit(url).query)
    tag = (query.get("tag") or [""])[0]
    try:
        page = int((query.get("page") or ["1"])[0])
    except ValueError:
        page = 1
    root = soup.find("main") or soup.find("body") or soup
    items: dict[int, ListingItem] = {}
    order: list[int] = []
    for link in root.find_all("a", href=True):
        number = post_number_from_url(urljoin(url, str(link["href"])))
        if number is None or number in items:
            continue
        container = _item_container(link, number, url)
        post_links = [
            a
            for a in container.find_all("a", href=True)
            if post_number_from_url(urljoin(url, str(a["href"]))) == number
        ]
        titled = [a for a in post_links if a.find_parent(["h1", "h2", "h3", "h4", "h5", "h6"])]
        title = _text((titled or sorted(post_links, key=lambda a: -len(_text(a))))[0])
        if not title:
            raise ParseError(url, f"listing item for post {number} has no title")
        author_username = author_name = None
        for a in container.find_all("a", href=True):
            match = PROFILE_PATH.match(_path(str(a["href"]), url) or "")
            if match:
                author_username, author_name = match["u"], _text(a) or None
                break
        container_text = _text(container).replace(title, " ")
        count_match = _LISTING_COMMENT_COUNT.search(container_text)
        listed_on = None
        date_match = _SHORT_DATE.search(container_text)
        if date_match:
            try:
                listed_on = parse_thai_datetime(date_match.group(0)).date()
            except ThaiDateError:
                listed_on = None
        items[number] = ListingItem(
            post_number=number,
            url=urljoin(url, f"/posts/{number}"),
            title=title,
            author_username=author_username,
            author_name=author_name,
            listed_on=listed_on,
            comment_count=_int(count_match["n"]) if count_match else None,
        )
        order.append(number)
    result_match = _RESULT_COUNT.search(_text(root))
    heading = soup.find("h1")
    if not tag and heading is not None:
        tag = _text(heading).replace("บันทึกที่มีคำสำคัญ", "").strip()
    return ListingPage(
        tag=tag,
        page=page,
        items=tuple(items[n] for n in order),
        next_url=_rel_next(soup, url),
        result_count=_int(result_match["n"]) if result_match else None,
    )


# --- post ----------------------------------------------------------------------------------


def _find_text_node(root: Tag, pattern: re.Pattern[str]) -> NavigableString | None:
    for string in root.find_all(string=pattern):
        if not isinstance(string, HtmlComment):
            return string
    return None


def _contains(ancestor: Tag, node: Tag | NavigableString | None) -> bool:
    if node is None:
        return False
    return node is ancestor or any(p is ancestor for p in node.parents)


def _comments_section(
    root: Tag, title: Tag | None, strings: list[NavigableString] | None = None
) -> Tag | None:
    """The element around the comments: from the ``ความเห็น (N)`` heading (or the first
    ``id="comment-N"`` element) up to just below the element that holds the post title."""
    start: Tag | None = None
    candidates = strings if strings is not None else root.find_all(string=True)
    for string in candidates:
        if "ความเห็น" not in string or not _COMMENT_COUNT_HEADING.search(string):
            continue
        # The heading, not a post that happens to say "ความเห็น (3)" in its text.
        heading = string.find_parent(["h1", "h2", "h3", "h4", "h5", "h6", "header"])
        if heading is not None and heading is not title:
            start = heading
            break
    if start is None:
        first = root.find(id=COMMENT_ID)
        start = first if isinstance(first, Tag) else None
    if start is None:
        return None
    section = start
    for parent in start.parents:
        if not isinstance(parent, Tag) or parent.name in ("body", "html", "[document]"):
            break
        if title is not None and _contains(parent, title):
            break
        section = parent
    return section


def _best_body(root: Tag, avoid: list[Tag | NavigableString]) -> Tag | None:
    """The post body: the element with the most text that holds none of the title, labels,
    tags or comments (the outermost such element when wrappers add nothing). One pass: the
    ancestors of the avoided nodes are descended into, every other element is a candidate."""
    avoided = {id(node) for node in avoid if isinstance(node, Tag)}
    holds_avoided: set[int] = set()
    for node in avoid:
        for parent in node.parents:
            holds_avoided.add(id(parent))
            if parent is root:
                break
    best: Tag | None = None
    best_len = -1
    stack = [root]
    while stack:
        element = stack.pop()
        for child in element.children:
            if not isinstance(child, Tag) or child.name in _SKIP_TAGS or id(child) in avoided:
                continue
            if id(child) in holds_avoided:
                stack.append(child)
                continue
            length = len(child.get_text().strip())
            if length > best_len:
                best, best_len = child, length
    return best


def _label_value(text: str, label: str) -> str | None:
    """The value after ``label`` (a date starts with a digit), up to the next label."""
    match = re.search(rf"{label}\s*[:：]?\s*(?=[{_DIGITS}])", text)
    if match is None:
        return None
    rest = text[match.end() :]
    stop = _META_STOP.search(rest)
    return (rest[: stop.start()] if stop else rest)[:80].strip(" :：")


def _parse_date(url: str, text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_thai_datetime(text)
    except ThaiDateError as exc:
        raise ParseError(url, f"unreadable {what} date {text!r}: {exc}") from None


def _precise(shown: datetime | None, label_node: Tag | NavigableString | None) -> datetime | None:
    """The shown date (minutes) refined by the ``<time datetime>`` beside its label (which
    carries seconds), when both name the same minute."""
    if shown is None or label_node is None:
        return shown
    holder = label_node if isinstance(label_node, Tag) else label_node.parent
    time_tag = holder.find("time", attrs={"datetime": True}) if holder is not None else None
    if not isinstance(time_tag, Tag):
        return shown
    try:
        exact = parse_thai_datetime(str(time_tag["datetime"]))
    except ThaiDateError:
        return shown
    same_minute = exact.replace(second=0, microsecond=0) == shown.replace(second=0, microsecond=0)
    return exact if same_minute else shown


def _author_of(container: Tag, base: str) -> tuple[str | None, str | None]:
    for a in container.find_all("a", href=True):
        match = PROFILE_PATH.match(_path(str(a["href"]), base) or "")
        if match:
            return match["u"], _text(a) or None
    return None, None


def parse_post(html: str, url: str) -> Post:
    """A post page, with the comments embedded in it and the load-more link."""
    soup = _soup(html)
    number_from_url = post_number_from_url(url)
    main = soup.find("main") or soup.find("body")
    if not isinstance(main, Tag):
        raise ParseError(url, "not an HTML page (no body)")
    article = main.find("article")
    root: Tag = article if isinstance(article, Tag) else main
    # Walk the tree once: every visible string and every link (find_all is the slow part).
    strings = [
        d
        for d in main.descendants
        if isinstance(d, NavigableString)
        and not isinstance(d, HtmlComment)
        and d.parent is not None
        and d.parent.name not in _SKIP_TAGS
    ]
    anchors = [a for a in main.find_all("a") if a.get("href")]

    # The post number label; its number may sit in a sibling element (<strong>544804</strong>).
    # A body may quote another post's number: prefer the label that agrees with the URL.
    found: list[tuple[NavigableString, int]] = []
    for string in strings:
        if "หมายเลขบันทึก" not in string:
            continue
        holders = [string, string.parent, string.parent.parent if string.parent else None]
        for holder in holders:
            match = _POST_NUMBER_LABEL.search(_text(holder)) if holder is not None else None
            if match:
                found.append((string, _int(match["n"])))
                break
    if not found:
        raise ParseError(url, "no post number (หมายเลขบันทึก:)")
    label, number = next(((s, n) for s, n in found if n == number_from_url), found[0])
    if number_from_url is not None and number != number_from_url:
        raise ParseError(url, f"post number {number} on the page differs from the URL")

    title_tag = root.find("h1") or main.find("h1")
    title = _text(title_tag) if isinstance(title_tag, Tag) else ""
    if not title:
        og = soup.find("meta", attrs={"property": "og:title"})
        title = squash_whitespace(str(og.get("content", ""))) if isinstance(og, Tag) else ""
    if not title:
        raise ParseError(url, "no title (h1)")

    comments_section = _comments_section(
        main, title_tag if isinstance(title_tag, Tag) else None, strings
    )
    if comments_section is not None and _contains(comments_section, label):
        comments_section = None  # a malformed page: never throw away the post's own labels

    def outside_comments(node: Tag | NavigableString) -> bool:
        return comments_section is None or not _contains(comments_section, node)

    author_username = author_name = None
    byline: list[Tag] = []  # the author and notebook links: never mistaken for a short body
    for a in anchors:
        match = PROFILE_PATH.match(_path(str(a["href"]), url) or "")
        if match and outside_comments(a):
            author_username, author_name = match["u"], _text(a) or None
            byline.append(a)
            break
    if author_username is None:
        raise ParseError(url, "no author link (/profiles/users/<username>)")

    book_slug = None
    for a in anchors:
        match = BOOK_PATH.match(_path(str(a["href"]), url) or "")
        if match and outside_comments(a):
            book_slug = match["b"]
            byline.append(a)
            break

    tag_links: list[Tag] = []
    raw_tags: list[str] = []
    for a in anchors:
        if "tag=" not in str(a["href"]):
            continue
        parts = urlsplit(urljoin(url, str(a["href"])))
        if parts.path.rstrip("/") != "/posts" or not outside_comments(a):
            continue
        tag_param = (parse_qs(parts.query).get("tag") or [""])[0]
        # As shown (a trailing space is part of how a member typed the tag).
        shown = a.get_text() if a.get_text().strip() else tag_param
        if shown:
            tag_links.append(a)
            raw_tags.append(shown)
    tags = tuple(dict.fromkeys(t for t in (normalise_tag(r) for r in raw_tags) if t))

    # The meta line: labels outside the comments. The post number label is its anchor.
    avoid: list[Tag | NavigableString] = [n for n in (title_tag, comments_section) if n]
    if label is not None:
        avoid.append(label)
    created_node = None
    # The written-date label nearest the post number label (a body may say "เขียนเมื่อ…").
    label_depth = {id(p): depth for depth, p in enumerate(label.parents)}
    best_depth = None
    for string in strings:
        if "เขียนเมื่อ" not in string or not _CREATED_VALUE.search(string):
            continue
        if not outside_comments(string):
            continue
        depth = next((label_depth[id(p)] for p in string.parents if id(p) in label_depth), None)
        if depth is not None and (best_depth is None or depth < best_depth):
            created_node, best_depth = string, depth
    if created_node is not None:
        avoid.append(created_node)
        # The meta line: the smallest element holding both the number and the date labels.
        label_chain = {id(p) for p in label.parents}
        for parent in created_node.parents:
            if id(parent) in label_chain:
                if parent is not root and parent is not main:
                    avoid.append(parent)
                break
    avoid.extend(tag_links)
    avoid.extend(byline)
    body = _best_body(root, avoid)
    body_text = block_text(body)

    # Text of the post outside its body and comments: where the labels live.
    meta_texts = []
    for string in strings:
        if body is not None and _contains(body, string):
            continue
        if not outside_comments(string):
            continue
        meta_texts.append(str(string))
    meta_text = squash_whitespace(" ".join(meta_texts))

    created_text = _label_value(meta_text, _CREATED_LABEL)
    if not created_text:
        raise ParseError(url, "no written date (เขียนเมื่อ)")
    created_at = _precise(_parse_date(url, created_text, "written"), created_node)
    updated_node = None
    for string in strings:
        if "แก้ไขเมื่อ" not in string or not _UPDATED_VALUE.search(string):
            continue
        if outside_comments(string) and (body is None or not _contains(body, string)):
            updated_node = string
            break
    updated_at = _precise(
        _parse_date(url, _label_value(meta_text, _UPDATED_LABEL) or None, "edited"), updated_node
    )

    license_text = None
    license_match = _LICENSE_LABEL.search(meta_text)
    if license_match:
        rest = meta_text[license_match.end() :]
        stop = re.search(r"จำนวนที่อ่าน|หมายเลขบันทึก|เขียนเมื่อ|แก้ไขเมื่อ|ความเห็น", rest)
        license_text = (rest[: stop.start()] if stop else rest).strip() or None

    declared = None
    comments: list[Comment] = []
    next_url = None
    if comments_section is not None:
        heading_match = _COMMENT_COUNT_HEADING.search(_text(comments_section))
        declared = _int(heading_match["n"]) if heading_match else None
        comments = _embedded_comments(comments_section, number, url)
        next_url = _load_more(comments_section, url)
    else:
        heading_match = _COMMENT_COUNT_HEADING.search(meta_text)
        declared = _int(heading_match["n"]) if heading_match else None
    if declared is None and not comments:
        declared = 0 if _find_text_node(main, re.compile(r"ความเห็น")) is None else None

    return Post(
        post_number=number,
        url=urljoin(url, f"/posts/{number}"),
        title=title,
        author_username=author_username,
        author_name=author_name,
        book_slug=book_slug,
        created_at=created_at,
        updated_at=updated_at,
        tags=tags,
        raw_tags=tuple(raw_tags),
        body_text=body_text,
        license_text=license_text,
        comment_count_declared=declared,
        comments=tuple(comments),
        comments_next_url=next_url,
    )


def _load_more(section: Tag, base: str) -> str | None:
    for element in section.find_all(True):
        if LOAD_MORE_LABEL not in _text(element) and not element.get("data-next"):
            continue
        target = element.get("data-next") or (element.get("href") if element.name == "a" else None)
        if target:
            return urljoin(base, str(target))
    return None


def _embedded_comments(section: Tag, post_number: int, url: str) -> list[Comment]:
    comments: list[Comment] = []
    for element in section.find_all(id=COMMENT_ID):
        if not isinstance(element, Tag):
            continue
        comment_id = int(COMMENT_ID.match(str(element["id"]))["id"])  # type: ignore[index]
        comments.append(_comment_from_element(element, comment_id, post_number, url))
    return list(renumber(comments))


def _comment_from_element(element: Tag, comment_id: int, post_number: int, url: str) -> Comment:
    # Structure: an author part, a body part and a meta part ("เขียนเมื่อ …"), in any wrapper.
    parts = [c for c in element.children if isinstance(c, Tag)]
    while len(parts) == 1 and parts[0].find(id=COMMENT_ID) is None:
        parts = [c for c in parts[0].children if isinstance(c, Tag)]
    author_part = meta_part = None
    for part in parts:
        if author_part is None and (
            part.find("a", href=PROFILE_HREF) is not None
            or (part.name == "a" and PROFILE_HREF.search(str(part.get("href", ""))))
            or (GUEST_LABEL in _text(part) and len(_text(part)) <= len(GUEST_LABEL) + 40)
        ):
            author_part = part
            continue
        if meta_part is None and _CREATED_LABEL in _text(part) and len(_text(part)) < 80:
            meta_part = part
    body_parts = [p for p in parts if p is not author_part and p is not meta_part]
    username, name = (None, None)
    if author_part is not None:
        if author_part.name == "a":
            match = PROFILE_PATH.match(_path(str(author_part["href"]), url) or "")
            username, name = (match["u"], _text(author_part)) if match else (None, None)
        else:
            username, name = _author_of(author_part, url)
        if username is None:
            name = _text(author_part) or GUEST_LABEL
    created_at = None
    time_tag = element.find("time", attrs={"datetime": True})
    meta_text = _text(meta_part) if meta_part is not None else ""
    date_text = _label_value(meta_text, _CREATED_LABEL) if meta_text else None
    if date_text:
        created_at = _parse_date(url, date_text, f"comment {comment_id}")
        created_at = _precise(created_at, meta_part)
    elif isinstance(time_tag, Tag):
        created_at = _parse_date(url, str(time_tag["datetime"]), f"comment {comment_id}")
    body_text = "\n\n".join(t for t in (block_text(p) for p in body_parts) if t)
    return Comment(comment_id, post_number, 0, username, name or None, created_at, body_text)


PROFILE_HREF = re.compile(r"/profiles/users/[^/?#]+/?$")


# --- comments JSON -------------------------------------------------------------------------


def parse_comments_json(
    data: dict[str, Any] | str, post_number: int, *, first_position: int = 1
) -> CommentsPage:
    """One page of ``/posts/<n>/comments?page=<k>``. Positions start at ``first_position``
    (the crawler renumbers the whole thread once it has every page)."""
    if isinstance(data, str):
        import json

        data = json.loads(data)
    if not isinstance(data, dict) or not isinstance(data.get("comments"), list):
        raise ParseError(f"/posts/{post_number}/comments", "no comments list in the JSON")
    comments = []
    for offset, item in enumerate(data["comments"]):
        if "id" not in item:
            raise ParseError(f"/posts/{post_number}/comments", "a comment without an id")
        author = item.get("author") or {}
        username = author.get("username") or None
        created = item.get("created")
        comments.append(
            Comment(
                comment_id=int(item["id"]),
                post_number=post_number,
                position=first_position + offset,
                author_username=username,
                author_name=squash_whitespace(author.get("name") or "") or None,
                created_at=parse_thai_datetime(created) if created else None,
                body_text=html_to_text(item.get("html") or "")
                if "html" in item
                else squash_whitespace(item.get("text") or ""),
            )
        )
    total = data.get("total")
    return CommentsPage(
        post_number=int(data.get("post_id") or post_number),
        page=int(data.get("page") or 0),
        total=int(total) if total is not None else None,
        next_url=data.get("next") or None,
        comments=tuple(comments),
    )


# --- responses -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseClass:
    kind: str  # 'ok' | 'gone' | 'retry' | 'failed'
    reason: str | None = None  # gone: 'not_found' | 'private'; otherwise a short why


def classify_response(status: int, url: str, final_url: str | None = None) -> ResponseClass:
    """What an HTTP answer means for a crawl: 404/410 -> gone 'not_found'; a redirect to
    the login page -> gone 'private'; 429, 5xx -> retry; other 4xx -> failed."""
    final_path = urlsplit(final_url or url).path
    if final_url and LOGIN_PATH.match(final_path) and not LOGIN_PATH.match(urlsplit(url).path):
        return ResponseClass("gone", "private")
    if status in (301, 302, 303, 307, 308):
        return ResponseClass("retry", f"HTTP {status} redirect not followed")
    if status in (404, 410):
        return ResponseClass("gone", "not_found")
    if status in (401, 403) and post_number_from_url(url) is not None:
        return ResponseClass("gone", "private")
    if status == 429 or status >= 500:
        return ResponseClass("retry", f"HTTP {status}")
    if 200 <= status < 300:
        return ResponseClass("ok")
    return ResponseClass("failed", f"HTTP {status}")


def looks_truncated(html: str) -> bool:
    """A page cut off in transit: no closing ``</html>`` (the site always sends one)."""
    return "</html>" not in html[-512:].lower()


def renumber(comments: Iterable[Comment]) -> tuple[Comment, ...]:
    """One thread, oldest first, duplicates (by id) dropped, positions 1..n."""
    seen: dict[int, Comment] = {}
    for comment in comments:
        seen.setdefault(comment.comment_id, comment)
    return tuple(
        Comment(
            c.comment_id,
            c.post_number,
            position,
            c.author_username,
            c.author_name,
            c.created_at,
            c.body_text,
        )
        for position, c in enumerate(seen.values(), start=1)
    )
