"""tagdraw-draw-v1, the pure part: known answers from an independent implementation of the
spec (hashlib and hmac only), determinism, sensitivity, one prize per author, and a
certificate verifier that names what differs."""

from __future__ import annotations

import copy
import hashlib
import hmac
import unicodedata

import pytest

from warehouse import draw
from warehouse.errors import UserError

# --- a from-scratch implementation of shared/design.md, sharing no code with the product ---


def spec_pool(rows: list[tuple[int, str]]) -> str:
    body = "".join(f"{n},{a.lower()}\n" for n, a in sorted(rows))
    return "post_number,author_key\n" + body


def spec_value(value: str) -> str:
    """A value's canonical form: NFC, Thai digits (U+0E50..U+0E59) as ASCII, no whitespace."""
    value = unicodedata.normalize("NFC", value)
    value = "".join(chr(ord(c) - 0x0E50 + 48) if "\u0e50" <= c <= "\u0e59" else c for c in value)
    return "".join(value.split())


def spec_rank(pool: str, values: list[str]) -> list[tuple[int, str, str]]:
    digest = hashlib.sha256(pool.encode("utf-8")).hexdigest()
    randomness = "".join(spec_value(v) + "/" for v in values)
    prk = hmac.new(bytes.fromhex(digest), randomness.encode(), hashlib.sha256).digest()
    scored = []
    for line in pool.split("\n")[1:-1]:
        number, author = line.split(",", 1)
        mac = hmac.new(prk, str(int(number)).encode() + b"\x01", hashlib.sha256).digest()
        scored.append((int.from_bytes(mac, "big"), int(number), author))
    scored.sort()
    return [(n, a, format(s, "064x")) for s, n, a in scored]


def spec_choose(ranked: list[tuple[int, str, str]], k: int, m: int, one_per_author: bool):
    chosen: list[int] = []
    seen: set[str] = set()
    for number, author, _ in ranked:
        if len(chosen) == k + m:
            break
        if one_per_author and author in seen:
            continue
        chosen.append(number)
        seen.add(author)
    return chosen[:k], chosen[k:]


def sample_rows(n: int = 60) -> list[tuple[int, str]]:
    # Some authors hold several entries so that one-prize-per-author has work to do.
    return [(545000 + 7 * i, f"Author{i % 17}") for i in range(n)]


# --- known answers ----------------------------------------------------------------------


def test_pool_text_matches_the_spec_and_hashes_its_bytes() -> None:
    rows = sample_rows()
    text = draw.pool_text(reversed(rows))  # any input order; sorted by post number
    assert text == spec_pool(rows)
    assert text.startswith("post_number,author_key\n545000,author0\n") and text.endswith("\n")
    assert draw.pool_hash(text) == hashlib.sha256(text.encode()).hexdigest()


def test_a_fixed_known_answer_for_a_tiny_pool() -> None:
    # Computed once with `sha256sum` and `openssl dgst -sha256 -mac HMAC` (a third, unrelated
    # implementation) and pinned, so that a change mirrored in both Python versions shows up.
    text = draw.pool_text([(3, "C"), (1, "a"), (2, "b")])
    assert text == "post_number,author_key\n1,a\n2,b\n3,c\n"
    assert draw.pool_hash(text) == (
        "4c24333da1d37af5c59c475cc67ecffacdf361ac7a1fc4f4eaf53e802c9ef2c8"
    )
    ranked = draw.rank(text, "123456/")
    assert [(e.post_number, e.score_hex) for e in ranked] == [
        (1, "6ce1a92f26d57f8e307c3b8f86de75ff1daffdbb92bfe6f54461d9f8dff804ae"),
        (2, "753bc6484b81e3fa3b16b171e33f9d2179ec6b12a1dc08b9ec4ac2c800276ad1"),
        (3, "e4266453a1affd1dc6ef285e4f41a6062041c2e024003b76764076d4b6b895ad"),
    ]
    assert [(e.post_number, e.author_key, e.score_hex) for e in ranked] == spec_rank(
        text, ["123456"]
    )


@pytest.mark.parametrize(
    "values", [["123456"], [" 123456 ", "07"], ["๑๒๓๔๕๖"], ["998877", "123", "45"]]
)
def test_ranking_equals_the_independent_implementation(values: list[str]) -> None:
    rows = sample_rows()
    text = draw.pool_text(rows)
    randomness = draw.randomness_string(values)
    assert randomness == "".join(spec_value(v) + "/" for v in values)
    ranked = draw.rank(text, randomness)
    expected = spec_rank(spec_pool(rows), values)
    assert [(e.post_number, e.author_key, e.score_hex) for e in ranked] == expected
    for one_per_author in (True, False):
        assert draw.choose(ranked, 4, 3, one_per_author) == spec_choose(
            expected, 4, 3, one_per_author
        )


