"""The learned matter model: training, the artefact, and its evidence on the classified event."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hotline.services.classifier import matter_model
from hotline.services.classifier.artefact import ARTIFACTS_DIR
from hotline.services.classifier.classify import matter_evidence
from hotline.services.classifier.text import tokens_from_raw
from hotline.services.classifier.train_matters import catalogue_documents, prune, train
from hotline.shared.domain.county import load_county
from hotline.shared.domain.matters import MatterHit, load_matters

FIXTURE = load_matters(Path(__file__).parents[1] / "data" / "matters_fixture.toml", county=load_county())
TEXTS = {
    "noise-social": ["楼上天天半夜蹦迪吵得睡不着", "邻居家打麻将到凌晨吵死了", "隔壁装修完了还天天敲敲打打到半夜"],
    "water-fees": ["这个月水费怎么多收了两百块", "自来水公司乱收水费", "水表走得比以前快多了，水费翻倍"],
    "consumer": ["超市卖过期酸奶不给退", "健身房办了卡就跑路了", "网上买的手机是翻新机商家不认"],
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data") / "train.jsonl"
    rows = [{"matter": m, "channel": "hotline", "text": t} for m, texts in TEXTS.items() for t in texts]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path_factory.mktemp("artefact")
    train(data, catalogue=FIXTURE, out_dir=out, folds=3)
    return out


def test_the_catalogue_adds_names_and_terms_as_documents() -> None:
    docs = catalogue_documents(FIXTURE)
    assert ("noise-social", FIXTURE.by_code["noise-social"].name) in docs
    assert len({code for code, _ in docs}) == len(FIXTURE)


def test_pruning_keeps_the_strongest_weights_of_each_matter() -> None:
    coef = np.array([[0.1, -3.0, 2.0, 0.0], [5.0, 0.2, 0.1, -0.3]], dtype=np.float32)
    w = prune(coef, 2).toarray()
    assert w.shape == (4, 2)
    assert w[:, 0].tolist() == [0.0, -3.0, 2.0, 0.0]
    assert w[:, 1].tolist() == pytest.approx([5.0, 0.0, 0.0, -0.3])


def test_a_trained_model_round_trips_without_pickle_and_reads_new_words(tiny: Path) -> None:
    model = matter_model.load(tiny)
    with np.load(tiny / matter_model.NPZ_NAME, allow_pickle=False) as z:
        assert "w_data" in z
    assert set(model.codes) == {m.code for m in FIXTURE.matters}
    probs = model.probabilities([tokens_from_raw("楼上半夜吵得我睡不着觉"), tokens_from_raw("水费多收了")])
    assert probs.shape == (2, len(FIXTURE))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert model.codes[int(probs[0].argmax())] == "noise-social"
    assert model.codes[int(probs[1].argmax())] == "water-fees"


def test_training_is_reproducible(tiny: Path, tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    rows = [{"matter": m, "channel": "hotline", "text": t} for m, texts in TEXTS.items() for t in texts]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    train(data, catalogue=FIXTURE, out_dir=tmp_path, folds=3)
    assert (tmp_path / matter_model.NPZ_NAME).read_bytes() == (tiny / matter_model.NPZ_NAME).read_bytes()


def test_the_evidence_carries_term_hits_with_their_probability_and_the_model_s_own_guesses(tiny: Path) -> None:
    model = matter_model.load(tiny)
    row = np.zeros(len(model.codes), dtype=np.float32)
    row[model.column["water-fees"]] = 0.7
    row[model.column["consumer"]] = 0.25
    row[model.column["noise-social"]] = 0.01  # below the floor: noise, not evidence
    hits = [MatterHit("consumer", 2.0, ("过期",))]
    evidence = matter_evidence(hits, model, row)
    assert [(e.code, e.score, e.probability) for e in evidence] == [
        ("consumer", 2.0, 0.25),
        ("water-fees", 0.0, 0.7),
    ]
    assert [e.probability for e in matter_evidence(hits, None, None)] == [None]


def test_the_packaged_model_is_small_and_knows_the_packaged_catalogue() -> None:
    assert (ARTIFACTS_DIR / matter_model.NPZ_NAME).stat().st_size <= 3 * 1024 * 1024
    model = matter_model.load()
    assert set(model.codes) == {m.code for m in load_matters().matters}


def test_the_model_knows_its_matters_classes_and_sums_probability_per_class(tiny: Path) -> None:
    model = matter_model.load(tiny)
    row = np.zeros(len(model.codes), dtype=np.float32)
    row[model.column["noise-social"]] = 0.6
    row[model.column["water-fees"]] = 0.3
    assert model.class_mass(row, FIXTURE.by_code["noise-social"].klass) == pytest.approx(0.6)
    assert model.class_mass(row, "教育文体") == 0.0
    unrecorded = matter_model.MatterModel(model.features, model.codes, model.weights, model.bias, {})
    assert unrecorded.class_mass(row, "政法") is None  # trained before classes were stored: no opinion
