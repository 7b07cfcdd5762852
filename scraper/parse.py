"""Pure parsers: the site's HTML (and the comments JSON) to ``warehouse.models`` dataclasses.

They anchor on what is stable on the site: the visible Thai labels (``หมายเลขบันทึก:``,
``เขียนเมื่อ``, ``แก้ไขเมื่อ``, ``สัญญาอนุญาต:``, ``ความเห็น (N)``, ``คำสำคัญ``), URL patterns
(``/posts/<n>``, ``/profiles/users/<u>``, ``/blogs/books/<slug>``, ``/posts?tag=``) and
semantic structure (``h1``, ``article``, ``rel="next"``, ``id="comment-N"``, which element
holds which), never on class names. ``parse_post`` reads a post field by field
(``_PostReader``); a field the page does not give raises ``ParseError`` naming it, and the
crawler records that with a saved copy of the HTML instead of storing a guess.

Stored text is text: ``script``, ``style``, ``noscript``, ``template``, ``iframe``, ``svg``
and buttons give none, attributes (event handlers, ``javascript:`` targets) are never read
as text, entities are decoded once. A comment's author is the part of the comment that is
neither its body nor its ``เขียนเมื่อ`` line: a profile link, the guest label ผู้อ่านทั่วไป
or a name a guest typed. Tags are kept as written (``tag_as_written``) and as shown
(``raw_tags``); the warehouse derives the normalised form used for matching.

Pages are parsed with lxml's HTML parser. A post page's ``main`` is walked once into an
index (``_Page``). An element's text: text in ``script``/``style`` (and inside ``template``,
``rt``, ``rp``) is not part of it, comments never are, one space separates text nodes, and
a node of ASCII whitespace only counts as one space (one newline if it has one) outside
``pre``/``textarea``. Empty input is a ``ParseError``.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml import etree

from warehouse.models import Comment, CommentsPage, ListingItem, ListingPage, Post
from warehouse.thai import (
    ThaiDateError,
    parse_thai_datetime,
    remove_zero_width,
    squash_whitespace,
    thai_digits_to_ascii,
)

Element: TypeAlias = etree._Element


class ParseError(ValueError):
    """A page lacks something the crawler must not guess: ``url`` and ``what`` say which,
    ``field`` names the field that could not be read (``post_number``, ``title``,
    ``author``, ``created_at``, ``updated_at``, ``comments``, ``page``...)."""

    def __init__(self, url: str, what: str, *, field: str | None = None) -> None:
        super().__init__(f"{url}: {what}")
        self.url = url
        self.what = what
        self.field = field


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
# Elements whose text is not part of their ancestors' text ("string containers"); script
# and style hold only text, the other three may hold elements.
_CONTAINERS = frozenset({"script", "style", "template", "rt", "rp"})
_NESTING_CONTAINERS = ("template", "rt", "rp")
_PRESERVE_TAGS = ("pre", "textarea")
_ASCII_SPACES = " \n\t\x0c\r"

_MAYBE_COMMENTS = etree.XPath("descendant::*[starts-with(@id, 'comment-')]")
_WITH_NEXT = etree.XPath("descendant::*[@data-next != '']")
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
        """The element's text as shown: text nodes run together, a node of ASCII whitespace
        only counting as one space or newline (not in pre/textarea)."""
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


def block_text(node: Element | None, skip: Iterable[Element] = ()) -> str:
    """The text of a piece of markup: one paragraph per block (``p``, ``li``, headings …),
    blocks joined by a blank line, whitespace inside a block squashed, zero-width characters
    kept, markup dropped (script, style, event handlers and link targets are never text).
    Elements in ``skip`` are left out."""
    if node is None:
        return ""
    blocks: list[str] = []
    buffer: list[str] = []
    _walk_blocks(node, buffer, blocks, frozenset(skip))
    _flush_block(buffer, blocks)
    return "\n\n".join(blocks)


def _flush_block(buffer: list[str], blocks: list[str]) -> None:
    if buffer:
        text = " ".join("".join(buffer).split())
        buffer.clear()
        if text:
            blocks.append(text)


def _walk_blocks(
    element: Element, buffer: list[str], blocks: list[str], skip: frozenset[Element]
) -> None:
    text = element.text
    if text:
        buffer.append(text)
    for child in element:
        tag = child.tag
        # not a comment, not skipped
        if tag.__class__ is str and tag not in _SKIP_TAGS and child not in skip:
            if tag == "br":
                buffer.append(" ")
            elif tag in _BLOCK_TAGS:
                _flush_block(buffer, blocks)
                _walk_blocks(child, buffer, blocks, skip)
                _flush_block(buffer, blocks)
            else:
                _walk_blocks(child, buffer, blocks, skip)
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
        raise ParseError(url, "not an HTML page", field="page")
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
            raise ParseError(url, f"listing item for post {number} has no title", field="title")
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
        """The element's text as shown (as ``_Reader.raw_text``)."""
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
    ) -> tuple[list[tuple[int, Element]], list[tuple[int, str]]]:
        """The ``id="comment-N"`` elements below ``element`` and the non-empty ``data-next``
        values there, each with its element's number."""
        place = self.place
        elements = [
            (place[child][0], child)
            for child in _MAYBE_COMMENTS(element)
            if COMMENT_ID.match(child.get("id"))
        ]
        targets = [(place[child][0], child.get("data-next")) for child in _WITH_NEXT(element)]
        return elements, targets


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
# A date label as the meta line writes it: the label, then a date, "(" or nothing (a <time>
# follows). Prose that starts with the same letters ("เขียนเมื่อวานนี้") is not a label.
_DATE_LABEL_NODE = {
    label: re.compile(rf"{label}\s*[:：]?\s*(?:[{_DIGITS}(]|$)")
    for label in (_CREATED_LABEL, _UPDATED_LABEL)
}
_NEXT_LABEL = re.compile(r"เขียนเมื่อ|แก้ไขเมื่อ|สัญญาอนุญาต|จำนวนที่อ่าน|หมายเลขบันทึก|คำสำคัญ")
# The tag list's label on a line of its own: "คำสำคัญ (Tags):".
_TAG_LABEL = re.compile(r"\s*คำสำคัญ\s*(?:\(\s*tags?\s*\))?\s*[:：]?\s*$", re.IGNORECASE)
# Words a tag list or a byline may hold beside its links.
_TAG_LIST_WORDS = re.compile(r"คำสำคัญ|แท็ก|tags?", re.IGNORECASE)
_BYLINE_WORDS = re.compile(r"เขียนโดย|โดย|ใน|สมุด|ของ|by|in", re.IGNORECASE)
# An inline element whose text may hold a comment's author: never a paragraph of its own.
_PARAGRAPH_TAGS = frozenset({"p", "ul", "ol", "dl", "blockquote", "pre", "table", "figure", "hr"})
_SHORT_LABEL_LINE = 80  # characters of a date label's line
_AUTHOR_NAME_MAX = 80  # characters; longer is a body, not a typed name


