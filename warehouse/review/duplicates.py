"""Duplicate detection: exact copies, near copies, copies across accounts and posts that
copy comments from the announcement thread.

Pipeline (pure functions over plain data, no database):

1. Every text is normalised (``warehouse.thai.normalise_text``) and *compacted*: all
   whitespace and zero-width characters removed, case folded. Copies that differ only in
   spacing, no-break spaces, zero-width characters or Thai digits become identical.
2. Exact duplicates: SHA-256 of the compact text.
3. Site boilerplate: paragraphs that stand in many posts (signatures, footers) are dropped
   before near-duplicate matching, so two unrelated posts with the same footer do not look
   alike. A post that is nearly all "boilerplate" (a text copied many times) keeps its text.
4. Near duplicates: character 5-gram shingles of the compact text, MinHash (datasketch's
   ``affine32`` permutations, computed for many posts at once with numpy) and LSH banding
   (``datasketch.MinHashLSH``) propose candidate pairs; each candidate is verified with the
   exact Jaccard similarity of the two shingle sets (and containment, for a copy with an
   added introduction). Shingle sets ignore order, so reordered paragraphs still match.
5. Union-find groups the pairs into clusters; the earliest post of a cluster is the
   original, the others are copies of it. The evidence is the Jaccard similarity with the
   original and the longest shared passages (for the dashboard to highlight).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from scipy.sparse import csr_matrix

from warehouse.thai import normalise_characters, normalise_text

SHINGLE_SIZE = 5
NUM_PERM = 64
LSH_BANDS = 16  # 16 bands of 4 rows: a pair with Jaccard 0.8 becomes a candidate with
LSH_ROWS = 4  # p=0.9999, 0.7 -> 0.988, 0.5 -> 0.64, 0.3 -> 0.12, 0.1 -> 0.002
MINHASH_SEED = 1
# A pair is a near duplicate when the exact Jaccard of the shingle sets of the whole texts
# reaches NEAR_JACCARD and, with site boilerplate removed, still reaches
# NEAR_JACCARD_WITHOUT_BOILERPLATE (two posts alike only by a shared footer are not copies).
NEAR_JACCARD = 0.8
NEAR_JACCARD_WITHOUT_BOILERPLATE = 0.7
# Or the smaller text stands (almost) wholly in the larger one, e.g. a copy with a long
# introduction of its own; only for texts long enough that this cannot be chance.
NEAR_CONTAINMENT = 0.9
CONTAINMENT_MIN_SHINGLES = 500
CONTAINMENT_MIN_JACCARD = 0.5
# Texts shorter than this (compact characters) are not compared at all: "ขอบคุณค่ะ" is
# not a copy of anything.
MIN_COMPARE_CHARS = 20
# A paragraph standing in at least this many texts is boilerplate (signature, footer).
BOILERPLATE_MIN_DOCS = 5
BOILERPLATE_MIN_CHARS = 8
# A comment copied into a post: this share of the comment's shingles are in the post.
COMMENT_COPY_CONTAINMENT = 0.8
COMMENT_COPY_MIN_CHARS = 60
MAX_PASSAGES = 3
MIN_PASSAGE_CHARS = 20
_BATCH_SHINGLES = 8192  # 64 x 8192 uint32 = 2 MB per numpy step: stays in cache
_BATCH_CHARS = 1 << 20

_SPACE_RE = re.compile(r"\s+")
_PARAGRAPH_RE = re.compile(r"\n+")
_U64 = np.uint64
_POLY = _U64(0x100000001B3)  # FNV prime: odd, so the polynomial hash wraps well in 2^64


@dataclass(frozen=True, slots=True)
class TextDoc:
    """Anything whose text may be copied: a post body or a comment."""

    key: int  # post number or comment id
    author_key: str | None
    created_at: datetime | None
    text: str


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    copy: int
    original: int
    method: str  # 'exact' | 'near'
    jaccard: float  # exact Jaccard of the shingle sets (1.0 for exact copies)
    containment: float  # share of the smaller text found in the other
    cross_account: bool
    passages: tuple[dict[str, Any], ...]

    def evidence(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "jaccard": round(self.jaccard, 4),
            "containment": round(self.containment, 4),
            "cross_account": self.cross_account,
            "passages": list(self.passages),
        }


@dataclass(frozen=True, slots=True)
class DuplicateCluster:
    cluster_id: int  # the original's key
    original: int
    members: tuple[int, ...]  # sorted, original included
    authors: tuple[str, ...]  # distinct author keys, sorted
    matches: tuple[DuplicateMatch, ...]  # one per copy

    @property
    def cross_account(self) -> bool:
        return len(self.authors) > 1


@dataclass(slots=True)
class DuplicateResult:
    clusters: list[DuplicateCluster] = field(default_factory=list)
    boilerplate: list[str] = field(default_factory=list)  # compact paragraphs dropped
    candidate_pairs: int = 0
    verified_pairs: int = 0
    compact: dict[int, str] = field(default_factory=dict)  # key -> compact text

    def matches(self) -> dict[int, DuplicateMatch]:
        """copy key -> its match with the cluster's original."""
        return {m.copy: m for c in self.clusters for m in c.matches}

    def cluster_of(self) -> dict[int, DuplicateCluster]:
        return {k: c for c in self.clusters for k in c.members}


