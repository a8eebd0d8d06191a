"""Period reports in the words of the published government reports (see the seed reports): the
回应社会关切 sentence, the tables behind it, and a 通报 naming units under the thresholds.

Every number comes from `stats.aggregate` for the same period, i.e. exactly what GET /api/v1/stats
returns."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from hotline.services.intake.cells import safe_row, xml_safe

CHANNEL_NAMES = {"hotline": "热线", "petition": "信访", "media": "舆情"}
TABLE_COLUMNS = (
    ("received", "受理"),
    ("answered_on_spot", "当场解释"),
    ("transferred", "转办"),
    ("answered", "已答复"),
    ("due", "应答复"),
    ("overdue", "超期"),
    ("response_rate", "答复率%"),
    ("on_time_rate", "按时答复率%"),
    ("finish_rate", "办结率%"),
    ("satisfaction_rate", "满意率%"),
)
GROUPS = (("by_channel", "按渠道"), ("by_unit", "按承办单位"), ("by_topic", "按主题"), ("by_township", "按乡镇"))


@dataclass(frozen=True, slots=True)
class Thresholds:
    satisfaction_rate: float = 85.0  # 满意率
    response_rate: float = 92.0  # 答复率


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def _period(stats: dict[str, Any]) -> str:
    period = stats["period"]
    start, end = period.get("from"), period.get("to")
    if start and end:
        return f"{start} 至 {end}"
    return "全部时段" if not (start or end) else f"{start or '开始'} 至 {end or '今'}"


def social_concerns_sentence(stats: dict[str, Any]) -> str:
    """「共接听热线电话N个，当场解释A项，转交有关单位办理B项；共受理群众信访M件，答复率X%；共回应舆情K次」"""
    empty = {"received": 0, "answered_on_spot": 0, "transferred": 0, "answered": 0, "response_rate": None}
    hotline = stats["by_channel"].get("hotline", empty)
    petition = stats["by_channel"].get("petition", empty)
    media = stats["by_channel"].get("media", empty)
    return (
        f"共接听热线电话{hotline['received']}个，当场解释{hotline['answered_on_spot']}项，"
        f"转交有关单位办理{hotline['transferred']}项；"
        f"共受理群众信访{petition['received']}件，"
        + (f"答复率{_pct(petition['response_rate'])}；" if petition["response_rate"] is not None else "尚无到期件；")
        + f"共回应舆情{media['answered']}次。"
    )


def notice(stats: dict[str, Any], thresholds: Thresholds) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """Units ranked by 答复率 (then 满意率), and the sentences naming those below a threshold."""
    units = sorted(
        stats["by_unit"].items(),
        key=lambda item: (-(item[1]["response_rate"] or 0), -(item[1]["satisfaction_rate"] or 0), item[0]),
    )
    named = []
    for name, row in units:
        if row["response_rate"] is not None and row["response_rate"] < thresholds.response_rate:
            named.append(f"{name}答复率{_pct(row['response_rate'])}，低于{thresholds.response_rate:g}%")
        if row["satisfaction_rate"] is not None and row["satisfaction_rate"] < thresholds.satisfaction_rate:
            named.append(f"{name}满意率{_pct(row['satisfaction_rate'])}，低于{thresholds.satisfaction_rate:g}%")
    return units, named


def _table_markdown(rows: dict[str, dict[str, Any]], first: str) -> list[str]:
    lines = [
        "| " + " | ".join([first, *(label for _, label in TABLE_COLUMNS)]) + " |",
        "| " + " | ".join(["---"] * (len(TABLE_COLUMNS) + 1)) + " |",
    ]
    for key, row in rows.items():
        cells = [CHANNEL_NAMES.get(key, key)] + [_cell(row.get(column)) for column, _ in TABLE_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _cell(value: Any) -> str:
    return "—" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def markdown_report(stats: dict[str, Any], *, thresholds: Thresholds = Thresholds(), title: str = "") -> str:
    overall = stats["overall"]
    units, named = notice(stats, thresholds)
    lines = [
        f"# {title or '回应社会关切情况报告'}（{_period(stats)}）",
        "",
        "## 一、回应社会关切",
        "",
        social_concerns_sentence(stats),
        "",
        f"全部渠道共受理{overall['received']}件，已答复{overall['answered']}件，答复率{_pct(overall['response_rate'])}，"
        f"按时答复率{_pct(overall['on_time_rate'])}，办结率{_pct(overall['finish_rate'])}，"
        f"满意率{_pct(overall['satisfaction_rate'])}（参评率{_pct(overall['participation_rate'])}），"
        f"超期{overall['overdue']}件。",
        "",
    ]
    for number, (key, label) in zip(("二", "三", "四", "五"), GROUPS, strict=True):
        lines += [f"## {number}、{label}", "", *_table_markdown(stats[key], label[1:]), ""]
    lines += ["## 六、通报", "", "各承办单位按答复率排名：", ""]
    lines += [
        f"{rank}. {name}：答复率{_pct(row['response_rate'])}，满意率{_pct(row['satisfaction_rate'])}"
        for rank, (name, row) in enumerate(units, 1)
    ]
    lines += [""]
    if named:
        lines += [
            f"以下单位低于考核标准（答复率{thresholds.response_rate:g}%、满意率{thresholds.satisfaction_rate:g}%），"
            "予以通报：",
            "",
        ]
        lines += [f"- {sentence}" for sentence in named]
    else:
        lines += ["各承办单位均达到考核标准。"]
    if stats.get("hot_topics"):
        topics = "、".join(
            f"{t['topic']}{'/' + t['subtopic'] if t['subtopic'] else ''}（{t['count']}件）"
            for t in stats["hot_topics"][:5]
        )
        lines += ["", f"近七日群众关注热点：{topics}。"]
    return "\n".join(lines) + "\n"


def _sheet_rows(rows: dict[str, dict[str, Any]], first: str) -> list[list[Any]]:
    header = [first, *(label for _, label in TABLE_COLUMNS)]
    # Group names (townships, topics) are stored input: made safe for a spreadsheet cell.
    body = [safe_row([CHANNEL_NAMES.get(k, k), *(row.get(c) for c, _ in TABLE_COLUMNS)]) for k, row in rows.items()]
    return [header, *body]


def xlsx_report(stats: dict[str, Any], *, thresholds: Thresholds = Thresholds()) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    summary = workbook.active
    summary.title = "概况"
    summary.append([f"回应社会关切情况（{_period(stats)}）"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([social_concerns_sentence(stats)])
    summary.append([])
    summary.append(["指标", "数值"])
    for key, label in TABLE_COLUMNS:
        summary.append([label, stats["overall"].get(key)])
    for key, label in GROUPS:
        sheet = workbook.create_sheet(label)
        for row in _sheet_rows(stats[key], label[1:]):
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    units, named = notice(stats, thresholds)
    sheet = workbook.create_sheet("通报")
    sheet.append(["排名", "承办单位", "答复率%", "满意率%"])
    for rank, (name, figures) in enumerate(units, 1):
        sheet.append(safe_row([rank, name, figures["response_rate"], figures["satisfaction_rate"]]))
    sheet.append([])
    for sentence in named:
        sheet.append(safe_row([sentence]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def docx_report(stats: dict[str, Any], *, thresholds: Thresholds = Thresholds()) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(f"回应社会关切情况报告（{_period(stats)}）", level=1)
    document.add_heading("一、回应社会关切", level=2)
    document.add_paragraph(social_concerns_sentence(stats))
    for number, (key, label) in zip(("二", "三", "四", "五"), GROUPS, strict=True):
        document.add_heading(f"{number}、{label}", level=2)
        rows = _sheet_rows(stats[key], label[1:])
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = xml_safe(_cell(value))
    document.add_heading("六、通报", level=2)
    units, named = notice(stats, thresholds)
    for rank, (name, figures) in enumerate(units, 1):
        document.add_paragraph(
            xml_safe(
                f"{rank}. {name}：答复率{_pct(figures['response_rate'])}，满意率{_pct(figures['satisfaction_rate'])}"
            )
        )
    for sentence in named or ["各承办单位均达到考核标准。"]:
        document.add_paragraph(xml_safe(sentence))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
