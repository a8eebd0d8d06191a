"""SQLite through aiosqlite with one trip to its thread a statement.

aiosqlite runs every sqlite3 call on a thread of its own and hands each call there and back; the
adapter SQLAlchemy puts on it makes four such calls a statement (open a cursor, execute, fetch,
close). A trip costs 40–50 µs of CPU on a small VM (the queue put, the thread's wake-up, the event
loop's wake-up), several times what SQLite takes for an indexed lookup, and a call at the front
door makes a dozen or more. This cursor runs the four steps as one function on the connection's
thread and keeps what they returned; a transaction's BEGIN travels with its first statement, and a
transaction in which no statement ran has nothing to commit or roll back. Server-side cursors
(streamed results) keep SQLAlchemy's own.

It relies on two internals of aiosqlite 0.2x that SQLAlchemy's own adapter uses as well: a
connection's `_execute(fn, *args)` (run `fn` on its thread) and `_conn` (the sqlite3 connection).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Connection
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]


def _statement(
    connection: sqlite3.Connection, begin: str | None, operation: str, parameters: Any, many: bool
) -> Outcome:
    """On the connection's thread: the whole statement (once, or once per parameter set), its rows
    read before the cursor closes."""
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor whose statement is one trip to aiosqlite's thread; there is no
    aiosqlite cursor behind it to open or close."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")
    _adapt_connection: OneTripConnection

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1  # sqlite3's default, for a fetchmany() without a size

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        """Nothing to close: the rows were read with the statement."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._run(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection, adapted = self._connection, self._adapt_connection
        async with adapted._execute_mutex:
            begin, adapted.begin_with_next_statement = adapted.begin_with_next_statement, None
            if begin is not None:
                adapted.begun = True  # before the trip: a cancelled one may still have begun
            outcome = await connection._execute(_statement, connection._conn, begin, operation, parameters, many)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """Knows whether it sent a BEGIN since its last commit or rollback: SQLAlchemy rolls a session's
    connection back twice on close (the transaction, then the pool's reset), and a rollback with no
    transaction open would still be a trip."""

    __slots__ = ("begin_with_next_statement", "begun")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.begin_with_next_statement: str | None = None
        self.begun = False

    def commit(self) -> None:
        if self._transaction_open():
            super().commit()
            self.begun = False

    def rollback(self) -> None:
        if self._transaction_open():
            super().rollback()
            self.begun = False

    def _transaction_open(self) -> bool:
        """Whether a BEGIN went out since the last commit or rollback; forgets one not yet sent."""
        self.begin_with_next_statement = None
        return self.begun


def begin(connection: Connection, statement: str) -> None:
    """Begin a transaction: on a one-trip connection with its first statement, else at once."""
    adapted = connection.connection.dbapi_connection
    if isinstance(adapted, OneTripConnection):
        adapted.begin_with_next_statement = statement
    else:
        connection.exec_driver_sql(statement)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    """The DBAPI module to give `create_async_engine(module=...)` for a sqlite+aiosqlite URL."""
    import aiosqlite

    return OneTripDBAPI(aiosqlite, sqlite3)
