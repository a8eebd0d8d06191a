from __future__ import annotations

import stat
from pathlib import Path

from hotline.natsauth import (
    CREDENTIALS_FILE,
    authorization_block,
    load_or_create_credentials,
    url_with_credentials,
    write_cluster_files,
)
from hotline.shared.nats_permissions import NATS_USERS


def test_credentials_are_generated_once_private_and_kept(tmp_path: Path) -> None:
    first = load_or_create_credentials(tmp_path)
    assert set(first) == set(NATS_USERS) and len(set(first.values())) == len(NATS_USERS)
    assert stat.S_IMODE((tmp_path / CREDENTIALS_FILE).stat().st_mode) == 0o600
    assert load_or_create_credentials(tmp_path) == first


def test_the_config_block_names_every_user_with_its_grants() -> None:
    block = authorization_block({"router": "pw1", "admin": "pw2"})
    assert block.startswith("authorization {") and '"case.v1.routed"' in block and '"pw2"' in block
    assert block.count("{user:") == 2


def test_urls_carry_credentials_for_every_server() -> None:
    url = url_with_credentials("nats://a:4222, nats://old:x@b:4223", "router", "p/w")
    assert url == "nats://router:p%2Fw@a:4222,nats://router:p%2Fw@b:4223"


def test_cluster_files_hold_the_block_and_one_url_per_user(tmp_path: Path) -> None:
    written = write_cluster_files(tmp_path / "out", "nats://10.0.0.11:4222,nats://10.0.0.12:4222")
    users = load_or_create_credentials(tmp_path / "out")
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    router = (tmp_path / "out" / "nats-router.env").read_text(encoding="utf-8")
    assert (
        router
        == f"NATS_URL=nats://router:{users['router']}@10.0.0.11:4222,nats://router:{users['router']}@10.0.0.12:4222\n"
    )
    assert (tmp_path / "out" / "nats-users.conf").read_text(encoding="utf-8") == authorization_block(users)
