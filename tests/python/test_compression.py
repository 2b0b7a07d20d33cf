"""Config.snapshot_compression_type from Python: snapshots written compressed
are smaller than their payload, and a restarted replica recovers its state
from them. Config.entry_compression_type: proposals cross the wire
compressed, every replica applies the original commands exactly once (a
hash-chain checker), and a restarted replica replays its compressed log."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import KV, ConfiguredHosts, Hosts, retry

import dragonboat
from dragonboat import CompressionType, SnapshotOption
from dragonboat.checker import Checker, CheckerState


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


def command(i: int) -> bytes:
    """A 1 KiB command that compresses well, different for every i."""
    text = f"entry {i}:" + "".join(f" field-{j % 13}=value" for j in range(80))
    return text.encode()[:1024]


def bytes_sent(h: ConfiguredHosts) -> float:
    return sum(h.host(i).get_health_metrics()["dragonboat_transport_bytes_sent_total"]
               for i in range(3))


def write_and_check(h: ConfiguredHosts, cluster_id: int, entry_type: CompressionType,
                    want: CheckerState) -> float:
    """Group ``cluster_id`` on the three hosts with ``entry_type``: 60
    commands through its leader, then every replica's checker must match
    ``want``. Returns the transport bytes the hosts sent meanwhile."""
    initial = {j + 1: h.addresses[j] for j in range(3)}
    for i in range(3):
        config = h.group_config(i, cluster_id, entry_compression_type=entry_type)
        h.host(i).start_cluster(initial, False, lambda c, n: Checker(), config)
    leader = h.host(h.leader(cluster_id))
    before = bytes_sent(h)
    session = leader.get_noop_session(cluster_id)

    def propose(cmd: bytes) -> None:
        retry(lambda: leader.sync_propose(session, cmd, 5.0))

    def state(host: int) -> bytes:
        return bytes(retry(lambda: h.host(host).sync_read(cluster_id, b"state", 5.0),
                           idempotent=True))

    for i in range(60):
        propose(command(i))
    for i in range(3):
        assert state(i) == want.lookup(b"state"), f"group {cluster_id} host {i}"
    return bytes_sent(h) - before


@pytest.mark.parametrize("kind", [CompressionType.SNAPPY, CompressionType.LZ4])
def test_compressed_entries_apply_the_originals_once(tmp_path: Path,
                                                    kind: CompressionType) -> None:
    want = CheckerState()
    for i in range(60):
        want.apply(command(i))
    with ConfiguredHosts(tmp_path, 3) as h:
        h.start_all()
        plain = write_and_check(h, 1, CompressionType.NO_COMPRESSION, want)
        for i in range(3):  # group 1's heartbeats must not count toward group 2's bytes
            h.host(i).stop_cluster(1)
        compressed = write_and_check(h, 2, kind, want)
        # About 3x fewer; heartbeats and message headers are not compressed.
        assert compressed * 2 < plain, f"compressed {compressed} bytes vs plain {plain}"

        # Host 2 restarts without compression: it replays the compressed log.
        h.host(2).stop()
        h.start(2)
        h.host(2).start_cluster({}, False, lambda c, n: Checker(), h.group_config(2, 2))
        assert retry(lambda: h.host(2).sync_read(2, b"state", 5.0),
                     idempotent=True) == want.lookup(b"state")


def test_the_type_is_a_compression_type() -> None:
    with pytest.raises(TypeError, match="snapshot_compression_type"):
        dragonboat.Config(node_id=1, cluster_id=1,
                          snapshot_compression_type=2).validate()  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="entry_compression_type"):
        dragonboat.Config(node_id=1, cluster_id=1,
                          entry_compression_type=1).validate()  # type: ignore[arg-type]
    dragonboat.Config(node_id=1, cluster_id=1,
                      snapshot_compression_type=CompressionType.LZ4).validate()
