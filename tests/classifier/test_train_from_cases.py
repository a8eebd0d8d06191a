"""`hotline train --from-cases`: the county's routing decisions make a new matter model, switched to only
if neither the routing dev half nor the topic macro-F1 gets worse."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.cli import main as cli_main
from hotline.services.classifier import artefact, matter_model
from hotline.services.classifier.app import artefact_version, loaded_version
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.train_cases import (
    NO_EXAMPLES,
    Example,
    Figures,
    label_examples,
    latest_per_case,
    run,
    switch_decision,
    unit_matters,
)
from hotline.services.classifier.train_matters import train
from hotline.services.classifier.unit_model import likeliest_units
from hotline.services.classifier.unit_train import Example as UnitExample
from hotline.shared.catalogue import packaged
from hotline.shared.db import RoutingExampleRow, RoutingTableRow, create_engine, session_factory
from hotline.shared.domain.county import load_county
from hotline.shared.domain.matters import load_matters
from hotline.shared.migrate import upgrade

FIXTURE_PATH = Path(__file__).parents[1] / "data" / "matters_fixture.toml"
COUNTY = load_county()
FIXTURE = load_matters(FIXTURE_PATH, county=COUNTY)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = Figures(right=0.90, wrong=0.06, person=0.04, topic_f1=0.9200)


def test_a_candidate_no_worse_on_every_figure_is_switched_to() -> None:
    assert switch_decision(NOW, NOW) == (True, [])
    better = Figures(right=0.92, wrong=0.05, person=0.03, topic_f1=0.9201)
    assert switch_decision(NOW, better) == (True, [])


@pytest.mark.parametrize(
    ("candidate", "why"),
    [
        (Figures(0.89, 0.06, 0.05, 0.93), "正确率下降"),
        (Figures(0.91, 0.07, 0.02, 0.93), "派错率上升"),
        (Figures(0.95, 0.01, 0.04, 0.9199), "macro-F1 下降"),
    ],
)
def test_a_candidate_worse_on_any_figure_is_not(candidate: Figures, why: str) -> None:
    switch, against = switch_decision(NOW, candidate)
    assert not switch
    assert len(against) == 1 and why in against[0]


def test_the_last_decision_on_a_case_counts() -> None:
    first = Example("c1", "路灯坏了", "zjj", T0)
    later = Example("c1", "路灯坏了", "cgj", T0 + timedelta(hours=2))
    other = Example("c2", "水费多收", "gsgs", T0 + timedelta(hours=1))
    assert sorted(latest_per_case([later, other, first]), key=lambda e: e.case_id) == [later, other]


def test_a_unit_leads_its_own_matters_and_a_township_the_local_ones() -> None:
    assert unit_matters("zjj", FIXTURE, COUNTY) == ["construction-noise", "property-service"]
    township = COUNTY.townships()[0].code
    assert unit_matters(township, FIXTURE, COUNTY) == ["illegal-building", "land-acquisition"]
    assert unit_matters("nobody", FIXTURE, COUNTY) == []


def test_examples_get_the_likeliest_matter_of_their_unit() -> None:
    examples = [
        Example("c1", "晚上十点还在打桩", "zjj", T0),
        Example("c2", "物业不管事", "zjj", T0),
        Example("c3", "随便说说", None, T0),
        Example("c4", "不知道归谁", "nobody", T0),
    ]

    def likelihood(text: str) -> dict[str, float]:
        return {"construction-noise": 0.6, "property-service": 0.1} if "打桩" in text else {"property-service": 0.3}

    rows, skipped = label_examples(examples, FIXTURE, COUNTY, likelihood)
    assert rows == [("construction-noise", "晚上十点还在打桩"), ("property-service", "物业不管事")]
    assert sum(skipped.values()) == 2 and any("nobody" in why for why in skipped)


# ------------------------------------------------------------------------------------- with a database

BASE = {
    "noise-social": ["楼上天天半夜蹦迪吵得睡不着", "邻居家打麻将到凌晨吵死了", "隔壁养的狗整夜叫"],
    "construction-noise": ["工地晚上还在打桩", "半夜搅拌车轰隆隆", "楼盘工地夜里施工吵"],
    "property-service": ["物业不修电梯", "物业费涨了服务没变", "小区垃圾没人清"],
    "consumer": ["超市卖过期酸奶不给退", "健身房办了卡就跑路了", "网上买的手机是翻新机商家不认"],
    "water-fees": ["这个月水费怎么多收了两百块", "自来水公司乱收水费", "水表走得快水费翻倍"],
}
SUITE = [
    {"id": "s1", "text": "电饭锅用了三天就坏了，店家不给换", "class": "商贸旅游", "accept": ["scjgj"]},
    {"id": "s2", "text": "隔壁工地夜里打桩吵得睡不着", "class": "城乡建设", "accept": ["zjj"]},
    {"id": "s3", "text": "我家水费比邻居多一倍，水表有问题", "class": "城乡建设", "accept": ["gsgs"]},
]
TOPICS = [
    ("小区物业乱收停车费", "城乡建设"),
    ("工地夜间施工噪音扰民", "城乡建设"),
    ("学校乱收补课费", "教育文体"),
    ("老师体罚学生", "教育文体"),
    ("公交车司机开车打电话", "交通运输"),
    ("路口红绿灯坏了", "交通运输"),
]
EXAMPLES = [
    ("买的电饭锅坏了店家不肯换", "scjgj"),
    ("新买的电视机坏了商场推来推去", "scjgj"),
    ("村口有人乱搭棚子", None),  # a topic only: not a training text
]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


async def fill(url: str, examples: list[tuple[str, str | None]]) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            session.add(
                RoutingTableRow(
                    content=packaged().content,
                    matters=FIXTURE_PATH.read_text(encoding="utf-8"),
                    created_by="admin",
                    created_at=T0,
                )
            )
            for i, (text, unit) in enumerate(examples):
                session.add(
                    RoutingExampleRow(
                        id=uuid.uuid4(),
                        case_id=uuid.uuid4(),
                        text=text,
                        township=None,
                        topic="商贸旅游",
                        subtopic=None,
                        unit_code=unit,
                        previous_unit="zjj",
                        source="改派",
                        decided_by="admin",
                        decided_at=T0 + timedelta(minutes=i),
                    )
                )
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("from-cases")
    base = write_jsonl(root / "base.jsonl", [{"matter": m, "text": t} for m, ts in BASE.items() for t in ts])
    in_force = root / "in-force"
    in_force.mkdir()
    for name in (artefact.NPZ_NAME, artefact.META_NAME):
        shutil.copy2(artefact.ARTIFACTS_DIR / name, in_force / name)
    train(base, catalogue=FIXTURE, out_dir=in_force, folds=3)
    topics = root / "topics.csv"
    topics.write_text("text,label\n" + "\n".join(f"{t},{label}" for t, label in TOPICS) + "\n", encoding="utf-8")
    suite = write_jsonl(root / "dev.jsonl", [dict(case) for case in SUITE])
    return {"root": root, "base": base, "in_force": in_force, "suite": suite, "topics": topics}


def database(path: Path, examples: list[tuple[str, str | None]]) -> str:
    url = f"sqlite+aiosqlite:///{path / 'hotline.db'}"
    upgrade(url)
    asyncio.run(fill(url, examples))
    return url


def test_a_county_model_is_built_from_its_examples_and_switched_to(setting: dict[str, Path], tmp_path: Path) -> None:
    url = database(tmp_path, EXAMPLES)
    out = tmp_path / "county-model"
    before = artefact_version(setting["in_force"])
    in_force, base, suite, topics = setting["in_force"], setting["base"], setting["suite"], setting["topics"]

    # The reading of who leads learns from a small base here (the whole one takes most of a minute).
    units = [UnitExample(t, FIXTURE.by_code[m].lead, "") for m, ts in BASE.items() for t in ts]
    switched, report = run(
        url,
        model_dir=in_force,
        out_dir=out,
        base=base,
        suite=suite,
        topics=topics,
        folds=3,
        dry_run=True,
        unit_base=units,
    )
    assert not switched and not out.exists()
    assert any("用于训练 2 条" in line for line in report) and any("只选了主题" in line for line in report)
    assert any(line.startswith("主办单位模型：在用 units-") for line in report)

    switched, report = run(
        url, model_dir=in_force, out_dir=out, base=base, suite=suite, topics=topics, folds=3, unit_base=units
    )
    assert switched, report
    assert any(line.startswith("已切换到") for line in report)
    # What the running classifier watches changed, and loading the new directory gives that version.
    after = artefact_version(out)
    assert after is not None and after != before and after.startswith(str(before).split("+")[0] + "+")
    assert loaded_version(TopicModel.load(out)) == after
    new = matter_model.load(out)
    assert new.meta["documents"]["labelled"] == sum(len(ts) for ts in BASE.values()) + 2
    # The county's reading of who leads switched with it, with the county's two decisions learnt.
    county_units = TopicModel.load(out).units
    assert county_units is not None and "scjgj" in county_units.units
    assert likeliest_units(EXAMPLES[0][0], county_units)[0][0] == "scjgj"


def test_no_examples_is_one_chinese_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}")
    assert cli_main(["train", "--from-cases", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == NO_EXAMPLES
