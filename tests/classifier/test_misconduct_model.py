"""The learned misconduct reading: the decision rule, the shipped artefact, and texts from no suite."""

from __future__ import annotations

import pytest

from hotline.services.classifier.misconduct_model import (
    MODEL_PATH,
    cheap_features,
    decide_misconduct,
    is_learned,
    learned_misconduct,
    learned_misconduct_batch,
    load_misconduct_model,
    parse_misconduct_model,
    probability,
)
from hotline.services.classifier.misconduct_train import Example, artefact, predict, writer_of
from hotline.shared.domain.county import load_county
from hotline.shared.domain.dispatch import Evidence, decide
from hotline.shared.domain.matters import identify, load_matters
from hotline.shared.domain.misconduct import misconduct

COUNTY = load_county()
MATTERS = load_matters(county=COUNTY)


def test_the_rules_keep_firing_and_the_model_adds_only_above_its_threshold() -> None:
    assert decide_misconduct(("村支书+兜里",), 0.01, 0.75) == ("村支书+兜里",)
    assert decide_misconduct((), 0.74, 0.75) == ()
    assert decide_misconduct((), None, 0.75) == ()
    (finding,) = decide_misconduct((), 0.93, 0.75)
    assert finding == "模型判断为反映公职人员违纪违法（p=0.93）" and is_learned(finding)
    assert learned_misconduct("随便一句话", (), ticked=False, model=None) == ()


def test_the_shipped_artefact_loads_small_with_a_high_threshold() -> None:
    model = load_misconduct_model()
    assert model is not None and model.version.startswith("misconduct-")
    assert MODEL_PATH.stat().st_size < 2_000_000
    assert 0.5 <= model.threshold < 1.0
    assert set(model.features) == {"rules", "official", "ticked"}


def test_prediction_without_scikit_learn_agrees_with_the_trained_model() -> None:
    pos = ["村干部把补助款装进自己口袋", "所长收了老板的红包", "镇长的亲戚吃低保", "干部挪用扶贫款"]
    neg = ["楼下烧烤摊油烟大", "路灯坏了没人修", "小区停水三天了", "邻居装修太吵了"]
    examples = [Example(t, True, "a") for t in pos] + [Example(t, False, "b") for t in neg]
    data = artefact(examples, 0.8)
    model = parse_misconduct_model(data)
    from hotline.services.classifier.misconduct_train import fit

    vectorizer, fitted = fit(examples)
    for e, p in zip(examples, predict(vectorizer, fitted, examples), strict=True):
        feats = cheap_features(e.text, rules_fired=False, ticked=False)
        assert probability(e.text, model, feats) == pytest.approx(p, abs=1e-4)


def test_writers_are_told_apart_by_their_ids() -> None:
    assert [writer_of(i) for i in ("r0042", "q117", "r3-005", "r5b-010", "r8c-200")] == [
        "w1",
        "w2",
        "r3",
        "r5b",
        "r8c",
    ]


# Written for this test, in no routing suite.
ORDINARY = [
    "小区楼下的烧烤摊每天晚上油烟很大，吵到半夜，希望有关部门管一管。",
    "村委会门口的路灯坏了一个多月，跟村干部说了几次都没人来修。",
    "检举我家邻居在楼顶违规加盖彩钢房，影响采光。",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_complaints_stay_with_their_unit(text: str) -> None:
    model = load_misconduct_model()
    assert model is not None
    assert learned_misconduct(text, misconduct(text), ticked=False, model=model) == ()


# Written for this test: fees officials pocket, told in words the rules do not match.
POCKETED = [
    "社区网格员每个月以管理费名义让我们摊主微信转他一百元，钱进了他个人账户。",
    "镇上城管队员每月通过微信收我们摊位管理费三百元，从来没有任何单据，钱转到他个人微信里。",
]


@pytest.mark.parametrize("text", POCKETED)
def test_fees_officials_pocket_read_far_likelier_than_ordinary_complaints(text: str) -> None:
    model = load_misconduct_model()
    assert model is not None and misconduct(text) == ()
    p = probability(text, model, cheap_features(text, rules_fired=False, ticked=False))
    ordinary = max(probability(t, model, cheap_features(t, rules_fired=False, ticked=False)) for t in ORDINARY)
    assert p > 0.6 and ordinary < 0.2


def test_a_learned_finding_goes_to_the_commission_and_says_it_was_learned() -> None:
    text = POCKETED[0]
    found = decide_misconduct((), 0.93, 0.87)
    d = decide(
        Evidence(topic="城乡建设", confidence=0.9, matters=tuple(identify(text, MATTERS)), misconduct=found),
        county=COUNTY,
        matters=MATTERS,
    )
    assert (d.unit_code, d.topic) == ("jwjw", "纪检监察")
    assert "检举控告：模型判断为反映公职人员违纪违法（p=0.93）" in d.reason


def test_a_batch_is_read_as_each_text_alone() -> None:
    model = load_misconduct_model()
    texts = ["村主任把低保给了自己亲戚", "路灯坏了", "", "所长收了老板两条烟才给办证", "干部+兜里"]
    rules = [misconduct(t) for t in texts]
    ticked = [False, False, False, True, False]
    alone = [learned_misconduct(t, r, ticked=k, model=model) for t, r, k in zip(texts, rules, ticked, strict=True)]
    assert learned_misconduct_batch(texts, rules, ticked=ticked, model=model) == alone
    assert learned_misconduct_batch(texts, rules, ticked=ticked, model=None) == rules