def test_same_inputs_same_result() -> None:
    text = draw.pool_text(sample_rows())
    first = draw.build_certificate(
        campaign="c", pool=text, randomness="123456/", sources=[], prizes=4, alternates=2
    )
    second = draw.build_certificate(
        campaign="c", pool=text, randomness="123456/", sources=[], prizes=4, alternates=2
    )
    for key in ("pool_hash", "ranking", "winners", "alternate_list"):
        assert first[key] == second[key]


def test_one_changed_pool_row_changes_the_outcome() -> None:
    rows = sample_rows()
    changed = [*rows[:-1], (rows[-1][0] + 1, rows[-1][1])]
    a = draw.rank(draw.pool_text(rows), "123456/")
    b = draw.rank(draw.pool_text(changed), "123456/")
    # The pool hash keys every score: no entry keeps its score.
    scores_a = {e.post_number: e.score_hex for e in a}
    scores_b = {e.post_number: e.score_hex for e in b}
    assert all(scores_a[n] != scores_b[n] for n in scores_a.keys() & scores_b.keys())
    assert [e.post_number for e in a][:10] != [e.post_number for e in b][:10]


def test_one_changed_randomness_character_changes_the_outcome() -> None:
    text = draw.pool_text(sample_rows())
    a = draw.rank(text, "123456/")
    b = draw.rank(text, "123457/")
    assert [e.post_number for e in a] != [e.post_number for e in b]
    assert draw.choose(a, 4, 2) != draw.choose(b, 4, 2)


def test_one_prize_per_author_holds() -> None:
    rows = [(545000 + i, f"author{i % 3}") for i in range(30)]  # three authors, ten posts each
    ranked = draw.rank(draw.pool_text(rows), "42/")
    winners, alternates = draw.choose(ranked, 2, 5, True)
    chosen = winners + alternates
    authors = {n: a for n, a in rows}
    assert len(chosen) == 3  # only three authors exist
    assert len({authors[n] for n in chosen}) == 3
    winners_any, alternates_any = draw.choose(ranked, 2, 5, False)
    assert winners_any + alternates_any == [e.post_number for e in ranked[:7]]


def test_bad_pool_rows_and_randomness_are_refused() -> None:
    with pytest.raises(UserError, match="twice"):
        draw.pool_text([(1, "a"), (1, "b")])
    with pytest.raises(UserError, match="comma"):
        draw.pool_text([(1, "a,b")])
    with pytest.raises(UserError):
        draw.randomness_string([])
    with pytest.raises(UserError):
        draw.randomness_string(["12/34"])
    with pytest.raises(UserError, match="end with"):
        draw.split_randomness("123456")
    assert draw.split_randomness("123456/07/") == ["123456", "07"]


# --- certificates ------------------------------------------------------------------------


@pytest.fixture
def certificate() -> dict:
    return draw.build_certificate(
        campaign="social-2013",
        pool=draw.pool_text(sample_rows()),
        randomness="123456/",
        sources=[{"value": "123456", "source": "Thai Government Lottery first prize"}],
        prizes=4,
        alternates=3,
    )


def test_certificate_has_the_contract_keys(certificate: dict) -> None:
    for key in draw.CERTIFICATE_KEYS:
        assert key in certificate
    assert certificate["algorithm"] == "tagdraw-draw-v1"
    assert all(len(r["score"]) == 64 for r in certificate["ranking"])
    assert len(certificate["winners"]) == 4 and len(certificate["alternate_list"]) == 3


def test_verify_passes_on_a_good_certificate(certificate: dict) -> None:
    assert draw.verify_certificate(certificate) == draw.VerifyResult(True, [])


def test_verify_names_a_changed_pool_row(certificate: dict) -> None:
    bad = copy.deepcopy(certificate)
    bad["pool"] = bad["pool"].replace("545007,author1\n", "545008,author1\n")
    assert bad["pool"] != certificate["pool"]
    result = draw.verify_certificate(bad)
    assert not result.ok
    assert any(d.startswith("pool_hash:") for d in result.differences)


def test_verify_names_a_swapped_winner(certificate: dict) -> None:
    bad = copy.deepcopy(certificate)
    bad["winners"][0] = bad["alternate_list"][0]
    result = draw.verify_certificate(bad)
    assert not result.ok
    assert [d for d in result.differences if d.startswith("winners:")]
    assert len(result.differences) == 1


def test_verify_names_a_changed_score(certificate: dict) -> None:
    bad = copy.deepcopy(certificate)
    bad["ranking"][2]["score"] = "0" * 64
    result = draw.verify_certificate(bad)
    assert result.differences == [
        f'ranking[2].score: the certificate says "{"0" * 64}", '
        f're-derived "{certificate["ranking"][2]["score"]}"'
    ]


def test_verify_names_changed_randomness_and_unknown_algorithm(certificate: dict) -> None:
    bad = copy.deepcopy(certificate)
    bad["randomness"] = "123457/"
    result = draw.verify_certificate(bad)
    assert any(d.startswith("sources:") for d in result.differences)
    assert any(d.startswith("ranking[") for d in result.differences)
    other = copy.deepcopy(certificate)
    other["algorithm"] = "tagdraw-draw-v2"
    assert draw.verify_certificate(other).differences[0].startswith("algorithm:")
    missing = copy.deepcopy(certificate)
    del missing["winners"]
    assert "missing key 'winners'" in draw.verify_certificate(missing).differences


