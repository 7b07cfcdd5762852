"""Writing a file the user named: whole, or not at all.

Every output file (backups, exports) is written to a hidden temporary file beside the
target, flushed to disk, checked if the caller wants, and only then renamed over the
target. Any failure (a full disk, a check that fails, Ctrl-C) removes the temporary file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.errors import StorageError, UserError, is_disk_full


def check_output_path(target: Path, *, overwrite: bool) -> None:
    """Refuse, with one line, a target that is a folder, in no folder, or (unless
    ``overwrite``) already there."""
    if target.is_dir():
        raise UserError(f"{target} is a folder; give the name of a file to write.")
    if target.exists() and not target.is_file():
        # Renaming over a device or a pipe would replace it, not write into it.
        raise UserError(f"{target} is not a regular file; give the name of a file to write.")
    if not target.parent.is_dir():
        raise UserError(f"no directory {target.parent} to write {target.name} into.")
    if not overwrite and (target.exists() or target.is_symlink()):
        raise UserError(f"{target} already exists; choose a new file name.")


@contextmanager
def atomic_output(target: Path, *, overwrite: bool = True, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path to fill; when the block ends without error it becomes
    ``target`` (permissions ``mode``). On any error nothing is left behind."""
    check_output_path(target, overwrite=overwrite)
    try:
        handle, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
    except OSError as exc:
        raise _storage_error(target, exc) from None
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        os.chmod(partial, mode)
        with partial.open("rb+") as written:
            os.fsync(written.fileno())
        if not overwrite and (target.exists() or target.is_symlink()):
            raise UserError(f"{target} appeared while it was being written; nothing replaced.")
        os.replace(partial, target)
    except OSError as exc:
        raise _storage_error(target, exc) from None
    finally:
        partial.unlink(missing_ok=True)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> Path:
    """Write ``data`` to ``target`` (created or replaced whole, never half-written)."""
    path = Path(target)
    with atomic_output(path, mode=mode) as partial:
        partial.write_bytes(data)
    return path


def _storage_error(target: Path, exc: OSError) -> StorageError | UserError:
    if is_disk_full(exc):
        return StorageError(
            f"Cannot write {target}: the disk is full or the file too large "
            f"({exc.strerror or exc}); nothing was written."
        )
    if isinstance(exc, (PermissionError, FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        return UserError(f"Cannot write {target}: {exc.strerror or exc}; nothing was written.")
    return StorageError(f"Cannot write {target}: {exc.strerror or exc}; nothing was written.")
