"""`hotline up`: runs nats-server, applies migrations and runs every service as its own process.

The supervisor restarts any child that dies, the embedded nats-server included (same port, same
store, so durable consumers and unacknowledged messages are where they were), with a back-off that
doubles up to 30 s, saying so on the console and recording restarts in `<data dir>/supervisor.json`
(which `GET /api/v1/health` reports). On Ctrl-C or SIGTERM it stops them all, services first, then
nats-server. Children ask the kernel to die with it (PDEATHSIG), so even a `kill -9` of the
supervisor leaves no orphans.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from hotline.natsauth import CREDENTIALS_FILE, load_or_create_credentials
from hotline.natsserver import EmbeddedNats, free_port, port_is_free
from hotline.proc import die_with_parent
from hotline.provision import declare_streams_at
from hotline.services.intake.accounts import ensure_admin
from hotline.shared.migrate import upgrade
from hotline.shared.nats_permissions import ADMIN_USER
from hotline.shared.recount import described, rebuild_database
from hotline.shared.settings import Settings
from hotline.shared.subjects import health_subject

SERVICE_MODULES = {
    "intake": "hotline.services.intake",
    "classifier": "hotline.services.classifier",
    "router": "hotline.services.router",
    "escalation": "hotline.services.escalation",
    "feed": "hotline.services.feed",
}
DEFAULT_NATS_PORT = 4222
NATS_CHILD = "nats-server"
RESTART_CAP_S = 30.0
STABLE_AFTER_S = 60.0


@dataclass
class Child:
    name: str
    module: str
    service: str = ""  # the service it runs (its NATS user); the name too, but for replicas 2, 3, ...
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)
    env: dict[str, str] = field(default_factory=dict)  # this child's own settings (its metrics port)
    last_exit: int | None = None
    last_restart_at: str | None = None


def restart_delay_s(restarts: int, uptime_s: float) -> float:
    """Back-off before restarting a child: 0.5 s after a run that lasted (a crash now and then), else
    doubling with each quick death (a crash loop) up to 30 s."""
    if uptime_s >= STABLE_AFTER_S:
        return 0.5
    return float(min(RESTART_CAP_S, 0.5 * 2 ** min(restarts, 16)))


def exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"被信号 {signal.Signals(-code).name} 终止"
        except ValueError:
            return f"被信号 {-code} 终止"
    return f"退出码 {code}"


class Supervisor:
    def __init__(
        self,
        *,
        data_dir: Path,
        http_port: int = 8000,
        env: dict[str, str] | None = None,
        services: tuple[str, ...] = tuple(SERVICE_MODULES),
        restart: bool = True,
        sync_always: bool = False,
        quiet: bool = False,
        metrics: bool = False,
        nats_port: int | None = None,
        nats_auth: bool = True,
        nats_max_file_store: int | None = None,
        replicas: int = 1,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.http_port = http_port
        self.env = dict(os.environ if env is None else env)
        self.children = {name: Child(name, SERVICE_MODULES[name], name) for name in services}
        # Replicas 2, 3, ... of each pipeline service share its durable consumers (intake has one
        # HTTP port: more of it need a load balancer in front, see deploy/).
        for name in services:
            for instance in range(2, replicas + 1) if name != "intake" else ():
                replica = Child(f"{name}-{instance}", SERVICE_MODULES[name], name)
                replica.env["HOTLINE_INSTANCE"] = str(instance)
                self.children[replica.name] = replica
        self.restart = restart
        self.sync_always = sync_always
        self.quiet = quiet
        self.nats: EmbeddedNats | None = None
        self.nats_port = nats_port
        # The embedded server refuses anonymous clients and holds each service to its subjects; an
        # externally given NATS_URL is used as it is (its operator sets the users).
        self.nats_auth = nats_auth
        self.nats_max_file_store = nats_max_file_store
        self.nats_child = Child(NATS_CHILD, "")
        self.logs = self.data_dir / "logs"
        self._stopping = False
        self.admin_password: str | None = None
        self.metrics = metrics
        # The port of each service's /metrics and /health (intake serves /metrics on its API port).
        self.metrics_ports: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, flush=True)

    # -- start-up -------------------------------------------------------------------------------

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        if not self.env.get("NATS_URL"):
            port = self.nats_port or (DEFAULT_NATS_PORT if port_is_free(DEFAULT_NATS_PORT) else free_port())
            users = load_or_create_credentials(self.data_dir) if self.nats_auth else None
            self.nats = EmbeddedNats(
                self.data_dir / "nats",
                port=port,
                sync_always=self.sync_always,
                log_file=self.logs / "nats-server.log",
                users=users,
                max_file_store=self.nats_max_file_store,
            )
            self.nats.start()
            # The supervisor's own connections (and tests, via `env`) use the admin; each service its own user.
            self.env["NATS_URL"] = self.nats.url_for(ADMIN_USER)
            for child in self.children.values():
                child.env["NATS_URL"] = self.nats.url_for(child.service)
            self.nats_child.process = self.nats.process
            self.nats_child.started_at = time.monotonic()
            where = f"，用户与密码见 {self.data_dir / CREDENTIALS_FILE}" if users else ""
            self.say(f"nats-server (JetStream) 已启动：{self.nats.url}，数据目录 {self.data_dir / 'nats'}{where}")
        else:
            self.say(f"使用已有 NATS：{_redact(self.env['NATS_URL'])}")
        self.env.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{self.data_dir / 'hotline.db'}")
        self.env["HOTLINE_DATA_DIR"] = str(self.data_dir)
        self.env["HOTLINE_PORT"] = str(self.http_port)
        self.env.setdefault("HOTLINE_CLOCK_EPOCH", str(self._clock_epoch()))
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        # aiosqlite and asyncpg's helpers run in threads; glibc gives each thread its own heap arena,
        # which multiplies the memory a busy service keeps. Two arenas hold the same work.
        self.env.setdefault("MALLOC_ARENA_MAX", "2")
        upgrade(self.env["DATABASE_URL"])
        self.say(f"数据库已迁移到最新版本：{_redact(self.env['DATABASE_URL'])}")
        # A database from before a rollup has cases (or tasks) but no counts: its figures would read zero.
        if recounted := asyncio.run(rebuild_database(self.env["DATABASE_URL"], only_if_missing=True)):
            self.say(described(recounted, "补算"))
        self.admin_password = ensure_admin(self.env["DATABASE_URL"], password=self.env.get("HOTLINE_ADMIN_PASSWORD"))
        if self.admin_password:
            self.say(f"已创建管理员账号 admin，初始密码：{self.admin_password}（只显示这一次，请妥善保存）")
        # The streams, as the NATS admin (the services' users may not create or change them).
        wanted = {k: self.env[k] for k in ("NATS_URL", "HOTLINE_STREAM_REPLICAS") if k in self.env}
        settings = Settings(**wanted)  # type: ignore[arg-type]
        declare_streams_at(settings.nats_servers, replicas=settings.stream_replicas)
        for child in self.children.values():
            if self.metrics and child.name != "intake":
                self.metrics_ports[child.name] = free_port()
                child.env["HOTLINE_METRICS_PORT"] = str(self.metrics_ports[child.name])
            self.spawn(child)
        self.write_status()

    def _clock_epoch(self) -> float:
        """The virtual clock's origin, kept in the data dir so a restart does not turn time back."""
        scale = self.env.get("HOTLINE_TIME_SCALE", "1")
        marker = self.data_dir / "clock.json"
        if marker.exists():
            saved = json.loads(marker.read_text(encoding="utf-8"))
            if saved.get("scale") == scale:
                return float(saved["epoch"])
        epoch = time.time()
        marker.write_text(json.dumps({"scale": scale, "epoch": epoch}), encoding="utf-8")
        return epoch

    def spawn(self, child: Child) -> None:
        log = open(self.logs / f"{child.name}.log", "ab")  # noqa: SIM115 - handed to the child
        child.process = subprocess.Popen(
            [sys.executable, "-m", child.module],
            env={**self.env, **child.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        log.close()
        child.started_at = time.monotonic()

    def wait_healthy(self, timeout_s: float = 60.0) -> dict[str, object]:
        deadline = time.monotonic() + timeout_s
        last: dict[str, object] = {"message": "intake 未响应"}
        while time.monotonic() < deadline:
            self.check_children()
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=3) as response:
                    return dict(json.load(response))
            except urllib.error.HTTPError as exc:
                last = dict(json.load(exc))
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"系统未在 {timeout_s:.0f} 秒内就绪：{last.get('message')}（日志见 {self.logs}）")

    # -- running --------------------------------------------------------------------------------

    def check_children(self) -> None:
        """Restart children that died, nats-server first (the services need it)."""
        now = time.monotonic()
        if self.nats is not None:
            self._check(self.nats_child, now)
        for child in self.children.values():
            self._check(child, now)

    def _check(self, child: Child, now: float) -> None:
        if child.process is None or child.process.poll() is None or self._stopping:
            return
        if not self.restart:
            raise RuntimeError(f"服务 {child.name} 已退出（退出码 {child.process.returncode}），日志见 {self.logs}")
        if child.next_start == 0.0:
            child.last_exit = child.process.returncode
            delay = restart_delay_s(child.restarts, now - child.started_at)
            child.next_start = now + delay
            self.say(f"服务 {child.name} 意外退出（{exit_text(child.last_exit)}），{delay:.1f} 秒后自动重启")
            self.write_status()
        elif now >= child.next_start:
            child.restarts += 1
            child.next_start = 0.0
            child.last_restart_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            try:
                self.respawn(child)
            except Exception as exc:  # e.g. nats-server could not bind its port yet: try again later
                child.started_at = now
                child.next_start = now + restart_delay_s(child.restarts, 0.0)
                self.say(f"服务 {child.name} 重启失败（{exc}），稍后重试")
            else:
                self.say(f"服务 {child.name} 已重启（第 {child.restarts} 次）")
            self.write_status()

    def respawn(self, child: Child) -> None:
        if child is self.nats_child:
            assert self.nats is not None
            self.nats.restart()  # same port and store dir: clients reconnect, durables are kept
            child.process = self.nats.process
            child.started_at = time.monotonic()
        else:
            self.spawn(child)

    def status(self) -> dict[str, dict[str, object]]:
        children = [self.nats_child] if self.nats is not None else []
        return {
            child.name: {
                "restarts": child.restarts,
                "last_exit": child.last_exit,
                "last_restart_at": child.last_restart_at,
                "pid": child.process.pid if child.process is not None else None,
            }
            for child in [*children, *self.children.values()]
        }

    def write_status(self) -> None:
        """Restart counts for the health endpoint (intake reads the file; written atomically)."""
        target = Settings(HOTLINE_DATA_DIR=self.data_dir).supervisor_status_path()
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.status(), ensure_ascii=False), encoding="utf-8")
        temporary.replace(target)

    def run_forever(self) -> None:
        """Watch the children until Ctrl-C (the caller maps SIGTERM to it too), then stop them all."""
        try:
            while True:
                self.check_children()
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # -- control (tests, bench) -----------------------------------------------------------------

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.children[name].process
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            process.wait(timeout=15)

    def kill_nats(self, sig: int = signal.SIGKILL) -> None:
        process = self.nats_child.process
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            process.wait(timeout=15)

    def start_service(self, name: str) -> None:
        self.spawn(self.children[name])

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping = True
        self.say("正在停止全部服务……")
        running = [c for c in self.children.values() if c.process is not None and c.process.poll() is None]
        for child in running:
            assert child.process is not None
            child.process.terminate()
        deadline = time.monotonic() + timeout_s
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"服务 {child.name} 未在 {timeout_s:.0f} 秒内退出，强制结束")
                child.process.kill()
                child.process.wait()
        if self.nats is not None:
            self.nats.stop()
        self.say("已停止。")


async def wait_for_services(nats_url: str, services: tuple[str, ...], *, timeout_s: float = 60) -> None:
    """Wait until each service answers its health request (used where no intake API runs)."""
    import nats

    nc = await nats.connect(nats_url)
    try:
        deadline = time.monotonic() + timeout_s
        for service in services:
            while True:
                try:
                    await nc.request(health_subject(service), b"", timeout=1)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{service} did not become healthy") from None
                    await asyncio.sleep(0.2)
    finally:
        await nc.close()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
