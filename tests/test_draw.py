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
    """A value's canonical form: trimmed, every Unicode decimal digit as its ASCII digit."""
    return "".join(str(unicodedata.decimal(c)) for c in value.strip())


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
    "values",
    [["123456"], [" 123456 ", "07"], ["๑๒๓๔๕๖"], ["１２３４５６"], ["998877", "123", "45"]],
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
    "spelling",
    [
        "123456",
        " 123456 ",
        "\t123456\n",
        "๑๒๓๔๕๖",  # Thai
        "１２３４５６",  # full-width
        "١٢٣٤٥٦",  # Arabic-Indic
        "۱۲۳۴۵۶",  # extended Arabic-Indic
        "𝟏𝟐𝟑𝟒𝟓𝟔",  # mathematical bold
        "१२३४५६",  # Devanagari
        "12๓４٥𝟔",  # mixed scripts: still one value
    ],
)
def test_every_digit_spelling_is_one_canonical_value(spelling: str) -> None:
    assert draw.canonical_value(spelling) == "123456"
    assert draw.randomness_string([spelling]) == "123456/"


@pytest.mark.parametrize(
    "spelling",
    [
        "123,456",
        "123 456",
        "1 2 3\t4\u00a05 6",
        "12345\u200b6",
        "\u200b123456",
        "123456\u200d",
        "123.456",
        "-123456",
        "+123456",
        "12³456",  # a superscript is a digit but not a decimal digit
        "١٢٣,٤٥٦",
        "12345６\u0301",
        "Ⅻ",
        "12/34",
        "",
        " ",
        "\u200b",
    ],
)
def test_anything_but_decimal_digits_is_refused_not_dropped(spelling: str) -> None:
    with pytest.raises(UserError):
        draw.canonical_value(spelling)
    with pytest.raises(UserError):
        draw.randomness_string([spelling])


def test_an_old_certificate_without_a_value_count_still_verifies() -> None:
    # Made before the freeze recorded the count and digits: an ASCII-digit string verifies.
    old = draw.build_certificate(
        campaign="c",
        pool=draw.pool_text(sample_rows()),
        randomness="123456/1/",
        sources=[{"value": "123456"}, {"value": "1"}],
        prizes=2,
        alternates=1,
    )
    assert draw.verify_certificate(old).ok


@pytest.mark.parametrize(
    "randomness", ["123\u200b456/", "๑๒๓๔๕๖/", "１２３４５６/", "123,456/", "123 456/", "abc/"]
)
def test_verify_refuses_a_randomness_string_that_is_not_ascii_digits(
    certificate: dict, randomness: str
) -> None:
    """A certificate stripped of its format keys, with a string that displays as the
    published value but is not it (issue 17: ``123\u200b456/`` verified with other winners)."""
    forged = draw.build_certificate(
        campaign="c",
        pool=certificate["pool"],
        randomness=randomness,
        sources=[{"value": v} for v in randomness[:-1].split("/")],
        prizes=4,
        alternates=3,
    )
    for key in ("randomness_values", "randomness_digits"):
        assert key not in forged
    result = draw.verify_certificate(forged)
    assert not result.ok
    assert any(d.startswith("randomness:") and "ASCII digits" in d for d in result.differences), (
        result.differences
    )


def test_verify_reads_the_format_from_the_announced_source(certificate: dict) -> None:
    """Without the format keys, the note the freeze appended to the source still fixes it."""
    forged = draw.build_certificate(
        campaign="c",
        pool=certificate["pool"],
        randomness="0123456/",
        sources=[{"value": "0123456"}],
        prizes=4,
        alternates=3,
        extra={"randomness_source": "สลากกินแบ่งรัฐบาล รางวัลที่ 1 [1 value, 6 digits each]"},
    )
    differences = draw.verify_certificate(forged).differences
    assert any("6 digits" in d for d in differences), differences
    fits = draw.build_certificate(
        campaign="c",
        pool=certificate["pool"],
        randomness="123456/",
        sources=[{"value": "123456"}],
        prizes=4,
        alternates=3,
        extra={"randomness_source": "สลากกินแบ่งรัฐบาล รางวัลที่ 1 [1 value, 6 digits each]"},
    )
    assert draw.verify_certificate(fits).ok
    # Keys and note disagree: named.
    clash = dict(fits, randomness_values=1, randomness_digits=7)
    assert any("randomness_digits" in d for d in draw.verify_certificate(clash).differences)


def test_a_certificate_with_duplicate_keys_is_refused(tmp_path, certificate: dict) -> None:
    """A reader sees the first "winners", json.load the last: such a file is refused."""
    text = draw.certificate_json(certificate)
    doubled = text.replace(
        '"winners": ', f'"winners": {certificate["alternate_list"]!r},\n  "winners": ', 1
    )
    path = tmp_path / "cert.json"
    path.write_text(doubled, "utf-8")
    with pytest.raises(UserError, match="'winners' twice"):
        draw.load_certificate(str(path))
    nested = text.replace('"post_number": ', '"post_number": 1, "post_number": ', 1)
    path.write_text(nested, "utf-8")
    with pytest.raises(UserError, match="'post_number' twice"):
        draw.load_certificate(str(path))
    path.write_text(text, "utf-8")
    assert draw.load_certificate(str(path)) == certificate


def test_a_huge_number_in_a_certificate_file_is_one_clear_error(tmp_path) -> None:
    path = tmp_path / "cert.json"
    path.write_text('{"prizes": ' + "9" * 5000 + "}", "utf-8")
    with pytest.raises(UserError, match="not a JSON certificate"):
        draw.load_certificate(str(path))


def test_a_pool_line_with_a_huge_post_number_is_a_difference(certificate: dict) -> None:
    huge = "9" * 5000
    bad = copy.deepcopy(certificate)
    bad["pool"] = bad["pool"].replace("545007,author1\n", f"{huge},author1\n")
    result = draw.verify_certificate(bad)
    assert not result.ok
    assert any("pool line" in d and "too large" in d for d in result.differences)
    rows, problems = draw.parse_pool(f"post_number,author_key\n{2**63},a\n")
    assert problems and "too large" in problems[0]
    rows, problems = draw.parse_pool(f"post_number,author_key\n{2**63 - 1},a\n")
    assert not problems and rows[0].post_number == 2**63 - 1
    with pytest.raises(UserError, match="too large"):
        draw.pool_text([(2**63, "a")])


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
    assert any("ASCII digits" in d for d in draw.verify_certificate(odd).differences)
    short = dict(certificate, randomness_digits=7)
    assert any("7 digits" in d for d in draw.verify_certificate(short).differences)


def test_every_code_point_is_a_digit_or_refused() -> None:
    """Exhaustive over Unicode: a character inside a value either is a decimal digit (and
    becomes that ASCII digit) or makes the value refused. Nothing is silently dropped."""
    kept = 0
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) in ("Cn", "Co"):
            continue  # unassigned and private use: no digit value, like any other refusal
        if char.isspace():
            continue  # only trimmed at the ends; inside a value a space is refused (above)
        decimal = unicodedata.decimal(char, None)
        try:
            value = draw.canonical_value("1" + char + "2")
        except UserError:
            assert decimal is None, hex(code)
            continue
        assert value == f"1{decimal}2", hex(code)
        kept += 1
    assert kept == sum(1 for c in range(0x110000) if unicodedata.decimal(chr(c), None) is not None)
    assert kept >= 600  # Thai, full-width, Arabic-Indic, mathematical, ... (Unicode 15: 680)
