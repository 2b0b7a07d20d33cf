"""The ``dragonboat`` command: the demo (the README's main job) runs and exits cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import KV, free_port, retry

from dragonboat import Config, NodeHost, NodeHostConfig, SnapshotOption


def test_demo_runs_a_three_process_cluster_and_catches_up() -> None:
    out = subprocess.run([sys.executable, "-m", "dragonboat", "demo", "--seconds", "1"],
                         capture_output=True, text=True, timeout=180, check=True)
    assert "NodeHost 3 caught up" in out.stdout
    assert "replicas agree" in out.stdout  # same count and hash on every replica
    assert "summary:" in out.stdout
    assert " 0 writes acknowledged" not in out.stdout


def test_simulate_command() -> None:
    out = subprocess.run([sys.executable, "-m", "dragonboat", "simulate", "--seeds", "3"],
                         capture_output=True, text=True, timeout=120, check=True)
    assert "0 violations" in out.stdout


def test_bad_arguments_are_usage_errors() -> None:
    r = subprocess.run([sys.executable, "-m", "dragonboat", "nonsense"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "usage" in r.stderr


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dragonboat", *args], capture_output=True,
                          text=True, timeout=120)


def test_info_and_import_snapshot_repair_a_node(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    src_dir = str(tmp_path / "old")
    exported = tmp_path / "export"
    exported.mkdir()
    with NodeHost(NodeHostConfig(node_host_dir=src_dir, raft_address=address,
                                 rtt_millisecond=10)) as nh:
        nh.start_cluster({1: address}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=3))
        retry(lambda: nh.sync_propose(nh.get_noop_session(3), b"kept=yes", 5.0))
        nh.sync_request_snapshot(3, SnapshotOption(exported=True, export_path=str(exported)), 5.0)
    info = _run("info", src_dir)
    assert info.returncode == 0, info.stderr
    assert "cluster 3 node 1" in info.stdout and address in info.stdout
    new_address = f"127.0.0.1:{free_port()}"
    new_dir = str(tmp_path / "new")
    common = ["import-snapshot", "--dir", new_dir, "--raft-address", new_address,
              "--src", str(exported), "--members", f"1={new_address}", "--node-id", "1"]
    dry = _run(*common, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "verified" in dry.stdout and "dry run" in dry.stdout
    done = _run(*common)
    assert done.returncode == 0, done.stderr
    with NodeHost(NodeHostConfig(node_host_dir=new_dir, raft_address=new_address,
                                 rtt_millisecond=10)) as nh:
        nh.start_cluster({}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=3))
        assert retry(lambda: nh.sync_read(3, "kept", 5.0), idempotent=True) == "yes"
    # Bad input: a clear error, nothing changed.
    assert _run(*common[:-2], "--node-id", "9").returncode == 2
    bad = _run("import-snapshot", "--dir", new_dir, "--raft-address", new_address, "--src",
               str(tmp_path / "missing"), "--members", f"1={new_address}", "--node-id", "1")
    assert bad.returncode == 1 and "NoSnapshotError" in bad.stderr
    assert _run("info", str(tmp_path / "nothing")).returncode == 1


def test_info_and_import_snapshot_take_the_wal_dir(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    src_dir, src_wal = str(tmp_path / "old"), str(tmp_path / "old-wal")
    exported = tmp_path / "export"
    exported.mkdir()
    with NodeHost(NodeHostConfig(node_host_dir=src_dir, raft_address=address,
                                 rtt_millisecond=10, wal_dir=src_wal)) as nh:
        nh.start_cluster({1: address}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=3))
        retry(lambda: nh.sync_propose(nh.get_noop_session(3), b"kept=yes", 5.0))
        nh.sync_request_snapshot(3, SnapshotOption(exported=True, export_path=str(exported)), 5.0)
    # Without its WAL the LogDB would look empty: refused, naming the option.
    blind = _run("info", src_dir)
    assert blind.returncode == 1 and "HardSettingsChangedError" in blind.stderr
    assert "wal_dir" in blind.stderr
    info = _run("info", src_dir, "--wal-dir", src_wal)
    assert info.returncode == 0, info.stderr
    assert "cluster 3 node 1" in info.stdout and "state machine regular" in info.stdout
    new_address = f"127.0.0.1:{free_port()}"
    new_dir, new_wal = str(tmp_path / "new"), str(tmp_path / "new-wal")
    done = _run("import-snapshot", "--dir", new_dir, "--wal-dir", new_wal, "--raft-address",
                new_address, "--src", str(exported), "--members", f"1={new_address}",
                "--node-id", "1")
    assert done.returncode == 0, done.stderr
    assert "cluster 3 node 1" in _run("info", new_dir, "--wal-dir", new_wal).stdout
    with NodeHost(NodeHostConfig(node_host_dir=new_dir, raft_address=new_address,
                                 rtt_millisecond=10, wal_dir=new_wal)) as nh:
        nh.start_cluster({}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=3))
        assert retry(lambda: nh.sync_read(3, "kept", 5.0), idempotent=True) == "yes"


def test_checkdisk_measures_and_judges(tmp_path: Path) -> None:
    r = _run("checkdisk", "--dir", str(tmp_path), "--count", "20")
    assert "fdatasync of 64 B" in r.stdout and "verdict:" in r.stdout


def test_bench_prints_a_table() -> None:
    r = _run("bench", "--groups", "2", "--seconds", "1", "--inflight", "8", "--read-ratio", "0.5")
    assert r.returncode == 0, r.stderr
    assert "writes/s" in r.stdout and "Python" in r.stdout
    table = r.stdout.strip().splitlines()[-1].split()
    assert table[0] == "Python" and float(table[4].replace(",", "")) > 0


def test_bench_refuses_bad_arguments() -> None:
    assert _run("bench", "--read-ratio", "2").returncode == 2
