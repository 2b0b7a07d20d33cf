"""Base classes for state machines written in Python."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class SnapshotWriter(Protocol):
    """A binary, write-only stream (the snapshot file)."""

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Appends ``data`` (any bytes-like object); returns how many bytes were written."""
        ...

    def stopped(self) -> bool:
        """True once the node is stopping: a long save should return early."""
        ...


class SnapshotReader(Protocol):
    """A binary, read-only stream; ``read()`` returns b"" at the end."""

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all the rest with -1); b"" at the end."""
        ...

    def stopped(self) -> bool:
        """True once the node is stopping: a long recovery may return early."""
        ...


class SnapshotFileCollection(Protocol):
    """Where ``save_snapshot(..., files)`` attaches external files (the
    reference's ``ISnapshotFileCollection``); valid during the save only."""

    def add_file(self, file_id: int, path: str, metadata: bytes = b"") -> None:
        """Attaches the regular file at ``path`` under ``file_id`` (unique in
        this snapshot). Its bytes are copied into the snapshot when the save
        returns (leave the file alone until then), checksummed with it,
        streamed with it to followers, and handed to
        ``recover_from_snapshot(reader, files)`` as a :class:`SnapshotFile`."""
        ...


@dataclass(frozen=True)
class SnapshotFile:
    """An external file a snapshot carries (the reference's ``SnapshotFile``).

    At recovery ``filepath`` is a scratch copy that exists while
    ``recover_from_snapshot`` runs: copy or link what you keep.
    """

    file_id: int
    filepath: str
    metadata: bytes


class Result:
    """What applying one command produced: a number and optional bytes."""

    __slots__ = {"data": "Optional bytes returned to the proposer.", "value": "A number."}
    value: int
    data: bytes

    def __init__(self, value: int = 0, data: bytes = b"") -> None:
        self.value = value
        self.data = data

    def __repr__(self) -> str:
        return f"Result(value={self.value}, data={self.data!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Result) and (self.value, self.data) == (other.value, other.data)

    __hash__ = None  # type: ignore[assignment]


class StateMachine:
    """The regular kind: all state in memory, one command per ``update``.

    ``update`` must be deterministic: the same commands in the same order must
    give the same state and results on every replica. An exception raised by
    any method stops this replica (the traceback is logged); the entry is
    never skipped. The engine calls ``update``, ``lookup`` and the snapshot
    methods one at a time.

    External snapshot files (every kind): a ``save_snapshot`` that takes one
    more parameter, ``files`` (a :class:`SnapshotFileCollection`), may attach
    files; a ``recover_from_snapshot`` that takes one more, ``files``, gets
    them as a list of :class:`SnapshotFile`. Methods without the parameter are
    called without it.
    """

    def update(self, data: bytes) -> int | Result | tuple[int, bytes]:
        """Applies one command; the return value goes back to the proposer."""
        raise NotImplementedError

    def lookup(self, query: Any) -> Any:
        """Answers a read; any Python object in and out."""
        raise NotImplementedError

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        """Writes the whole state to ``writer``."""
        raise NotImplementedError

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        """Replaces the whole state with the one read from ``reader``."""
        raise NotImplementedError

    def close(self) -> None:  # noqa: B027 - optional hook
        """Called once when the replica stops."""


class Entry:
    """One committed entry handed to a batched ``update``; set ``result``."""

    __slots__ = {
        "cmd": "The command bytes, as proposed.",
        "index": "The entry's Raft log index.",
        "result": "Set by update(): an int, a Result, or (value, data).",
    }
    index: int
    cmd: bytes

    def __init__(self, index: int, cmd: bytes) -> None:
        self.index = index
        self.cmd = cmd
        self.result: int | Result | tuple[int, bytes] = 0

    def __repr__(self) -> str:
        return f"Entry(index={self.index}, cmd={self.cmd!r}, result={self.result!r})"


class ConcurrentStateMachine:
    """The concurrent kind: batched updates; ``lookup`` may run during ``update``.

    Snapshots are two-step: ``prepare_snapshot`` runs between updates and
    returns what to save (cheaply); ``save_snapshot`` then writes it while
    updates continue.
    """

    def update(self, entries: list[Entry]) -> None:
        """Applies the batch in order, setting each entry's ``result``."""
        raise NotImplementedError

    def lookup(self, query: Any) -> Any:
        """Answers a read; may run while ``update`` runs on another thread."""
        raise NotImplementedError

    def prepare_snapshot(self) -> Any:
        """Runs between updates; returns what ``save_snapshot`` will write (take it cheaply)."""
        raise NotImplementedError

    def save_snapshot(self, context: Any, writer: SnapshotWriter) -> None:
        """Writes ``context`` (from ``prepare_snapshot``) to ``writer``; updates go on meanwhile."""
        raise NotImplementedError

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        """Replaces the whole state with the one read from ``reader``."""
        raise NotImplementedError

    def close(self) -> None:  # noqa: B027 - optional hook
        """Called once when the replica stops."""


class OnDiskStateMachine(ConcurrentStateMachine):
    """The on-disk kind: the state lives in the application's own durable store.

    ``open`` returns the index of the last entry the store holds durably;
    only later entries are replayed. ``sync`` makes applied updates durable.
    Only the no-op session may be used with it.
    """

    def open(self, stopped: Callable[[], bool]) -> int:
        """Opens the store; returns the index of the last entry it holds durably (0 if none).

        ``stopped()`` turns true once the NodeHost begins stopping (the
        reference's stop channel): a long open may then give up by raising
        :class:`dragonboat.errors.OpenStoppedError`, which ``start_cluster``
        raises. ``stopped`` is valid only during the call. An ``open(self)``
        without the parameter is called without it.
        """
        raise NotImplementedError

    def sync(self) -> None:
        """Makes every applied update durable (called before each snapshot lets the log go)."""
        raise NotImplementedError
