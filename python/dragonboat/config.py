"""Settings of a NodeHost and of each Raft node (the reference's config package)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from dragonboat import _check
from dragonboat.errors import InvalidAddressError, InvalidClusterSettingsError

#: The longest tick: the engine's clocks count nanoseconds in 64 bits, and
#: deadlines are a number of ticks away.
MAX_RTT_MILLISECOND = 86_400_000


def _bad(field: str, why: str) -> InvalidClusterSettingsError:
    return InvalidClusterSettingsError(f"{field}: {why}")


def _check_fields(settings: Any) -> None:
    """Checks every ``int``, ``bool`` and ``str`` field of a settings dataclass
    by its annotation: TypeError for a wrong type, InvalidClusterSettingsError
    for an int outside [0, 2**64 - 1] or a str the engine cannot hold; both
    name the field."""
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        try:
            if field.type == "int":
                _check.uint64(value, field.name)
            elif field.type == "bool":
                _check.boolean(value, field.name)
            elif field.type == "str":
                _check.string(value, field.name)
        except ValueError as e:
            raise InvalidClusterSettingsError(str(e)) from None


@dataclass
class Config:
    """Per Raft node (one replica of one group); the reference's ``config.Config``."""

    node_id: int = 0
    cluster_id: int = 0
    check_quorum: bool = False
    election_rtt: int = 10
    heartbeat_rtt: int = 1
    snapshot_entries: int = 0
    compaction_overhead: int = 0
    ordered_config_change: bool = False
    max_in_mem_log_size: int = 0
    disable_auto_compactions: bool = False
    is_observer: bool = False
    is_witness: bool = False
    quiesce: bool = False

    def validate(self) -> None:
        """Raises :class:`InvalidClusterSettingsError` naming the bad field
        (``TypeError`` naming it for a value of the wrong type)."""
        _check_fields(self)
        if self.node_id <= 0:
            raise _bad("node_id", "must be a positive integer")
        if self.cluster_id < 0:
            raise _bad("cluster_id", "must not be negative")
        if self.heartbeat_rtt <= 0:
            raise _bad("heartbeat_rtt", "must be positive")
        if self.election_rtt <= 2 * self.heartbeat_rtt:
            raise _bad("election_rtt", "must be greater than 2 * heartbeat_rtt")
        if self.is_observer and self.is_witness:
            raise _bad("is_witness", "a node cannot be both an observer and a witness")
        for name in ("snapshot_entries", "compaction_overhead", "max_in_mem_log_size"):
            if getattr(self, name) < 0:
                raise _bad(name, "must not be negative")


@dataclass
class NodeHostConfig:
    """Per NodeHost; the reference's ``config.NodeHostConfig``."""

    node_host_dir: str = ""
    raft_address: str = ""
    rtt_millisecond: int = 200
    deployment_id: int = 0
    wal_dir: str = ""
    listen_address: str = ""
    mutual_tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    max_send_queue_size: int = 0
    max_receive_queue_size: int = 0
    max_proposal_payload_size: int = 8 << 20
    notify_commit: bool = False
    #: 0 = automatic: an existing directory's recorded count, else one per 4 cores.
    logdb_shards: int = 0
    apply_workers: int = 2
    max_snapshot_send_bytes_per_second: int = 0
    max_snapshot_recv_bytes_per_second: int = 0
    #: An object with ``leader_updated(info: LeaderInfo)`` (see dragonboat.events).
    raft_event_listener: Any = None
    #: An object with any of the system event methods (see dragonboat.events).
    system_event_listener: Any = None

    def validate(self) -> None:
        """Raises an error naming the bad field: InvalidAddressError for an
        address, ``TypeError`` for a value of the wrong type,
        InvalidClusterSettingsError for the others."""
        _check_fields(self)
        if not self.node_host_dir:
            raise _bad("node_host_dir", "required")
        if not 0 < self.rtt_millisecond <= MAX_RTT_MILLISECOND:
            raise _bad("rtt_millisecond", f"must be in [1, {MAX_RTT_MILLISECOND}] (one day)")
        if not _check.is_address(self.raft_address):
            raise InvalidAddressError(f"raft_address: {self.raft_address!r} is not host:port")
        if self.listen_address and not _check.is_address(self.listen_address, any_port=True):
            raise InvalidAddressError(f"listen_address: {self.listen_address!r} is not host:port")
        if self.mutual_tls and not (self.ca_file and self.cert_file and self.key_file):
            raise _bad("mutual_tls", "needs ca_file, cert_file and key_file")
        if self.max_proposal_payload_size <= 0:
            raise _bad("max_proposal_payload_size", "must be positive")
        if not 0 < self.apply_workers <= 64:
            raise _bad("apply_workers", "must be in [1, 64]")
        if not 0 <= self.logdb_shards <= 64:
            raise _bad("logdb_shards", "must be in [0 (automatic), 64]")


@dataclass
class SnapshotOption:
    """Options of a requested snapshot; the reference's ``SnapshotOption``."""

    exported: bool = False
    export_path: str = ""
    override_compaction_overhead: bool = False
    compaction_overhead: int = 0

    def validate(self) -> None:
        """Raises an error naming the bad field: ``TypeError`` for a value of
        the wrong type, InvalidClusterSettingsError for one out of range."""
        _check_fields(self)


@dataclass
class Membership:
    """A group's membership."""

    config_change_id: int
    nodes: dict[int, str]
    observers: dict[int, str]
    witnesses: dict[int, str]
    removed: set[int]


@dataclass
class ClusterInfo:
    """What a NodeHost knows of one of its replicas (the reference's ClusterInfo)."""

    cluster_id: int
    node_id: int
    nodes: dict[int, str]
    config_change_index: int
    state_machine_type: int  # 1 regular, 2 concurrent, 3 on-disk
    is_leader: bool
    is_observer: bool
    is_witness: bool
    pending: bool  # nothing applied yet


@dataclass
class NodeHostInfo:
    """The NodeHost's address, its replicas and the nodes with data in its LogDB."""

    raft_address: str
    cluster_info: list[ClusterInfo]
    log_info: list[tuple[int, int]]  # (cluster_id, node_id)
