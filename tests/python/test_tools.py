"""dragonboat.tools: the offline tools as Python functions (read_host_dir,
check_exported_snapshot, import_snapshot), for NodeHosts whose LogDB keeps
its write-ahead log in a wal_dir of its own."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import KV, free_port, retry

from dragonboat import Config, NodeHost, NodeHostConfig, SnapshotOption, errors, tools


def test_read_check_and_import_with_a_wal_dir(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    old, old_wal, exported = (str(tmp_path / p) for p in ("old", "old-wal", "export"))
    Path(exported).mkdir()
    with NodeHost(NodeHostConfig(node_host_dir=old, raft_address=address, rtt_millisecond=10,
                                 wal_dir=old_wal)) as nh:
        nh.start_cluster({1: address}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=3))
        retry(lambda: nh.sync_propose(nh.get_noop_session(3), b"kept=yes", 5.0))
        index = nh.sync_request_snapshot(3, SnapshotOption(exported=True, export_path=exported),
                                         5.0)
        with pytest.raises(errors.LockDirectoryError):
            tools.read_host_dir(old, old_wal)  # the NodeHost runs
    info = tools.read_host_dir(old, old_wal)
    assert info.raft_address == address and info.logdb_type == "rocksdb"
    assert len(info.nodes) == 1
    n = info.nodes[0]
    assert (n.cluster_id, n.node_id, n.state_machine_type, n.join) == (3, 1, 1, False)
    assert n.initial_members == {1: address} and n.commit >= index
    # The engine does not flush on shutdown: without its WAL the LogDB would
    # look empty. Refused instead, for the WAL directory missing or wrong.
    with pytest.raises(errors.HardSettingsChangedError, match="wal_dir"):
        tools.read_host_dir(old)
    with pytest.raises(errors.HardSettingsChangedError, match="wal_dir"):
        tools.read_host_dir(old, tmp_path / "elsewhere")
    assert len(tools.read_host_dir(Path(old), Path(old_wal)).nodes) == 1  # nothing was changed

    snap = tools.check_exported_snapshot(exported)
    assert (snap.cluster_id, snap.node_id, snap.index) == (3, 1, index) and snap.file_size > 0
    assert tools.check_exported_snapshot(snap.dir) == snap

    new_address = f"127.0.0.1:{free_port()}"
    cfg = NodeHostConfig(node_host_dir=str(tmp_path / "new"), raft_address=new_address,
                         rtt_millisecond=10, wal_dir=str(tmp_path / "new-wal"))
    with pytest.raises(errors.InvalidOperationError):
        tools.import_snapshot(cfg, exported, {2: new_address}, 1)  # members without node 1
    tools.import_snapshot(cfg, Path(exported), {1: new_address}, 1)
    imported = tools.read_host_dir(cfg.node_host_dir, cfg.wal_dir).nodes
    assert [(m.cluster_id, m.node_id, m.snapshot_index) for m in imported] == [(3, 1, index)]
    with NodeHost(cfg) as nh:
        nh.start_cluster({}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=3))
        assert retry(lambda: nh.sync_read(3, "kept", 5.0), idempotent=True) == "yes"
        assert nh.get_cluster_membership(3).nodes == {1: new_address}
        assert [c.state_machine_type for c in nh.get_node_host_info().cluster_info] == [1]


P = "<tmp>"  # stands for the test's (empty) temporary directory
HOST = NodeHostConfig(node_host_dir=P, raft_address="127.0.0.1:1")
BAD: list[tuple[Callable[..., Any], tuple[Any, ...], str]] = [
    (tools.read_host_dir, (42,), "node_host_dir"),
    (tools.read_host_dir, (P, None), "wal_dir"),
    (tools.read_host_dir, (b"/tmp",), "node_host_dir"),
    (tools.check_exported_snapshot, (None,), "src"),
    (tools.import_snapshot, ({"node_host_dir": P}, P, {1: "127.0.0.1:1"}, 1), "config"),
    (tools.import_snapshot, (HOST, P, [1], 1), "members"),
    (tools.import_snapshot, (HOST, P, {1: "127.0.0.1:1"}, "1"), "node_id"),
]


@pytest.mark.parametrize(("fn", "args", "name"), BAD, ids=[f"{f.__name__}-{n}" for f, _, n in BAD])
def test_bad_arguments_are_type_errors_naming_them(tmp_path: Path, fn: Callable[..., Any],
                                                   args: tuple[Any, ...], name: str) -> None:
    def here(a: Any) -> Any:
        if a == P:
            return str(tmp_path)
        if isinstance(a, NodeHostConfig):
            return dataclasses.replace(a, node_host_dir=str(tmp_path))
        return a

    with pytest.raises(TypeError, match=name):
        fn(*(here(a) for a in args))
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_missing_directories_and_snapshots_are_named_errors(tmp_path: Path) -> None:
    with pytest.raises(errors.DirNotExistError):
        tools.read_host_dir(tmp_path / "nothing")
    with pytest.raises(errors.NoSnapshotError):
        tools.check_exported_snapshot(tmp_path)
