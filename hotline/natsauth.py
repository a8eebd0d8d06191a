"""NATS credentials for `hotline up`: a password per service user (and an admin for the CLI and
tests), generated on first start and kept in the data dir (0600), and the `authorization` block of
nats-server's config granting each user only its own subjects (`shared/nats_permissions.py`)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from hotline.shared.nats_permissions import NATS_USERS, permissions

CREDENTIALS_FILE = "nats-users.json"


def load_or_create_credentials(data_dir: Path) -> dict[str, str]:
    """user → password; users missing from the file (a new service) get a password, others keep theirs."""
    path = data_dir / CREDENTIALS_FILE
    saved: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    users = {user: saved.get(user) or secrets.token_urlsafe(24) for user in NATS_USERS}
    if users != saved:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(users, out, indent=2)
    os.chmod(path, 0o600)  # also when an older file was looser
    return users


def authorization_block(users: Mapping[str, str]) -> str:
    """nats-server config text: one entry per user with its publish/subscribe allow-lists."""
    entries = []
    for user, password in users.items():
        grants = permissions(user)
        entries.append(
            f"    {{user: {json.dumps(user)}, password: {json.dumps(password)}, permissions: {{"
            f"publish: {{allow: {json.dumps(list(grants.publish))}}}, "
            f"subscribe: {{allow: {json.dumps(list(grants.subscribe))}}}}}}}"
        )
    return "authorization {\n  users = [\n" + "\n".join(entries) + "\n  ]\n}\n"


def url_with_credentials(url: str, user: str, password: str) -> str:
    """`nats://user:password@host:port` for each server of a (comma-separated) NATS_URL."""
    parts = []
    for one in url.split(","):
        split = urlsplit(one.strip())
        host = split.netloc.rsplit("@", 1)[-1]
        netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
        parts.append(urlunsplit((split.scheme, netloc, split.path, split.query, split.fragment)))
    return ",".join(parts)


def write_cluster_files(out_dir: Path, nats_url: str) -> list[Path]:
    """For a cluster run by its operator (`hotline nats-users`): the users' passwords (kept across
    runs), `nats-users.conf` to `include` in every node's config, and `nats-<user>.env` with that
    user's NATS_URL for the hosts' systemd units. All 0600: they hold the passwords."""
    users = load_or_create_credentials(out_dir)
    files = {"nats-users.conf": authorization_block(users)}
    for user, password in users.items():
        files[f"nats-{user}.env"] = f"NATS_URL={url_with_credentials(nats_url, user, password)}\n"
    written = []
    for name, text in files.items():
        path = out_dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(path, 0o600)
        written.append(path)
    return written
