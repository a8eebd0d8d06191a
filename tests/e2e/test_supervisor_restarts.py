"""`hotline up` supervision: a nats-server or a service killed with SIGKILL comes back by itself,
and the services reconnect to the restarted server."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from hotline.natsserver import free_port
from hotline.supervisor import Supervisor, wait_for_services
from tests.e2e.conftest import wait_until


def test_killed_nats_server_and_service_are_restarted_and_reconnected(tmp_path: Path, database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NATS_URL"}
    env.update(DATABASE_URL=database_url, HOTLINE_ADMIN_PASSWORD="x-admin-password")
    supervisor = Supervisor(
        data_dir=tmp_path / "system", env=env, services=("router",), restart=True, nats_port=free_port()
    )
    supervisor.start()
    try:
        url = supervisor.env["NATS_URL"]
        asyncio.run(wait_for_services(url, ("router",)))
        old_port = supervisor.nats.port if supervisor.nats else None

        def watch(condition: object) -> bool:
            supervisor.check_children()
            return bool(condition)

        supervisor.kill_nats()
        wait_until(lambda: watch(supervisor.nats_child.restarts == 1), timeout_s=30, what="nats-server restarted")
        assert supervisor.nats is not None and supervisor.nats.port == old_port
        # The router reconnects on its own and answers again over the restarted server.
        asyncio.run(wait_for_services(url, ("router",), timeout_s=60))

        supervisor.kill("router")
        wait_until(lambda: watch(supervisor.children["router"].restarts == 1), timeout_s=30, what="router restarted")
        asyncio.run(wait_for_services(url, ("router",), timeout_s=60))
        status = json.loads((supervisor.data_dir / "supervisor.json").read_text(encoding="utf-8"))
        assert status["nats-server"]["restarts"] == 1 and status["nats-server"]["last_exit"] == -9
        assert status["router"]["restarts"] == 1 and status["router"]["last_exit"] == -9
    finally:
        supervisor.stop()
