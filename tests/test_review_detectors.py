"""The review detectors on the replica's planted labels (several sizes and seeds), and on
the real announcement thread.

Pair evaluation for duplicates: a labelled pair counts as found when both posts land in
the same predicted cluster (recall). Every predicted pair (copy -> the cluster's original)
is checked against the labelled clusters (precision). Two kinds of predicted pairs the
replica does not label are duplicates by any definition and are reported apart: texts
identical after normalisation (the generator's sentence bank sometimes produces the same
short body twice) and copies among the planted spam posts (spam templates repeat).
Every other unlabelled predicted pair counts against precision.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from replica.site import SAMPLE_PATH, build_site
from warehouse.review import duplicates as dup
from warehouse.review.detect import post_doc, review_posts
from warehouse.review.ground_truth import comments_from_ground_truth, posts_from_ground_truth
from warehouse.review.near_miss import thread_answers, untagged_mentions
from warehouse.review.spam import spam_score
from warehouse.thai import compact_text

SAMPLE = SAMPLE_PATH  # the real thread (shared/samples), as the replica ships it

CASES = [
    pytest.param((300, 1), id="n300-seed1"),
    pytest.param((300, 7), id="n300-seed7"),
    pytest.param((1200, 3), id="n1200-seed3", marks=pytest.mark.slow),
]


@functools.lru_cache(maxsize=4)
def _ground_truth(n: int, seed: int) -> dict[str, Any]:
    return build_site(n, seed).ground_truth()


@pytest.fixture(scope="module", params=CASES)
def site_case(request: pytest.FixtureRequest) -> tuple[int, int, dict[str, Any]]:
    n, seed = request.param
    return n, seed, _ground_truth(n, seed)


def _labelled_clusters(pairs: list[list[Any]]) -> dict[int, int]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b, _kind in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def test_duplicate_pairs_recall_and_precision(site_case: tuple[int, int, dict[str, Any]]) -> None:
    n, seed, gt = site_case
    announcement = gt["campaign"]["announcement_post"]
    posts = [p for p in posts_from_ground_truth(gt) if p.post_number != announcement]
    result = dup.find_duplicates([post_doc(p) for p in posts])
    labels = gt["labels"]["duplicate_pairs"]
    assert labels, "the replica planted no duplicates"
    labelled = _labelled_clusters(labels)
    predicted = result.cluster_of()

    found = [(a, b) for a, b, _k in labels if a in predicted and predicted[a] is predicted.get(b)]
    missed = [(a, b, k) for a, b, k in labels if (a, b) not in set(found)]
    recall = len(found) / len(labels)

    text = {p.post_number: dup.compact(p.body_text) for p in posts}
    spam = set(gt["labels"]["spam"])
    pairs = [(m.copy, m.original) for m in result.matches().values()]
    true_pairs = [(c, o) for c, o in pairs if c in labelled and labelled[c] == labelled.get(o, -1)]
    identical = [(c, o) for c, o in pairs if (c, o) not in true_pairs and text[c] == text[o]]
    spam_pairs = [
        (c, o)
        for c, o in pairs
        if (c, o) not in true_pairs and (c, o) not in identical and c in spam and o in spam
    ]
    false_pairs = [p for p in pairs if p not in true_pairs + identical + spam_pairs]
    judged = len(true_pairs) + len(false_pairs)
    precision = len(true_pairs) / judged if judged else 1.0
    raw_precision = len(true_pairs) / len(pairs) if pairs else 1.0
    kinds = sorted({k for _a, _b, k in labels})
    print(
        f"\n[duplicates n={n} seed={seed}] labelled pairs {len(labels)} ({', '.join(kinds)}): "
        f"recall {recall:.3f}, precision {precision:.3f} over {judged} judged pairs "
        f"(raw {raw_precision:.3f} over {len(pairs)}: +{len(identical)} identical texts, "
        f"+{len(spam_pairs)} spam-template copies unlabelled); LSH candidates "
        f"{result.candidate_pairs}, verified {result.verified_pairs}"
    )
    assert recall >= 0.98, f"missed {missed}"
    assert precision >= 0.98, f"false pairs {false_pairs}"
    # Each planted kind is caught, and the earliest post of a cluster is the original.
    for a, b, _kind in labels:
        assert result.matches()[b].original == a or predicted[a].original < a


def test_duplicate_evidence_names_cross_account_and_passages() -> None:
    gt = _ground_truth(300, 7)
    posts = posts_from_ground_truth(gt)
    result = dup.find_duplicates([post_doc(p) for p in posts])
    matches = result.matches()
    for _original, copy, kind in gt["labels"]["duplicate_pairs"]:
        match = matches[copy]
        assert match.jaccard >= 0.9
        assert match.passages and match.passages[0]["chars"] >= 20
        if kind == "cross_account":
            assert match.cross_account
        if kind in ("exact", "zero_width"):
            assert match.method == "exact"
        if kind == "reordered":  # moved paragraphs still share (almost) every shingle
            assert match.containment >= 0.95


def test_spam_recall_and_precision(site_case: tuple[int, int, dict[str, Any]]) -> None:
    n, seed, gt = site_case
    announcement = gt["campaign"]["announcement_post"]
    posts = [p for p in posts_from_ground_truth(gt) if p.post_number != announcement]
    review = review_posts(posts, keywords=gt["campaign"]["keywords"], with_passages=False)
    labels = set(gt["labels"]["spam"])
    flagged = set(review.spam)
    tp = len(labels & flagged)
    recall = tp / len(labels)
    precision = tp / len(flagged) if flagged else 1.0
    scores = {
        p.post_number: spam_score(p.title, p.body_text).score
        for p in posts
        if p.post_number not in labels
    }
    lowest = min(review.spam[x].score for x in labels & flagged) if labels & flagged else 0
    print(
        f"\n[spam n={n} seed={seed}] labelled {len(labels)}, flagged {len(flagged)}: "
        f"recall {recall:.3f}, precision {precision:.3f}; "
        f"missed {sorted(labels - flagged)}, false {sorted(flagged - labels)}; lowest spam "
        f"score {lowest:.2f}, highest other {max(scores.values()):.2f} (threshold 0.5)"
    )
    assert recall >= 0.95
    assert precision >= 0.9
    for number in flagged & labels:  # each flag says which signals fired, with values
        assert review.spam[number].signals
        assert "Looks like spam" in review.spam[number].why()


def test_spam_signals_are_named_with_values() -> None:
    result = spam_score(
        "ส ล็ อ ต ออนไลน์",
        "บา\u200bคา\u200bร่า เครดิตฟรี\nติดต่อ LINE ID: @slot88 โทร ๐๘๑-๒๓๔-๕๖๗๘\n"
        "https://x.example/a https://y.example/b",
    )
    assert result.is_spam
    assert set(result.signals["strong_terms"]) >= {"สล็อต", "บาคาร่า"}
    assert "เครดิตฟรี" in result.signals["weak_terms"]
    assert result.signals["phone"] == ["081-234-5678"]
    assert result.signals["line_id"]
    assert "link_density" in result.signals or "links" in result.signals
    honest = spam_score(
        "ประสบการณ์ใช้ Line ใน รพ.สต.",
        "ที่ รพ.สต. ของเราใช้กลุ่ม Line แจ้งข่าวให้ชาวบ้านทราบ ติดต่อเจ้าหน้าที่ได้ที่ 081-234-5678 "
        "ในเวลาราชการ บางคนถามเรื่องหวยก็ตอบว่าไม่ทราบ " * 2,
    )
    assert not honest.is_spam, honest.signals


def test_near_misses_found(site_case: tuple[int, int, dict[str, Any]]) -> None:
    n, seed, gt = site_case
    campaign = gt["campaign"]
    announcement = campaign["announcement_post"]
    posts = posts_from_ground_truth(gt)
    organisers = {a.lower() for a in campaign["excluded_authors"]}
    misses = untagged_mentions(
        posts,
        campaign["keywords"],
        near_miss_tags=campaign["near_miss_tags"],
        exclude_posts={announcement},
        organisers=organisers,
    )
    found = {m.post_number for m in misses}
    labels = set(gt["labels"]["near_miss"])
    print(f"\n[near misses n={n} seed={seed}] labelled {sorted(labels)}, found {sorted(found)}")
    assert labels <= found
    # Thread answers: people who answered in the announcement thread and have no tagged post.
    entrants = {
        p.author_key
        for p in posts
        if p.author_key
        and set(p.tags) & set(campaign["keywords"])
        and p.post_number != announcement
    }
    answers = thread_answers(
        comments_from_ground_truth(gt, announcement), organisers=organisers, entrants=entrants
    )
    covered = {m.comment_id for m in answers} | {r for m in answers for r in m.evidence["repeats"]}
    labelled = set(gt["labels"]["announcement_thread_answers"])
    recall = len(labelled & covered) / len(labelled)
    precision = len(labelled & covered) / len(covered)
    print(
        f"[thread answers] recall {recall:.3f}, precision {precision:.3f} ({len(answers)} people)"
    )
    assert recall == 1.0 and precision == 1.0, (
        sorted(labelled - covered),
        sorted(covered - labelled),
    )


def test_repeated_comments_in_the_real_announcement_thread_are_duplicates() -> None:
    sample = json.loads(SAMPLE.read_text("utf-8"))
    docs = [dup.TextDoc(c["position"], None, None, c["text"]) for c in sample["comments"]]
    clusters = {c.members for c in dup.find_duplicates(docs).clusters}
    print(f"\n[announcement thread] duplicate clusters by position: {sorted(clusters)}")
    assert (12, 13, 14) in clusters
    assert (15, 16) in clusters  # these differ only in no-break spaces
    assert len(clusters) == 2


def test_replica_announcement_repeated_comments_found() -> None:
    gt = _ground_truth(300, 7)
    announcement = gt["campaign"]["announcement_post"]
    comments = comments_from_ground_truth(gt, announcement)
    docs = [dup.TextDoc(c.comment_id, c.author_key, c.created_at, c.body_text) for c in comments]
    clusters = {c.members for c in dup.find_duplicates(docs).clusters}
    for group in gt["labels"]["announcement_repeated_comments"]:
        assert tuple(sorted(group)) in clusters


def test_copied_announcement_comment_is_flagged() -> None:
    gt = _ground_truth(300, 7)
    announcement = gt["campaign"]["announcement_post"]
    comments = comments_from_ground_truth(gt, announcement)
    posts = [p for p in posts_from_ground_truth(gt) if p.post_number != announcement]
    victim = posts[40]
    answer = next(
        c for c in comments if len(c.body_text) > 150 and c.author_key != victim.author_key
    )
    from dataclasses import replace

    copied = replace(victim, body_text="ขอร่วมกิจกรรมด้วยคนค่ะ\n\n" + answer.body_text)
    posts[40] = copied
    review = review_posts(
        posts,
        keywords=gt["campaign"]["keywords"],
        announcement_post=announcement,
        announcement_comments=comments,
    )
    flagged = [s for s in review.suggestions if s.post_number == copied.post_number]
    assert any(
        s.kind == "duplicate"
        and s.duplicate_of == announcement
        and s.evidence["comment_id"] == answer.comment_id
        for s in flagged
    ), flagged
    # No other post is said to copy the thread.
    others = [c.post_number for c in review.comment_copies if c.post_number != copied.post_number]
    assert others == []


def test_numpy_lsh_banding_matches_datasketch() -> None:
    gt = _ground_truth(300, 1)
    texts = [dup.compact(p.body_text) for p in posts_from_ground_truth(gt)]
    signatures = dup._signatures_of(texts)
    assert dup.candidate_pairs(signatures) == dup.candidate_pairs_datasketch(signatures)


def test_minhash_matches_datasketch_update_batch() -> None:
    import numpy as np
    from datasketch import MinHash

    texts = [dup.compact(t) for t in ("สังคมออนไลน์ของหน่วยงานรัฐ " * 5, "abc", "ก" * 40)]
    hashes, offsets = dup.batch_shingle_hashes(texts)
    signatures = dup.minhash_signatures(hashes, offsets)
    for i, text in enumerate(texts):
        own = dup.shingle_hashes(text)
        assert (own == hashes[offsets[i] : offsets[i + 1]]).all()
        reference = MinHash(
            num_perm=dup.NUM_PERM, seed=dup.MINHASH_SEED, scheme="affine32", hashfunc=int
        )
        reference.update_batch([int(h >> np.uint64(32)) for h in own])
        assert (reference.hashvalues == signatures[i]).all()


def test_shared_footer_alone_is_not_a_duplicate() -> None:
    footer = "ขอบคุณที่ติดตามอ่าน ติดตามผลงานอื่นได้ที่สมุดของผู้เขียน ยินดีแลกเปลี่ยนทุกความเห็นค่ะ"
    bodies = [
        "การใช้ Line กลุ่มใน รพ.สต. ช่วยส่งรายงานได้เร็ว",
        "ครูใช้ Facebook แจ้งการบ้าน ผู้ปกครองชอบมาก",
        "อบต. เปิดเพจรับเรื่องร้องเรียนไฟดับ ซ่อมได้ในสองวัน",
        "ห้องสมุดประชาชนไลฟ์สดกิจกรรมเล่านิทานทุกเสาร์",
        "เกษตรอำเภอส่งราคาผลผลิตผ่าน Line ทุกเช้า",
        "โรงพยาบาลชุมชนใช้ YouTube สอนดูแลแผลเบาหวาน",
    ]
    docs = [dup.TextDoc(i, f"u{i}", None, f"{b}\n\n{footer}") for i, b in enumerate(bodies)]
    result = dup.find_duplicates(docs)
    assert result.clusters == []
    assert dup.compact(footer) in result.boilerplate


@pytest.mark.parametrize(
    "text",
    [
        "ท\u0e4d\u0e32 ดี\nน\u0e4d\u0e49\u0e32ใจ",  # SARA AM typed in two pieces, with a tone
        "\u202bสังคม\u202c ออนไลน์\u2066 ๒๕๕๖\u2069",  # bidi controls, Thai digits
        "ส\u200bล็\u034fอ ต  Web\u00adTrong",  # zero-width, grapheme joiner, soft hyphen
    ],
)
def test_duplicate_text_is_compared_like_every_other_text(text: str) -> None:
    """The detector keeps paragraphs apart, but otherwise its text is the one normaliser's."""
    assert dup.compact(text) == compact_text(text)
    assert "".join(dup.paragraphs(text)) == compact_text(text)
