"""The learned reading of who leads: prediction without scikit-learn, the artefact, and the decision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hotline.services.classifier.unit_model import (
    MODEL_PATH,
    likeliest_units,
    likeliest_units_of,
    load_unit_model,
    probabilities,
    save_unit_model,
)
from hotline.services.classifier.unit_train import Example, as_label, as_unit_model, choose_threshold, fit_sklearn
from hotline.shared.domain.matters import TOWN

TEXTS = {
    "gaj": ["邻居半夜打麻将吵得睡不着", "电动车昨晚在楼下被偷了", "身份证丢了怎么补办"],
    "scjgj": ["健身房办了卡就跑路了", "超市卖过期的牛奶", "电梯三天两头困人"],
    TOWN: ["村里的水泥路断了好几年", "村委会不公开账目", "两家为了宅基地边界吵架"],
}


def _examples() -> list[Example]:
    return [Example(text, unit, "w") for unit, texts in TEXTS.items() for text in texts]


def test_prediction_without_scikit_learn_agrees_with_the_trained_model() -> None:
    vectorizer, model = fit_sklearn(_examples())
    ours = as_unit_model(vectorizer, model, threshold=0.5)
    for text in ["楼下有人打牌吵闹", "买的奶粉过期了", "村道坑坑洼洼", "Mixed  文本 with spaces"]:
        expected = model.predict_proba(vectorizer.transform([text]))[0]
        got = probabilities(text, ours)
        assert list(ours.units) == list(model.classes_)
        # The weights ship in half precision: the probabilities agree to a thousandth.
        assert np.allclose(got, expected, atol=1e-3), (text, got, expected)


def test_the_artefact_round_trips(tmp_path: Path) -> None:
    model = as_unit_model(*fit_sklearn(_examples()), threshold=0.42)
    path = tmp_path / "units.npz"
    save_unit_model(path, model, {"data": {"writers": ["w"]}})
    loaded = load_unit_model(path)
    assert loaded is not None and loaded.threshold == 0.42 and loaded.units == model.units
    text = TEXTS["scjgj"][0]  # a training text: the tiny model must know it
    assert likeliest_units(text, loaded) == likeliest_units(text, model)
    assert likeliest_units(text, loaded)[0][0] == "scjgj"


def test_the_shipped_artefact_is_small_and_knows_the_county_units() -> None:
    model = load_unit_model()
    if model is None:
        pytest.fail(f"{MODEL_PATH} is missing: run `hotline train-units`")
    assert MODEL_PATH.stat().st_size < 6_000_000
    assert 0.2 <= model.threshold < 1.0
    assert {"gaj", "scjgj", "jwjw", TOWN} <= set(model.units)


def test_township_codes_are_read_as_the_township() -> None:
    assert as_label("town-hutou") == TOWN and as_label("gaj") == "gaj"


def test_the_threshold_is_where_following_the_model_gains_most() -> None:
    from hotline.services.classifier.unit_train import Scored

    def scored(case_id: str, right: bool, p: float) -> Scored:
        example = Example("x", "gaj", "w", case_id, ("gaj",))
        return Scored(example, "gaj" if right else "scjgj", p)

    cases = [scored("a", True, 0.9), scored("b", False, 0.6), scored("c", True, 0.5), scored("d", True, 0.3)]
    router = {"a": ("wrong", "zjj"), "b": ("right", "gaj"), "c": ("person", "rxb"), "d": ("right", "gaj")}
    # From 0.9 the model wins a (wrong → right: +3); from 0.6 it also loses b (right → wrong: −3);
    # from 0.5 it also wins c (person → right: +1). Best: 0.9 alone.
    assert choose_threshold(cases, router, cost=2.0) == 0.9
    # A router decision for the discipline commission is never replaced.
    router["a"] = ("wrong", "jwjw")
    assert choose_threshold(cases, router, cost=2.0) == 1.0


def test_a_batch_is_read_as_each_text_alone() -> None:
    model = as_unit_model(*fit_sklearn(_examples()), threshold=0.5)
    texts = ["楼下有人打牌吵闹", "", "买的奶粉过期了", "村道坑坑洼洼，" * 40]
    assert likeliest_units_of(texts, model) == [likeliest_units(t, model) for t in texts]
    assert likeliest_units_of([], model) == []
