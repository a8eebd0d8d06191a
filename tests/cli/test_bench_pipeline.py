"""`hotline bench` (pipeline): every case through classifier, router and escalation, on texts of one's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.bench import SAMPLE_TEXTS, file_texts, sample_received_events
from hotline.cli import main

pytestmark = pytest.mark.e2e

PETITIONS = [
    "尊敬的领导：我们小区物业未经业主同意，利用公共面积向业主收取停车费，收费后车辆在小区内受损又拒不负责，业主多次反映无果，恳请相关部门调查处理。",
    "我是城厢镇的居民，村里的自来水管道老化，今年已经爆管三次，每次停水两三天，村委会说没有资金维修，希望县里尽快安排改造。",
    "短",
]


def _texts_file(tmp_path: Path) -> Path:
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in PETITIONS), encoding="utf-8")
    return path


def test_texts_of_a_file_are_taken_in_turn_leaving_out_the_too_short(tmp_path: Path) -> None:
    texts = file_texts(_texts_file(tmp_path))
    assert texts == PETITIONS[:2]
    assert [e.content for e in sample_received_events(5, texts)] == [*texts, *texts, texts[0]]
    assert [e.content for e in sample_received_events(2)] == list(SAMPLE_TEXTS[:2])


def test_the_pipeline_bench_tracks_every_case_of_a_texts_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "--n", "40", "--texts", str(_texts_file(tmp_path))]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result["texts"] == "texts.jsonl"
    assert result["mean_chars"] == round((len(PETITIONS[0]) + len(PETITIONS[1])) / 2, 1)
    # The bench returns only once every case's `tracked` event came back.
    assert result["pipeline_cases_per_s"] > 0 and result["p99_ms"] >= result["p50_ms"] > 0
    assert set(result["cpu_ms_per_case"]) == {"classifier", "router", "escalation", "all"}
