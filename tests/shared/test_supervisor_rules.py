"""The supervisor's restart back-off and how health reports restarts (pure parts)."""

from __future__ import annotations

import json
from pathlib import Path

from hotline.services.intake.health import add_restarts, supervisor_status
from hotline.supervisor import Supervisor, exit_text, restart_delay_s


def test_quick_deaths_back_off_doubling_to_a_cap_and_a_long_run_restarts_quickly() -> None:
    assert [restart_delay_s(n, uptime_s=1) for n in (0, 1, 2, 3, 6, 7, 50)] == [0.5, 1, 2, 4, 30, 30, 30]
    assert restart_delay_s(9, uptime_s=3600) == 0.5


def test_exit_text_names_the_signal() -> None:
    assert exit_text(-9) == "被信号 SIGKILL 终止"
    assert exit_text(1) == "退出码 1"


def test_health_reports_restarts_per_supervised_process(tmp_path: Path) -> None:
    path = tmp_path / "supervisor.json"
    path.write_text(
        json.dumps(
            {
                "nats-server": {"restarts": 1, "last_exit": -9, "last_restart_at": "2026-11-28T22:00:00+0000"},
                "router": {"restarts": 0, "last_exit": None},
            }
        )
    )
    checks = {"nats": {"ok": True}, "router": {"ok": True}, "database": {"ok": True}}
    add_restarts(checks, supervisor_status(path))
    assert checks["nats"] == {"ok": True, "restarts": 1, "last_exit": -9, "last_restart_at": "2026-11-28T22:00:00+0000"}
    assert checks["router"] == {"ok": True, "restarts": 0}
    assert checks["database"] == {"ok": True}


def test_no_or_broken_status_file_reports_nothing(tmp_path: Path) -> None:
    assert supervisor_status(None) == {} and supervisor_status(tmp_path / "missing.json") == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert supervisor_status(tmp_path / "bad.json") == {}


def test_replicas_run_each_pipeline_service_again_as_its_own_user_and_instance(tmp_path: Path) -> None:
    supervisor = Supervisor(data_dir=tmp_path, env={}, services=("intake", "classifier", "feed"), replicas=2)
    children = supervisor.children
    assert sorted(children) == ["classifier", "classifier-2", "feed", "feed-2", "intake"]  # one front door
    assert children["classifier-2"].module == children["classifier"].module
    assert children["classifier-2"].service == "classifier"  # same NATS user, same durable consumer
    assert children["classifier-2"].env["HOTLINE_INSTANCE"] == "2"
    assert "HOTLINE_INSTANCE" not in children["classifier"].env
