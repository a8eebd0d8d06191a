"""HTTP request bodies of the intake API, and the Chinese wording of their validation errors."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, HttpUrl, field_validator

from hotline.services.intake.limits import (
    CONTROL_MESSAGE,
    nested_has_control_chars,
    plausible_year,
    strip_control_chars,
)
from hotline.shared.events import CallOutcome, EmergencyLine, PetitionForm, Platform

MAX_REACH = 10**12  # more readers than the world has: a typo or an attack, and it overflows BIGINT sums
_PHONE = re.compile(r"^(?:\+?86)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{5,8})$")


def _phone(value: str) -> str:
    normalised = re.sub(r"[\s()（）]", "", value)
    if not _PHONE.match(normalised):
        raise ValueError("phone")
    return normalised


Phone = Annotated[str, AfterValidator(_phone)]


def _strip_control_chars(value: Any) -> Any:
    # Before validation, so the length limits and whitespace stripping see the cleaned text.
    return strip_control_chars(value) if isinstance(value, str) else value


# Free text in a citizen's or an officer's words: control characters (pasted from web pages, Word,
# OCR) are dropped rather than refused, so nobody has to retype a complaint. Every other string
# (names, phone numbers, codes, URLs) is refused with the field named: there a control character is
# a mistake or an attack, and guessing what was meant would be worse.
FreeText = Annotated[str, BeforeValidator(_strip_control_chars)]
Text = Annotated[FreeText, Field(min_length=1, max_length=20000)]
Name = Annotated[str, Field(min_length=1, max_length=64)]
# Receipt and publication times: years outside 2000..2100 are refused before any time-zone arithmetic.
Moment = Annotated[datetime, AfterValidator(plausible_year)]


class Body(BaseModel):
    """Base of every JSON request body: unknown fields and control characters are refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_chars(cls, value: Any) -> Any:
        if nested_has_control_chars(value):
            raise ValueError(CONTROL_MESSAGE)
        return value


class _Body(Body):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CallIn(_Body):
    """A hotline call logged by an operator."""

    phone: Phone
    content: Text
    outcome: CallOutcome
    caller_name: Name | None = None
    township: Annotated[str, Field(max_length=64)] | None = None
    received_at: Moment | None = None
    wants_secrecy: bool = False
    # 转接 recorded while the call was being logged (Alt+1..Alt+4): stored with the case.
    handover_line: EmergencyLine | None = None


class PetitionIn(_Body):
    """A 信访 petition."""

    form: PetitionForm
    petitioner_name: Name
    content: Text
    phone: Phone | None = None
    is_accusation: bool = False
    accused_unit: Annotated[str, Field(max_length=64)] | None = None
    township: Annotated[str, Field(max_length=64)] | None = None
    visitors: Annotated[int, Field(ge=1, le=200)] | None = None
    received_at: Moment | None = None
    handover_line: EmergencyLine | None = None


class MentionIn(_Body):
    """A media mention (舆情) from monitoring."""

    url: HttpUrl
    platform: Platform
    outlet: Annotated[str, Field(min_length=1, max_length=128)]
    content: Text
    published_at: Moment
    title: Annotated[FreeText, Field(max_length=200)] | None = None
    reach: Annotated[int, Field(ge=0, le=MAX_REACH)] | None = None
    handover_line: EmergencyLine | None = None


class HandoverIn(_Body):
    """A 转接 to an emergency line (联动)."""

    line: EmergencyLine
    note: Annotated[FreeText, Field(max_length=500)] | None = None


FIELD_LABELS = {
    "phone": "电话",
    "content": "内容",
    "outcome": "处理方式",
    "caller_name": "来电人姓名",
    "township": "乡镇",
    "received_at": "受理时间",
    "form": "信访形式",
    "petitioner_name": "信访人姓名",
    "is_accusation": "检举控告标记",
    "accused_unit": "被检举单位",
    "visitors": "来访人数",
    "url": "链接",
    "platform": "平台",
    "outlet": "发布媒体",
    "published_at": "发布时间",
    "title": "标题",
    "reach": "传播量",
    "wants_secrecy": "保密要求",
    "handover_line": "转接线路",
    "line": "转接线路",
    "note": "备注",
    "from": "起始日期",
    "to": "截止日期",
    "offset": "偏移量",
}

