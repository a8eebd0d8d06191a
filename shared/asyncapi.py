"""The NATS contract as an AsyncAPI 3.0 document: every subject of shared/subjects.py with the pydantic
schema of what travels on it (shared/events.py), who sends it and who receives it.

Built from the code, never written by hand, so the document cannot drift from the subjects and the
events; intake serves it at /api/asyncapi.json and `hotline asyncapi` prints it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hotline.shared import subjects
from hotline.shared.events import (
    CaseActed,
    CaseAlert,
    CaseClassified,
    CaseEscalated,
    CaseHandedOver,
    CaseReceived,
    CaseRepeated,
    CaseRouted,
    CaseTracked,
    CaseUrgent,
    TaskActionKind,
)

REF = "#/components/schemas/{model}"
EVENT_MODELS: tuple[type[BaseModel], ...] = (
    CaseReceived,
    CaseClassified,
    CaseRouted,
    CaseTracked,
    CaseEscalated,
    CaseAlert,
    CaseRepeated,
    CaseUrgent,
    CaseHandedOver,
    CaseActed,
)
# Payloads that are not events: plain JSON of the request/reply subjects and the reload signals.
PLAIN_SCHEMAS: dict[str, dict[str, Any]] = {
    "ClassifyRequest": {
        "type": "object",
        "description": "话务员录入时请求分类建议（不建案件、不发事件）",
        "properties": {
            "text": {"type": "string", "maxLength": 20000},
            "channel": {"type": "string", "enum": ["hotline", "petition", "media"]},
            "reach": {"type": ["integer", "null"], "minimum": 0},
            "township": {"type": ["string", "null"]},
        },
        "required": ["text"],
    },
    "ClassifyReply": {
        "type": "object",
        "description": "分类建议：主题、严重程度、紧急诉求与建议的承办单位",
        "additionalProperties": True,
    },
    "HealthReply": {
        "type": "object",
        "description": "服务健康状况（各服务自报的附加信息）",
        "additionalProperties": True,
    },
    "Empty": {"type": "string", "maxLength": 0, "description": "空消息体"},
    "VersionNumber": {"type": "string", "pattern": "^[0-9]+$", "description": "新保存的版本号（十进制文本）"},
    "DeadLetterPayload": {
        "description": "原消息的原样字节（通常是原主题上的事件 JSON）；原主题、消费者和错误见消息头",
    },
    "DeadLetterHeaders": {
        "type": "object",
        "properties": {
            "Hotline-Original-Subject": {"type": "string"},
            "Hotline-Consumer": {"type": "string"},
            "Hotline-Error": {"type": "string", "maxLength": 1000},
            "Hotline-Stream-Seq": {"type": "string", "pattern": "^[0-9]+$"},
            "Nats-Msg-Id": {"type": "string"},
        },
        "required": ["Hotline-Original-Subject", "Hotline-Consumer", "Hotline-Error"],
    },
    "EventHeaders": {
        "type": "object",
        "description": "Nats-Msg-Id 为事件编号：JetStream 据此去重，消费者据此幂等",
        "properties": {"Nats-Msg-Id": {"type": "string"}},
    },
}
SERVICES = ("intake", *subjects.SERVICES)


@dataclass(frozen=True)
class Channel:
    """One subject (or subject pattern with {parameters}) and its messages."""

    key: str
    address: str
    messages: tuple[str, ...]
    description: str
    senders: tuple[str, ...]
    receivers: tuple[str, ...]
    parameters: dict[str, str] = field(default_factory=dict)
    reply: str | None = None  # the message answered on the request's reply inbox
    stream: str | None = None
    headers: str = "EventHeaders"


def _case(name: str, model: str, description: str, senders: tuple[str, ...], receivers: tuple[str, ...]) -> Channel:
    return Channel(
        key=name,
        address=f"case.v1.{name}",
        messages=(model,),
        description=description,
        senders=senders,
        receivers=receivers,
        stream=subjects.CASES_STREAM,
    )


def _notify(key: str, address: str, messages: tuple[str, ...], description: str, **parameters: str) -> Channel:
    """A notification the escalation service sends on the notify stream (the feed shows it)."""
    return Channel(
        key=key,
        address=address,
        messages=messages,
        description=description,
        senders=("escalation",),
        receivers=("feed",),
        parameters=parameters,
        stream=subjects.NOTIFY_STREAM,
    )


def _from_intake(
    key: str,
    address: str,
    messages: tuple[str, ...],
    description: str,
    receivers: tuple[str, ...],
    reply: str | None = None,
    **parameters: str,
) -> Channel:
    """A core-NATS message intake sends: a request answered with ``reply`` on the requester's inbox, or
    word that an admin saved a new version of a table (its receivers reload it)."""
    return Channel(
        key=key,
        address=address,
        messages=messages,
        description=description,
        senders=("intake",),
        receivers=receivers,
        parameters=parameters,
        reply=reply,
    )


def channels() -> list[Channel]:
    feed = ("feed",)
    found = [
        _case("received", "CaseReceived", "受理：新案件（热线、信访、舆情）", ("intake",), ("classifier", *feed)),
        _case("classified", "CaseClassified", "已分类（模型或人工分拣）", ("classifier", "intake"), ("router", *feed)),
        _case("routed", "CaseRouted", "已派单（派单目录或派单员）", ("router", "intake"), ("escalation", *feed)),
        _case("tracked", "CaseTracked", "时限已建立", ("escalation",), feed),
        _case("escalated", "CaseEscalated", "时限提醒、预警、超期", ("escalation",), feed),
        _case("alert", "CaseAlert", "需要值班或管理员处理的告警", ("escalation", "router", "classifier"), feed),
        _case("repeated", "CaseRepeated", "重复来电，并入未办结案件", ("intake",), feed),
        _case("urgent", "CaseUrgent", "紧急诉求已派单", ("escalation",), feed),
        _case("handed_over", "CaseHandedOver", "已转接 110/119/120/122（联动）", ("intake",), feed),
    ]
    clock_steps = set(subjects.CLOCK_STEPS)
    for kind in get_args(TaskActionKind):
        address = subjects.case_subject(kind)
        receivers = ("escalation", *feed) if address in clock_steps else feed
        found.append(_case(kind, "CaseActed", f"承办环节：{kind}", ("intake",), receivers))
    found += [
        _notify("notify-leadership", subjects.NOTIFY_LEADERSHIP, ("CaseEscalated",), "超期督办：通知领导"),
        _notify("notify-urgent", subjects.NOTIFY_URGENT, ("CaseUrgent",), "紧急诉求：立即通知领导"),
        _notify(
            "notify-unit",
            subjects.notify_unit_subject("{unit_code}"),
            ("CaseEscalated", "CaseUrgent"),
            "承办单位收件：每一步时限提醒与紧急诉求",
            unit_code="承办单位编码（见派单目录）",
        ),
        Channel(
            key="deadletter",
            address=subjects.deadletter_subject("{original_subject}"),
            messages=("DeadLetterPayload",),
            description="无法处理的消息：原样停放，查明原因后可重放（/api/v1/dead-letters）",
            senders=SERVICES,
            receivers=feed,
            parameters={"original_subject": "原消息的主题，如 case.v1.received"},
            stream=subjects.DEADLETTER_STREAM,
            headers="DeadLetterHeaders",
        ),
        _from_intake(
            "classify",
            subjects.CLASSIFY_REQUEST,
            ("ClassifyRequest",),
            "请求/应答：即时分类建议（核心 NATS，不持久化）",
            ("classifier",),
            reply="ClassifyReply",
        ),
        _from_intake(
            "routing-updated",
            subjects.ROUTING_UPDATED,
            ("VersionNumber",),
            "管理员保存了新版派单目录；各服务重新加载",
            ("classifier", "router"),
        ),
        _from_intake(
            "calendar-updated",
            subjects.CALENDAR_UPDATED,
            ("VersionNumber",),
            "管理员保存了工作日调整表；时限服务重新加载",
            ("escalation",),
        ),
        _from_intake(
            "health",
            subjects.health_subject("{service}"),
            ("Empty",),
            "请求/应答：服务健康检查",
            subjects.SERVICES,
            reply="HealthReply",
            service="服务名：" + "、".join(subjects.SERVICES),
        ),
    ]
    return found


def schemas() -> dict[str, Any]:
    """JSON Schemas of every payload, nested models under their own names."""
    _, top = models_json_schema([(model, "serialization") for model in EVENT_MODELS], ref_template=REF)
    defs: dict[str, Any] = dict(top.get("$defs", {}))
    return {**defs, **PLAIN_SCHEMAS}


def _message(name: str, headers: str) -> dict[str, Any]:
    return {
        "name": name,
        "contentType": "application/json",
        "payload": {"$ref": REF.format(model=name)},
        "headers": {"$ref": REF.format(model=headers)},
    }


def document(version: str = "1") -> dict[str, Any]:
    found = channels()
    messages: dict[str, Any] = {}
    out_channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel in found:
        names = (*channel.messages, *((channel.reply,) if channel.reply else ()))
        for name in names:
            messages.setdefault(name, _message(name, channel.headers if name in channel.messages else "EventHeaders"))
        body: dict[str, Any] = {
            "address": channel.address,
            "description": channel.description,
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in channel.messages},
        }
        if channel.parameters:
            body["parameters"] = {key: {"description": text} for key, text in channel.parameters.items()}
        if channel.stream:
            body["x-jetstream-stream"] = channel.stream
        out_channels[channel.key] = body
        ref = {"$ref": f"#/channels/{channel.key}"}
        for action, who in (("send", channel.senders), ("receive", channel.receivers)):
            operation: dict[str, Any] = {"action": action, "channel": ref, "x-services": list(who)}
            if channel.reply and action == "send":
                reply_channel = f"{channel.key}-reply"
                out_channels[reply_channel] = {
                    "address": None,  # the requester's inbox, chosen per request
                    "messages": {channel.reply: {"$ref": f"#/components/messages/{channel.reply}"}},
                }
                operation["reply"] = {"channel": {"$ref": f"#/channels/{reply_channel}"}}
            operations[f"{action}-{channel.key}"] = operation
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "热线与舆情响应系统 NATS 消息",
            "version": version,
            "description": (
                "服务之间的主题与事件格式。case.v1.* 与 notify.v1.* 存于 JetStream（至少一次投递，"
                "按 Nats-Msg-Id 去重、幂等处理）；hotline.v1.* 为核心 NATS 请求/应答与通知。"
            ),
        },
        "defaultContentType": "application/json",
        "servers": {"nats": {"host": "localhost:4222", "protocol": "nats"}},
        "channels": out_channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas()},
        "x-jetstream": {
            "streams": {
                subjects.CASES_STREAM: list(subjects.CASES_SUBJECTS),
                subjects.NOTIFY_STREAM: list(subjects.NOTIFY_SUBJECTS),
                subjects.DEADLETTER_STREAM: list(subjects.DEADLETTER_SUBJECTS),
            },
            "all_case_events": subjects.CASE_ALL,
            "durable_consumers": {
                "classifier": [subjects.CLASSIFIER_DURABLE],
                "router": [subjects.ROUTER_DURABLE],
                "escalation": [subjects.ESCALATION_DURABLE, subjects.ESCALATION_WORKFLOW_DURABLE],
                "feed": [subjects.FEED_DURABLE, subjects.FEED_DEADLETTER_DURABLE],
            },
        },
    }
