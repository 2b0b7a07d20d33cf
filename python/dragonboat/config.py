"""Settings of a NodeHost and of each Raft node (the reference's config package).

The C++ structs (``dragonboat/config.h``) are the definition: every field
here has the C++ name and default (``tests/python/test_config_parity.py``
checks it), ``validate()`` checks the types here and then runs the C++
rules, which name the field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from dragonboat import _check, _core
from dragonboat._core import CompressionType as CompressionType
from dragonboat._core import LogDBFactory, TransportFactory
from dragonboat.errors import InvalidAddressError, InvalidClusterSettingsError

#: The longest tick (C++ ``kMaxRttMillisecond``): the engine's clocks count
#: nanoseconds in 64 bits, and deadlines are a number of ticks away.
MAX_RTT_MILLISECOND = 86_400_000


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
            elif field.type == "CompressionType" and not isinstance(value, CompressionType):
                raise TypeError(f"{field.name} must be a dragonboat.CompressionType, "
                                f"not {_check.kind(value)}")
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
    max_apply_backlog: int = 16384
    disable_auto_compactions: bool = False
    is_observer: bool = False
    is_witness: bool = False
    quiesce: bool = False
    snapshot_compression_type: CompressionType = CompressionType.NO_COMPRESSION
    entry_compression_type: CompressionType = CompressionType.NO_COMPRESSION

    def validate(self) -> None:
        """Raises :class:`InvalidClusterSettingsError` naming the bad field
        (``TypeError`` naming it for a value of the wrong type)."""
        _check_fields(self)
        _core.validate_config(self)


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
    #: Threads saving and recovering snapshots.
    snapshot_workers: int = 1
    #: Proposals and reads waiting per node before SystemBusyError.
    max_pending_per_node: int = 4096
    max_snapshot_send_bytes_per_second: int = 0
    max_snapshot_recv_bytes_per_second: int = 0
    #: How long engine threads poll for work before they sleep, in µs (0:
    #: never). Lower latency on virtual machines for CPU time; at most
    #: 10,000 and less than half of ``rtt_millisecond``.
    busy_poll_microseconds: int = 0
    #: An object with ``leader_updated(info: LeaderInfo)`` (see dragonboat.events).
    raft_event_listener: Any = None
    #: An object with any of the system event methods (see dragonboat.events).
    system_event_listener: Any = None
    #: Where the Raft state is stored (the reference's LogDBFactory): None for
    #: the built-in RocksDB LogDB, or ``dragonboat.plugins.memory_logdb()``.
    logdb_factory: LogDBFactory | None = None
    #: How messages travel (the reference's RaftRPCFactory): None for TCP, or
    #: an ``dragonboat.plugins.InProcessNetwork().transport_factory()``.
    transport_factory: TransportFactory | None = None

    def validate(self) -> None:
        """Raises an error naming the bad field: InvalidAddressError for an
        address, ``TypeError`` for a value of the wrong type,
        InvalidClusterSettingsError for the others."""
        _check_fields(self)
        # Text the engine's parser would take but no host can have (NUL,
        # non-ASCII digits): refused here, before the C++ rules.
        if self.raft_address and not _check.is_address(self.raft_address):
            raise InvalidAddressError(f"raft_address: {self.raft_address!r} is not host:port")
        if self.listen_address and not _check.is_address(self.listen_address, any_port=True):
            raise InvalidAddressError(f"listen_address: {self.listen_address!r} is not host:port")
        _core.validate_node_host_config(self)


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
