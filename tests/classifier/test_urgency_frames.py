"""Round six: is the danger a text tells happening now, or told as not now (past, over, drill,
fiction, rumour, correction, memorial, forecast, ad)? The frame is read sentence by sentence from the
rule file's ``[framing]``, and a framed text needs a higher bar from the arbiter (never a veto)."""

from __future__ import annotations

import random

import pytest

from hotline.services.classifier import urgency_train
from hotline.services.classifier.urgency import load_urgency_rules, parse_urgency_rules
from hotline.services.classifier.urgency_frames import (
    FRAME_PREFIX,
    frame_signal_names,
    frame_signals,
    read_frames,
    sentence_frame,
)
from hotline.services.classifier.urgency_judge import FRAMED_REASON, MODEL_REASON, arbiter_bar, judge_urgency
from hotline.services.classifier.urgency_model import UrgencyModel
from hotline.services.classifier.urgency_train import NEVER, flag, rates, recall_first_thresholds

FRAMED = [
    ("今天想说一下上个月那场火，当时火很大，烧了三间房。", "往事"),  # a word of today, a past event
    ("消防演练通知：10点整3号楼起火，人员被困，请各单位按预案处置。", "演练"),
    ("网传清溪水库决堤了？经核实系谣言。", "谣言"),
    ("更正：刚才说的着火是误报。", "更正"),
    ("电视剧里女主站在天台上要跳楼，太揪心了。", "影视游戏"),
    ("孩子昨晚落水，已脱离危险，谢谢救援队。", "已经结束"),
    ("厂房着火。火已扑灭，无人受伤。", "已经结束"),  # said after, in another sentence
    ("洪灾三周年，悼念遇难的乡亲。", "纪念"),
]

NOW = [
    "去年那场火以后大家都很小心，现在又着火了！",  # a word of now after the past
    "去年这里着过火。厨房着火了！",  # the past frames its own sentence only
    "火已经灭了，但是三楼还有人被困在里面。",  # the danger told after it is over is another
    "我家厨房着火了！",
    "我奶奶以前有心脏病，今天突然倒在地上叫不醒。",
]


@pytest.mark.parametrize(("text", "kind"), FRAMED)
def test_a_danger_told_as_not_now_is_framed(text: str, kind: str) -> None:
    reading = read_frames(text, load_urgency_rules())
    assert reading.framed and kind in reading.kinds, reading


@pytest.mark.parametrize("text", NOW)
def test_a_danger_told_as_now_is_not(text: str) -> None:
    assert not read_frames(text, load_urgency_rules()).framed


def test_the_last_marker_of_a_sentence_wins() -> None:
    framing = load_urgency_rules().framing
    assert framing is not None
    assert sentence_frame("去年着过火，现在又冒烟了", framing) == (frozenset(), True)
    assert sentence_frame("现在想说说去年那场火", framing) == (frozenset({"往事"}), False)
    assert sentence_frame("正在演练", framing)[0] == {"演练"}  # where both start: not now
    assert sentence_frame("路灯坏了", framing) == (frozenset(), False)
    # "over" counts only after the sentence's danger (here at 0..2)
    assert sentence_frame("已经扑灭的火又着了", framing, danger_end=9)[0] == frozenset()
    assert sentence_frame("着火了，已经扑灭", framing, danger_end=3)[0] == {"已经结束"}


def test_a_text_without_danger_words_is_framed_as_a_whole() -> None:
    rules = load_urgency_rules()
    assert read_frames("这部剧的结局太好哭了。", rules).framed
    assert not read_frames("这部剧的结局太好哭了。现在我妈喘不上气。", rules).framed
    assert not read_frames("路灯坏了两个月。", rules).framed


def test_without_a_framing_section_nothing_is_framed() -> None:
    base = {"cues": {"negation_before": "没有$", "present": "现在"}, "category": [FIRE]}
    rules = parse_urgency_rules(base)
    assert rules.framing is None and not read_frames("去年着火了", rules).framed
    framing = {"now": "现在", "not_now": [{"name": "往事", "scope": "sentence", "pattern": "去年"}]}
    assert read_frames("去年着火了", parse_urgency_rules({**base, "framing": framing})).kinds == ("往事",)
    wrong = {**framing, "not_now": [{"name": "x", "scope": "all", "pattern": "x"}]}
    with pytest.raises(ValueError, match="scope must be"):
        parse_urgency_rules({**base, "framing": wrong})
    with pytest.raises(ValueError, match="now is required"):
        parse_urgency_rules({**base, "framing": {"not_now": []}})


FIRE = {"name": "火", "lines": ["119"], "patterns": ["着火"]}


