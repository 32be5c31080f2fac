"""Errors a user can cause.

Every problem with a user's input (a missing file, a missing column, an unreadable file, a
missing key) raises a :class:`SekatError` whose message names the file, and the column and
row where they apply. The command line turns it into one line on stderr and exit status 2.
"""

from __future__ import annotations


class SekatError(Exception):
    """A problem with the user's input or set-up, explained in one line."""

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None,
                 row: int | None = None) -> None:
        self.file = file
        self.column = column
        self.row = row
        where = []
        if file is not None:
            where.append(str(file))
        if column is not None:
            where.append(f"column {column!r}")
        if row is not None:
            where.append(f"row {row}")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class MissingColumnError(SekatError, KeyError):
    """A required column is absent; the message lists the columns that were found."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return Exception.__str__(self)


class KeyMissingError(SekatError):
    """No pseudonymisation key was given (SEKAT_KEY or a key file)."""
