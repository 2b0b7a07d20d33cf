"""The NodeHost: start groups, propose, read, manage membership.

Every method that waits releases the GIL while the C++ engine works; errors
are raised as :mod:`dragonboat.errors` classes.
"""

from __future__ import annotations

import atexit
import dataclasses
import io
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from dragonboat import _check, _core, events
from dragonboat.config import (
    ClusterInfo,
    Config,
    Membership,
    NodeHostConfig,
    NodeHostInfo,
    SnapshotOption,
)
from dragonboat.errors import (
    ClusterNotFoundError,
    DragonboatError,
    InvalidOperationError,
    InvalidSessionError,
    TimeoutError,
)
from dragonboat.request_state import RequestState
from dragonboat.statemachine import (
    ConcurrentStateMachine,
    OnDiskStateMachine,
    Result,
    StateMachine,
)

Session = _core.Session


def _completed_read(rs: RequestState, what: str) -> int:
    """The cluster ID of ``rs``, a completed read_index request."""
    if not isinstance(rs, RequestState):
        raise TypeError(f"rs must be a dragonboat.RequestState, not {_check.kind(rs)}")
    r = rs.wait(0)
    if r is None or not r.completed():
        raise InvalidOperationError(f"{what} needs a completed read_index request")
    return rs.cluster_id


# NodeHosts still running when the interpreter exits are stopped by atexit,
# while Python is whole. Stopped later, from finalization, an engine thread in
# the middle of a Python state machine batch can no longer take the GIL
# (CPython ends such a thread there), never lets go of its replica, and the
# stop waits for it forever: a script that ended with requests in flight hung.
_running: weakref.WeakSet[NodeHost] = weakref.WeakSet()


@atexit.register
def _stop_at_exit() -> None:
    for nh in list(_running):
        try:
            nh.stop()
        except DragonboatError:
            pass  # an exit must not fail on one host: the others still stop


