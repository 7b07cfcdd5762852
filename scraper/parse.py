"""Pure parsers: the site's HTML (and the comments JSON) to ``warehouse.models`` dataclasses.

They anchor on what is stable on the site: the visible Thai labels (``หมายเลขบันทึก:``,
``เขียนเมื่อ``, ``แก้ไขเมื่อ``, ``สัญญาอนุญาต:``, ``ความเห็น (N)``), URL patterns
(``/posts/<n>``, ``/profiles/users/<u>``, ``/blogs/books/<slug>``, ``/posts?tag=``) and
semantic structure (``h1``, ``article``, ``rel="next"``, ``id="comment-N"``), never on
class names. A page that lacks a required field raises ``ParseError``; the crawler records
it with a saved copy of the HTML instead of storing an empty row.

Pages are parsed with lxml (libxml2's HTML parser, the same tree Beautiful Soup's ``lxml``
builder saw) and read from lxml elements directly: XPath and ``iter()``/``itertext()`` do
the tree walks in C. Text is read as Beautiful Soup's ``get_text`` read it, so results did
not change when it went: text in ``script``/``style`` (and inside ``template``, ``rt``,
``rp``) is not part of an element's text, comments never are, and a text node holding only
ASCII whitespace counts as one space (one newline if it has one) outside ``pre``/``textarea``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml import etree

from warehouse.models import Comment, CommentsPage, ListingItem, ListingPage, Post
from warehouse.thai import (
    BANGKOK,
    ThaiDateError,
    normalise_tag,
    parse_thai_datetime,
    squash_whitespace,
    thai_digits_to_ascii,
)

Element = etree._Element


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
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_HEADING_OR_HEADER = frozenset((*_HEADINGS, "header"))
# Elements whose text is not part of their ancestors' text (Beautiful Soup's "string
# containers"); script and style hold only text, the other three may hold elements.
_CONTAINERS = frozenset({"script", "style", "template", "rt", "rp"})
_NESTING_CONTAINERS = ("template", "rt", "rp")
_PRESERVE_TAGS = ("pre", "textarea")
_ASCII_SPACES = " \n\t\x0c\r"

_TEXTS_OUTSIDE_SCRIPT = etree.XPath(
    "descendant::text()[not(parent::script or parent::style)]", smart_strings=False
)
_ALL_TEXTS = etree.XPath("descendant::text()")


def _int(text: str) -> int:
    return int(thai_digits_to_ascii(text).replace(",", ""))


_NOT_IN_SIMPLE_HREF = re.compile(r"[\x00-\x20]")


def _split_href(href: str, base: str) -> tuple[str, str]:
    """Path and query of ``href`` resolved against ``base``, as
    ``urlsplit(urljoin(base, href))`` gives them; without urljoin's cost for an absolute path
    that has nothing to resolve (no ``//``, no dot segment, no space or control character)."""
    if href[:1] == "/" and href[1:2] != "/" and _NOT_IN_SIMPLE_HREF.search(href) is None:
        path, _, query = href.split("#", 1)[0].partition("?")
        if "//" not in path and "/." not in path:
            return path, query
    parts = urlsplit(urljoin(base, href))
    return parts.path, parts.query


def _path(href: str | None, base: str) -> str | None:
    if not href:
        return None
    return unquote(_split_href(href, base)[0])


def _link_post_number(href: str, base: str) -> int | None:
    """``post_number_from_url(urljoin(base, href))``."""
    match = POST_PATH.match(_split_href(href, base)[0])
    return int(match["n"]) if match else None


def post_number_from_url(url: str) -> int | None:
    match = POST_PATH.match(urlsplit(url).path)
    return int(match["n"]) if match else None


# --- parsing and reading text ----------------------------------------------------------------

_LOCAL = threading.local()  # lxml parsers must not be shared between threads


def _parse(html: str) -> Element | None:
    """The page's root (``html``) element, or None when the text holds no markup at all."""
    parsers = getattr(_LOCAL, "parsers", None)
    if parsers is None:
        parsers = _LOCAL.parsers = (etree.HTMLParser(), etree.HTMLParser(encoding="utf-8"))
    if html.startswith("\ufeff"):
        html = html[1:]
    try:
        return etree.fromstring(html, parsers[0])
    except ValueError:
        # lxml refuses a str that declares an encoding (<?xml ... encoding=...?>).
        try:
            return etree.fromstring(html.encode("utf-8", "surrogatepass"), parsers[1])
        except (ValueError, etree.LxmlError):
            return None
    except etree.LxmlError:
        return None


def _first(root: Element, tag: str) -> Element | None:
    return next(root.iter(tag), None)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _chain(element: Element) -> Iterator[Element]:
    """``element`` and its ancestors, nearest first."""
    yield element
    yield from element.iterancestors()


def _inside(element: Element, ancestor: Element) -> bool:
    return element is ancestor or any(p is ancestor for p in element.iterancestors())


def _text_parent(string: Any) -> Element:
    """The element a text node (an lxml "smart string") belongs to: a tail belongs to the
    parent of the element it follows."""
    owner = string.getparent()
    return owner.getparent() if string.is_tail else owner


def _collect_strings(element: Element, out: list[str]) -> list[str]:
    """The text nodes below ``element`` but not in script/style, in document order."""
    text = element.text
    if text:
        out.append(text)
    for child in element:
        tag = child.tag
        if tag.__class__ is str and tag != "script" and tag != "style":
            _collect_strings(child, out)
        tail = child.tail
        if tail:
            out.append(tail)
    return out


class _Reader:
    """Reads the text of elements of one parsed page."""

    __slots__ = ("nested", "preserve")

    def __init__(self, root: Element) -> None:
        self.nested = next(root.iter(*_NESTING_CONTAINERS), None) is not None
        self.preserve = next(root.iter(*_PRESERVE_TAGS), None) is not None

    def strings(self, element: Element) -> list[str]:
        """The text nodes that make up the element's text, in document order."""
        if not self.nested and element.tag not in _CONTAINERS:
            size = len(element)
            if size == 0:
                text = element.text
                return [text] if text else []
            if size < 3:  # a small element: cheaper in Python than through XPath
                return _collect_strings(element, [])
            return _TEXTS_OUTSIDE_SCRIPT(element)
        return [s for s, _ in self._strings_slow(element)]

    def _strings_slow(self, element: Element) -> list[tuple[str, bool]]:
        """``strings`` in general, each with whether it sits in ``pre``/``textarea``: a text
        node counts for an element when its nearest string container (``script``, ``style``,
        ``template``, ``rt``, ``rp``) is of the element's own kind, or when it has none and
        the element is not a container."""
        wanted = element.tag if element.tag in _CONTAINERS else None
        out = []
        for string in _ALL_TEXTS(element):
            parent = _text_parent(string)
            container = next((p for p in _chain(parent) if p.tag in _CONTAINERS), None)
            if (container.tag if container is not None else None) != wanted:
                continue
            preserved = self.preserve and any(p.tag in _PRESERVE_TAGS for p in _chain(parent))
            out.append((str(string), preserved))
        return out

    def text(self, element: Element) -> str:
        """The element's text, one space between text nodes, whitespace squashed."""
        return " ".join(" ".join(self.strings(element)).split())

    def raw_text(self, element: Element) -> str:
        """The element's text as ``get_text()`` gave it: text nodes run together, a node of
        ASCII whitespace only counting as one space or newline (not in pre/textarea)."""
        if self.preserve or self.nested:
            return "".join(
                [
                    s if keep or s.strip(_ASCII_SPACES) else ("\n" if "\n" in s else " ")
                    for s, keep in self._strings_slow(element)
                ]
            )
        return "".join(
            [
                s if s.strip(_ASCII_SPACES) else ("\n" if "\n" in s else " ")
                for s in self.strings(element)
            ]
        )


def block_text(node: Element | None) -> str:
    """The text of a piece of markup: one paragraph per block (``p``, ``li``, headings …),
    blocks joined by a blank line, whitespace inside a block squashed, zero-width characters
    kept, markup dropped."""
    if node is None:
        return ""
    blocks: list[str] = []
    buffer: list[str] = []
    _walk_blocks(node, buffer, blocks)
    _flush_block(buffer, blocks)
    return "\n\n".join(blocks)


def _flush_block(buffer: list[str], blocks: list[str]) -> None:
    if buffer:
        text = " ".join("".join(buffer).split())
        buffer.clear()
        if text:
            blocks.append(text)


def _walk_blocks(element: Element, buffer: list[str], blocks: list[str]) -> None:
    text = element.text
    if text:
        buffer.append(text)
    for child in element:
        tag = child.tag
        if tag.__class__ is str and tag not in _SKIP_TAGS:  # not a comment, not skipped
            if tag == "br":
                buffer.append(" ")
            elif tag in _BLOCK_TAGS:
                _flush_block(buffer, blocks)
                _walk_blocks(child, buffer, blocks)
                _flush_block(buffer, blocks)
            else:
                _walk_blocks(child, buffer, blocks)
        tail = child.tail  # text after the child belongs to this element
        if tail:
            buffer.append(tail)


# Text with none of these parses to itself: no markup, no entities, nothing libxml2 replaces.
_NOT_PLAIN = re.compile("[<&\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")


def html_to_text(html: str) -> str:
    """``block_text`` of an HTML fragment (the comments JSON carries HTML)."""
    html = html or ""
    if _NOT_PLAIN.search(html) is None:
        return squash_whitespace(html)
    root = _parse(f"<div>{html}</div>")
    return block_text(_first(root, "div") if root is not None else None)


# --- listing -------------------------------------------------------------------------------


def _rel_next(root: Element, url: str) -> str | None:
    for element in root.iter("a", "link"):
        href = element.get("href")
        if href is not None and "next" in (element.get("rel") or "").lower().split():
            return urljoin(url, href)
    return None


_MANY = -1  # an element holds links to more than one post


def _post_link_summary(links: dict[Element, int]) -> dict[Element, int]:
    """For every element above a post link: the one post its post links point at, or
    ``_MANY``. One walk up from each link, stopping where the answer is already known."""
    summary: dict[Element, int] = {}
    for link, number in links.items():
        for parent in link.iterancestors():
            known = summary.get(parent)
            if known is None:
                summary[parent] = number
            elif known in (number, _MANY):
                break  # and so is everything above it
            else:
                summary[parent] = _MANY
    return summary


def parse_listing(html: str, url: str) -> ListingPage:
    """A tag listing page: its items (post links with their listing facts) and rel=next."""
    doc = _parse(html)
    if doc is None or (doc.tag != "html" and _first(doc, "body") is None):
        raise ParseError(url, "not an HTML page")
    query = parse_qs(urlsplit(url).query)
    tag = (query.get("tag") or [""])[0]
    try:
        page = int((query.get("page") or ["1"])[0])
    except ValueError:
        page = 1
    reader = _Reader(doc)
    root = _first(doc, "main")
    if root is None:
        root = _first(doc, "body")
    if root is None:
        root = doc
    # Every post link of the page (those outside root too: they bound the item containers).
    numbers: dict[Element, int] = {}
    for link in doc.iter("a"):
        href = link.get("href")
        if href is not None:
            number = _link_post_number(href, url)
            if number is not None:
                numbers[link] = number
    summary = _post_link_summary(numbers)
    post_url = urljoin(url, "/posts/0")[:-1]  # + number: urljoin(url, f"/posts/{number}")
    items: dict[int, ListingItem] = {}
    for link in root.iter("a"):
        number = numbers.get(link)
        if number is None or number in items:
            continue
        # The item: the largest element above the link whose post links all point at it.
        container = link
        for parent in link.iterancestors():
            if parent.tag in ("body", "html") or summary.get(parent) != number:
                break
            container = parent
        post_links = [a for a in container.iterdescendants("a") if numbers.get(a) == number]
        titled = [a for a in post_links if next(a.iterancestors(*_HEADINGS), None) is not None]
        title_link = (titled or sorted(post_links, key=lambda a: -len(reader.text(a))))[0]
        title = reader.text(title_link)
        if not title:
            raise ParseError(url, f"listing item for post {number} has no title")
        author_username = author_name = None
        for a in container.iterdescendants("a"):
            match = PROFILE_PATH.match(_path(a.get("href"), url) or "")
            if match:
                author_username, author_name = match["u"], reader.text(a) or None
                break
        container_text = reader.text(container).replace(title, " ")
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
            url=f"{post_url}{number}",
            title=title,
            author_username=author_username,
            author_name=author_name,
            listed_on=listed_on,
            comment_count=_int(count_match["n"]) if count_match else None,
        )
    result_match = _RESULT_COUNT.search(reader.text(root))
    heading = _first(doc, "h1")
    if not tag and heading is not None:
        tag = reader.text(heading).replace("บันทึกที่มีคำสำคัญ", "").strip()
    return ListingPage(
        tag=tag,
        page=page,
        items=tuple(items.values()),
        next_url=_rel_next(doc, url),
        result_count=_int(result_match["n"]) if result_match else None,
    )


