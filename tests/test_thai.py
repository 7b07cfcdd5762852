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
