"""The replica's data: a deterministic GotoKnow-like site built from ``(n_posts, seed)``.

Only ``random.Random`` instances seeded from strings derived from the site seed are used,
so the same ``(n_posts, seed)`` always gives the same posts, comments and pages. Post
skeletons (number, author, dates, tags, comment count) are built eagerly; bodies and
comments are generated lazily per post from their own seed, so 100k posts build quickly.

Ground truth (``Site.ground_truth()``) is computed from the current data, so mutations
(``add_post``, ``add_comments``, ``edit_post``, ``delete_post``, ``make_private``) keep it
exact. Labels other than ``deleted`` / ``private`` name only public posts.

With ``drift`` (a second seed) the data also drifts the way a real site's does (typed
guest names, tags typed in another case, inert hostile comment markup, pages that fail
once) and pages are written by ``replica/drift.py``; the same ``(n_posts, seed, drift)``
always gives the same site. Nothing here imports the product (``warehouse.thai``,
``scraper``): the ground truth must not share its code.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from replica import textbank as tb
from replica.thaitext import BANGKOK, compact, tag_key, written_tag
from warehouse.errors import UserError

KEYWORD = tb.KEYWORD
NEAR_MISS_TAG = tb.NEAR_MISS_TAG
ANNOUNCEMENT_POST = 544804
# The first post after the announcement always has exactly 57 comments (browser test).
SHOWCASE_POST = 545000
SHOWCASE_COMMENTS = 57
COMMENTS_PER_PAGE = 10
LISTING_PAGE_SIZE = 20
OPENS = datetime(2013, 8, 6, 0, 0, 0, tzinfo=BANGKOK)
CLOSES = datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)
AFTER_CLOSE = datetime(2013, 9, 1, 0, 0, 0, tzinfo=BANGKOK)  # pages show minutes only
EXCLUDED_AUTHORS = ("jantawan", "ega.officer", "ega.km")
LICENSE_TEXT = "ครีเอทีฟคอมมอนส์แบบ แสดงที่มา-ไม่ใช้เพื่อการค้า-ไม่ดัดแปลง"
GUEST_NAME = "ผู้อ่านทั่วไป"
DUPLICATE_KINDS = ("exact", "cross_account", "near", "reordered", "zero_width")
ZERO_WIDTH_SPACE = "\u200b"
SAMPLE_PATH = Path(__file__).resolve().parent / "data" / "announcement-544804.json"


@dataclass(slots=True)
class SiteComment:
    comment_id: int
    author_username: str | None  # None for guests
    author_name: str
    created_at: datetime
    body_text: str
    hostile: str | None = None  # kind of inert hostile markup its HTML carries (drift)


@dataclass(slots=True)
class SitePost:
    post_number: int
    title: str
    author_username: str
    author_name: str
    book_slug: str
    book_title: str
    created_at: datetime
    updated_at: datetime | None
    raw_tags: tuple[str, ...]
    state: str  # "public" | "deleted" | "private"
    n_comments: int
    era: str  # "CE" | "BE": how dates are written on the post page
    thai_digits: bool  # dates on the post page in Thai digits
    has_license: bool
    views: int
    n_paragraphs: int
    role: str  # normal, showcase, spam, copy, organiser, near_miss, announcement, added ...
    index: int  # generation index (seeds the lazy body and comments); -1 when not generated
    stale_listed: bool = False  # planted deleted/private: still on the (stale) listing
    revision: int = 0  # bumped on every change; part of render cache keys
    body_override: str | None = None
    comments_override: list[SiteComment] | None = None
    duplicate_of: tuple[int, str] | None = None  # (original, kind) for planted copies
    modified_at: float = 0.0  # wall-clock seconds of the last change (Last-Modified)

    @property
    def tags(self) -> tuple[str, ...]:
        """The tags as the author wrote them (what the warehouse must store)."""
        return tuple(dict.fromkeys(t for t in (written_tag(r) for r in self.raw_tags) if t))

    @property
    def tag_keys(self) -> tuple[str, ...]:
        """The tags as the site matches them with a listing's keyword."""
        return tuple(dict.fromkeys(tag_key(t) for t in self.tags))

    def carries(self, keyword_key: str) -> bool:
        return keyword_key in self.tag_keys


@dataclass(frozen=True)
class Member:
    username: str
    name: str
    book_slug: str
    book_title: str


@dataclass
class _Plan:
    """How many of each planted case a site of n posts gets."""

    early: int
    late: int
    duplicates: int
    spam: int
    organiser: int
    deleted: int
    private: int
    near_miss: int
    tag_variant: int
    edited_after_close: int
    multi_authors: int