# --- post ----------------------------------------------------------------------------------


class _Page:
    """A post page's ``main`` walked once, so that nothing else walks it again.

    Its text nodes in document order, each with the element it belongs to (a tail belongs to
    its element's parent); for every element its pre-order number, the number of the last
    element below it and the range of its text nodes. An element's text is then a slice of
    the text nodes and "is X inside Y" a comparison of numbers. The walk also notes the
    links, ``id="comment-N"`` elements, ``data-next`` elements and ``<time datetime>``.
    Elements outside ``main`` (and string containers) are read by ``_Reader`` instead."""

    __slots__ = (
        "ids",
        "links",
        "nexts",
        "owners",
        "place",
        "preserved",
        "reader",
        "shown",
        "texts",
        "times",
        "visible",
    )

    def __init__(self, main: Element, reader: _Reader) -> None:
        self.reader = reader
        texts: list[str] = []  # every text node below main
        shown: list[str] = []  # the same, "" where not part of an element's text (script …)
        owners: list[Element] = []
        visible: list[bool] = []  # the text node's element is not script, button …
        place: dict[Element, tuple[int, int, int, int]] = {}
        links: list[tuple[int, Element, str]] = []  # links with an href attribute
        ids: list[tuple[int, Element]] = []
        nexts: list[tuple[int, Element]] = []
        times: list[tuple[int, Element]] = []
        preserved: set[int] = set()  # text nodes in pre/textarea
        count = 0

        def walk(element: Element, tag: str, hidden: bool, keep: bool) -> None:
            nonlocal count
            count += 1
            number = count
            first = len(texts)
            if tag == "a":
                href = element.get("href")
                if href is not None:
                    links.append((number, element, href))
            elif tag == "time" and element.get("datetime") is not None:
                times.append((number, element))
            id_ = element.get("id")
            if id_ is not None and id_.startswith("comment-") and COMMENT_ID.search(id_):
                ids.append((number, element))
            if element.get("data-next"):
                nexts.append((number, element))
            if tag in _CONTAINERS:
                hidden = True
            if tag in _PRESERVE_TAGS:
                keep = True
            seen = tag not in _SKIP_TAGS
            text = element.text
            if text:
                if keep:
                    preserved.add(len(texts))
                texts.append(text)
                shown.append("" if hidden else text)
                owners.append(element)
                visible.append(seen)
            for child in element:
                child_tag = child.tag
                if child_tag.__class__ is str:  # not a comment
                    walk(child, child_tag, hidden, keep)
                tail = child.tail
                if tail:
                    if keep:
                        preserved.add(len(texts))
                    texts.append(tail)
                    shown.append("" if hidden else tail)
                    owners.append(element)
                    visible.append(seen)
            place[element] = (number, count, first, len(texts))

        above = list(main.iterancestors())
        walk(
            main,
            main.tag,
            any(a.tag in _CONTAINERS for a in above),
            any(a.tag in _PRESERVE_TAGS for a in above),
        )
        self.texts, self.shown, self.owners, self.place = texts, shown, owners, place
        self.links, self.ids, self.nexts, self.times = links, ids, nexts, times
        self.preserved, self.visible = preserved, visible

    def inside(self, element: Element, ancestor: Element) -> bool:
        """``element`` is ``ancestor`` or below it."""
        a = self.place.get(ancestor)
        e = self.place.get(element)
        if a is None or e is None:
            return _inside(element, ancestor)
        return a[0] <= e[0] <= a[1]

    def below(self, element: Element) -> tuple[int, int]:
        """The numbers of the elements below ``element`` (exclusive, inclusive)."""
        number, last, _, _ = self.place[element]
        return number, last

    def text(self, element: Element) -> str:
        """The element's text (as ``_Reader.text``)."""
        place = self.place.get(element)
        if place is None or element.tag in _CONTAINERS:
            return self.reader.text(element)
        return " ".join(" ".join(self.shown[place[2] : place[3]]).split())

    def raw_text(self, element: Element) -> str:
        """The element's text as ``get_text()`` gave it (as ``_Reader.raw_text``)."""
        place = self.place.get(element)
        if place is None or element.tag in _CONTAINERS:
            return self.reader.raw_text(element)
        start, end = place[2], place[3]
        if self.preserved:
            preserved = self.preserved
            return "".join(
                [
                    s
                    if i in preserved or s.strip(_ASCII_SPACES) or not s
                    else ("\n" if "\n" in s else " ")
                    for i, s in enumerate(self.shown[start:end], start)
                ]
            )
        return "".join(
            [
                s if s.strip(_ASCII_SPACES) or not s else ("\n" if "\n" in s else " ")
                for s in self.shown[start:end]
            ]
        )

    def first_time(self, element: Element) -> Element | None:
        """The first ``<time datetime>`` below ``element``."""
        low, high = self.below(element)
        return next((t for n, t in self.times if low < n <= high), None)


