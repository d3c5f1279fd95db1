"""SQLAlchemy's errors, as the core's ports name them.

A database that is down, refuses connections or whose file became unusable surfaces from the
driver as `OperationalError` (or `InterfaceError`, or a `DBAPIError` that invalidated the
connection); the core knows only `briefings.ports.StorageUnavailable`. Integrity errors and
programming errors are bugs or races, not outages, and pass through unchanged.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from briefings.ports import StorageUnavailable

P = ParamSpec("P")
R = TypeVar("R")


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached or used, rather than a bad statement."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@contextmanager
def unavailable_on_outage() -> Iterator[None]:
    """Re-raise an outage as `StorageUnavailable`; the driver's error stays as its cause."""
    try:
        yield
    except DBAPIError as exc:
        if is_outage(exc):
            raise StorageUnavailable(_first_line(exc)) from exc
        raise


def outage_mapped(method: Callable[P, R]) -> Callable[P, R]:
    """`unavailable_on_outage` around a whole port method."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with unavailable_on_outage():
            return method(*args, **kwargs)

    return wrapper


def driver_words(error: BaseException) -> str:
    """The driver's own words: the first line of its message, else the error's name."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _first_line(exc: DBAPIError) -> str:
    # The driver's error, without SQLAlchemy's statement and background link.
    orig = exc.orig
    return driver_words(orig) if orig is not None and str(orig).strip() else type(exc).__name__
