"""Browser tests of the web console: the real system (tests/e2e fixtures) and Debian's chromium."""

from __future__ import annotations

from tests.e2e.conftest import start_system  # noqa: F401  (the real system, shared with the e2e tests)