def _plan(n: int) -> _Plan:
    def count(rate: float, minimum: int) -> int:
        return max(round(rate * n), min(minimum, n // 20))

    return _Plan(
        early=count(0.012, 3),
        late=count(0.012, 3),
        duplicates=count(0.05, 15),
        spam=count(0.05, 15),
        organiser=count(0.008, 2),
        deleted=count(0.01, 3),
        private=count(0.01, 3),
        near_miss=count(0.015, 4),
        tag_variant=count(0.015, 4),
        edited_after_close=count(0.01, 3),
        multi_authors=count(0.012, 3),
    )


@dataclass
class _Times:
    """Created times: early ones before the window, late ones after it, the rest inside."""

    early: list[datetime]
    window: list[datetime]
    late: list[datetime]


def _created_times(rng: random.Random, plan: _Plan, n: int) -> _Times:
    n_window = n - plan.early - plan.late
    early_times = sorted(
        OPENS - timedelta(minutes=rng.randint(1, 16 * 24 * 60)) for _ in range(plan.early)
    )
    if early_times:
        early_times[-1] = OPENS - timedelta(minutes=1)  # 5 Aug 23:59: just too early
    start = datetime(2013, 8, 6, 15, 5, tzinfo=BANGKOK)
    span_min = int((CLOSES - start).total_seconds() // 60)
    window_times = sorted(
        start + timedelta(minutes=rng.randint(1, span_min - 1)) for _ in range(n_window)
    )
    if window_times:
        window_times[0] = start  # the showcase post
    if len(window_times) > 2:
        window_times[-1] = datetime(2013, 8, 31, 23, 59, 0, tzinfo=BANGKOK)  # just in time
    late_times = sorted(
        AFTER_CLOSE + timedelta(minutes=rng.randint(2, 20 * 24 * 60)) for _ in range(plan.late)
    )
    if late_times:
        late_times[0] = AFTER_CLOSE  # 1 Sep 00:00: just too late
    return _Times(early_times, window_times, late_times)


def _numbered_slots(rng: random.Random, times: _Times) -> list[tuple[int, datetime, str]]:
    """(number, created, base role) for every generated post. Numbers ascend with time:
    early posts just below the announcement, the rest from SHOWCASE_POST upwards with small
    gaps (other members' untagged posts)."""
    early_numbers: list[int] = []
    number = ANNOUNCEMENT_POST - rng.randint(3, 12)
    for _ in times.early:
        early_numbers.append(number)
        number -= rng.randint(1, 9)
    early_numbers.reverse()
    n_window = len(times.window)
    later_numbers: list[int] = []
    number = SHOWCASE_POST
    for _ in range(n_window + len(times.late)):
        later_numbers.append(number)
        number += rng.randint(1, 4)
    slots: list[tuple[int, datetime, str]] = []
    slots += [(num, t, "early") for num, t in zip(early_numbers, times.early, strict=True)]
    slots += [
        (num, t, "normal") for num, t in zip(later_numbers[:n_window], times.window, strict=True)
    ]
    slots += [(num, t, "late") for num, t in zip(later_numbers[n_window:], times.late, strict=True)]
    return slots


@dataclass
class _Layout:
    """Roles of the window posts (by index in the window; 0 is the showcase post)."""

    roles: list[str]
    originals: dict[int, int]  # copy index -> original index
    tag_variant: set[int]
    edited_late: set[int]


def _assign_roles(rng: random.Random, plan: _Plan, n_window: int) -> _Layout:
    roles = ["normal"] * n_window
    if n_window:
        roles[0] = "showcase"
    free = list(range(1, n_window))
    rng.shuffle(free)

    def take(count: int, role: str) -> None:
        for i in free[:count]:
            roles[i] = role
        del free[:count]

    # Copies come from the later 60% so an earlier original always exists.
    later_half = [i for i in free if i >= n_window * 0.4]
    copies = sorted(later_half[: plan.duplicates])
    copy_set = set(copies)
    free = [i for i in free if i not in copy_set]
    for i in copies:
        roles[i] = "copy"
    take(plan.spam, "spam")
    take(plan.organiser, "organiser")
    take(plan.deleted, "deleted")
    take(plan.private, "private")
    take(plan.near_miss, "near_miss")
    free.sort()
    originals: dict[int, int] = {}
    used_originals: set[int] = set()
    for i in copies:
        j = _pick_earlier(rng, free, i, used_originals)
        if j is None:
            roles[i] = "normal"
            continue
        used_originals.add(j)
        originals[i] = j
    normal_pool = [i for i in free if i not in used_originals]
    rng.shuffle(normal_pool)
    tag_variant = set(normal_pool[: plan.tag_variant])
    edited_late = set(normal_pool[plan.tag_variant : plan.tag_variant + plan.edited_after_close])
    return _Layout(roles, originals, tag_variant, edited_late)


def _updated_time(
    prng: random.Random, created: datetime, role: str, base_role: str, *, edited_late: bool
) -> datetime | None:
    if base_role == "normal" and edited_late:
        return AFTER_CLOSE + timedelta(minutes=prng.randint(60, 90 * 24 * 60))
    if role in ("normal", "copy") and prng.random() < 0.15:
        candidate = created + timedelta(minutes=prng.randint(10, 3 * 24 * 60))
        return candidate if candidate < CLOSES else None
    if base_role == "late" and prng.random() < 0.3:
        return created + timedelta(minutes=prng.randint(10, 3000))
    return None


def _load_announcement_sample() -> dict[str, Any]:
    return json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))


# Comment authors invented for the real thread (the copy has none); organisers' staff use
# usernames in EXCLUDED_AUTHORS.
_ANNOUNCEMENT_COMMENTERS: dict[int, tuple[str | None, str]] = {
    1: ("phon-chol", "phon-chol"),
    2: ("aidin.p", "ไอดิน-ปุยฝ้าย"),
    3: ("jantawan", "จันทวรรณ ปิยะวัฒน์"),
    4: ("aidin.p", "ไอดิน-ปุยฝ้าย"),
    5: ("ple.s", "เปิ้ล สายสุวรรณ"),
    6: ("nopparat.b", "Nopparat Buasaeng"),
    7: ("modernrabbit", "modernrabbit"),
    8: ("somchai.t", "สมชาย ทองคำ"),
    9: ("somchai.t", "สมชาย ทองคำ"),
    10: ("ega.officer", "ทีมงาน สรอ."),
    11: ("ega.officer", "ทีมงาน สรอ."),
    12: ("phon-chol", "phon-chol"),
    13: ("phon-chol", "phon-chol"),
    14: ("phon-chol", "phon-chol"),
    15: ("ega.km", "เจ้าหน้าที่ สรอ. ฝ่ายจัดการความรู้"),
    16: ("ega.km", "เจ้าหน้าที่ สรอ. ฝ่ายจัดการความรู้"),
    17: ("panupong.a", "ภาณุพงศ์ อนุรักษ์พนาวัน"),
    18: (None, GUEST_NAME),
    19: ("kesinee.n", "เกศินี นาคสวัสดิ์"),
    20: ("nurse.wan", "พยาบาลวันเพ็ญ"),
    21: ("prasert.m", "ประเสริฐ มั่นคง"),
    22: ("siriporn.s", "ศิริพร สุขเจริญ"),
    23: ("kru.amporn", "ครูอัมพร"),
    24: (None, GUEST_NAME),
    25: ("duangjai.c", "ดวงใจ จันทร์เพ็ญ"),
    26: ("khanchai.k", "ขรรค์ชัย คำแก้ว"),
}
_ANNOUNCEMENT_COMMENT_IDS = (
    3318001, 3318006, 3318009, 3318012, 3318015, 3318019, 3318022, 3318027, 3318028,
    3318031, 3318032, 3318035, 3318036, 3318037, 3318039, 3318040, 3318044, 3318051,
    3318055, 3318058, 3318062, 3318066, 3318069, 3318073, 3318078, 3318083,
)  # fmt: skip
_ANNOUNCEMENT_COMMENT_TIMES = (
    "08-06 15:42", "08-06 18:20", "08-06 20:05", "08-07 08:31", "08-07 13:10",
    "08-08 09:47", "08-09 22:15", "08-12 10:02", "08-12 10:04", "08-13 11:30",
    "08-13 11:45", "08-15 19:20", "08-15 19:21", "08-15 19:21", "08-16 09:05",
    "08-16 09:06", "08-22 10:05", "08-23 19:40", "08-24 14:12", "08-26 08:55",
    "08-27 16:30", "08-28 21:03", "08-29 23:41", "08-30 09:12", "08-31 12:26",
    "09-02 10:10",
)  # fmt: skip
# Commenters who answered the campaign question in the thread instead of posting.
_THREAD_ANSWER_POSITIONS = (5, 6, 7, 12, 13, 14, 17, 18, 19, 20, 21, 22, 23, 25, 26)
_REPEATED_POSITIONS = ((12, 13, 14), (15, 16))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class Site:
    """The replica's whole state. Thread-safe: every read and mutation holds ``lock``."""

    def __init__(self, n_posts: int, seed: int, drift: int | None = None) -> None:
        if n_posts < 0:
            raise UserError(f"--posts must be 0 or more, not {n_posts}")
        self.n_posts = n_posts
        self.seed = seed
        # With a drift seed, every post is written with its own template variations and
        # the data gets what such a site collects (typed guest names, tags in mixed case,
        # inert hostile comment markup, pages that fail once); see replica/drift.py.
        self.drift = drift
        self.built_at = float(math.ceil(time.time()))
        self.keyword = KEYWORD
        self.keyword_norm = tag_key(KEYWORD)
        self.showcase_post = SHOWCASE_POST if n_posts > 0 else None
        self.lock = threading.RLock()
        self.generation = 0  # bumped on every mutation (listing caches key on it)
        self.posts: dict[int, SitePost] = {}
        self.members: list[Member] = []
        self.duplicate_pairs: list[tuple[int, int, str]] = []
        self.spam: set[int] = set()
        self.announcement_thread_answers: list[int] = []
        self.announcement_repeated_comments: list[list[int]] = []
        self._body_cache: dict[int, str] = {}
        self._comment_cache: dict[int, list[SiteComment]] = {}
        self._listing_cache: dict[tuple[str, int], list[int]] = {}
        self._next_comment_id = 9_000_001
        self._mutations = 0
        self._build()
        if drift is not None:
            self._apply_drift(drift)
        for post in self.posts.values():
            post.modified_at = self.built_at

    # --- generation ---------------------------------------------------------------------

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def _make_members(self, count: int) -> list[Member]:
        rng = self._rng("members")
        members: list[Member] = []
        used: set[str] = set(EXCLUDED_AUTHORS) | {a for a, _ in tb.SPAM_ACCOUNTS}
        used |= {u for u, _ in _ANNOUNCEMENT_COMMENTERS.values() if u}
        next_suffix: dict[str, int] = {}
        for _ in range(count):
            first_th, first_ro = rng.choice(tb.FIRST_NAMES)
            last_th, last_ro = rng.choice(tb.LAST_NAMES)
            style = rng.random()
            if style < 0.15:
                prefix = rng.choice(tb.TITLES_OF_ADDRESS)
                name = f"{prefix}{first_th}"
                base = f"{first_ro}{rng.randint(1, 99)}"
            else:
                name = f"{first_th} {last_th}"
                base = f"{first_ro}.{last_ro[: rng.randint(1, 3)]}"
            username = base
            while username in used:
                next_suffix[base] = next_suffix.get(base, 1) + 1
                username = f"{base}{next_suffix[base]}"
            used.add(username)
            book_key, book_title = rng.choice(tb.BOOKS)
            slug = f"{username.replace('.', '-').replace('_', '-')}-{book_key}"
            members.append(Member(username, name, slug, f"{book_title}ของ{first_th}"))
        return members

    def _fill(self, rng: random.Random, template: str) -> str:
        return template.format(
            org=rng.choice(tb.ORGS), platform=rng.choice(tb.PLATFORMS), people=rng.choice(tb.PEOPLE)
        )

    def _comment_count(self, rng: random.Random, role: str) -> int:
        if role == "spam":
            return rng.randint(0, 2)
        if role == "organiser":
            return rng.randint(0, 5)
        roll = rng.random()
        if roll < 0.40:
            return rng.randint(0, 3)
        if roll < 0.75:
            return rng.randint(4, 12)
        if roll < 0.95:
            return rng.randint(13, 30)
        return rng.randint(31, 60)

    def _build(self) -> None:
        self._build_announcement()
        n = self.n_posts
        if n == 0:
            return
        rng = self._rng("skeleton")
        plan = _plan(n)
        self.members = self._make_members(max(10, int(n * 0.9)))
        times = _created_times(rng, plan, n)
        slots = _numbered_slots(rng, times)
        layout = _assign_roles(rng, plan, len(times.window))
        window_authors = self._multi_entry_authors(rng, plan, layout.roles)
        self._make_posts(slots, layout, window_authors)

    def _multi_entry_authors(
        self, rng: random.Random, plan: _Plan, roles: list[str]
    ) -> list[Member | None]:
        """Authors of several window posts (index -> member); None: the next new member."""
        n_window = len(roles)
        window_authors: list[Member | None] = [None] * n_window
        multi_pool = [i for i in range(1, n_window) if roles[i] == "normal"]
        rng.shuffle(multi_pool)
        for a in range(plan.multi_authors):
            count = rng.randint(2, 4)
            chosen, multi_pool = multi_pool[:count], multi_pool[count:]
            if len(chosen) < 2:
                break
            member = self.members[(a * 7 + 3) % len(self.members)]
            for i in chosen:
                window_authors[i] = member
        return window_authors

    def _make_posts(
        self,
        slots: list[tuple[int, datetime, str]],
        layout: _Layout,
        window_authors: list[Member | None],
    ) -> None:
        n_early = sum(1 for _, _, base in slots if base == "early")
        member_cycle = itertools.cycle(self.members)
        kind_cycle = 0
        window_posts: list[SitePost] = []
        for index, (number, created, base_role) in enumerate(slots):
            prng = self._rng("post", number)
            w = index - n_early
            role = layout.roles[w] if base_role == "normal" else base_role
            if role == "spam":
                username, name = prng.choice(tb.SPAM_ACCOUNTS)
                member = Member(username, name, f"{username.replace('.', '-')}-promo", name)
            elif role == "organiser":
                username = prng.choice(EXCLUDED_AUTHORS[1:])
                name = "ทีมงาน สรอ." if username == "ega.officer" else "เจ้าหน้าที่ สรอ."
                member = Member(username, name, f"{username.replace('.', '-')}-news", "ข่าว สรอ.")
            elif base_role == "normal" and window_authors[w] is not None:
                member = window_authors[w]  # type: ignore[assignment]
            else:
                member = next(member_cycle)
            title, tags = self._title_and_tags(
                prng, role, tag_variant=base_role == "normal" and w in layout.tag_variant,
                variant_index=len(window_posts),
            )  # fmt: skip
            state = {"deleted": "deleted", "private": "private"}.get(role, "public")
            n_comments = (
                SHOWCASE_COMMENTS if role == "showcase" else self._comment_count(prng, role)
            )
            updated = _updated_time(
                prng, created, role, base_role, edited_late=w in layout.edited_late
            )
            style = prng.random()
            era, thai_digits = (
                ("CE", False) if style < 0.65 else ("BE", False) if style < 0.82 else
                ("BE", True) if style < 0.93 else ("CE", True)
            )  # fmt: skip
            post = SitePost(
                post_number=number,
                title=title,
                author_username=member.username,
                author_name=member.name,
                book_slug=member.book_slug,
                book_title=member.book_title,
                created_at=created,
                updated_at=updated,
                raw_tags=tuple(tags),
                state=state,
                n_comments=n_comments,
                era=era,
                thai_digits=thai_digits,
                has_license=prng.random() < 0.8,
                views=prng.randint(20, 3000),
                n_paragraphs=prng.randint(1, 6) if role != "spam" else prng.randint(1, 3),
                role=role,
                index=index,
                stale_listed=state != "public",
            )
            if role == "copy" and w in layout.originals:
                original = window_posts[layout.originals[w]]
                self._make_copy(
                    prng, post, original, DUPLICATE_KINDS[kind_cycle % len(DUPLICATE_KINDS)]
                )
                kind_cycle += 1
            elif role == "copy":
                post.role = "normal"
            if role == "spam":
                self.spam.add(number)
            if base_role == "normal":
                window_posts.append(post)
            self.posts[number] = post

    def _title_and_tags(
        self, prng: random.Random, role: str, *, tag_variant: bool, variant_index: int
    ) -> tuple[str, list[str]]:
        title = self._fill(prng, prng.choice(tb.TITLE_TEMPLATES))
        raw_tags: list[str] = [KEYWORD]
        extra = prng.sample(tb.EXTRA_TAGS, prng.randint(0, 3))
        if role == "spam":
            title = prng.choice(tb.SPAM_TITLES)
            extra = ["สล็อต", "บาคาร่า"][: prng.randint(0, 2)]
        elif role == "organiser":
            title = prng.choice(tb.ORGANISER_TITLES)
            extra = [NEAR_MISS_TAG]
        elif role == "near_miss":
            title = self._fill(prng, prng.choice(tb.NEAR_MISS_TITLES))
            raw_tags = [NEAR_MISS_TAG]
            extra = [t for t in extra if tag_key(t) != tag_key(NEAR_MISS_TAG)]
        if tag_variant:
            raw_tags = [
                ("#" + KEYWORD, KEYWORD + " ", "สังคม" + ZERO_WIDTH_SPACE + "ออนไลน์")[
                    variant_index % 3
                ]
            ]
        tags = raw_tags + [t for t in extra if t not in raw_tags]
        if prng.random() < 0.5 and len(tags) > 1:
            prng.shuffle(tags)
        return title, tags

    def _make_copy(
        self, prng: random.Random, post: SitePost, original: SitePost, kind: str
    ) -> None:
        """Make ``post`` a planted copy of the earlier ``original``."""
        post.duplicate_of = (original.post_number, kind)
        if kind == "reordered":
            original.n_paragraphs = max(original.n_paragraphs, 3)
        post.n_paragraphs = original.n_paragraphs
        if kind == "exact":
            post.title = original.title
            post.author_username = original.author_username
            post.author_name = original.author_name
            post.book_slug = original.book_slug
            post.book_title = original.book_title
        elif kind in ("near", "zero_width", "reordered") and prng.random() < 0.5:
            post.title = original.title
        self.duplicate_pairs.append((original.post_number, post.post_number, kind))

    def _build_announcement(self) -> None:
        sample = _load_announcement_sample()
        comments: list[SiteComment] = []
        positions: dict[int, int] = {}
        for item, cid, when in zip(
            sample["comments"], _ANNOUNCEMENT_COMMENT_IDS, _ANNOUNCEMENT_COMMENT_TIMES, strict=True
        ):
            position = int(item["position"])
            username, name = _ANNOUNCEMENT_COMMENTERS[position]
            if item.get("from_organizers"):
                assert username in EXCLUDED_AUTHORS, position
            month, rest = when.split("-")
            day, hm = rest.split(" ")
            hour, minute = hm.split(":")
            created = datetime(2013, int(month), int(day), int(hour), int(minute), tzinfo=BANGKOK)
            comments.append(SiteComment(cid, username, name, created, item["text"]))
            positions[position] = cid
        self.announcement_thread_answers = [positions[p] for p in _THREAD_ANSWER_POSITIONS]
        self.announcement_repeated_comments = [
            [positions[p] for p in group] for group in _REPEATED_POSITIONS
        ]
        post = SitePost(
            post_number=ANNOUNCEMENT_POST,
            title=sample["title"],
            author_username="jantawan",
            author_name=sample["author_name"],
            book_slug="gotoknow-news",
            book_title="ข่าวสาร GotoKnow",
            created_at=datetime(2013, 8, 6, 15, 0, tzinfo=BANGKOK),
            updated_at=datetime(2015, 10, 5, 16, 16, tzinfo=BANGKOK),
            raw_tags=("#" + KEYWORD, "#" + NEAR_MISS_TAG),
            state="public",
            n_comments=len(comments),
            era="CE",
            thai_digits=False,
            has_license=True,
            views=4312,
            n_paragraphs=0,
            role="announcement",
            index=-1,
            body_override=sample["body_text"],
            comments_override=comments,
        )
        self.posts[ANNOUNCEMENT_POST] = post

    # --- drift --------------------------------------------------------------------------

    def _apply_drift(self, drift: int) -> None:
        """Data a site collects over the years: some tags typed in another case."""
        for post in self.posts.values():
            if post.index < 0:
                continue
            rng = self._rng("drift", drift, "post", post.post_number)
            post.raw_tags = tuple(
                _recase(rng, t) if any("A" <= c <= "z" for c in t) and rng.random() < 0.4 else t
                for t in post.raw_tags
            )

    def fail_once_pages(self) -> dict[str, str]:
        """With drift: paths (with query, as the server sees them decoded) whose first
        request fails, and how (``error500``, ``error503``, ``throttle``, ``slow``)."""
        if self.drift is None:
            return {}
        out: dict[str, str] = {}
        with self.lock:
            for number, post in sorted(self.posts.items()):
                rng = self._rng("drift", self.drift, "fail", number)
                if rng.random() < 0.06:
                    out[f"/posts/{number}"] = rng.choice(FAIL_ONCE_KINDS)
                pages = -(-post.n_comments // COMMENTS_PER_PAGE)
                if pages >= 2 and rng.random() < 0.25:
                    page = rng.randint(2, pages)
                    out[f"/posts/{number}/comments?page={page}"] = rng.choice(FAIL_ONCE_KINDS)
        return out

    # --- lazy text ----------------------------------------------------------------------

    def _paragraphs(self, rng: random.Random, count: int) -> list[str]:
        paragraphs = []
        for _ in range(count):
            sentences = [
                self._fill(rng, rng.choice(tb.SENTENCES)) for _ in range(rng.randint(1, 4))
            ]
            paragraphs.append(" ".join(sentences))
        while sum(len(p) for p in paragraphs) < 120:
            paragraphs[-1] += " " + self._fill(rng, rng.choice(tb.SENTENCES))
        while sum(len(p) for p in paragraphs) > 1900 and len(paragraphs) > 1:
            paragraphs.pop()
        return paragraphs

    def _generated_body(self, post: SitePost) -> str:
        rng = self._rng("body", post.post_number)
        if post.duplicate_of is not None:
            original_number, kind = post.duplicate_of
            original = self.body_text(original_number)
            return _copy_text(original, kind, rng)
        if post.role == "spam":
            return _spam_text(rng, post.n_paragraphs)
        paragraphs = self._paragraphs(rng, max(1, post.n_paragraphs))
        if post.role == "near_miss":
            paragraphs[0] = (
                f"อยากร่วมแลกเปลี่ยนเรื่อง{KEYWORD}ของหน่วยงานภาครัฐกับโครงการ สรอ. ขอความรู้ด้วยครับ "
                + paragraphs[0]
            )
        elif post.role == "organiser":
            paragraphs.insert(0, "ขอบคุณสมาชิกทุกท่านที่ร่วมบันทึกประสบการณ์ค่ะ ทีมงานอ่านทุกบันทึกนะคะ")
        return "\n\n".join(paragraphs)

    def body_text(self, post_number: int) -> str:
        with self.lock:
            post = self.posts[post_number]
            if post.body_override is not None:
                return post.body_override
            cached = self._body_cache.get(post_number)
            if cached is None:
                cached = self._generated_body(post)
                if len(self._body_cache) > 50_000:
                    self._body_cache.clear()
                self._body_cache[post_number] = cached
            return cached

    def _generated_comments(self, post: SitePost) -> list[SiteComment]:
        rng = self._rng("comments", post.post_number)
        out: list[SiteComment] = []
        when = post.created_at
        base = 3_400_000 + post.index * 64
        for k in range(post.n_comments):
            when = when + timedelta(minutes=rng.randint(3, 2 * 24 * 60))
            if rng.random() < 0.15 or not self.members:
                username, name = None, GUEST_NAME
            else:
                member = rng.choice(self.members)
                username, name = member.username, member.name
            text = rng.choice(tb.COMMENT_TEXTS)
            if rng.random() < 0.3:
                text += " " + self._fill(rng, rng.choice(tb.SENTENCES))
            comment = SiteComment(base + k, username, name, when, text)
            if self.drift is not None:
                _drift_comment(
                    self._rng("drift", self.drift, "comment", comment.comment_id), comment
                )
            out.append(comment)
        return out

    def comments(self, post_number: int) -> list[SiteComment]:
        with self.lock:
            post = self.posts[post_number]
            if post.comments_override is not None:
                return post.comments_override
            cached = self._comment_cache.get(post_number)
            if cached is None:
                cached = self._generated_comments(post)
                if len(self._comment_cache) > 50_000:
                    self._comment_cache.clear()
                self._comment_cache[post_number] = cached
            return cached

    # --- queries ------------------------------------------------------------------------

    def post(self, post_number: int) -> SitePost | None:
        return self.posts.get(post_number)

    def on_listing(self, post: SitePost) -> bool:
        return post.state == "public" or post.stale_listed

    def listing(self, tag: str | None) -> list[int]:
        """Post numbers listed for ``tag`` (lenient match), newest first; ``None``: all."""
        key = tag_key(tag) if tag is not None else ""
        with self.lock:
            cache_key = (key, self.generation)
            cached = self._listing_cache.get(cache_key)
            if cached is not None:
                return cached
            chosen = [
                p
                for p in self.posts.values()
                if self.on_listing(p) and (tag is None or key in p.tag_keys)
            ]
            chosen.sort(key=lambda p: (p.created_at, p.post_number), reverse=True)
            result = [p.post_number for p in chosen]
            if len(self._listing_cache) > 64:
                self._listing_cache.clear()
            self._listing_cache[cache_key] = result
            return result

    @property
    def campaign(self) -> dict[str, Any]:
        return {
            "keywords": [KEYWORD],
            "near_miss_tags": [NEAR_MISS_TAG],
            "opens": OPENS.isoformat(),
            "closes": CLOSES.isoformat(),
            "announcement_post": ANNOUNCEMENT_POST,
            "excluded_authors": list(EXCLUDED_AUTHORS),
            "prizes": 4,
        }

    # --- ground truth -------------------------------------------------------------------

    def ground_truth(self) -> dict[str, Any]:
        shown_tags = _default_shown_tags
        if self.drift is not None:
            from replica.drift import shown_tags
        with self.lock:
            kw = self.keyword_norm
            numbers = sorted(self.posts)
            posts_out: dict[str, Any] = {}
            comments_out: dict[str, Any] = {}
            for n in numbers:
                p = self.posts[n]
                posts_out[str(n)] = {
                    "post_number": n,
                    "url": f"/posts/{n}",
                    "title": p.title,
                    "author_username": p.author_username,
                    "author_name": p.author_name,
                    "book_slug": p.book_slug,
                    "created_at": _iso(p.created_at),
                    "updated_at": _iso(p.updated_at),
                    "tags": list(p.tags),
                    "tag_keys": list(p.tag_keys),
                    "raw_tags": shown_tags(self, p),
                    "body_text": self.body_text(n),
                    "license_text": LICENSE_TEXT if p.has_license else None,
                    "comment_count_declared": p.n_comments,
                    "state": p.state,
                    "listed": self.on_listing(p),
                }
                if p.state == "public":
                    comments_out[str(n)] = [
                        {
                            "comment_id": c.comment_id,
                            "position": position,
                            "author_username": c.author_username,
                            "author_name": c.author_name,
                            "created_at": _iso(c.created_at),
                            "body_text": c.body_text,
                            "hostile": c.hostile,
                        }
                        for position, c in enumerate(self.comments(n), start=1)
                    ]
            public = [self.posts[n] for n in numbers if self.posts[n].state == "public"]
            tagged = [p for p in public if p.carries(kw)]
            by_author: dict[str, list[int]] = {}
            for p in tagged:
                by_author.setdefault(p.author_username, []).append(p.post_number)
            labels = {
                "duplicate_pairs": [
                    [a, b, kind]
                    for a, b, kind in self.duplicate_pairs
                    if self.posts[a].state == "public" and self.posts[b].state == "public"
                ],
                "spam": sorted(n for n in self.spam if self.posts[n].state == "public"),
                "early": [p.post_number for p in tagged if p.created_at < OPENS],
                "late": [p.post_number for p in tagged if p.created_at > CLOSES],
                "edited_after_close": [
                    p.post_number for p in tagged if p.updated_at and p.updated_at > CLOSES
                ],
                "organiser": [
                    p.post_number for p in tagged if p.author_username in EXCLUDED_AUTHORS
                ],
                "deleted": [n for n in numbers if self.posts[n].state == "deleted"],
                "private": [n for n in numbers if self.posts[n].state == "private"],
                "near_miss": [
                    p.post_number
                    for p in public
                    if not p.carries(kw)
                    and compact(KEYWORD) in compact(p.title + " " + self.body_text(p.post_number))
                ],
                "tag_variant": [
                    p.post_number for p in tagged if not any(t == KEYWORD for t in p.raw_tags)
                ],
                "multi_entry_authors": {
                    u: nums for u, nums in sorted(by_author.items()) if len(nums) >= 2
                },
                "thai_digit_dates": [p.post_number for p in public if p.thai_digits],
                "buddhist_era_dates": [p.post_number for p in public if p.era == "BE"],
                "announcement_thread_answers": list(self.announcement_thread_answers),
                "announcement_repeated_comments": [
                    list(g) for g in self.announcement_repeated_comments
                ],
            }
            return {
                "keyword": KEYWORD,
                "seed": self.seed,
                "drift": self.drift,
                "n_posts": self.n_posts,
                "campaign": self.campaign,
                "showcase_post": self.showcase_post,
                "listed": self.listing(KEYWORD),
                "posts": posts_out,
                "comments": comments_out,
                "labels": labels,
            }

    def write_ground_truth(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            json.dumps(self.ground_truth(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        return target

    # --- mutations ----------------------------------------------------------------------

    def _require(self, post_number: int) -> SitePost:
        post = self.posts.get(int(post_number))
        if post is None:
            raise UserError(f"no post {post_number} on the replica")
        return post

    def _changed(self, post: SitePost | None = None) -> None:
        self.generation += 1
        if post is not None:
            post.revision += 1
            # Last-Modified has whole seconds: a change never keeps the previous value.
            post.modified_at = max(float(math.ceil(time.time())), post.modified_at + 1.0)

    def add_post(
        self,
        *,
        title: str | None = None,
        body_text: str | None = None,
        tags: Sequence[str] | None = None,
        author_username: str | None = None,
        author_name: str | None = None,
        book_slug: str | None = None,
        created_at: datetime | str | None = None,
        n_comments: int = 0,
    ) -> int:
        """A new public post; numbered after every existing post. Defaults: generated
        text, the campaign keyword as its tag, a new member, created 10 minutes after the
        newest post."""
        with self.lock:
            self._mutations += 1
            rng = self._rng("add", self._mutations)
            number = max(self.posts) + rng.randint(1, 4)
            if isinstance(created_at, str):
                created_at = datetime.fromisoformat(created_at)
            if created_at is not None and created_at.tzinfo is None:
                created_at = created_at.replace(tzinfo=BANGKOK)
            newest = max(p.created_at for p in self.posts.values())
            created = created_at or (newest + timedelta(minutes=10))
            username = author_username or f"newmember{self._mutations}"
            post = SitePost(
                post_number=number,
                title=title or self._fill(rng, rng.choice(tb.TITLE_TEMPLATES)),
                author_username=username,
                author_name=author_name or f"สมาชิกใหม่ {self._mutations}",
                book_slug=book_slug or f"{username.replace('.', '-')}-km",
                book_title="คลังความรู้",
                created_at=created.astimezone(BANGKOK),
                updated_at=None,
                raw_tags=tuple(tags) if tags is not None else (KEYWORD,),
                state="public",
                n_comments=0,
                era="CE",
                thai_digits=False,
                has_license=True,
                views=0,
                n_paragraphs=3,
                role="added",
                index=-1,
                body_override=body_text
                if body_text is not None
                else "\n\n".join(self._paragraphs(rng, 3)),
                comments_override=[],
            )
            self.posts[number] = post
            self._changed(post)
            if n_comments:
                self.add_comments(number, n_comments)
            return number

    def add_comments(self, post_number: int, n: int) -> list[int]:
        """``n`` new comments at the end of the post's thread; returns their ids."""
        with self.lock:
            post = self._require(post_number)
            current = list(self.comments(post.post_number))
            self._mutations += 1
            rng = self._rng("add-comments", post.post_number, self._mutations)
            when = current[-1].created_at if current else post.created_at
            ids: list[int] = []
            for _ in range(int(n)):
                when = when + timedelta(minutes=rng.randint(5, 600))
                if self.members and rng.random() > 0.15:
                    member = rng.choice(self.members)
                    username, name = member.username, member.name
                else:
                    username, name = None, GUEST_NAME
                cid = self._next_comment_id
                self._next_comment_id += 1
                comment = SiteComment(cid, username, name, when, rng.choice(tb.COMMENT_TEXTS))
                if self.drift is not None:
                    _drift_comment(self._rng("drift", self.drift, "comment", cid), comment)
                current.append(comment)
                ids.append(cid)
            post.comments_override = current
            post.n_comments = len(current)
            self._comment_cache.pop(post.post_number, None)
            self._changed(post)
            return ids

    def edit_post(
        self,
        post_number: int,
        title: str | None = None,
        body_text: str | None = None,
        tags: Sequence[str] | None = None,
        updated_at: datetime | str | None = None,
    ) -> None:
        """Change a post; ``updated_at`` defaults to one hour after its last change.
        An edited body drops the post from planted duplicate pairs and spam."""
        with self.lock:
            post = self._require(post_number)
            if title is not None:
                post.title = title
            if body_text is not None:
                post.body_override = body_text
                self._body_cache.pop(post.post_number, None)
                self.duplicate_pairs = [
                    d for d in self.duplicate_pairs if post.post_number not in (d[0], d[1])
                ]
                self.spam.discard(post.post_number)
            if tags is not None:
                post.raw_tags = tuple(tags)
            if isinstance(updated_at, str):
                updated_at = datetime.fromisoformat(updated_at)
            if updated_at is not None and updated_at.tzinfo is None:
                updated_at = updated_at.replace(tzinfo=BANGKOK)
            last = post.updated_at or post.created_at
            post.updated_at = (updated_at or (last + timedelta(hours=1))).astimezone(BANGKOK)
            self._changed(post)

    def delete_post(self, post_number: int, *, stay_listed: bool = False) -> None:
        """404 afterwards, and gone from the listing; with ``stay_listed`` the (stale) tag
        listing still shows it with its title and comment count."""
        with self.lock:
            post = self._require(post_number)
            post.state = "deleted"
            post.stale_listed = stay_listed
            self._changed(post)

    def make_public(self, post_number: int) -> None:
        """A deleted or private post shown again (an author undoing "private")."""
        with self.lock:
            post = self._require(post_number)
            post.state = "public"
            self._changed(post)

    def make_private(self, post_number: int) -> None:
        """302 to /login afterwards, and gone from the listing."""
        with self.lock:
            post = self._require(post_number)
            post.state = "private"
            post.stale_listed = False
            self._changed(post)


# --- text transforms for planted cases ---------------------------------------------------


def _copy_text(original: str, kind: str, rng: random.Random) -> str:
    paragraphs = original.split("\n\n")
    if kind in ("exact", "cross_account"):
        return original
    if kind == "reordered":
        reordered = paragraphs[:]
        while len(reordered) > 1 and reordered == paragraphs:
            rng.shuffle(reordered)
        return "\n\n".join(reordered)
    if kind == "zero_width":
        out = []
        for ch in original:
            out.append(ch)
            if ch != "\n" and rng.random() < 0.04:
                out.append(rng.choice((ZERO_WIDTH_SPACE, "\u200c", "\u200d")))
        text = "".join(out)
        return text.replace(" ", "  ", 3)
    # near: a few small edits, extra spaces, a closing line.
    words = original.split(" ")
    for _ in range(min(3, max(1, len(words) // 10))):
        i = rng.randrange(len(words))
        if "\n" not in words[i]:
            words[i] = words[i] + rng.choice(("ค่ะ", "ครับ", "นะคะ", "จริงๆ"))
    text = " ".join(words)
    text = text.replace(" ", "   ", 2)
    return text + "\n\nขอบคุณค่ะ"


# Names guests typed instead of the ผู้อ่านทั่วไป label (shown in a <span>, no profile link).
TYPED_GUEST_NAMES = (
    "ครูแดง", "คุณสมใจ", "น้องมด (ผู้ปกครอง)", "พยาบาลวิชาชีพ รพ.สต.บ้านนา", "Somchai K.",
    "นักศึกษาฝึกงาน", "ป้าศรี", "อ.วิไล ม.ขอนแก่น", "ชาวบ้านตำบลหนองบัว", "J. Smith",
)  # fmt: skip
HOSTILE_KINDS = ("img_onerror", "script", "javascript_link", "svg_onload", "style")
FAIL_ONCE_KINDS = ("error500", "error503", "throttle", "slow")


def _drift_comment(rng: random.Random, comment: SiteComment) -> None:
    if comment.author_username is None and rng.random() < 0.5:
        comment.author_name = rng.choice(TYPED_GUEST_NAMES)
    if rng.random() < 0.06:
        comment.hostile = rng.choice(HOSTILE_KINDS)


def _recase(rng: random.Random, tag: str) -> str:
    """The tag typed in another case (``facebook``, ``FACEBOOK``, ``FaceBook``)."""
    choices = [tag.lower(), tag.upper(), tag.swapcase(), tag[:1].upper() + tag[1:].lower()]
    other = [c for c in dict.fromkeys(choices) if c != tag]
    return rng.choice(other) if other else tag


def _default_shown_tags(site: Site, post: SitePost) -> list[str]:
    return list(post.raw_tags)


def _spam_text(rng: random.Random, n_paragraphs: int) -> str:
    line_id = rng.choice(("slot88", "bet999", "vip.baccarat", "webtrong24"))
    phone = f"0{rng.choice((8, 9, 6))}{rng.randint(0, 9)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    domain, domain2 = rng.sample(tb.SPAM_DOMAINS, 2)
    if rng.random() < 0.25:  # very short
        return f"สนใจทักไลน์ @{line_id} สล็อต เว็บตรง"
    lines = []
    for _ in range(max(1, n_paragraphs)):
        chosen = rng.sample(tb.SPAM_LINES, rng.randint(2, 4))
        lines.append(
            " ".join(
                s.format(line=line_id, phone=phone, domain=domain, domain2=domain2) for s in chosen
            )
        )
    if rng.random() < 0.3:
        lines.append('<script>alert("โบนัส")</script> คลิกเลย & รับเครดิตฟรี')
    return "\n\n".join(lines)


def _pick_earlier(rng: random.Random, pool: list[int], limit: int, used: set[int]) -> int | None:
    """A random unused element of the sorted ``pool`` smaller than ``limit``."""
    hi = bisect.bisect_left(pool, limit)
    for _ in range(50):
        if hi == 0:
            return None
        j = pool[rng.randrange(hi)]
        if j not in used:
            return j
    candidates = [j for j in pool[:hi] if j not in used]
    return rng.choice(candidates) if candidates else None


def build_site(n_posts: int = 300, seed: int = 7, drift: int | None = None) -> Site:
    """A fresh, deterministic site (never shared: mutations stay local to it); ``drift``:
    see ``Site``."""
    return Site(n_posts=n_posts, seed=seed, drift=drift)


def iter_public(site: Site) -> Iterable[SitePost]:
    return (p for p in site.posts.values() if p.state == "public")


__all__ = [
    "ANNOUNCEMENT_POST",
    "CLOSES",
    "COMMENTS_PER_PAGE",
    "KEYWORD",
    "LISTING_PAGE_SIZE",
    "OPENS",
    "SHOWCASE_COMMENTS",
    "SHOWCASE_POST",
    "Site",
    "SiteComment",
    "SitePost",
    "build_site",
]