class NodeHost:
    """One per process: runs many Raft groups over one LogDB and one transport."""

    def __init__(self, config: NodeHostConfig) -> None:
        if not isinstance(config, NodeHostConfig):
            raise TypeError("config must be a dragonboat.NodeHostConfig, "
                            f"not {_check.kind(config)}")
        config.validate()
        engine_config = dataclasses.replace(
            config,
            raft_event_listener=events.adapt(config.raft_event_listener),
            system_event_listener=events.adapt(config.system_event_listener, system=True),
        )
        self._core = _core.NodeHost(engine_config)
        # As in use: logdb_shards=0 (automatic) resolved to the real count.
        self._config = dataclasses.replace(config, logdb_shards=self._core.logdb_shards())
        self._lock = threading.Lock()
        # cluster ID -> its no-op session (immutable: every step raises).
        self._noop_sessions: dict[int, Session] = {}
        self._stopped = False
        _running.add(self)

    def __enter__(self) -> NodeHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- lifecycle ---------------------------------------------------------

    def stop(self) -> None:
        """Stops every group, the transport and the engine threads (idempotent).

        A NodeHost still running when the interpreter exits is stopped then
        (atexit), with its requests terminated.
        """
        # From here get_noop_session asks the engine again (which refuses it
        # once stopped), as it did before the cache.
        self._stopped = True
        self._noop_sessions.clear()
        self._core.stop()
        _running.discard(self)

    def raft_address(self) -> str:
        """The address other NodeHosts reach this one at."""
        return str(self._core.raft_address())

    def node_host_config(self) -> NodeHostConfig:
        """The configuration in use (``logdb_shards`` resolved when it was 0, automatic)."""
        return self._config

    def start_cluster(
        self,
        initial_members: Mapping[int, str],
        join: bool,
        create_state_machine: Callable[[int, int], StateMachine] | None,
        config: Config,
        plugin: str | None = None,
    ) -> None:
        """Starts a replica (new group: all initial members; join: none; restart: none).

        With ``plugin`` (the path of a shared object built with
        ``DRAGONBOAT_PLUGIN``, see ``dragonboat/plugin.h``) the state machine is
        C++, loaded from it, and ``create_state_machine`` must be None; its
        lookups take and return bytes.
        """
        members, join, config = _start_args(initial_members, join, config)
        if plugin is not None:
            if create_state_machine is not None:
                raise TypeError("create_state_machine: give either create_state_machine or "
                                "plugin, not both")
            if not isinstance(plugin, (str, os.PathLike)):
                raise TypeError(f"plugin must be a path (str), not {_check.kind(plugin)}")
            path = _check.string(os.fspath(plugin), "plugin")
            self._core.start_plugin_cluster(members, join, path, config)
            return
        if create_state_machine is None:
            raise TypeError("create_state_machine is required without a plugin")
        self._core.start_cluster(members, join, _factory(create_state_machine, "regular"), config,
                                 _core.StateMachineType.REGULAR)

    def start_concurrent_cluster(
        self,
        initial_members: Mapping[int, str],
        join: bool,
        create_state_machine: Callable[[int, int], ConcurrentStateMachine],
        config: Config,
    ) -> None:
        """As start_cluster, for a :class:`ConcurrentStateMachine`."""
        members, join, config = _start_args(initial_members, join, config)
        self._core.start_cluster(members, join, _factory(create_state_machine, "concurrent"),
                                 config, _core.StateMachineType.CONCURRENT)

    def start_on_disk_cluster(
        self,
        initial_members: Mapping[int, str],
        join: bool,
        create_state_machine: Callable[[int, int], OnDiskStateMachine],
        config: Config,
    ) -> None:
        """As start_cluster, for an :class:`OnDiskStateMachine`."""
        members, join, config = _start_args(initial_members, join, config)
        self._core.start_cluster(members, join, _factory(create_state_machine, "on_disk"), config,
                                 _core.StateMachineType.ON_DISK)

    def stop_cluster(self, cluster_id: int) -> None:
        """Stops the local replica (not a membership change)."""
        self._core.stop_cluster(_check.uint64(cluster_id, "cluster_id"))

    def stop_node(self, cluster_id: int, node_id: int) -> None:
        """Stops the local replica if it is node ``node_id`` (ClusterNotFoundError otherwise)."""
        self._core.stop_node(_check.uint64(cluster_id, "cluster_id"),
                             _check.uint64(node_id, "node_id"))

    def remove_data(self, cluster_id: int, node_id: int) -> None:
        """Removes a stopped, deleted node's data (ClusterNotStoppedError if running)."""
        self._core.remove_data(_check.uint64(cluster_id, "cluster_id"),
                               _check.uint64(node_id, "node_id"))

    def sync_remove_data(self, cluster_id: int, node_id: int, timeout: float) -> None:
        """remove_data (the reference's SyncRemoveData): the data is gone when it
        returns. The removal is synchronous here, so ``timeout`` is only checked."""
        self._core.sync_remove_data(_check.uint64(cluster_id, "cluster_id"),
                                    _check.uint64(node_id, "node_id"), _check.timeout(timeout))

    def request_compaction(self, cluster_id: int, node_id: int) -> RequestState:
        """Reclaims the disk space of dropped log entries (RejectedError: nothing to do)."""
        cluster_id = _check.uint64(cluster_id, "cluster_id")
        raw = self._core.request_compaction(cluster_id, _check.uint64(node_id, "node_id"))
        return RequestState(raw, cluster_id)

    def get_node_host_info(self, skip_log_info: bool = False) -> NodeHostInfo:
        """The raft address, the groups running here and the nodes with data."""
        d = self._core.node_host_info(_check.boolean(skip_log_info, "skip_log_info"))
        return NodeHostInfo(
            raft_address=d["raft_address"],
            cluster_info=[ClusterInfo(**c) for c in d["cluster_info"]],
            log_info=[(int(c), int(n)) for c, n in d["log_info"]],
        )

    def get_node_user(self, cluster_id: int) -> NodeUser:
        """A handle proposing and reading on one group."""
        self.get_leader_id(cluster_id)  # ClusterNotFoundError when absent
        return NodeUser(self, cluster_id)

    # ---- proposals -----------------------------------------------------------

    def get_noop_session(self, cluster_id: int) -> Session:
        """The no-op session: never deduplicated, usable from many threads at once.

        The same immutable object for a group on every call (a client that
        asks for it per request pays a dictionary lookup).
        """
        if type(cluster_id) is int:  # not a bool or a float equal to it
            cached = self._noop_sessions.get(cluster_id)
            if cached is not None and not self._stopped:
                return cached
        s = self._core.get_noop_session(_check.uint64(cluster_id, "cluster_id"))
        if len(self._noop_sessions) < _MAX_CACHED_NOOP_SESSIONS:
            self._noop_sessions[s.cluster_id] = s
        return s

    def sync_get_session(self, cluster_id: int, timeout: float) -> Session:
        """Registers a new client session through the log (at-most-once proposals)."""
        return self._core.sync_get_session(_check.uint64(cluster_id, "cluster_id"),
                                           _check.timeout(timeout))

    def sync_close_session(self, session: Session, timeout: float) -> None:
        """Unregisters ``session``; it must not be used afterwards."""
        self._core.sync_close_session(_check.session(session), _check.timeout(timeout))

    def propose(self, session: Session, cmd: bytes, timeout: float) -> RequestState:
        """Queues ``cmd``; the request completes when applied on this replica.

        ``cmd`` may be empty only through a registered session: an empty entry
        of the no-op session is a leader's no-op to the group, never applied
        nor completed (it would time out), so it is refused (``ValueError``).
        """
        # The checks inline for the common case (bytes, a Session, a float):
        # propose is a busy client's hottest call.
        if not (type(cmd) is bytes and cmd and type(session) is Session):
            cmd = _proposal(session, cmd)
        if not (type(timeout) is float and 0.0 < timeout <= _check.MAX_TIMEOUT):
            timeout = _check.timeout(timeout)
        return RequestState(self._core.propose(session, cmd, timeout), session.cluster_id)

    def sync_propose(self, session: Session, cmd: bytes, timeout: float) -> Result:
        """Proposes and waits; the state machine's result or the matching exception."""
        cmd = _proposal(session, cmd)
        return self._core.sync_propose(session, cmd, _check.timeout(timeout))

    def propose_session(self, session: Session, timeout: float) -> RequestState:
        """Registers or unregisters ``session`` through the log."""
        raw = self._core.propose_session(_check.session(session), _check.timeout(timeout))
        return RequestState(raw, session.cluster_id)

    # ---- reads -------------------------------------------------------------------

    def read_index(self, cluster_id: int, timeout: float) -> RequestState:
        """Starts a linearizable read (ReadIndex); then call read_local_node."""
        cluster_id = _check.uint64(cluster_id, "cluster_id")
        return RequestState(self._core.read_index(cluster_id, _check.timeout(timeout)), cluster_id)

    def read_local_node(self, rs: RequestState, query: Any) -> Any:
        """Queries the state machine after ``rs`` (a read_index) completed."""
        return self._core.lookup(_completed_read(rs, "read_local_node"), query)

    def na_read_local_node(self, rs: RequestState, query: bytes) -> bytes:
        """read_local_node through the state machine's ``na_lookup(query: bytes) -> bytes``
        (the reference's IExtended.NALookup: bytes in and out, no object conversion);
        NotImplementedError when the state machine has none. A C++ plugin's
        lookup is that already."""
        return self._core.na_lookup(_completed_read(rs, "na_read_local_node"),
                                    _check.payload(query, "query"))

    def sync_read(self, cluster_id: int, query: Any, timeout: float) -> Any:
        """A linearizable read: read_index, wait, read_local_node."""
        rs = self.read_index(cluster_id, timeout)
        # The engine completes the request by its own tick deadline; the
        # margin (the C++ sync calls' own) only guards against a stalled tick thread.
        r = rs.wait(_check.timeout(timeout) + 4 * self._config.rtt_millisecond / 1000 + 1.0)
        if r is None:
            raise TimeoutError("read index timed out")
        r.raise_for_outcome()
        return self._core.lookup(cluster_id, query)

    def stale_read(self, cluster_id: int, query: Any) -> Any:
        """Queries the local state machine without any linearizability guarantee."""
        return self._core.lookup(_check.uint64(cluster_id, "cluster_id"), query)

    def get_hash(self, cluster_id: int) -> int:
        """The local state machine's ``get_hash()`` (the reference's IHash), read between updates.

        Replicas that applied the same entries report the same hash. Raises
        :class:`~dragonboat.errors.InvalidOperationError` when the state
        machine defines no ``get_hash`` (C++: ``hash()``).
        """
        return self._core.get_hash(_check.uint64(cluster_id, "cluster_id"))

    # ---- membership and leadership -------------------------------------------------

    def request_add_node(self, cluster_id: int, node_id: int, address: str,
                         config_change_index: int, timeout: float) -> RequestState:
        """Adds (or promotes an observer to) a voting member through the log."""
        args = _member_args(cluster_id, node_id, address, config_change_index, timeout)
        return RequestState(self._core.request_add_node(*args), args[0])

    def request_add_observer(self, cluster_id: int, node_id: int, address: str,
                             config_change_index: int, timeout: float) -> RequestState:
        """Adds a non-voting member that receives the log and serves reads."""
        args = _member_args(cluster_id, node_id, address, config_change_index, timeout)
        return RequestState(self._core.request_add_observer(*args), args[0])

    def request_add_witness(self, cluster_id: int, node_id: int, address: str,
                            config_change_index: int, timeout: float) -> RequestState:
        """Adds a voting member without a state machine."""
        args = _member_args(cluster_id, node_id, address, config_change_index, timeout)
        return RequestState(self._core.request_add_witness(*args), args[0])

    def request_delete_node(self, cluster_id: int, node_id: int, config_change_index: int,
                            timeout: float) -> RequestState:
        """Removes a member; its ID may never come back."""
        args = _delete_args(cluster_id, node_id, config_change_index, timeout)
        return RequestState(self._core.request_delete_node(*args), args[0])

    def sync_request_add_node(self, cluster_id: int, node_id: int, address: str,
                              config_change_index: int, timeout: float) -> None:
        """request_add_node and wait: the node is a voting member on return."""
        self._core.sync_request_add_node(
            *_member_args(cluster_id, node_id, address, config_change_index, timeout))

    def sync_request_add_observer(self, cluster_id: int, node_id: int, address: str,
                                  config_change_index: int, timeout: float) -> None:
        """request_add_observer and wait: the observer is a member on return."""
        self._core.sync_request_add_observer(
            *_member_args(cluster_id, node_id, address, config_change_index, timeout))

    def sync_request_add_witness(self, cluster_id: int, node_id: int, address: str,
                                 config_change_index: int, timeout: float) -> None:
        """request_add_witness and wait: the witness is a member on return."""
        self._core.sync_request_add_witness(
            *_member_args(cluster_id, node_id, address, config_change_index, timeout))

    def sync_request_delete_node(self, cluster_id: int, node_id: int, config_change_index: int,
                                 timeout: float) -> None:
        """request_delete_node and wait: the node is removed (forever) on return."""
        self._core.sync_request_delete_node(
            *_delete_args(cluster_id, node_id, config_change_index, timeout))

    def sync_get_cluster_membership(self, cluster_id: int, timeout: float) -> Membership:
        """The membership, linearizably."""
        return _membership(self._core.sync_get_cluster_membership(
            _check.uint64(cluster_id, "cluster_id"), _check.timeout(timeout)))

    def get_cluster_membership(self, cluster_id: int) -> Membership:
        """The membership as of the last entry this replica applied, at once.

        Not linearizable (a lagging replica reports an older one; unlike the
        reference's deprecated GetClusterMembership, which takes a timeout and
        is linearizable): sync_get_cluster_membership is. ClusterNotFoundError
        when this host runs no replica of the group.
        """
        return _membership(self._core.get_cluster_membership(
            _check.uint64(cluster_id, "cluster_id")))

    def get_leader_id(self, cluster_id: int) -> tuple[int, bool]:
        """The leader as this replica knows it, and whether it is known."""
        leader, valid = self._core.get_leader_id(_check.uint64(cluster_id, "cluster_id"))
        return int(leader), bool(valid)

    def request_leader_transfer(self, cluster_id: int, target_node_id: int) -> None:
        """Asks the leader to hand leadership to a voting member."""
        self._core.request_leader_transfer(_check.uint64(cluster_id, "cluster_id"),
                                           _check.uint64(target_node_id, "target_node_id"))

    # ---- snapshots, information, metrics -------------------------------------------

    def request_snapshot(self, cluster_id: int, option: SnapshotOption | None,
                         timeout: float) -> RequestState:
        """Takes a snapshot; the request completes with its index."""
        args = _snapshot_args(cluster_id, option, timeout)
        return RequestState(self._core.request_snapshot(*args), args[0])

    def sync_request_snapshot(self, cluster_id: int, option: SnapshotOption | None,
                              timeout: float) -> int:
        """Takes a snapshot and returns its index."""
        return int(self._core.sync_request_snapshot(*_snapshot_args(cluster_id, option, timeout)))

    def has_node_info(self, cluster_id: int, node_id: int) -> bool:
        """Whether this NodeHost holds data of (cluster, node)."""
        return bool(self._core.has_node_info(_check.uint64(cluster_id, "cluster_id"),
                                             _check.uint64(node_id, "node_id")))

    def write_health_metrics(self, file: Any) -> None:
        """Writes the Prometheus text exposition of the health metrics to ``file``
        (a text file, or a binary one: then UTF-8 encoded)."""
        write = getattr(file, "write", None)
        if not callable(write):
            raise TypeError(f"file must have a write() method, not {_check.kind(file)}")
        text = self._core.health_metrics()
        write(text.encode() if isinstance(file, (io.RawIOBase, io.BufferedIOBase)) else text)

    def get_health_metrics(self, cluster_id: int | None = None) -> dict[str, float]:
        """The health metrics as numbers, by name (see docs/operations.md).

        Without ``cluster_id``: the host-wide ones (LogDB saves and fsync
        latency as ``_sum``/``_count``, transport, events, replicas ticking).
        With it: those of this host's replica of that group (term, leader,
        commit and applied index, proposals, reads, snapshots, ...);
        ClusterNotFoundError when there is none.
        """
        if cluster_id is not None:
            cluster_id = _check.uint64(cluster_id, "cluster_id")
        want = None if cluster_id is None else str(cluster_id)
        out: dict[str, float] = {}
        for name, _type, _help, samples in self._core.health_metric_families():
            for suffix, labels, value in samples:
                # Host-wide values have no labels (histogram buckets, with
                # their "le" label, are left out); a replica's carry its IDs.
                if (not labels) if want is None else labels.get("cluster_id") == want:
                    out[name + suffix] = value
        if want is not None and not out:
            raise ClusterNotFoundError(f"cluster {cluster_id} has no replica on this NodeHost")
        return out


