"""`hotline classify` prints the unit, 协办 units, matter and reason the running router would choose."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime

import pytest

from hotline.services.classifier.classify import ClassifierParts, classify_cases
from hotline.services.classifier.cli import classify_stream
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import load_severity_rules
from hotline.services.router.routing import route_case
from hotline.shared.catalogue import packaged
from hotline.shared.clock import FixedClock
from hotline.shared.events import CaseReceived, Channel

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
LINES = [
    {"id": "noise", "text": "小区楼下每天晚上跳广场舞，音响开得震天响，孩子没法写作业。"},
    {"id": "parking", "text": "我家小区门口天天有车违停，早上开车出不去。"},
    {"id": "elevator", "text": "小区电梯三天两头困人，物业也不修。"},
    {"id": "land", "text": "湖头镇征地补偿款到现在还没发到位，村民意见很大。", "township": "湖头镇"},
    {"id": "bribe", "text": "我们村支书把上面发的危房补助款揣到自己兜里了，在湖头镇竹山村。"},
]


@pytest.fixture(scope="module")
def model() -> TopicModel:
    return TopicModel.load()


def run(model: TopicModel, lines: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    sink = io.StringIO()
    source = io.StringIO("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    assert classify_stream(source, sink, model) == len(lines)
    return {row["id"]: row for row in map(json.loads, sink.getvalue().splitlines())}


def test_each_line_names_unit_co_units_matter_and_reason(model: TopicModel) -> None:
    out = run(model, LINES)
    assert {k: v["unit"]["code"] for k, v in out.items()} == {  # type: ignore[index]
        "noise": "gaj",
        "parking": "jjdd",
        "elevator": "scjgj",
        "land": "zrzyj",
        "bribe": "jwjw",
    }
    noise = out["noise"]
    assert noise["matter"]["code"] and noise["reason"].startswith("事项：")  # type: ignore[index,union-attr]
    assert "广场舞" in noise["reason"]  # type: ignore[operator]
    assert "town-hutou" in out["land"]["co_units"]  # type: ignore[operator]


def test_the_cli_decides_exactly_as_the_router(model: TopicModel) -> None:
    out = run(model, LINES)
    for line in LINES:
        case = CaseReceived(
            event_id=uuid.uuid4(),
            case_id=uuid.uuid4(),
            occurred_at=NOW,
            channel=Channel.HOTLINE,
            received_at=NOW,
            content=str(line["text"]),
            township=line.get("township"),  # type: ignore[arg-type]
        )
        catalogue = packaged()
        [classified] = classify_cases(
            [case], ClassifierParts(model, load_severity_rules(), catalogue), clock=FixedClock(NOW)
        )
        routed = route_case(classified, catalogue=catalogue, clock=FixedClock(NOW))
        printed = out[str(line["id"])]
        assert printed["unit"] == {"code": routed.unit_code, "name": routed.unit_name}
        assert printed["co_units"] == routed.co_units and printed["reason"] == routed.reason


def test_with_a_database_it_routes_with_the_version_in_force(model: TopicModel, database_url: str) -> None:
    import asyncio

    from hotline.services.classifier.cli import catalogue_in
    from hotline.shared.db import RoutingTableRow, create_engine, session_factory, transaction

    matters = '[[matters]]\ncode = "lights"\nname = "路灯"\nclass = "城乡建设"\nlead = "slj"\nterms = ["路灯"]\n'

    async def save() -> None:
        engine = create_engine(database_url)
        try:
            async with transaction(session_factory(engine)) as session:
                content = packaged().content
                session.add(RoutingTableRow(content=content, matters=matters, created_by="t", created_at=NOW))
        finally:
            await engine.dispose()

    asyncio.run(save())
    catalogue = catalogue_in(database_url)
    assert catalogue.version == 1 and len(catalogue.matters) == 1
    sink = io.StringIO()
    classify_stream(io.StringIO('{"id": 1, "text": "村口路灯坏了"}\n'), sink, model, catalogue)
    row = json.loads(sink.getvalue())
    assert (row["unit"]["code"], row["matter"]["code"], row["routing_version"]) == ("slj", "lights", 1)
