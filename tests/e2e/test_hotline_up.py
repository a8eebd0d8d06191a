"""`hotline up` as a user runs it: ready, then stopped by SIGTERM or killed, with no orphans left."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from hotline.natsserver import free_port
from tests.e2e.conftest import wait_until


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def check_operations(port: int, output: str, logs: Path) -> None:
    """What the engineer on call uses: the printed metrics ports, /health with reasons, JSON logs."""
    printed = dict(re.findall(r"http://127\.0\.0\.1:(\d+)/metrics \((\w+)，", output))
    assert sorted(printed.values()) == ["classifier", "escalation", "feed", "router"], output
    for metrics_port, service in printed.items():
        health = httpx.get(f"http://127.0.0.1:{metrics_port}/health", timeout=5)
        assert (health.status_code, health.json()["service"]) == (200, service)
        assert "hotline_consumer_pending" in httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    assert "hotline_outbox_backlog" in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for service in ("classifier", "router", "escalation", "feed"):
        first = (logs / f"{service}.jsonl").read_text(encoding="utf-8").splitlines()[0]
        assert json.loads(first)["service"] == service


@pytest.mark.e2e
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL])
def test_hotline_up_starts_everything_and_leaves_no_orphans(tmp_path: Path, stop_signal: int) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    up = subprocess.Popen(
        [sys.executable, "-m", "hotline", "up", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert up.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(up.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        wait_until(lambda: any("按 Ctrl-C 停止" in line for line in lines), timeout_s=90, what="hotline up to be ready")
        health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
        assert health.status_code == 200
        credentials = json.loads((tmp_path / "data" / "nats-users.json").read_text(encoding="utf-8"))
        passwords = list(credentials.values())  # one NATS user per service
        assert passwords and not any(password in health.text for password in passwords)  # health is public
        assert "@" not in health.json()["checks"]["nats"]["server"]
        check_operations(port, "".join(lines), tmp_path / "data" / "logs")
        children = descendants(up.pid)
        assert len(children) == 6  # nats-server and five services
        up.send_signal(stop_signal)
        up.wait(timeout=30)
        wait_until(lambda: not any(alive(pid) for pid in children), timeout_s=20, what="children to exit")
    finally:
        if up.poll() is None:
            up.kill()
        up.wait(timeout=10)
        reader.join(timeout=5)
    output = "".join(lines)
    if stop_signal == signal.SIGTERM:
        assert up.returncode == 0, output
        assert "系统已就绪" in output and "已停止" in output
