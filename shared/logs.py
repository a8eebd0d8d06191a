"""Logging of every process: readable lines on stderr (the console, journald, `hotline up`'s
logs/<service>.log), and one JSON object a line in a rotating file under the log directory
(logs/<service>[-<instance>].jsonl) for the log shipper, with the case id wherever it is known.

A case id is known when the log call passes `extra={"case_id": ...}` or runs inside `case_context`.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import logging.handlers
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from hotline.shared.settings import Settings

MAX_BYTES = 20 * 1024 * 1024
BACKUPS = 5

_case_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("hotline_case_id", default=None)


@contextlib.contextmanager
def case_context(case_id: object) -> Iterator[None]:
    """Every log line inside carries this case id."""
    token = _case_id.set(str(case_id))
    try:
        yield
    finally:
        _case_id.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, instance: str = "") -> None:
        super().__init__()
        self.service = service
        self.instance = instance

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.instance:
            line["instance"] = self.instance
        case_id = getattr(record, "case_id", None) or _case_id.get()
        if case_id:
            line["case_id"] = str(case_id)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def log_file(settings: Settings, service: str) -> Path:
    name = f"{service}-{settings.instance}" if settings.instance else service
    return settings.resolved_log_dir() / f"{name}.jsonl"


def configure_logging(service: str, settings: Settings | None = None) -> Path | None:
    """Readable stderr plus the rotating JSON file; returns the file (None if it cannot be opened)."""
    settings = settings or Settings()
    root = logging.getLogger()
    root.setLevel(settings.log_level.upper())
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    path = log_file(settings, service)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Rotating by size keeps a county server's disk from filling; one file per replica, since
        # two processes rotating the same file would lose lines.
        rotating = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError as exc:
        root.warning("JSON log file %s cannot be opened (%s); logging to stderr only", path, exc)
        return None
    rotating.setFormatter(JsonFormatter(service, settings.instance))
    root.addHandler(rotating)
    # APScheduler logs every scan at INFO; the scans report what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return path
