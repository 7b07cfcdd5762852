from __future__ import annotations

from datetime import datetime

import pytest

from warehouse.thai import (
    BANGKOK,
    ThaiDateError,
    compact_text,
    format_thai_date,
    normalise_tag,
    normalise_text,
    parse_thai_datetime,
    parse_user_datetime,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6 สิงหาคม 2013 15:00 น.", datetime(2013, 8, 6, 15, 0, tzinfo=BANGKOK)),
        ("6 สิงหาคม 2556 15:00 น.", datetime(2013, 8, 6, 15, 0, tzinfo=BANGKOK)),
        ("7 ส.ค. 2556", datetime(2013, 8, 7, tzinfo=BANGKOK)),
        ("7 สค. 2556", datetime(2013, 8, 7, tzinfo=BANGKOK)),
        ("7 ส.ค 2013", datetime(2013, 8, 7, tzinfo=BANGKOK)),
        ("๗ ส.ค. ๒๕๕๖", datetime(2013, 8, 7, tzinfo=BANGKOK)),
        ("๖ สิงหาคม ๒๕๕๖ ๑๕:๐๐ น.", datetime(2013, 8, 6, 15, 0, tzinfo=BANGKOK)),
        ("เขียนเมื่อ 31 ธ.ค. 2556 23.59 น.", datetime(2013, 12, 31, 23, 59, tzinfo=BANGKOK)),
        ("2013-08-22T10:05:00+07:00", datetime(2013, 8, 22, 10, 5, tzinfo=BANGKOK)),
        ("2013-08-22T03:05:00Z", datetime(2013, 8, 22, 10, 5, tzinfo=BANGKOK)),
        ("1 ก.พ. 2557", datetime(2014, 2, 1, tzinfo=BANGKOK)),
    ],
)
def test_parses_every_site_form(text: str, expected: datetime) -> None:
    assert parse_thai_datetime(text) == expected


@pytest.mark.parametrize("text", ["", "เมื่อวาน", "32 ส.ค. 2556", "7 ส.ต. 2556", "2013-13-40"])
def test_bad_dates_raise_with_the_text(text: str) -> None:
    with pytest.raises(ThaiDateError):
        parse_thai_datetime(text)


def test_operator_dates_mean_the_whole_day_in_bangkok() -> None:
    closes = parse_user_datetime("2013-08-31", end_of_day=True)
    assert closes == datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)
    assert parse_user_datetime("2013-08-31T10:30", end_of_day=True).hour == 10


def test_tag_normalisation_removes_invisible_differences() -> None:
    plain = normalise_tag("สังคมออนไลน์")
    for variant in ["#สังคมออนไลน์", "สังคมออนไลน์ ", "สังคม\u200bออนไลน์", "\ufeff#สังคมออนไลน์\u00ad"]:
        assert normalise_tag(variant) == plain
    assert normalise_tag("สังคมออนไลน") != plain
    assert normalise_tag("Social") == normalise_tag("SOCIAL")


def test_text_normalisation() -> None:
    assert normalise_text("ก\u00a0\u00a0ข\n\nค\u200b") == "ก ข ค"
    assert compact_text("ส ล็ อ ต\u200bเว็บตรง") == "สล็อตเว็บตรง"
    assert normalise_text("ปี ๒๕๕๖") == "ปี 2556"


def test_format_round_trips() -> None:
    value = datetime(2013, 8, 6, 15, 0, tzinfo=BANGKOK)
    assert format_thai_date(value) == "6 สิงหาคม 2556 15:00 น."
    assert format_thai_date(value, era="CE") == "6 สิงหาคม 2013 15:00 น."
    assert parse_thai_datetime(format_thai_date(value, short=True)) == value


# --- tags that look identical to the keyword ---------------------------------------------

KEYWORD = "ทำดีเพื่อสังคม"  # SARA AM (U+0E33), as organisers type it


