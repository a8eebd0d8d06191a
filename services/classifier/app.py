"""The classifier service: `case.v1.received` → `case.v1.classified`, in batches."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from faststream import FastStream

from hotline.services.classifier import matter_model
from hotline.services.classifier.artefact import ARTIFACTS_DIR, META_NAME
from hotline.services.classifier.classify import ClassifierParts, classify_cases, suggest
from hotline.services.classifier.misconduct_model import load_misconduct_model
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import load_severity_rules
from hotline.services.classifier.urgency import load_urgency_rules
from hotline.services.classifier.urgency_model import load_urgency_model
from hotline.shared import subjects
from hotline.shared.catalogue import current, packaged
from hotline.shared.clock import Clock, FixedClock, ScaledClock
from hotline.shared.consumer import ConsumerSpec
from hotline.shared.db import create_engine, session_factory
from hotline.shared.events import CaseReceived
from hotline.shared.messaging import BatchProcessor, Delivery, create_broker
from hotline.shared.publishing import EventPublisher
from hotline.shared.service import add_health_responder, attach_consumers
from hotline.shared.settings import Settings

SERVICE = "classifier"
log = logging.getLogger(__name__)


WARM_UP_MOMENT = datetime(2026, 1, 1, tzinfo=UTC)
WARM_UP_TEXT = "城厢镇新华路小区楼道里有煤气味，三楼老人一直不开门，请尽快派人看看。"


def warm_up(parts: ClassifierParts) -> None:
    """Classify one text before taking work: jieba loads its dictionary and every lazy table is built
    on the first call (about a second), which must not fall on the first suggestion an operator waits
    for (the banner is due within 300 ms of the last keystroke)."""
    suggest(WARM_UP_TEXT, parts, clock=FixedClock(WARM_UP_MOMENT))


def create_app(settings: Settings, *, clock: Clock | None = None, model: TopicModel | None = None) -> FastStream:
    clock = clock or ScaledClock(scale=settings.time_scale, epoch=settings.clock_epoch)
    broker = create_broker(settings, service=SERVICE)
    publisher = EventPublisher(lambda: broker.connection, subjects.CASE_CLASSIFIED)
    loaded: list[ClassifierParts] = []
    engine = create_engine(settings.resolved_database_url(), writes=False)
    sessions = session_factory(engine)

    async def reload_catalogue() -> None:
        """Use the 派单目录 version in force, as the router does (same version, same decisions)."""
        async with sessions() as session:
            fresh = await current(session)
        if loaded and fresh.version != loaded[0].catalogue.version:
            loaded[0] = replace(loaded[0], catalogue=fresh)
            log.info("classifier: 派单目录 version %s in force", fresh.version)

    async def process(deliveries: Sequence[Delivery[CaseReceived]]) -> None:
        parts = loaded[0]
        # Classification is CPU-bound (jieba + a linear model): keep the event loop free for acks.
        out = await asyncio.to_thread(classify_cases, [d.event for d in deliveries], parts, clock=clock)
        await publisher.publish(out)

    processor = BatchProcessor(
        broker=broker, decode=CaseReceived.model_validate_json, consumer=SERVICE, process=process, settings=settings
    )

    @broker.subscriber(subjects.CLASSIFY_REQUEST)
    async def classify_request(body: dict[str, Any]) -> dict[str, Any]:
        """Classify one text on request (no case, no event): the console's suggestion."""
        parts = loaded[0]
        text = str(body.get("text", ""))[:20000]
        township = str(body["township"]) if body.get("township") else None
        channel, reach = str(body.get("channel", "hotline")), body.get("reach")
        ask = partial(suggest, text, parts, clock=clock, channel=channel, reach=reach, township=township)
        return await asyncio.to_thread(ask)

    @broker.subscriber(subjects.ROUTING_UPDATED)
    async def routing_updated() -> None:
        await reload_catalogue()

    add_health_responder(
        broker,
        SERVICE,
        lambda: {
            "model_version": loaded[0].model.version if loaded else None,
            "matter_model_version": loaded[0].model.matters.version if loaded and loaded[0].model.matters else None,
        },
    )
    app = FastStream(broker)
    attach_consumers(
        app,
        settings,
        SERVICE,
        [ConsumerSpec(subjects.CASES_STREAM, subjects.CASE_RECEIVED, subjects.CLASSIFIER_DURABLE, processor)],
    )

    @app.on_startup
    async def load_model() -> None:
        parts = ClassifierParts(
            model=model if model is not None else await asyncio.to_thread(load_model_from, settings),
            severity_rules=load_severity_rules(),
            urgency_rules=load_urgency_rules(),
            catalogue=packaged(),
            urgency_model=load_urgency_model(),
            misconduct_model=load_misconduct_model(),
        )
        await asyncio.to_thread(warm_up, parts)
        loaded.append(parts)
        await reload_catalogue()

    watcher: list[asyncio.Task[None]] = []

    async def watch_model() -> None:
        """Switch to a retrained model as soon as its version appears (no restart, no lost batch)."""
        while True:
            await asyncio.sleep(settings.model_check_s)
            try:
                version = await asyncio.to_thread(artefact_version, settings.model_dir)
                if version and version != loaded_version(loaded[0].model):
                    fresh = await asyncio.to_thread(load_model_from, settings)
                    loaded[0] = replace(loaded[0], model=fresh)
                    log.info("classifier: switched to model %s", loaded_version(fresh))
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
        await engine.dispose()

    return app


def load_model_from(settings: Settings) -> TopicModel:
    """The model of HOTLINE_MODEL_DIR (or the packaged one) with HOTLINE_REVIEW_THRESHOLD applied."""
    return TopicModel.load(settings.model_dir, threshold=settings.review_threshold)


def _meta_version(path: Path) -> str | None:
    if not path.exists():
        return None
    version = json.loads(path.read_text(encoding="utf-8")).get("version")
    return str(version) if version else None


def artefact_version(model_dir: Path | None) -> str | None:
    """The topic model's version, with the learned matter model's after a "+" where there is one (a
    `hotline train --from-cases` switch changes only the latter)."""
    base = model_dir or ARTIFACTS_DIR
    topic = _meta_version(base / META_NAME)
    matters = _meta_version(base / matter_model.META_NAME)
    return f"{topic}+{matters}" if topic and matters else topic


def loaded_version(model: TopicModel) -> str:
    """What :func:`artefact_version` says for the artefacts ``model`` was loaded from."""
    return f"{model.version}+{model.matters.version}" if model.matters is not None else model.version
