"""The classifier service: `case.v1.received` → `case.v1.classified`, in batches."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream import FastStream

from hotline.services.classifier.artefact import ARTIFACTS_DIR, META_NAME
from hotline.services.classifier.classify import classify_cases, suggest
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import SeverityRules, load_severity_rules
from hotline.services.classifier.urgency import UrgencyRules, load_urgency_rules
from hotline.services.classifier.urgency_model import UrgencyModel, load_urgency_model
from hotline.shared import subjects
from hotline.shared.clock import Clock, ScaledClock
from hotline.shared.consumer import ConsumerSpec
from hotline.shared.domain.county import County, load_county
from hotline.shared.events import CaseClassified, CaseReceived
from hotline.shared.messaging import (
    CASES_STREAM,
    MSG_ID_HEADER,
    BatchProcessor,
    Delivery,
    create_broker,
)
from hotline.shared.service import add_health_responder, attach_consumers
from hotline.shared.settings import Settings

SERVICE = "classifier"
log = logging.getLogger(__name__)


@dataclass
class Loaded:
    model: TopicModel
    severity_rules: SeverityRules
    county: County
    urgency_rules: UrgencyRules
    urgency_model: UrgencyModel | None = None


WARM_UP_TEXT = "城厢镇新华路小区楼道里有煤气味，三楼老人一直不开门，请尽快派人看看。"


def warm_up(parts: Loaded) -> None:
    """Classify one text before taking work: jieba loads its dictionary and every lazy table is built
    on the first call (about a second), which must not fall on the first suggestion an operator waits
    for (the banner is due within 300 ms of the last keystroke)."""
    suggest(
        WARM_UP_TEXT,
        channel="hotline",
        reach=None,
        model=parts.model,
        severity_rules=parts.severity_rules,
        county=parts.county,
        urgency_rules=parts.urgency_rules,
        urgency_model=parts.urgency_model,
    )


def create_app(settings: Settings, *, clock: Clock | None = None, model: TopicModel | None = None) -> FastStream:
    clock = clock or ScaledClock(scale=settings.time_scale, epoch=settings.clock_epoch)
    broker = create_broker(settings, service=SERVICE)
    publisher = broker.publisher(subjects.CASE_CLASSIFIED, stream=CASES_STREAM, schema=CaseClassified)
    loaded: list[Loaded] = []

    async def process(deliveries: Sequence[Delivery[CaseReceived]]) -> None:
        parts = loaded[0]
        # Classification is CPU-bound (jieba + a linear model): keep the event loop free for acks.
        out = await asyncio.to_thread(
            classify_cases,
            [d.event for d in deliveries],
            model=parts.model,
            severity_rules=parts.severity_rules,
            county=parts.county,
            clock=clock,
            urgency_rules=parts.urgency_rules,
            urgency_model=parts.urgency_model,
        )
        await asyncio.gather(*(publisher.publish(event, headers={MSG_ID_HEADER: str(event.event_id)}) for event in out))

    processor = BatchProcessor(
        broker=broker, decode=CaseReceived.model_validate_json, consumer=SERVICE, process=process, settings=settings
    )

    @broker.subscriber(subjects.CLASSIFY_REQUEST)
    async def classify_request(body: dict[str, Any]) -> dict[str, Any]:
        """Classify one text on request (no case, no event): the console's suggestion."""
        parts = loaded[0]
        text = str(body.get("text", ""))[:20000]
        return await asyncio.to_thread(
            suggest,
            text,
            channel=str(body.get("channel", "hotline")),
            reach=body.get("reach"),
            model=parts.model,
            severity_rules=parts.severity_rules,
            county=parts.county,
            urgency_rules=parts.urgency_rules,
            urgency_model=parts.urgency_model,
        )

    add_health_responder(broker, SERVICE, lambda: {"model_version": loaded[0].model.version if loaded else None})
    app = FastStream(broker)
    attach_consumers(
        app,
        settings,
        SERVICE,
        [ConsumerSpec(subjects.CASES_STREAM, subjects.CASE_RECEIVED, subjects.CLASSIFIER_DURABLE, processor)],
    )

    @app.on_startup
    async def load_model() -> None:
        parts = Loaded(
            model=model if model is not None else await asyncio.to_thread(load_model_from, settings),
            severity_rules=load_severity_rules(),
            county=load_county(),
            urgency_rules=load_urgency_rules(),
            urgency_model=load_urgency_model(),
        )
        await asyncio.to_thread(warm_up, parts)
        loaded.append(parts)

    watcher: list[asyncio.Task[None]] = []

    async def watch_model() -> None:
        """Switch to a retrained model as soon as its version appears (no restart, no lost batch)."""
        while True:
            await asyncio.sleep(settings.model_check_s)
            try:
                version = await asyncio.to_thread(artefact_version, settings.model_dir)
                if version and version != loaded[0].model.version:
                    fresh = await asyncio.to_thread(load_model_from, settings)
                    loaded[0] = Loaded(
                        fresh,
                        loaded[0].severity_rules,
                        loaded[0].county,
                        loaded[0].urgency_rules,
                        loaded[0].urgency_model,
                    )
                    log.info("classifier: switched to model %s", fresh.version)
            except Exception:
                log.exception("classifier: could not load the new model; keeping %s", loaded[0].model.version)

    @app.after_startup
    async def start_watching() -> None:
        if model is None:
            watcher.append(asyncio.create_task(watch_model(), name="model-watcher"))

    @app.on_shutdown
    async def stop_watching() -> None:
        for task in watcher:
            task.cancel()

    return app


def load_model_from(settings: Settings) -> TopicModel:
    """The model of HOTLINE_MODEL_DIR (or the packaged one) with HOTLINE_REVIEW_THRESHOLD applied."""
    return TopicModel.load(settings.model_dir, threshold=settings.review_threshold)


def artefact_version(model_dir: Path | None) -> str | None:
    meta = (model_dir or ARTIFACTS_DIR) / META_NAME
    if not meta.exists():
        return None
    version = json.loads(meta.read_text(encoding="utf-8")).get("version")
    return str(version) if version else None
