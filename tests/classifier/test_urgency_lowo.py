"""Leaving one writer out: each writer is judged by an arbiter that never saw its texts, and the
table names every writer, the pooled figure and the ordinary messages. Also what the rules' signals
say about a text (the arbiter's optional features)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.services.classifier import urgency_lowo, urgency_train
from hotline.services.classifier.urgency import assess_urgency, load_urgency_rules
from hotline.services.classifier.urgency_eval import main as eval_main
from hotline.services.classifier.urgency_lowo import leave_one_writer_out, report
from hotline.services.classifier.urgency_signals import rule_signals, signal_names
from hotline.services.classifier.urgency_train import Example, gather, prepare

URGENT = ["他说不想活了站在楼顶", "我妈喝了农药口吐白沫", "屋里着火了浓烟出不来", "有人拿刀在街上砍人"]
CALM = ["路灯坏了两个月请维修", "小区垃圾没人清运很臭", "想咨询一下社保怎么办理", "噪音扰民晚上睡不着觉"]


@pytest.fixture
def three_writers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[Path, ...]]:
    writers: dict[str, tuple[Path, ...]] = {}
    for w, name in enumerate(("writer1", "writer4", "writer5")):
        path = tmp_path / f"{name}.jsonl"
        rows = [
            {"id": f"{name}-{i}", "text": f"{text}{'！' * w}", "urgent": urgent, "lines": ["110"] if urgent else []}
            for i, (text, urgent) in enumerate([*((t, True) for t in URGENT), *((t, False) for t in CALM)])
        ]
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        writers[name] = (path,)
    monkeypatch.setattr(urgency_lowo, "WRITERS", writers)
    monkeypatch.setattr(urgency_train, "WRITERS", writers)
    return writers


def test_every_writer_is_judged_by_an_arbiter_that_never_saw_it(
    three_writers: dict[str, tuple[Path, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = load_urgency_rules()
    trained_on: list[set[str]] = []
    real_train = urgency_lowo.train

    def spying(data: urgency_train.Prepared, idx: list[int] | None = None, **kw: float) -> dict[str, object]:
        trained_on.append({data.examples[i].source for i in (idx if idx is not None else range(len(data.examples)))})
        return real_train(data, idx, **kw)

    monkeypatch.setattr(urgency_lowo, "train", spying)
    data = prepare(gather(three_writers), rules)
    background = [Example("反映小区物业不作为，停车乱收费。", False, "background")]
    result = leave_one_writer_out(data, rules, background, target=1.0)
    assert [row.writer for row in result["rows"]] == ["writer1", "writer4", "writer5"]
    assert trained_on[:3] == [{"writer4", "writer5"}, {"writer1", "writer5"}, {"writer1", "writer4"}]
    assert trained_on[3] == {"writer1", "writer4", "writer5"}  # the ordinary messages: every writer
    for row in result["rows"]:
        assert row.arbiter.urgent == 4 and row.arbiter.calm == 4
    text = report(result)
    assert "| writer4 | 4 |" in text and "all writers, pooled | 12 |" in text
    assert "ordinary messages (never trained on) | — | — | 1 |" in text


def test_rule_signals_name_categories_and_cues() -> None:
    rules = load_urgency_rules()
    names = set(signal_names(rules))

    def signals(text: str) -> dict[str, float]:
        got = rule_signals(text, rules, assess_urgency(text, rules))
        assert set(got) <= names and set(got.values()) <= {1.0}
        return got

    now = signals("我家厨房现在着火了")
    assert {"rules:urgent", "hit:火灾", "raw:火灾", "cue:present", "cue:first_person"} <= set(now)
    past = signals("去年这栋楼着火了，想问问赔偿")
    assert "raw:火灾" in past and "rules:urgent" not in past and "frame:过去" in past
    assert "cue:negation_near" in signals("没有着火，只是烟大")
    assert "cue:resolved" in signals("厨房起火了，火已经扑灭了")
    assert "cue:masked" in signals("气死我了，物业不管")


def test_the_command_prints_the_table(
    three_writers: dict[str, tuple[Path, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert eval_main(["--leave-one-writer-out", "--no-background", "--recall-target", "1.0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| held-out writer |") and "| writer5 | 4 |" in out and "ordinary messages" not in out
