"""Every service process runs its coroutine on the event loop `shared/eventloop.py` picks."""

from __future__ import annotations

import asyncio
import importlib.util

from hotline.shared import eventloop


def test_run_returns_the_coroutines_result_on_uvloop_where_installed() -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    module = eventloop.run(loop_module())
    if importlib.util.find_spec("uvloop") is not None:
        assert module.startswith("uvloop") and eventloop.loop_name() == "uvloop"
    else:
        assert module.startswith("asyncio") and eventloop.loop_name() == "asyncio"


def test_the_http_parser_named_is_the_one_uvicorn_auto_picks() -> None:
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    expected = "httptools" if AutoHTTPProtocol.__module__.endswith("httptools_impl") else "h11"
    assert eventloop.http_parser_name() == expected
