"""Database tables and sessions (SQLAlchemy 2, async).

One database, one migration history; each table is written by one service:
- intake: `cases` (insert, repeats, 转接 records), `tasks` (people's steps), `users`, `api_tokens`, `access_log`,
  `intake_keys`,
  `routing_tables`, `routing_examples`, `calendar_tables`, outbox rows with source "intake"
- feed: `case_events`, `dead_letters`, new `tasks`, the projected state columns of `cases` and the
  statistics' rollups (`case_rollups`, `case_rollup_members`) and the 派单准确率's (`dispatch_rollups`,
  `dispatch_rollup_members`)
- escalation: `deadlines`, `case_trouble`, outbox rows with source "escalation"
Consumers stay idempotent through unique keys on event ids, in the same transaction as the effect.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    Uuid,
    event,
    false,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from . import sqlite_turns
from .pool_ping import ping_when_idle
from .sqlite_driver import begin, defer_writes, one_trip_dbapi


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware datetimes (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # On SQLite, one call that writes SQLAlchemy's own DATETIME text ("2026-11-30 04:10:50.000000")
        # instead of ours then its (a clock row has five moments; escalation binds them by the thousand).
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            if value.tzinfo is not UTC:
                value = value.astimezone(UTC)
            return value.isoformat(" ", "microseconds")[:26]

        return process


class JsonText(str):
    """A value already serialised as JSON (pydantic's `model_dump_json`), for a `JsonPayload` column."""


class JsonPayload(TypeDecorator[dict[str, Any]]):
    """A JSON column that also takes `JsonText` and stores it as it is: the feed stores every event's
    payload, and dumping a model to a dict for the column to serialise again cost more than pydantic's
    own serialiser does. Reading gives the dict as for any JSON column."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        serialize = self.impl_instance.bind_processor(dialect)

        def process(value: Any) -> Any:
            if isinstance(value, JsonText):
                return str(value)
            return serialize(value) if serialize is not None else value

        return process


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    query_code: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]
    content: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(200))
    # Personal data: shown masked except where the role needs it.
    person_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[str | None] = mapped_column(String(32))
    township: Mapped[str | None] = mapped_column(String(64))
    # Projected by the feed service from case events.
    status: Mapped[str] = mapped_column(String(16), index=True)
    topic: Mapped[str | None] = mapped_column(String(32))
    subtopic: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(8))
    unit_code: Mapped[str | None] = mapped_column(String(64), index=True)
    unit_name: Mapped[str | None] = mapped_column(String(64))
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # Who logged it (operators see what they logged) and the public answer shown to the citizen.
    created_by: Mapped[str | None] = mapped_column(String(64), index=True)
    public_answer: Mapped[str | None] = mapped_column(Text)
    # 重复来电/重复信访: later contacts about the same matter, linked here instead of opening new cases.
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    # The citizen's latest 回访 verdict (满意/基本满意/不满意), projected from `visited` events.
    verdict: Mapped[str | None] = mapped_column(String(8))
    # 紧急诉求 (projected from `classified`; never cleared once set) and the 转接 records intake writes:
    # [{line, at, by, role, note}], one per emergency line.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    urgent_reasons: Mapped[list[Any]] = mapped_column(default=list)
    urgent_lines: Mapped[list[Any]] = mapped_column(default=list)
    handovers: Mapped[list[Any]] = mapped_column(default=list)
    # When the case is due to be answered: its clocks' (shared/answer_due.py), copied by the escalation
    # service with every change to them, so the statistics count 超期 from the index below alone.
    answer_due_at: Mapped[datetime | None]

    # Intake's repeat search on every call: a channel's cases of the same phone, or of the same
    # township, newest first (the channel in them, or SQLite's planner prefers the channel's index).
    __table_args__ = (
        Index("ix_cases_phone_channel_received", "phone", "channel", "received_at"),
        Index("ix_cases_township_channel_received", "township", "channel", "received_at"),
        Index("ix_cases_channel_received", "channel", "received_at"),  # earlier reports of a post
        # The statistics count overdue cases live among the unanswered ones only (see shared/rollups.py):
        # partial, so it holds the open backlog only, and covering, so they are read from it alone.
        Index(
            "ix_cases_unanswered_received",
            "received_at",
            "id",
            "channel",
            "unit_name",
            "topic",
            "township",
            "answered_at",  # always NULL here, but SQLite reads it from the table unless the index has it
            "answer_due_at",
            sqlite_where=text("answered_at IS NULL"),
            postgresql_where=text("answered_at IS NULL"),
        ),
    )


class CaseEventRow(Base):
    __tablename__ = "case_events"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JsonPayload)


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    # The event's case: the reconciler finds a stuck case's `received` event by it.
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_outbox_pending", "source", "published_at", "id"),)


# Written as literal SQL, not bound parameters: SQLite uses a partial index only for a query whose
# WHERE repeats the index's terms literally.
PROVISIONAL_OPEN = text("provisional AND state IN ('open', 'overdue')")


class DeadlineRow(Base):
    __tablename__ = "deadlines"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(64))
    unit_of_time: Mapped[str] = mapped_column(String(16), default="hours")  # hours | days | workdays
    source: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(String(64), index=True)
    received_at: Mapped[datetime]
    starts_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # open | met | overdue | cancelled (a released 协办 unit)
    # Index of the last escalation step taken (0 = none yet) and when the next one falls due.
    step: Mapped[int] = mapped_column(Integer, default=0)
    next_step_at: Mapped[datetime | None] = mapped_column(index=True)
    # 挂起 stops the clock: while paused_at is set nothing escalates; on resume the clock moves on by
    # the pause, which is added to paused_seconds.
    paused_at: Mapped[datetime | None]
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    extended_by: Mapped[str | None] = mapped_column(String(32))
    extensions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # approved so far
    # Counted from the statutory holidays alone: the year's official arrangement is not known yet; it is
    # recomputed once an administrator enters it (or the calendar package knows it).
    provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    source_event_id: Mapped[uuid.UUID] = mapped_column(Uuid)

    # The few provisional clocks still running, read at every start and calendar update: partial,
    # so finding them does not read every deadline on file.
    __table_args__ = (
        Index(
            "ix_deadlines_provisional_open",
            "case_id",
            sqlite_where=PROVISIONAL_OPEN,
            postgresql_where=PROVISIONAL_OPEN,
        ),
    )


class CaseTroubleRow(Base):
    """How often a case bounced: returns, redos after 不满意, units it went through. Three of a kind
    make it a 问题工单 for 提级督办."""

    __tablename__ = "case_trouble"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    redos: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[list[Any]] = mapped_column(default=list)
    seen_events: Mapped[list[Any]] = mapped_column(default=list)  # event ids counted (idempotency)
    flagged_at: Mapped[datetime | None]


class DeadLetterRow(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    subject: Mapped[str] = mapped_column(String(128))
    consumer: Mapped[str] = mapped_column(String(64))
    stream_seq: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    replayed_at: Mapped[datetime | None]

    # The letters still to replay, counted by every sampler round of intake and the feed: partial, so
    # a flood of them (each with its payload and error) is counted from the index, not the table.
    __table_args__ = (
        Index(
            "ix_dead_letters_pending",
            "id",
            "replayed_at",  # always NULL here, but SQLite reads it from the table unless the index has it
            sqlite_where=text("replayed_at IS NULL"),
            postgresql_where=text("replayed_at IS NULL"),
        ),
    )


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # operator | dispatcher | unit | leader | admin
    unit_code: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    label: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class TaskRow(Base):
    """A unit's task for a case (派单). Created from `routed`, changed by the unit's actions."""

    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    unit_code: Mapped[str] = mapped_column(String(64), index=True)
    unit_name: Mapped[str] = mapped_column(String(64))
    co_units: Mapped[list[Any]] = mapped_column(default=list)
    # pending 待签收 | signed 办理中 | paused 挂起 | answered 已答复 | returned 已退回 | closed 已办结
    state: Mapped[str] = mapped_column(String(16), index=True)
    assigned_at: Mapped[datetime]
    signed_at: Mapped[datetime | None]
    signed_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    return_reason: Mapped[str | None] = mapped_column(Text)
    extension_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(8), default="lead", server_default="lead")  # lead 主办 | co 协办
    source_event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    updated_at: Mapped[datetime]

    # A case's tasks, and its open ones (the feed marks a batch's superseded tasks): with the state in
    # it, SQLite's planner no longer prefers the state's index and reads every open task.
    __table_args__ = (Index("ix_tasks_case_state", "case_id", "state"),)


class RoutingExampleRow(Base):
    """A person's routing decision (人工分拣, 派单/改派, 改派 after a 退回) kept as a labelled example:
    the text, and the unit and topic a person chose, for retraining and for tuning the 派单目录."""

    __tablename__ = "routing_examples"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    text: Mapped[str] = mapped_column(Text)
    township: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(32))
    subtopic: Mapped[str | None] = mapped_column(String(32))
    unit_code: Mapped[str | None] = mapped_column(String(64))  # None: a topic was chosen, the table routes
    previous_unit: Mapped[str | None] = mapped_column(String(64))  # the unit the system (or a person) had chosen
    source: Mapped[str] = mapped_column(String(16))  # 人工分拣 | 改派 | 退回改派
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime]


class RoutingTableRow(Base):
    """派单目录 versions: the county's units, routing table and matter catalogue as TOML, edited by
    admins. The newest version is in force; every routing decision names the version it used."""

    __tablename__ = "routing_tables"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content: Mapped[str] = mapped_column(Text)
    # The matter catalogue (matters.toml format) of this version; NULL: the one shipped with the system.
    matters: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class CalendarTableRow(Base):
    """Working-day overrides an admin maintains for years `chinese_calendar` does not know yet (JSON:
    {"covered_years": [2027], "overrides": {"2027-01-01": false, ...}}); the newest version is in force."""

    __tablename__ = "calendar_tables"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class AccessLogRow(Base):
    """Denied accesses and reads of full personal data: who, what, when, why."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # denied | reveal_contact
    target: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text)


