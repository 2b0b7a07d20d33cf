"""A pending request's outcome: :class:`RequestState`, a future usable from
threads and from asyncio, and :data:`RequestResult`, what it completes with.

Both the completion and, with ``NodeHostConfig(notify_commit=True)``, the
earlier "committed" mark can be waited for (GIL released), called back (on the
completion dispatcher thread) or awaited (without blocking the event loop).
"""

from __future__ import annotations

import asyncio
import collections
import weakref
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from dragonboat import _check, _core
from dragonboat.errors import TimeoutError
from dragonboat.statemachine import Result

_T = TypeVar("_T")

RequestResult = _core.RequestResult
"""The outcome of a request (the reference's RequestResult): ``code``, the
predicates ``completed()``, ``timeout()``, ``terminated()``, ``rejected()``,
``dropped()``, ``aborted()``, ``get_result()``, ``snapshot_index`` and
``raise_for_outcome()``. Implemented in the extension: completion callbacks are
a busy client's hottest Python path."""


class RequestState:
    """A pending request: a future, usable from threads and from asyncio."""

    __slots__ = {"_raw": "The engine's request.", "cluster_id": "The group the request went to."}
    cluster_id: int

    def __init__(self, raw: _core.RequestState, cluster_id: int) -> None:
        self._raw = raw
        self.cluster_id = cluster_id

    def done(self) -> bool:
        """Whether the request has completed (in any way)."""
        return bool(self._raw.done())

    def wait(self, timeout: float | None = None) -> RequestResult | None:
        """Waits (GIL released) up to ``timeout`` seconds; None if still pending.

        None or an infinity waits until the request completes (it always
        does: every request has its own deadline); a negative timeout only
        polls, as ``threading.Event.wait`` does. NaN is a ``ValueError``.
        """
        return self._raw.wait(_check.wait_timeout(timeout))

    def result(self, timeout: float | None = None) -> Result:
        """The state machine's result, or the matching exception (``timeout`` as in wait)."""
        r = self.wait(timeout)
        if r is None:
            raise TimeoutError("the request is still pending")
        r.raise_for_outcome()
        return r.get_result()

    def add_done_callback(self, fn: Callable[[RequestResult], None]) -> None:
        """Calls ``fn(result)`` once, on the completion dispatcher thread.

        The dispatcher runs every waiting callback under one GIL acquisition:
        a callback should be quick (hand long work to another thread); one
        that raises is logged and does not affect the others.
        """
        self._raw.on_complete(_check.function(fn, "fn"))

    def __await__(self) -> Generator[Any, None, RequestResult]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[RequestResult] = loop.create_future()
        inbox = _LoopInbox.of(loop)
        self._raw.on_complete(lambda r: inbox.post(fut, r))
        return fut.__await__()

    # ---- the committed mark (the reference's CommittedC) --------------------------------

    def committed(self) -> bool:
        """Whether the request's log entry is known to be committed.

        With ``NodeHostConfig(notify_commit=True)`` it turns True as soon as
        this replica learns that the entry (a proposal's, a membership
        change's) is committed, before it is applied: a committed entry will
        be applied, whatever leader changes follow. Otherwise, and for
        requests without an entry of their own (reads, snapshots), it turns
        True only when the request completes with code ``completed``; a
        request that ends otherwise (timed out, dropped, ...) without having
        been marked stays False (a timed-out entry may still be committed).
        """
        return bool(self._raw.committed())

    def wait_committed(self, timeout: float | None = None) -> bool:
        """Waits (GIL released, no polling) up to ``timeout`` seconds until the
        request is marked committed or is done; then :meth:`committed`.

        True at the latest when the request completes; False on timeout or
        when the request ended otherwise (dropped, timed out, ...).
        ``timeout`` is read as in :meth:`wait` (None: no limit).
        """
        return bool(self._raw.wait_committed(_check.wait_timeout(timeout)))

    def committed_future(self) -> asyncio.Future[bool]:
        """An asyncio future of the running loop resolved with :meth:`committed`
        once the request is marked committed or is done: ``await
        rs.committed_future()``.

        Call it from a coroutine (or the loop's thread). It never blocks the
        loop: the mark reaches the loop as completions do (``await rs``), and
        before the request's completion. Cancelling it does not cancel the
        request.
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        inbox = _LoopInbox.of(loop)
        self._raw.on_committed(lambda committed: inbox.post(fut, committed))
        return fut


class _LoopInbox:
    """Completions (and committed marks) on their way to one asyncio loop.

    The dispatcher thread runs many completions per GIL acquisition; waking
    the loop (a self-pipe write) once per completion cost more than the rest
    of the request. Completions are queued here and the loop is woken only
    when the queue was idle: one wake-up per batch.
    """

    __slots__ = ("_items", "_loop", "_scheduled")
    # Keyed weakly, and the inbox holds its loop weakly too: a finished loop
    # (asyncio.run returned) is freed with its inbox.
    _by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopInbox] = (
        weakref.WeakKeyDictionary())

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)
        self._items: collections.deque[tuple[asyncio.Future[Any], Any]] = collections.deque()
        self._scheduled = False

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _LoopInbox:
        inbox = cls._by_loop.get(loop)
        if inbox is None:
            inbox = cls._by_loop[loop] = cls(loop)
        return inbox

    def post(self, fut: asyncio.Future[_T], value: _T) -> None:
        """On the dispatcher thread (GIL held)."""
        loop = self._loop()
        if loop is None or loop.is_closed():
            self._items.clear()  # nobody awaits any more: drop (also what was queued)
            return
        self._items.append((fut, value))
        if not self._scheduled:
            self._scheduled = True
            try:
                loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # closed since the check above
                self._items.clear()

    def _drain(self) -> None:
        """On the loop. Cleared before draining, so a completion queued while
        draining either is drained now or schedules the next drain."""
        self._scheduled = False
        items = self._items
        while items:
            fut, value = items.popleft()
            if not fut.done():  # a cancelled await
                fut.set_result(value)
