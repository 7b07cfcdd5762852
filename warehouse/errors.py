"""Errors that reach the user as one clear line (the CLI prints them without a traceback)."""

from __future__ import annotations


class TagdrawError(Exception):
    """Base class: the message is shown to the user as is."""

    exit_code = 2


class UserError(TagdrawError):
    """Bad input: a wrong keyword, a bad date, an unknown campaign."""

    exit_code = 2


class DatabaseBusy(TagdrawError):
    """The warehouse file stayed locked by another process past the deadline."""

    exit_code = 3


class BrowserMissing(TagdrawError):
    """No Chromium could be found."""

    exit_code = 4
