"""The intake service: the system's HTTP front door (FastAPI).

It stores new cases with their `received` event in one transaction and relays the event to JetStream
(outbox), and serves the read side: cases, statistics, the live feed, health and dead letters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import nats
from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from swagger_ui_bundle import swagger_ui_path

from hotline.services.intake import errors
from hotline.services.intake.case_batches import CaseBatches
from hotline.services.intake.cases import OUTBOX_SOURCE
from hotline.services.intake.limits import refuse_control_chars
from hotline.services.intake.live import FeedBroadcaster
from hotline.services.intake.reconcile import Reconciler
from hotline.services.intake.routes import router
from hotline.services.intake.routes_bulk import router as bulk_router
from hotline.services.intake.routes_calendar import router as calendar_router
from hotline.services.intake.routes_catalogue import router as catalogue_router
from hotline.services.intake.routes_linkage import router as linkage_router
from hotline.services.intake.routes_people import router as people_router
from hotline.services.intake.routes_petition_review import router as petition_review_router
from hotline.services.intake.routes_reports import router as reports_router
from hotline.services.intake.routes_review import router as review_router
from hotline.services.intake.routes_work import router as work_router
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.similar import subject_words
from hotline.shared import asyncapi, metrics, subjects
from hotline.shared.clock import Clock, ScaledClock
from hotline.shared.db import create_engine, session_factory
from hotline.shared.memory import settle_heap, trim_heap_periodically
from hotline.shared.messaging import declare_streams
from hotline.shared.outbox import OutboxRelay, jetstream_publish, jetstream_publish_many
from hotline.shared.publishing import StoredPublisher
from hotline.shared.settings import Settings

SERVICE = "intake"
PIPELINE_DURABLES = (
    subjects.CLASSIFIER_DURABLE,
    subjects.ROUTER_DURABLE,
    subjects.ESCALATION_DURABLE,
    subjects.ESCALATION_WORKFLOW_DURABLE,
    subjects.FEED_DURABLE,
)
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, *, clock: Clock | None = None, settle_heap_when_warm: bool = False) -> FastAPI:
    """The intake API. `settle_heap_when_warm`: the intake process (not a test client sharing an
    interpreter with others) freezes its heap once jieba is loaded (shared/memory.py)."""
    clock = clock or ScaledClock(scale=settings.time_scale, epoch=settings.clock_epoch)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.resolved_database_url()
        engine, read_engine = create_engine(url, pool_size=10), create_engine(url, writes=False, pool_size=10)
        nc = await nats.connect(
            settings.nats_servers, name="hotline-intake", max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        js = nc.jetstream()
        await declare_streams(js, replicas=settings.stream_replicas, scale=False)
        sessions, read_sessions = session_factory(engine), session_factory(read_engine)
        runtime = Runtime(
            settings=settings,
            clock=clock,
            engine=engine,
            read_engine=read_engine,
            sessions=sessions,
            read_sessions=read_sessions,
            nc=nc,
            js=js,
            relay=OutboxRelay(
                publish=jetstream_publish_many(StoredPublisher(nc)),
                sessions=sessions,
                read_sessions=read_sessions,
                source=OUTBOX_SOURCE,
                clock=clock,
                linger_s=0.01,
            ),
            feed=FeedBroadcaster(read_sessions),
            reconciler=Reconciler(
                sessions=sessions,
                publish=jetstream_publish(js),
                clock=clock,
                grace=timedelta(seconds=settings.reconcile_grace_s * settings.time_scale),
                interval_s=settings.reconcile_every_s,
            ),
            case_batches=CaseBatches(sessions, clock, source=OUTBOX_SOURCE),
        )
        app.state.runtime = runtime
        # jieba loads its dictionaries on first use (seconds); load them now, off the event loop, rather
        # than in the first repeat check of a caller who is on the line.
        warm_up = asyncio.get_running_loop().run_in_executor(None, subject_words, "路灯坏了请维修")
        if settle_heap_when_warm:
            warm_up.add_done_callback(lambda _: settle_heap())  # jieba's dictionary is in
        runtime.relay.start()
        runtime.reconciler.start()
        await runtime.feed.start()
        sampler = pipeline_sampler(js, runtime.read_sessions)
        sampler.start()
        trimming = asyncio.create_task(trim_heap_periodically())
        try:
            yield
        finally:
            trimming.cancel()
            warm_up.cancel()
            await sampler.stop()
            await runtime.reconciler.stop()
            await runtime.feed.stop()
            await runtime.relay.stop()
            await nc.drain()
            await engine.dispose()
            await read_engine.dispose()

    app = FastAPI(
        title="热线与舆情响应系统 API",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's own pages load Swagger UI and ReDoc from a CDN; see api_docs below
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(refuse_control_chars)],
        # FastAPI's built-in OpenTelemetry looked up the global providers on every request (2 % of
        # intake's CPU at 300 calls/s) only to find none: this system's metrics are Prometheus's.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # review_router first: its /cases/similar must win over /cases/{case_id}.
    app.include_router(review_router)
    app.include_router(bulk_router)  # before router: POST /cases/bulk
    app.include_router(router)
    app.include_router(people_router)
    app.include_router(work_router)
    app.include_router(reports_router)
    app.include_router(catalogue_router)
    app.include_router(calendar_router)
    app.include_router(linkage_router)
    app.include_router(petition_review_router)

    errors.install(app)

    app.mount("/api/docs/assets", StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="热线与舆情响应系统 API 文档",
            swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/assets/swagger-ui.css",
            swagger_favicon_url="/api/docs/assets/favicon-32x32.png",
        )

    @app.get("/api/asyncapi.json", include_in_schema=False)
    async def asyncapi_document() -> dict[str, Any]:
        """The NATS contract (subjects and event schemas), beside the HTTP one at /api/openapi.json."""
        return asyncapi.document()

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        payload, content_type = metrics.render()
        return Response(payload, media_type=content_type)

    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

        @app.get("/", include_in_schema=False)
        async def index() -> FileResponse:
            return FileResponse(STATIC / "index.html")

    return app


def pipeline_sampler(js: Any, sessions: async_sessionmaker[AsyncSession]) -> metrics.Sampler:
    """Intake's scrape shows the whole pipeline: its outbox, every stage's lag and the dead letters."""
    lags = [metrics.consumer_lag(js, subjects.CASES_STREAM, durable) for durable in PIPELINE_DURABLES]
    return metrics.Sampler([metrics.outbox_backlog(sessions, OUTBOX_SOURCE), metrics.dead_letters(sessions), *lags])
