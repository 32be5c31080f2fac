"""Errors a user can cause.

Every problem with a user's input (a missing file, a missing column, an unreadable file, a
missing key) raises a :class:`SekatError` whose message names the file, and the column and
row where they apply. The command line turns it into one line on stderr and exit status 2.
"""

from __future__ import annotations

from collections.abc import Sequence


class SekatError(Exception):
    """A problem with the user's input or set-up, explained in one line."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
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


def require_columns(
    frame: object,
    columns: Sequence[str],
    *,
    what: str = "the table",
    file: str | None = None,
) -> None:
    """Raise :class:`MissingColumnError` unless ``frame`` has every one of ``columns``.

    The one check of required columns in sekat: the message names the first missing
    column, every missing one and every column the frame does have, so the user can see a
    misspelling at once.

    Parameters
    ----------
    frame : DataFrame-like
        Anything with a ``columns`` attribute (pandas or Dask).
    columns : sequence of str
        The columns needed.
    what : str
        What needs them, for the message ("the case table", "forest_plot").
    file : str, optional
        The file the frame came from.

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"hops": [1]}), ["hops"])
    >>> require_columns(pd.DataFrame({"hop": [1]}), ["hops"], what="the case table")
    Traceback (most recent call last):
    toolkit.errors.MissingColumnError: column 'hops': the case table lacks ['hops']; columns found: ['hop']
    """
    present = getattr(frame, "columns", None)
    if present is None:
        raise SekatError(f"{what} needs a table with columns, got {type(frame).__name__}")
    have = set(present)
    missing = [c for c in columns if c not in have]
    if missing:
        raise MissingColumnError(
            f"{what} lacks {missing}; columns found: {[str(c) for c in present]}",
            file=file,
            column=missing[0],
        )
