"""The learned 紧急诉求 arbiter: the pure-Python prediction equals scikit-learn's (n-grams and rule
signals), the shipped artefact is small and current, and the stated rule holds (a hard guard, or the
arbiter at its threshold, or at a lower bar where the rules found an emergency)."""

from __future__ import annotations

import json

import pytest

from hotline.services.classifier.urgency import Urgency, assess_urgency, load_urgency_rules, parse_urgency_rules
from hotline.services.classifier.urgency_judge import MODEL_REASON, danger_lines, judge_urgency
from hotline.services.classifier.urgency_model import (
    MODEL_PATH,
    LineModel,
    UrgencyModel,
    _contributions,
    char_ngrams,
    gram_scores,
    load_urgency_model,
    parse_urgency_model,
    predicted_lines,
    top_ngrams,
    urgent_probability,
)
from hotline.services.classifier.urgency_signals import rule_signals
from hotline.services.classifier.urgency_train import (
    RECALL_TARGET,
    WRITERS,
    Arbiter,
    Example,
    prepare,
    recall_first_thresholds,
    train,
)
from hotline.shared.events import EmergencyLine

TOY = [
    ("他说不想活了站在楼顶", True),
    ("我妈喝了农药口吐白沫", True),
    ("屋里着火了浓烟出不来", True),
    ("有人拿刀在街上砍人", True),
    ("路灯坏了两个月请维修", False),
    ("小区垃圾没人清运很臭", False),
    ("想咨询一下社保怎么办理", False),
    ("噪音扰民晚上睡不着觉", False),
]


def test_char_ngrams_count_like_the_vectorizer() -> None:
    assert char_ngrams("ab  c", 1, 2) == {"a": 1, "b": 1, " ": 1, "c": 1, "ab": 1, "b ": 1, " c": 1}


@pytest.mark.parametrize("with_signals", [False, True])
def test_prediction_equals_scikit_learn(with_signals: bool) -> None:
    rules = load_urgency_rules()
    examples = [Example(t, u, "x") for t, u in TOY] * 2  # min_df=2: every n-gram of TOY is kept
    data = prepare(examples, rules, with_signals=with_signals)
    fitted = Arbiter(data).fit(range(len(examples)), 4.0)
    model = parse_urgency_model(fitted.weights(threshold=0.5))
    assert bool(model.signals) == with_signals
    for i, (text, _) in enumerate(TOY):
        signals = rule_signals(text, rules, assess(text)) if with_signals else None
        expected = fitted.probabilities([i])[0]
        assert urgent_probability(data.texts[i], model, signals) == pytest.approx(expected, abs=1e-3)


def assess(text: str) -> Urgency:
    return assess_urgency(text, load_urgency_rules())


def test_a_batch_scores_each_text_as_its_ngrams_add_up_alone() -> None:
    model = load_urgency_model()
    assert model is not None
    texts = ["楼上有人要跳楼了，快来人", "", "路灯坏了  好几天", "煤气味很重，我家老人晕倒了", "A" * 40]
    alone = [_contributions(text, model)[0] - model.intercept for text in texts]
    assert gram_scores(texts, model) == pytest.approx(alone, abs=1e-9)
    assert gram_scores([], model) == []


def test_the_shipped_artefact_is_small_and_loads() -> None:
    assert MODEL_PATH.stat().st_size < 1_000_000  # the 紧急诉求 model and its four line models
    model = load_urgency_model()
    assert model is not None and 0 < model.threshold < 1 and len(model.weights) > 1000
    assert set(model.lines) == {"110", "119", "120", "122"}
    assert model.rules_threshold is not None and 0 < model.rules_threshold <= model.threshold
    assert model.framed_threshold is not None and model.framed_threshold >= model.threshold
    meta = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    # Round five: every writer's suite trains it; the ordinary messages only measure it.
    assert set(meta["data"]["sources"]) == set(WRITERS)
    # Chosen leaving each writer out, recall first.
    assert meta["choice"]["recall"] >= RECALL_TARGET and meta["choice"]["honest_recall"] >= RECALL_TARGET


def _model(weights: dict[str, float], threshold: float = 0.5) -> UrgencyModel:
    return UrgencyModel({g: (1.0, w) for g, w in weights.items()}, intercept=-1.0, threshold=threshold, version="t")