class NodeUser:
    """Proposes and reads on one group without naming it each time."""

    def __init__(self, nh: NodeHost, cluster_id: int) -> None:
        if not isinstance(nh, NodeHost):
            raise TypeError(f"nh must be a dragonboat.NodeHost, not {_check.kind(nh)}")
        self._nh = nh
        self.cluster_id = _check.uint64(cluster_id, "cluster_id")

    def propose(self, session: Session, cmd: bytes, timeout: float) -> RequestState:
        """NodeHost.propose on this group; InvalidSessionError for a session of another group."""
        if _check.session(session).cluster_id != self.cluster_id:
            raise InvalidSessionError(f"session: it belongs to cluster {session.cluster_id}, "
                                      f"not to this NodeUser's cluster {self.cluster_id}")
        return self._nh.propose(session, cmd, timeout)

    def read_index(self, timeout: float) -> RequestState:
        """NodeHost.read_index on this group."""
        return self._nh.read_index(self.cluster_id, timeout)


# The methods a state machine of each kind must have (the others are optional
# or have defaults in the base classes).
_REQUIRED_METHODS = {
    "regular": ("update", "lookup"),
    "concurrent": ("update", "lookup"),
    "on_disk": ("open", "update", "lookup"),
}


def _membership(d: dict[str, Any]) -> Membership:
    """A Membership from the extension's dict."""
    return Membership(d["config_change_id"], dict(d["nodes"]), dict(d["observers"]),
                      dict(d["witnesses"]), set(d["removed"]))