def _comments_section(
    page: _Page, main: Element, title: Element | None, labels: list[tuple[int, str, Element]]
) -> Element | None:
    """The element around the comments: from the ``ความเห็น (N)`` heading (or the first
    ``id="comment-N"`` element) up to just below the element that holds the post title."""
    start: Element | None = None
    for _, string, parent in labels:
        if "ความเห็น" not in string or not _COMMENT_COUNT_HEADING.search(string):
            continue
        # The heading, not a post that happens to say "ความเห็น (3)" in its text.
        heading = next((p for p in _chain(parent) if p.tag in _HEADING_OR_HEADER), None)
        if heading is not None and heading is not title:
            start = heading
            break
    if start is None:
        low, high = page.below(main)
        start = next((e for n, e in page.ids if low < n <= high), None)
    if start is None:
        return None
    holds_title = set(_chain(title)) if title is not None else set()
    section = start
    for parent in start.iterancestors():
        if parent.tag in ("body", "html") or parent in holds_title:
            break
        section = parent
    return section


def _best_body(
    page: _Page, root: Element, avoid: list[Element], avoid_text_in: list[Element]
) -> Element | None:
    """The post body: the element with the most text that holds none of the title, labels,
    tags or comments (the outermost such element when wrappers add nothing). One pass: the
    ancestors of the avoided nodes are descended into, every other element is a candidate.
    ``avoid_text_in`` are the elements of avoided text nodes (never candidates themselves)."""
    avoided = set(avoid)
    holds_avoided: set[Element] = set()
    for chain in [e.iterancestors() for e in avoid] + [_chain(e) for e in avoid_text_in]:
        for parent in chain:
            holds_avoided.add(parent)
            if parent is root:
                break
    best: Element | None = None
    best_len = -1
    stack = [root]
    while stack:
        element = stack.pop()
        for child in element:
            tag = child.tag
            if tag.__class__ is not str or tag in _SKIP_TAGS or child in avoided:
                continue
            if child in holds_avoided:
                stack.append(child)
                continue
            length = len(page.raw_text(child).strip())
            if length > best_len:
                best, best_len = child, length
    return best


