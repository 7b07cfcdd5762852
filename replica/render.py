"""HTML and JSON for the replica: the URLs and contract of docs/replica.md.

Markup varies from page to page, deterministically (seeded by site seed, page and
revision): wrapper divs, indentation, entities (``&nbsp;``, ``&quot;`` or ``&#34;``),
attribute order, a few class names, optional lines (แก้ไขเมื่อ only when edited, the
license only when the post has one, an avatar), and where the meta line sits. The Thai
labels, URL patterns and semantic structure never change, so a parser must rely on them.
All text is escaped; spam bodies may hold ``<script>`` as text.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote as _quote

from replica.site import (
    COMMENTS_PER_PAGE,
    LICENSE_TEXT,
    LISTING_PAGE_SIZE,
    Site,
    SiteComment,
    SitePost,
)
from replica.thaitext import TO_THAI_DIGITS
from replica.thaitext import thai_date as _format_date

CANONICAL_ORIGIN = "https://www.gotoknow.org"
LICENSE_URL = "https://creativecommons.org/licenses/by-nc-nd/3.0/th/"
GUEST_LABEL = "ผู้อ่านทั่วไป"
LOAD_MORE_LABEL = "ดูความเห็นเพิ่มเติม"
FOOTER = "พบปัญหาการใช้งานกรุณาแจ้ง LINE ID @gotoknow"


@lru_cache(maxsize=262_144)
def quote(text: str, safe: str = "/") -> str:
    return _quote(text, safe=safe)


_TO_THAI_DIGITS = TO_THAI_DIGITS
_URL = re.compile(r"https?://[^\s<>\"']+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n+")

ROBOTS_TXT = "User-agent: *\nAllow: /posts\nDisallow: /__admin/\nDisallow: /login\n"


@dataclass(frozen=True)
class Variant:
    """One page's markup choices."""

    wrappers: int
    indent: str
    nbsp_entity: bool
    quote_entity: str
    attr_swap: bool
    title_class: str
    body_class: str
    byline_class: str
    meta_class: str
    avatar: bool
    meta_in_header: bool
    number_markup: int
    extra_li_class: bool
    thai_digits_listing: bool

    @classmethod
    def for_page(cls, seed: int, *key: object) -> Variant:
        rng = random.Random(":".join(str(p) for p in (seed, "variant", *key)))
        return cls(
            wrappers=rng.choice((0, 0, 1, 2)),
            indent=rng.choice(("  ", "", "\t", "    ")),
            nbsp_entity=rng.random() < 0.5,
            quote_entity=rng.choice(("&quot;", "&#34;")),
            attr_swap=rng.random() < 0.5,
            title_class=rng.choice(("post-title", "post-title entry-title", "title post-title")),
            body_class=rng.choice(("post-body", "post-body entry-content", "post-body content")),
            byline_class=rng.choice(("post-byline", "post-byline byline", "post-byline meta")),
            meta_class=rng.choice(("post-meta", "post-meta info", "post-meta small")),
            avatar=rng.random() < 0.6,
            meta_in_header=rng.random() < 0.25,
            number_markup=rng.randrange(3),
            extra_li_class=rng.random() < 0.5,
            thai_digits_listing=rng.random() < 0.3,
        )


PLAIN = Variant(0, "", False, "&quot;", False, "", "", "", "", False, False, 0, False, False)


def esc(text: str, v: Variant = PLAIN) -> str:
    out = html.escape(text, quote=True)
    if v.quote_entity != "&quot;":
        out = out.replace("&quot;", v.quote_entity)
    if v.nbsp_entity:
        out = out.replace("\u00a0", "&nbsp;")
    return out


def attrs(v: Variant, *pairs: tuple[str, str]) -> str:
    """Attributes in a page-dependent order, values escaped."""
    items = list(reversed(pairs)) if v.attr_swap else list(pairs)
    return "".join(f' {k}="{html.escape(val, quote=True)}"' for k, val in items)


@lru_cache(maxsize=262_144)
def thai_date(value: datetime, era: str, thai_digits: bool, *, short: bool = False) -> str:
    return _format_date(value, era=era, short=short, with_time=not short, thai_digits=thai_digits)


def _line_html(line: str, v: Variant) -> str:
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(line):
        parts.append(esc(line[last : match.start()], v))
        url = match.group(0)
        parts.append(f'<a href="{html.escape(url, quote=True)}" rel="nofollow">{esc(url, v)}</a>')
        last = match.end()
    parts.append(esc(line[last:], v))
    return "".join(parts)


