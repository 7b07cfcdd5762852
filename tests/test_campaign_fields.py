"""The table of campaign fields (warehouse.campaigns.CAMPAIGN_FIELDS): what a form or the
CLI iterates to ask for each field, and validates through, one field at a time or whole."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

import pytest

from warehouse.campaigns import (
    CAMPAIGN_FIELDS,
    EDITABLE_FIELDS,
    STATE_FIELDS,
    Campaign,
    FieldKind,
    missing_fields,
    prepare_campaign,
    validate_field,
)
from warehouse.errors import UserError
from warehouse.thai import BANGKOK

FORM: dict[str, Any] = {
    "slug": "social-2013",
    "keywords": "#สังคมออนไลน์",
    "opens_at": "2013-08-06",
    "closes_at": "2013-08-31",
    "prizes": "4",
    "alternates": "2",
    "max_entries_per_author": "",
    "excluded_authors": ["@Staff1"],
}


def test_the_table_names_every_input_field_of_a_campaign_in_order() -> None:
    names = [f.name for f in CAMPAIGN_FIELDS]
    record = [f.name for f in fields(Campaign) if f.name not in STATE_FIELDS]
    assert names == record
    assert frozenset(names) - {"slug"} == EDITABLE_FIELDS
    for spec in CAMPAIGN_FIELDS:
        assert spec.label("th") and spec.label("en") and spec.label("th") != spec.label("en")
        if spec.kind is FieldKind.NUMBER:
            assert spec.minimum is not None and spec.maximum is not None


def test_a_form_validating_field_by_field_gets_what_prepare_campaign_gets() -> None:
    """How a form uses the table: each field in order, the validated ones passed on."""
    checked: dict[str, Any] = {}
    for spec in CAMPAIGN_FIELDS:
        value = FORM.get(spec.name) or None  # an empty box: not given
        if value is None and spec.default is not None:
            value = spec.default()
        checked[spec.name] = validate_field(spec.name, value, checked)
    whole = prepare_campaign(
        FORM["slug"], **{k: v for k, v in FORM.items() if k != "slug" and v != ""}
    )
    assert checked == {k: v for k, v in whole.items() if k not in STATE_FIELDS}
    assert checked["closes_at"] == datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)
    assert checked["prizes"] == 4 and checked["max_entries_per_author"] is None
    assert checked["excluded_authors"] == ("staff1",)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("prizes", "0", "prizes must be at least 1"),
        ("prizes", "1e3", "prizes must be a whole number"),
        ("slug", "Bad Slug", "Bad campaign slug"),
        ("keywords", ["\u200b"], "Empty keyword"),
        ("site_url", "javascript:alert(1)", "Bad site URL"),
        ("contact_url", "ftp://x", "Bad contact URL"),
        ("announcement_post", str(2**63), "announcement post must be at most"),
    ],
)
def test_one_field_is_refused_with_one_line(name: str, value: Any, message: str) -> None:
    with pytest.raises(UserError, match=message) as refused:
        validate_field(name, value)
    assert "\n" not in str(refused.value)


def test_closes_is_checked_against_opens_given_before_it() -> None:
    opens = validate_field("opens_at", "2013-08-31")
    with pytest.raises(UserError, match=r"closes .* before it opens"):
        validate_field("closes_at", "2013-08-30", {"opens_at": opens})
    assert validate_field("closes_at", "2013-08-30")  # alone, nothing to compare with


def test_unknown_and_missing_fields() -> None:
    with pytest.raises(UserError, match="Unknown campaign field 'prize'"):
        validate_field("prize", 1)
    with pytest.raises(UserError, match="Unknown campaign field prize;"):
        prepare_campaign("x", prize=1, keywords="k", opens_at="2013-01-01", closes_at="2013-02-01")
    missing = missing_fields({"slug": "x", "keywords": ["k"]})
    assert [f.name for f in missing] == ["opens_at", "closes_at", "prizes"]


def test_every_editable_field_has_a_command_line_option() -> None:
    """``tagdraw campaign edit`` can set every editable field of CAMPAIGN_FIELDS, and sets
    nothing else: a field added to the table without its option fails here."""
    import argparse

    from tagdraw.cli import build_parser
    from tagdraw.commands.campaign import _changes

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    campaign = sub.choices["campaign"]
    actions = next(a for a in campaign._actions if isinstance(a, argparse._SubParsersAction))
    edit = actions.choices["edit"]
    argv = ["demo"]
    for action in edit._actions:
        flag = next((o for o in action.option_strings if o.startswith("--")), None)
        if flag is None or flag == "--help":
            continue
        if isinstance(action, argparse._StoreConstAction):  # the prize-per-author switches
            if action.const is True:
                argv.append(flag)
        else:
            argv += [flag, "1"]
    changes = _changes(edit.parse_args(argv))
    assert set(changes) == set(EDITABLE_FIELDS)
