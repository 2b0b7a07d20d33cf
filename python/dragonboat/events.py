"""Event listeners: what they receive and how to write one.

Set ``NodeHostConfig.raft_event_listener`` / ``system_event_listener`` to
objects implementing any of the methods below, or to plain callables:
``raft_event_listener(info: LeaderInfo)`` and
``system_event_listener(event: str, info)`` (``event`` is the method name,
e.g. ``"node_ready"``; ``info`` is None for ``node_host_shutting_down``).
They are called in order on one NodeHost thread (never an engine thread),
with the GIL; a slow listener delays only later
events. An exception in a listener is logged and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dragonboat import _core

# The engine's event structs, bound as immutable values (constructor with the
# fields as arguments, read-only attributes, ==, hash, repr):
#   LeaderInfo(cluster_id, node_id, term, leader_id)
#   NodeInfo(cluster_id, node_id)
#   SnapshotInfo(cluster_id, node_id, from_node, index)
#   EntryInfo(cluster_id, node_id, index)
#   ConnectionInfo(address, snapshot_connection)
LeaderInfo = _core.LeaderInfo
NodeInfo = _core.NodeInfo
SnapshotInfo = _core.SnapshotInfo
EntryInfo = _core.EntryInfo
ConnectionInfo = _core.ConnectionInfo


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

    def node_host_shutting_down(self) -> None:  # noqa: B027
        """NodeHost.stop() began (the replicas' node_unloaded follow)."""


_RAFT_EVENTS = {"leader_updated"}
_SYSTEM_EVENTS = {name for name in vars(SystemEventListener) if not name.startswith("_")}


class _FunctionAdapter:
    """A plain callable as a listener: ``fn(info)`` for Raft events,
    ``fn(event_name, info)`` for system events."""

    def __init__(self, fn: Callable[..., Any], system: bool) -> None:
        self._fn = fn
        self._system = system

    def __getattr__(self, name: str) -> Any:
        if name not in (_SYSTEM_EVENTS if self._system else _RAFT_EVENTS):
            raise AttributeError(name)
        fn = self._fn
        if self._system:
            return lambda info=None: fn(name, info)  # node_host_shutting_down: no info
        return fn


def adapt(listener: Any, system: bool = False) -> Any:
    """The object handed to the engine for a user listener (None stays None):
    an object with event methods (the engine calls those it has), or a plain
    callable (see the module doc)."""
    if listener is None:
        return None
    events = _SYSTEM_EVENTS if system else _RAFT_EVENTS
    if callable(listener) and not any(hasattr(listener, e) for e in events):
        return _FunctionAdapter(listener, system)
    return listener
