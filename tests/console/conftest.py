"""Browser tests of the web console: the real system (tests/e2e fixtures) and Debian's chromium."""

from __future__ import annotations

# The real system, as the e2e tests start it: of its own, or one per module (`shared_system`).
from tests.e2e.conftest import pytest_generate_tests, shared_system, start_system  # noqa: F401
