"""The packaged topic model: loads, predicts sensible topics, handles batches fast."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hotline.services.classifier import artefact
from hotline.services.classifier.bench import bench
from hotline.services.classifier.model import MANUAL, TopicModel, TopicPrediction

TRAINED_CASES = [
    ("城乡建设", "A3区某小区物业乱收停车费 小区物业未经业主同意，利用公共面积向业主收取停车费，业主多次反映无果。"),
    ("环境保护", "化工厂夜间偷排废气 我们小区旁边的化工厂每天夜里排放刺鼻废气，晚上不敢开窗，请环保部门查处。"),
    ("交通运输", "出租车拒载绕路 昨晚在火车站打出租车，司机拒载，上车后又故意绕路多收费。"),
    ("教育文体", "学校强制补课收费 孩子所在的中学寒假强制学生到校补课，每人收取补课费八百元。"),
    ("劳动和社会保障", "公司拖欠工资不缴社保 我在某公司上班一年，公司一直没有给我们缴纳社保，还拖欠三个月工资。"),
    ("卫生计生", "医院乱收费 我母亲在县人民医院住院，医院重复收费，检查项目很多都没做却收了钱。"),
    ("商贸旅游", "景区强制购物 跟旅行社去景区旅游，导游强制我们进购物店消费，不买就不让走。"),
]


@pytest.fixture(scope="module")
def model() -> TopicModel:
    return TopicModel.load()


def test_load_is_versioned() -> None:
    m = TopicModel.load()
    assert m.version.startswith("topic-")
    assert len(m.classes) == 7
    meta = json.loads((artefact.ARTIFACTS_DIR / artefact.META_NAME).read_text(encoding="utf-8"))
    assert meta["version"] == m.version
    assert len(meta["training_data"]["sha256"]) == 64
    assert meta["training_data"]["sha256"][:8] in m.version
    assert "cv" in m.metrics


def test_artefact_is_compact() -> None:
    total = sum(p.stat().st_size for p in artefact.ARTIFACTS_DIR.iterdir() if p.is_file())
    assert total <= 10 * 1024 * 1024


@pytest.mark.parametrize(("topic", "text"), TRAINED_CASES)
def test_trained_topics(model: TopicModel, topic: str, text: str) -> None:
    (pred,) = model.predict([text])
    assert isinstance(pred, TopicPrediction)
    assert pred.topic == topic
    assert 0.0 <= pred.confidence <= 1.0


def test_untrained_topics_reach_their_unit(model: TopicModel) -> None:
    texts = {
        ("政法", "户籍证件"): "我家孩子落户办不了，派出所说要先开证明，跑了三趟都办不了，请问到底需要什么材料？",
        (
            "国土资源",
            "土地征收",
        ): "征地补偿款不到位 我们村的土地被征收修建工业园，征地补偿款至今没有发到农户手里，失地农民没有着落。",
        (
            "民政",
            "社会救助",
        ): "低保被取消 我今年七十多岁，一个人生活，没有收入，原来有低保，今年突然被取消了，请民政局帮忙核实。",
        (
            "纪检监察",
            "贪污贿赂",
        ): "举报村支书贪污 村支书利用职务之便贪污集体资金，还收受红包，虚报冒领补助款，请纪委调查处理。",
        (
            "农村农业",
            "惠农补贴",
        ): "种粮补贴没有发放 去年的种粮补贴和耕地地力保护补贴到现在一卡通里都没有到账，问村里说不清楚。",
    }
    preds = model.predict(list(texts.values()))
    assert [(p.topic, p.subtopic) for p in preds] == list(texts)


def test_subtopic_and_review_flag(model: TopicModel) -> None:
    property_case, relocation = model.predict(
        [
            "小区物业不作为，楼道垃圾堆积，绿化带被毁，物业公司和业主委员会都不管。",
            "小区拆迁安置房迟迟不交付，过渡费也停发了。",
        ]
    )
    assert (property_case.topic, property_case.subtopic) == ("城乡建设", "物业服务")
    assert (relocation.topic, relocation.subtopic) == ("城乡建设", "拆迁安置")
    empty, punct = model.predict(["", "？？！！"])
    assert empty == TopicPrediction(MANUAL, None, 0.0, True)
    assert punct.needs_review and punct.topic == MANUAL
    strict = TopicModel.load(threshold=1.01)
    assert all(p.needs_review for p in strict.predict([t for _, t in TRAINED_CASES]))


def test_batch_of_1000_matches_one_by_one(model: TopicModel) -> None:
    # Speed is measured by `hotline classify --bench`, not asserted here (a busy machine is no benchmark).
    texts = [t + f" 编号{i}" for i in range(1000 // len(TRAINED_CASES) + 1) for _, t in TRAINED_CASES][:1000]
    preds = model.predict(texts)
    assert len(preds) == 1000
    assert [p.topic for p in preds[:20]] == [model.predict([t])[0].topic for t in texts[:20]]
    assert model.predict([]) == []


def test_bench_reports_each_throughput_and_the_median_ratios(model: TopicModel) -> None:
    result = bench([t for _, t in TRAINED_CASES] * 3, model, repeat=3, batch_size=4)
    assert result.jieba_chars_per_s > 0 and result.predict_chars_per_s > 0 and result.readings_chars_per_s > 0
    # Reading more costs more: the ratio with the learned readings is the smaller one, the whole less still.
    assert 0 < result.whole_ratio < result.all_ratio < result.ratio


def test_bench_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hotline.services.classifier.bench import main

    f = tmp_path / "texts.jsonl"
    f.write_text("\n".join(json.dumps({"text": t}, ensure_ascii=False) for _, t in TRAINED_CASES), encoding="utf-8")
    assert main([str(f), "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "ratio" in out and "ratio with them" in out


def test_a_rule_overrides_the_trained_class_only_when_the_learned_matter_model_backs_it(model: TopicModel) -> None:
    assert model.matters is not None and model.matters.by_class is not None
    text = "低保被取消 我今年七十多岁，一个人生活，没有收入，原来有低保，今年突然被取消了，请民政局帮忙核实。"
    tokens = model.tokenize([text])
    row = np.zeros((1, len(model.matters.codes)), dtype=np.float32)
    civil_affairs = model.matters.by_class["民政"]
    row[0, civil_affairs[0]] = 1.0  # the learned model backs 民政 …
    assert model.predict([text], tokens, row)[0].topic == "民政"
    row[0, civil_affairs[0]] = 0.0
    trained = model.predict_trained([text])[0]
    row[0, model.matters.by_class[trained][0]] = 1.0  # … or sides with the trained model's class
    assert model.predict([text], tokens, row)[0].topic == trained
