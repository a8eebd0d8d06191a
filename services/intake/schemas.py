"""HTTP request bodies of the intake API, and the Chinese wording of their validation errors."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl

from hotline.shared.events import CallOutcome, PetitionForm, Platform

_PHONE = re.compile(r"^(?:\+?86)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{5,8})$")


def _phone(value: str) -> str:
    normalised = re.sub(r"[\s()（）]", "", value)
    if not _PHONE.match(normalised):
        raise ValueError("phone")
    return normalised


# C0 control characters but tab and newlines, and DEL: a NUL breaks PostgreSQL text columns, others
# break exports and terminals; none belongs in what an operator typed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_control(value: str) -> str:
    cleaned = _CONTROL.sub("", value).strip()
    if not cleaned:
        raise ValueError("empty")
    return cleaned


Clean = AfterValidator(strip_control)

# Statistics and report periods: a date outside this range is a typo (or a probe for a slow query).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def sane_day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError("day_range")
    return value


Day = Annotated[date, AfterValidator(sane_day)]
Phone = Annotated[str, AfterValidator(_phone)]
Text = Annotated[str, Field(min_length=1, max_length=20000), Clean]
Name = Annotated[str, Field(min_length=1, max_length=64), Clean]
Short = Annotated[str, Field(max_length=64), Clean]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CallIn(_Body):
    """A hotline call logged by an operator."""

    phone: Phone
    content: Text
    outcome: CallOutcome
    caller_name: Name | None = None
    township: Short | None = None
    received_at: datetime | None = None
    wants_secrecy: bool = False


class PetitionIn(_Body):
    """A 信访 petition."""

    form: PetitionForm
    petitioner_name: Name
    content: Text
    phone: Phone | None = None
    is_accusation: bool = False
    accused_unit: Short | None = None
    township: Short | None = None
    visitors: Annotated[int, Field(ge=1, le=200)] | None = None
    received_at: datetime | None = None


class MentionIn(_Body):
    """A media mention (舆情) from monitoring."""

    url: HttpUrl
    platform: Platform
    outlet: Annotated[str, Field(min_length=1, max_length=128), Clean]
    content: Text
    published_at: datetime
    title: Annotated[str, Field(max_length=200), Clean] | None = None
    reach: Annotated[int, Field(ge=0)] | None = None


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
    "from": "起始日期",
    "to": "截止日期",
    "offset": "偏移量",
}

_ENUM_CHOICES = {
    "outcome": "answered_on_spot（当场解释）或 transfer（转交有关单位办理）",
    "form": "letter（来信）、visit（来访）、fax（传真）、phone（电话）或 web（网上信访）",
    "platform": "news（新闻网站）、weibo（微博）、wechat（微信）、forum（论坛）、video（视频）或 other",
}


def chinese_error(error: dict[str, Any]) -> dict[str, str]:
    """One pydantic error → {field, message} with a message an operator can act on."""
    location = [str(part) for part in error.get("loc", ()) if part != "body"]
    field = ".".join(location) or "body"
    label = FIELD_LABELS.get(location[0], location[0]) if location else "请求体"
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
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
    elif kind == "value_error" and error.get("msg", "").endswith("day_range"):
        reason = f"超出允许范围，应在 {FIRST_DAY} 至 {LAST_DAY} 之间"
    elif kind == "value_error" and error.get("msg", "").endswith("empty"):
        reason = "不能为空（控制字符已去除）"
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
    elif kind in ("string_type", "model_type", "dict_type"):
        reason = "类型不正确"
    elif kind == "json_invalid":
        reason = "请求体不是有效的 JSON"
    else:
        reason = f"无效（{error.get('msg', kind)}）"
    return {"field": field, "message": f"{label}（{field}）{reason}"}
