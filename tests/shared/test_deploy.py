"""The files in deploy/ stay true to the code: valid NATS configs, units that start real modules, and
Prometheus targets on the ports the units give each replica."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from hotline.natsserver import nats_server_binary
from hotline.supervisor import SERVICE_MODULES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.parametrize("config", sorted((DEPLOY / "nats").glob("nats-*.conf")), ids=lambda p: p.name)
def test_each_nats_node_config_is_valid_and_routes_to_all_three(config: Path) -> None:
    checked = subprocess.run([nats_server_binary(), "-t", "-c", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    text = config.read_text(encoding="utf-8")
    assert len(re.findall(r"nats-route://", text)) == 3 and "sync_interval: always" in text


def test_there_is_a_node_config_per_host() -> None:
    names = {re.search(r"server_name: (\S+)", p.read_text()).group(1) for p in (DEPLOY / "nats").glob("*.conf")}  # type: ignore[union-attr]
    assert names == {"mq1", "mq2", "mq3"}


def unit_port(service: str) -> str:
    unit = (DEPLOY / "systemd" / f"hotline-{service}@.service").read_text(encoding="utf-8")
    assert f"ExecStart=/srv/hotline/app/.venv/bin/python -m {SERVICE_MODULES[service]}\n" in unit
    assert "Environment=HOTLINE_INSTANCE=%i" in unit and "EnvironmentFile=/etc/hotline/env" in unit
    found = re.search(r"Environment=HOTLINE_(?:METRICS_)?PORT=(\d+)%i", unit)
    assert found is not None, service
    return found.group(1)


def test_every_service_has_a_template_unit_scraped_on_its_port() -> None:
    scrape = (DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
    prefixes = {service: unit_port(service) for service in SERVICE_MODULES}
    assert len(set(prefixes.values())) == len(prefixes), "two services on the same ports"
    for prefix in prefixes.values():
        for replica in (1, 2):
            assert f":{prefix}{replica}" in scrape


def test_the_alert_rules_name_only_metrics_the_services_export() -> None:
    from prometheus_client import REGISTRY

    # Importing the modules registers their metrics.
    import hotline.shared.metrics
    import hotline.shared.sqlite_turns  # noqa: F401

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    exported = {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("hotline_")
        for suffix in suffixes.get(family.type, ("",))
    }
    rules = (DEPLOY / "prometheus" / "hotline-alerts.yml").read_text(encoding="utf-8")
    named = set(re.findall(r"\bhotline_[a-z_]+", rules))
    assert named and named <= exported, named - exported
