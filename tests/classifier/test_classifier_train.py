"""train() on a small county file (CSV and JSON lines) writes a loadable artefact."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from hotline.services.classifier import artefact
from hotline.services.classifier.dataset import read_examples
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.train import main, train

SAMPLES = {
    "城乡建设": [
        "小区物业乱收停车费，业主多次反映无果",
        "小区停水三天，物业不管，自来水公司也不来修",
        "路灯坏了一个月没人修，晚上出行不便",
        "开发商延期交房一年，购房合同形同虚设",
        "小区楼道堆满杂物，物业管理混乱",
        "老旧小区改造施工粗糙，道路坑洼不平",
    ],
    "环境保护": [
        "工厂夜间偷排废气，气味刺鼻，居民不敢开窗",
        "河道被企业排污，水体发黑发臭，鱼虾死亡",
        "工地噪音扰民，半夜还在施工",
        "养猪场粪便直排，污染周边农田",
        "烧烤摊油烟扰民，环保部门不作为",
        "采石场粉尘污染严重，村民呼吸困难",
    ],
    "教育文体": [
        "学校强制补课收取补课费，家长负担重",
        "孩子入学难，学位不足，划片不合理",
        "幼儿园乱收费，伙食差",
        "中学老师体罚学生，校长不管",
        "学校食堂价格高，学生吃不饱",
        "培训机构卷款跑路，学费无法退还",
    ],
}


def _rows() -> list[dict[str, str]]:
    return [{"text": t, "label": label} for label, texts in SAMPLES.items() for t in texts]


def test_train_csv_to_temp_dir(tmp_path: Path) -> None:
    data = tmp_path / "county.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text", "label"])
        writer.writeheader()
        for i, row in enumerate(_rows()):
            writer.writerow({"id": i, **row})
    out = tmp_path / "model"
    meta = train(data, out_dir=out)
    assert meta["classes"] == sorted(SAMPLES)
    assert meta["training_data"]["sha256"] == artefact.sha256_file(data)
    assert meta["training_data"]["sha256"][:8] in meta["version"]
    assert (out / artefact.NPZ_NAME).exists() and (out / artefact.META_NAME).exists()
    model = TopicModel.load(out)
    assert model.version == meta["version"]
    (pred,) = model.predict(["我们小区物业乱收停车费"])
    assert pred.topic == "城乡建设"
    # deterministic: same data gives the same weights
    again = train(data, out_dir=tmp_path / "again")
    assert again["version"] == meta["version"]
    a = artefact.load(out)
    b = artefact.load(tmp_path / "again")
    assert (a.weights == b.weights).all()


def test_train_jsonl_with_eval_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "county.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in _rows()) + "\n", encoding="utf-8")
    evalf = tmp_path / "eval.jsonl"
    evalf.write_text(
        json.dumps({"text": "工厂排放废气污染空气", "label": "环境保护"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"text": "学校乱收补课费", "label": "教育文体"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    assert main(["--data", str(data), "--eval", str(evalf), "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "macro-F1" in out and "confusion matrix" in out and "precision" in out
    meta = json.loads((tmp_path / "m" / artefact.META_NAME).read_text(encoding="utf-8"))
    assert meta["metrics"]["eval"]["model"]["n"] == 2


def test_segmented_rows_are_accepted(tmp_path: Path) -> None:
    data = tmp_path / "seg.csv"
    data.write_text(
        "text,text_seg,label\n,小区 物业 乱 收费,城乡建设\n学校乱收费,,教育文体\n,,城乡建设\n", encoding="utf-8"
    )
    examples = read_examples(data)
    assert [(e.text, e.text_seg, e.label) for e in examples] == [
        ("", "小区 物业 乱 收费", "城乡建设"),
        ("学校乱收费", "", "教育文体"),
    ]
    assert main(["--data", str(tmp_path / "missing.csv")]) == 2