def test_top_ngrams_name_the_words_that_pushed() -> None:
    model = _model({"烧炭": 3.0, "烧": 1.0, "窗": 0.5, "路灯": -2.0})
    assert top_ngrams("关窗烧炭", model) == ["烧炭"]


def test_the_model_adds_what_the_rules_miss_with_its_words() -> None:
    rules = load_urgency_rules()
    model = _model({"嘎嘎嘎": 40.0})
    got = judge_urgency("那边嘎嘎嘎一直响", rules, model)
    assert got.urgent and got.reasons[0].startswith(MODEL_REASON) and "嘎嘎嘎" in got.reasons[0]
    assert got.lines == [EmergencyLine.POLICE]  # no category's words: the police take it
    assert not judge_urgency("那边嘎嘎嘎一直响", rules, _model({"嘎嘎嘎": 40.0}, threshold=1.0)).urgent


def test_a_rule_hit_lowers_the_bar_but_does_not_decide_alone() -> None:
    rules = load_urgency_rules()
    fire = "厨房着火了，烟很大"
    lower = UrgencyModel({"着火": (1.0, 1.2)}, intercept=-1.0, threshold=0.9, version="t", rules_threshold=0.3)
    got = judge_urgency(fire, rules, lower)
    assert got.urgent and got.reasons[0].startswith("火灾") and EmergencyLine.FIRE in got.lines
    same_bar = UrgencyModel({"着火": (1.0, 1.2)}, intercept=-1.0, threshold=0.9, version="t")
    assert not judge_urgency(fire, rules, same_bar).urgent  # the arbiter is not sure enough
    doubtful = UrgencyModel({"着火": (1.0, -9.0)}, intercept=-1.0, threshold=0.9, version="t", rules_threshold=0.3)
    assert not judge_urgency(fire, rules, doubtful).urgent  # rules alone would have said yes
    assert assess(fire).urgent


def test_a_guard_category_is_urgent_whatever_the_arbiter_says() -> None:
    base = {"cues": {"negation_before": "没有$", "present": "现在"}}
    wolf = {"name": "野兽", "lines": ["110"], "patterns": ["野猪进村"]}
    guarded = parse_urgency_rules({**base, "category": [{**wolf, "guard": True}]})
    unguarded = parse_urgency_rules({**base, "category": [wolf]})
    never = _model({"野猪": -40.0})
    assert judge_urgency("村里野猪进村了", guarded, never).reasons == ["野兽：野猪进村"]
    assert not judge_urgency("村里野猪进村了", unguarded, never).urgent


def test_the_model_reads_the_text_with_figurative_phrases_masked() -> None:
    rules = load_urgency_rules()
    model = _model({"跳楼": 40.0})
    assert not judge_urgency("商场在搞跳楼价甩卖", rules, model).urgent  # "跳楼价" is masked for both
    assert judge_urgency("那边嘎嘎嘎一直响", rules, _model({"嘎嘎嘎": 40.0})).urgent


def test_a_case_only_the_model_flags_takes_the_line_models_lines() -> None:
    model = UrgencyModel(
        {"嘎嘎嘎": (1.0, 40.0)},
        intercept=-1.0,
        threshold=0.5,
        version="t",
        lines={"119": LineModel({"嘎": (1.0, 9.0)}, -1.0), "110": LineModel({"嘎": (1.0, -9.0)}, -1.0)},
    )
    assert predicted_lines("那边嘎嘎嘎", model) == ["119"]
    assert judge_urgency("那边嘎嘎嘎一直响", load_urgency_rules(), model).lines == [EmergencyLine.FIRE]
    # none at 0.5: the likeliest one
    assert predicted_lines("别的", model) in (["110"], ["119"])


def test_where_the_rules_found_the_danger_their_words_and_lines_are_shown() -> None:
    model = UrgencyModel({"路灯": (1.0, 40.0)}, intercept=-1.0, threshold=0.9, version="t", rules_threshold=0.2)
    got = judge_urgency("厨房着火了，烟很大", load_urgency_rules(), model)  # p = 0.27: the lower bar only
    assert got.urgent and got.reasons[0].startswith("火灾") and EmergencyLine.FIRE in got.lines


