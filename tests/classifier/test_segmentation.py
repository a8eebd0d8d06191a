"""The classifier segments with jieba-rs where it is installed: its tokens must be jieba's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.services.classifier.text import jieba_cut, python_jieba_cut

DATA = Path(__file__).parents[1] / "data"
# Runs that jieba-rs keeps whole and jieba splits at the punctuation, and text around them.
MIXED = (
    "2017.04.24上午在A3区大道西行便道摔倒",
    "电话0731-88888888一直占线，12345也打不通",
    "网址www.baidu.com上说补贴5.0%已发放",
    "按GB50180-93标准，小区容积率超标1-2倍",
    "C#、C++培训班收费12,800元，退费难",
    "T恤和B超都说不清楚，QQ群里有人说A股跌了",
    "5-4304号门牌，_x000D_楼道灯坏了&&&",
    "车牌湘A·12345的货车半夜鸣笛",
)


def suite_texts() -> list[str]:
    texts = []
    for path in sorted(DATA.glob("*/dev.jsonl")):
        with path.open(encoding="utf-8") as lines:
            texts.extend(str(json.loads(line)["text"]) for line in lines if line.strip())
    return texts


def test_the_suites_hold_enough_text_to_compare() -> None:
    assert len(suite_texts()) > 2000


@pytest.mark.parametrize("text", MIXED)
def test_runs_joined_by_punctuation_are_split_as_jieba_splits_them(text: str) -> None:
    assert jieba_cut()(text) == python_jieba_cut()(text)


def test_the_written_suites_are_segmented_exactly_as_jieba_segments_them() -> None:
    cut, reference = jieba_cut(), python_jieba_cut()
    texts = suite_texts()[::3]
    differing = [text for text in texts if cut(text) != reference(text)]
    assert not differing, differing[:3]


def test_jieba_rs_does_the_work_where_it_is_installed() -> None:
    pytest.importorskip("rjieba")
    assert jieba_cut() is not python_jieba_cut()
