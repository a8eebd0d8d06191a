"""The intake service: the system's HTTP front door (FastAPI).

It stores new cases with their `received` event in one transaction and relays the event to JetStream
(outbox), and serves the read side: cases, statistics, the live feed, health and dead letters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import nats
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from hotline.services.intake.cases import OUTBOX_SOURCE
from hotline.services.intake.errors import install_error_handlers
from hotline.services.intake.live import FeedBroadcaster
from hotline.services.intake.reconcile import Reconciler
from hotline.services.intake.routes import router
from hotline.services.intake.routes_calendar import router as calendar_router
from hotline.services.intake.routes_catalogue import router as catalogue_router
from hotline.services.intake.routes_people import router as people_router
from hotline.services.intake.routes_reports import router as reports_router
from hotline.services.intake.routes_review import router as review_router
from hotline.services.intake.routes_work import router as work_router
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import chinese_error
from hotline.shared.clock import Clock, ScaledClock
from hotline.shared.db import create_engine, session_factory
from hotline.shared.messaging import declare_streams
from hotline.shared.outbox import OutboxRelay, jetstream_publish
from hotline.shared.settings import Settings

SERVICE = "intake"
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    clock = clock or ScaledClock(scale=settings.time_scale, epoch=settings.clock_epoch)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.resolved_database_url()
        engine, read_engine = create_engine(url), create_engine(url, writes=False)
        nc = await nats.connect(
            settings.nats_url, name="hotline-intake", max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        js = nc.jetstream()
        await declare_streams(js)
        sessions = session_factory(engine)
        runtime = Runtime(
            settings=settings,
            clock=clock,
            engine=engine,
            read_engine=read_engine,
            sessions=sessions,
            read_sessions=session_factory(read_engine),
            nc=nc,
            js=js,
            relay=OutboxRelay(publish=jetstream_publish(js), sessions=sessions, source=OUTBOX_SOURCE, clock=clock),
            feed=FeedBroadcaster(session_factory(read_engine)),
            reconciler=Reconciler(
                sessions=sessions,
                publish=jetstream_publish(js),
                clock=clock,
                grace=timedelta(seconds=settings.reconcile_grace_s * settings.time_scale),
                interval_s=settings.reconcile_every_s,
            ),
        )
        app.state.runtime = runtime
        runtime.relay.start()
        runtime.reconciler.start()
        await runtime.feed.start()
        try:
            yield
        finally:
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
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
    )
    # review_router first: its /cases/similar must win over /cases/{case_id}.
    app.include_router(review_router)
    app.include_router(router)
    app.include_router(people_router)
    app.include_router(work_router)
    app.include_router(reports_router)
    app.include_router(catalogue_router)
    app.include_router(calendar_router)

    install_error_handlers(app)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [chinese_error(dict(error)) for error in exc.errors()]
        return JSONResponse(
            status_code=422,
            content={"message": "；".join(e["message"] for e in errors), "detail": errors},
        )

    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

        @app.get("/", include_in_schema=False)
        async def index() -> FileResponse:
            return FileResponse(STATIC / "index.html")

    return app