@pytest.mark.parametrize(
    "variant",
    [
        "ท\u0e4d\u0e32ดีเพื่อสังคม",  # NIKHAHIT + SARA AA renders as SARA AM
        "ท\u0e4d\u200b\u0e32ดีเพื่อสังคม",  # ... with a zero-width space between
        "#ทำดีเพื่อสังคม\u202c",  # POP DIRECTIONAL FORMATTING
        "\u202bทำดีเพื่อสังคม\u202a",  # embeddings
        "\u202eทำดีเพื่อสังคม\u202d",  # overrides
        "\u2066ทำดีเพื่อสังคม\u2069",  # isolates
        "\u2067ทำดี\u2068เพื่อสังคม",
        "ทำดีเพื่อสังคม\u034f",  # COMBINING GRAPHEME JOINER
        "ทำดี\u061cเพื่อสังคม",  # ARABIC LETTER MARK (format, category Cf)
        "ทำดีเพื่อสังคม\U000e0001",  # LANGUAGE TAG (Cf, outside the BMP)
        "\u206aทำดีเพื่อสังคม\u206f",  # deprecated format characters
    ],
)
def test_tags_that_look_like_the_keyword_match_it(variant: str) -> None:
    assert normalise_tag(variant) == normalise_tag(KEYWORD) == KEYWORD


def test_every_format_character_is_removed() -> None:
    import sys
    import unicodedata

    invisible = [
        chr(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) == "Cf" or c == 0x034F
    ]
    assert normalise_text("ก" + "".join(invisible) + "ข") == "กข"
    assert normalise_tag("".join(invisible)) == ""


def test_tone_mark_typed_around_nikhahit_becomes_sara_am() -> None:
    water = "น\u0e49\u0e33"  # น้ำ as encoded: NO NU, MAI THO, SARA AM
    assert normalise_text("น\u0e4d\u0e49\u0e32") == water  # NIKHAHIT, tone, SARA AA
    assert normalise_text("น\u0e49\u0e4d\u0e32") == water  # tone, NIKHAHIT, SARA AA
    for tone in "\u0e48\u0e49\u0e4a\u0e4b":
        assert normalise_text(f"ก\u0e4d{tone}\u0e32") == f"ก{tone}\u0e33"
    assert normalise_tag("#น\u0e4d\u0e49\u0e32ใจ") == normalise_tag("น้ำใจ")


def test_thai_normalisation_leaves_other_text_alone() -> None:
    # NIKHAHIT alone (Pali/Sanskrit transliteration) and SARA AA alone are not SARA AM.
    assert normalise_text("สํสกฤต") == "สํสกฤต"
    assert normalise_text("มา") == "มา"
    assert normalise_text("กํ า") == "กํ า"  # a space between: not one vowel
    # Spaces are handled as before: squashed, not removed.
    assert normalise_text("ทำ\u00a0 ดี") == "ทำ ดี"
    assert normalise_tag("ทำดี เพื่อสังคม") != normalise_tag(KEYWORD)
    assert compact_text("ท\u0e4d\u0e32 ดี") == "ทำดี"


def test_marks_are_put_in_order_after_invisible_characters_go() -> None:
    # A COMBINING GRAPHEME JOINER between MAI THO and SARA U blocks NFC's reordering;
    # once it is removed the marks must still come out in canonical order.
    assert normalise_text("ก\u0e49\u034f\u0e38") == normalise_text("ก\u0e38\u0e49")


