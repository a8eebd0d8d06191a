"""Runtime settings, read from the environment (pydantic-settings).

Every process of the system builds one `Settings` at start-up and passes it down; nothing reads the
environment anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias="NATS_URL")
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    data_dir: Path = Field(default=Path(".hotline"), validation_alias="HOTLINE_DATA_DIR")

    # One real second counts as `time_scale` seconds of case time, counted from `clock_epoch`
    # (a Unix timestamp shared by every process so they agree on "now").
    time_scale: float = Field(default=1.0, gt=0, validation_alias="HOTLINE_TIME_SCALE")
    clock_epoch: float | None = Field(default=None, validation_alias="HOTLINE_CLOCK_EPOCH")

    http_host: str = Field(default="127.0.0.1", validation_alias="HOTLINE_HOST")
    http_port: int = Field(default=8000, validation_alias="HOTLINE_PORT")

    # JetStream consumption: how many messages one pull may bring, and how long a pull waits for a
    # partly filled batch once a first message came (the idle latency each stage adds). A pull takes
    # what is waiting, so batches are full only behind a backlog, where every message waits for those
    # ahead of it anyway: fuller batches pay a batch's fixed costs (a transaction, a commit, a publish
    # round) less often and drain it sooner. The price is the front of such a queue: its first case
    # waits for up to a batch of work in each stage (~0.1 s on a 2-core machine at 500).
    batch_size: int = Field(default=500, ge=1, le=1000, validation_alias="HOTLINE_BATCH_SIZE")
    batch_timeout_s: float = Field(default=0.01, gt=0, validation_alias="HOTLINE_BATCH_TIMEOUT")
    # The feed (the read model, off the path a case takes to its unit) waits this long after a first
    # message for more before projecting: a batch costs a dozen statements whatever its size, so at
    # 100 calls/s batches of 2-4 events cost 4.2 ms of CPU a call; waiting lets them grow. On SQLite
    # each batch also holds the one write lock for those statements (~50 ms on a slow busy 2-core
    # machine, whatever the batch's size), so fewer, fuller batches keep intake's calls from queueing
    # behind it: 0.05 s there held the lock 34-39 % of the time at 100 calls/s, 0.15 s 21-26 %. The
    # read model lags by as much more (0 = no wait).
    feed_linger_s: float = Field(default=0.15, ge=0, le=1, validation_alias="HOTLINE_FEED_LINGER")
    # The same for escalation's routed cases: each batch is a write transaction of eight statements,
    # and on SQLite intake's calls queue behind every one (at 100 calls/s on a slow 2-core machine
    # 30-43 a second, holding the one write lock a quarter of the time). A case's clocks start
    # this much later (0 = no wait).
    escalation_linger_s: float = Field(default=0.02, ge=0, le=1, validation_alias="HOTLINE_ESCALATION_LINGER")
    # Retries: a transient failure (database or NATS unavailable) is retried forever, `nak_delay_s`
    # doubling per delivery up to `backoff_cap_s`; any other failure is dead-lettered after
    # `max_deliver` attempts (a permanent one at once).
    max_deliver: int = Field(default=8, ge=2, validation_alias="HOTLINE_MAX_DELIVER")
    nak_delay_s: float = Field(default=1.0, ge=0, validation_alias="HOTLINE_NAK_DELAY")
    # 10 s: a message waits at most that long after the store is back (the pull loop's pause stops
    # a down store from being hammered meanwhile).
    backoff_cap_s: float = Field(default=10.0, gt=0, validation_alias="HOTLINE_BACKOFF_MAX")

    # How often the escalation service scans for deadlines reaching a ladder step (real seconds).
    # Half a second keeps every step within a second of its due time (a scan of 100,000 open clocks
    # costs ~60 ms: `hotline bench-escalation`).
    escalation_scan_s: float = Field(default=0.5, gt=0, validation_alias="HOTLINE_ESCALATION_SCAN")
    # A county's own model (`hotline train --data FILE --out DIR`); default: the model shipped in the
    # package. The classifier notices a new version in the directory and switches without downtime.
    model_dir: Path | None = Field(default=None, validation_alias="HOTLINE_MODEL_DIR")
    model_check_s: float = Field(default=30.0, gt=0, validation_alias="HOTLINE_MODEL_CHECK")
    # A call or petition about an open case within this many days is linked to it as 重复来电/重复信访.
    repeat_window_days: float = Field(default=30, ge=0, validation_alias="HOTLINE_REPEAT_WINDOW_DAYS")
    # Classifier confidence below which a case goes to the 人工分拣 queue.
    review_threshold: float = Field(default=0.35, ge=0, le=1, validation_alias="HOTLINE_REVIEW_THRESHOLD")

    # Copies JetStream keeps of every stream: 1 on one machine, 3 on a 3-node cluster (a stream then
    # survives the loss of any one node). Applied when the streams are declared, also to existing ones.
    stream_replicas: int = Field(default=1, ge=1, le=5, validation_alias="HOTLINE_STREAM_REPLICAS")
    # Prometheus metrics and a health page on this port for the services without HTTP (0 = off);
    # intake serves /metrics on its own port.
    metrics_port: int = Field(default=0, ge=0, le=65535, validation_alias="HOTLINE_METRICS_PORT")
    metrics_host: str = Field(default="127.0.0.1", validation_alias="HOTLINE_METRICS_HOST")
    # Which replica of a service this process is (systemd's %i): names its log file and its health reply.
    instance: str = Field(default="", validation_alias="HOTLINE_INSTANCE")
    log_level: str = Field(default="INFO", validation_alias="HOTLINE_LOG_LEVEL")
    # Where the JSON log files go (rotated); default: <data dir>/logs.
    log_dir: Path | None = Field(default=None, validation_alias="HOTLINE_LOG_DIR")

    @property
    def nats_servers(self) -> list[str]:
        """NATS_URL may list several servers of a cluster, comma-separated; clients try each."""
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]

    def resolved_log_dir(self) -> Path:
        return self.log_dir if self.log_dir is not None else self.data_dir / "logs"

    # The reconciler re-drives a case stuck half-way (received but never classified, tracked without
    # unit or task) once it has not moved for `reconcile_grace_s` real seconds; it looks every
    # `reconcile_every_s`.
    reconcile_grace_s: float = Field(default=120.0, gt=0, validation_alias="HOTLINE_RECONCILE_GRACE")
    reconcile_every_s: float = Field(default=30.0, gt=0, validation_alias="HOTLINE_RECONCILE_EVERY")

    def supervisor_status_path(self) -> Path:
        """Where `hotline up` records each child's restarts (read by the health endpoint)."""
        return self.data_dir / "supervisor.json"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hotline.db').resolve()}"
