"""Event schemas of the `case.v1.*` subjects.

Each event carries what the next stage needs (channel, receipt time, outcome, topic, severity...), so
no stage has to read another service's tables. Personal data (names, phone numbers) never travels in
events: it stays in the intake database.

Event ids are deterministic: a stage derives its output id from its input id, so a redelivered input
produces the same output id, which JetStream de-duplicates (Nats-Msg-Id) and every consumer
de-duplicates again in its own database.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

from hotline.shared.clock import as_utc

UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


class Channel(StrEnum):
    HOTLINE = "hotline"
    PETITION = "petition"
    MEDIA = "media"


class CallOutcome(StrEnum):
    ANSWERED_ON_SPOT = "answered_on_spot"
    TRANSFER = "transfer"


class PetitionForm(StrEnum):
    LETTER = "letter"
    VISIT = "visit"
    FAX = "fax"
    PHONE = "phone"
    WEB = "web"


class Platform(StrEnum):
    NEWS = "news"
    WEIBO = "weibo"
    WECHAT = "wechat"
    FORUM = "forum"
    VIDEO = "video"
    OTHER = "other"


class Severity(StrEnum):
    GENERAL = "一般"
    LARGER = "较大"
    MAJOR = "重大"
    GRAVE = "特别重大"


class EmergencyLine(StrEnum):
    """The emergency lines a 紧急诉求 is handed to through the 联动 mechanism (国办发〔2022〕12号)."""

    POLICE = "110"
    FIRE = "119"
    AMBULANCE = "120"
    TRAFFIC = "122"


class DecidedBy(StrEnum):
    """Who made a classification or routing decision: the rules and model, or a person (人工分拣, 改派)."""

    SYSTEM = "system"
    PERSON = "person"


class EscalationStep(StrEnum):
    REMIND = "提醒"
    URGE = "催办"
    OVERDUE = "超期"
    PROBLEM = "问题工单"  # returned/redone or passed among units too often: 提级督办


_EVENT_NAMESPACE = uuid.UUID("7d0c4f3e-0b7a-4c55-9a53-6f1f3c2b9e10")


def derived_event_id(source_event_id: uuid.UUID, stage: str) -> uuid.UUID:
    """The id of the event a stage emits for a given input event: the same input, the same id."""
    return uuid.uuid5(_EVENT_NAMESPACE, f"{stage}:{source_event_id}")


class CaseEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    case_id: uuid.UUID
    occurred_at: UtcDatetime
    channel: Channel
    received_at: UtcDatetime


class CaseReceived(CaseEvent):
    kind: Literal["received"] = "received"
    content: str = Field(min_length=1)
    title: str | None = None
    township: str | None = None
    outcome: CallOutcome | None = None
    petition_form: PetitionForm | None = None
    is_accusation: bool = False
    accused_unit: str | None = None
    platform: Platform | None = None
    reach: int | None = None
    # Signals for severity that only intake can see: earlier complaints linked to this one (重复来电),
    # and for media the growth of reach between successive reports of the same URL (per hour).
    repeat_count: int = Field(default=0, ge=0)
    reach_per_hour: float | None = Field(default=None, ge=0)
    # Lines the operator already handed the case to (转接, 联动) while logging it: an operator's
    # judgement that it is a 紧急诉求, whatever the rules make of the text.
    handed_over_to: list[EmergencyLine] = Field(default_factory=list)


class MatterEvidence(BaseModel):
    """A 事项 of the matter catalogue found in a case's text: its score and the terms that matched."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    score: float = Field(ge=0)  # the catalogue terms' score; 0 when only the learned model names it
    words: list[str] = Field(default_factory=list)
    probability: float | None = Field(default=None, ge=0, le=1)  # the learned matter model's, when it ran


class UnitEvidence(BaseModel):
    """A unit the learned reading of who leads gives a probability to ("town": the 属地 乡镇/街道)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    probability: float = Field(ge=0, le=1)


class RoutingCandidate(BaseModel):
    """A unit a case might belong to, offered to the person who sorts it (人工分拣)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unit_code: str
    unit_name: str
    matter: str | None = None
    score: float


class CaseClassified(CaseEvent):
    kind: Literal["classified"] = "classified"
    topic: str
    subtopic: str | None = None
    severity: Severity
    severity_reasons: list[str] = Field(default_factory=list)
    confidence: float = Field(ge=0, le=1)
    model_version: str
    needs_review: bool = False
    township: str | None = None
    village: str | None = None
    rural: bool = False  # the text places the case in a village (see places.in_village)
    outcome: CallOutcome | None = None
    is_accusation: bool = False
    accused_unit: str | None = None
    # 紧急诉求: a threat to life or safety, judged apart from topic and severity, with the words that
    # decided it and the lines (110/119/120/122) to hand it to.
    urgent: bool = False
    urgent_reasons: list[str] = Field(default_factory=list)
    urgent_lines: list[EmergencyLine] = Field(default_factory=list)
    decided_by: DecidedBy = DecidedBy.SYSTEM
    # Matters identified in the text (best first) and the 派单目录 version that identified them.
    matters: list[MatterEvidence] = Field(default_factory=list)
    catalogue_version: int | None = None
    # Officials' misconduct told in the text ("村支书+兜里"): a 检举/控告, ticked or not.
    misconduct: list[str] = Field(default_factory=list)
    # The learned reading of who leads (likeliest first), and the probability from which routing follows it.
    units: list[UnitEvidence] = Field(default_factory=list)
    units_threshold: float | None = Field(default=None, ge=0, le=1)


