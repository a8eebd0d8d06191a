"""`hotline soak`: the whole system under a steady load of calls for a while, and the memory (RSS) of
every process it runs at the start and at the end.

The system runs as under the chaos suite (`hotline up`'s supervisor, its own loopback nats-server,
SQLite or a scratch PostgreSQL database). Calls are posted over HTTP at `rate` a second for
`minutes`; the first `warmup_minutes` fill caches (jieba, the model, connection pools), so "start"
is sampled when they end and "end" when the load ends. Afterwards every call must be fully processed.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hotline.chaos import ADMIN_PASSWORD, call_body, postgres_scratch_database, running_system
from hotline.chaos_checks import census
from hotline.supervisor import Supervisor

# Calls in flight at once at most (the client, not the system, must never be the limit).
IN_FLIGHT = 64
SETTLE_S = 180.0


def rss_kib(pid: int) -> int | None:
    """Resident set size of a process (Linux /proc), None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def growth_pct(start: int, end: int) -> float:
    return round(100.0 * (end - start) / start, 1) if start else 0.0


@dataclass
class SoakReport:
    rate: float
    minutes: float
    warmup_minutes: float
    database: str
    sent: int = 0
    accepted: int = 0
    errors: int = 0
    fully_processed: int = 0
    processed_when_load_ended: int = 0  # with the count after `settle_s`: a lag or a stall
    settle_s: float = 0.0
    achieved_rate: float = 0.0
    # Why the calls not fully processed are not (the census's first missing step), and dead letters.
    unfinished: dict[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    rss_start_kib: dict[str, int] = field(default_factory=dict)
    rss_end_kib: dict[str, int] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)

    def growth(self) -> dict[str, float]:
        return {
            name: growth_pct(start, self.rss_end_kib[name])
            for name, start in self.rss_start_kib.items()
            if name in self.rss_end_kib
        }

    def total_growth(self) -> float:
        names = set(self.rss_start_kib) & set(self.rss_end_kib)
        return growth_pct(sum(self.rss_start_kib[n] for n in names), sum(self.rss_end_kib[n] for n in names))


def report_text(report: SoakReport) -> str:
    """The per-process table and the totals (plain text)."""
    lines = [
        f"soak: {report.minutes:g} min at {report.rate:g} calls/s (achieved {report.achieved_rate:.1f}/s), "
        f"{report.warmup_minutes:g} min warm-up, {report.database}",
        f"calls: sent {report.sent}, accepted {report.accepted}, errors {report.errors}, "
        f"fully processed {report.fully_processed} ({report.processed_when_load_ended} when the load ended, "
        f"{report.settle_s:.0f} s before), dead letters {report.dead_letters}",
        *(
            [f"not fully processed: {', '.join(f'{why} {n}' for why, n in sorted(report.unfinished.items()))}"]
            if report.unfinished
            else []
        ),
        f"{'process':<12}{'RSS start MiB':>15}{'RSS end MiB':>13}{'growth %':>10}{'restarts':>10}",
    ]
    growth = report.growth()
    for name, start in report.rss_start_kib.items():
        end = report.rss_end_kib.get(name)
        shown_end = f"{end / 1024:.1f}" if end is not None else "gone"
        shown_growth = f"{growth[name]:+.1f}" if name in growth else "-"
        restarts = report.restarts.get(name, 0)
        lines.append(f"{name:<12}{start / 1024:>15.1f}{shown_end:>13}{shown_growth:>10}{restarts:>10}")
    total_start = sum(report.rss_start_kib.values()) / 1024
    total_end = sum(report.rss_end_kib.values()) / 1024
    lines.append(f"{'all':<12}{total_start:>15.1f}{total_end:>13.1f}{report.total_growth():>+10.1f}")
    return "\n".join(lines)


def process_pids(system: Supervisor) -> dict[str, int]:
    children = [system.nats_child, *system.children.values()]
    return {c.name: c.process.pid for c in children if c.process is not None and c.process.poll() is None}


def sample_rss(system: Supervisor) -> dict[str, int]:
    return {name: kib for name, pid in process_pids(system).items() if (kib := rss_kib(pid)) is not None}


