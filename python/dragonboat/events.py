"""Event listeners: what they receive and how to write one.

Set ``NodeHostConfig.raft_event_listener`` / ``system_event_listener`` to
objects implementing any of the methods below. They are called in order on
one NodeHost thread (never an engine thread), with the GIL; a slow listener
delays only later events. An exception in a listener is logged and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LeaderInfo:
    cluster_id: int
    node_id: int
    term: int
    leader_id: int


@dataclass(frozen=True)
class NodeInfo:
    cluster_id: int
    node_id: int


@dataclass(frozen=True)
class SnapshotInfo:
    cluster_id: int
    node_id: int
    from_node: int
    index: int


@dataclass(frozen=True)
class EntryInfo:
    cluster_id: int
    node_id: int
    index: int


@dataclass(frozen=True)
class ConnectionInfo:
    address: str
    snapshot_connection: bool


class RaftEventListener:
    """Override ``leader_updated``."""

    def leader_updated(self, info: LeaderInfo) -> None:  # noqa: B027 - optional hook
        """The leader (or term) of a group changed, as one local replica sees it."""


class SystemEventListener:
    """Override the events you need; the others do nothing."""

    def node_ready(self, info: NodeInfo) -> None:  # noqa: B027
        """A replica started (or restarted) on this host."""

    def node_unloaded(self, info: NodeInfo) -> None:  # noqa: B027
        """A replica stopped on this host."""

    def membership_changed(self, info: NodeInfo) -> None:  # noqa: B027
        """A replica applied a membership change."""

    def connection_established(self, info: ConnectionInfo) -> None:  # noqa: B027
        """A connection to another NodeHost is up."""

    def connection_failed(self, info: ConnectionInfo) -> None:  # noqa: B027
        """A connection attempt to another NodeHost failed."""

    def send_snapshot_started(self, info: SnapshotInfo) -> None:  # noqa: B027
        """Streaming a snapshot to a lagging follower began."""

    def send_snapshot_completed(self, info: SnapshotInfo) -> None:  # noqa: B027
        """A snapshot reached its follower."""

    def send_snapshot_aborted(self, info: SnapshotInfo) -> None:  # noqa: B027
        """Streaming a snapshot failed or was cancelled."""

    def snapshot_received(self, info: SnapshotInfo) -> None:  # noqa: B027
        """A streamed snapshot was received and verified."""

    def snapshot_recovered(self, info: SnapshotInfo) -> None:  # noqa: B027
        """A state machine was recovered from a snapshot."""

    def snapshot_created(self, info: SnapshotInfo) -> None:  # noqa: B027
        """A replica saved a snapshot."""

    def snapshot_compacted(self, info: SnapshotInfo) -> None:  # noqa: B027
        """Older snapshots were removed."""

    def log_compacted(self, info: EntryInfo) -> None:  # noqa: B027
        """Log entries up to info.index were dropped after a snapshot."""

    def logdb_compacted(self, info: EntryInfo) -> None:  # noqa: B027
        """The LogDB reclaimed the disk space of dropped entries."""


_NODE = {"node_ready", "node_unloaded", "membership_changed"}
_CONN = {"connection_established", "connection_failed"}
_ENTRY = {"log_compacted", "logdb_compacted"}


class _Adapter:
    """Turns the engine's dicts into the dataclasses above for a user listener."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._target, name)

        def call(d: dict[str, Any]) -> None:
            info: Any
            if name == "leader_updated":
                info = LeaderInfo(d["cluster_id"], d["node_id"], d["term"], d["leader_id"])
            elif name in _NODE:
                info = NodeInfo(d["cluster_id"], d["node_id"])
            elif name in _CONN:
                info = ConnectionInfo(d["address"], d["snapshot_connection"])
            elif name in _ENTRY:
                info = EntryInfo(d["cluster_id"], d["node_id"], d["index"])
            else:
                info = SnapshotInfo(d["cluster_id"], d["node_id"], d["from"], d["index"])
            fn(info)

        return call


def adapt(listener: Any) -> Any:
    """The object handed to the engine for a user listener (None stays None)."""
    return None if listener is None else _Adapter(listener)
