"""`hotline bench --mode http`: open-loop paced load on POST /api/v1/calls of a whole running system
(nats-server, migrations and every service, started here on SQLite or PostgreSQL), then, in the same
run and with the same client at the same rate, on a minimal FastAPI endpoint that inserts the same row
into the same database (hotline/bench_bare_api.py). Prints one JSON line.

Open loop: request i is due at start + i/rate whether or not earlier ones have returned, and its
latency counts from when it was due (a slow server cannot slow the client down and hide its queue).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats

from hotline.bench_client import HttpError, LeanClient
from hotline.bench_writers import read_writers, writer_turns
from hotline.natsserver import EmbeddedNats, free_port, wait_for_port
from hotline.proc import die_with_parent
from hotline.services.intake.accounts import token_for
from hotline.shared import eventloop, subjects
from hotline.supervisor import Supervisor

TOWNSHIPS = ("凤城镇", "城厢镇", "蓬莱镇", "湖头镇", "官桥镇", "龙门镇", "西坪镇", "感德镇", "剑斗镇", "长坑乡")
# Four independent fragments: two calls share a text only by chance (10,000 combinations), so few
# are linked as 重复来电 and nearly every call opens a case that the pipeline must track.
_WHAT = (
    "村道旁的排水沟堵塞了",
    "工地拖欠农民工工资",
    "楼下烧烤店油烟噪音扰民",
    "小学课后服务收费不透明",
    "医院专家号挂不上",
    "公交车班次太少等车太久",
    "景区停车场乱收费",
    "新楼盘延期交房没有说法",
    "路灯坏了晚上一片漆黑",
    "自来水发黄有异味",
)
_WHERE = (
    "在老街菜市场旁边",
    "在新村安置小区门口",
    "在中学对面",
    "在高速路口附近",
    "在河边的老厂房那里",
    "在卫生院后面",
    "在加油站隔壁",
    "在农贸市场北侧",
    "在文化广场东边",
    "在镇政府西面",
)
_SINCE = (
    "已经两个多月了",
    "持续半年了",
    "上周开始就这样",
    "反映过好几次",
    "今年一直没人管",
    "从春节后到现在",
    "每天晚上都这样",
    "去年就出现过",
    "最近越来越严重",
    "这个月第三次了",
)
_ASK = (
    "请尽快派人处理。",
    "希望有关部门给个说法。",
    "请相关单位核实整改。",
    "盼望早日解决。",
    "请帮忙协调一下。",
    "希望加强监管。",
    "请给予答复。",
    "麻烦督促落实。",
    "希望能彻底解决。",
    "请安排人员现场查看。",
)


def call_bodies(n: int, *, seed: int = 14) -> list[dict[str, Any]]:
    """`n` realistic, varied call bodies (each its own phone number)."""
    rng = random.Random(seed)
    return [
        {
            "phone": f"139{seed % 100:02d}{i:06d}",
            "content": "".join(rng.choice(part) for part in (_WHAT, _WHERE, _SINCE, _ASK)),
            "outcome": "transfer",
            "township": rng.choice(TOWNSHIPS),
            "caller_name": "王先生",
        }
        for i in range(n)
    ]


@dataclass
class Load:
    """What a client saw of one load phase."""

    offered: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    repeats: int = 0
    client_cpu_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        done = sorted(self.latencies)

        def pct(q: float) -> float | None:
            return round(done[min(len(done) - 1, int(len(done) * q))] * 1000, 1) if done else None

        return {
            "offered": self.offered,
            "ok": len(done),
            "achieved_per_s": round(len(done) / self.seconds, 1) if self.seconds else None,
            "p50_ms": pct(0.5),
            "p99_ms": pct(0.99),
            "max_ms": round(done[-1] * 1000, 1) if done else None,
            "errors": self.errors,
            "repeats": self.repeats,
            "client_cpu_s": round(self.client_cpu_s, 2),
        }


async def paced_load(
    client: LeanClient,
    bodies: list[dict[str, Any]],
    *,
    rate: float,
    path: str = "/api/v1/calls",
    on_created: Callable[[str], None] | None = None,
) -> Load:
    """Send `bodies` open-loop at `rate` per second (all at once when rate is 0: a burst)."""
    load = Load(offered=len(bodies), seconds=0.0)
    cpu0 = time.process_time()
    started = time.perf_counter()

    async def one(body: dict[str, Any], due: float) -> None:
        try:
            status, answer = await client.post(path, body)
        except HttpError as exc:
            load.errors[str(exc)] = load.errors.get(str(exc), 0) + 1
            return
        if status != 201:
            load.errors[str(status)] = load.errors.get(str(status), 0) + 1
            return
        load.latencies.append(time.perf_counter() - due)
        if "repeat_of" in answer:
            load.repeats += 1
        else:
            load.created.append(answer["id"])
            if on_created is not None:
                on_created(answer["id"])

    tasks = []
    for i, body in enumerate(bodies):
        due = started + (i / rate if rate > 0 else 0.0)
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(body, due)))
    await asyncio.gather(*tasks)
    # Achieved rate over the time the requests took to be answered (the offered window, or longer
    # when the server queued them).
    load.seconds = time.perf_counter() - started
    load.client_cpu_s = time.process_time() - cpu0
    return load


def _client(base_url: str, token: str | None = None) -> LeanClient:
    return LeanClient(base_url, headers={"Authorization": f"Bearer {token}"} if token else {})


class TrackedWatch:
    """Counts `case.v1.tracked` events of the cases the load created."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.wanted: set[str] = set()
        self._progress = asyncio.Event()

    async def on_tracked(self, msg: Any) -> None:
        self.seen.add(str(json.loads(msg.data)["case_id"]))
        self._progress.set()

    def missing(self) -> int:
        return len(self.wanted - self.seen)

    async def wait_all(self, *, stall_s: float = 60.0) -> float:
        """Seconds until every wanted case was tracked; gives up after `stall_s` without progress."""
        started = time.perf_counter()
        while self.missing():
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), timeout=stall_s)
            except TimeoutError:
                raise TimeoutError(f"{self.missing()} cases not tracked, no progress for {stall_s:.0f} s") from None
        return time.perf_counter() - started


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU each process has used so far (Linux /proc; empty elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[name] = (int(fields[11]) + int(fields[12])) / tick
    return used


def cpu_per_call(before: dict[str, float], after: dict[str, float], calls: int) -> dict[str, float]:
    """Milliseconds of CPU per call, each process and all of them: what the machine's load does not change."""
    spent = {name: after[name] - before[name] for name in after if name in before}
    per_call = {name: round(s * 1000 / max(calls, 1), 2) for name, s in spent.items()}
    return {**per_call, "all": round(sum(spent.values()) * 1000 / max(calls, 1), 2)}


async def _system_load(
    base_url: str,
    nats_url: str,
    token: str,
    *,
    rate: float,
    seconds: float,
    burst: int,
    stored: int,
    pids: dict[str, int] | None = None,
    metrics_urls: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`metrics_urls`: each process's /metrics, read around each phase for the SQLite writers' turns."""
    watch = TrackedWatch()
    nc = await nats.connect(nats_url)
    await nc.subscribe(subjects.CASE_TRACKED, cb=watch.on_tracked)
    n = int(rate * seconds)
    bodies = call_bodies(stored + n + burst)
    result: dict[str, Any] = {}
    try:
        async with _client(base_url, token) as client:
            if stored:  # cases on file before the measurement: 32 at a time, then tracked
                for start in range(0, stored, 32):
                    chunk = bodies[start : start + 32]
                    await asyncio.gather(*(client.post("/api/v1/calls", body) for body in chunk))
            for phase, chunk, pace in (
                ("paced", bodies[stored : stored + n], rate),
                ("burst", bodies[stored + n :], 0),
            ):
                if not chunk:
                    continue
                cpu_before = cpu_seconds(pids or {})
                writers_before = await asyncio.to_thread(read_writers, metrics_urls) if metrics_urls else {}
                started = time.perf_counter()
                load = await paced_load(client, chunk, rate=pace, on_created=watch.wanted.add)
                result[phase] = load.summary()
                if metrics_urls:
                    writers_after = await asyncio.to_thread(read_writers, metrics_urls)
                    result[phase]["sqlite_writers"] = writer_turns(
                        writers_before, writers_after, time.perf_counter() - started
                    )
                result[phase]["tracked_after_s"] = round(await watch.wait_all(), 2)
                # Until every case is tracked: the pipeline's share of each call is in it.
                result[phase]["cpu_ms_per_call"] = cpu_per_call(cpu_before, cpu_seconds(pids or {}), len(chunk))
    finally:
        await nc.close()
    return result


async def _bare_load(base_url: str, *, rate: float, seconds: float, burst: int, pid: int) -> dict[str, Any]:
    bodies = call_bodies(int(rate * seconds) + burst, seed=41)
    n = int(rate * seconds)
    result: dict[str, Any] = {}
    async with _client(base_url) as client:
        for phase, chunk, pace in (("paced", bodies[:n], rate), ("burst", bodies[n:], 0)):
            if chunk:
                cpu_before = cpu_seconds({"bare": pid})
                result[phase] = (await paced_load(client, chunk, rate=pace)).summary()
                result[phase]["cpu_ms_per_call"] = cpu_per_call(cpu_before, cpu_seconds({"bare": pid}), len(chunk))
    return result


@contextmanager
def bench_database(kind: str, data_dir: Path) -> Iterator[str]:
    """A fresh database of `kind`: a SQLite file in `data_dir`, or a PostgreSQL database on
    127.0.0.1:5432 (user from HOTLINE_BENCH_PG_USER, default postgres), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{data_dir / 'hotline.db'}"
        return
    import asyncpg  # type: ignore[import-untyped]

    user = os.environ.get("HOTLINE_BENCH_PG_USER", "postgres")
    host = os.environ.get("HOTLINE_BENCH_PG_HOST", "127.0.0.1")
    name = f"hotline_bench_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(host=host, port=5432, user=user, database="postgres", timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{user}@{host}:5432/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cpus": os.cpu_count(), "python": platform.python_version()}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_http_bench(*, rate: float, seconds: float, burst: int, db: str, stored: int, replicas: int = 1) -> int:
    result: dict[str, Any] = {
        "mode": "http",
        "database": db,
        "rate": rate,
        "seconds": seconds,
        "burst": burst,
        "stored_before": stored,
        "replicas": replicas,
        # The same interpreter runs intake and the bare endpoint: both get the same loop and parser.
        "server": {"loop": eventloop.loop_name(), "http": eventloop.http_parser_name()},
        "machine": machine(),
        "load_average_before": load_average(),
    }
    with tempfile.TemporaryDirectory(prefix="hotline-bench-http-") as tmp:
        data_dir = Path(tmp)
        server = EmbeddedNats(data_dir / "nats", log_file=data_dir / "nats.log")
        server.start()
        try:
            with bench_database(db, data_dir) as database_url:
                env = dict(os.environ, NATS_URL=server.url, DATABASE_URL=database_url, HOTLINE_LOG_LEVEL="WARNING")
                supervisor = Supervisor(
                    data_dir=data_dir,
                    http_port=free_port(),
                    env=env,
                    restart=False,
                    quiet=True,
                    replicas=replicas,
                    metrics=db == "sqlite",  # each service's /metrics: the writers' turns (below)
                )
                try:
                    supervisor.start()
                    supervisor.wait_healthy()
                    token = token_for(database_url, "admin")
                    system = eventloop.run(
                        _system_load(
                            supervisor.url,
                            server.url,
                            token,
                            rate=rate,
                            seconds=seconds,
                            burst=burst,
                            stored=stored,
                            pids={
                                name: child.process.pid
                                for name, child in supervisor.children.items()
                                if child.process is not None
                            },
                            metrics_urls=_metrics_urls(supervisor) if db == "sqlite" else None,
                        )
                    )
                finally:
                    supervisor.stop()
                result["system"] = system
                result["load_average_between"] = load_average()
                result["bare_fastapi_insert"] = _run_bare(
                    database_url, data_dir, rate=rate, seconds=seconds, burst=burst
                )
        finally:
            server.stop()
    result["ratio"] = _ratio(result["system"]["paced"], result["bare_fastapi_insert"]["paced"])
    if burst:
        result["burst_ratio"] = _ratio(result["system"]["burst"], result["bare_fastapi_insert"]["burst"])
    # On a shared machine the rates follow the neighbours' load; CPU per call does not.
    system_cpu = result["system"]["paced"]["cpu_ms_per_call"]
    bare_cpu = result["bare_fastapi_insert"]["paced"]["cpu_ms_per_call"]["all"]
    if system_cpu.get("intake") and bare_cpu:
        result["cpu_ratio_intake"] = round(bare_cpu / system_cpu["intake"], 3)
        result["cpu_ratio_system"] = round(bare_cpu / system_cpu["all"], 3)
    result["load_average_after"] = load_average()
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _metrics_urls(supervisor: Supervisor) -> dict[str, str]:
    urls = {"intake": f"{supervisor.url}/metrics"}
    urls.update({name: f"http://127.0.0.1:{port}/metrics" for name, port in supervisor.metrics_ports.items()})
    return urls


def _ratio(system: dict[str, Any], bare: dict[str, Any]) -> float | None:
    if not system["achieved_per_s"] or not bare["achieved_per_s"]:
        return None
    return round(float(system["achieved_per_s"]) / float(bare["achieved_per_s"]), 3)


def _run_bare(database_url: str, data_dir: Path, *, rate: float, seconds: float, burst: int) -> dict[str, Any]:
    """The same load on the bare endpoint, on the same database (the table as the system left it)."""
    port = free_port()
    with open(data_dir / "bare.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "hotline.bench_bare_api"],
            env=dict(os.environ, DATABASE_URL=database_url, HOTLINE_PORT=str(port)),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    try:
        if not wait_for_port(port, timeout_s=60):
            raise RuntimeError(f"the bare endpoint did not start (see {data_dir / 'bare.log'})")
        return eventloop.run(
            _bare_load(f"http://127.0.0.1:{port}", rate=rate, seconds=seconds, burst=burst, pid=process.pid)
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
