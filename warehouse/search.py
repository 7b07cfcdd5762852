"""Text search over posts (title, body, author) and comments that finds any substring of two
or more characters, Thai included (Thai is written without spaces, so word search misses).

Every text is indexed as ``warehouse.thai.compact_text`` gives it (the one normaliser:
invisible characters removed, NFC, SARA AM joined, Thai digits as ASCII, whitespace
removed, case folded), and so is the query. The text is stored, and matched, in
``search_code``: one byte per Thai character instead of UTF-8's three (see there), which makes
the scan of a common query's candidates about 5x quicker. ``search_grams`` holds one row per distinct
pair of adjacent characters (bigram) of each text: a text containing the query contains
all the query's bigrams, so the texts holding all of them are the candidates, and each
candidate is then checked for the whole query. Bigram ids are the two code points
(``first * 0x110000 + second``): exact and the same in Python and SQL.

Tables (migrations 0013, 0015): ``search_docs`` (one row per indexed text, its
``search_code``; a changed text gets a new row and the old one is marked not current), ``search_grams``, ``search_gram_docs``
(how many texts had each bigram: a search reads the rows of its three rarest) and
``search_pending`` (posts still to index: the migration queues every stored post, and
``ensure_indexed`` runs before a search answers). ``index_posts`` / ``index_comments`` are called by
``warehouse.store`` in the transaction that stores the posts and comments.
"""

from __future__ import annotations

import bisect
import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import duckdb

from warehouse.thai import NIKHAHIT, compact_text

CODE_POINTS: Final = 0x110000
FIELD_WEIGHTS: Final = {"title": 4.0, "author": 3.0, "body": 1.0, "comment": 0.5}
MIN_QUERY = 2  # characters, after normalising
MAX_QUERY_GRAMS = 64
RAREST_GRAMS = 3  # bigrams whose texts are read to find candidates
# The postings are skipped, and every current text read, when the rarest bigram of the query
# is in more than 1/SCAN_SHARE of the texts.
SCAN_SHARE = 10
_INDEX_CHUNK = 5000  # posts per pass when indexing the pending queue


def search_text(text: str | None) -> str:
    """What is indexed and searched: ``compact_text``."""
    return compact_text(text or "")


# search_code: Thai letters U+0E01-U+0E5B become the single bytes 0x21-0x7B, every ASCII
# character a pair (first byte 0x01-0x05, second 0x09-0x20 or 0x7C-0x7F), anything else
# stays UTF-8 (bytes of 0x80 and above). The three kinds of byte are disjoint, and a pair's
# first and second bytes too, so a coded query can only match a coded text at a
# character boundary: ``search_code(q) in search_code(t)`` exactly when ``q in t``.
_THAI_FIRST, _THAI_LAST = 0x0E01, 0x0E5B