_LABEL_VALUE = {
    label: re.compile(rf"{label}\s*[:：]?\s*(?=[{_DIGITS}])")
    for label in (_CREATED_LABEL, _UPDATED_LABEL)
}


def _label_value(text: str, label: str) -> str | None:
    """The value after ``label`` (a date starts with a digit), up to the next label."""
    match = _LABEL_VALUE[label].search(text)
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


_ISO_SECONDS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}"
)


def _parse_exact(text: str) -> datetime:
    """``parse_thai_datetime`` of a ``<time datetime>`` value; an ISO 8601 time with seconds
    and an offset (what the site writes) is read directly, as that function reads it."""
    if _ISO_SECONDS.fullmatch(text):
        try:
            return datetime.fromisoformat(text).astimezone(BANGKOK)
        except ValueError:
            pass  # parse_thai_datetime says why
    return parse_thai_datetime(text)


def _precise(shown: datetime | None, time_tag: Element | None) -> datetime | None:
    """The shown date (minutes) refined by the ``<time datetime>`` beside its label (which
    carries seconds), when both name the same minute."""
    if shown is None or time_tag is None:
        return shown
    try:
        exact = _parse_exact(time_tag.get("datetime"))
    except ThaiDateError:
        return shown
    if exact.tzinfo is shown.tzinfo:  # as == compares them then, without the replace()
        same_minute = (
            exact.minute == shown.minute
            and exact.hour == shown.hour
            and exact.day == shown.day
            and exact.month == shown.month
            and exact.year == shown.year
        )
    else:
        minute = {"second": 0, "microsecond": 0}
        same_minute = exact.replace(**minute) == shown.replace(**minute)
    return exact if same_minute else shown


