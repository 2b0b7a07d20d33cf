"""Checker state machines: replicated state that makes engine bugs visible.

A checker is deliberately *not* idempotent. Its state is ``count`` (commands
applied so far), ``hash`` (a running FNV-1a 64-bit hash) and ``applied``
(command bytes -> times applied). Applying a command increments ``count``,
then feeds the 8 bytes of the new ``count`` (little-endian) and the command
bytes into the hash. A double apply, a skipped or reordered entry, or a
snapshot whose state is not the state at its index therefore shows as a
different ``count`` or ``hash`` than the other replicas have at the same
``count``.

The protocol is shared with the C++ checker plugin (``tests/cpp/checker_sm.h``):

- ``update`` returns the ``count`` after the command as the result value;
- ``lookup(b"state")`` -> ``b"<count> <hash> <distinct>"`` (decimal;
  ``distinct`` is the number of different commands applied);
- ``lookup(b"applied:" + cmd)`` -> ``b"<times>"`` (``b"0"`` if never);
- ``get_hash()`` returns the running hash (the reference's ``IHash``).

Queries may be ``bytes`` or ``str``; answers are ``bytes`` (an unknown query
answers ``b""``). Three classes cover the three kinds: :class:`Checker`
(regular), :class:`ConcurrentChecker` and :class:`OnDiskChecker`. Each takes
``save_delay`` (seconds slept inside ``save_snapshot``) to make snapshot saves
slow, which is what exposes an engine that lets updates run during the save
of a regular state machine.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from dragonboat import _core
from dragonboat.statemachine import (
    ConcurrentStateMachine,
    Entry,
    OnDiskStateMachine,
    SnapshotReader,
    SnapshotWriter,
    StateMachine,
)

FNV_OFFSET: int = 0xCBF29CE484222325
"""The FNV-1a 64-bit offset basis: the hash of an empty checker."""

FNV_PRIME: int = 0x100000001B3
"""The FNV-1a 64-bit prime."""

_HEADER = struct.Struct("<QQQQ")  # count, hash, index, number of distinct commands
_LEN = struct.Struct("<I")
_TIMES = struct.Struct("<Q")
_STATE_FILE = "checker.state"


def fnv1a64(data: bytes, h: int = FNV_OFFSET) -> int:
    """Feeds ``data`` into the FNV-1a 64-bit hash ``h`` and returns the new hash.

    Computed in C++ (``dragonboat._core.fnv1a64``): a Python loop over the
    bytes of every applied command would make the checker the bottleneck.
    """
    return _core.fnv1a64(bytes(data), h)


def parse_state(answer: bytes | str) -> tuple[int, int, int]:
    """Parses the answer to a ``b"state"`` lookup into ``(count, hash, distinct)``."""
    text = answer.decode() if isinstance(answer, bytes) else answer
    count, h, distinct = text.split()
    return int(count), int(h), int(distinct)


class CheckerState:
    """The state every checker kind shares, and its snapshot encoding.

    The encoding is the C++ checker's: little-endian ``[u64 count][u64 hash]
    [u64 index][u64 n]`` then ``n`` times ``[u32 len][cmd][u64 times]``.
    """

    __slots__ = {
        "applied": "Command bytes -> how many times it was applied.",
        "count": "How many commands were applied.",
        "hash": "The running FNV-1a 64-bit hash.",
        "index": "The Raft index of the last applied entry (batched kinds; 0 otherwise).",
    }

    def __init__(self) -> None:
        self.count = 0
        self.hash = FNV_OFFSET
        self.index = 0
        self.applied: dict[bytes, int] = {}

    def apply(self, cmd: bytes) -> int:
        """Applies one command; returns the new ``count``."""
        self.count += 1
        self.hash = _core.fnv1a64(self.count.to_bytes(8, "little") + cmd, self.hash)
        self.applied[cmd] = self.applied.get(cmd, 0) + 1
        return self.count

    def lookup(self, query: Any) -> bytes:
        """Answers ``state`` and ``applied:<cmd>`` queries (bytes or str); b"" otherwise."""
        q = query.encode() if isinstance(query, str) else bytes(query)
        if q == b"state":
            return f"{self.count} {self.hash} {len(self.applied)}".encode()
        if q.startswith(b"applied:"):
            return str(self.applied.get(q[len(b"applied:"):], 0)).encode()
        return b""

    def copy(self) -> CheckerState:
        """An independent copy (later updates of either do not affect the other)."""
        c = CheckerState()
        c.count, c.hash, c.index = self.count, self.hash, self.index
        c.applied = dict(self.applied)
        return c

    def encode(self) -> bytes:
        """The snapshot bytes of this state."""
        parts = [_HEADER.pack(self.count, self.hash, self.index, len(self.applied))]
        for cmd, times in self.applied.items():
            parts.append(_LEN.pack(len(cmd)))
            parts.append(cmd)
            parts.append(_TIMES.pack(times))
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes) -> CheckerState:
        """The state encoded in ``data``; ValueError when it is malformed."""
        if len(data) < _HEADER.size:
            raise ValueError("checker: snapshot too short")
        s = cls()
        s.count, s.hash, s.index, n = _HEADER.unpack_from(data, 0)
        p = _HEADER.size
        for _ in range(n):
            if len(data) - p < _LEN.size:
                raise ValueError("checker: truncated snapshot")
            (length,) = _LEN.unpack_from(data, p)
            p += _LEN.size
            if len(data) - p < length + _TIMES.size:
                raise ValueError("checker: truncated snapshot")
            cmd = data[p:p + length]
            p += length
            (times,) = _TIMES.unpack_from(data, p)
            p += _TIMES.size
            s.applied[cmd] = times
        if p != len(data):
            raise ValueError("checker: trailing bytes in snapshot")
        return s

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CheckerState) and (
            (self.count, self.hash, self.index, self.applied)
            == (other.count, other.hash, other.index, other.applied))

    __hash__ = None  # type: ignore[assignment]


def _read_all(reader: SnapshotReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = reader.read(1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _slow_down(delay: float, writer: SnapshotWriter) -> None:
    """Sleeps ``delay`` seconds, or less when the node stops meanwhile."""
    deadline = time.monotonic() + delay
    while not writer.stopped():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.02))  # a slow save, by design (see save_delay)


class _CheckerBase:
    """What every kind shares: the state, its properties, lookups and the hash."""

    def __init__(self, save_delay: float) -> None:
        if save_delay < 0:
            raise ValueError("save_delay must not be negative")
        self.save_delay = save_delay
        self._state = CheckerState()
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        """How many commands were applied."""
        return self._state.count

    @property
    def hash(self) -> int:
        """The running FNV-1a 64-bit hash."""
        return self._state.hash

    @property
    def applied(self) -> dict[bytes, int]:
        """A copy of command bytes -> times applied."""
        with self._lock:
            return dict(self._state.applied)

    def get_hash(self) -> int:
        """The running hash (the reference's ``IHash``)."""
        return self._state.hash

    def lookup(self, query: Any) -> bytes:
        """``b"state"`` -> ``b"<count> <hash> <distinct>"``; ``b"applied:<cmd>"`` -> times."""
        with self._lock:
            return self._state.lookup(query)


class Checker(_CheckerBase, StateMachine):
    """The regular kind: one command per ``update``.

    ``save_snapshot`` sleeps ``save_delay`` seconds *before* it reads the
    state: the engine must not apply anything meanwhile, so a snapshot that
    holds state newer than its index is a visible engine bug.
    """

    def __init__(self, save_delay: float = 0.0) -> None:
        super().__init__(save_delay)

    def update(self, data: bytes) -> int:
        """Applies one command; returns the new count."""
        with self._lock:
            return self._state.apply(bytes(data))

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        """Waits ``save_delay`` seconds, then writes the state."""
        if self.save_delay:
            _slow_down(self.save_delay, writer)
        with self._lock:
            data = self._state.encode()
        writer.write(data)

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        """Replaces the state with the snapshot's."""
        state = CheckerState.decode(_read_all(reader))
        with self._lock:
            self._state = state


class ConcurrentChecker(_CheckerBase, ConcurrentStateMachine):
    """The concurrent kind: ``prepare_snapshot`` takes a real copy of the state,
    since updates continue while ``save_snapshot`` writes it."""

    def __init__(self, save_delay: float = 0.0) -> None:
        super().__init__(save_delay)

    def update(self, entries: list[Entry]) -> None:
        """Applies the batch in order; each entry's result is the new count."""
        with self._lock:
            for e in entries:
                e.result = self._state.apply(bytes(e.cmd))
                self._state.index = e.index

    def prepare_snapshot(self) -> Any:
        """A copy of the state, taken between updates."""
        with self._lock:
            return self._state.copy()

    def save_snapshot(self, context: Any, writer: SnapshotWriter) -> None:
        """Waits ``save_delay`` seconds, then writes the copy ``prepare_snapshot`` took."""
        if self.save_delay:
            _slow_down(self.save_delay, writer)
        assert isinstance(context, CheckerState)
        writer.write(context.encode())

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        """Replaces the state with the snapshot's."""
        state = CheckerState.decode(_read_all(reader))
        with self._lock:
            self._state = state


class OnDiskChecker(ConcurrentChecker, OnDiskStateMachine):
    """The on-disk kind: the state lives in ``directory``/checker.state.

    ``sync`` writes ``(index, count, hash, applied)`` durably (temporary file,
    fsync, rename, fsync of the directory); ``open`` loads it and returns its
    index (0 when there is none). Updates applied after the last ``sync`` are
    lost by a crash and replayed by the engine.
    """

    def __init__(self, directory: str, save_delay: float = 0.0) -> None:
        super().__init__(save_delay)
        self.directory = directory
        self._file_lock = threading.Lock()

    @property
    def index(self) -> int:
        """The Raft index of the last applied entry."""
        return self._state.index

    def open(self, stopped: Callable[[], bool]) -> int:
        """Loads the durable state; returns its index (0 if none). Quick: it
        does not poll ``stopped``."""
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, _STATE_FILE)
        state = CheckerState()
        if os.path.exists(path):
            with open(path, "rb") as f:
                state = CheckerState.decode(f.read())
        with self._lock:
            self._state = state
            return state.index

    def sync(self) -> None:
        """Makes every applied update durable."""
        with self._lock:
            data = self._state.encode()
        self._persist(data)

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        """Replaces the state with the snapshot's and makes it durable."""
        state = CheckerState.decode(_read_all(reader))
        with self._lock:
            self._state = state
        self._persist(state.encode())

    def _persist(self, data: bytes) -> None:
        with self._file_lock:
            os.makedirs(self.directory, exist_ok=True)
            path = os.path.join(self.directory, _STATE_FILE)
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


__all__ = [
    "FNV_OFFSET",
    "FNV_PRIME",
    "Checker",
    "CheckerState",
    "ConcurrentChecker",
    "OnDiskChecker",
    "fnv1a64",
    "parse_state",
]
