"""The packaged county.toml loads, and broken configurations are rejected with clear messages."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hotline.shared.domain.county import DEFAULT_COUNTY_PATH, County, county_from_dict, load_county

FIRST_LEVEL_TOPICS = (
    *("城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生", "政法"),
    *("农村农业", "国土资源", "民政", "纪检监察", "党务政务", "经济管理", "科技与信息产业"),
)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_COUNTY_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def county() -> County:
    return load_county()


def test_sample_county_has_departments_and_townships(county: County) -> None:
    assert county.name == "清溪县"
    assert len(county.units) >= 20
    townships = county.townships()
    assert len(townships) >= 10
    for town in townships:
        assert town.place and town.name.startswith(town.place)
        assert 3 <= len(town.villages) <= 6
        assert all(v.endswith(("村", "社区")) for v in town.villages)
    assert county.units[county.default_unit].name == "县热线办"
    assert county.units[county.accusation_unit].name == "县纪委监委"


def test_every_first_level_topic_has_a_default_row(county: County) -> None:
    missing = [t for t in FIRST_LEVEL_TOPICS if (t, None) not in county.routes]
    assert missing == []


def test_county_is_read_only(county: County) -> None:
    with pytest.raises(TypeError):
        county.units["x"] = county.units["zjj"]  # type: ignore[index]


def test_unknown_unit_code_in_table_is_rejected(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["routes"][0]["lead"] = "zjjj"
    with pytest.raises(ValueError, match=r"routes\[0\] \(城乡建设\): unknown unit code 'zjjj'"):
        county_from_dict(data)


def test_unknown_assist_and_supervisor_codes_are_all_reported(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["routes"][1]["assist"] = ["nope"]
    data["units"]["zjj"]["supervisor"] = "ghost"
    data["default_unit"] = "missing"
    with pytest.raises(ValueError) as info:
        county_from_dict(data)
    message = str(info.value)
    assert "'nope'" in message and "'ghost'" in message and "default_unit: unknown unit code 'missing'" in message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["routes"].append({"topic": "环境保护", "lead": "sthjj"}), "configured twice"),
        (lambda d: d["routes"].append({"topic": "民政", "lead": "town-hutou"}), "is a township"),
        (lambda d: d["routes"][0].update(township="maybe"), "township must be one of"),
        (lambda d: d["units"]["zjj"].update(kind="bureau"), "kind must be"),
        (lambda d: d["units"]["zfb"].update(supervisor="rxb"), "loops back"),
        (lambda d: d["units"]["town-hutou"].update(place="城厢镇"), "already used"),
        (lambda d: d["units"]["zjj"].update(villages=["某村"]), "only townships"),
        (lambda d: d["units"].update({"Bad Code": {"name": "x", "kind": "department"}}), "lowercase ASCII"),
    ],
)
def test_malformed_configuration_is_rejected(raw: dict[str, Any], mutate: Any, expected: str) -> None:
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(ValueError, match=expected):
        county_from_dict(data)


def test_loader_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "county.toml"
    path.write_text(
        'name = "测试县"\ndefault_unit = "rxb"\naccusation_unit = "jwjw"\n'
        '[units.rxb]\nname = "县热线办"\nkind = "department"\n'
        '[units.jwjw]\nname = "县纪委监委"\nkind = "department"\n'
        '[[routes]]\ntopic = "环境保护"\nlead = "sthjj"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"(?s)county\.toml: .*unknown unit code 'sthjj'"):
        load_county(path)


def test_broken_toml_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "清溪县\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.toml"):
        load_county(path)


def test_the_packaged_table_has_a_version_that_routing_decisions_name() -> None:
    import uuid
    from datetime import UTC, datetime

    from hotline.services.router.routing import route_case
    from hotline.shared.catalogue import PACKAGED_VERSION, packaged
    from hotline.shared.clock import FixedClock
    from hotline.shared.events import CaseClassified, Channel, Severity

    catalogue = packaged()
    assert catalogue.version == PACKAGED_VERSION == 0
    at = datetime(2026, 11, 24, tzinfo=UTC)
    event = CaseClassified(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=at,
        channel=Channel.HOTLINE,
        received_at=at,
        topic="城乡建设",
        severity=Severity.GENERAL,
        confidence=0.9,
        model_version="m",
    )
    routed = route_case(event, county=catalogue.county, clock=FixedClock(at), version=catalogue.version)
    assert routed.routing_version == 0
