"""`hotline chaos`: faults injected into a running system, and proof that nothing is lost, doubled or
left half-made.

Each scenario starts the whole system under the `hotline up` supervisor (its own nats-server on a
free loopback port, the given database), posts calls over HTTP while a fault strikes, and then checks
every case in the database:

- `nats-kill`: nats-server is killed with SIGKILL mid-stream; the supervisor restarts it on the same
  port and store, and every service reconnects by itself.
- `db-outage`: PostgreSQL disappears for `outage_s` seconds (a TCP proxy in front of it drops every
  connection and refuses new ones), then comes back.
- `store-full`: the JetStream store fills up for `outage_s` seconds (the system's nats-server runs
  with a small `max_file_store` and the suite writes ballast into it until every publish is refused
  with "insufficient resources", nats-server's storage-exhausted error), then the ballast is deleted.
  Calls keep being taken: intake's outbox holds their events until there is room again.
- `forged`: messages no service sent are published to the CASES stream with a service's
  credentials: events about cases that do not exist, malformed JSON, the wrong schema. Each must be
  dead-lettered with a reason, and none may make a case, task, clock or case event.

A case is fully processed when it is tracked with a topic, a unit, one task and its clocks. The
client posts like an operator would: a 5xx or a refused connection is counted and retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from hotline.chaos_checks import ChaosResult, census, last_dead_letter_id, outbox_pending, table
from hotline.chaos_nats import STORE_LIMIT_BYTES, Forged, fill_store, forge, free_store
from hotline.natsserver import free_port
from hotline.shared.migrate import upgrade
from hotline.supervisor import Supervisor
from hotline.tcpproxy import TcpProxy

TEXTS = (
    "城厢镇经兜村村道旁的路灯坏了两个多月，晚上出行很不安全，请尽快维修。",
    "城厢镇经兜村村口的自来水管破裂两天了，全村停水，请尽快抢修。",
    "湖头镇某工地拖欠农民工工资三个月了，包工头电话打不通，请劳动部门帮忙追讨。",
    "小区楼下的烧烤店每天营业到凌晨两点，油烟和噪音严重影响居民休息。",
    "孩子所在的小学课后服务收费不透明，家长希望教育局规范收费。",
)
ADMIN_PASSWORD = "chaos-admin-password"
FAULTS = ("nats-kill", "db-outage", "store-full", "forged")


# -- the system and its load --------------------------------------------------------------------------


@contextmanager
def running_system(
    data_dir: Path, database_url: str, *, max_file_store: int | None = STORE_LIMIT_BYTES, **env: str
) -> Iterator[Supervisor]:
    """The whole system under the supervisor, restarting whatever dies (watched from a thread); its
    JetStream store bounded by `max_file_store` (the `store-full` fault fills it)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    environment.update(
        DATABASE_URL=database_url,
        HOTLINE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        HOTLINE_REPEAT_WINDOW_DAYS="0",  # every call is its own case
        HOTLINE_LOG_LEVEL="INFO",
        **env,
    )
    supervisor = Supervisor(
        data_dir=data_dir,
        http_port=free_port(),
        env=environment,
        restart=True,
        quiet=True,
        nats_port=free_port(),
        nats_max_file_store=max_file_store,
    )
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            supervisor.check_children()
            stop.wait(0.2)

    watcher = threading.Thread(target=watch, name="supervisor", daemon=True)
    try:
        supervisor.start()
        supervisor.wait_healthy(timeout_s=90)
        watcher.start()
        yield supervisor
    finally:
        stop.set()
        if watcher.is_alive():
            watcher.join(timeout=5)
        supervisor.stop()


def call_body(n: int) -> dict[str, str]:
    """The n-th call an operator posts: a distinct caller and text (never linked as a repeat)."""
    return {"phone": f"139{n:08d}", "content": f"{TEXTS[n % len(TEXTS)]}（登记号{n}）", "outcome": "transfer"}


