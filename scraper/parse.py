"""Pure parsers: the site's HTML (and the comments JSON) to ``warehouse.models`` dataclasses.

They anchor on what is stable on the site: the visible Thai labels (``หมายเลขบันทึก:``,
``เขียนเมื่อ``, ``แก้ไขเมื่อ``, ``สัญญาอนุญาต:``, ``ความเห็น (N)``), URL patterns
(``/posts/<n>``, ``/profiles/users/<u>``, ``/blogs/books/<slug>``, ``/posts?tag=``) and
semantic structure (``h1``, ``article``, ``rel="next"``, ``id="comment-N"``), never on
class names. A page that lacks a required field raises ``ParseError``; the crawler records
it with a saved copy of the HTML instead of storing an empty row.

Pages are parsed with lxml's HTML parser (libxml2, which built the tree Beautiful Soup's
``lxml`` builder used before) and read from lxml elements directly: a post page's ``main``
is walked once into an index (``_Page``), a listing is read in one pass over its links, and
the rest is lxml's C-level iteration and XPath. Text is read as Beautiful Soup's
``get_text`` read it, so results did not change with the move: text in ``script``/``style``
(and inside ``template``, ``rt``, ``rp``) is not part of an element's text, comments never
are, one space separates text nodes, and a node of ASCII whitespace only counts as one space
(one newline if it has one) outside ``pre``/``textarea``. Empty input is a ``ParseError``.
"""

from __future__ import annotations

import json
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml import etree

