"""Run the intake API: `python -m hotline.services.intake`."""

import uvicorn

from hotline.services.intake.app import create_app
from hotline.shared.logs import configure_logging
from hotline.shared.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    configure_logging("intake")
    # loop and http stay "auto": uvloop and httptools when installed (see shared/eventloop.py).
    uvicorn.run(
        create_app(settings, settle_heap_when_warm=True),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        timeout_graceful_shutdown=3,
    )
