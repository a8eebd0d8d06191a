"""A NATS JetStream cluster of several nats-server processes on one machine (loopback), for the
cluster test and for trying a cluster layout locally. The production layout (one node per host) is in
deploy/nats/; both use the same kind of configuration, written by `node_config`."""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hotline.natsserver import NatsServerError, free_port, nats_server_binary, wait_for_port
from hotline.proc import die_with_parent

CLUSTER_NAME = "hotline"


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    client_port: int
    cluster_port: int
    store_dir: Path


def node_config(node: Node, routes: list[str], *, host: str = "127.0.0.1", sync_always: bool = False) -> str:
    """One node's nats-server configuration: clients, JetStream store, and routes to every node of the
    cluster (its own route is ignored by the server, so every node can share the same list)."""
    sync = "\n  sync_interval: always" if sync_always else ""
    route_lines = "\n".join(f"    {route}" for route in routes)
    return (
        f"server_name: {node.name}\n"
        f'listen: "{host}:{node.client_port}"\n'
        f'jetstream {{\n  store_dir: "{node.store_dir.resolve()}"{sync}\n}}\n'
        f"cluster {{\n"
        f"  name: {CLUSTER_NAME}\n"
        f'  listen: "{host}:{node.cluster_port}"\n'
        f"  routes: [\n{route_lines}\n  ]\n"
        f"}}\n"
    )


class NatsCluster:
    """`size` nats-server nodes on 127.0.0.1 with routes between them and a JetStream store each."""

    def __init__(self, base_dir: Path, *, size: int = 3, sync_always: bool = True) -> None:
        self.base_dir = base_dir
        self.sync_always = sync_always
        self.nodes = [
            Node(f"n{i + 1}", free_port(), free_port(), base_dir / f"n{i + 1}" / "jetstream") for i in range(size)
        ]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def urls(self) -> list[str]:
        return [f"nats://127.0.0.1:{node.client_port}" for node in self.nodes]

    @property
    def url(self) -> str:
        """Every node, comma-separated: the form NATS_URL takes for a cluster."""
        return ",".join(self.urls)

    def log_file(self, node: Node) -> Path:
        return self.base_dir / node.name / "nats-server.log"

    def start(self, timeout_s: float = 60.0) -> None:
        routes = [f"nats-route://127.0.0.1:{node.cluster_port}" for node in self.nodes]
        for node in self.nodes:
            node.store_dir.mkdir(parents=True, exist_ok=True)
            config = self.base_dir / node.name / "nats-server.conf"
            config.write_text(node_config(node, routes, sync_always=self.sync_always), encoding="utf-8")
            self._spawn(node, config)
        for node in self.nodes:
            if not wait_for_port(node.client_port, timeout_s=timeout_s):
                self.stop()
                raise NatsServerError(f"nats-server {node.name} did not start (see {self.log_file(node)})")
        asyncio.run(wait_for_jetstream(self.urls, timeout_s=timeout_s))

    def _spawn(self, node: Node, config: Path) -> None:
        log = open(self.log_file(node), "ab")  # noqa: SIM115 - handed to the child
        self.processes[node.name] = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
        )
        log.close()

    def kill(self, index: int) -> None:
        """SIGKILL one node (no lame-duck mode, no flush): what a host losing power looks like."""
        process = self.processes.pop(self.nodes[index].name, None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=15)

    def stop(self, timeout_s: float = 10.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout_s
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


async def wait_for_jetstream(urls: list[str], *, timeout_s: float) -> None:
    """Wait until the cluster has elected its JetStream meta leader (streams can be created then)."""
    import nats

    deadline = time.monotonic() + timeout_s
    nc = await nats.connect(urls, max_reconnect_attempts=-1)
    try:
        while True:
            try:
                await nc.jetstream().account_info()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise NatsServerError("JetStream cluster elected no meta leader") from None
                await asyncio.sleep(0.2)
    finally:
        await nc.close()