def _start_args(initial_members: object, join: object,
                config: object) -> tuple[dict[int, str], bool, Config]:
    """The checked common arguments of the start_*cluster methods."""
    members = _check.members(initial_members)
    join = _check.boolean(join, "join")
    if not isinstance(config, Config):
        raise TypeError(f"config must be a dragonboat.Config, not {_check.kind(config)}")
    config.validate()
    return members, join, config


# No-op sessions a NodeHost keeps for get_noop_session (one per group asked for).
_MAX_CACHED_NOOP_SESSIONS = 65_536


def _proposal(session: Session, cmd: bytes) -> bytes:
    """The checked command of a proposal through ``session``."""
    if type(session) is not Session:  # the common case skips the isinstance walk
        _check.session(session)
    cmd = _check.payload(cmd, "cmd")
    if not cmd and session.is_noop():
        raise ValueError("cmd must not be empty with the no-op session (an empty entry is "
                         "a leader's no-op: never applied, it would time out)")
    return cmd


def _member_args(cluster_id: int, node_id: int, address: str, ccid: int,
                 timeout: float) -> tuple[int, int, str, int, float]:
    """The checked arguments of a request to add a member."""
    return (_check.uint64(cluster_id, "cluster_id"), _check.uint64(node_id, "node_id"),
            _check.address(address, "address"), _check.uint64(ccid, "config_change_index"),
            _check.timeout(timeout))


