"""Offline tools for the directories of stopped NodeHosts (the reference's
``tools`` package): what a directory holds (:func:`read_host_dir`), whether an
exported snapshot is intact (:func:`check_exported_snapshot`), and the repair
of a group that permanently lost its quorum (:func:`import_snapshot`). The
``dragonboat info`` and ``dragonboat import-snapshot`` commands call them.

Each takes the NodeHost directory's lock: its NodeHost must be stopped
(:class:`~dragonboat.errors.LockDirectoryError` otherwise). A NodeHost
configured with ``wal_dir`` keeps its LogDB's write-ahead log there, and the
tools need the same directory:
:class:`~dragonboat.errors.HardSettingsChangedError` when the log is not
where ``wal_dir`` says (without it the LogDB would look empty, and what a
tool wrote would never be read).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from dragonboat import _check, _core
from dragonboat.config import NodeHostConfig

__all__ = [
    "ExportedSnapshotInfo",
    "HostDirInfo",
    "NodeDirInfo",
    "check_exported_snapshot",
    "import_snapshot",
    "read_host_dir",
]


@dataclass
class NodeDirInfo:
    """One node's state as the LogDB of its NodeHost directory records it."""

    cluster_id: int
    node_id: int
    term: int  # the persistent Raft state (0s when none is recorded)
    vote: int
    commit: int
    first_index: int  # the log's range (after compaction)
    last_index: int
    snapshot_index: int  # the latest snapshot (0: none)
    snapshot_file: str
    initial_members: dict[int, str]  # the bootstrap record ({} for a joined node)
    join: bool
    state_machine_type: int  # 1 regular, 2 concurrent, 3 on-disk (0: not recorded yet)


@dataclass
class HostDirInfo:
    """What a NodeHost directory holds: its flag file and every node in its LogDB."""

    raft_address: str
    deployment_id: int
    logdb_type: str
    logdb_shards: int
    format_version: int
    nodes: list[NodeDirInfo]


@dataclass
class ExportedSnapshotInfo:
    """An exported snapshot, verified block by block."""

    cluster_id: int
    node_id: int
    index: int
    term: int
    file_size: int
    dir: str  # the snapshot's own directory


def _path(value: object, name: str) -> str:
    """A path argument (str or os.PathLike) as a str the engine can hold."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, bytes):
        raise TypeError(f"{name} must be a str path, not bytes")
    return _check.string(value, name)


def read_host_dir(node_host_dir: str | os.PathLike[str], wal_dir: str | os.PathLike[str] = ""
                  ) -> HostDirInfo:
    """What the directory of a stopped NodeHost holds.

    ``wal_dir`` is that NodeHost's ``NodeHostConfig.wal_dir`` (empty: it had
    none). Errors: DirNotExistError / IncompatibleDataError (no or a bad flag
    file), LockDirectoryError (the NodeHost runs), HardSettingsChangedError
    (its write-ahead log is not where ``wal_dir`` says).
    """
    d = _core.host_dir_info(_path(node_host_dir, "node_host_dir"), _path(wal_dir, "wal_dir"))
    nodes = [NodeDirInfo(**n) for n in d.pop("nodes")]
    return HostDirInfo(**d, nodes=nodes)


def check_exported_snapshot(src: str | os.PathLike[str]) -> ExportedSnapshotInfo:
    """Verifies the exported snapshot at ``src`` block by block; its metadata.

    ``src`` is the snapshot's own directory or the export path holding it
    (then the newest complete snapshot there). NoSnapshotError (nothing
    complete there), CorruptedError (the file fails verification).
    """
    return ExportedSnapshotInfo(**_core.check_exported_snapshot(_path(src, "src")))


def import_snapshot(config: NodeHostConfig, src: str | os.PathLike[str],
                    members: Mapping[int, str], node_id: int) -> None:
    """Repair: makes the exported snapshot at ``src`` the ONLY state of node
    ``node_id`` on the stopped NodeHost of ``config``, with the membership
    ``members`` (node ID -> raft address); the reference's
    ``tools.ImportSnapshot``.

    ``config`` is that NodeHost's own configuration: its ``node_host_dir``,
    ``raft_address``, ``deployment_id``, ``logdb_shards`` (0: the recorded
    count) and ``wal_dir`` are used. ``src`` is as in
    :func:`check_exported_snapshot`; the snapshot is verified before
    anything changes. Afterwards start the node with
    ``start_cluster({}, False, ...)``: the group resumes from the snapshot.

    The safety rules are the caller's: every NodeHost involved is stopped;
    every node of the repaired group imports the SAME snapshot with the SAME
    ``members``, and only those nodes run the group; anything committed after
    the snapshot is lost. Errors: InvalidOperationError (``members`` without
    ``node_id``), NoSnapshotError, CorruptedError, LockDirectoryError,
    HardSettingsChangedError (``wal_dir`` or another recorded setting
    differs), and the errors of ``config.validate()``.
    """
    if not isinstance(config, NodeHostConfig):
        raise TypeError(f"config must be a dragonboat.NodeHostConfig, not {_check.kind(config)}")
    config.validate()
    _core.import_snapshot(config, _path(src, "src"), _check.members(members, "members"),
                          _check.uint64(node_id, "node_id", minimum=1))