from warehouse.models import Comment, CommentsPage, ListingItem, ListingPage, Post
from warehouse.thai import (
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
_COUNT = rf"(?P<n>[{_DIGITS}][{_DIGITS},]*)"  # 1,234 (a lone "," is not a count)
_COMMENT_COUNT_HEADING = re.compile(rf"ความเห็น\s*\(\s*{_COUNT}\s*\)")
_LISTING_COMMENT_COUNT = re.compile(rf"ความเห็น\s*[:：]?\s*\(?\s*{_COUNT}")
_RESULT_COUNT = re.compile(rf"พบ\s*{_COUNT}\s*บันทึก")
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


class _Reader:
    """Reads the text of elements of one parsed page."""

    __slots__ = ("nested", "preserve")

    def __init__(self, root: Element) -> None:
        self.nested = next(root.iter(*_NESTING_CONTAINERS), None) is not None
        self.preserve = next(root.iter(*_PRESERVE_TAGS), None) is not None

    def strings(self, element: Element) -> list[str]:
        """The text nodes that make up the element's text, in document order."""
        if not self.nested and element.tag not in _CONTAINERS:
            if len(element) == 0:
                text = element.text
                return [text] if text else []
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
        # The container is the link itself when the links around it go to other posts.
        below = container.iter("a") if container is link else container.iterdescendants("a")
        post_links = [a for a in below if numbers.get(a) == number]
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
    """A post page's ``main`` walked once, so that nothing walks it again.

    Its text nodes in document order, each with the element it belongs to (a tail belongs to
    its element's parent); for every element its pre-order number, the number of the last
    element below it and the range of its text nodes. An element's text is then a slice of
    the text nodes and "is X inside Y" a comparison of numbers. Elements outside ``main``
    (and string containers themselves) are read by ``_Reader`` instead."""

    __slots__ = (
        "hidden",
        "invisible",
        "link_numbers",
        "links",
        "owners",
        "place",
        "preserved",
        "reader",
        "texts",
        "time_numbers",
        "times",
    )

    def __init__(self, main: Element, reader: _Reader) -> None:
        self.reader = reader
        texts: list[str] = []  # every text node below main
        owners: list[Element] = []  # the element each belongs to
        place: dict[Element, tuple[int, int, int, int]] = {}

        add_text, add_owner = texts.append, owners.append

        def walk(element: Element, number: int) -> int:
            first = len(texts)
            text = element.text
            if text:
                add_text(text)
                add_owner(element)
            last = number
            for child in element:
                if child.__class__ is Element:  # not a comment
                    last = walk(child, last + 1)
                tail = child.tail
                if tail:
                    add_text(tail)
                    add_owner(element)
            place[element] = (number, last, first, len(texts))
            return last

        walk(main, 0)
        self.texts, self.owners, self.place = texts, owners, place
        # The few text nodes that read differently, found through lxml's own iteration.
        above = [a.tag for a in main.iterancestors()]
        self.hidden = self._marked(main, above, _CONTAINERS, everything=reader.nested)
        self.preserved = self._marked(main, above, _PRESERVE_TAGS, everything=True)
        self.invisible = self._marked(main, [], _SKIP_TAGS, everything=False)
        self.links = [
            (place[a][0], a, h) for a in main.iter("a") if (h := a.get("href")) is not None
        ]
        self.link_numbers = [n for n, _, _ in self.links]
        self.times = [(place[t][0], t) for t in main.iter("time") if t.get("datetime") is not None]
        self.time_numbers = [n for n, _ in self.times]

    def _marked(
        self, main: Element, above: list[str], tags: Iterable[str], *, everything: bool
    ) -> set[int]:
        """Indexes of the text nodes of the ``tags`` elements (below them too, or only
        their own when not ``everything``); all when ``main`` is inside one."""
        if any(tag in tags for tag in above):
            return set(range(len(self.texts)))
        marked: set[int] = set()
        owners = self.owners
        for element in main.iter(*tags):
            _, _, start, end = self.place[element]
            if everything:
                marked.update(range(start, end))
            else:
                marked.update(i for i in range(start, end) if owners[i] is element)
        return marked

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

    def _shown(self, element: Element) -> list[str] | None:
        """The text nodes of the element's text (as ``_Reader.strings``); None when
        ``_Reader`` must read it."""
        place = self.place.get(element)
        if place is None or element.tag in _CONTAINERS:
            return None
        start, end = place[2], place[3]
        hidden = self.hidden
        if hidden:
            return [s for i, s in enumerate(self.texts[start:end], start) if i not in hidden]
        return self.texts[start:end]

    def text(self, element: Element) -> str:
        """The element's text (as ``_Reader.text``)."""
        strings = self._shown(element)
        if strings is None:
            return self.reader.text(element)
        return " ".join(" ".join(strings).split())

    def raw_text(self, element: Element) -> str:
        """The element's text as ``get_text()`` gave it (as ``_Reader.raw_text``)."""
        place = self.place.get(element)
        if place is None or element.tag in _CONTAINERS:
            return self.reader.raw_text(element)
        start, end = place[2], place[3]
        hidden, preserved = self.hidden, self.preserved
        return "".join(
            [
                s if s.strip(_ASCII_SPACES) or i in preserved else ("\n" if "\n" in s else " ")
                for i, s in enumerate(self.texts[start:end], start)
                if i not in hidden
            ]
        )

    def links_in(self, low: int, high: int) -> list[tuple[int, Element, str]]:
        """The links (with an href attribute) numbered ``low`` to ``high``."""
        numbers = self.link_numbers
        return self.links[bisect_left(numbers, low) : bisect_right(numbers, high)]

    def first_time(self, element: Element) -> Element | None:
        """The first ``<time datetime>`` below ``element``."""
        low, high = self.below(element)
        i = bisect_right(self.time_numbers, low)
        return self.times[i][1] if i < len(self.times) and self.times[i][0] <= high else None

    def marked_below(
        self, element: Element
    ) -> tuple[list[tuple[int, Element]], tuple[int, str] | None]:
        """The ``id="comment-N"`` elements below ``element`` (with their numbers), and the
        first non-empty ``data-next`` there (with its element's number)."""
        elements: list[tuple[int, Element]] = []
        target = None
        place = self.place
        for child in element.iterdescendants():
            if child.__class__ is not Element:
                continue
            id_ = child.get("id")
            if id_ is not None and id_.startswith("comment-") and COMMENT_ID.search(id_):
                elements.append((place[child][0], child))
            if target is None:
                next_page = child.get("data-next")
                if next_page:
                    target = (place[child][0], next_page)
        return elements, target


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
        marked = page.marked_below(main)[0]
        start = marked[0][1] if marked else None
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


def _precise(shown: datetime | None, time_tag: Element | None) -> datetime | None:
    """The shown date (minutes) refined by the ``<time datetime>`` beside its label (which
    carries seconds), when both name the same minute."""
    if shown is None or time_tag is None:
        return shown
    try:
        exact = parse_thai_datetime(time_tag.get("datetime"))
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
    owners, invisible = page.owners, page.invisible
    for i, string in enumerate(page.texts):
        if "เ" in string and (  # every label has one
            "หมายเลขบันทึก" in string
            or "ความเห็น" in string
            or "เขียนเมื่อ" in string
            or "แก้ไขเมื่อ" in string
        ):
            says_comments = says_comments or "ความเห็น" in string
            if i not in invisible:
                labels.append((i, string, owners[i]))

    # The post number label; its number may sit in a sibling element (<strong>544804</strong>).
    # A body may quote another post's number: prefer the label that agrees with the URL.
    found: list[tuple[Element, int]] = []
    for _, string, parent in labels:
        if "หมายเลขบันทึก" not in string:
            continue
        match = _POST_NUMBER_LABEL.search(squash_whitespace(string))
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
        text
        for i, (text, out) in enumerate(zip(texts, excluded, strict=True))
        if not out and i not in invisible
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
        marked, next_target = in_section.marked_below(section)
        comments = _embedded_comments(in_section, marked, number, url)
        next_url = _load_more(in_section, section, next_target, url)
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


def _load_more(
    page: _Page, section: Element, target: tuple[int, str] | None, base: str
) -> str | None:
    """Where the rest of the comments come from: the first element in the section with a
    ``data-next`` (``target``), or link saying ดูความเห็นเพิ่มเติม, whichever comes first."""
    low, high = page.below(section)
    for _, a, href in page.links_in(low + 1, high if target is None else target[0] - 1):
        if href and LOAD_MORE_LABEL in page.text(a):
            return urljoin(base, href)
    return urljoin(base, target[1]) if target is not None else None


def _embedded_comments(
    page: _Page, marked: list[tuple[int, Element]], post_number: int, url: str
) -> list[Comment]:
    """The comments in the page, numbered as ``renumber`` numbers them."""
    numbers = [n for n, _ in marked]
    seen: dict[int, tuple[Any, ...]] = {}
    for _, element in marked:
        comment_id = int(COMMENT_ID.match(element.get("id"))["id"])  # type: ignore[index]
        fields = _comment_fields(page, element, comment_id, url, numbers)
        seen.setdefault(comment_id, fields)  # the first of a repeated id, as renumber()
    return [
        Comment(comment_id, post_number, position, *fields)
        for position, (comment_id, fields) in enumerate(seen.items(), start=1)
    ]


def _child_elements(element: Element) -> list[Element]:
    return [c for c in element if c.__class__ is Element]


def _comment_fields(
    page: _Page, element: Element, comment_id: int, url: str, comment_numbers: list[int]
) -> tuple[str | None, str | None, datetime | None, str]:
    """Author username and name, date and text of one comment element."""
    # Structure: an author part, a body part and a meta part ("เขียนเมื่อ …"), in any wrapper.
    place = page.place
    parts = _child_elements(element)
    while len(parts) == 1:
        low, high, _, _ = place[parts[0]]
        if any(low < n <= high for n in comment_numbers):  # another comment inside
            break
        parts = _child_elements(parts[0])
    links, link_numbers = page.links, page.link_numbers
    author = meta = None  # indexes into parts
    texts: list[str] = []
    for i, part in enumerate(parts):
        text = page.text(part)
        texts.append(text)
        if author is None:
            # A profile link in it (or it is one), or a guest's name.
            low, high, _, _ = place[part]
            start = bisect_left(link_numbers, low)
            end = bisect_right(link_numbers, high, start)
            if any(PROFILE_HREF.search(links[k][2]) for k in range(start, end)):
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
            match = PROFILE_PATH.match(_path(author_part.get("href"), url) or "")
            username, name = (match["u"], page.text(author_part)) if match else (None, None)
        else:
            low, high, _, _ = place[author_part]
            username, name = _profile_link(page, page.links_in(low + 1, high), url)
        if username is None:
            name = texts[author] or GUEST_LABEL
    created_at = None
    date_text = _label_value(texts[meta], _CREATED_LABEL) if meta is not None else None
    if date_text:
        created_at = _parse_date(url, date_text, f"comment {comment_id}")
        created_at = _precise(created_at, page.first_time(parts[meta]))  # type: ignore[index]
    else:
        time_tag = page.first_time(element)
        if time_tag is not None:
            created_at = _parse_date(url, time_tag.get("datetime"), f"comment {comment_id}")
    body = [block_text(p) for i, p in enumerate(parts) if i != author and i != meta]
    return username, name or None, created_at, "\n\n".join(t for t in body if t)


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