def _delete_args(cluster_id: int, node_id: int, ccid: int,
                 timeout: float) -> tuple[int, int, int, float]:
    """The checked arguments of a request to delete a member."""
    return (_check.uint64(cluster_id, "cluster_id"), _check.uint64(node_id, "node_id"),
            _check.uint64(ccid, "config_change_index"), _check.timeout(timeout))


def _snapshot_args(cluster_id: int, option: SnapshotOption | None,
                   timeout: float) -> tuple[int, SnapshotOption, float]:
    """The checked arguments of a snapshot request."""
    cluster_id = _check.uint64(cluster_id, "cluster_id")
    if option is None:
        option = SnapshotOption()
    elif not isinstance(option, SnapshotOption):
        raise TypeError("option must be a dragonboat.SnapshotOption or None, "
                        f"not {_check.kind(option)}")
    option.validate()
    return cluster_id, option, _check.timeout(timeout)


def _factory(create: object, kind: str) -> Callable[[int, int], Any]:
    """``create`` wrapped so that what it returns is checked to be a state
    machine (a TypeError naming create_state_machine otherwise)."""
    fn = _check.function(create, "create_state_machine")
    required = _REQUIRED_METHODS[kind]

    def make(cluster_id: int, node_id: int) -> Any:
        sm = fn(cluster_id, node_id)
        missing = [m for m in required if not callable(getattr(sm, m, None))]
        if missing:
            raise TypeError(f"create_state_machine returned an object of type {_check.kind(sm)}, "
                            f"not a state machine (it has no {', '.join(missing)})")
        return sm

    return make
