"""Errors that reach the user as one clear line (the CLI prints them without a traceback).

Each class carries its exit code; the README's exit-code table lists them all and is the
one place that documents them.
"""

from __future__ import annotations


class TagdrawError(Exception):
    """Base class: the message is shown to the user as is."""

    exit_code = 2


class UserError(TagdrawError):
    """Bad input: a wrong keyword, a bad date, an unknown campaign."""

    exit_code = 2


class CorruptWarehouse(TagdrawError):
    """A warehouse or backup file whose data cannot be read back (a damaged block)."""

    exit_code = 1


class DatabaseBusy(TagdrawError):
    """The warehouse file stayed locked by another process past the deadline. Its own code:
    3 is a crawl of the campaign already running, which a timer may count as success."""

    exit_code = 9


class BrowserMissing(TagdrawError):
    """No Chromium could be found."""

    exit_code = 4


class StorageError(TagdrawError):
    """The system failed to write or read a file: disk full, file too large, an I/O
    error. Nothing partial is left behind."""

    exit_code = 7


class InternalError(TagdrawError):
    """A bug: the CLI shows one line and writes the traceback to the log."""

    exit_code = 8


# What DuckDB says when the bytes it reads back are not what it wrote.
_CORRUPTION_MARKS = (
    "corrupt",
    "checksum",
    "invalid unicode",
    "byte sequence mismatch",
    "failed to deserialize",
    "serialization error",
)
_DISK_FULL_MARKS = ("no space left", "file too large", "disk quota")
# OS errors about the path the user named (as opposed to the machine refusing to write).
_BAD_PATH_ERRNOS = frozenset(
    (
        "ENOENT",
        "ENOTDIR",
        "EISDIR",
        "EEXIST",
        "ENAMETOOLONG",
        "ELOOP",
        "EINVAL",
        "EXDEV",
        "EACCES",
        "EPERM",
        "EROFS",
    )
)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def is_corruption(exc: BaseException) -> bool:
    """A DuckDB error that means the file's data is damaged."""
    import duckdb

    message = str(exc).lower()
    if isinstance(exc, duckdb.SerializationException):
        return True
    return isinstance(exc, duckdb.Error) and any(m in message for m in _CORRUPTION_MARKS)


def is_disk_full(exc: BaseException) -> bool:
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return True
    return any(m in str(exc).lower() for m in _DISK_FULL_MARKS)


def describe_failure(exc: BaseException) -> TagdrawError:
    """The one-line error (with its documented exit code) for an exception no command
    turned into a ``TagdrawError``: the CLI's last resort."""
    import errno

    import duckdb

    if isinstance(exc, TagdrawError):
        return exc
    if isinstance(exc, UnicodeError):
        return UserError(f"input that is not UTF-8 text: {first_line(exc)}")
    if is_disk_full(exc):
        where = f"{exc.filename}: " if isinstance(exc, OSError) and exc.filename else ""
        return StorageError(f"{where}the disk is full or the file too large: {first_line(exc)}")
    if isinstance(exc, OSError):
        name = errno.errorcode.get(exc.errno or 0, "")
        what = f"{exc.filename}: {exc.strerror}" if exc.filename else first_line(exc)
        return UserError(what) if name in _BAD_PATH_ERRNOS else StorageError(what)
    if is_corruption(exc):
        return CorruptWarehouse(
            f"the warehouse is corrupt ({first_line(exc)}); run `tagdraw check`, then restore "
            "a backup"
        )
    if isinstance(exc, duckdb.IOException):
        return StorageError(first_line(exc))
    return InternalError(
        f"internal error ({type(exc).__name__}: {first_line(exc)}); please report it, the "
        "traceback is in the log file"
    )