class IntakeKeyRow(Base):
    """The client keys of bulk intake (a feed's post id, a migration's record number): a key sent
    again answers with the case it made the first time instead of making another."""

    __tablename__ = "intake_keys"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime]


class CaseRollupRow(Base):
    """The statistics' counts per Beijing receiving day, month or year (`span`, `day` its first day) and
    one grouping (`dimension`: all, channel, unit, topic, township, answered_day: the day it was
    answered, hot: topic and subtopic), kept by the feed service in the transaction that projects the
    events (see shared/rollups.py)."""

    __tablename__ = "case_rollups"
    # The primary key serves a period's rows; the trend and the answered days ask by grouping first.
    __table_args__ = (Index("ix_case_rollups_dimension_span_day", "dimension", "span", "day"),)

    span: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    answered_on_spot: Mapped[int] = mapped_column(Integer, default=0)
    transferred: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    answered_late: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)
    finished: Mapped[int] = mapped_column(Integer, default=0)
    visited: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)


class RollupMemberRow(Base):
    """What each case adds to `case_rollups` now: a change is counted as the difference between the
    case's new facts and these, so an event projected twice (or out of order) never counts twice."""

    __tablename__ = "case_rollup_members"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(32))
    subtopic: Mapped[str | None] = mapped_column(String(32))
    township: Mapped[str | None] = mapped_column(String(64))
    answered_day: Mapped[date | None] = mapped_column(Date)
    flags: Mapped[int] = mapped_column(Integer)  # a bit per counter (shared/rollups.py COUNTERS)


