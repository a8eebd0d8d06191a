"""The `hotline` command speaks Chinese and never prints a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.cli import main
from hotline.demo import _settled


def test_token_without_a_database_is_one_chinese_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["token", "--user", "admin", "--data-dir", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1
    assert "hotline up" in err and "Traceback" not in err


def test_argument_errors_are_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["token"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("参数错误：")


def test_demo_waits_for_classification_and_unit_not_only_clocks() -> None:
    registered = {"status": "received", "topic": None, "unit_name": None, "deadlines": [{"name": "register"}]}
    assert not _settled(registered)
    classified = {**registered, "topic": "城乡建设"}
    assert not _settled(classified)
    assert _settled({**classified, "unit_name": "县住建局"})
    assert _settled({"status": "answered", "topic": "城乡建设", "unit_name": None, "deadlines": []})