class CaseRouted(CaseEvent):
    kind: Literal["routed"] = "routed"
    topic: str
    severity: Severity
    unit_code: str
    unit_name: str
    co_units: list[str] = Field(default_factory=list)
    reason: str
    routing_version: int | None = None  # 派单目录 version; 0 = the table shipped with the system
    matter_code: str | None = None  # the 事项 that decided, when one did
    matter_name: str | None = None
    candidates: list[RoutingCandidate] = Field(default_factory=list)  # for 人工分拣
    urgent: bool = False
    urgent_lines: list[EmergencyLine] = Field(default_factory=list)
    decided_by: DecidedBy = DecidedBy.SYSTEM


class DeadlineInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    label: str
    starts_at: UtcDatetime
    due_at: UtcDatetime
    # 暂定: counted from the statutory holidays because the year's official arrangement is not known yet.
    provisional: bool = False


class CaseTracked(CaseEvent):
    kind: Literal["tracked"] = "tracked"
    unit_code: str
    deadlines: list[DeadlineInfo]


class CaseEscalated(CaseEvent):
    kind: Literal["escalated"] = "escalated"
    unit_code: str
    deadline: str
    step: EscalationStep
    due_at: UtcDatetime
    notify: str


class CaseAlert(CaseEvent):
    """Something the engineer on call or an administrator must act on (e.g. missing calendar data)."""

    kind: Literal["alert"] = "alert"
    code: str
    message: str


class CaseRepeated(CaseEvent):
    """The same matter came in again (same phone, or near-identical text about the same place)."""

    kind: Literal["repeated"] = "repeated"
    repeat_count: int
    matched_by: Literal["phone", "text"]
    similarity: float | None = None
    content: str


class CaseUrgent(CaseEvent):
    """A routed 紧急诉求: told at once to leadership and the unit, beside the minute-level clocks."""

    kind: Literal["urgent"] = "urgent"
    unit_code: str
    unit_name: str
    topic: str
    severity: Severity
    urgent_lines: list[EmergencyLine] = Field(default_factory=list)
    sign_due_at: UtcDatetime | None = None
    respond_due_at: UtcDatetime | None = None


class CaseHandedOver(CaseEvent):
    """A 转接 to an emergency line (联动): which line, who handed it over and when (`occurred_at`)."""

    kind: Literal["handed_over"] = "handed_over"
    line: EmergencyLine
    actor: str
    actor_role: str
    note: str | None = None


class Verdict(StrEnum):
    SATISFIED = "满意"
    BASICALLY_SATISFIED = "基本满意"
    UNSATISFIED = "不满意"


TaskActionKind = Literal[
    "signed",  # 签收
    "answered",  # 答复
    "returned",  # 退回 (outside the unit's remit)
    "extension_requested",  # 申请延期
    "extension_decided",  # 延期审批
    "paused",  # 挂起
    "resumed",  # 恢复办理
    "visited",  # 回访
    "closed",  # 办结
    # 信访 复查/复核 (信访工作条例 第三十五、三十六条): the petitioner's request and the organ's opinion.
    "review_requested",
    "review_answered",
    "recheck_requested",
    "recheck_answered",
]


class CaseActed(CaseEvent):
    """A person acted on a case's task: who, what, why. The kind names the step (and the subject)."""

    kind: TaskActionKind
    task_id: uuid.UUID
    unit_code: str
    actor: str
    actor_role: str
    note: str | None = None
    extension_days: int | None = None
    approved: bool | None = None
    verdict: Verdict | None = None


AnyCaseEvent = (
    CaseReceived
    | CaseClassified
    | CaseRouted
    | CaseTracked
    | CaseEscalated
    | CaseActed
    | CaseAlert
    | CaseRepeated
    | CaseUrgent
    | CaseHandedOver
)

# Decodes any case event by its `kind` (for consumers of `case.v1.>`). Tagged by `kind`, pydantic reads
# the one model the tag names (3–7 µs an event) instead of trying the members in turn (50–65 µs: a
# quarter of the feed service's CPU).
ANY_CASE_EVENT: TypeAdapter[AnyCaseEvent] = TypeAdapter(Annotated[AnyCaseEvent, Field(discriminator="kind")])
