"""``tagdraw draw`` and ``tagdraw export`` through the CLI entry point (in process: the
console script's own subprocess run is in the end-to-end test)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_draw_warehouse import SLUG, seed_campaign

from tagdraw.cli import main
from warehouse.db import connect
from warehouse.decisions import current_decisions
from warehouse.thai import BANGKOK


def tagdraw(db_path: Path, *args: str) -> int:
    return main(["--db", str(db_path), *args])


def test_freeze_run_verify_replace_export(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    numbers = seed_campaign(db_path, pending=1)
    freeze = ["draw", "freeze", SLUG, "--randomness-source", "สลาก 1 ก.ย.", "--actor", "admin"]
    freeze += ["--source-preset", "th-lottery-first-prize"]
    assert tagdraw(db_path, *freeze, "--randomness-due", "2999-01-01") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "undecided" in err and str(numbers[-1]) in err
    far = [*freeze, "--randomness-due", "2999-01-01", "--leave-out-undecided"]
    assert tagdraw(db_path, *far) == 0
    assert "pool_hash" in capsys.readouterr().out
    cert_path = tmp_path / "cert.json"
    run = ["draw", "run", SLUG, "--value", "123456", "--no-recheck", "--out", str(cert_path)]
    assert tagdraw(db_path, *run) == 2  # the value is not due yet
    assert "after it is published" in capsys.readouterr().err
    assert not cert_path.exists()
    # Announce a value due in a second instead (logged unfreeze), wait for it, then run.
    assert tagdraw(db_path, "draw", "unfreeze", SLUG, "--reason", "earlier lottery date") == 0
    due = datetime.now(BANGKOK).replace(microsecond=0) + timedelta(seconds=2)
    soon = [*freeze, "--randomness-due", due.isoformat(), "--leave-out-undecided"]
    assert tagdraw(db_path, *soon) == 0
    time.sleep(max(0.0, (due - datetime.now(BANGKOK)).total_seconds()) + 0.1)
    assert tagdraw(db_path, *run) == 0
    assert "prize 1:" in capsys.readouterr().out
    cert = json.loads(cert_path.read_text("utf-8"))
    assert cert["randomness"] == "123456/" and cert["left_out_undecided"] == [numbers[-1]]
    assert tagdraw(db_path, "draw", "run", SLUG, "--randomness", "123456/") == 2
    assert "already ran" in capsys.readouterr().err

    assert main(["draw", "verify", str(cert_path)]) == 0
    assert capsys.readouterr().out.startswith("OK")
    tampered = json.loads(cert_path.read_text("utf-8"))
    tampered["winners"][0], tampered["alternate_list"][0] = (
        tampered["alternate_list"][0],
        tampered["winners"][0],
    )
    bad_path = tmp_path / "bad.json"
    bad_path.write_text(json.dumps(tampered), "utf-8")
    assert main(["draw", "verify", str(bad_path)]) == 1
    err = capsys.readouterr().err
    assert "winners:" in err and "alternate_list:" in err

    loser = cert["winners"][0]
    replaced = tmp_path / "replaced.json"
    assert (
        tagdraw(
            db_path,
            "draw",
            "replace",
            SLUG,
            str(loser),
            "--reason",
            "ผิดกติกา",
            "--out",
            str(replaced),
        )
        == 0
    )
    assert f"alternate {cert['alternate_list'][0]} takes it" in capsys.readouterr().out
    assert main(["draw", "verify", str(replaced)]) == 0
    with connect(db_path) as con:
        assert current_decisions(con, SLUG)[loser].decided_by  # the OS user by default

    assert tagdraw(db_path, "draw", "show", SLUG) == 0
    shown = capsys.readouterr().out
    assert "pool:" in shown and "replaced:" in shown

    for what, fmt in [
        ("winners", "csv"),
        ("winners", "xlsx"),
        ("entries", "json"),
        ("announcement", "html"),
    ]:
        out = tmp_path / f"out.{fmt}"
        assert (
            tagdraw(db_path, "export", SLUG, "--what", what, "--format", fmt, "--out", str(out))
            == 0
        )
        assert out.stat().st_size > 0
    assert (
        tagdraw(db_path, "export", SLUG, "--what", "certificate", "--out", str(tmp_path / "c.json"))
        == 0
    )
    assert json.loads((tmp_path / "c.json").read_text("utf-8")) == json.loads(
        replaced.read_text("utf-8")
    )
    capsys.readouterr()
    assert (
        tagdraw(db_path, "export", SLUG, "--what", "winners", "--format", "md", "--out", "x") == 2
    )
    assert capsys.readouterr().err.count("\n") == 1


def test_unfreeze_and_bad_input_are_one_line(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_campaign(db_path)
    assert (
        tagdraw(
            db_path,
            "draw",
            "freeze",
            SLUG,
            "--randomness-source",
            "x",
            "--value-digits",
            "6",
            "--randomness-due",
            "2001-01-01",
        )
        == 2
    )
    assert "not in the future" in capsys.readouterr().err
    assert (
        tagdraw(
            db_path,
            "draw",
            "freeze",
            SLUG,
            "--randomness-source",
            "x",
            "--value-digits",
            "6",
            "--randomness-due",
            "tomorrow-ish",
        )
        == 2
    )
    assert capsys.readouterr().err.count("\n") == 1
    assert (
        tagdraw(
            db_path,
            "draw",
            "freeze",
            "nope",
            "--randomness-source",
            "x",
            "--value-digits",
            "6",
            "--randomness-due",
            "2999-01-01",
        )
        == 2
    )
    assert "nope" in capsys.readouterr().err
    assert (
        tagdraw(
            db_path,
            "draw",
            "freeze",
            SLUG,
            "--randomness-source",
            "x",
            "--value-digits",
            "6",
            "--randomness-due",
            "2999-01-01",
            "--value-digits",
            "6",
        )
        == 0
    )
    assert tagdraw(db_path, "draw", "unfreeze", SLUG, "--reason", "  ") == 2
    assert tagdraw(db_path, "draw", "unfreeze", SLUG, "--reason", "wrong date") == 0
    assert "void" in capsys.readouterr().out
    assert tagdraw(db_path, "draw", "run", SLUG, "--value", "1") == 2
    assert "no frozen pool" in capsys.readouterr().err
    assert main(["draw", "verify", str(db_path)]) == 2  # not JSON
    assert capsys.readouterr().err.count("\n") == 1


def test_freeze_announces_the_value_count_and_unfreeze_after_due_is_refused(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from warehouse import draw

    seed_campaign(db_path)
    freeze = ["draw", "freeze", SLUG, "--randomness-source", "สลาก", "--actor", "admin"]
    assert tagdraw(db_path, *freeze, "--randomness-due", "2999-01-01", "--value-count", "0") == 2
    assert "1 to 20" in capsys.readouterr().err
    opts = ["--randomness-due", "2999-01-01", "--value-count", "2", "--value-digits", "6"]
    assert tagdraw(db_path, *freeze, *opts) == 0
    out = capsys.readouterr().out
    assert "สลาก [2 values, 6 digits each]" in out
    with connect(db_path) as con:
        pool = draw.current_pool(con, SLUG)
        assert pool is not None and (pool.expected_values, pool.value_digits) == (2, 6)
        draw.unfreeze(con, SLUG, actor="admin", reason="date moved")
        past = datetime.now(BANGKOK) - timedelta(days=2)
        draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="สลาก",
            randomness_due=past + timedelta(days=1),
            now=past,
            randomness_digits=6,
        )
    assert tagdraw(db_path, "draw", "unfreeze", SLUG, "--reason", "veto") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "may already be public" in err and "draw replace" in err
    assert tagdraw(db_path, "draw", "run", SLUG, "--value", "๑๒๓๔๕๖", "--value", "7") == 2
    assert "announced 1 value" in capsys.readouterr().err
    assert tagdraw(db_path, "draw", "run", SLUG, "--value", "๑๒๓ ๔๕๖") == 2  # a space inside
    assert "not a digit" in capsys.readouterr().err
    # The winners' posts cannot be fetched again (this campaign's site is not reachable
    # here): the draw is done and its certificate kept, but the run says so and exits 1.
    cert_path = tmp_path / "drawn.json"
    run = ["draw", "run", SLUG, "--value", "๑๒๓๔๕๖", "--out", str(cert_path)]
    assert tagdraw(db_path, *run) == 1
    captured = capsys.readouterr()
    assert "randomness '123456/'" in captured.out and "voided pool" in captured.out
    said = [line for line in captured.err.splitlines() if line.startswith("tagdraw:")]
    assert len(said) == 1 and "the draw is done" in said[0], captured.err  # log lines aside
    assert f"tagdraw crawl {SLUG} --verify" in said[0] and cert_path.exists()


def test_freeze_needs_the_value_format_or_a_preset(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_campaign(db_path)
    freeze = ["draw", "freeze", SLUG, "--randomness-source", "สลาก", "--randomness-due"]
    assert tagdraw(db_path, *freeze, "2999-01-01") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--value-digits" in err and "th-lottery-first-prize" in err
    assert tagdraw(db_path, *freeze, "2999-01-01", "--source-preset", "nope") == 2
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(SystemExit):
        main(["draw", "freeze", "--help"])
    helped = " ".join(capsys.readouterr().out.split())
    assert "th-lottery-first-prize" in helped and "1 value of 6 digits" in helped
    assert tagdraw(db_path, *freeze, "2999-01-01", "--source-preset", "th-lottery-first-prize") == 0
    assert "[1 value, 6 digits each]" in capsys.readouterr().out


def _certificate_file(tmp_path: Path) -> tuple[Path, str]:
    from warehouse import draw

    cert = draw.build_certificate(
        campaign="c",
        pool=draw.pool_text([(545001, "a"), (545002, "b"), (545003, "c")]),
        randomness="123456/",
        sources=[],
        prizes=1,
        alternates=1,
    )
    path = tmp_path / "cert.json"
    text = draw.certificate_json(cert)
    path.write_text(text, "utf-8")
    return path, text


def test_verify_of_hostile_files_is_one_line_and_a_documented_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, text = _certificate_file(tmp_path)
    assert main(["draw", "verify", str(path)]) == 0
    capsys.readouterr()
    # Two "winners" keys: a reader sees one, json.load the other.
    path.write_text(text.replace('"winners": ', '"winners": [545003],\n  "winners": ', 1), "utf-8")
    assert main(["draw", "verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'winners' twice" in err
    # A 5,000-digit number where JSON holds a number.
    path.write_text(text.replace('"prizes": 1', '"prizes": ' + "9" * 5000, 1), "utf-8")
    assert main(["draw", "verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and len(err) < 400


def test_verify_of_a_pool_line_with_a_5000_digit_post_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17 point 9: Python's int() refuses 5,000 digits; verify says what differs."""
    path, text = _certificate_file(tmp_path)
    path.write_text(text.replace("545002,b", "9" * 5000 + ",b", 1), "utf-8")
    assert main(["draw", "verify", str(path)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.out == ""
    assert captured.err.startswith("FAILED:")
    assert "pool line 3: post number '9999" in captured.err
    assert "... (5000 chars) is too large" in captured.err
    assert len(captured.err) < 2000


def test_an_unverified_pool_is_refused_and_winner_problems_are_shown(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15: every post of the pool deleted after the close. The freeze refuses (one line,
    the posts, `crawl --verify`); accepted with a reason, the draw runs, and `draw run` and
    `draw show` name each winner as needing a `draw replace` decision."""
    from warehouse.draw import winner_problems
    from warehouse.store import mark_gone

    numbers = seed_campaign(db_path)
    eligible = numbers[:-1]
    with connect(db_path) as con:
        mark_gone(con, eligible, "not_found", seen_at=datetime(2013, 9, 3, tzinfo=BANGKOK))
    due = datetime.now(BANGKOK).replace(microsecond=0) + timedelta(seconds=3)
    freeze = ["draw", "freeze", SLUG, "--randomness-source", "สลาก", "--value-digits", "6"]
    freeze += ["--randomness-due", due.isoformat(), "--actor", "admin"]
    assert tagdraw(db_path, *freeze) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"tagdraw crawl {SLUG} --verify" in err
    assert all(f"{n} (gone" in err for n in eligible)
    assert tagdraw(db_path, *freeze, "--accept-unverified", "site down; checked by hand") == 0
    out = capsys.readouterr().out
    assert "not seen live since the close" in out and str(eligible[0]) in out
    time.sleep(max(0.0, (due - datetime.now(BANGKOK)).total_seconds()) + 0.1)
    cert_path = tmp_path / "cert.json"
    assert (
        tagdraw(
            db_path,
            "draw",
            "run",
            SLUG,
            "--value",
            "123456",
            "--no-recheck",
            "--out",
            str(cert_path),
        )
        == 0
    )
    out = capsys.readouterr().out
    cert = json.loads(cert_path.read_text("utf-8"))
    assert [e["post_number"] for e in cert["unverified_entries"]] == eligible
    assert {e["reason"] for e in cert["unverified_entries"]} == {"site down; checked by hand"}
    assert main(["draw", "verify", str(cert_path)]) == 0
    with connect(db_path) as con:
        problems = winner_problems(con, SLUG)
    assert [p.post_number for p in problems] == cert["winners"]
    for winner in cert["winners"]:
        assert f"post {winner}: gone from the site" in out
    assert "draw replace" in out
    capsys.readouterr()
    assert tagdraw(db_path, "draw", "show", SLUG) == 0
    shown = capsys.readouterr().out
    for winner in cert["winners"]:
        assert f"post {winner}: gone from the site" in shown
    assert "unverified" in shown
    assert tagdraw(db_path, "draw", "show", SLUG, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["post_number"] for p in data["winner_problems"]] == cert["winners"]
    assert data["winner_problems"][0]["kind"] == "gone"
