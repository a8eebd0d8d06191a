"""The period figures and the report text, from known cases (no database: `aggregate` is pure)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from hotline.services.intake.reports import (
    Thresholds,
    docx_report,
    markdown_report,
    social_concerns_sentence,
    xlsx_report,
)
from hotline.services.intake.stats import CaseFacts, aggregate

NOW = datetime(2016, 12, 31, 8, 0, tzinfo=UTC)
START = datetime(2016, 1, 4, 1, 0, tzinfo=UTC)


def fact(channel: str, **overrides: object) -> CaseFacts:
    values: dict[str, object] = {
        "channel": channel,
        "status": "tracked",
        "outcome": None,
        "unit_name": "县住建局",
        "topic": "城乡建设",
        "subtopic": None,
        "township": "城厢镇",
        "received_at": START,
        "answered_at": None,
        "due_at": START + timedelta(hours=48),
        "verdict": None,
    }
    values.update(overrides)
    return CaseFacts(**values)  # type: ignore[arg-type]


def anxi_2016() -> list[CaseFacts]:
    """The 安溪县 2016 figures: 893 calls (358 answered on the spot, 535 transferred), 1136 petitions all
    answered, 26 media mentions answered."""
    answered = START + timedelta(hours=20)
    on_spot = [
        fact("hotline", outcome="answered_on_spot", unit_name=None, answered_at=START, due_at=None, status="answered")
        for _ in range(358)
    ]
    transferred = [fact("hotline", outcome="transfer", answered_at=answered, status="answered") for _ in range(535)]
    petitions = [fact("petition", answered_at=answered, status="answered", unit_name="县信访局") for _ in range(1136)]
    media = [fact("media", answered_at=answered, status="answered", unit_name="县网信办") for _ in range(26)]
    return on_spot + transferred + petitions + media


def test_the_report_sentence_reproduces_the_seed_report() -> None:
    stats = aggregate(anxi_2016(), now=NOW)
    assert social_concerns_sentence(stats) == (
        "共接听热线电话893个，当场解释358项，转交有关单位办理535项；共受理群众信访1136件，答复率100%；共回应舆情26次。"
    )


def test_rates_follow_their_definitions() -> None:
    late = START + timedelta(hours=60)
    facts = [
        fact("hotline", answered_at=START + timedelta(hours=10), status="closed", verdict="满意"),
        fact("hotline", answered_at=late, status="answered", verdict="不满意"),  # answered after its clock ran out
        fact("hotline"),  # clock ran out, not answered: overdue
        fact("hotline", due_at=NOW + timedelta(hours=1)),  # not yet due
    ]
    overall = aggregate(facts, now=NOW)["overall"]
    assert (overall["due"], overall["answered"], overall["overdue"], overall["open"]) == (3, 2, 1, 2)
    assert overall["response_rate"] == round(100 * 2 / 3, 2)
    assert overall["on_time_rate"] == round(100 * 1 / 3, 2)
    assert overall["finish_rate"] == 25.0
    assert overall["satisfaction_rate"] == 50.0 and overall["participation_rate"] == 100.0


def test_the_notice_names_units_under_the_thresholds() -> None:
    facts = [fact("hotline", unit_name="县城管局", answered_at=START, verdict="满意") for _ in range(10)]
    facts += [fact("hotline", unit_name="县住建局", answered_at=START if i < 9 else None) for i in range(10)]
    report = markdown_report(aggregate(facts, now=NOW), thresholds=Thresholds(response_rate=92, satisfaction_rate=85))
    assert "1. 县城管局：答复率100%" in report and "2. 县住建局：答复率90%" in report
    assert "- 县住建局答复率90%，低于92%" in report
    assert "县城管局答复率" not in report.split("予以通报")[1]


def test_spreadsheet_and_document_reports_open_and_carry_the_numbers() -> None:
    from docx import Document
    from openpyxl import load_workbook

    stats = aggregate(anxi_2016(), now=NOW)
    workbook = load_workbook(io.BytesIO(xlsx_report(stats)))
    assert workbook.sheetnames[:2] == ["概况", "按渠道"]
    assert workbook["概况"]["A2"].value == social_concerns_sentence(stats)
    document = Document(io.BytesIO(docx_report(stats)))
    assert any(social_concerns_sentence(stats) == p.text for p in document.paragraphs)
