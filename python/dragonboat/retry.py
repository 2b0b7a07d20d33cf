"""Retrying a request that failed for a temporary reason, without applying a
command twice."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from dragonboat.errors import TemporaryError

T = TypeVar("T")


class _Session(Protocol):
    """What retry needs of a session (a :class:`dragonboat.Session`)."""

    @property
    def series_id(self) -> int: ...

    def is_noop(self) -> bool: ...


def _seconds(value: object, name: str, *, infinite: bool) -> None:
    """Checks a duration: a number of seconds, not NaN, not negative, at most
    1e9 (or infinite, if ``infinite``); a TypeError or ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not 0 <= value <= 1e9 and not (infinite and value == math.inf):  # also NaN
        shown = f", not {value!r}" if isinstance(value, float) else ""
        raise ValueError(f"{name} must be a number of seconds in [0, 1e9]"
                         f"{' or infinite' if infinite else ''}{shown}")


def retry(fn: Callable[[], T], timeout: float = 30.0, interval: float = 0.02, *,
          session: _Session | None = None, idempotent: bool = False) -> T:
    """Calls ``fn`` until it returns, again while it raises a
    :class:`~dragonboat.errors.TemporaryError` that is safe to retry; after
    ``timeout`` seconds that error is raised. Any other exception propagates
    at once.

    Which temporary errors are retried depends on what ``fn`` does:

    - by default ``fn`` is taken to propose a command through the no-op
      session (or another call that must not happen twice): only errors
      guaranteeing the command was not applied (``maybe_applied`` False:
      dropped / no leader yet, busy, a pending change) are retried. A
      :class:`~dragonboat.errors.TimeoutError` is raised at once: the
      command may still be applied, and proposing it again could apply it
      twice.
    - ``session=s``, the registered session (from ``sync_get_session``)
      ``fn`` proposes through: every temporary error is retried, timeouts
      included, because a retry with the session unchanged is applied at
      most once. ``fn`` must not advance the session: call
      ``s.proposal_completed()`` after ``retry`` returns. The no-op session
      is refused (``ValueError``); if ``fn`` changes the series between
      attempts the last error is raised instead of retried. The keyword
      names the session (not a flag) so that retry can check both.
      If ``retry`` gives up on a timeout, the command may still be applied
      and the session's series is in an unknown state: retry the same
      command later with the session unchanged, or stop using the session
      (``sync_close_session`` or a new session) -- never advance it with
      ``proposal_completed()`` for a new command.
    - ``idempotent=True``: calling ``fn`` twice is harmless -- reads
      (``sync_read``, ``read_index``, ``sync_get_cluster_membership``),
      leader lookups, polling, or a command whose second application changes
      nothing. Every temporary error is retried.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    _seconds(timeout, "timeout", infinite=True)
    _seconds(interval, "interval", infinite=False)
    if session is not None and not callable(getattr(session, "is_noop", None)):
        raise TypeError("session must be a dragonboat.Session or None, "
                        f"not {type(session).__name__}")
    if session is not None and session.is_noop():
        raise ValueError("retry(session=...) needs a registered session: the no-op session "
                         "is never deduplicated, so a retried proposal may apply twice")
    retry_all = idempotent or session is not None
    series = session.series_id if session is not None else 0
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except TemporaryError as e:
            if not retry_all and e.maybe_applied:
                raise  # it may be applied: proposing it again could apply it twice
            if session is not None and session.series_id != series:
                raise  # fn advanced the session: a retry would be a new command
            if time.monotonic() >= deadline:
                raise
            time.sleep(interval)  # back off before asking the group again