# --- operator-typed dates at the window's ends -------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2556-08-31", datetime(2013, 8, 31, tzinfo=BANGKOK)),
        ("2556-08-31T10:30", datetime(2013, 8, 31, 10, 30, tzinfo=BANGKOK)),
        ("2556-08-31 10:30:15", datetime(2013, 8, 31, 10, 30, 15, tzinfo=BANGKOK)),
        ("2555-02-29", datetime(2012, 2, 29, tzinfo=BANGKOK)),  # leap in CE, not as 2555
        ("2400-01-01", datetime(1857, 1, 1, tzinfo=BANGKOK)),
        ("1 ม.ค. 2400", datetime(1857, 1, 1, tzinfo=BANGKOK)),  # the Thai forms agree
        ("๒๕๕๖-๐๘-๓๑", datetime(2013, 8, 31, tzinfo=BANGKOK)),
    ],
)
def test_iso_dates_with_a_buddhist_era_year(text: str, expected: datetime) -> None:
    assert parse_user_datetime(text) == expected
    assert parse_thai_datetime(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # what the site writes in <time datetime> and the comments JSON: CE, unchanged
        ("2013-08-31T23:59:30+07:00", datetime(2013, 8, 31, 23, 59, 30, tzinfo=BANGKOK)),
        ("2013-08-31T16:59:30Z", datetime(2013, 8, 31, 23, 59, 30, tzinfo=BANGKOK)),
        ("2013-08-31T23:59:30", datetime(2013, 8, 31, 23, 59, 30, tzinfo=BANGKOK)),
        ("2399-12-31", datetime(2399, 12, 31, tzinfo=BANGKOK)),
    ],
)
def test_iso_dates_in_the_christian_era_are_unchanged(text: str, expected: datetime) -> None:
    assert parse_thai_datetime(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31 ส.ค. 2556", datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)),
        ("2556-08-31", datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)),
        ("31 ส.ค. 2556 23:59 น.", datetime(2013, 8, 31, 23, 59, 59, 999999, tzinfo=BANGKOK)),
        ("31 ส.ค. 2556 เวลา 18.00 น.", datetime(2013, 8, 31, 18, 0, 59, 999999, tzinfo=BANGKOK)),
        ("2013-08-31T23:59", datetime(2013, 8, 31, 23, 59, 59, 999999, tzinfo=BANGKOK)),
        ("2013-08-31 23:59", datetime(2013, 8, 31, 23, 59, 59, 999999, tzinfo=BANGKOK)),
        ("2013-08-31T16:59Z", datetime(2013, 8, 31, 23, 59, 59, 999999, tzinfo=BANGKOK)),
        ("2013-08-31T23", datetime(2013, 8, 31, 23, 59, 59, 999999, tzinfo=BANGKOK)),
        # seconds given: kept
        ("31 ส.ค. 2556 23:59:30 น.", datetime(2013, 8, 31, 23, 59, 30, tzinfo=BANGKOK)),
        ("2013-08-31T23:59:00", datetime(2013, 8, 31, 23, 59, tzinfo=BANGKOK)),
        ("2013-08-31T23:59:30+07:00", datetime(2013, 8, 31, 23, 59, 30, tzinfo=BANGKOK)),
    ],
)
def test_a_deadline_includes_the_whole_minute_typed(text: str, expected: datetime) -> None:
    assert parse_user_datetime(text, end_of_day=True) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6 ส.ค. 2556", datetime(2013, 8, 6, tzinfo=BANGKOK)),
        ("6 ส.ค. 2556 09:30 น.", datetime(2013, 8, 6, 9, 30, tzinfo=BANGKOK)),
        ("2013-08-06T09:30", datetime(2013, 8, 6, 9, 30, tzinfo=BANGKOK)),
    ],
)
def test_a_window_start_is_the_start_of_what_was_typed(text: str, expected: datetime) -> None:
    assert parse_user_datetime(text) == expected
    assert parse_user_datetime(text, end_of_day=False) == expected


def test_a_bad_buddhist_era_iso_date_is_quoted_as_typed() -> None:
    with pytest.raises(ThaiDateError, match="2556-02-30"):
        parse_user_datetime("2556-02-30")


@pytest.mark.parametrize(
    "text",
    [
        "31 ส.ค. 25567",  # a fifth year digit: not 2556
        "131 ส.ค. 2556",  # not the 31st
        "31 ส.ค. 2556 23:59 น.xyz",
        "31 ส.ค. 2556 23:599",
        "ปิด 31 ส.ค. 2556",
        "31 ส.ค. 2556 ถึง 1 ก.ย. 2556",
        "2013-08-31x",
        "0001-01-01T00:00+14:00",  # would leave the calendar in Bangkok time
    ],
)
def test_a_typed_date_must_match_whole(text: str) -> None:
    with pytest.raises(ThaiDateError) as caught:
        parse_user_datetime(text, end_of_day=True)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  31 ส.ค. 2556  ", datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)),
        ("31 ส.ค. 2556 23:59น.", datetime(2013, 8, 31, 23, 59, 59, 999999, tzinfo=BANGKOK)),
        ("๓๑ สิงหาคม ๒๕๕๖", datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)),
    ],
)
def test_a_typed_date_may_have_spaces_and_the_time_suffix(text: str, expected: datetime) -> None:
    assert parse_user_datetime(text, end_of_day=True) == expected


@pytest.mark.parametrize(
    "text",
    [
        "131 ส.ค. 2556",
        "เขียนเมื่อ 31 ส.ค. 25567",
        "31 ส.ค. 2556 23:599 น.",
        "31 ส.ค. 2556 เวลา 2",
    ],
)
def test_a_crawled_date_never_takes_a_prefix_of_a_number(text: str) -> None:
    with pytest.raises(ThaiDateError):
        parse_thai_datetime(text)


def test_a_crawled_date_may_sit_in_other_text() -> None:
    expected = datetime(2013, 8, 31, 23, 59, tzinfo=BANGKOK)
    assert parse_thai_datetime("เขียนเมื่อ 31 ส.ค. 2556 23:59 น. (แก้ไข)") == expected
    assert parse_thai_datetime("31 ส.ค. 2556 23:59 น.xyz") == expected
