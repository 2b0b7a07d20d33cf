"""Retrying a request that failed for a temporary reason."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from dragonboat.errors import TemporaryError

T = TypeVar("T")


def retry(fn: Callable[[], T], timeout: float = 30.0, interval: float = 0.02) -> T:
    """Calls ``fn`` until it returns, again while it raises a
    :class:`~dragonboat.errors.TemporaryError` (no leader yet, busy, a
    timeout, ...); after ``timeout`` seconds that error is raised. Any other
    exception propagates at once.

    A proposal that timed out may still be applied: retry proposals with a
    registered session (applied at most once) or make them idempotent.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except TemporaryError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(interval)  # back off before asking the group again
