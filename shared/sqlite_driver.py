"""SQLite through aiosqlite with one trip to its thread a statement.

aiosqlite runs every sqlite3 call on a thread of its own and hands each call there and back; the
adapter SQLAlchemy puts on it makes four such calls a statement (open a cursor, execute, fetch,
close). A trip costs 40–50 µs of CPU on a small VM (the queue put, the thread's wake-up, the event
loop's wake-up), several times what SQLite takes for an indexed lookup, and a call at the front
door makes a dozen or more. This cursor runs the four steps as one function on the connection's
thread and keeps what they returned; a transaction's BEGIN travels with its first statement, and a
transaction in which no statement ran has nothing to commit or roll back. Server-side cursors
(streamed results) keep SQLAlchemy's own.

A transaction may also defer its inserts (`defer_writes`): from then on an INSERT without RETURNING
is kept and sent with the transaction's next other statement, or with the COMMIT. A transaction that
only inserts is then one trip, and holds SQLite's write lock only as long as SQLite takes, not as
long as its statements wait for a busy event loop. Its errors (a unique key hit) surface at that
later statement or at the commit, whose trip rolls the transaction back first, and its count and
last row id are unknown (-1, None): UPDATEs and DELETEs are never deferred, since the ORM checks
their counts.

It relies on two internals of aiosqlite 0.2x that SQLAlchemy's own adapter uses as well: a
connection's `_execute(fn, *args)` (run `fn` on its thread) and `_conn` (the sqlite3 connection).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Sequence
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
Deferred = tuple[str, Any, bool]  # a statement kept for later: operation, parameters, many


def _deferrable(operation: str) -> bool:
    return operation.lstrip()[:6].upper() == "INSERT" and "RETURNING" not in operation.upper()


def _send(cursor: sqlite3.Cursor, begin: str | None, deferred: Sequence[Deferred]) -> None:
    if begin is not None:
        cursor.execute(begin)
    for operation, parameters, many in deferred:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)


def _statement(
    connection: sqlite3.Connection,
    begin: str | None,
    deferred: Sequence[Deferred],
    operation: str,
    parameters: Any,
    many: bool,
) -> Outcome:
    """On the connection's thread: the writes deferred so far, then the whole statement (once, or once
    per parameter set), its rows read before the cursor closes."""
    cursor = connection.cursor()
    try:
        _send(cursor, begin, deferred)
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
        if self._deferred(operation, parameters, many=False):
            return None
        try:
            return await_(self._run(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        if self._deferred(operation, seq_of_parameters, many=True):
            return None
        try:
            return await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def _deferred(self, operation: Any, parameters: Any, *, many: bool) -> bool:
        """Keep an insert for later if the transaction defers them; its count is unknown (-1) meanwhile."""
        deferred = self._adapt_connection.deferred
        if deferred is None or not _deferrable(operation):
            return False
        deferred.append((operation, parameters, many))
        self._description, self._rowcount, self._lastrowid = None, -1, None
        self._rows = deque()
        return True

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection, adapted = self._connection, self._adapt_connection
        async with adapted._execute_mutex:
            begin, adapted.begin_with_next_statement = adapted.begin_with_next_statement, None
            if begin is not None:
                adapted.begun = True  # before the trip: a cancelled one may still have begun
            deferred = adapted.take_deferred()
            outcome = await connection._execute(
                _statement, connection._conn, begin, deferred, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """Knows whether it sent a BEGIN since its last commit or rollback: SQLAlchemy rolls a session's
    connection back twice on close (the transaction, then the pool's reset), and a rollback with no
    transaction open would still be a trip. `when_ended` runs on the connection's thread as soon as
    a COMMIT or ROLLBACK is done, before the event loop hears of it (the writers' turn is passed on
    there, see sqlite_turns.py)."""

    __slots__ = ("begin_with_next_statement", "begun", "deferred", "when_ended")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.begin_with_next_statement: str | None = None
        self.begun = False
        self.deferred: list[Deferred] | None = None  # a list while the transaction defers its inserts
        self.when_ended: Callable[[], None] | None = None

    def take_deferred(self) -> list[Deferred]:
        """The writes kept so far, to send now (the transaction keeps deferring later ones)."""
        if not self.deferred:
            return []
        taken, self.deferred = self.deferred, []
        return taken

    def commit(self) -> None:
        begin, deferred = self.begin_with_next_statement, self.take_deferred()
        self.deferred = None
        if self._transaction_open() or deferred:
            self._end(_commit, begin if deferred else None, deferred)

    def rollback(self) -> None:
        self.deferred = None  # never sent: nothing of them to undo
        if self._transaction_open():
            self._end(_rollback, None, ())

    def _end(self, end: Callable[..., None], begin: str | None, deferred: Sequence[Deferred]) -> None:
        if not self._connection._connection:  # closed meanwhile: nothing to end, unless inserts wait
            self.begun = False
            if deferred:
                raise self.dbapi.OperationalError("the connection closed before its deferred inserts were sent")
            return
        self.begun = True  # before the trip: a cancelled one may still have begun
        try:
            await_(self._connection._execute(end, self._connection._conn, begin, deferred, self.when_ended))
        except Exception as error:
            self._handle_exception(error)
        finally:
            self.begun = False

    def _transaction_open(self) -> bool:
        """Whether a BEGIN went out since the last commit or rollback; forgets one not yet sent."""
        self.begin_with_next_statement = None
        return self.begun


def _commit(
    connection: sqlite3.Connection,
    begin: str | None,
    deferred: Sequence[Deferred],
    when_ended: Callable[[], None] | None,
) -> None:
    """On the connection's thread: the deferred writes and the COMMIT, or a ROLLBACK if one fails."""
    try:
        cursor = connection.cursor()
        try:
            _send(cursor, begin, deferred)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()
    finally:
        if when_ended is not None:
            when_ended()


def _rollback(
    connection: sqlite3.Connection, _begin: None, _deferred: Sequence[Deferred], when_ended: Callable[[], None] | None
) -> None:
    try:
        connection.rollback()
    finally:
        if when_ended is not None:
            when_ended()


def begin(connection: Connection, statement: str) -> None:
    """Begin a transaction: on a one-trip connection with its first statement, else at once."""
    adapted = connection.connection.dbapi_connection
    if isinstance(adapted, OneTripConnection):
        adapted.begin_with_next_statement = statement
    else:
        connection.exec_driver_sql(statement)


def defer_writes(connection: Any) -> None:
    """Until its transaction ends, keep the inserts of `connection` (a pooled connection) that return
    nothing and send them with its next other statement, or with its COMMIT (see the module's
    docstring). Nothing changes on other drivers, which send every statement at once."""
    adapted = connection.dbapi_connection
    if isinstance(adapted, OneTripConnection) and adapted.deferred is None:
        adapted.deferred = []


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    """The DBAPI module to give `create_async_engine(module=...)` for a sqlite+aiosqlite URL."""
    import aiosqlite

    return OneTripDBAPI(aiosqlite, sqlite3)
