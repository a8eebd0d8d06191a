"""Response models of the intake API: the published contract of every JSON answer (OpenAPI schemas).

The handlers still build plain dicts (the read side in queries.py, the task view in routes_work.py)
from what the service functions (cases.py, sorting.py, work.py) return; these models describe them.
Every model allows extra keys and the routes drop unset fields (ContractRoute), so declaring a
contract never changes a byte the console already relies on."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field


class ContractRoute(APIRoute):
    """A route that serialises exactly the keys its handler returned: optional keys (repeat_of,
    the case fields of a task) stay absent rather than appearing as null."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True
        super().__init__(path, endpoint, **kwargs)


class Out(BaseModel):
    # extra="allow": a key added to a handler reaches the console before the model catches up.
    model_config = ConfigDict(extra="allow")


Time = str  # ISO 8601 with the Beijing offset, e.g. 2026-11-28T09:00:00+08:00


# ------------------------------------------------------------------------------------------ intake


class CaseRef(Out):
    id: str
    query_code: str


class Created(Out):
    id: str = Field(description="案件编号")
    query_code: str = Field(description="查询码（群众凭此查询进度）")
    status: str
    repeat_of: str | None = Field(default=None, description="重复来电：并入的未办结案件")
    repeat_count: int | None = Field(default=None, description="重复来电次数")
    same_caller: list[CaseRef] | None = Field(default=None, description="同一来电人的其他事项")


class BulkItemResult(Out):
    index: int = Field(description="条目在请求中的序号（从 0 开始）")
    key: str | None = Field(default=None, description="客户端给出的幂等键")
    outcome: str = Field(description="created 新建 | repeat 并入重复件 | duplicate 此键已提交过 | invalid 未通过校验")
    id: str | None = Field(default=None, description="案件编号")
    query_code: str | None = None
    status: str | None = None
    repeat_of: str | None = None
    errors: list[dict[str, str]] | None = Field(default=None, description="校验错误：[{field, message}]")


class BulkCreated(Out):
    created: int = Field(description="新建案件数")
    repeats: int = Field(description="并入已有案件的重复件数")
    duplicates: int = Field(description="幂等键已提交过、未重复登记的条目数")
    invalid: int = Field(description="未通过校验的条目数")
    items: list[BulkItemResult]


# ------------------------------------------------------------------------------------------- cases


class CaseSummary(Out):
    id: str
    query_code: str
    channel: str
    channel_label: str
    status: str
    status_label: str
    topic: str | None
    subtopic: str | None
    severity: str | None
    needs_review: bool | None
    repeat_count: int | None
    unit: str | None = Field(description="承办单位编码")
    unit_name: str | None
    outcome: str | None
    received_at: Time | None
    answered_at: Time | None
    title: str | None
    excerpt: str
    urgent: bool = Field(description="紧急诉求")
    urgent_reasons: list[Any]
    urgent_lines: list[str] = Field(description="应转接的联动热线（110/119/120/122）")
    handovers: list[dict[str, Any]] = Field(description="已记录的转接")


class Deadline(Out):
    name: str
    label: str | None
    unit_of_time: str | None
    starts_at: Time | None
    due_at: Time | None
    provisional: bool = Field(description="暂定：该年度节假日安排尚未录入")
    unit: str | None
    co_unit: bool = Field(description="协办单位自己的时限")
    state: str | None
    remaining_hours: float
    remaining_seconds: int
    paused_seconds: int | None
    extended_by: str | None = Field(description="延期后的时限长度，如 5workdays")
    escalation_steps_taken: int | None
    source: str | None


class HistoryEntry(Out):
    seq: int
    kind: str
    at: Time | None
    event: dict[str, Any]


class CaseDetail(CaseSummary):
    same_caller: list[CaseSummary] = Field(description="同一来电人的其他案件")
    content: str
    public_answer: str | None
    township: str | None
    details: dict[str, Any] | None
    deadlines: list[Deadline]
    history: list[HistoryEntry]
    caller_name: str | None = Field(description="来电人姓名（脱敏）")
    phone: str | None = Field(description="联系电话（脱敏）")


NextCursor = Field(description="下一页的翻页游标（作为 cursor 传回）；null 表示已是最后一页")


class CasePage(Out):
    items: list[CaseSummary]
    limit: int
    offset: int
    next_cursor: str | None = NextCursor


class SimilarCase(CaseSummary):
    similarity: float
    public_answer: str | None


class SimilarCases(Out):
    items: list[SimilarCase]


class QueuedCase(CaseSummary):
    candidates: list[Any] = Field(description="派单目录给出的候选单位")


class ReviewQueue(Out):
    items: list[QueuedCase]
    next_cursor: str | None = NextCursor


class Contact(Out):
    name: str | None = Field(description="来电人姓名（完整）")
    phone: str | None = Field(description="联系电话（完整）")


class PublicProgress(Out):
    query_code: str
    channel: str
    status: str
    received_at: Time | None
    unit: str | None
    answered_at: Time | None
    answer: str | None = Field(description="公开答复")


class Suggestion(Out):
    """The classifier's reply (see the classify request/reply subject in the AsyncAPI document)."""

    unit: dict[str, Any] | None = Field(default=None, description="建议的承办单位（含理由）")
    reason: str | None = None


class Classified(Out):
    case_id: str
    topic: str
    subtopic: str | None
    unit: str
    matter_code: str | None = Field(default=None, description="决定派单的事项（按派单目录派单时）")
    reason: str | None = Field(default=None, description="派单理由")
    routing_version: int | None = Field(default=None, description="派单目录版本")