def test_danger_lines_come_from_the_words_found() -> None:
    assert EmergencyLine.FIRE in danger_lines("他家着火了", load_urgency_rules())


def test_thresholds_are_recall_first_then_fewest_false_alarms() -> None:
    urgent = [True, True, False, False]
    probs = [0.9, 0.5, 0.4, 0.1]
    no = [False] * 4
    # No writer the rules never read: one bar, the highest that finds every emergency.
    assert recall_first_thresholds(urgent, probs, no, no, no, target=1.0) == (0.5, 0.5, 0.5)
    # The emergency at 0.5 is the rules' (and so is the calm text at 0.4); judged on honest writers,
    # a lower bar for rule hits finds it without the arbiter's bar falling to it.
    hits, honest = [False, True, True, False], [True] * 4
    t, t_rules, _ = recall_first_thresholds(urgent, [0.9, 0.3, 0.2, 0.1], no, hits, honest, target=1.0)
    assert t_rules == 0.3 and t > 0.3
    # A guard counts as found whatever the probability.
    assert recall_first_thresholds(urgent, [0.9, 0.05, 0.4, 0.1], [False, True, False, False], no, no, 1.0)[0] > 0.4


def test_training_leaves_writers_out_and_writes_a_loadable_artefact() -> None:
    urgent = [
        "他说不想活了站在楼顶",
        "我妈喝了农药口吐白沫",
        "屋里着火了浓烟出不来",
        "有人拿刀在街上砍人",
        "煤气漏了嘶嘶响",
        "孩子锁在车里哭不出声",
    ]
    calm = [
        "路灯坏了两个月请维修",
        "小区垃圾没人清运很臭",
        "想咨询一下社保怎么办理",
        "噪音扰民晚上睡不着觉",
        "公交车太少等很久",
        "学校食堂饭菜太贵",
    ]
    fire = ("屋里着火了浓烟出不来", "煤气漏了嘶嘶响")
    writers = ("writer1", "writer4", "writer5")
    examples = [Example(t, True, writers[i % 3], ("119",) if t in fire else ("110",)) for i, t in enumerate(urgent)]
    examples += [Example(t, False, writers[i % 3]) for i, t in enumerate(calm)]
    artefact = train(prepare(examples, load_urgency_rules()), target=1.0)
    assert set(artefact["lines"]) == {"110", "119"}  # a line no text needs gets no model
    assert artefact["choice"]["honest_writers"] == ["writer4", "writer5"]  # the rules never read them
    assert artefact["choice"]["recall"] == 1.0
    assert artefact["data"] == {"urgent": 6, "not_urgent": 6, "sources": {w: 4 for w in writers}}
    model = parse_urgency_model(json.loads(json.dumps(artefact)))
    assert model.threshold == artefact["choice"]["threshold"]
    assert model.rules_threshold == artefact["choice"]["rules_threshold"]
    assert model.framed_threshold == artefact["choice"]["framed_threshold"]
    # Fitted on these texts it leans the right way on them (min_df=2 leaves few n-grams in so few texts).
    assert sum(urgent_probability(t, model) for t in urgent) > sum(urgent_probability(t, model) for t in calm)


def test_a_reason_names_whole_words_not_the_models_ngrams() -> None:
    from hotline.services.classifier.text import jieba_cut
    from hotline.services.classifier.urgency_judge import whole_words

    known = ("蓬莱镇", "有人", "井里", "投毒")

    def cut(text: str) -> list[str]:  # longest known word first, else one character: known segments
        words, i = [], 0
        while i < len(text):
            word = next((w for w in known if text.startswith(w, i)), text[i])
            words.append(word)
            i += len(word)
        return words

    assert whole_words("网上传蓬莱镇有人往井里投毒", ["莱镇", "井里投"], cut) == ["蓬莱镇", "井里投毒"]
    assert whole_words("蓬莱镇有人", ["莱镇", "蓬莱"], cut) == ["蓬莱镇"]  # one phrase, named once
    assert whole_words("abc", ["zz"], cut) == ["zz"]  # not in the text: kept as it is
    # With jieba itself: the phrase is made of whole words around the n-gram.
    text = "麻烦跟村里说一声别紧张"
    (phrase,) = whole_words(text, ["说一"], jieba_cut())
    assert "说一" in phrase and phrase in text and len(phrase) > 2