class DispatchRollupRow(Base):
    """The 派单准确率's counts per Beijing day or week (`span`, `day` its first day: the Monday of a
    week) of cases' first 主办 assignment and the unit (code and name) it went to: how many were
    first routed there, and how many of those left after a 退回 or an 改派. Kept by the feed service
    with the projection (see shared/dispatch_rollups.py)."""

    __tablename__ = "dispatch_rollups"

    span: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    routed: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    reassigned: Mapped[int] = mapped_column(Integer, default=0)


class DispatchMemberRow(Base):
    """What each case adds to `dispatch_rollups` now: its first 主办 assignment and what became of it."""

    __tablename__ = "dispatch_rollup_members"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    unit_code: Mapped[str] = mapped_column(String(64))
    unit_name: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # kept | returned | reassigned


def create_engine(database_url: str, *, writes: bool = True, pool_size: int | None = None) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and NORMAL sync (safe with WAL).

    On SQLite a writing engine's transactions queue for their turn (shared/sqlite_turns.py) and
    begin IMMEDIATE: a deferred transaction that reads
    and then writes fails at once (SQLITE_BUSY_SNAPSHOT) when another process committed meanwhile,
    whereas an immediate one waits its turn under the busy timeout. Read-only engines stay deferred
    so that readers never queue behind writers.

    `pool_size` connections stay open and requests beyond them wait their turn (a busy front door:
    overflow connections would be opened and closed per request, on SQLite a thread and three
    PRAGMAs each time, and more SQLite writers only sleep longer in the busy handler).
    """
    is_sqlite = database_url.startswith("sqlite")
    kwargs: dict[str, Any] = {}
    if pool_size is not None:
        kwargs.update(pool_size=pool_size, max_overflow=0)
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": 30}
        if database_url.startswith("sqlite+aiosqlite"):
            kwargs["module"] = one_trip_dbapi()
    engine = create_async_engine(database_url, **kwargs)
    if not is_sqlite:
        ping_when_idle(engine)  # not SQLAlchemy's pre-ping: a round trip per checkout (pool_ping.py)
    if is_sqlite:

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            dbapi_connection.isolation_level = None

        database_file = sqlite_turns.sqlite_file(database_url)
        if writes and database_file is not None:
            sqlite_turns.install(engine, database_file)  # its "begin" listener must run before this one's

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            begin(connection, "BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def read_one_snapshot(session: AsyncSession) -> None:
    """Let the rest of a read-only session read one snapshot of the database, as a page showing a case
    with its clocks and history must: PostgreSQL's default (READ COMMITTED) gives each statement its
    own, and the feed may commit a case's new state and its history between two of them. Call it
    before the session's first statement. SQLite's read transactions are one snapshot already."""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits on success, rolls back on any error."""
    async with sessions() as session, session.begin():
        yield session


