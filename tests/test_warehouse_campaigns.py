"""Campaign validation and storage (the library; the CLI is in test_campaign_cli.py)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from warehouse.audit import audit_entries
from warehouse.campaigns import (
    create_campaign,
    freeze_campaign,
    get_campaign,
    list_campaigns,
    update_campaign,
)
from warehouse.db import connect, run
from warehouse.errors import UserError
from warehouse.thai import BANGKOK

BASE: dict[str, Any] = {
    "keywords": ["#สังคมออนไลน์"],
    "opens_at": "2013-08-06",
    "closes_at": "2013-08-31",
    "prizes": 4,
}


def test_create_normalises_and_reads_back(db_path: Path) -> None:
    def create(con):  # type: ignore[no-untyped-def]
        return create_campaign(
            con,
            "social-2013",
            keywords=["#สังคมออนไลน์", " สังคม\u200bออนไลน์ ", "Social"],
            opens_at="2013-08-06",
            closes_at="2013-08-31",
            prizes=4,
            alternates="2",
            excluded_authors=["Jantawan", "@Staff "],
            near_miss_tags=["#สรอ."],
            site_url="http://127.0.0.1:8000/",
            announcement_post=544804,
            max_entries_per_author=3,
            title="  ลุ้นรางวัล ",
        )

    made = run(create, db_path)
    assert made.keywords == ("สังคมออนไลน์", "social")
    assert made.excluded_authors == ("jantawan", "staff")
    assert made.near_miss_tags == ("สรอ.",)
    assert made.opens_at == datetime(2013, 8, 6, tzinfo=BANGKOK)
    assert made.closes_at == datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)
    assert made.site_url == "http://127.0.0.1:8000" and made.alternates == 2
    assert made.title == "ลุ้นรางวัล" and made.one_prize_per_author and made.frozen_at is None
    assert run(lambda con: get_campaign(con, "social-2013"), db_path) == made
    assert run(list_campaigns, db_path) == [made]
    assert made.to_json()["closes_at"] == "2013-08-31T23:59:59+07:00"


def test_times_with_hours_dates_and_datetimes(db_path: Path) -> None:
    with connect(db_path) as con:
        a = create_campaign(
            con, "a", **{**BASE, "opens_at": "2013-08-06T15:00", "closes_at": "2013-08-31T12:00"}
        )
        b = create_campaign(
            con, "b", **{**BASE, "opens_at": date(2013, 8, 6), "closes_at": date(2013, 8, 31)}
        )
        c = create_campaign(
            con, "c", **{**BASE, "opens_at": datetime(2013, 8, 6, 8), "closes_at": "6 ก.ย. 2556"}
        )
    # A close typed to the minute lasts the whole minute (the site shows minutes; a post at
    # 12:00:30 shows as 12:00 and is on time); an opening starts at the minute.
    assert (a.opens_at.hour, a.opens_at.minute, a.opens_at.second) == (15, 0, 0)
    assert (a.closes_at.hour, a.closes_at.minute, a.closes_at.second) == (12, 0, 59)
    assert b.closes_at == datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)
    assert c.opens_at == datetime(2013, 8, 6, 8, tzinfo=BANGKOK)
    assert c.closes_at == datetime(2013, 9, 6, 23, 59, 59, tzinfo=BANGKOK)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "Bad Slug"}, "Bad campaign slug"),
        ({"slug": "-x"}, "Bad campaign slug"),
        ({"keywords": []}, "At least one keyword"),
        ({"keywords": ["  "]}, "Empty keyword"),
        ({"keywords": ["#\u200b"]}, "Empty keyword"),
        ({"opens_at": "2013-02-30"}, "day is out of range"),
        ({"opens_at": "someday"}, "Not a date"),
        ({"closes_at": ""}, "A date is required"),
        ({"closes_at": "2013-08-05"}, "closes .* before it opens"),
        ({"prizes": 0}, "prizes must be at least 1"),
        ({"prizes": "two"}, "whole number"),
        ({"prizes": 1.5}, "whole number"),
        ({"alternates": -1}, "alternates must be at least 0"),
        ({"max_entries_per_author": 0}, "at least 1"),
        ({"site_url": "ftp://example.org"}, "http"),
        ({"site_url": "www.gotoknow.org"}, "http"),
        ({"excluded_authors": ["two words"]}, "Bad excluded author"),
        ({"announcement_post": 0}, "announcement post"),
        ({"near_miss_tags": ["สังคมออนไลน์"]}, "both a keyword and a near-miss"),
    ],
)
def test_bad_campaigns_are_refused_with_one_line(
    db_path: Path, changes: dict, message: str
) -> None:
    args = {"slug": "ok", **BASE, **changes}
    with pytest.raises(UserError, match=message) as info, connect(db_path) as con:
        create_campaign(con, args.pop("slug"), **args)
    assert "\n" not in str(info.value)
    assert run(list_campaigns, db_path) == []


def test_duplicate_and_unknown_slugs(db_path: Path) -> None:
    run(lambda con: create_campaign(con, "first", **BASE), db_path)
    with pytest.raises(UserError, match="already exists"):
        run(lambda con: create_campaign(con, "first", **BASE), db_path)
    with pytest.raises(UserError, match="Unknown campaign 'nope'; known campaigns: first"):
        run(lambda con: get_campaign(con, "nope"), db_path)


def test_update_validates_the_whole_and_is_audited(db_path: Path) -> None:
    run(lambda con: create_campaign(con, "c", **BASE), db_path)
    updated = run(
        lambda con: update_campaign(con, "c", prizes=5, closes_at="2013-09-01", actor="ann"),
        db_path,
    )
    assert updated.prizes == 5 and updated.closes_at.day == 1
    with pytest.raises(UserError, match="before it opens"):
        run(lambda con: update_campaign(con, "c", opens_at="2013-09-05"), db_path)
    with pytest.raises(UserError, match="Cannot change slug"):
        run(lambda con: update_campaign(con, "c", slug="d"), db_path)
    assert run(lambda con: get_campaign(con, "c"), db_path) == updated
    log = run(lambda con: audit_entries(con, "c"), db_path)
    assert [e.action for e in log] == ["campaign.update", "campaign.create"]
    assert log[0].actor == "ann" and log[0].details["changes"]["prizes"] == {"from": 4, "to": 5}


def test_a_frozen_campaign_cannot_be_edited(db_path: Path) -> None:
    run(lambda con: create_campaign(con, "c", **BASE), db_path)
    run(lambda con: freeze_campaign(con, "c", actor="admin"), db_path)
    with pytest.raises(UserError, match="frozen"):
        run(lambda con: update_campaign(con, "c", prizes=9), db_path)
