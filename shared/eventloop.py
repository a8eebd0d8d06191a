"""The event loop every process runs on: uvloop where it is installed (Linux and macOS), asyncio's
own elsewhere.

Why: on a 2-core machine the whole pipeline's CPU per case bounds the front door. uvloop's loop and
its thread-safe wake-ups (aiosqlite hands every statement to a thread and back) cost a fraction of
asyncio's selector loop; uvicorn picks uvloop and httptools by itself when they are importable."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_name() -> str:
    """ "uvloop" or "asyncio": what `run` (and uvicorn's "auto") will use in this interpreter."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def http_parser_name() -> str:
    """ "httptools" or "h11": the HTTP/1.1 parser uvicorn's "auto" picks in this interpreter."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on uvloop when available."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    result: T = uvloop.run(main)  # typed as T whether or not this interpreter has uvloop's stubs
    return result
