"""C++ state machines loaded from a plugin, beside Python ones in the same NodeHost."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import KV, free_port, retry

from dragonboat import Config, NodeHost, NodeHostConfig, errors

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("DRAGONBOAT_BUILD_DIR", ROOT / "build" / "dev"))
PLUGIN = BUILD / "examples" / "plugin" / "libdragonboat_kv_plugin.so"
# Its kind follows the cluster ID: % 3 == 0 regular, 1 concurrent, 2 on-disk.
CHECKER_PLUGIN = BUILD / "tests" / "checker" / "libdragonboat_checker_plugin.so"


def test_plugin_and_python_state_machines_share_a_nodehost(tmp_path: Path) -> None:
    assert PLUGIN.exists(), f"{PLUGIN} is missing: build the C++ tree first (scripts/dev.sh test)"
    address = f"127.0.0.1:{free_port()}"
    with NodeHost(NodeHostConfig(node_host_dir=str(tmp_path), raft_address=address,
                                 rtt_millisecond=10)) as nh:
        nh.start_cluster({1: address}, False, None, Config(node_id=1, cluster_id=1),
                         plugin=str(PLUGIN))
        nh.start_cluster({1: address}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=2))
        r = retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"lang=c++", 5.0))
        assert r.value == 1
        retry(lambda: nh.sync_propose(nh.get_noop_session(2), b"lang=python", 5.0))
        assert nh.sync_read(1, b"lang", 5.0) == b"c++"
        assert nh.sync_read(2, "lang", 5.0) == "python"
        # Snapshots of the plugin's state work through the same paths.
        assert nh.sync_request_snapshot(1, None, 5.0) > 0
        with pytest.raises(TypeError):
            nh.stale_read(1, 42)


def test_bad_plugins_are_clear_errors(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    with NodeHost(NodeHostConfig(node_host_dir=str(tmp_path), raft_address=address,
                                 rtt_millisecond=10)) as nh:
        with pytest.raises(errors.InvalidOperationError, match="cannot be loaded"):
            nh.start_cluster({1: address}, False, None, Config(node_id=1, cluster_id=1),
                             plugin=str(tmp_path / "missing.so"))
        # A shared object without the plugin symbols.
        libc = "libc.so.6"
        with pytest.raises(errors.InvalidOperationError, match="DRAGONBOAT_PLUGIN"):
            nh.start_cluster({1: address}, False, None, Config(node_id=1, cluster_id=1),
                             plugin=libc)
        with pytest.raises(TypeError):
            nh.start_cluster({1: address}, False, lambda c, n: KV(),
                             Config(node_id=1, cluster_id=1), plugin=str(PLUGIN))


def test_cluster_info_reports_the_kind_a_plugin_started(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert CHECKER_PLUGIN.exists(), f"{CHECKER_PLUGIN} is missing: build the C++ tree first"
    monkeypatch.setenv("DRAGONBOAT_CHECKER_DIR", str(tmp_path / "checker"))  # the on-disk kind's
    (tmp_path / "checker").mkdir()
    address = f"127.0.0.1:{free_port()}"
    with NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                                 rtt_millisecond=10)) as nh:
        for cluster_id in (3, 4, 5):
            nh.start_cluster({1: address}, False, None, Config(node_id=1, cluster_id=cluster_id),
                             plugin=str(CHECKER_PLUGIN))
        nh.start_cluster({1: address}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=6))
        kinds = {c.cluster_id: c.state_machine_type for c in nh.get_node_host_info().cluster_info}
        assert kinds == {3: 1, 4: 2, 5: 3, 6: 1}
