from __future__ import annotations

import uuid

from hotline.shared.faults import UnknownCaseError, is_permanent
from hotline.shared.known_cases import unknown_cases


def test_unknown_cases_lists_each_missing_id_once_in_order() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert unknown_cases([c, a, c, b], known={a}) == [c, b]
    assert unknown_cases([a, a], known={a}) == []


def test_an_unknown_case_is_a_permanent_failure() -> None:
    assert is_permanent(UnknownCaseError("案件不存在: x"))
