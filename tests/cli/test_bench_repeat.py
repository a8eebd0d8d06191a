"""`hotline bench --mode repeat`: it times the three ways and says whether the index ranks as the scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.cli import main


def test_the_repeat_bench_reports_each_way_and_agreement(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--mode", "repeat", "--candidates", "120", "--n", "150"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["candidates"] == 120 and result["calls"] == 150 and result["index_ranks_as_the_scan"] is True
    for way in ("scan_with_kept_bigrams_ms_per_call", "index_ms_per_call", "index_with_upkeep_ms_per_call"):
        assert result[way] > 0
    assert result["kept_mb"] > 0


def test_a_texts_file_too_short_for_the_township_is_refused(tmp_path: Path) -> None:
    texts = tmp_path / "texts.jsonl"
    texts.write_text(
        json.dumps({"text": "村道排水沟堵塞了两个多月，一下雨污水就漫到路面上。"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit, match="只有 1 条"):
        main(["bench", "--mode", "repeat", "--texts", str(texts), "--candidates", "10"])