class Caller:
    """Posts calls like an operator: a 5xx or a connection error is counted and the call retried."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=15)
        token = self.client.post("/api/v1/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD})
        token.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        self.sent: set[uuid.UUID] = set()
        self.http_5xx = 0
        self.http_503 = 0
        self.connection_errors = 0

    def post(self, n: int, *, give_up_s: float = 120.0) -> None:
        body = call_body(n)
        deadline = time.monotonic() + give_up_s
        while True:
            try:
                response = self.client.post("/api/v1/calls", json=body)
            except httpx.TransportError:
                self.connection_errors += 1
            else:
                if response.status_code == 201:
                    self.sent.add(uuid.UUID(response.json()["id"]))
                    return
                if response.status_code < 500:
                    raise RuntimeError(f"call {n} refused: {response.status_code} {response.text}")
                self.http_5xx += 1
                self.http_503 += response.status_code == 503
            if time.monotonic() > deadline:
                raise RuntimeError(f"call {n} could not be posted within {give_up_s:.0f} s")
            time.sleep(0.5)

    def health(self, *, timeout_s: float) -> dict[str, Any]:
        """The health report once it is 200 (or the last one after `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError, ValueError):
                response = self.client.get("/api/v1/health")
                body = dict(response.json())
                if response.status_code == 200:
                    return body
            time.sleep(0.5)
        return body

    def close(self) -> None:
        self.client.close()


def run_faults(
    faults: tuple[str, ...],
    *,
    data_dir: Path,
    database_url: str,
    n: int = 60,
    outage_s: float = 30.0,
    rate_per_s: float = 20.0,
    settle_s: float = 120.0,
    say: Callable[[str], None] = print,
) -> list[ChaosResult]:
    """Start the system once and strike each fault in turn, each with its own n calls; returns what
    the database says after each.

    `database_url` must be reachable directly; for `db-outage` it must be PostgreSQL, and the system
    is given a proxy in front of it to cut."""
    if unknown := set(faults) - set(FAULTS):
        raise ValueError(f"unknown fault(s) {sorted(unknown)}")
    upgrade(database_url)
    proxy: TcpProxy | None = None
    system_url = database_url
    if "db-outage" in faults:
        if not database_url.startswith("postgresql"):
            raise ValueError("db-outage needs PostgreSQL (a TCP proxy is put in front of it)")
        proxy, system_url = _proxied(database_url)
    results: list[ChaosResult] = []
    every: set[uuid.UUID] = set()
    try:
        with running_system(data_dir, system_url) as system:
            for fault in faults:
                caller = Caller(system.url)
                strike = Strike(fault, system, proxy, database_url, say)
                try:
                    recovery = Recovery(database_url, settle_s)
                    fault_started, fault_ended = _drive(strike, caller, n, outage_s, rate_per_s, recovery.watch)
                    every |= caller.sent
                    recover_s = recovery.seconds()
                    if _await_recovery(database_url, caller.sent, fault_ended, settle_s) is None:
                        recover_s = None
                    if strike.forged is not None:
                        _await_forgeries_parked(database_url, strike, settle_s)
                    health = caller.health(timeout_s=60)
                finally:
                    caller.close()
                found = census(
                    database_url, caller.sent, every, dead_letters_after=strike.dead_letters_after, forged=strike.forged
                )
                results.append(
                    ChaosResult(
                        fault=fault,
                        database=database_url.split(":", 1)[0].split("+", 1)[0],
                        sent=len(caller.sent),
                        stored=found.stored,
                        fully_processed=found.fully_processed,
                        lost=len(caller.sent) - found.stored,
                        doubled=found.doubled,
                        half_made=found.stored - found.fully_processed,
                        http_5xx=caller.http_5xx,
                        http_503=caller.http_503,
                        dead_letters=found.dead_letters,
                        fault_s=round(fault_ended - fault_started, 1),
                        recover_s=recover_s,
                        healthy=health.get("status") == "ok",
                        nats_restarts=health.get("checks", {}).get("nats", {}).get("restarts"),
                        held_in_outbox=strike.held_in_outbox,
                        forged=len(strike.forged.seqs) if strike.forged is not None else 0,
                        forged_dead_lettered=found.forged_dead_lettered,
                        forged_rows=found.forged_rows,
                    )
                )
    finally:
        if proxy is not None:
            proxy.stop()
    return results


def _proxied(database_url: str) -> tuple[TcpProxy, str]:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    return proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


class Strike:
    """One fault: `begin` strikes it; one that lasts (`lasting`) is taken away by `end`."""

    def __init__(
        self,
        fault: str,
        system: Supervisor,
        proxy: TcpProxy | None,
        database_url: str,
        say: Callable[[str], None],
    ) -> None:
        self.fault = fault
        self.system = system
        self.proxy = proxy
        self.database_url = database_url
        self.say = say
        self.dead_letters_after = last_dead_letter_id(database_url)
        self.held_in_outbox: int | None = None
        self.forged: Forged | None = None

    @property
    def lasting(self) -> bool:
        return self.fault in ("db-outage", "store-full")

    @property
    def _admin_url(self) -> str:
        return self.system.env["NATS_URL"]

    def begin(self, outage_s: float) -> None:
        if self.fault == "nats-kill":
            self.say("chaos: kill -9 nats-server")
            started = time.monotonic()
            restarts = self.system.nats_child.restarts
            self.system.kill_nats()
            while self.system.nats_child.restarts == restarts:  # the supervisor's watcher restarts it
                if time.monotonic() - started > 60:
                    raise RuntimeError("nats-server was not restarted within 60 s")
                time.sleep(0.05)
            self.say(f"chaos: nats-server back after {time.monotonic() - started:.1f} s")
        elif self.fault == "db-outage":
            assert self.proxy is not None
            self.say(f"chaos: database unreachable for {outage_s:.0f} s")
            self.proxy.cut()
        elif self.fault == "store-full":
            written = fill_store(self._admin_url)
            self.say(f"chaos: JetStream store full ({written / 2**20:.0f} MiB of ballast) for {outage_s:.0f} s")
        else:
            # Forged with the credentials of intake, the one user that may publish every case event.
            assert self.system.nats is not None
            self.forged = forge(self.system.nats.url_for("intake"))
            self.say(f"chaos: {len(self.forged.seqs)} forged messages published")

    def end(self) -> None:
        if self.fault == "db-outage":
            assert self.proxy is not None
            self.proxy.restore()
            self.say("chaos: database back")
        elif self.fault == "store-full":
            self.held_in_outbox = outbox_pending(self.database_url)
            free_store(self._admin_url)
            self.say(f"chaos: JetStream store freed; {self.held_in_outbox} events were waiting in the outbox")


def _drive(
    strike: Strike,
    caller: Caller,
    n: int,
    outage_s: float,
    rate_per_s: float,
    fault_over: Callable[[set[uuid.UUID], float], None],
) -> tuple[float, float]:
    """Post n calls at `rate_per_s`, striking the fault a third of the way through; returns when the
    fault started and ended (monotonic). `fault_over` hears when it ended, with the cases sent by then
    (those the fault caught)."""
    started = 0.0
    ended: list[float] = []
    timer: threading.Timer | None = None

    def over() -> None:
        ended.append(time.monotonic())
        fault_over(set(caller.sent), ended[0])

    def restore() -> None:
        strike.end()
        over()

    for i in range(n):
        if i == n // 3:
            started = time.monotonic()
            strike.begin(outage_s)
            if strike.lasting:
                timer = threading.Timer(outage_s, restore)
                timer.start()
            else:
                over()
        caller.post(i)  # during a database outage this retries until the database is back
        time.sleep(1 / rate_per_s)
    if timer is not None:
        timer.join()
    return started, ended[0]


def _await_forgeries_parked(database_url: str, strike: Strike, settle_s: float) -> None:
    """Until every forged message is among the dead letters (the census then says if not)."""
    assert strike.forged is not None
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:
        found = census(database_url, set(), dead_letters_after=strike.dead_letters_after, forged=strike.forged)
        if found.forged_dead_lettered >= len(strike.forged.seqs):
            return
        time.sleep(0.5)


class Recovery:
    """Watches, from the fault's end and alongside the ongoing calls, for the cases the fault caught
    to be fully processed."""

    def __init__(self, database_url: str, settle_s: float) -> None:
        self.database_url = database_url
        self.settle_s = settle_s
        self._result: list[float | None] = []
        self._thread: threading.Thread | None = None

    def watch(self, caught: set[uuid.UUID], ended: float) -> None:
        def run() -> None:
            self._result.append(_await_recovery(self.database_url, caught, ended, self.settle_s))

        self._thread = threading.Thread(target=run, name="chaos-recovery", daemon=True)
        self._thread.start()

    def seconds(self) -> float | None:
        if self._thread is None:
            return None
        self._thread.join()
        return self._result[0] if self._result else None


def _await_recovery(database_url: str, sent: set[uuid.UUID], fault_ended: float, settle_s: float) -> float | None:
    """Seconds from the fault's end until every case sent was fully processed (None: not within
    `settle_s`)."""
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:
        if census(database_url, sent).fully_processed >= len(sent):
            return round(max(0.0, time.monotonic() - fault_ended), 1)
        time.sleep(0.5)
    return None


# -- `hotline chaos` ----------------------------------------------------------------------------------


def postgres_scratch_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh database on the PostgreSQL server of `admin_url` and a function that drops it."""
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    name = f"hotline_chaos_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password, database="postgres"
        )
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), lambda: asyncio.run(
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )


def main(*, long: bool, postgres_url: str | None, faults: tuple[str, ...]) -> int:
    """Every fault on one system: PostgreSQL when given (a scratch database), else SQLite, where the
    database fault is skipped (loudly): a file database cannot be taken away from under a running
    process the way a server can."""
    n, rate = (300, 40.0) if long else (60, 20.0)
    if "db-outage" in faults and not postgres_url:
        print("!!! db-outage SKIPPED: it needs PostgreSQL (--postgres-url postgresql+asyncpg://user@host/db)")
        faults = tuple(f for f in faults if f != "db-outage")
    if not faults:
        return 1
    drop: Callable[[], None] | None = None
    with tempfile.TemporaryDirectory(prefix="hotline-chaos-") as tmp:
        if postgres_url:
            database_url, drop = postgres_scratch_database(postgres_url)
        else:
            database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'chaos.db'}"
        try:
            results = run_faults(faults, data_dir=Path(tmp) / "system", database_url=database_url, n=n, rate_per_s=rate)
        finally:
            if drop is not None:
                drop()
    print(table(results))
    return 0 if all(r.ok for r in results) else 1
