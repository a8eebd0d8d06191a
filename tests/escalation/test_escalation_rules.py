from datetime import UTC, datetime, timedelta

import pytest

from hotline.services.escalation.rules import clocks_met_by, configured_ladder, next_step_at, parse_ladder, steps_due
from hotline.shared.events import Channel, EscalationStep, Verdict

RECEIVED = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def test_ladder_steps_fall_at_75_90_and_100_percent() -> None:
    due = RECEIVED + timedelta(hours=48)
    assert next_step_at(RECEIVED, due, 0) == RECEIVED + timedelta(hours=36)
    assert next_step_at(RECEIVED, due, 1) == RECEIVED + timedelta(hours=43.2)
    assert next_step_at(RECEIVED, due, 2) == due
    assert next_step_at(RECEIVED, due, 3) is None


def test_nothing_is_due_before_75_percent() -> None:
    due = RECEIVED + timedelta(hours=48)
    assert steps_due(starts_at=RECEIVED, due_at=due, taken=0, now=RECEIVED + timedelta(hours=35)) == []


def test_a_late_scan_takes_every_missed_step_in_order() -> None:
    due = RECEIVED + timedelta(hours=48)
    steps = steps_due(starts_at=RECEIVED, due_at=due, taken=0, now=due + timedelta(hours=1))
    assert [step.step for _, step in steps] == [EscalationStep.REMIND, EscalationStep.URGE, EscalationStep.OVERDUE]


def test_steps_already_taken_are_not_taken_again() -> None:
    due = RECEIVED + timedelta(hours=48)
    steps = steps_due(starts_at=RECEIVED, due_at=due, taken=2, now=due)
    assert [index for index, _ in steps] == [len(configured_ladder()) - 1]


def test_signing_meets_only_the_sign_clock() -> None:
    assert clocks_met_by("signed", Channel.HOTLINE) == {"sign"}


def test_a_hotline_answer_meets_the_response_clock_but_not_the_finishing_one() -> None:
    met = clocks_met_by("answered", Channel.HOTLINE)
    assert met is not None and "respond" in met and "finish" not in met


def test_a_petition_reply_finishes_it() -> None:
    assert clocks_met_by("answered", Channel.PETITION) is None  # every clock


def test_a_satisfied_visit_closes_every_clock_and_an_unsatisfied_one_none() -> None:
    assert clocks_met_by("visited", Channel.HOTLINE, Verdict.SATISFIED) is None
    assert clocks_met_by("visited", Channel.HOTLINE, Verdict.UNSATISFIED) == frozenset()


def test_a_supervisor_can_change_the_ladder() -> None:
    ladder = parse_ladder(
        {
            "step": [
                {"fraction": 0.5, "step": "提醒", "notify": "承办单位"},
                {"fraction": 1, "step": "超期", "notify": "县长"},
            ]
        }
    )
    due = RECEIVED + timedelta(hours=48)
    assert next_step_at(RECEIVED, due, 0, ladder) == RECEIVED + timedelta(hours=24)
    assert [s.notify for _, s in steps_due(starts_at=RECEIVED, due_at=due, taken=0, now=due, ladder=ladder)] == [
        "承办单位",
        "县长",
    ]


@pytest.mark.parametrize(
    "steps",
    [
        [{"fraction": 0.9, "step": "提醒", "notify": "a"}, {"fraction": 0.8, "step": "超期", "notify": "b"}],
        [{"fraction": 0.75, "step": "提醒", "notify": "a"}],
        [{"fraction": 1.0, "step": "警告", "notify": "a"}],
    ],
)
def test_a_ladder_that_cannot_work_is_refused(steps: list[dict[str, object]]) -> None:
    with pytest.raises(ValueError):
        parse_ladder({"step": steps})
