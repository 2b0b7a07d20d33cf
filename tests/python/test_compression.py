"""Config.snapshot_compression_type from Python: snapshots written compressed
are smaller than their payload, and a restarted replica recovers its state
from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import KV, Hosts, retry

import dragonboat
from dragonboat import CompressionType, SnapshotOption


@pytest.mark.parametrize("kind", [CompressionType.SNAPPY, CompressionType.LZ4])
def test_compressed_snapshots_recover_the_state(tmp_path: Path, kind: CompressionType) -> None:
    config = dragonboat.Config(node_id=1, cluster_id=1, election_rtt=10,
                               snapshot_compression_type=kind)
    h = Hosts(tmp_path, 1)
    try:
        nh = h.start(0)
        nh.start_cluster({1: h.addresses[0]}, False, lambda c, n: KV(), config)
        value = "a" * 1024
        session = nh.get_noop_session(1)

        def write(i: int) -> None:
            retry(lambda: nh.sync_propose(session, f"k{i}={value}".encode(), 5.0))

        for i in range(100):
            write(i)
        assert nh.sync_request_snapshot(1, SnapshotOption(), 5.0) > 0
        data_files = list((tmp_path / "nh0" / "snapshots" / "1-1").rglob("*.gbsnap"))
        assert data_files, "a snapshot data file exists"
        largest = max(f.stat().st_size for f in data_files)
        assert largest < 100 * 1024 // 4, "1 KiB runs of one letter compress well"
        nh.stop()
        nh = h.start(0)
        restarted = KV()
        nh.start_cluster({}, False, lambda c, n: restarted, config)
        assert retry(lambda: nh.sync_read(1, "k99", 5.0), idempotent=True) == value
    finally:
        h.stop()


def test_the_type_is_a_compression_type() -> None:
    with pytest.raises(TypeError, match="snapshot_compression_type"):
        dragonboat.Config(node_id=1, cluster_id=1,
                          snapshot_compression_type=2).validate()  # type: ignore[arg-type]
    dragonboat.Config(node_id=1, cluster_id=1,
                      snapshot_compression_type=CompressionType.LZ4).validate()
