"""The CLI's last resort: an error no command turned into a clear message is still one
line with a code from the README's table, and its traceback goes to the log file only."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import duckdb
import pytest

from tagdraw.cli import main
from tagdraw.commands import campaign
from warehouse.errors import UserError, describe_failure
from warehouse.files import atomic_output
from warehouse.settings import get_settings


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/x/b.duckdb"), 7),
        (OSError(errno.EFBIG, "File too large", "/x/b.duckdb"), 7),
        (OSError(errno.EIO, "Input/output error", "/x/b.duckdb"), 7),
        (OSError(errno.ENOENT, "No such file or directory", "/x/b.duckdb"), 2),
        (OSError(errno.EISDIR, "Is a directory", "/x"), 2),
        (OSError(errno.EACCES, "Permission denied", "/root/x"), 2),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), 2),
        (
            duckdb.IOException(
                "IO Error: Corrupt database file: computed checksum 1 does not match stored checksum 2"
            ),
            1,
        ),
        (
            duckdb.InvalidInputException(
                "Invalid Input Error: Invalid unicode (byte sequence mismatch) detected in value construction"
            ),
            1,
        ),
        (
            duckdb.IOException(
                'IO Error: Could not write file "w.duckdb.wal": No space left on device'
            ),
            7,
        ),
        (
            duckdb.TransactionException(
                'Failed to commit: Could not write file "x": No space left on device'
            ),
            7,
        ),
        (RuntimeError("a bug"), 8),
    ],
)
def test_every_failure_has_a_documented_code(exc: BaseException, code: int) -> None:
    failure = describe_failure(exc)
    assert failure.exit_code == code
    assert "\n" not in str(failure)


def test_an_unexpected_error_is_one_line_and_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("something nobody expected\nsecond line")

    monkeypatch.setattr(campaign, "_cmd_list", broken)
    monkeypatch.setenv("TAGDRAW_LOG_DIR", str(tmp_path / "logs"))
    get_settings.cache_clear()
    try:
        code = main(["--db", str(tmp_path / "w.duckdb"), "campaign", "list"])
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    assert code == 8 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "internal error" in err and "something nobody expected" in err
    log = (tmp_path / "logs" / "tagdraw.log").read_text("utf-8")
    assert "Traceback" in log and "RuntimeError" in log and "broken" in log


def test_an_output_file_is_whole_or_absent(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as partial:
        partial.write_bytes(b"half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with atomic_output(target) as partial:
        partial.write_bytes(b"whole")
    assert target.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [target]


def test_a_pipe_or_device_is_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="not a regular file"), atomic_output(fifo):
        pass
    assert fifo.exists() and not fifo.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@pytest.mark.parametrize(
    "option",
    [
        ["--timeout", "inf"],
        ["--timeout", "nan"],
        ["--timeout", "1e9"],
        ["--rate", "1e-300"],
        ["--rate", "nan"],
        ["--rate", "inf"],
        ["--concurrency", "100000"],
    ],
)
def test_crawl_site_options_out_of_range_are_one_line(
    db_path: Path, option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Refused while parsing, before any warehouse or network work.
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(db_path), "crawl", "demo", "--quiet", *option])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option[0] in err, err