@dataclass(frozen=True, slots=True)
class CommentCopy:
    """A post whose text contains a comment from the announcement thread."""

    post_number: int
    comment_id: int
    comment_author: str | None
    containment: float  # share of the comment's shingles found in the post
    same_author: bool
    passages: tuple[dict[str, Any], ...]


# --- text -------------------------------------------------------------------------------


def prepare(text: str) -> str:
    """``normalise_text`` without squashing whitespace (paragraphs stay apart)."""
    return normalise_characters(text)


def _compact_prepared(prepared: str) -> str:
    # lower(), not casefold(): the same for Thai and ASCII, and twice as fast.
    return "".join(prepared.split()).lower()


def compact(text: str) -> str:
    """Normalised text without any whitespace, case folded (what copies are compared on).
    Equal to ``warehouse.thai.compact_text``."""
    return _compact_prepared(prepare(text))


def text_hash(text: str) -> str:
    """SHA-256 hex of the compact text: equal for exact copies."""
    return hashlib.sha256(compact(text).encode("utf-8")).hexdigest()


def paragraphs(text: str) -> list[str]:
    """The compact paragraphs (lines) of a text."""
    return [p for p in map(_compact_prepared, _PARAGRAPH_RE.split(prepare(text))) if p]


def find_boilerplate(texts: Iterable[str], min_docs: int = BOILERPLATE_MIN_DOCS) -> set[str]:
    """Compact paragraphs that stand in at least ``min_docs`` texts."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({p for p in paragraphs(text) if len(p) >= BOILERPLATE_MIN_CHARS})
    return {p for p, n in counts.items() if n >= min_docs}


def matching_text(text: str, boilerplate: set[str]) -> str:
    """The compact text without boilerplate paragraphs, unless that would leave (almost)
    nothing, as with a text copied many times."""
    parts = paragraphs(text)
    full = "".join(parts)
    if not boilerplate:
        return full
    kept = "".join(p for p in parts if p not in boilerplate)
    if len(kept) < max(MIN_COMPARE_CHARS, 0.2 * len(full)):
        return full
    return kept


# --- shingles and MinHash -------------------------------------------------------------


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> _U64(33))


def batch_shingle_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the character 5-grams of each compact text (with repeats), all in
    one array, and the offsets of each text's hashes (``len(texts) + 1`` of them).

    One pass of numpy over the joined texts; a text shorter than one shingle is padded to
    one shingle, an empty text has none."""
    padded = [
        t if len(t) >= SHINGLE_SIZE or not t else t + "\0" * (SHINGLE_SIZE - len(t)) for t in texts
    ]
    lengths = np.fromiter((len(t) for t in padded), dtype=np.int64, count=len(padded))
    counts = np.where(lengths > 0, lengths - SHINGLE_SIZE + 1, 0)
    offsets = np.zeros(len(padded) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(lengths.sum())
    if total < SHINGLE_SIZE:
        return np.zeros(0, dtype=_U64), offsets
    cps = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(_U64)
    n = total - SHINGLE_SIZE + 1
    with np.errstate(over="ignore"):
        h = cps[:n] + _U64(1)
        for k in range(1, SHINGLE_SIZE):
            h *= _POLY
            h += cps[k : k + n]
            h += _U64(1)
        h = _fmix64(h)
    # Drop the windows that run from one text into the next.
    ends = np.cumsum(lengths)[lengths > 0]
    crossing = (ends[:, None] - np.arange(1, SHINGLE_SIZE, dtype=np.int64)[None, :]).ravel()
    keep = np.ones(n, dtype=bool)
    keep[crossing[crossing < n]] = False
    return h[keep], offsets


def shingle_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the character 5-grams of one compact text (with repeats)."""
    return batch_shingle_hashes([text])[0]


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash-based path is slow on random 64-bit ints)."""
    if len(values) == 0:
        return values
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def in_sorted(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_set)`` for a sorted, distinct ``sorted_set``."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    where = np.searchsorted(sorted_set, values)
    where[where == len(sorted_set)] = 0
    return sorted_set[where] == values


def shingle_set(text: str) -> np.ndarray:
    """The sorted distinct shingle hashes of a compact text."""
    return sorted_unique(shingle_hashes(text))


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def minhash_signatures(
    hashes: np.ndarray, offsets: np.ndarray, num_perm: int = NUM_PERM, seed: int = MINHASH_SEED
) -> np.ndarray:
    """MinHash signatures (one row per text; text ``i`` has ``hashes[offsets[i]:offsets[i+1]]``)
    with datasketch's ``affine32`` scheme, exactly as ``MinHash(scheme="affine32")
    .update_batch`` computes them from the 32-bit shingle hashes, but for many texts per numpy
    call. A text without shingles keeps the empty signature (all ones)."""
    a, b = _permutations(num_perm, seed)
    n_texts = len(offsets) - 1
    out = np.full((n_texts, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    sizes = np.diff(offsets)
    with np.errstate(over="ignore"):
        hv_all = _fmix32((hashes >> _U64(32)).astype(np.uint32))
        start = 0
        while start < n_texts:
            # Texts whose shingles add up to about _BATCH_SHINGLES (at least one text).
            stop = int(np.searchsorted(offsets, offsets[start] + _BATCH_SHINGLES, side="right")) - 1
            stop = min(max(stop, start + 1), n_texts)
            rows = np.arange(start, stop)
            rows = rows[sizes[start:stop] > 0]
            if len(rows):
                hv = hv_all[offsets[start] : offsets[stop]]
                phv = np.multiply.outer(a, hv)
                phv += b[:, None]
                local = offsets[rows] - offsets[start]
                out[rows] = np.minimum.reduceat(phv, local, axis=1).T
            start = stop
    return out


def jaccard_and_containment(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Exact Jaccard and containment (of the smaller in the larger) of two shingle sets."""
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter), inter / min(len(a), len(b))


# --- shared passages ------------------------------------------------------------------


_WHITESPACE_CODEPOINTS = np.array(
    [c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32
)  # every character str.split() splits on (none above U+3000)


def _compact_index(text: str) -> tuple[str, np.ndarray]:
    """The compact form of normalised ``text`` and, for each of its characters, where it
    stands in ``text``."""
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    where = np.flatnonzero(~np.isin(cps, _WHITESPACE_CODEPOINTS))
    kept = cps[where].tobytes().decode("utf-32-le")
    lowered = kept.lower()
    return (lowered if len(lowered) == len(kept) else kept), where


def shared_passages(
    original_text: str, copy_text: str, limit: int = MAX_PASSAGES
) -> tuple[dict[str, Any], ...]:
    """The longest runs of the copy whose 5-grams all stand in the original (in any order,
    so moved paragraphs count), as passages of the copy's normalised text."""
    copy_norm = normalise_text(copy_text)
    copy_compact, where = _compact_index(copy_norm)
    orig_set = shingle_set(compact(original_text))
    hashes = shingle_hashes(copy_compact)
    if len(hashes) == 0 or len(orig_set) == 0:
        return ()
    present = in_sorted(hashes, orig_set)
    # Runs of consecutive shared shingles.
    padded = np.concatenate([[False], present, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    runs = [(int(s), int(e)) for s, e in zip(edges[0::2], edges[1::2], strict=True)]
    runs.sort(key=lambda r: r[0] - r[1])
    passages = []
    for start, stop in runs[:limit]:
        last = min(stop - 1 + SHINGLE_SIZE - 1, len(where) - 1)
        if last - start + 1 < MIN_PASSAGE_CHARS:
            break
        begin, end = int(where[start]), int(where[last]) + 1
        passage = copy_norm[begin:end]
        passages.append(
            {
                "text": passage if len(passage) <= 400 else passage[:400] + "…",
                "start": begin,
                "end": end,
                "chars": end - begin,
            }
        )
    return tuple(passages)


# --- clustering -----------------------------------------------------------------------


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = parent.setdefault(x, x)
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _age_key(doc: TextDoc) -> tuple[float, int]:
    # Unknown dates sort last; ties go to the lower number (published first on the site).
    return (doc.created_at.timestamp() if doc.created_at else float("inf"), doc.key)


def candidate_pairs_datasketch(
    signatures: np.ndarray, bands: int = LSH_BANDS, rows: int = LSH_ROWS, seed: int = MINHASH_SEED
) -> set[tuple[int, int]]:
    """Index pairs (i < j) that share at least one LSH band, with ``datasketch.MinHashLSH``
    (the reference for ``candidate_pairs``; about 20x slower at 100k texts)."""
    lsh = MinHashLSH(num_perm=signatures.shape[1], params=(bands, rows))
    empty = np.iinfo(np.uint32).max
    with lsh.insertion_session() as session:
        for i, row in enumerate(signatures):
            if (row == empty).all():
                continue  # no shingles: nothing to compare
            minhash = LeanMinHash(seed=seed, hashvalues=row, scheme="affine32")
            session.insert(i, minhash, check_duplication=False)
    pairs: set[tuple[int, int]] = set()
    for table in lsh.hashtables:
        for bucket in table.keys():  # noqa: SIM118 (a datasketch storage, not a dict)
            members = sorted(table.get(bucket))
            pairs.update(
                (members[x], members[y])
                for x in range(len(members))
                for y in range(x + 1, len(members))
            )
    return pairs


# A band bucket with more texts than this is paired along a sliding window instead of all
# pairs (thousands of near-identical spam posts would otherwise give millions of pairs).
MAX_BUCKET_PAIRS_OF = 300
_BUCKET_WINDOW = 50


def candidate_pairs(
    signatures: np.ndarray, bands: int = LSH_BANDS, rows: int = LSH_ROWS
) -> set[tuple[int, int]]:
    """Index pairs (i < j) whose signatures agree on all ``rows`` values of at least one of
    ``bands`` bands: the banding of ``datasketch.MinHashLSH(params=(bands, rows))``,
    vectorised with numpy (the same pairs; see ``candidate_pairs_datasketch``)."""
    empty = np.iinfo(np.uint32).max
    idx = np.flatnonzero(~(signatures == empty).all(axis=1))
    pairs: set[tuple[int, int]] = set()
    if len(idx) < 2:
        return pairs
    sig = signatures[idx].astype(_U64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            # A 64-bit key per band; a collision can only add a candidate (all verified).
            key = np.zeros(len(idx), dtype=_U64)
            for r in range(band * rows, (band + 1) * rows):
                key = _fmix64(key ^ sig[:, r]) + _U64(r + 1)
            order = np.argsort(key, kind="stable")
            sorted_key = key[order]
            cuts = np.flatnonzero(sorted_key[1:] != sorted_key[:-1]) + 1
            starts = np.concatenate([[0], cuts])
            ends = np.concatenate([cuts, [len(order)]])
            for g in np.flatnonzero(ends - starts > 1):
                members = np.sort(idx[order[starts[g] : ends[g]]]).tolist()
                width = len(members) if len(members) <= MAX_BUCKET_PAIRS_OF else _BUCKET_WINDOW
                for x in range(len(members)):
                    for y in range(x + 1, min(len(members), x + 1 + width)):
                        pairs.add((members[x], members[y]))
    return pairs


def _signatures_of(texts: Sequence[str]) -> np.ndarray:
    out = []
    start = 0
    while start < len(texts):
        stop, chars = start, 0
        while stop < len(texts) and (stop == start or chars + len(texts[stop]) <= _BATCH_CHARS):
            chars += len(texts[stop])
            stop += 1
        hashes, offsets = batch_shingle_hashes(texts[start:stop])
        out.append(minhash_signatures(hashes, offsets))
        start = stop
    return np.concatenate(out) if out else np.zeros((0, NUM_PERM), dtype=np.uint32)


def is_near_duplicate(
    full: tuple[float, float], stripped: tuple[float, float], smaller: int
) -> bool:
    """The verification rule on exact (Jaccard, containment) of two texts, whole and with
    boilerplate removed; ``smaller`` = shingles of the smaller text."""
    if full[0] >= NEAR_JACCARD and stripped[0] >= NEAR_JACCARD_WITHOUT_BOILERPLATE:
        return True
    return (
        smaller >= CONTAINMENT_MIN_SHINGLES
        and full[1] >= NEAR_CONTAINMENT
        and stripped[1] >= NEAR_CONTAINMENT
        and full[0] >= CONTAINMENT_MIN_JACCARD
    )


def find_duplicates(
    docs: Sequence[TextDoc],
    *,
    boilerplate: set[str] | None = None,
    with_passages: bool = True,
) -> DuplicateResult:
    """Cluster exact and near copies among ``docs``; the earliest of a cluster is the
    original. ``boilerplate`` defaults to paragraphs found in >= 5 of the docs."""
    result = DuplicateResult()
    by_key = {d.key: d for d in docs}
    # One normalisation per text: its paragraphs feed the boilerplate count and, joined,
    # are the compact text.
    full_compact: dict[int, str] = {}
    counts: Counter[str] = Counter()
    for d in docs:
        parts = paragraphs(d.text)
        if boilerplate is None:
            counts.update({p for p in parts if len(p) >= BOILERPLATE_MIN_CHARS})
        full_compact[d.key] = "".join(parts)
    if boilerplate is None:
        boilerplate = {p for p, n in counts.items() if n >= BOILERPLATE_MIN_DOCS}
    result.boilerplate = sorted(boilerplate)
    result.compact = full_compact
    comparable = [d for d in docs if len(full_compact[d.key]) >= MIN_COMPARE_CHARS]

    uf = _UnionFind()
    # 1. exact copies: one representative per distinct text goes on to near matching.
    by_hash: dict[bytes, list[TextDoc]] = defaultdict(list)
    for d in comparable:
        by_hash[hashlib.sha256(full_compact[d.key].encode("utf-8")).digest()].append(d)
    representatives: list[TextDoc] = []
    for group in by_hash.values():
        group.sort(key=_age_key)
        representatives.append(group[0])
        for other in group[1:]:
            uf.union(group[0].key, other.key)

    # 2. near copies among the distinct texts: LSH candidates, verified exactly.
    full_sets: dict[int, np.ndarray] = {}
    stripped_sets: dict[int, np.ndarray] = {}

    def full_set(key: int) -> np.ndarray:
        if key not in full_sets:
            full_sets[key] = shingle_set(full_compact[key])
        return full_sets[key]

    def stripped_set(key: int) -> np.ndarray:
        if key not in stripped_sets:
            stripped = matching_text(by_key[key].text, boilerplate)
            same = stripped == full_compact[key]
            stripped_sets[key] = full_set(key) if same else shingle_set(stripped)
        return stripped_sets[key]

    if len(representatives) > 1:
        signatures = _signatures_of([full_compact[d.key] for d in representatives])
        pairs = candidate_pairs(signatures)
        result.candidate_pairs = len(pairs)
        for i, j in pairs:
            ki, kj = representatives[i].key, representatives[j].key
            full = jaccard_and_containment(full_set(ki), full_set(kj))
            if full[0] < CONTAINMENT_MIN_JACCARD:
                continue
            stripped = jaccard_and_containment(stripped_set(ki), stripped_set(kj))
            smaller = min(len(full_set(ki)), len(full_set(kj)))
            if is_near_duplicate(full, stripped, smaller):
                result.verified_pairs += 1
                uf.union(ki, kj)

    # 3. clusters, originals and evidence.
    groups: dict[int, list[int]] = defaultdict(list)
    for key in list(uf.parent):
        groups[uf.find(key)].append(key)
    for members in groups.values():
        if len(members) < 2:
            continue
        ordered = sorted((by_key[k] for k in members), key=_age_key)
        original = ordered[0]
        matches = []
        for doc in ordered[1:]:
            exact = full_compact[doc.key] == full_compact[original.key]
            if exact:
                jac = cont = 1.0
            else:
                jac, cont = jaccard_and_containment(full_set(doc.key), full_set(original.key))
            passages = shared_passages(original.text, doc.text) if with_passages else ()
            matches.append(
                DuplicateMatch(
                    copy=doc.key,
                    original=original.key,
                    method="exact" if exact else "near",
                    jaccard=jac,
                    containment=cont,
                    cross_account=(doc.author_key or "") != (original.author_key or ""),
                    passages=passages,
                )
            )
        result.clusters.append(
            DuplicateCluster(
                cluster_id=original.key,
                original=original.key,
                members=tuple(sorted(members)),
                authors=tuple(sorted({d.author_key or "" for d in ordered})),
                matches=tuple(matches),
            )
        )
    result.clusters.sort(key=lambda c: c.original)
    return result


def find_comment_copies(
    posts: Sequence[TextDoc],
    comments: Sequence[TextDoc],
    *,
    min_containment: float = COMMENT_COPY_CONTAINMENT,
    min_chars: int = COMMENT_COPY_MIN_CHARS,
    compact_texts: dict[int, str] | None = None,
) -> list[CommentCopy]:
    """Posts whose text contains (most of) a comment from the announcement thread.

    ``compact_texts`` (post key -> compact text, as ``find_duplicates`` leaves in
    ``DuplicateResult.compact``) saves normalising the posts again."""
    comment_sets = {
        c.key: shingle_set(compact(c.text)) for c in comments if len(compact(c.text)) >= min_chars
    }
    if not comment_sets or not posts:
        return []
    by_comment = {c.key: c for c in comments}
    keys = list(comment_sets)
    sizes = np.array([len(comment_sets[k]) for k in keys], dtype=np.float64)
    # Which comments hold each distinct thread shingle: a sparse (shingle x comment) matrix,
    # so one lookup per post counts its shared shingles with every comment at once.
    flat = np.concatenate([comment_sets[k] for k in keys])
    owner = np.repeat(np.arange(len(keys)), sizes.astype(np.int64))
    every, row = np.unique(flat, return_inverse=True)
    incidence = csr_matrix(
        (np.ones(len(flat), dtype=np.float64), (row.ravel(), owner)), shape=(len(every), len(keys))
    )
    needed = min_containment * sizes.min()
    texts = [
        compact_texts[p.key] if compact_texts and p.key in compact_texts else compact(p.text)
        for p in posts
    ]
    # First pass, for all posts at once: how many shingles each shares with the thread
    # (with repeats: an upper bound); only the few that could hold a copy are looked at.
    maybe: list[int] = []
    start = 0
    while start < len(texts):
        stop, chars = start, 0
        while stop < len(texts) and (stop == start or chars + len(texts[stop]) <= _BATCH_CHARS):
            chars += len(texts[stop])
            stop += 1
        hashes, offsets = batch_shingle_hashes(texts[start:stop])
        hits = np.concatenate([[0], np.cumsum(in_sorted(hashes, every))])
        per_text = hits[offsets[1:]] - hits[offsets[:-1]]
        maybe.extend(start + int(i) for i in np.flatnonzero(per_text >= needed))
        start = stop
    found = []
    for i in maybe:
        post = posts[i]
        post_set = shingle_set(texts[i])
        where = np.searchsorted(every, post_set)
        where[where == len(every)] = 0
        shared = where[every[where] == post_set]
        if len(shared) < needed:
            continue
        shares = np.asarray(incidence[shared].sum(axis=0)).ravel() / sizes
        best_index = int(np.argmax(shares))
        if shares[best_index] < min_containment:
            continue
        comment = by_comment[keys[best_index]]
        found.append(
            CommentCopy(
                post_number=post.key,
                comment_id=comment.key,
                comment_author=comment.author_key,
                containment=float(shares[best_index]),
                same_author=bool(comment.author_key) and comment.author_key == post.author_key,
                passages=shared_passages(comment.text, post.text),
            )
        )
    return found