def _profile_link(
    page: _Page, links: Iterable[tuple[int, Element, str]], base: str
) -> tuple[str | None, str | None]:
    """The username and shown name of the first link to a profile."""
    for _, a, href in links:
        match = PROFILE_PATH.match(_path(href, base) or "")
        if match:
            return match["u"], page.text(a) or None
    return None, None


def parse_post(html: str, url: str) -> Post:
    """A post page, with the comments embedded in it and the load-more link."""
    doc = _parse(html)
    number_from_url = post_number_from_url(url)
    main = _first(doc, "main") if doc is not None else None
    if main is None and doc is not None:
        main = _first(doc, "body")
    if main is None:
        raise ParseError(url, "not an HTML page (no body)")
    page = _Page(main, _Reader(doc))
    article = _first(main, "article")
    root = article if article is not None else main
    anchors = [link for link in page.links if link[2]]  # a non-empty href
    # The text nodes that carry a label, each with its element (not script, button …).
    labels: list[tuple[int, str, Element]] = []
    says_comments = False  # some text (even a script's) says ความเห็น
    owners, visible = page.owners, page.visible
    for i, string in enumerate(page.texts):
        if "เ" in string and (  # every label has one
            "หมายเลขบันทึก" in string
            or "ความเห็น" in string
            or "เขียนเมื่อ" in string
            or "แก้ไขเมื่อ" in string
        ):
            says_comments = says_comments or "ความเห็น" in string
            if visible[i]:
                labels.append((i, string, owners[i]))

    # The post number label; its number may sit in a sibling element (<strong>544804</strong>).
    # A body may quote another post's number: prefer the label that agrees with the URL.
    found: list[tuple[Element, int]] = []
    for _, string, parent in labels:
        if "หมายเลขบันทึก" not in string:
            continue
        match = _POST_NUMBER_LABEL.search(_squash(string))
        if match is None:
            match = _POST_NUMBER_LABEL.search(page.text(parent))
        if match is None:
            grandparent = parent.getparent()
            if grandparent is not None:
                match = _POST_NUMBER_LABEL.search(page.text(grandparent))
        if match:
            found.append((parent, _int(match["n"])))
    if not found:
        raise ParseError(url, "no post number (หมายเลขบันทึก:)")
    label, number = next(((s, n) for s, n in found if n == number_from_url), found[0])
    if number_from_url is not None and number != number_from_url:
        raise ParseError(url, f"post number {number} on the page differs from the URL")

    title_tag = _first(root, "h1")
    if title_tag is None:
        title_tag = _first(main, "h1")
    title = page.text(title_tag) if title_tag is not None else ""
    if not title:
        og = next((m for m in doc.iter("meta") if m.get("property") == "og:title"), None)
        title = squash_whitespace(og.get("content", "")) if og is not None else ""
    if not title:
        raise ParseError(url, "no title (h1)")

    section = _comments_section(page, main, title_tag, labels)
    if section is not None and page.inside(label, section):
        section = None  # a malformed page: never throw away the post's own labels

    def outside_comments(element: Element) -> bool:
        return section is None or not page.inside(element, section)

    author_username = author_name = None
    byline: list[Element] = []  # the author and notebook links: never mistaken for a short body
    for _, a, href in anchors:
        match = PROFILE_PATH.match(_path(href, url) or "")
        if match and outside_comments(a):
            author_username, author_name = match["u"], page.text(a) or None
            byline.append(a)
            break
    if author_username is None:
        raise ParseError(url, "no author link (/profiles/users/<username>)")

    book_slug = None
    for _, a, href in anchors:
        match = BOOK_PATH.match(_path(href, url) or "")
        if match and outside_comments(a):
            book_slug = match["b"]
            byline.append(a)
            break

    tag_links: list[Element] = []
    raw_tags: list[str] = []
    for _, a, href in anchors:
        if "tag=" not in href:
            continue
        path, query = _split_href(href, url)
        if path.rstrip("/") != "/posts" or not outside_comments(a):
            continue
        # As shown (a trailing space is part of how a member typed the tag).
        shown = page.raw_text(a)
        if not shown.strip():
            shown = (parse_qs(query).get("tag") or [""])[0]
        if shown:
            tag_links.append(a)
            raw_tags.append(shown)
    tags = tuple(dict.fromkeys(t for t in (normalise_tag(r) for r in raw_tags) if t))

    # The meta line: labels outside the comments. The post number label is its anchor.
    avoid: list[Element] = [n for n in (title_tag, section) if n is not None]
    avoid_text_in: list[Element] = [label]
    created_in = None  # the element of the written-date label
    # The written-date label nearest the post number label (a body may say "เขียนเมื่อ…").
    label_depth = {p: depth for depth, p in enumerate(_chain(label))}
    best_depth = None
    for _, string, parent in labels:
        if "เขียนเมื่อ" not in string or not _CREATED_VALUE.search(string):
            continue
        if not outside_comments(parent):
            continue
        depth = next((label_depth[p] for p in _chain(parent) if p in label_depth), None)
        if depth is not None and (best_depth is None or depth < best_depth):
            created_in, best_depth = parent, depth
    if created_in is not None:
        avoid_text_in.append(created_in)
        # The meta line: the smallest element holding both the number and the date labels.
        for parent in _chain(created_in):
            if parent in label_depth:
                if parent is not root and parent is not main:
                    avoid.append(parent)
                break
    avoid.extend(tag_links)
    avoid.extend(byline)
    body = _best_body(page, root, avoid, avoid_text_in)
    body_text = block_text(body)

    # Text of the post outside its body and comments: where the labels live.
    texts = page.texts
    excluded = bytearray(len(texts))
    for element in (body, section):
        if element is not None:
            _, _, start, end = page.place.get(element, (0, 0, 0, len(texts)))  # main in it
            excluded[start:end] = b"\x01" * (end - start)
    meta_texts = [
        text for text, seen, out in zip(texts, visible, excluded, strict=True) if seen and not out
    ]
    meta_text = squash_whitespace(" ".join(meta_texts))

    created_text = _label_value(meta_text, _CREATED_LABEL)
    if not created_text:
        raise ParseError(url, "no written date (เขียนเมื่อ)")
    created_at = _parse_date(url, created_text, "written")
    if created_in is not None:
        created_at = _precise(created_at, page.first_time(created_in))
    updated_in = None
    for _, string, parent in labels:
        if "แก้ไขเมื่อ" not in string or not _UPDATED_VALUE.search(string):
            continue
        if outside_comments(parent) and (body is None or not page.inside(parent, body)):
            updated_in = parent
            break
    updated_at = _parse_date(url, _label_value(meta_text, _UPDATED_LABEL) or None, "edited")
    if updated_in is not None:
        updated_at = _precise(updated_at, page.first_time(updated_in))

    license_text = None
    license_match = _LICENSE_LABEL.search(meta_text)
    if license_match:
        rest = meta_text[license_match.end() :]
        stop = re.search(r"จำนวนที่อ่าน|หมายเลขบันทึก|เขียนเมื่อ|แก้ไขเมื่อ|ความเห็น", rest)
        license_text = (rest[: stop.start()] if stop else rest).strip() or None

    declared = None
    comments: list[Comment] = []
    next_url = None
    if section is not None:
        # (A section above main, which a page without h1 allows, gets a walk of its own.)
        in_section = page if section in page.place else _Page(section, page.reader)
        heading_match = _COMMENT_COUNT_HEADING.search(in_section.text(section))
        declared = _int(heading_match["n"]) if heading_match else None
        comments = _embedded_comments(in_section, section, number, url)
        next_url = _load_more(in_section, section, url)
    else:
        heading_match = _COMMENT_COUNT_HEADING.search(meta_text)
        declared = _int(heading_match["n"]) if heading_match else None
    if declared is None and not comments:
        declared = None if says_comments else 0

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