def test_replacement_takes_the_next_alternate_and_still_verifies(certificate: dict) -> None:
    second = certificate["winners"][1]
    after = draw.apply_replacement(certificate, second, reason="copied post", by="admin")
    assert certificate["replacements"] == []  # the input is left alone
    assert after["replacements"][0]["replacement"] == certificate["alternate_list"][0]
    assert after["final_winners"][1] == certificate["alternate_list"][0]
    assert after["winners"] == certificate["winners"]  # the draw itself is not re-run
    assert draw.verify_certificate(after).ok
    # The replacement itself can be disqualified: the next alternate follows.
    again = draw.apply_replacement(after, after["final_winners"][1], reason="x", by="admin")
    assert again["final_winners"][1] == certificate["alternate_list"][1]
    assert draw.verify_certificate(again).ok
    # A forged replacement (skipping an alternate) is named.
    forged = copy.deepcopy(after)
    forged["replacements"][0]["replacement"] = certificate["alternate_list"][2]
    forged["final_winners"][1] = certificate["alternate_list"][2]
    differences = draw.verify_certificate(forged).differences
    assert any(d.startswith("replacements[0]:") for d in differences)
    with pytest.raises(UserError, match="holds no prize"):
        draw.apply_replacement(certificate, certificate["alternate_list"][0], reason="x", by="a")


def test_replacements_run_out_into_a_vacant_prize() -> None:
    cert = draw.build_certificate(
        campaign="c",
        pool=draw.pool_text([(1, "a"), (2, "b")]),
        randomness="1/",
        sources=[],
        prizes=1,
        alternates=1,
    )
    first = draw.apply_replacement(cert, cert["winners"][0], reason="r", by="a")
    second = draw.apply_replacement(first, first["final_winners"][0], reason="r", by="a")
    assert second["final_winners"] == [None]
    assert draw.verify_certificate(second).ok


@pytest.mark.parametrize("junk", [None, "x", [], {}, 5, -1, [None], [{"post_number": "1"}]])
def test_verify_reports_junk_instead_of_crashing(certificate: dict, junk: object) -> None:
    for key in [*draw.CERTIFICATE_KEYS, "final_winners"]:
        if (key, junk) in (("replacements", []), ("campaign", "x"), ("version", "x")):
            continue  # valid: no replacements; a campaign or code version named "x"
        bad = copy.deepcopy(certificate)
        bad[key] = junk
        result = draw.verify_certificate(bad)
        assert not result.ok, key
        assert result.differences, key
    assert not draw.verify_certificate([]).ok  # type: ignore[arg-type]


# --- the canonical randomness value ------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["123456", " 123456 ", "๑๒๓๔๕๖", "123 456", "1 2 3\t4\u00a05 6", "12345\u200b6"]
)
def test_every_spelling_of_a_value_is_one_canonical_value(spelling: str) -> None:
    assert draw.canonical_value(spelling) == "123456"
    assert draw.randomness_string([spelling]) == "123456/"


def test_canonical_value_is_nfc_and_refuses_empty_or_slash() -> None:
    assert draw.canonical_value("e\u0301") == "\u00e9"
    for bad in (" ", "\u200b", "12/34"):
        with pytest.raises(UserError):
            draw.canonical_value(bad)


def test_an_old_certificate_without_a_value_count_still_verifies() -> None:
    # Made before values were canonicalised: the string is used exactly as it was stored.
    old = draw.build_certificate(
        campaign="c",
        pool=draw.pool_text(sample_rows()),
        randomness="๑๒๓๔๕๖/1/",
        sources=[{"value": "๑๒๓๔๕๖"}, {"value": "1"}],
        prizes=2,
        alternates=1,
    )
    assert draw.verify_certificate(old).ok


def test_verify_checks_the_announced_count_and_the_canonical_form(certificate: dict) -> None:
    certificate["randomness_values"] = 1
    certificate["randomness_digits"] = 6
    assert draw.verify_certificate(certificate).ok
    two = draw.build_certificate(
        campaign="c",
        pool=certificate["pool"],
        randomness="123456/1/",
        sources=[],
        prizes=4,
        alternates=3,
        extra={"randomness_values": 1},
    )
    assert any("announced 1 value" in d for d in draw.verify_certificate(two).differences)
    odd = draw.build_certificate(
        campaign="c",
        pool=certificate["pool"],
        randomness="๑๒๓๔๕๖/",
        sources=[],
        prizes=4,
        alternates=3,
        extra={"randomness_values": 1, "randomness_digits": 6},
    )
    assert any("not canonical" in d for d in draw.verify_certificate(odd).differences)
    short = dict(certificate, randomness_digits=7)
    assert any("7 digits" in d for d in draw.verify_certificate(short).differences)