async def writes_with_commit(session: AsyncSession) -> None:
    """From here to the end of the session's transaction, send its inserts (without RETURNING) with
    its next other statement or its COMMIT, in one trip (SQLite, see sqlite_driver.py; elsewhere
    nothing changes). For Core inserts whose count and row id nobody reads: a unique key hit then
    surfaces at that statement or at the commit."""
    connection = await session.connection()
    defer_writes(await connection.get_raw_connection())


def insert_ignoring_duplicates(session: AsyncSession, table: Any) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the session's dialect, into a mapped class's table.
    Rows are given as dicts of column values."""
    return _insert_ignoring_duplicates(session.get_bind().dialect.name, getattr(table, "__table__", table))


@lru_cache(maxsize=64)
def _insert_ignoring_duplicates(dialect: str, table: Any) -> Any:
    # On the table, not the mapped class: the ORM's bulk path walks every row in Python again before
    # the driver sees it (measured on SQLite: 38-44 µs a deadline row through the class, 32-36 through
    # the table). Built once per table: a statement is immutable, so one serves every batch.
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


async def lock_case_rows(session: AsyncSession, case_ids: Iterable[uuid.UUID]) -> None:
    """On PostgreSQL, lock these cases' rows in key order for the rest of the transaction. Every
    transaction that writes several case rows (the feed's batches, the escalation service's copies
    of due moments) takes them this way first, so two of them wait for each other instead of each
    holding a row the other wants (a deadlock, which PostgreSQL breaks by failing one). SQLite
    writes one transaction at a time: nothing to do."""
    wanted = sorted(set(case_ids))
    if not wanted or session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(select(CaseRow.id).where(CaseRow.id.in_(wanted)).order_by(CaseRow.id).with_for_update())