def _label_value(text: str, label: str) -> str | None:
    """The value after ``label`` (a date starts with a digit), up to the next label."""
    match = _LABEL_VALUE[label].search(text)
    if match is None:
        return None
    rest = text[match.end() :]
    stop = _META_STOP.search(rest)
    return (rest[: stop.start()] if stop else rest)[:80].strip(" :：")


def _parse_date(url: str, text: str | None, what: str, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_thai_datetime(text)
    except ThaiDateError as exc:
        raise ParseError(url, f"unreadable {what} date {text!r}: {exc}", field=field) from None


_TIME_OF_DAY = re.compile(rf"[{_DIGITS}]{{1,2}}[:.][{_DIGITS}]{{2}}")


def _precise(
    shown: datetime | None, time_tag: Element | None, shown_text: str = ""
) -> datetime | None:
    """The shown date refined by the ``<time datetime>`` beside its label (which carries
    seconds): when both name the same minute, or, for a date shown without a time of day,
    the same day. A ``<time>`` that disagrees with what the page shows changes nothing."""
    if shown is None or time_tag is None:
        return shown
    try:
        exact = parse_thai_datetime(time_tag.get("datetime"))
    except ThaiDateError:
        return shown
    if _TIME_OF_DAY.search(shown_text) is None and shown_text:
        return exact if exact.date() == shown.date() else shown
    same_minute = exact.replace(second=0, microsecond=0) == shown.replace(second=0, microsecond=0)
    return exact if same_minute else shown


def tag_as_written(shown: str) -> str:
    """A tag as its author wrote it: invisible characters removed, NFC, whitespace squashed,
    no leading ``#``; case, digits and spelling kept (``warehouse.thai.normalise_tag`` gives
    the form used for matching)."""
    text = squash_whitespace(unicodedata.normalize("NFC", remove_zero_width(shown)))
    return text.lstrip("#＃").strip()


def _lowest_common(a: Element, b: Element) -> Element | None:
    above_a = set(_chain(a))
    return next((p for p in _chain(b) if p in above_a), None)


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


@dataclass(frozen=True, slots=True)
class _MetaLine:
    """Where a post's labels are: the post number label's element, the written-date
    label (its text node and element), the smallest element holding both, and the
    edited-date labels (text node, element)."""

    number_label: Element
    created_index: int
    created_in: Element
    line: Element
    updated_labels: list[tuple[int, Element]]


class _PostReader:
    """One post page, read field by field. Each reader anchors on the visible Thai labels,
    URL patterns and the structure around them (never on class names) and raises a
    ``ParseError`` naming its field when the page does not say."""

    def __init__(self, html: str, url: str) -> None:
        doc = _parse(html)
        main = _first(doc, "main") if doc is not None else None
        if main is None and doc is not None:
            main = _first(doc, "body")
        if doc is None or main is None:
            raise ParseError(url, "not an HTML page (no body)", field="page")
        self.url = url
        self.doc = doc
        self.main = main
        reader = _Reader(doc)
        _wrap_flat_comments(main, reader)
        self.page = page = _Page(main, reader)
        # The post's article (a template may write each comment as an <article> too).
        article = next(
            (a for a in main.iter("article") if not any(_is_comment_element(p) for p in _chain(a))),
            None,
        )
        self.root = article if article is not None else main
        self.anchors = [link for link in page.links if link[2]]  # a non-empty href
        # The text nodes that carry a label, with their index and element (not script,
        # button ...); and whether any text (a script's too) says ความเห็น.
        self.labels: list[tuple[int, str, Element]] = []
        self.says_comments = False
        owners, invisible = page.owners, page.invisible
        for i, string in enumerate(page.texts):
            if "เ" in string and (  # every label has one
                "หมายเลขบันทึก" in string
                or "ความเห็น" in string
                or "เขียนเมื่อ" in string
                or "แก้ไขเมื่อ" in string
            ):
                self.says_comments = self.says_comments or "ความเห็น" in string
                if i not in invisible:
                    self.labels.append((i, string, owners[i]))
        self.section: Element | None = None  # the comments, once read_comments_section ran

    # --- shared helpers --------------------------------------------------------------------

    def error(self, what: str, field: str) -> ParseError:
        return ParseError(self.url, what, field=field)

    def outside_comments(self, element: Element) -> bool:
        return self.section is None or not self.page.inside(element, self.section)

    def text_from(self, start: int, element: Element) -> str:
        """The element's shown text from text node ``start`` on, whitespace squashed."""
        page = self.page
        _, _, first, end = page.place[element]
        hidden, invisible = page.hidden, page.invisible
        return " ".join(
            " ".join(
                s
                for k, s in enumerate(page.texts[max(start, first) : end], max(start, first))
                if k not in hidden and k not in invisible
            ).split()
        )

    def inline_run(self, element: Element) -> str:
        """The text around ``element`` up to the nearest block boundary (a block element or
        a ``<br>``) on each side: what a reader sees on the same line."""
        top = element
        while (parent := top.getparent()) is not None and parent.tag not in _BLOCK_TAGS:
            if parent is self.main:
                break
            top = parent
        parent = top.getparent()
        if parent is None:
            return self.page.text(top)
        siblings = [c for c in parent if c.__class__ is Element]
        at = siblings.index(top)
        start, stop = at, at
        while start > 0 and not _breaks_line(siblings[start - 1]):
            start -= 1
        while stop + 1 < len(siblings) and not _breaks_line(siblings[stop + 1]):
            stop += 1
        parts = [parent.text or ""] if start == 0 else [siblings[start - 1].tail or ""]
        for sibling in siblings[start : stop + 1]:
            parts.append(self.page.text(sibling))
            parts.append(sibling.tail or "")
        return squash_whitespace(" ".join(parts))

    def time_after(self, element: Element, start: int) -> Element | None:
        """The first ``<time datetime>`` in ``element`` after text node ``start`` and before
        the next label there."""
        page = self.page
        _, _, _, end = page.place[element]
        stop = end
        for k in range(start + 1, end):
            if _NEXT_LABEL.search(page.texts[k]) and k not in page.invisible:
                stop = k
                break
        low, high = page.below(element)
        for number, time_tag in page.times:
            if low < number <= high and start < page.place[time_tag][2] <= stop:
                return time_tag
        return None

    def dated(
        self, index: int, label: str, limit: Element, what: str, field: str
    ) -> datetime | None:
        """The date after the label in text node ``index``: as shown (read in the label's
        element, or the smallest element up to ``limit`` that shows one), refined by the
        ``<time datetime>`` beside it; or that ``datetime`` alone when no date is shown."""
        page = self.page
        value = None
        holder = page.owners[index]
        for element in _chain(holder):
            holder = element
            value = _label_value(self.text_from(index, element), label)
            if value or element is limit or element is self.main:
                break
        time_tag = self.time_after(holder, index)
        if value:
            return _precise(_parse_date(self.url, value, what, field), time_tag, value)
        if time_tag is not None:
            return _parse_date(self.url, time_tag.get("datetime"), what, field)
        return None

    # --- the fields ------------------------------------------------------------------------

    def read_post_number(self) -> tuple[int, Element]:
        """หมายเลขบันทึก: N (its number may sit in a sibling element); a body may quote
        another post's number, so the label that agrees with the URL wins."""
        number_from_url = post_number_from_url(self.url)
        found: list[tuple[Element, int]] = []
        for index, string, parent in self.labels:
            if "หมายเลขบันทึก" not in string:
                continue
            if any(_is_comment_element(p) for p in _chain(parent)):
                continue  # a comment quoting a post number
            # The number right after this label: in its own text node, or read on from it in
            # the label's element or the one above (never a number after another label).
            own = squash_whitespace(string)
            starts = [m.start() for m in re.finditer("หมายเลขบันทึก", own)]
            match = None
            grandparent = parent.getparent()
            for element in (parent, grandparent):
                if element is None or match is not None or element not in self.page.place:
                    continue
                text = self.text_from(index, element)
                match = next(
                    (m for p in starts if (m := _POST_NUMBER_LABEL.match(text, p)) is not None),
                    None,
                )
            if match:
                found.append((parent, _int(match["n"])))
        if not found:
            raise self.error("no post number (หมายเลขบันทึก:)", "post_number")
        label, number = next(((s, n) for s, n in found if n == number_from_url), found[0])
        if number_from_url is not None and number != number_from_url:
            raise self.error(
                f"post number {number} on the page differs from the URL", "post_number"
            )
        return number, label

    def read_title(self) -> tuple[str, Element | None]:
        """The ``h1`` of the post, never one inside a comment (the one that agrees with
        ``og:title``, or that the page's ``<title>`` holds, when there are several), else
        ``og:title``."""
        page = self.page
        og = next((m for m in self.doc.iter("meta") if m.get("property") == "og:title"), None)
        og_title = squash_whitespace(og.get("content", "")) if og is not None else ""
        head_title = next(self.doc.iter("title"), None)
        shown_title = page.reader.text(head_title) if head_title is not None else ""
        headings = [
            h
            for h in (list(self.root.iter("h1")) or list(self.main.iter("h1")))
            if page.text(h) and not any(_is_comment_element(p) for p in _chain(h))
        ]
        title_tag = next((h for h in headings if og_title and page.text(h) == og_title), None)
        if title_tag is None and len(headings) > 1 and shown_title:
            # "<title> - GotoKnow": the h1 the page's title starts with (not the site's logo).
            named = [h for h in headings if page.text(h) in shown_title]
            title_tag = max(named, key=lambda h: len(page.text(h)), default=None)
        if title_tag is None and headings:
            title_tag = headings[0]
        title = page.text(title_tag) if title_tag is not None else ""
        if not title:
            title = og_title
        if not title:
            raise self.error("no title (h1)", "title")
        return title, title_tag

    def read_comments_section(self, title_tag: Element | None, number_label: Element) -> None:
        section = _comments_section(self.page, self.main, title_tag, self.labels)
        if section is not None and self.page.inside(number_label, section):
            section = None  # a malformed page: never throw away the post's own labels
        self.section = section

    def read_tags(self) -> tuple[list[Element], list[str]]:
        """Links to ``/posts?tag=`` outside the comments that stand in a list of tags (on
        their line only other tag links, punctuation and a label like ``คำสำคัญ``), not a
        link in the body's prose. Each as shown."""
        page = self.page
        tag_links: list[Element] = []
        raw_tags: list[str] = []
        candidates: list[tuple[Element, str]] = []
        for _, a, href in self.anchors:
            if "tag=" not in href:
                continue
            path, query = _split_href(href, self.url)
            if path.rstrip("/") == "/posts" and self.outside_comments(a):
                candidates.append((a, query))
        # Where the page labels its tags (คำสำคัญ on a line of its own), they are the tag
        # links in the nearest element around the label that holds any.
        around = self.tag_list(candidates)
        if around is not None:
            candidates = [(a, q) for a, q in candidates if page.inside(a, around)]
        link_texts = {a: page.text(a) for a, _ in candidates}
        for a, query in candidates:
            run = self.inline_run(a)
            for text in sorted(link_texts.values(), key=len, reverse=True):
                if text:
                    run = run.replace(text, " ")
            if _letters(_TAG_LIST_WORDS.sub(" ", run)):
                continue  # a link in prose
            # As shown (a trailing space is part of how a member typed the tag).
            shown = page.raw_text(a)
            if not shown.strip():
                shown = (parse_qs(query).get("tag") or [""])[0]
            if shown:
                tag_links.append(a)
                raw_tags.append(shown)
        return tag_links, raw_tags

    def tag_list(self, links: list[tuple[Element, str]]) -> Element | None:
        """The element around the tag list: the smallest one around a ``คำสำคัญ`` label
        (outside the comments) that holds one of ``links``."""
        page = self.page
        for i, string in enumerate(page.texts):
            if "คำสำคัญ" not in string or not _TAG_LABEL.match(string):
                continue
            owner = page.owners[i]
            if i in page.invisible or not self.outside_comments(owner):
                continue
            for element in _chain(owner):
                if any(page.inside(a, element) for a, _ in links):
                    return element
                if element is self.main:
                    break
        return None

    def read_byline(self) -> tuple[str, str | None, str | None, list[Element]]:
        """The author (``/profiles/users/<u>``) and notebook (``/blogs/books/<slug>``) links
        of the byline: the profile link that shares the smallest element with the notebook
        link, when that element holds little else; without a notebook link, the first
        profile link standing on a line of its own (not one the body's prose links)."""
        page = self.page
        profiles: list[tuple[Element, str]] = []
        books: list[tuple[Element, str]] = []
        for _, a, href in self.anchors:
            if not self.outside_comments(a):
                continue
            path = _path(href, self.url) or ""
            if match := PROFILE_PATH.match(path):
                profiles.append((a, match["u"]))
            elif match := BOOK_PATH.match(path):
                books.append((a, match["b"]))
        author: tuple[Element, str] | None = None
        container: Element | None = None
        book: tuple[Element, str] | None = None
        for book_link, slug in books:
            best = None
            for link, username in profiles:
                common = _lowest_common(link, book_link)
                if common is None:
                    continue
                depth = sum(1 for _ in _chain(common))
                if best is None or depth > best[0]:
                    best = (depth, link, username, common)
            if best is None:
                continue
            _, link, username, common = best
            # What the shared element shows besides links and headings (a header holds the
            # title too): a byline has a few words at most.
            others = page.text(common)
            for element in common.iter("a", *_HEADINGS):
                shown = page.text(element)
                others = others.replace(shown, " ") if shown else others
            if _letters(_BYLINE_WORDS.sub(" ", others)) <= 40:
                author, container, book = (link, username), common, (book_link, slug)
                break
        if author is None:
            # A profile link on a line of its own (or with the notebook link and byline
            # words): never one in a sentence of the body.
            book_texts = [page.text(a) for a, _ in books]
            for link, username in profiles:
                run = self.inline_run(link)
                for shown in [page.text(link), *book_texts]:
                    run = run.replace(shown, " ") if shown else run
                if _letters(_BYLINE_WORDS.sub(" ", run)) == 0:
                    author, container = (link, username), link
                    break
        if author is None:
            raise self.error("no author link (/profiles/users/<username>)", "author")
        if book is None:
            book = next(iter(books), None)
        link, username = author
        # The name: the first profile link to the same member there with text (an avatar
        # link holds only an image).
        same = [a for a, u in profiles if u == username and page.inside(a, container)]
        name = next((t for t in (_visible_text(a) for a in [link, *same]) if t), None)
        byline = [a for a, u in profiles if u == username and page.inside(a, container)]
        byline.append(link)
        if book is not None:
            byline.append(book[0])
        return username, name, book[1] if book is not None else None, byline

    def date_labels(self, label: str) -> list[tuple[int, Element]]:
        """Text nodes outside the comments that are a date label (not prose starting with
        the same word)."""
        pattern = _DATE_LABEL_NODE[label]
        return [
            (i, parent)
            for i, string, parent in self.labels
            if label in string and pattern.search(string) and self.outside_comments(parent)
        ]

    def nearest(self, found: list[tuple[int, Element]], anchor: Element) -> tuple[int, Element]:
        """The one that shares the smallest element with ``anchor`` (the first among equals)."""
        depth = {p: d for d, p in enumerate(_chain(anchor))}
        return min(
            found, key=lambda f: next((depth[p] for p in _chain(f[1]) if p in depth), 1 << 30)
        )

    def read_meta_line(self, number_label: Element) -> _MetaLine:
        """The written-date label nearest the post number label, the smallest element
        holding both, and the edited-date labels outside the comments."""
        created_labels = self.date_labels(_CREATED_LABEL)
        if not created_labels:
            raise self.error("no written date (เขียนเมื่อ)", "created_at")
        created_index, created_in = self.nearest(created_labels, number_label)
        line = _lowest_common(created_in, number_label)
        return _MetaLine(
            number_label,
            created_index,
            created_in,
            self.root if line is None else line,
            self.date_labels(_UPDATED_LABEL),
        )

    def read_body(
        self, links: list[Element], title_tag: Element | None, meta: _MetaLine
    ) -> Element | None:
        """The element with the most text that holds none of the title, the tag and byline
        ``links``, the labels and the comments."""
        avoid: list[Element] = [*links, *(n for n in (title_tag, self.section) if n is not None)]
        if meta.line is not self.root and meta.line is not self.main:
            avoid.append(meta.line)
        # Edited-date labels on a short line of their own are never the body (prose that
        # starts with the label is longer).
        short = [e for _, e in meta.updated_labels if len(self.page.text(e)) <= _SHORT_LABEL_LINE]
        return _best_body(self.page, self.root, avoid, [meta.number_label, meta.created_in, *short])

    def read_dates(self, meta: _MetaLine, body: Element | None) -> tuple[datetime, datetime | None]:
        """เขียนเมื่อ (required) and แก้ไขเมื่อ (None when the page shows no edit; a label
        without a readable date is an error)."""
        created_at = self.dated(
            meta.created_index, _CREATED_LABEL, meta.line, "written", "created_at"
        )
        if created_at is None:
            raise self.error("no written date (เขียนเมื่อ)", "created_at")
        outside_body = [
            (i, e) for i, e in meta.updated_labels if body is None or not self.page.inside(e, body)
        ]
        if not outside_body:
            return created_at, None
        updated_index, updated_in = self.nearest(outside_body, meta.created_in)
        common = _lowest_common(updated_in, meta.created_in)
        limit = self.root if common is None else common
        updated_at = self.dated(updated_index, _UPDATED_LABEL, limit, "edited", "updated_at")
        if updated_at is None:
            raise self.error("no readable edited date after แก้ไขเมื่อ", "updated_at")
        return created_at, updated_at

    def read_license(self, meta_text: str) -> str | None:
        match = _LICENSE_LABEL.search(meta_text)
        if match is None:
            return None
        rest = meta_text[match.end() :]
        stop = re.search(r"จำนวนที่อ่าน|หมายเลขบันทึก|เขียนเมื่อ|แก้ไขเมื่อ|ความเห็น", rest)
        return (rest[: stop.start()] if stop else rest).strip() or None

    def meta_text(self, body: Element | None) -> str:
        """Text of the post outside its body and comments: where the labels live."""
        page = self.page
        texts = page.texts
        excluded = bytearray(len(texts))
        for element in (body, self.section):
            if element is not None:
                _, _, start, end = page.place.get(element, (0, 0, 0, len(texts)))
                excluded[start:end] = b"\x01" * (end - start)
        invisible = page.invisible
        return squash_whitespace(
            " ".join(
                text
                for i, (text, out) in enumerate(zip(texts, excluded, strict=True))
                if not out and i not in invisible
            )
        )

    def read_comments(
        self, number: int, meta_text: str
    ) -> tuple[int | None, list[Comment], str | None]:
        """The ``ความเห็น (N)`` figure, the comments in the page and where the rest come
        from (``/posts/<n>/comments?...`` only, never from inside a comment)."""
        section = self.section
        if section is None:
            heading_match = _COMMENT_COUNT_HEADING.search(meta_text)
            declared = _int(heading_match["n"]) if heading_match else None
            if declared is None:
                declared = None if self.says_comments else 0
            return declared, [], None
        page = self.page
        # (A section above main, which a page without h1 allows, gets a walk of its own.)
        in_section = page if section in page.place else _Page(section, page.reader)
        heading_match = _COMMENT_COUNT_HEADING.search(in_section.text(section))
        declared = _int(heading_match["n"]) if heading_match else None
        marked, targets = in_section.marked_below(section)
        # A comment element inside another is that comment's text (a comment's markup
        # cannot add comments).
        elements = {element for _, element in marked}
        marked = [(n, e) for n, e in marked if not any(a in elements for a in e.iterancestors())]
        comments = _embedded_comments(in_section, marked, number, self.url)
        next_url = _load_more(in_section, section, marked, targets, number, self.url)
        if declared is None and not comments:
            declared = None if self.says_comments else 0
        return declared, comments, next_url


def _is_comment_element(element: Element) -> bool:
    id_ = element.get("id")
    return id_ is not None and COMMENT_ID.match(id_) is not None


def _wrap_flat_comments(main: Element, reader: _Reader) -> None:
    """Where the comments stand beside the post in one element (no element of their own
    holds the ``ความเห็น (N)`` heading and the comments), put them in a ``<section>`` of
    their own, from the heading (or the first comment) to the end: the post's fields are
    read outside it, the comments inside."""
    start = None
    for element in main.iter(*_HEADINGS, "header"):
        if _COMMENT_COUNT_HEADING.search(reader.text(element)) and not any(
            _is_comment_element(a) for a in element.iterancestors()
        ):
            start = element
            break
    if start is None:
        start = next(
            (e for e in main.iter() if e.__class__ is Element and _is_comment_element(e)), None
        )
    if start is None:
        return
    comments = [e for e in main.iter() if e.__class__ is Element and _is_comment_element(e)]

    def holds_post(element: Element) -> bool:
        return next(element.iter("h1"), None) is not None or "หมายเลขบันทึก" in reader.text(element)

    # The element that starts the comments: the highest one above ``start`` whose parent
    # also holds the post (its title or number label).
    node = start
    while (
        (parent := node.getparent()) is not None and parent is not main and not holds_post(parent)
    ):
        node = parent
    if node.getparent() is None or all(_inside(c, node) for c in comments):
        return  # the comments have an element of their own
    section = etree.Element("section")
    node.addprevious(section)
    for element in [node, *node.itersiblings()]:
        section.append(element)  # with its tail


def _breaks_line(element: Element) -> bool:
    return element.tag in _BLOCK_TAGS or element.tag == "br"


def parse_post(html: str, url: str) -> Post:
    """A post page, with the comments embedded in it and the load-more link."""
    reader = _PostReader(html, url)
    number, number_label = reader.read_post_number()
    title, title_tag = reader.read_title()
    reader.read_comments_section(title_tag, number_label)
    tag_links, raw_tags = reader.read_tags()
    author_username, author_name, book_slug, byline = reader.read_byline()
    meta = reader.read_meta_line(number_label)
    body = reader.read_body([*tag_links, *byline], title_tag, meta)
    created_at, updated_at = reader.read_dates(meta, body)
    meta_text = reader.meta_text(body)
    declared, comments, next_url = reader.read_comments(number, meta_text)
    written = (tag_as_written(r) for r in raw_tags)
    return Post(
        post_number=number,
        url=urljoin(url, f"/posts/{number}"),
        title=title,
        author_username=author_username,
        author_name=author_name,
        book_slug=book_slug,
        created_at=created_at,
        updated_at=updated_at,
        tags=tuple(dict.fromkeys(t for t in written if t)),
        raw_tags=tuple(raw_tags),
        body_text=block_text(body),
        license_text=reader.read_license(meta_text),
        comment_count_declared=declared,
        comments=tuple(comments),
        comments_next_url=next_url,
    )


def _load_more(
    page: _Page,
    section: Element,
    marked: list[tuple[int, Element]],
    targets: list[tuple[int, str]],
    post_number: int,
    base: str,
) -> str | None:
    """Where the rest of the comments come from: the first ``data-next`` or link saying
    ดูความเห็นเพิ่มเติม in the section, outside every comment, that names this post's
    comments (a comment's own markup cannot send the crawler elsewhere)."""
    inside = [page.below(element) for _, element in marked]

    def in_a_comment(number: int) -> bool:
        return any(low <= number <= high for low, high in inside)

    low, high = page.below(section)
    found: list[tuple[int, str]] = [t for t in targets if not in_a_comment(t[0])]
    for number, a, href in page.links_in(low + 1, high):
        if href and not in_a_comment(number) and LOAD_MORE_LABEL in page.text(a):
            found.append((number, href))
    wanted = f"/posts/{post_number}/comments"
    for _, target in sorted(found):
        resolved = urljoin(base, target)
        parts = urlsplit(resolved)
        if parts.netloc == urlsplit(base).netloc and parts.path.rstrip("/") == wanted:
            return resolved
    return None


def _embedded_comments(
    page: _Page, marked: list[tuple[int, Element]], post_number: int, url: str
) -> list[Comment]:
    """The comments in the page, numbered as ``renumber`` numbers them. One template
    writes every comment of a page: where the comments that show their author part
    plainly have it tells where it is in the others."""
    comment_elements = {element for _, element in marked}
    layouts = [
        _comment_layout(page.text, element, comment_elements - {element}, url)
        for _, element in marked
    ]
    position = _author_position(layouts)
    seen: dict[int, tuple[Any, ...]] = {}
    for (_, element), layout in zip(marked, layouts, strict=True):
        id_match = COMMENT_ID.match(element.get("id") or "")
        assert id_match is not None  # marked holds only elements whose id matched
        comment_id = int(id_match["id"])
        fields = _comment_fields(layout, url, comment_id, position)
        seen.setdefault(comment_id, fields)  # the first of a repeated id, as renumber()
    return [
        Comment(comment_id, post_number, position, *fields)
        for position, (comment_id, fields) in enumerate(seen.items(), start=1)
    ]


def _child_elements(element: Element) -> list[Element]:
    return [c for c in element if c.__class__ is Element and c.tag not in _SKIP_TAGS]


def _has_direct_text(element: Element) -> bool:
    if (element.text or "").strip():
        return True
    return any((c.tail or "").strip() for c in element)


def _comment_parts(element: Element, others: set[Element]) -> tuple[Element, list[Element]]:
    """The parts of one comment: its child elements, below wrappers that hold one part;
    with the element they are the children of."""
    parts = _child_elements(element)
    while len(parts) == 1 and not _has_direct_text(element):
        only = parts[0]
        if only in others or any(d in others for d in only.iterdescendants()):
            break  # another comment inside
        element, parts = only, _child_elements(only)
    return element, parts


_NOT_SHOWN = _SKIP_TAGS | _CONTAINERS


def _visible_text(element: Element) -> str:
    """The element's text without what a reader does not see as text (script, style,
    noscript, template, button, iframe, svg and their contents), whitespace squashed."""
    out: list[str] = []

    def walk(node: Element) -> None:
        if node.text:
            out.append(node.text)
        for child in node:
            if child.__class__ is Element and child.tag not in _NOT_SHOWN:
                walk(child)
            if child.tail:
                out.append(child.tail)

    walk(element)
    return squash_whitespace(" ".join(out))


def _profile_links(part: Element, base: str) -> list[tuple[Element, str]]:
    found = []
    for a in part.iter("a"):
        match = PROFILE_PATH.match(_path(a.get("href"), base) or "")
        if match:
            found.append((a, match["u"]))
    return found


_INLINE_NAME_TAGS = frozenset(
    {"span", "a", "b", "strong", "em", "i", "cite", "small", "label", "font", "u"}
)


def _shown_by_one_inline(part: Element) -> bool:
    """The part is an inline element, or all its shown text stands in one (through
    wrappers): how a name is set apart, where a short body is plain text."""
    while part.tag not in _INLINE_NAME_TAGS:
        if (part.text or "").strip() or any((c.tail or "").strip() for c in part):
            return False
        shown = [c for c in part if c.__class__ is Element and c.tag not in _NOT_SHOWN]
        shown = [c for c in shown if _visible_text(c)]
        if len(shown) != 1:
            return False
        part = shown[0]
    return True


def _is_name_like(part: Element, text: str) -> bool:
    """Could hold a name: short, on one line, no paragraph inside."""
    if not text or len(text) > _AUTHOR_NAME_MAX or part.tag in _PARAGRAPH_TAGS:
        return False
    return not any(
        d.tag in _BLOCK_TAGS or d.tag == "br"
        for d in part.iterdescendants()
        if d.tag.__class__ is str
    )


@dataclass(slots=True)
class _CommentLayout:
    """One comment element split into its parts: the meta part (``เขียนเมื่อ``), the
    parts that may be the author part (best first) and, when only one may, that one."""

    element: Element
    container: Element  # the element whose children the parts are
    parts: list[Element]
    texts: list[str]
    others: set[Element]  # other comments' elements (never part of this one)
    meta: int | None
    rest: list[int]  # every part but the meta part
    candidates: list[int]
    clear: int | None

    def ends(self, i: int) -> tuple[int, int]:
        """Where part ``i`` stands among the parts that are not ``<br>``: from the start
        and from the end."""
        kept = [k for k, p in enumerate(self.parts) if p.tag != "br"]
        at = kept.index(i)
        return at, len(kept) - at


def _comment_layout(
    text_of: Callable[[Element], str], element: Element, others: set[Element], url: str
) -> _CommentLayout:
    container, children = _comment_parts(element, others)
    parts = [p for p in children if p not in others]
    texts = [text_of(p) for p in parts]
    meta = None
    for i in reversed(range(len(parts))):
        if len(texts[i]) < 100 and _DATE_LABEL_NODE[_CREATED_LABEL].search(texts[i]):
            meta = i
            break
    if meta is None:  # no label: a part that is only a <time datetime> (in brackets)
        meta = next(
            (
                i
                for i in reversed(range(len(parts)))
                if not _letters(texts[i]) and any(t.get("datetime") for t in parts[i].iter("time"))
            ),
            None,
        )
    rest = [i for i in range(len(parts)) if i != meta]
    # Parts that may be the author part: only a link to a profile (an avatar and a name),
    # the guest label, a short name standing in an inline element of its own.
    links = []
    for i in rest:
        found = _profile_links(parts[i], url)
        shown = "".join(text_of(a) for a, _ in found)
        if len({u for _, u in found}) == 1 and texts[i].replace(" ", "") == shown.replace(" ", ""):
            links.append(i)
    labels = [i for i in rest if texts[i] == GUEST_LABEL]
    inline = [
        i for i in rest if _is_name_like(parts[i], texts[i]) and _shown_by_one_inline(parts[i])
    ]
    candidates = list(dict.fromkeys(links + labels + inline))
    return _CommentLayout(
        element,
        container,
        parts,
        texts,
        others,
        meta,
        rest,
        candidates,
        candidates[0] if len(candidates) == 1 else None,
    )


def _author_position(layouts: list[_CommentLayout]) -> tuple[int, int] | None:
    """Where the author part stands in the comments of one page, from those where only
    one part may be it: (0, position from the start) when they all agree on that, else
    (1, position from the end) when they all agree on that."""
    clear = [layout.ends(layout.clear) for layout in layouts if layout.clear is not None]
    for side in (0, 1):
        if clear and len({c[side] for c in clear}) == 1:
            return side, clear[0][side]
    return None


def _comment_fields(
    layout: _CommentLayout, url: str, comment_id: int, position: tuple[int, int] | None
) -> tuple[str | None, str | None, datetime | None, str]:
    """Author username and name, date and text of one comment.

    By structure: the meta part is the (last) part that says ``เขียนเมื่อ`` in a short line;
    the author part is the one part that may be it (a profile link alone, the guest label,
    a name in an inline element of its own); when several may, the one standing where the
    page's other comments have it, else the first of them; else a name-like part when more
    follows. Everything else is the body."""
    parts, texts, rest = layout.parts, layout.texts, layout.rest
    author = layout.clear
    if author is None and position is not None:
        side, at = position
        author = next((i for i in layout.candidates if layout.ends(i)[side] == at), None)
    if author is None and layout.candidates:
        author = min(layout.candidates)  # the site's own order: the author part first
    names = [i for i in rest if _is_name_like(parts[i], texts[i])]
    if author is None:
        author = next(
            (i for i in names if GUEST_LABEL in texts[i] and _shown_by_one_inline(parts[i])),
            None,
        )
    # Else a typed name: a name-like part, preferring one whose text stands in an inline
    # element of its own (<span>) over a short body; when more follows (other parts, even
    # an empty body, or text straight in the comment: a body written with <br>).
    if author is None and names:
        best = max(names, key=lambda i: (_shown_by_one_inline(parts[i]), -i))
        more = _has_direct_text(layout.container) or any(
            i != best and parts[i].tag != "br" for i in rest
        )
        if more:
            author = best
    meta, element, others = layout.meta, layout.element, layout.others
    username = name = None
    if author is not None:
        links = _profile_links(parts[author], url)
        if links:
            username = links[0][1]
            shown = (_visible_text(a) for a, u in links if u == username)
            name = next((t for t in shown if t), None)
        else:
            name = _visible_text(parts[author]) or None
    elif meta is not None:
        # "<name> เขียนเมื่อ ...": a meta line that names the writer.
        before = texts[meta].split(_CREATED_LABEL, 1)[0]
        before = re.sub(r"^\s*(?:เขียน)?โดย\s*", "", before).strip(" :：-–—·|")
        links = _profile_links(parts[meta], url)
        if links:
            username, name = links[0][1], _visible_text(links[0][0]) or None
        elif before:
            name = before
    created_at = None
    what, field = f"comment {comment_id}", "comments"
    if meta is not None:
        date_text = _label_value(texts[meta], _CREATED_LABEL)
        time_tag = next((t for t in parts[meta].iter("time") if t.get("datetime")), None)
        if date_text:
            created_at = _precise(_parse_date(url, date_text, what, field), time_tag, date_text)
        elif time_tag is not None:
            created_at = _parse_date(url, time_tag.get("datetime"), what, field)
    skip = {parts[i] for i in (author, meta) if i is not None} | others
    if created_at is None:
        # A <time datetime> outside the body (a body may show any date it likes).
        body_parts = [p for p in parts if p not in skip]
        time_tag = next(
            (
                t
                for t in element.iter("time")
                if t.get("datetime") and not any(_inside(t, p) for p in body_parts)
            ),
            None,
        )
        if time_tag is not None:
            created_at = _parse_date(url, time_tag.get("datetime"), what, field)
    return username, name, created_at, block_text(element, skip)


# --- comments JSON -------------------------------------------------------------------------


def _json_author_name(value: Any) -> str | None:
    """A name from the JSON as text (it may carry markup or entities)."""
    if not isinstance(value, str):
        return None
    return html_to_text(value) or None


def _json_comment(item: dict[str, Any], post_number: int, position: int, where: str) -> Comment:
    if "id" not in item:
        raise ParseError(where, "a comment without an id", field="comments")
    comment_id = int(item["id"])
    author = item.get("author") or {}
    username = author.get("username") or None
    name = _json_author_name(author.get("name"))
    created = item.get("created")
    created_at = (
        _parse_date(where, created, f"comment {comment_id}", "comments") if created else None
    )
    if "html" not in item:
        body = squash_whitespace(item.get("text") or "")
    elif username is None and name is None:
        # No author given: the HTML may hold the author part (a guest's typed name).
        root = _parse(f"<div>{item.get('html') or ''}</div>")
        element = _first(root, "div") if root is not None else None
        if root is None or element is None:
            body = ""
        elif _has_direct_text(element):
            # Text straight in the HTML: no author part of its own (a bold word is not one).
            body = block_text(element)
        else:
            layout = _comment_layout(_Reader(root).text, element, set(), where)
            username, name, shown_at, body = _comment_fields(layout, where, comment_id, None)
            created_at = created_at or shown_at
    else:
        body = html_to_text(item.get("html") or "")
    return Comment(
        comment_id=comment_id,
        post_number=post_number,
        position=position,
        author_username=username,
        author_name=name,
        created_at=created_at,
        body_text=body,
    )


def parse_comments_json(
    data: dict[str, Any] | str, post_number: int, *, first_position: int = 1
) -> CommentsPage:
    """One page of ``/posts/<n>/comments?page=<k>``. Positions start at ``first_position``
    (the crawler renumbers the whole thread once it has every page). Names and bodies are
    read as text; a comment without an author reads its author part from its HTML as the
    post page's comments are read."""
    where = f"/posts/{post_number}/comments"
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict) or not isinstance(data.get("comments"), list):
        raise ParseError(where, "no comments list in the JSON", field="comments")
    comments = [
        _json_comment(item, post_number, first_position + offset, where)
        for offset, item in enumerate(data["comments"])
    ]
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