def _code_table() -> dict[int, str]:
    table = {cp: chr(0x21 + cp - _THAI_FIRST) for cp in range(_THAI_FIRST, _THAI_LAST + 1)}
    for cp in range(0x80):
        rest = cp % 28
        table[cp] = chr(1 + cp // 28) + chr(0x09 + rest if rest < 24 else 0x7C + rest - 24)
    return table


_CODE: Final = str.maketrans(_code_table())


def search_code(normalised: str) -> str:
    """``normalised`` (a ``search_text``) as stored in ``search_docs.search_code``. DuckDB
    finds a substring in it several times faster than in UTF-8 Thai, where every character
    starts with the same byte."""
    return normalised.translate(_CODE)


def query_grams(query: str) -> list[int]:
    """The distinct bigram ids of a normalised query, at most ``MAX_QUERY_GRAMS``."""
    grams = sorted({ord(query[i]) * CODE_POINTS + ord(query[i + 1]) for i in range(len(query) - 1)})
    return grams[:MAX_QUERY_GRAMS]


# --- keeping the index -------------------------------------------------------------------


def _index_texts(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Index (post_number, comment_id, field, stored text) rows: a text whose normalised
    form changed (or is new) gets a new current doc and its bigrams."""
    if not rows:
        return
    texts = [search_text(r[3]) for r in rows]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _search_incoming AS SELECT "
        "unnest($posts::BIGINT[]) AS post_number, unnest($comments::BIGINT[]) AS comment_id, "
        "unnest($fields::VARCHAR[]) AS field, unnest($texts::VARCHAR[]) AS search_text, "
        "unnest($codes::VARCHAR[]) AS search_code",
        {
            "posts": [r[0] for r in rows],
            "comments": [r[1] for r in rows],
            "fields": [r[2] for r in rows],
            "texts": texts,
            "codes": [search_code(t) for t in texts],
        },
    )
    # Changed texts: the old doc stops being current (its bigram rows stay, ignored).
    con.execute(
        """
        UPDATE search_docs d SET current = false FROM _search_incoming i
        WHERE d.current AND d.post_number = i.post_number
          AND d.comment_id IS NOT DISTINCT FROM i.comment_id AND d.field = i.field
          AND d.search_code <> i.search_code
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _search_new AS
        SELECT nextval('search_doc_seq') AS doc_id, i.* FROM (
            SELECT DISTINCT ON (post_number, comment_id, field) * FROM _search_incoming
        ) i
        WHERE NOT EXISTS (
            SELECT 1 FROM search_docs d
            WHERE d.current AND d.post_number = i.post_number
              AND d.comment_id IS NOT DISTINCT FROM i.comment_id AND d.field = i.field
        )
        """
    )
    con.execute(
        "INSERT INTO search_docs (doc_id, post_number, comment_id, field, search_code) "
        "SELECT doc_id, post_number, comment_id, field, search_code FROM _search_new"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _search_new_grams AS
        SELECT DISTINCT gram, doc_id FROM (
            SELECT doc_id, unnest(list_transform(
                range(1, len(chars)),
                lambda i: unicode(chars[i])::BIGINT * {CODE_POINTS} + unicode(chars[i + 1])
            )) AS gram
            -- code points as a list: indexing it is constant time (substr is not)
            FROM (SELECT doc_id, string_split(search_text, '') AS chars FROM _search_new)
        )
        """
    )
    # In gram order, so that the rows of one bigram sit together and a lookup by gram
    # skips the blocks of others.
    con.execute("INSERT INTO search_grams SELECT gram, doc_id FROM _search_new_grams ORDER BY ALL")
    con.execute(
        """
        INSERT INTO search_gram_docs (gram, docs)
        SELECT gram, count(*) FROM _search_new_grams GROUP BY gram
        ON CONFLICT (gram) DO UPDATE SET docs = search_gram_docs.docs + excluded.docs
        """
    )
    con.execute("DROP TABLE _search_new_grams")
    con.execute("DROP TABLE _search_incoming")
    con.execute("DROP TABLE _search_new")


def index_posts(con: duckdb.DuckDBPyConnection, post_numbers: Sequence[int]) -> None:
    """(Re)index the stored title, body and author of these posts (``store_posts`` calls
    it in its transaction)."""
    numbers = sorted({int(n) for n in post_numbers})
    if not numbers:
        return
    found = con.execute(
        "SELECT post_number, title, body_text, "
        "concat_ws(' ', author_username, author_name) FROM posts "
        "WHERE post_number IN (SELECT unnest($numbers::BIGINT[]))",
        {"numbers": numbers},
    ).fetchall()
    rows = []
    for post_number, title, body, author in found:
        rows += [
            (post_number, None, "title", title),
            (post_number, None, "body", body),
            (post_number, None, "author", author),
        ]
    _index_texts(con, rows)


def index_comments(con: duckdb.DuckDBPyConnection, comment_ids: Sequence[int]) -> None:
    """(Re)index the stored text of these comments (``store_comments`` calls it in its
    transaction)."""
    ids = sorted({int(n) for n in comment_ids})
    if not ids:
        return
    found = con.execute(
        "SELECT post_number, comment_id, body_text FROM comments "
        "WHERE comment_id IN (SELECT unnest($ids::BIGINT[]))",
        {"ids": ids},
    ).fetchall()
    _index_texts(con, [(p, c, "comment", text) for p, c, text in found])


def index_pending(con: duckdb.DuckDBPyConnection) -> int:
    """Index the posts (and their comments) queued in ``search_pending``; returns how
    many posts were indexed."""
    pending = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT post_number FROM search_pending ORDER BY 1"
        ).fetchall()
    ]
    for start in range(0, len(pending), _INDEX_CHUNK):
        chunk = pending[start : start + _INDEX_CHUNK]
        index_posts(con, chunk)
        comment_ids = con.execute(
            "SELECT comment_id FROM comments "
            "WHERE post_number IN (SELECT unnest($numbers::BIGINT[]))",
            {"numbers": chunk},
        ).fetchall()
        index_comments(con, [r[0] for r in comment_ids])
    if pending:
        con.execute("DELETE FROM search_pending")
    return len(pending)


