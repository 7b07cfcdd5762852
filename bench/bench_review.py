"""Bench: review suggestions for 100k posts of 100-2,000 characters.

Generates posts with planted exact and near duplicates (edited words, reordered
paragraphs, an added introduction), a shared footer and some spam, then times
``warehouse.review.detect.review_posts`` (duplicates + spam + near misses, the work
``compute_suggestions`` does between its two transactions) and reports peak RSS. Beside it,
a pairwise baseline (exact Jaccard of every pair of shingle sets) on a 2k sample; its time
is extrapolated to 100k posts (n^2 / 2 pairs).

    .venv/bin/python bench/bench_review.py [--posts 100000] [--sample 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from warehouse.review import duplicates
from warehouse.review.model import ReviewComment, ReviewPost
from warehouse.thai import BANGKOK

CONSONANTS = "กขคงจฉชซญดตถทธนบปผฝพฟภมยรลวศษสหอฮ"
VOWELS = ["า", "ิ", "ี", "ึ", "ื", "ุ", "ู", "ั", "ำ", "ะ", "", ""]
LEADING = ["เ", "แ", "โ", "ไ", "ใ", "", "", "", ""]
TONES = ["", "", "่", "้", "๊", "๋"]
FINALS = ["", "", "น", "ง", "ม", "ก", "ด", "บ", "ย", "ว"]
THREAD_ANSWERS = [
    c["text"]
    for c in json.loads(
        (
            Path(__file__).resolve().parent.parent / "replica" / "data" / "announcement-544804.json"
        ).read_text("utf-8")
    )["comments"]
    if len(c["text"]) > 150
]
FOOTER = "ขอบคุณที่ติดตามอ่านบันทึกนี้ ติดตามผลงานอื่นได้ที่สมุดของผู้เขียน"
SPAM_LINES = [
    "สล็อตเว็บตรง ฝากถอนไม่มีขั้นต่ำ สมัครเลย",
    "บาคาร่าออนไลน์ เครดิตฟรี แทงบอลได้ทุกวัน",
    "ติดต่อ LINE ID: @slot888 โทร 089-123-4567",
    "https://example-slot.com/register?ref=999",
]


def _word(rng: random.Random) -> str:
    syllables = rng.randint(1, 3)
    return "".join(
        rng.choice(LEADING)
        + rng.choice(CONSONANTS)
        + rng.choice(VOWELS)
        + rng.choice(TONES)
        + rng.choice(FINALS)
        for _ in range(syllables)
    )


def generate_posts(n: int, seed: int = 1) -> tuple[list[ReviewPost], list[tuple[int, int]]]:
    """``n`` posts and the planted (original, copy) pairs."""
    rng = random.Random(seed)
    vocabulary = [_word(rng) for _ in range(20_000)]
    start = datetime(2013, 8, 6, tzinfo=BANGKOK)
    posts: list[ReviewPost] = []
    pairs: list[tuple[int, int]] = []

    def paragraph() -> str:
        return " ".join(rng.choices(vocabulary, k=rng.randint(8, 40)))

    def body(target: int) -> str:
        parts: list[str] = []
        while sum(len(p) for p in parts) < target:
            parts.append(paragraph())
        return "\n\n".join(parts)[: max(target, 100)]

    for i in range(n):
        number = 600_000 + i
        created = start + timedelta(minutes=i)
        author = f"user{rng.randrange(n // 3 + 1)}"
        roll = rng.random()
        if posts and roll < 0.01:  # exact copy, other spacing
            src = rng.choice(posts)
            text = src.body_text.replace(" ", "  ")
            pairs.append((src.post_number, number))
        elif posts and roll < 0.03:  # near copy: edited words, reordered, introduction
            src = rng.choice(posts)
            paras = src.body_text.split("\n\n")
            if rng.random() < 0.5:
                rng.shuffle(paras)
            words = "\n\n".join(paras).split(" ")
            for _ in range(max(1, len(words) // 25)):
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
            text = " ".join(words)
            if rng.random() < 0.3:
                text = paragraph() + "\n\n" + text
            pairs.append((src.post_number, number))
        elif roll < 0.04:
            text = "\n".join(rng.sample(SPAM_LINES, 3)) + "\n" + paragraph()
        elif roll < 0.0405:  # an answer copied from the announcement thread
            text = paragraph() + "\n\n" + rng.choice(THREAD_ANSWERS)
        else:
            text = body(rng.randint(100, 2000))
        if rng.random() < 0.1:
            text = text + "\n\n" + FOOTER
        posts.append(
            ReviewPost(
                post_number=number,
                author_key=author,
                created_at=created,
                title=" ".join(rng.choices(vocabulary, k=4)),
                body_text=text,
                tags=("สังคมออนไลน์",),
            )
        )
    return posts, pairs


def announcement_comments() -> list[ReviewComment]:
    """The real announcement thread's comments (for the comment-copy check)."""
    sample = (
        Path(__file__).resolve().parent.parent / "replica" / "data" / "announcement-544804.json"
    )
    data = json.loads(sample.read_text("utf-8"))
    return [
        ReviewComment(3_318_000 + c["position"], None, None, None, None, c["text"])
        for c in data["comments"]
    ]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peak_rss_mb() -> float:
    """Peak RSS of the forked spam worker (shares the parent's pages copy-on-write, so the
    two peaks added are an upper bound of the memory used)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def pairwise_baseline(posts: list[ReviewPost]) -> tuple[float, int]:
    """Exact Jaccard of every pair: seconds and pairs found at the same threshold."""
    started = time.perf_counter()
    sets = [set(duplicates.shingle_set(duplicates.compact(p.body_text)).tolist()) for p in posts]
    found = 0
    for i in range(len(sets)):
        a = sets[i]
        for j in range(i + 1, len(sets)):
            b = sets[j]
            inter = len(a & b)
            if inter and inter / (len(a) + len(b) - inter) >= duplicates.NEAR_JACCARD:
                found += 1
    return time.perf_counter() - started, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    from warehouse.review.detect import review_posts

    t0 = time.perf_counter()
    posts, planted = generate_posts(args.posts, args.seed)
    gen_s = time.perf_counter() - t0
    chars = np.array([len(p.body_text) for p in posts])
    print(
        f"generated {len(posts):,} posts ({chars.min()}-{chars.max()} chars, mean "
        f"{chars.mean():.0f}) with {len(planted):,} planted copies in {gen_s:.1f} s"
    )
    comments = announcement_comments()
    rss_before = peak_rss_mb()
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    review = review_posts(
        posts,
        keywords=("สังคมออนไลน์",),
        announcement_post=544804,
        announcement_comments=comments,
    )
    review_s, review_cpu = time.perf_counter() - t0, time.process_time() - c0
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
    clusters = review.duplicates.cluster_of()
    found = sum(1 for a, b in planted if a in clusters and clusters[a] is clusters.get(b))
    print(
        f"review: {review_s:.1f} s wall, {review_cpu:.1f} s CPU (+ {worker_cpu:.1f} s in the "
        f"spam worker) for {len(posts):,} posts "
        f"(load average {load:.1f} on {os.cpu_count()} cores at start); "
        f"{len(review.duplicates.clusters):,} clusters, {review.duplicates.candidate_pairs:,} "
        f"LSH candidates, planted copies found {found}/{len(planted)} "
        f"({found / max(1, len(planted)):.3f}); spam flagged {len(review.spam):,}; "
        f"announcement-comment copies {len(review.comment_copies)}; "
        f"peak RSS {peak_rss_mb():.0f} MB (before review {rss_before:.0f} MB; spam worker "
        f"{worker_peak_rss_mb():.0f} MB)"
    )
    for name, seconds in review.timings.items():
        print(f"  {name}: {seconds:.1f} s")
    if args.skip_baseline:
        return 0
    sample = posts[: args.sample]
    t0 = time.perf_counter()
    review_posts(sample, keywords=("สังคมออนไลน์",), announcement_comments=comments)
    ours_sample = time.perf_counter() - t0
    base_s, base_found = pairwise_baseline(sample)
    n = len(sample)
    per_pair = base_s / (n * (n - 1) / 2)
    extrapolated = per_pair * args.posts * (args.posts - 1) / 2
    print(
        f"pairwise baseline on {n:,} posts: {base_s:.1f} s ({base_found} pairs >= "
        f"{duplicates.NEAR_JACCARD}); ours on the same sample {ours_sample:.2f} s"
    )
    print(
        f"pairwise extrapolated to {args.posts:,} posts: {extrapolated:,.0f} s "
        f"({extrapolated / 3600:.1f} h); ratio to ours: {extrapolated / review_s:,.0f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