_ENUM_CHOICES = {
    "outcome": "answered_on_spot（当场解释）或 transfer（转交有关单位办理）",
    "form": "letter（来信）、visit（来访）、fax（传真）、phone（电话）或 web（网上信访）",
    "platform": "news（新闻网站）、weibo（微博）、wechat（微信）、forum（论坛）、video（视频）或 other",
    "line": "110（报警）、119（火警）、120（急救）或 122（交通事故）",
    "handover_line": "110（报警）、119（火警）、120（急救）或 122（交通事故）",
}


_NOT_AN_OBJECT = ("model_type", "model_attributes_type", "dict_type")


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def chinese_error(error: dict[str, Any]) -> dict[str, str]:
    """One pydantic error → {field, message} with a message an operator can act on."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in ("too_short", "too_long") and isinstance(error.get("input"), str):
        kind = "string_" + kind  # a length limit checked after one of our validators (FreeText)
    if kind == "json_invalid":  # its location is a character offset, not a field
        return {"field": "body", "message": "请求体不是有效的 JSON，请检查引号、逗号和括号"}
    location = [str(part) for part in error.get("loc", ()) if part != "body"]
    if not location and kind in _NOT_AN_OBJECT:
        return {"field": "body", "message": "请求体应为 JSON 对象（{...}），不能是数组、字符串或数字"}
    field = ".".join(location) or "body"
    label = FIELD_LABELS.get(location[0], location[0]) if location else "请求体"
    if kind == "missing":
        reason = "为必填项，请填写"
    elif kind == "extra_forbidden":
        reason = "不是可接受的字段，请删除"
    elif kind == "string_too_short":
        reason = "不能为空"
    elif kind == "string_too_long":
        reason = f"过长，最多 {ctx.get('max_length')} 个字符"
    elif kind == "enum":
        reason = f"取值无效，应为 {_ENUM_CHOICES.get(location[0] if location else '', ctx.get('expected', ''))}"
    elif kind == "value_error" and error.get("msg", "").endswith("phone"):
        reason = "格式不正确，应为手机号（11位）或带区号的固定电话，如 13812345678、0595-23271234"
    elif kind.startswith("datetime") or kind.startswith("date"):
        reason = "时间格式不正确，应为 ISO 8601，如 2026-11-24T09:30:00+08:00"
    elif kind.startswith("url"):
        reason = "不是有效的网址，应以 http:// 或 https:// 开头"
    elif kind in ("int_parsing", "int_type"):
        reason = "应为整数"
    elif kind in ("bool_parsing", "bool_type"):
        reason = "应为 true 或 false"
    elif kind in ("greater_than_equal", "less_than_equal"):
        reason = f"超出允许范围（{ctx.get('ge', ctx.get('le'))}）"
    elif kind in ("greater_than", "less_than"):
        reason = f"超出允许范围（{ctx.get('gt', ctx.get('lt'))}）"
    elif kind in ("float_parsing", "float_type"):
        reason = "应为数字"
    elif kind in ("list_type", "too_short", "too_long"):
        reason = "应为列表，且条目数在允许范围内"
    elif kind == "string_pattern_mismatch":
        reason = "格式不正确"
    elif kind in ("uuid_parsing", "uuid_type"):
        reason = "应为有效的编号（UUID）"
    elif kind == "literal_error":
        reason = f"取值无效，应为 {ctx.get('expected', '')}"
    elif kind in ("string_type", *_NOT_AN_OBJECT):
        reason = "类型不正确"
    elif kind == "value_error" and _has_chinese(str(ctx.get("error", ""))):
        reason = str(ctx.get("error"))  # our validators raise Chinese messages
    else:
        reason = f"取值无效（{kind or '未知错误'}）"
    return {"field": field, "message": f"{label}（{field}）{reason}"}