def ensure_indexed(con: duckdb.DuckDBPyConnection) -> None:
    """Index what ``search_pending`` queues (after migration 0013 on an existing warehouse)."""
    row = con.execute("SELECT EXISTS (SELECT 1 FROM search_pending)").fetchone()
    if row and row[0]:
        index_pending(con)


# --- searching ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    post_number: int
    score: float  # sum over matching texts of field weight x occurrences
    fields: tuple[str, ...]  # where it matched: title, author, body, comment
    comment_ids: tuple[int, ...]  # matching comments


def _current_docs(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM search_docs WHERE current").fetchone()
    return int(row[0]) if row else 0


def matches_sql(con: duckdb.DuckDBPyConnection, query: str) -> tuple[str, dict[str, Any]] | None:
    """SQL (and its parameters) giving ``post_number, score`` for every post matching
    ``query``; None when the normalised query is shorter than
    ``MIN_QUERY`` characters. For embedding in a larger query (the review queue)."""
    needle = search_text(query)
    if len(needle) < MIN_QUERY:
        return None
    ensure_indexed(con)
    grams = query_grams(needle)
    counts = dict(
        con.execute(
            "SELECT gram, docs FROM search_gram_docs WHERE list_contains($grams, gram)",
            {"grams": grams},
        ).fetchall()
    )
    # The rarest bigrams select the candidates; every candidate is checked for the whole
    # query. A bigram no text has: nothing matches.
    rarest = sorted(grams, key=lambda g: (counts.get(g, 0), g))[:RAREST_GRAMS]
    if counts.get(rarest[0], 0) == 0:
        return (
            "SELECT NULL::BIGINT AS post_number, NULL::DOUBLE AS score WHERE false",
            {},
        )
    weights = " ".join(f"WHEN '{f}' THEN {w}" for f, w in FIELD_WEIGHTS.items())
    if counts[rarest[0]] * SCAN_SHARE > _current_docs(con):
        # Even the rarest bigram is in a large share of the texts: reading every text once
        # costs less than gathering and joining that many postings (2.5x at 100,000 posts).
        docs = "SELECT post_number, comment_id, field, search_code FROM search_docs WHERE current"
    else:
        # One equality filter per bigram: each reads only the blocks holding that bigram.
        postings = " UNION ALL ".join(
            f"SELECT doc_id FROM search_grams WHERE gram = {int(g)}" for g in rarest
        )
        # Materialised steps, in this order: the candidates from the bigram rows, then
        # their docs (the join's filter on doc_id skips the blocks of other texts), then
        # the check of the whole query on those texts only (pushed into the scan it would
        # read every text).
        docs = f"""
            WITH cand AS MATERIALIZED (
                SELECT doc_id FROM ({postings}) GROUP BY doc_id HAVING count(*) = {len(rarest)}
            )
            SELECT d.post_number, d.comment_id, d.field, d.search_code
            FROM search_docs d JOIN cand USING (doc_id) WHERE d.current
        """
    # Occurrences counted in bytes (strlen is the stored length; length() would count
    # characters by reading each text again): the same count, since whole needles are
    # removed.
    sql = f"""
        WITH docs AS MATERIALIZED ({docs})
        SELECT post_number,
               sum((CASE field {weights} ELSE 1 END)
                   * ((strlen(search_code) - strlen(replace(search_code, $needle, '')))
                      // strlen($needle))) AS score
        FROM docs WHERE contains(search_code, $needle)
        GROUP BY post_number
    """
    return sql, {"needle": search_code(needle)}


def search_posts(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    post_numbers_sql: str | None = None,
    params: dict[str, Any] | None = None,
    limit: int = 50,
) -> tuple[list[SearchHit], int]:
    """The posts matching ``query``, best first (score, then newest post number), at most
    ``limit``, and how many match in all. ``post_numbers_sql`` (with ``params``) limits
    them to the post numbers it selects, e.g. one campaign's entries."""
    built = matches_sql(con, query)
    if built is None:
        return [], 0
    sql, values = built
    values = {**values, **(params or {}), "limit": int(limit)}
    where = f"WHERE post_number IN ({post_numbers_sql})" if post_numbers_sql else ""
    rows = con.execute(
        f"""
        WITH m AS ({sql})
        SELECT post_number, score, count(*) OVER () FROM m {where}
        ORDER BY score DESC, post_number DESC LIMIT $limit
        """,
        values,
    ).fetchall()
    if not rows:
        return [], 0
    # Where each of these few posts matched; gathered for them alone, not for every match.
    where_found = {
        r[0]: (tuple(r[1] or ()), tuple(r[2] or ()))
        for r in con.execute(
            """
            SELECT post_number, list_sort(list_distinct(list(field))),
                   list_sort(list(comment_id) FILTER (WHERE comment_id IS NOT NULL))
            FROM search_docs
            WHERE current AND post_number IN (SELECT unnest($numbers::BIGINT[]))
              AND contains(search_code, $needle)
            GROUP BY post_number
            """,
            {"numbers": [r[0] for r in rows], "needle": values["needle"]},
        ).fetchall()
    }
    hits = [SearchHit(int(r[0]), float(r[1]), *where_found.get(int(r[0]), ((), ()))) for r in rows]
    return hits, int(rows[0][2])


# --- where a query occurs in the stored text (for highlighting) --------------------------


def _clusters(text: str) -> list[tuple[int, int]]:
    """(start, end) of each character of ``text`` with the combining marks, invisible
    characters and SARA AA (after NIKHAHIT) that normalising may join to it."""
    bounds: list[tuple[int, int]] = []
    for i, ch in enumerate(text):
        joins = unicodedata.combining(ch) or unicodedata.category(ch) == "Cf"
        if bounds and (joins or (ch == "\u0e32" and NIKHAHIT in text[bounds[-1][0] : i])):
            bounds[-1] = (bounds[-1][0], i + 1)
        else:
            bounds.append((i, i + 1))
    return bounds


@functools.lru_cache(maxsize=4096)
def _piece(cluster: str) -> str:
    # A text has few distinct characters: normalising each once keeps long bodies quick.
    return search_text(cluster)


def match_spans(text: str | None, query: str, *, limit: int = 200) -> list[tuple[int, int]]:
    """(start, end) spans of ``text`` (as stored) where the normalised ``query`` occurs in
    the normalised text, at most ``limit``; empty if the query is too short."""
    text = text or ""
    needle = search_text(query)
    if len(needle) < MIN_QUERY or not text:
        return []
    if needle not in search_text(text):
        return []
    clusters = _clusters(text)
    pieces = [_piece(text[a:b]) for a, b in clusters]
    compact = "".join(pieces)
    if needle not in compact:
        return []
    # starts[k] = position in ``compact`` where cluster k's normalised form begins.
    starts = []
    position = 0
    for piece in pieces:
        starts.append(position)
        position += len(piece)
    spans: list[tuple[int, int]] = []
    found = compact.find(needle)
    while found >= 0 and len(spans) < limit:
        first = bisect.bisect_right(starts, found) - 1
        last = bisect.bisect_right(starts, found + len(needle) - 1) - 1
        spans.append((clusters[first][0], clusters[last][1]))
        found = compact.find(needle, found + len(needle))
    return spans


def passage(text: str | None, query: str, *, width: int = 60) -> tuple[str, list[tuple[int, int]]]:
    """The part of ``text`` around the first match (``width`` characters either side) and
    the match spans within it; ("", []) if it does not match."""
    text = text or ""
    spans = match_spans(text, query)
    if not spans:
        return "", []
    start = max(0, spans[0][0] - width)
    end = min(len(text), spans[0][1] + width)
    inside = [(a - start, b - start) for a, b in spans if a >= start and b <= end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix)
    return (
        prefix + text[start:end] + suffix,
        [(a + shift, b + shift) for a, b in inside],
    )