def test_frame_signals_are_named() -> None:
    rules = load_urgency_rules()
    names = set(frame_signal_names(rules))
    got = frame_signals(read_frames("消防演练通知：3号楼起火。", rules))
    assert set(got) <= names and {f"{FRAME_PREFIX}framed", f"{FRAME_PREFIX}演练"} <= set(got)
    assert f"{FRAME_PREFIX}now" in frame_signals(read_frames("现在着火了", rules))


def test_the_bar_is_higher_for_a_framed_text_and_wins_over_a_rule_hit() -> None:
    assert arbiter_bar(0.4, 0.2, 0.8, rule_hit=False, framed=False) == 0.4
    assert arbiter_bar(0.4, 0.2, 0.8, rule_hit=True, framed=False) == 0.2
    assert arbiter_bar(0.4, 0.2, 0.8, rule_hit=True, framed=True) == 0.8
    assert arbiter_bar(0.4, 0.2, None, rule_hit=True, framed=True) == 0.2  # no framed bar: as before


def _model(weight: float, framed_threshold: float | None) -> UrgencyModel:
    return UrgencyModel(
        {"起火": (1.0, weight)}, intercept=0.0, threshold=0.5, version="t", framed_threshold=framed_threshold
    )


def test_a_framed_text_needs_the_higher_bar_and_the_reason_says_so() -> None:
    rules = load_urgency_rules()
    drill = "消防演练通知：10点整3号楼起火，请按预案处置。"
    # p(起火 alone, weight 2) = 0.88: over the ordinary bar, under a framed bar of 0.9
    assert judge_urgency(drill, rules, _model(2.0, None)).urgent
    assert not judge_urgency(drill, rules, _model(2.0, 0.9)).urgent
    sure = judge_urgency(drill, rules, _model(9.0, 0.9))  # very sure: the frame does not veto
    assert sure.urgent and sure.reasons[-1] == f"{FRAMED_REASON}：演练"
    assert sure.reasons[0].startswith((MODEL_REASON, "火灾"))
    fire = judge_urgency("3号楼起火了，快来人", rules, _model(2.0, 0.9))  # not framed: the ordinary bar
    assert fire.urgent and not any(r.startswith(FRAMED_REASON) for r in fire.reasons)


def test_thresholds_raise_the_framed_bar_only_as_far_as_recall_allows() -> None:
    urgent = [True, True, False, False, True, False]
    probs = [0.9, 0.5, 0.4, 0.1, 0.7, 0.8]
    framed = [False, False, False, False, True, True]  # a framed emergency at 0.7, a framed calm text at 0.8
    no = [False] * 6
    t, t_rules, t_framed = recall_first_thresholds(urgent, probs, no, no, no, 1.0, framed)
    assert (t, t_rules) == (0.5, 0.5) and t_framed == 0.7  # the calm 0.8 stays flagged: recall first
    probs[5] = 0.6  # now the framed bar can rise above it
    assert recall_first_thresholds(urgent, probs, no, no, no, 1.0, framed) == (0.5, 0.5, 0.7)
    framed[4] = False  # the framed calm text alone: the arbiter never flags it
    assert recall_first_thresholds(urgent, probs, no, no, no, 1.0, framed)[2] == NEVER


def test_the_search_finds_what_checking_every_triple_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = [round(0.1 * i, 1) for i in range(1, 10)]  # a coarse grid keeps the brute force quick
    monkeypatch.setattr(urgency_train, "THRESHOLDS", grid)
    rng = random.Random(7)
    for _ in range(5):
        n = 40
        urgent = [rng.random() < 0.5 for _ in range(n)]
        probs = [round(min(0.99, max(0.0, rng.gauss(0.65 if u else 0.35, 0.25))), 3) for u in urgent]
        guarded, hits = [rng.random() < 0.05 for _ in range(n)], [rng.random() < 0.3 for _ in range(n)]
        honest, framed = [rng.random() < 0.6 for _ in range(n)], [rng.random() < 0.2 for _ in range(n)]
        best: tuple[float, float, float, float] | None = None
        for t in grid:
            for tr in (x for x in grid if x <= t):
                for tf in (x for x in [*grid, NEVER] if x >= t):
                    got = [flag(*row, t, tr, tf) for row in zip(probs, guarded, hits, framed, strict=True)]
                    recall, _ = rates(urgent, got)
                    on = [(u, g) for u, g, o in zip(urgent, got, honest, strict=True) if o]
                    recall_h, fa_h = rates([u for u, _ in on], [g for _, g in on])
                    if recall >= 0.9 and recall_h >= 0.9 and (best is None or (fa_h, -t, -tr, -tf) < best):
                        best = (fa_h, -t, -tr, -tf)
        assert best is not None
        expected = (-best[1], -best[2], -best[3])
        assert recall_first_thresholds(urgent, probs, guarded, hits, honest, 0.9, framed) == expected