def _load_more(page: _Page, section: Element, base: str) -> str | None:
    """Where the rest of the comments come from: the first element in the section with a
    ``data-next``, or link saying ดูความเห็นเพิ่มเติม."""
    low, high = page.below(section)
    target = next(((n, e.get("data-next")) for n, e in page.nexts if low < n <= high), None)
    for n, a, href in page.links:
        if target is not None and n >= target[0]:
            break
        if low < n <= high and href and LOAD_MORE_LABEL in page.text(a):
            target = (n, href)
            break
    return urljoin(base, target[1]) if target is not None else None


def _embedded_comments(page: _Page, section: Element, post_number: int, url: str) -> list[Comment]:
    low, high = page.below(section)
    comments: list[Comment] = []
    for n, element in page.ids:
        if low < n <= high:
            comment_id = int(COMMENT_ID.match(element.get("id"))["id"])  # type: ignore[index]
            comments.append(_comment_from_element(page, element, comment_id, post_number, url))
    return list(renumber(comments))


def _child_elements(element: Element) -> list[Element]:
    return [c for c in element if c.tag.__class__ is str]


def _comment_from_element(
    page: _Page, element: Element, comment_id: int, post_number: int, url: str
) -> Comment:
    # Structure: an author part, a body part and a meta part ("เขียนเมื่อ …"), in any wrapper.
    parts = _child_elements(element)
    while len(parts) == 1:
        low, high = page.below(parts[0])
        if any(low < n <= high for n, _ in page.ids):
            break
        parts = _child_elements(parts[0])
    links = page.links
    author = meta = None  # indexes into parts
    texts: list[str] = []
    for i, part in enumerate(parts):
        text = page.text(part)
        texts.append(text)
        if author is None:
            # A profile link in it (or it is one), or a guest's name.
            number, last = page.below(part)
            if any(number <= n <= last and PROFILE_HREF.search(h) for n, _, h in links):
                author = i
                continue
            if GUEST_LABEL in text and len(text) <= len(GUEST_LABEL) + 40:
                author = i
                continue
        if meta is None and _CREATED_LABEL in text and len(text) < 80:
            meta = i
    username, name = (None, None)
    if author is not None:
        author_part = parts[author]
        if author_part.tag == "a":
            href = author_part.attrib["href"]
            match = PROFILE_PATH.match(_path(href, url) or "")
            username, name = (match["u"], page.text(author_part)) if match else (None, None)
        else:
            low, high = page.below(author_part)
            username, name = _profile_link(
                page, (link for link in links if low < link[0] <= high), url
            )
        if username is None:
            name = texts[author] or GUEST_LABEL
    created_at = None
    meta_text = texts[meta] if meta is not None else ""
    date_text = _label_value(meta_text, _CREATED_LABEL) if meta_text else None
    if date_text:
        created_at = _parse_date(url, date_text, f"comment {comment_id}")
        created_at = _precise(created_at, page.first_time(parts[meta]))  # type: ignore[index]
    else:
        time_tag = page.first_time(element)
        if time_tag is not None:
            created_at = _parse_date(url, time_tag.get("datetime"), f"comment {comment_id}")
    body_text = "\n\n".join(
        t for t in (block_text(p) for i, p in enumerate(parts) if i != author and i != meta) if t
    )
    return Comment(comment_id, post_number, 0, username, name or None, created_at, body_text)


PROFILE_HREF = re.compile(r"/profiles/users/[^/?#]+/?$")


# --- comments JSON -------------------------------------------------------------------------


def parse_comments_json(
    data: dict[str, Any] | str, post_number: int, *, first_position: int = 1
) -> CommentsPage:
    """One page of ``/posts/<n>/comments?page=<k>``. Positions start at ``first_position``
    (the crawler renumbers the whole thread once it has every page)."""
    if isinstance(data, str):
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
