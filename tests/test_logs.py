"""warehouse.logs: one line per event, to stderr and to a rotating file; idempotent; falls
back to stderr (one warning) when the log directory cannot be written."""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.logs import LOG_FILE_NAME, configure_logging, kv

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00 (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ .+$"
)


@pytest.fixture
def clean_logging() -> Iterator[None]:
    """Leave the root logger as we found it (our handlers removed)."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def _ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, "_tagdraw_handler", False)]


def test_one_line_per_event_in_the_rotating_file_and_stderr(
    tmp_path: Path, clean_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    log_dir = tmp_path / "logs"
    path = configure_logging(log_dir=log_dir)
    assert path == log_dir / LOG_FILE_NAME
    files = [h for h in _ours() if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert len(files) == 1 and files[0].maxBytes == 5 * 1024 * 1024 and files[0].backupCount == 5

    log = logging.getLogger("scraper.crawl")
    log.info("crawl finished %s", kv(campaign="demo", run=3, posts_new=12, note="two words"))
    log.warning("a message\nwith two lines")
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        log.exception("it failed")
    log.debug("not shown without verbose")

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3, lines
    assert all(LINE.match(line) for line in lines), lines
    assert lines[0].endswith(
        'INFO scraper.crawl crawl finished campaign=demo run=3 posts_new=12 note="two words"'
    )
    assert lines[1].endswith("WARNING scraper.crawl a message\\nwith two lines")
    assert "ERROR scraper.crawl it failed exc=Traceback" in lines[2]
    assert "ValueError: boom\\nsecond line" in lines[2]
    # stderr is not a terminal under pytest: INFO and up, the same lines.
    err = capsys.readouterr().err.splitlines()
    assert err == lines


def test_idempotent_and_verbose(tmp_path: Path, clean_logging: None) -> None:
    log_dir = tmp_path / "logs"
    configure_logging(log_dir=log_dir)
    configure_logging(log_dir=log_dir)
    path = configure_logging(verbose=True, log_dir=log_dir)
    assert path is not None
    assert len(_ours()) == 2  # one stderr + one file handler, however often it is called
    logging.getLogger("tagdraw.test").debug("debug shown with verbose")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and lines[0].endswith("DEBUG tagdraw.test debug shown with verbose")


def test_unwritable_log_dir_falls_back_to_stderr_with_one_warning(
    tmp_path: Path, clean_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the log directory should be")
    bad = blocker / "logs"
    assert configure_logging(log_dir=bad) is None
    assert configure_logging(log_dir=bad) is None  # the warning is not repeated
    logging.getLogger("tagdraw.test").info("still logged")
    err = capsys.readouterr().err.splitlines()
    warnings = [line for line in err if "cannot write the log file" in line]
    assert len(warnings) == 1 and str(bad) in warnings[0]
    assert any(line.endswith("INFO tagdraw.test still logged") for line in err)
    assert [type(h).__name__ for h in _ours()] == ["_StderrHandler"]


def test_every_cli_command_logs_to_the_file(tmp_path: Path) -> None:
    """`tagdraw` wires the setup in main(): a command's events land in $TAGDRAW_LOG_DIR."""
    script = Path(sys.executable).with_name("tagdraw")
    log_dir = tmp_path / "logs"
    result = subprocess.run(
        [str(script), "--db", str(tmp_path / "w.duckdb"), "schedule", "--once"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TAGDRAW_LOG_DIR": str(log_dir)},
    )
    assert result.returncode == 0, result.stderr
    assert "no open campaigns" in result.stdout
    lines = (log_dir / LOG_FILE_NAME).read_text(encoding="utf-8").splitlines()
    assert any(
        LINE.match(line) and "INFO tagdraw.schedule tick: no open campaigns" in line
        for line in lines
    ), lines
    assert result.stderr.splitlines() == lines  # stderr (not a terminal) gets the same lines