def text_to_html(text: str, v: Variant = PLAIN) -> str:
    """Paragraphs (blank-line separated) as ``<p>``; single newlines as ``<br>``."""
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
    return "".join(
        "<p>" + "<br>\n".join(_line_html(line, v) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def tag_href(tag: str) -> str:
    return "/posts?tag=" + quote(tag, safe="")


def listing_href(tag: str | None, page: int) -> str:
    if tag is None:
        return f"/posts?page={page}"
    return f"{tag_href(tag)}&page={page}"


# --- the page's own script ------------------------------------------------------------------

PAGE_SCRIPT = """
(function () {
  var MONTHS = ["มกราคม","กุมภาพันธ์","มีนาคม","เมษายน","พฤษภาคม","มิถุนายน","กรกฎาคม",
    "สิงหาคม","กันยายน","ตุลาคม","พฤศจิกายน","ธันวาคม"];
  var DIGITS = "๐๑๒๓๔๕๖๗๘๙";
  var section = document.getElementById("comments");
  var era = section ? section.getAttribute("data-era") : "CE";
  var thai = section ? section.getAttribute("data-digits") === "thai" : false;
  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }
  function digits(s) {
    return thai ? s.replace(/[0-9]/g, function (d) { return DIGITS.charAt(+d); }) : s;
  }
  function formatDate(iso) {
    var y = +iso.slice(0, 4) + (era === "BE" ? 543 : 0);
    var text = (+iso.slice(8, 10)) + " " + MONTHS[+iso.slice(5, 7) - 1] + " " + y + " " +
      iso.slice(11, 16) + " น.";
    return digits(text);
  }
  function relative(iso) {
    var days = Math.floor((Date.now() - Date.parse(iso)) / 86400000);
    if (days >= 365) return Math.floor(days / 365) + " ปีที่แล้ว";
    if (days >= 30) return Math.floor(days / 30) + " เดือนที่แล้ว";
    return Math.max(days, 0) + " วันที่แล้ว";
  }
  function fillTimes(root) {
    var times = root.querySelectorAll("time.timeago");
    for (var i = 0; i < times.length; i++) {
      if (!times[i].textContent) times[i].textContent = relative(times[i].getAttribute("datetime"));
    }
  }
  function buildComment(c) {
    var li = document.createElement("li");
    li.className = "comment";
    li.id = "comment-" + c.id;
    var who = c.author && c.author.username
      ? '<a href="/profiles/users/' + encodeURIComponent(c.author.username) + '">' +
        esc(c.author.name) + "</a>"
      : '<span class="guest">ผู้อ่านทั่วไป</span>';
    li.innerHTML = '<div class="comment-author">' + who + "</div>" +
      '<div class="comment-body">' + c.html + "</div>" +
      '<div class="comment-meta">เขียนเมื่อ ' + esc(formatDate(c.created)) +
      ' (<time class="timeago" datetime="' + esc(c.created) + '"></time>)</div>';
    return li;
  }
  fillTimes(document);
  var views = document.querySelector(".view-count[data-src]");
  if (views) {
    fetch(views.getAttribute("data-src")).then(function (r) { return r.json(); })
      .then(function (d) { views.textContent = " " + d.views; }).catch(function () {});
  }
  var button = section ? section.querySelector("button.load-more-comments") : null;
  var list = section ? section.querySelector("ol") : null;
  if (!button || !list) return;
  button.addEventListener("click", function () {
    if (button.disabled) return;
    button.disabled = true;
    fetch(button.getAttribute("data-next"), {headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        for (var i = 0; i < data.comments.length; i++) {
          var li = buildComment(data.comments[i]);
          list.appendChild(li);
          fillTimes(li);
        }
        if (data.next) {
          button.setAttribute("data-next", data.next);
          button.disabled = false;
        } else {
          button.parentNode.removeChild(button);
        }
      })
      .catch(function () { button.disabled = false; });
  });
})();
"""


# --- post page ------------------------------------------------------------------------------


def comment_li(c: SiteComment, era: str, thai_digits: bool, v: Variant = PLAIN) -> str:
    if c.author_username:
        who = (
            f"<a{attrs(v, ('href', '/profiles/users/' + quote(c.author_username, safe='')))}>"
            f"{esc(c.author_name, v)}</a>"
        )
    else:
        who = f'<span class="guest">{GUEST_LABEL}</span>'
    cls = "comment comment-item" if v.extra_li_class else "comment"
    iso = c.created_at.isoformat()
    i = v.indent
    return (
        f'{i}<li class="{cls}" id="comment-{c.comment_id}">\n'
        f'{i}{i}<div class="comment-author">{who}</div>\n'
        f'{i}{i}<div class="comment-body">{text_to_html(c.body_text, v)}</div>\n'
        f'{i}{i}<div class="comment-meta">เขียนเมื่อ {thai_date(c.created_at, era, thai_digits)}'
        f' (<time class="timeago" datetime="{iso}"></time>)</div>\n'
        f"{i}</li>\n"
    )


def _number_line(n: int, v: Variant) -> str:
    if v.number_markup == 0:
        return f'<span class="post-number">หมายเลขบันทึก: {n}</span>'
    if v.number_markup == 1:
        return f'<span class="post-number">หมายเลขบันทึก:&nbsp;{n}</span>'
    return f'<span class="post-number"><span class="label">หมายเลขบันทึก:</span> <strong>{n}</strong></span>'


def render_post(site: Site, post: SitePost) -> str:
    if site.drift is not None:
        from replica import drift

        return drift.render_post(site, post)
    v = Variant.for_page(site.seed, "post", post.post_number, post.revision)
    n = post.post_number
    i = v.indent
    era, digits = post.era, post.thai_digits
    title = esc(post.title, v)
    body = site.body_text(n)
    comments = site.comments(n)
    meta = [
        _number_line(n, v),
        f'<span class="created">เขียนเมื่อ {thai_date(post.created_at, era, digits)} '
        f'(<time class="timeago" datetime="{post.created_at.isoformat()}"></time>)</span>',
    ]
    if post.updated_at is not None:
        meta.append(
            f'<span class="updated">แก้ไขเมื่อ {thai_date(post.updated_at, era, digits)} '
            f'(<time class="timeago" datetime="{post.updated_at.isoformat()}"></time>)</span>'
        )
    if post.has_license:
        meta.append(
            f'<span class="license">สัญญาอนุญาต: <a{attrs(v, ("rel", "license"), ("href", LICENSE_URL))}>'
            f"{LICENSE_TEXT}</a></span>"
        )
    meta.append(
        f'<span class="views">จำนวนที่อ่าน<span class="view-count" data-src="/posts/{n}/views"></span></span>'
    )
    meta_html = (
        f'{i}<div class="{v.meta_class}">\n'
        + "".join(f"{i}{i}{m}\n" for m in meta)
        + f"{i}</div>\n"
    )
    avatar = (
        f'<img class="avatar" src="/avatars/{quote(post.author_username)}.jpg" alt=""> '
        if v.avatar
        else ""
    )
    author_link = (
        f"<a{attrs(v, ('class', 'author'), ('href', '/profiles/users/' + quote(post.author_username, safe='')))}>"
        f"{avatar}{esc(post.author_name, v)}</a>"
    )
    book_link = (
        f"<a{attrs(v, ('class', 'book'), ('href', '/blogs/books/' + quote(post.book_slug, safe='')))}>"
        f"{esc(post.book_title, v)}</a>"
    )
    header = (
        f'{i}<header class="post-header">\n'
        f'{i}{i}<h1 class="{v.title_class}">{title}</h1>\n'
        f'{i}{i}<div class="{v.byline_class}">{author_link}\n{i}{i}ใน {book_link}</div>\n'
        + (meta_html if v.meta_in_header else "")
        + f"{i}</header>\n"
    )
    tags = "".join(
        f"{i}{i}<a{attrs(v, ('class', 'tag'), ('href', tag_href(t)))}>{esc(t, v)}</a>\n"
        for t in post.raw_tags
    )
    article = (
        f'<article class="post" id="post-{n}">\n'
        + header
        + f'{i}<div class="{v.body_class}">\n{text_to_html(body, v)}\n{i}</div>\n'
        + f'{i}<div class="post-tags">คำสำคัญ (Tags):\n{tags}{i}</div>\n'
        + ("" if v.meta_in_header else meta_html)
        + "</article>\n"
    )
    first = comments[:COMMENTS_PER_PAGE]
    items = "".join(comment_li(c, era, digits, v) for c in first)
    button = ""
    if len(comments) > COMMENTS_PER_PAGE:
        button = (
            f"<button{attrs(v, ('type', 'button'), ('class', 'load-more-comments'), ('data-next', f'/posts/{n}/comments?page=2'))}>"
            f"{LOAD_MORE_LABEL}</button>\n"
        )
    section = (
        f'<section class="comments" id="comments" data-post-id="{n}" data-total="{post.n_comments}"'
        f' data-era="{era}" data-digits="{"thai" if digits else "arabic"}">\n'
        f"<h2>ความเห็น ({post.n_comments})</h2>\n"
        f'<ol class="comment-list">\n{items}</ol>\n{button}</section>\n'
    )
    content = article + section
    for depth in range(v.wrappers):
        content = f'<div class="wrap-{depth}">\n{content}</div>\n'
    plain_title = esc(post.title)
    return (
        '<!DOCTYPE html>\n<html lang="th">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{plain_title} - GotoKnow</title>\n"
        f'<link rel="canonical" href="{CANONICAL_ORIGIN}/posts/{n}">\n'
        f"<meta{attrs(v, ('property', 'og:title'), ('content', post.title))}>\n"
        '<meta property="og:type" content="article">\n</head>\n<body>\n'
        '<nav class="navbar"><a class="brand" href="/">GotoKnow</a> <a href="/login">เข้าสู่ระบบ</a></nav>\n'
        f'<main class="container">\n{content}</main>\n<footer>{FOOTER}</footer>\n'
        f"<script>{PAGE_SCRIPT}</script>\n</body>\n</html>\n"
    )


def comments_page(site: Site, post: SitePost, page: int) -> dict[str, Any]:
    """One page of ``/posts/<n>/comments?page=<page>`` (10 a page; page 1 = the embedded)."""
    comments = site.comments(post.post_number)
    start = (page - 1) * COMMENTS_PER_PAGE
    chunk = comments[start : start + COMMENTS_PER_PAGE] if start >= 0 else []
    has_next = start + COMMENTS_PER_PAGE < len(comments)
    return {
        "post_id": post.post_number,
        "page": page,
        "total": post.n_comments,
        "next": f"/posts/{post.post_number}/comments?page={page + 1}" if has_next else None,
        "comments": [
            {
                "id": c.comment_id,
                "author": {"name": c.author_name, "username": c.author_username},
                "created": c.created_at.isoformat(),
                "html": text_to_html(c.body_text),
            }
            for c in chunk
        ],
    }


def render_comments_json(site: Site, post: SitePost, page: int) -> str:
    if site.drift is not None:
        from replica import drift

        return drift.render_comments_json(site, post, page)
    return json.dumps(comments_page(site, post, page), ensure_ascii=False)


# --- listing --------------------------------------------------------------------------------


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 90 else flat[:90] + "…"


def render_listing(site: Site, tag: str | None, page: int) -> str:
    numbers = site.listing(tag)
    v = Variant.for_page(site.seed, "listing", tag, page, site.generation)
    i = v.indent
    total = len(numbers)
    chunk = numbers[(page - 1) * LISTING_PAGE_SIZE : page * LISTING_PAGE_SIZE]
    items: list[str] = []
    for num in chunk:
        post = site.posts[num]
        date = thai_date(post.created_at, "BE", v.thai_digits_listing, short=True)
        count = str(post.n_comments)
        if v.thai_digits_listing:
            count = count.translate(_TO_THAI_DIGITS)
        author = (
            f"<a{attrs(v, ('class', 'author'), ('href', '/profiles/users/' + quote(post.author_username, safe='')))}>"
            f"{esc(post.author_name, v)}</a>"
        )
        items.append(
            f'{i}<div class="post-item" data-post-id="{num}">\n'
            f'{i}{i}<h3 class="post-item-title"><a href="/posts/{num}">{esc(post.title, v)}</a></h3>\n'
            f'{i}{i}<div class="post-item-meta">\n{i}{i}{i}{author}\n'
            f'{i}{i}{i}· <span class="date">{date}</span>\n'
            f'{i}{i}{i}· <span class="comment-count">ความเห็น {count}</span>\n{i}{i}</div>\n'
            f'{i}{i}<p class="excerpt">{esc(_excerpt(site.body_text(num)), v)}</p>\n'
            f"{i}</div>\n"
        )
    pager: list[str] = []
    if page > 1:
        pager.append(
            f'<li><a rel="prev" href="{html.escape(listing_href(tag, page - 1))}">« ใหม่กว่า</a></li>'
        )
    pager.append(f'<li class="active"><span>{page}</span></li>')
    if page * LISTING_PAGE_SIZE < total:
        pager.append(
            f'<li><a rel="next" href="{html.escape(listing_href(tag, page + 1))}">เก่ากว่า »</a></li>'
        )
    shown_tag = tag if tag is not None else ""
    heading = (
        f'บันทึกที่มีคำสำคัญ <span class="tag-name">{esc(shown_tag, v)}</span>'
        if tag is not None
        else "บันทึกล่าสุด"
    )
    count_text = str(total).translate(_TO_THAI_DIGITS) if v.thai_digits_listing else str(total)
    content = (
        f"<h1>{heading}</h1>\n"
        f'<p class="result-count">พบ {count_text} บันทึก</p>\n'
        f'<div class="post-list">\n{"".join(items)}</div>\n'
        f'<ul class="pagination">\n{"".join(pager)}\n</ul>\n'
    )
    for depth in range(v.wrappers):
        content = f'<div class="wrap-{depth}">\n{content}</div>\n'
    canonical = CANONICAL_ORIGIN + (tag_href(tag) if tag is not None else "/posts")
    title = f"บันทึกที่มีคำสำคัญ {esc(shown_tag)}" if tag is not None else "บันทึกล่าสุด"
    return (
        '<!DOCTYPE html>\n<html lang="th">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title} - GotoKnow</title>\n"
        f'<link rel="canonical" href="{html.escape(canonical)}">\n</head>\n<body>\n'
        '<nav class="navbar"><a class="brand" href="/">GotoKnow</a> <a href="/login">เข้าสู่ระบบ</a></nav>\n'
        f'<main class="container">\n{content}</main>\n<footer>{FOOTER}</footer>\n</body>\n</html>\n'
    )


# --- small pages ----------------------------------------------------------------------------

NOT_FOUND_HTML = (
    '<!DOCTYPE html>\n<html lang="th">\n<head><meta charset="utf-8"><title>ไม่พบบันทึก - GotoKnow</title></head>\n'
    '<body>\n  <main class="container">\n    <h1>ไม่พบบันทึกที่ต้องการ</h1>\n'
    "    <p>บันทึกนี้อาจถูกลบ หรือเจ้าของบันทึกจำกัดสิทธิ์การเข้าถึง</p>\n  </main>\n</body>\n</html>\n"
)

LOGIN_HTML = (
    '<!DOCTYPE html>\n<html lang="th">\n<head><meta charset="utf-8"><title>เข้าสู่ระบบ - GotoKnow</title></head>\n'
    '<body>\n<main class="container">\n<h1>เข้าสู่ระบบ</h1>\n'
    '<form method="post" action="/login"><input name="login" placeholder="ชื่อผู้ใช้">'
    '<input name="password" type="password"><button type="submit">เข้าสู่ระบบ</button></form>\n'
    "</main>\n</body>\n</html>\n"
)


def render_simple(title: str, heading: str, body_html: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="th">\n<head><meta charset="utf-8">'
        f"<title>{esc(title)} - GotoKnow</title></head>\n<body>\n"
        '<nav class="navbar"><a class="brand" href="/">GotoKnow</a> <a href="/login">เข้าสู่ระบบ</a></nav>\n'
        f'<main class="container">\n<h1>{esc(heading)}</h1>\n{body_html}\n</main>\n</body>\n</html>\n'
    )


def render_home(site: Site) -> str:
    link = f'<p><a href="{html.escape(tag_href(site.keyword))}&amp;page=1">#{esc(site.keyword)}</a></p>'
    return render_simple("GotoKnow", "GotoKnow (replica)", link)


def render_profile(site: Site, username: str) -> str | None:
    with site.lock:
        for post in site.posts.values():
            if post.author_username == username:
                return render_simple(post.author_name, post.author_name, f"<p>@{esc(username)}</p>")
    return None


def render_book(site: Site, slug: str) -> str | None:
    with site.lock:
        for post in site.posts.values():
            if post.book_slug == slug:
                return render_simple(post.book_title, post.book_title, "")
    return None