class Dispatched(Out):
    case_id: str
    unit: str
    unit_name: str
    event_id: str


class HandoverRecorded(Out):
    case_id: str
    handover: dict[str, Any] | None = Field(description="该热线的转接记录")
    already_recorded: bool = Field(description="同一热线已记录过，本次未新增")
    urgent: bool | None


class ReviewRecorded(Out):
    case_id: str
    kind: str
    stage: str = Field(description="复查 或 复核")


# ------------------------------------------------------------------------------------------- tasks


class Task(Out):
    id: str
    case_id: str
    unit: str
    unit_name: str | None
    co_units: list[Any] | None
    role: str
    role_label: str = Field(description="主办 或 协办")
    state: str
    state_label: str
    assigned_at: Time
    signed_at: Time | None
    answered_at: Time | None
    answer: str | None
    extension_request: dict[str, Any] | None = Field(description="延期申请（天数、理由、审批结果）")
    query_code: str | None = None
    channel: str | None = None
    topic: str | None = None
    severity: str | None = None
    excerpt: str | None = None
    received_at: Time | None = None
    urgent: bool | None = None
    urgent_lines: list[str] | None = None


class TaskList(Out):
    items: list[Task]
    next_cursor: str | None = NextCursor


# ------------------------------------------------------------------------------------ statistics


class Stats(Out):
    generated_at: Time
    period: dict[str, str | None] = Field(description="统计期间 from/to（含）")
    overall: dict[str, Any] = Field(description="计数与答复率、按时答复率、办结率、满意率等")
    trend_unit: str = Field(description="趋势的时间单位：day（按日）或 month（跨度超过一年时按月，date 为该月第一天）")
    trend: list[dict[str, Any]]
    hot_topics: list[dict[str, Any]]


class UnitWeekAccuracy(Out):
    unit_code: str
    unit_name: str
    week: str = Field(description="该周周一（北京时间）")
    week_end: str = Field(description="该周周日")
    routed: int = Field(description="首次派给该单位（主办）的诉求数")
    kept: int = Field(description="仍由该单位主办")
    returned: int = Field(description="该单位退回后改派他处")
    reassigned: int = Field(description="热线办改派他处")
    kept_rate: float | None = Field(description="派单准确率（%）= kept / routed")


class DispatchAccuracy(Out):
    period: dict[str, str | None] = Field(description="统计期间 from/to（含），按首次派单时间")
    items: list[UnitWeekAccuracy]
    limit: int
    next_cursor: str | None = Field(description="下一页的游标（cursor=）；为空表示已是最后一页")


class Health(Out):
    down: list[str] = Field(description="不可用的组件；为空时 200，否则 503")


# ------------------------------------------------------------------------------------ operations


class DeadLetter(Out):
    id: int
    subject: str
    consumer: str | None
    error: str | None
    payload: str
    created_at: Time
    replayed_at: Time | None


class DeadLetters(Out):
    pending: int | None = Field(description="仍在死信流中、尚未入库的条数；NATS 无法回答时为 null")
    items: list[DeadLetter]
    next_cursor: str | None = NextCursor


class Replayed(Out):
    id: int
    replayed_to: str = Field(description="重新发布到的主题")
    message_id: str


# ---------------------------------------------------------------------------------------- people


class Token(Out):
    access_token: str
    token_type: str
    username: str
    role: str
    unit: str | None


class LoggedOut(Out):
    revoked: bool = Field(description="令牌已作废（再次使用将返回 401）")


class Me(Out):
    username: str
    role: str
    role_label: str
    unit: str | None


class Unit(Out):
    code: str
    name: str
    kind: str


class Units(Out):
    county: str
    items: list[Unit]


class UserCreated(Out):
    username: str
    role: str
    unit: str | None


class UserEntry(Out):
    username: str
    role: str
    unit: str | None
    active: bool


class Users(Out):
    items: list[UserEntry]


class AccessEntry(Out):
    at: Time
    username: str | None
    action: str
    target: str | None
    reason: str | None


class AccessLog(Out):
    items: list[AccessEntry]
    next_cursor: str | None = NextCursor


# ------------------------------------------------------------------------------- catalogue, calendar


class RoutingTable(Out):
    version: int | None
    county: str
    units: int = Field(description="单位数")
    content: str = Field(description="county.toml 格式的派单目录")
    matter_count: int
    matters: str = Field(description="matters.toml 格式的事项目录")


class RoutingVersion(Out):
    version: int
    comment: str | None
    created_by: str | None
    created_at: Time


class RoutingVersions(Out):
    items: list[RoutingVersion]


class RoutingSaved(Out):
    version: int
    county: str
    units: int
    matter_count: int


class MatterView(Out):
    code: str
    name: str
    klass: str = Field(alias="class", description="一级分类")
    lead: str = Field(description="主办单位编码")
    lead_name: str
    assist: list[str]
    township: str
    terms: list[str]
    exclude: list[str]
    basis: str | None
    priority: int


class Matters(Out):
    version: int | None
    total: int
    items: list[MatterView]


class MatterSaved(Out):
    version: int
    matter_count: int
    matter: MatterView


class CalendarOut(Out):
    version: int | None
    covered_years: list[int] = Field(description="已完整录入节假日安排的年份")
    overrides: dict[str, bool] = Field(description="日期 → 是否工作日")
