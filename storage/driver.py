"""Statements run on the driver's own cursor: the state read every update makes and the seen
store's records, where SQLAlchemy's execution path cost several times the statement.

The statements are still SQLAlchemy's, compiled once by the engine's dialect, each parameter
through its type's own bind processor; pooling (and pre-ping) is the engine's. A driver error
that says the database is out of reach becomes `StorageUnavailable`, as from every other port,
and the connection that met it is not handed out again, as SQLAlchemy would do.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from briefings.ports import StorageUnavailable
from storage.errors import driver_words


class DriverStatement:
    """One statement compiled for a dialect: its SQL, and its parameters in the driver's form."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.compiled = compiled
        self.sql = str(compiled)
        self._positional = compiled.positiontup
        self._processors = {
            name: process
            for name, bind in compiled.binds.items()
            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }

    def bound(self, params: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        processed = {
            name: self._processors[name](value) if name in self._processors else value
            for name, value in params.items()
        }
        if self._positional is None:
            return processed
        return tuple(processed[name] for name in self._positional)


@contextmanager
def driver_cursor(engine: Engine) -> Iterator[tuple[PoolProxiedConnection, DBAPICursor]]:
    """A pooled connection and a cursor on it; the connection goes back to the pool after
    (which rolls back whatever was not committed)."""
    dbapi = engine.dialect.loaded_dbapi
    outages: tuple[type[BaseException], ...] = (dbapi.OperationalError, dbapi.InterfaceError)
    try:
        # The pool's own connect and pre-ping raise the driver's errors here, unwrapped.
        connection = engine.raw_connection()
    except outages as exc:
        raise StorageUnavailable(driver_words(exc)) from exc
    try:
        cursor = connection.cursor()
        try:
            yield connection, cursor
        finally:
            cursor.close()
    except outages as exc:
        connection.invalidate(exc)
        raise StorageUnavailable(driver_words(exc)) from exc
    finally:
        connection.close()
