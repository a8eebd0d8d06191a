"""The floor for `hotline bench --mode http`: a minimal FastAPI endpoint that validates the same body
and inserts the same `cases` row into the same database, with nothing else (no login, repeat check,
outbox or events). Run as `python -m hotline.bench_bare_api` with DATABASE_URL and HOTLINE_PORT set."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import insert

from hotline.services.intake.cases import case_from_call, new_query_code
from hotline.services.intake.schemas import CallIn
from hotline.shared.clock import ScaledClock
from hotline.shared.db import CaseRow, create_engine


def create_bare_app(database_url: str) -> FastAPI:
    engine = create_engine(database_url)
    clock = ScaledClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/api/v1/calls", status_code=201)
    async def create_call(body: CallIn) -> dict[str, Any]:
        # The row intake stores (its `received` event is made too, and dropped: no outbox here).
        row, _ = case_from_call(body, clock)
        now = clock.now()
        row.update(query_code=new_query_code(), created_at=now, updated_at=now, needs_review=False)
        async with engine.begin() as connection:
            await connection.execute(insert(CaseRow), row)
        return {"id": str(row["id"]), "query_code": row["query_code"], "status": row["status"]}

    return app


if __name__ == "__main__":
    port = int(os.environ["HOTLINE_PORT"])
    uvicorn.run(create_bare_app(os.environ["DATABASE_URL"]), host="127.0.0.1", port=port, log_level="warning")
