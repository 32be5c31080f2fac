"""Progress bars and log messages, the way the Python ecosystem shows them.

Long steps (reading a log, validating it, ordering the events, a bootstrap, each notebook of
``toolkit.reproduce``) report through :func:`bar`: a `tqdm <https://tqdm.github.io>`_ bar on
standard error when it is a terminal, and nothing when it is not (a pipe, a CI log, a file,
a notebook), so that logs stay clean. Messages go through :mod:`logging` under the
``toolkit`` logger and are shown only when an application asks for them: the ``sekat``
command prints them (``--quiet`` keeps warnings and errors only, ``--verbose`` adds the
timing of every step); a notebook or script can call :func:`show_messages`.

Estimators with a loop that can take long (a bootstrap) take its bar as
``for b in progress.iterate(range(n_boot), "bootstrap"): ...``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = [
    "LOGGER",
    "PROGRESS_ENV",
    "bar",
    "enabled",
    "iterate",
    "set_enabled",
    "show_messages",
    "step",
]

#: The logger every part of the package logs to (children: ``toolkit.pipeline``, ...).
LOGGER = logging.getLogger("toolkit")
LOGGER.addHandler(logging.NullHandler())
#: Set to ``0`` to turn progress bars off, ``1`` to force them on (even without a terminal).
PROGRESS_ENV = "SEKAT_PROGRESS"

_T = TypeVar("_T")
_switch: bool | None = None  # set_enabled(); None: decide from the environment and stderr


def set_enabled(value: bool | None) -> None:
    """Turn progress bars on or off for this process; None goes back to the default.

    Examples
    --------
    >>> set_enabled(False); enabled()
    False
    >>> set_enabled(None)
    """
    global _switch
    _switch = value


def enabled() -> bool:
    """Whether a bar would be drawn now: on a terminal only, unless switched.

    :func:`set_enabled` wins, then the ``SEKAT_PROGRESS`` environment variable, then whether
    standard error is a terminal.
    """
    if _switch is not None:
        return _switch
    setting = os.environ.get(PROGRESS_ENV, "").strip()
    if setting in ("0", "1"):
        return setting == "1"
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Silent:
    """What :func:`bar` returns when no bar is drawn: the same methods, doing nothing."""

    def update(self, n: int = 1) -> None:
        """Nothing to draw."""

    def set_description_str(self, text: str) -> None:
        """Nothing to draw."""

    def close(self) -> None:
        """Nothing to close."""


@contextmanager
def bar(total: int | None, description: str, unit: str = "step") -> Iterator[Any]:
    """A progress bar for a step of ``total`` parts (None: unknown, elapsed time only).

    Parameters
    ----------
    total : int or None
        How many parts the step has.
    description : str
        What is being done, shown before the bar.
    unit : str
        What a part is (``step``, ``notebook``, ``resample``).

    Yields
    ------
    object
        With ``update(n)`` and ``set_description_str(text)``; a silent stand-in when no bar
        is drawn (see :func:`enabled`).

    Examples
    --------
    >>> with bar(3, "counting") as progress:
    ...     for _ in range(3):
    ...         progress.update()
    """
    if not enabled():
        yield _Silent()
        return
    from tqdm import tqdm

    shown = tqdm(total=total, desc=description, unit=unit, file=sys.stderr, leave=False)
    try:
        yield shown
    finally:
        shown.close()


def iterate(items: Iterable[_T], description: str, total: int | None = None) -> Iterator[_T]:
    """The items, with a bar advancing as each is taken (a bootstrap's resamples, ...).

    Examples
    --------
    >>> sum(iterate(range(4), "summing"))
    6
    """
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with bar(total, description, unit="it") as progress:
        for item in items:
            yield item
            progress.update()


@contextmanager
def step(progress: Any, text: str, logger: logging.Logger = LOGGER) -> Iterator[None]:
    """One step of a multi-step run: named on its bar, timed in the log (``--verbose``).

    Examples
    --------
    >>> with bar(1, "preparing") as progress, step(progress, "reading"):
    ...     pass
    """
    progress.set_description_str(text)
    began = time.perf_counter()
    yield
    logger.debug("%s: %.2f s", text, time.perf_counter() - began)
    progress.update()


def show_messages(level: int = logging.INFO, stream: Any = None, prefix: str = "") -> Any:
    """Print the package's log messages of ``level`` and above to ``stream`` (stderr).

    Returns the handler, so that a caller can remove it again
    (``progress.LOGGER.removeHandler(handler)``).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> handler = show_messages(stream=out, prefix="sekat: ")
    >>> LOGGER.info("hello")
    >>> LOGGER.removeHandler(handler)
    >>> out.getvalue()
    'sekat: hello\\n'
    """
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(logging.Formatter(prefix + "%(message)s"))
    handler.setLevel(level)
    LOGGER.addHandler(handler)
    LOGGER.setLevel(min(level, LOGGER.level or logging.WARNING))
    return handler
