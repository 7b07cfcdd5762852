"""Post pages and comments pages as a site writes them after years of template changes.

With ``Site(drift=SEED)`` every post gets its own ``PostStyle``, chosen from
``(site seed, drift seed, post number)`` alone, so one post's look never depends on
another's and a seed always gives the same pages: wrapper elements and attribute order;
class names as in the site model, with an extra class, renamed or missing; paragraphs as
``<p>`` or split by ``<br><br>``; characters as numeric entities and spaces as ``&nbsp;``;
the comment's author, body and date parts in another order; guests under the label or a
typed name, in a ``<span>`` without a profile link; tags with or without ``#``, with
invisible characters and spaces around them; dates in every form of the site model (era,
full or short month, Thai digits) with a ``<time>`` after the date, around it, in UTC, or
none; inert hostile comment markup (``onerror``, ``<script>``, ``javascript:`` links).

What a reader sees never changes with the style: the ground truth is the site's data.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from replica.render import (
    CANONICAL_ORIGIN,
    FOOTER,
    LICENSE_URL,
    LOAD_MORE_LABEL,
    PAGE_SCRIPT,
    quote,
    tag_href,
)
from replica.site import (
    COMMENTS_PER_PAGE,
    GUEST_NAME,
    LICENSE_TEXT,
    Site,
    SiteComment,
    SitePost,
)
from replica.thaitext import thai_date

CLASS_NAMES: dict[str, tuple[str, str]] = {
    # role: (site-model name, another template's name)
    "title": ("post-title", "entry-title"),
    "byline": ("post-byline", "author-info"),
    "author": ("author", "user-link"),
    "book": ("book", "blog-link"),
    "body": ("post-body", "entry-content"),
    "tags": ("post-tags", "keywords"),
    "tag": ("tag", "keyword"),
    "meta": ("post-meta", "entry-info"),
    "comment-list": ("comment-list", "replies"),
    "comment": ("comment", "reply"),
    "comment-author": ("comment-author", "reply-by"),
    "comment-body": ("comment-body", "reply-text"),
    "comment-meta": ("comment-meta", "reply-when"),
    "guest": ("guest", "anonymous"),
}
CLASS_STYLES = ("model", "extra", "renamed", "none")
TIME_STYLES = ("after", "wrap", "utc", "none")
COMMENT_ORDERS = (("author", "body", "meta"), ("author", "meta", "body"))
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
# A script can find the comment list and the button in every template.
DRIFT_SCRIPT = (
    PAGE_SCRIPT.replace(
        'section.querySelector("button.load-more-comments")',
        'section.querySelector("button[data-next]")',
    )
    .replace(
        ": '<span class=\"guest\">ผู้อ่านทั่วไป</span>';",
        ": '<span>' + esc(c.author.name) + '</span>';",
    )
    .replace('li.className = "comment";', "")
    .replace(
        """    var y = +iso.slice(0, 4) + (era === "BE" ? 543 : 0);
    var text = (+iso.slice(8, 10)) + " " + MONTHS[+iso.slice(5, 7) - 1] + " " + y + " " +
      iso.slice(11, 16) + " น.";""",
        # Any offset (a drifting site's JSON may give UTC): shown in Bangkok time.
        """    var d = new Date(Date.parse(iso) + 7 * 3600000);
    var y = d.getUTCFullYear() + (era === "BE" ? 543 : 0);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var text = d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + y + " " +
      two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " น.";""",
    )
)
assert "getUTCFullYear" in DRIFT_SCRIPT


@dataclass(frozen=True)
class PostStyle:
    """One post's template: every choice is independent of every other post's."""

    wrappers: int
    shuffle_attrs: bool
    classes: str
    paragraphs: str  # "p" | "br"
    entities: bool
    nbsp: bool
    indent: str
    tag_hash: bool
    tag_invisible: bool
    tag_spaces: bool
    era: str
    short_month: bool
    thai_digits: bool
    time_style: str
    comment_order: tuple[str, ...]
    meta_in_header: bool
    guest_class: bool
    avatar: bool
    salt: int

    @classmethod
    def for_post(cls, site: Site, post: SitePost) -> PostStyle:
        rng = random.Random(f"{site.seed}:drift:{site.drift}:style:{post.post_number}")
        era = rng.choice(("CE", "BE"))
        return cls(
            wrappers=rng.choice((0, 1, 2, 3)),
            shuffle_attrs=rng.random() < 0.5,
            classes=rng.choice(CLASS_STYLES),
            paragraphs=rng.choice(("p", "br")),
            entities=rng.random() < 0.4,
            nbsp=rng.random() < 0.4,
            indent=rng.choice(("", "  ", "\t")),
            tag_hash=rng.random() < 0.5,
            tag_invisible=rng.random() < 0.4,
            tag_spaces=rng.random() < 0.4,
            era=era,
            short_month=era == "BE" and rng.random() < 0.4,  # the model's short form is BE
            thai_digits=rng.random() < 0.3,
            time_style=rng.choice(TIME_STYLES),
            comment_order=rng.choice(COMMENT_ORDERS),
            meta_in_header=rng.random() < 0.3,
            guest_class=rng.random() < 0.5,
            avatar=rng.random() < 0.5,
            salt=rng.randrange(1_000_000),
        )


class _Writer:
    """Markup in one post's style. Choices that vary inside a page (which space becomes
    ``&nbsp;``, which character an entity, attribute order) come from a counter, so the
    same post always renders the same bytes."""

    def __init__(self, style: PostStyle) -> None:
        self.s = style
        self.rng = random.Random(style.salt)

    # --- text ---------------------------------------------------------------------------

    def text(self, value: str) -> str:
        out: list[str] = []
        for ch in value:
            if ch == " " and self.s.nbsp and self.rng.random() < 0.15:
                out.append("&nbsp;")
            elif ch in "&<>\"'":
                out.append(html.escape(ch, quote=True))
            elif self.s.entities and ord(ch) > 127 and self.rng.random() < 0.08:
                out.append(f"&#{ord(ch)};" if self.rng.random() < 0.5 else f"&#x{ord(ch):X};")
            else:
                out.append(ch)
        return "".join(out)

    def attrs(self, *pairs: tuple[str, str | None]) -> str:
        items = [(k, v) for k, v in pairs if v is not None]
        if self.s.shuffle_attrs:
            self.rng.shuffle(items)
        return "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in items)

    def cls(self, role: str) -> str | None:
        model, renamed = CLASS_NAMES[role]
        style = self.s.classes
        if style == "model":
            return model
        if style == "extra":
            return f"{model} v{self.s.salt % 97}"
        if style == "renamed":
            return renamed
        return None

    def paragraphs(self, text: str, hostile: str | None = None) -> str:
        paragraphs = [p for p in re.split(r"\n[ \t\u00a0]*\n+", text) if p.strip()]
        rendered = ["<br>\n".join(self.text(line) for line in p.split("\n")) for p in paragraphs]
        if hostile == "javascript_link" and rendered:
            rendered[0] = (
                "<a href=\"javascript:document.body.insertAdjacentText('beforeend',"
                f"'INJECTED-JS')\">{rendered[0]}</a>"
            )
        if self.s.paragraphs == "p":
            out = "".join(f"<p>{p}</p>" for p in rendered)
        else:
            out = "<br>\n<br>\n".join(rendered)
        return out + hostile_markup(hostile)

    def date(self, value: datetime, label: str) -> str:
        s = self.s
        shown = thai_date(value, era=s.era, short=s.short_month, thai_digits=s.thai_digits)
        iso = value.isoformat()
        if s.time_style == "none":
            return f"{label} {shown}"
        if s.time_style == "wrap":
            return f"{label} <time{self.attrs(('datetime', iso))}>{shown}</time>"
        if s.time_style == "utc":
            iso = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return (
            f"{label} {shown} (<time{self.attrs(('class', 'timeago'), ('datetime', iso))}></time>)"
        )

    def tag(self, written: str) -> str:
        return _shown_tag(self.s, written)


def hostile_markup(kind: str | None) -> str:
    """Markup that shows nothing to a reader; run as script it would add text."""
    if kind == "img_onerror":
        return (
            '<img src="/no-such-image.png" alt="" '
            "onerror=\"this.insertAdjacentText('afterend',' INJECTED-ONERROR')\">"
        )
    if kind == "script":
        return (
            "<script>document.currentScript.insertAdjacentText('afterend',"
            "' INJECTED-SCRIPT');</script>"
        )
    if kind == "svg_onload":
        return (
            '<svg width="0" height="0" '
            "onload=\"this.insertAdjacentText('afterend',' INJECTED-SVG')\"></svg>"
        )
    if kind == "style":
        return "<style>.INJECTED-STYLE{display:none}</style>"
    return ""


def _shown_tag(style: PostStyle, written: str) -> str:
    text = written
    if style.tag_invisible:
        rng = random.Random(f"{style.salt}:{written}")
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(INVISIBLE) + text[at:]
    if style.tag_hash:
        text = "#" + text
    return text


def shown_tags(site: Site, post: SitePost) -> list[str]:
    """The tags' link texts on the post's page (before whitespace around them)."""
    style = PostStyle.for_post(site, post)
    return [_shown_tag(style, t) for t in post.tags]


def _comment_li(w: _Writer, c: SiteComment) -> str:
    i = w.s.indent
    if c.author_username:
        avatar = (
            f"<img{w.attrs(('class', 'avatar'), ('src', '/avatars/' + quote(c.author_username) + '.jpg'), ('alt', ''))}> "
            if w.s.avatar
            else ""
        )
        who = (
            f"<a{w.attrs(('href', '/profiles/users/' + quote(c.author_username, safe='')))}>"
            f"{avatar}{w.text(c.author_name)}</a>"
        )
    else:
        guest = c.author_name == GUEST_NAME
        who = f"<span{w.attrs(('class', w.cls('guest') if guest and w.s.guest_class else None))}>"
        who += f"{w.text(c.author_name)}</span>"
    parts = {
        "author": f"<div{w.attrs(('class', w.cls('comment-author')))}>{who}</div>",
        "body": f"<div{w.attrs(('class', w.cls('comment-body')))}>{w.paragraphs(c.body_text, c.hostile)}</div>",
        "meta": f"<div{w.attrs(('class', w.cls('comment-meta')))}>{w.date(c.created_at, 'เขียนเมื่อ')}</div>",
    }
    inner = "".join(f"{i}{i}{parts[name]}\n" for name in w.s.comment_order)
    return f"{i}<li{w.attrs(('class', w.cls('comment')), ('id', f'comment-{c.comment_id}'))}>\n{inner}{i}</li>\n"


def _number_line(n: int, variant: int) -> str:
    if variant == 0:
        return f"หมายเลขบันทึก: {n}"
    if variant == 1:
        return f"หมายเลขบันทึก:&nbsp;{n}"
    return f'<span class="label">หมายเลขบันทึก:</span> <strong>{n}</strong>'


def render_post(site: Site, post: SitePost) -> str:
    style = PostStyle.for_post(site, post)
    w = _Writer(style)
    n = post.post_number
    i = style.indent
    meta = [
        f"<span>{_number_line(n, style.salt % 3)}</span>",
        f"<span{w.attrs(('class', 'created' if style.classes != 'none' else None))}>"
        f"{w.date(post.created_at, 'เขียนเมื่อ')}</span>",
    ]
    if post.updated_at is not None:
        meta.append(
            f"<span{w.attrs(('class', 'updated' if style.classes != 'none' else None))}>"
            f"{w.date(post.updated_at, 'แก้ไขเมื่อ')}</span>"
        )
    if post.has_license:
        meta.append(
            f"<span>สัญญาอนุญาต: <a{w.attrs(('rel', 'license'), ('href', LICENSE_URL))}>"
            f"{w.text(LICENSE_TEXT)}</a></span>"
        )
    meta.append(
        f'<span>จำนวนที่อ่าน<span class="view-count" data-src="/posts/{n}/views"></span></span>'
    )
    meta_html = (
        f"{i}<div{w.attrs(('class', w.cls('meta')))}>\n"
        + "".join(f"{i}{i}{m}\n" for m in meta)
        + f"{i}</div>\n"
    )
    avatar = (
        f'<img class="avatar" src="/avatars/{quote(post.author_username)}.jpg" alt=""> '
        if style.avatar
        else ""
    )
    author_link = (
        f"<a{w.attrs(('class', w.cls('author')), ('href', '/profiles/users/' + quote(post.author_username, safe='')))}>"
        f"{avatar}{w.text(post.author_name)}</a>"
    )
    book_link = (
        f"<a{w.attrs(('class', w.cls('book')), ('href', '/blogs/books/' + quote(post.book_slug, safe='')))}>"
        f"{w.text(post.book_title)}</a>"
    )
    header = (
        f"{i}<header>\n"
        f"{i}{i}<h1{w.attrs(('class', w.cls('title')))}>{w.text(post.title)}</h1>\n"
        f"{i}{i}<div{w.attrs(('class', w.cls('byline')))}>{author_link}\n{i}{i}ใน {book_link}</div>\n"
        + (meta_html if style.meta_in_header else "")
        + f"{i}</header>\n"
    )
    pad = " \n " if style.tag_spaces else ""
    tags = "".join(
        f"{i}{i}<a{w.attrs(('class', w.cls('tag')), ('href', tag_href(t)))}>"
        f"{pad}{w.text(w.tag(t))}{pad}</a>\n"
        for t in post.tags
    )
    body = site.body_text(n)
    article = (
        f"<article{w.attrs(('class', 'post' if style.classes != 'none' else None), ('id', f'post-{n}'))}>\n"
        + header
        + f"{i}<div{w.attrs(('class', w.cls('body')))}>\n{w.paragraphs(body)}\n{i}</div>\n"
        + f"{i}<div{w.attrs(('class', w.cls('tags')))}>คำสำคัญ (Tags):\n{tags}{i}</div>\n"
        + ("" if style.meta_in_header else meta_html)
        + "</article>\n"
    )
    comments = site.comments(n)
    items = "".join(_comment_li(w, c) for c in comments[:COMMENTS_PER_PAGE])
    button = ""
    if len(comments) > COMMENTS_PER_PAGE:
        button = (
            f"<button{w.attrs(('type', 'button'), ('class', 'load-more-comments' if style.classes != 'none' else None), ('data-next', f'/posts/{n}/comments?page=2'))}>"
            f"{LOAD_MORE_LABEL}</button>\n"
        )
    section = (
        f"<section{w.attrs(('class', 'comments'), ('id', 'comments'), ('data-post-id', str(n)), ('data-total', str(post.n_comments)), ('data-era', style.era), ('data-digits', 'thai' if style.thai_digits else 'arabic'))}>\n"
        f"<h2>ความเห็น ({post.n_comments})</h2>\n"
        f"<ol{w.attrs(('class', w.cls('comment-list')))}>\n{items}</ol>\n{button}</section>\n"
    )
    content = article + section
    for depth in range(style.wrappers):
        tag = ("div", "section", "div")[depth]
        content = (
            f"<{tag}{w.attrs(('class', f'layout-{style.salt % 7}-{depth}'))}>\n{content}</{tag}>\n"
        )
    return (
        '<!DOCTYPE html>\n<html lang="th">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(post.title)} - GotoKnow</title>\n"
        f'<link rel="canonical" href="{CANONICAL_ORIGIN}/posts/{n}">\n'
        f"<meta{w.attrs(('property', 'og:title'), ('content', post.title))}>\n"
        "</head>\n<body>\n"
        '<nav class="navbar"><a class="brand" href="/">GotoKnow</a> <a href="/login">เข้าสู่ระบบ</a></nav>\n'
        f"<main>\n{content}</main>\n<footer>{FOOTER}</footer>\n"
        f"<script>{DRIFT_SCRIPT}</script>\n</body>\n</html>\n"
    )


def comments_page(site: Site, post: SitePost, page: int) -> dict[str, Any]:
    """``/posts/<n>/comments?page=<page>`` in the post's style (the JSON keys never drift)."""
    style = PostStyle.for_post(site, post)
    w = _Writer(style)
    comments = site.comments(post.post_number)
    start = (page - 1) * COMMENTS_PER_PAGE
    chunk = comments[start : start + COMMENTS_PER_PAGE] if start >= 0 else []
    has_next = start + COMMENTS_PER_PAGE < len(comments)

    def created(value: datetime) -> str:
        if style.time_style == "utc":
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return value.isoformat()

    return {
        "post_id": post.post_number,
        "page": page,
        "total": post.n_comments,
        "next": f"/posts/{post.post_number}/comments?page={page + 1}" if has_next else None,
        "comments": [
            {
                "id": c.comment_id,
                "author": {"name": c.author_name, "username": c.author_username},
                "created": created(c.created_at),
                "html": w.paragraphs(c.body_text, c.hostile),
            }
            for c in chunk
        ],
    }


def render_comments_json(site: Site, post: SitePost, page: int) -> str:
    return json.dumps(comments_page(site, post, page), ensure_ascii=False)