async def _load(
    base_url: str,
    token: str,
    *,
    rate: float,
    seconds: float,
    at: Mapping[float, Callable[[], None]],
    report: SoakReport,
    sent: set[uuid.UUID],
) -> None:
    """Post calls at `rate` for `seconds`; call each of `at`'s functions once its second has come."""
    pending = sorted(at.items())
    slots = asyncio.Semaphore(IN_FLIGHT)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as client:

        async def post(n: int) -> None:
            try:
                response = await client.post("/api/v1/calls", json=call_body(n))
            except httpx.HTTPError:
                report.errors += 1
            else:
                if response.status_code == 201:
                    report.accepted += 1
                    sent.add(uuid.UUID(response.json()["id"]))
                else:
                    report.errors += 1
            finally:
                slots.release()

        loop = asyncio.get_running_loop()
        started = loop.time()
        tasks: set[asyncio.Task[None]] = set()
        n = 0
        while (now := loop.time() - started) < seconds:
            while pending and pending[0][0] <= now:
                pending.pop(0)[1]()
            due = n / rate
            if due > now:
                await asyncio.sleep(due - now)
            await slots.acquire()
            n += 1
            task = asyncio.create_task(post(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        report.sent = n
        report.achieved_rate = round(n / (loop.time() - started), 1)
        for _, action in pending:
            action()


def soak(
    *,
    rate: float,
    minutes: float,
    warmup_minutes: float,
    postgres_url: str | None = None,
    sample_minutes: int = 10,
    keep: Path | None = None,
    say: Callable[[str], None] = print,
) -> SoakReport:
    with tempfile.TemporaryDirectory(prefix="hotline-soak-") as scratch:
        tmp = str(keep) if keep is not None else scratch
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
        drop: Callable[[], None] | None = None
        if postgres_url:
            database_url, drop = postgres_scratch_database(postgres_url)
        else:
            database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'soak.db'}"
        report = SoakReport(rate, minutes, warmup_minutes, database_url.split(":", 1)[0].split("+", 1)[0])
        sent: set[uuid.UUID] = set()
        try:
            # The store unbounded: the chaos suite's 64 MiB hold ~19,000 cases, far fewer than an hour's.
            with running_system(Path(tmp) / "system", database_url, max_file_store=None) as system:
                token = httpx.post(
                    f"{system.url}/api/v1/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD}
                ).json()["access_token"]

                def start() -> None:
                    report.rss_start_kib = sample_rss(system)
                    say(f"soak: warm-up over, RSS sampled ({sum(report.rss_start_kib.values()) / 1024:.0f} MiB)")

                def end() -> None:
                    report.rss_end_kib = sample_rss(system)
                    report.restarts = {c.name: c.restarts for c in [system.nats_child, *system.children.values()]}

                def progress(minute: float) -> Callable[[], None]:
                    # A line per interval shows whether growth flattens, which two samples cannot.
                    def line() -> None:
                        rss = sample_rss(system)
                        parts = ", ".join(f"{name} {kib / 1024:.1f}" for name, kib in sorted(rss.items()))
                        say(f"soak: {minute:g} min, RSS MiB: {parts}; total {sum(rss.values()) / 1024:.1f}")

                    return line

                marks: dict[float, Callable[[], None]] = (
                    {m * 60: progress(m) for m in range(sample_minutes, int(minutes), sample_minutes)}
                    if sample_minutes > 0
                    else {}
                )
                marks.update({warmup_minutes * 60: start, minutes * 60: end})
                say(f"soak: {rate:g} calls/s for {minutes:g} min")
                asyncio.run(
                    _load(
                        system.url,
                        token,
                        rate=rate,
                        seconds=minutes * 60,
                        at=marks,
                        report=report,
                        sent=sent,
                    )
                )
                report.processed_when_load_ended = census(database_url, sent).fully_processed
                load_ended = time.monotonic()
                deadline = load_ended + SETTLE_S
                while time.monotonic() < deadline:
                    found = census(database_url, sent)
                    report.fully_processed = found.fully_processed
                    report.unfinished, report.dead_letters = found.unfinished, found.dead_letters
                    if report.fully_processed >= len(sent):
                        break
                    time.sleep(1)
                report.settle_s = time.monotonic() - load_ended
        finally:
            if drop is not None:
                drop()
    return report


def main(
    *,
    rate: float,
    minutes: float,
    warmup_minutes: float,
    postgres_url: str | None,
    sample_minutes: int = 10,
    keep: Path | None = None,
) -> int:
    if not 0 <= warmup_minutes < minutes:
        print("warm-up must be shorter than the soak")
        return 2
    report = soak(
        rate=rate,
        minutes=minutes,
        warmup_minutes=warmup_minutes,
        postgres_url=postgres_url,
        sample_minutes=sample_minutes,
        keep=keep,
    )
    print(report_text(report))
    ok = report.errors == 0 and report.fully_processed == report.accepted == report.sent
    return 0 if ok else 1
