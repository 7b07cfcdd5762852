"""The one logging setup: one line per event, to stderr and to a rotating file.

Every ``tagdraw`` command calls ``configure_logging`` once (from ``tagdraw.cli.main``).
A line looks like::

    2026-11-24T10:00:00+07:00 INFO tagdraw.schedule crawl finished campaign=demo run=3 ...

Times are Asia/Bangkok with their offset. Newlines inside a message or a traceback are
escaped (``\\n``) so that ``grep`` and ``tail`` always see whole events. The file is
``<log_dir>/tagdraw.log`` (5 MB x 5 backups); if the directory cannot be written, logging
goes to stderr only, after one warning.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from warehouse.thai import BANGKOK

LOG_FILE_NAME = "tagdraw.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5
_MARK = "_tagdraw_handler"  # set on the handlers we install, so a second call replaces them
# Third-party loggers that are chatty at INFO; shown only with ``verbose``.
_NOISY = ("apscheduler", "asyncio", "urllib3", "filelock", "watchdog", "tornado", "PIL")
_warned_dirs: set[str] = set()


def _escape(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


class OneLineFormatter(logging.Formatter):
    """``<ISO time +07:00> <LEVEL> <logger> <message>`` on one physical line."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, BANGKOK).isoformat(timespec="seconds")
        line = f"{when} {record.levelname} {record.name} {_escape(record.getMessage())}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += " exc=" + _escape(record.exc_text)
        if record.stack_info:
            line += " stack=" + _escape(self.formatStack(record.stack_info))
        return line


def kv(**fields: Any) -> str:
    """``key=value`` pairs for a log line; values with spaces or quotes are quoted."""
    parts = []
    for key, value in fields.items():
        if value is None:
            continue
        text = f"{value:.2f}" if isinstance(value, float) else str(value)
        if not text or any(c.isspace() or c in "\"'=" for c in text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(f"{key}={_escape(text)}")
    return " ".join(parts)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of the event (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _installed(root: logging.Logger) -> list[logging.Handler]:
    return [h for h in root.handlers if getattr(h, _MARK, False)]


def configure_logging(
    verbose: bool = False,
    log_dir: Path | str | None = None,
    *,
    quiet: bool = False,
    file: bool = True,
) -> Path | None:
    """Send every logger's events, one line each, to stderr and to ``<log_dir>/tagdraw.log``.

    ``log_dir`` defaults to ``settings.log_dir`` (``data/logs``, env ``TAGDRAW_LOG_DIR``).
    stderr shows INFO when it is not a terminal (cron, systemd) and WARNING on a terminal
    (where progress bars run); ``verbose`` shows DEBUG everywhere; ``quiet`` shows only
    warnings on stderr. The file always gets INFO (DEBUG with ``verbose``). Calling it
    again replaces the handlers it installed (never duplicates them). Returns the log
    file's path, or None when logging to stderr only.
    """
    root = logging.getLogger()
    for handler in _installed(root):
        root.removeHandler(handler)
        handler.close()
    formatter = OneLineFormatter()

    if verbose:
        stderr_level = logging.DEBUG
    elif quiet or sys.stderr.isatty():
        stderr_level = logging.WARNING
    else:
        stderr_level = logging.INFO
    stderr_handler = _StderrHandler()
    stderr_handler.setLevel(stderr_level)
    stderr_handler.setFormatter(formatter)
    setattr(stderr_handler, _MARK, True)
    root.addHandler(stderr_handler)

    file_path: Path | None = None
    problem: str | None = None
    if file:
        if log_dir is None:
            from warehouse.settings import get_settings

            log_dir = get_settings().log_dir
        directory = Path(log_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            file_handler = logging.handlers.RotatingFileHandler(
                directory / LOG_FILE_NAME,
                maxBytes=MAX_BYTES,
                backupCount=BACKUP_COUNT,
                encoding="utf-8",
            )
        except OSError as exc:
            problem = f"{directory}: {exc.strerror or exc}"
        else:
            file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
            file_handler.setFormatter(formatter)
            setattr(file_handler, _MARK, True)
            root.addHandler(file_handler)
            file_path = directory / LOG_FILE_NAME

    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    if problem is not None and problem not in _warned_dirs:
        _warned_dirs.add(problem)
        logging.getLogger("tagdraw.logs").warning(
            "cannot write the log file in %s; logging to stderr only", problem
        )
    return file_path
