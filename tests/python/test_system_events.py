"""The system events of a failed connection and of snapshots moving between
hosts, as a SystemEventListener (conftest.EventLog) receives them: each with
the IDs and index a user would act on."""

from __future__ import annotations

import base64
import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conftest import KV, ConfiguredHosts, EventLog, free_port, retry

from dragonboat import Config, NodeHost, NodeHostConfig, SnapshotOption, errors
from dragonboat.events import ConnectionInfo, SnapshotInfo

#: Compact the whole log: a replica behind it can only catch up by snapshot.
NO_OVERHEAD = SnapshotOption(override_compaction_overhead=True, compaction_overhead=0)


def _propose(nh: NodeHost, cmd: bytes) -> None:
    retry(lambda: nh.sync_propose(nh.get_noop_session(1), cmd, 10.0))


def _logged_hosts(tmp_path: Path, **settings: Any) -> tuple[ConfiguredHosts, list[EventLog]]:
    """Three hosts (started), each with its own EventLog and ``settings``."""
    logs = [EventLog() for _ in range(3)]
    h = ConfiguredHosts(tmp_path, 3, [{"system_event_listener": log, **settings}
                                      for log in logs])
    return h.start_all(), logs


def _lagging_follower(h: ConfiguredHosts, values: dict[str, str]) -> tuple[int, int, int]:
    """Group 1 on the three hosts; a follower's replica stops, ``values`` are
    written, and the leader takes a snapshot compacting its whole log.
    Returns (leader, follower, snapshot index); the follower is still stopped."""
    h.start_configured_group(3)
    leader = h.leader()
    nh = h.host(leader)
    _propose(nh, b"first=1")
    follower = (leader + 1) % 3
    h.host(follower).stop_cluster(1)
    for k, v in values.items():
        _propose(nh, f"{k}={v}".encode())
    index = nh.sync_request_snapshot(1, NO_OVERHEAD, 30.0)
    return leader, follower, index


def _caught_up(nh: NodeHost, key: str, value: str) -> None:
    def check() -> None:
        if nh.stale_read(1, key) != value:
            raise errors.TemporaryError("the replica has not caught up yet")

    retry(check, limit=60.0, idempotent=True)


def test_connection_failed_names_the_address_nobody_listens_on(tmp_path: Path) -> None:
    log = EventLog()
    address, nobody = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    with NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                                 rtt_millisecond=10, system_event_listener=log)) as nh:
        # Node 2 never starts: node 1's vote requests go to a closed port.
        nh.start_cluster({1: address, 2: nobody}, False, lambda c, n: KV(),
                         Config(node_id=1, cluster_id=1, election_rtt=10))
        failed = log.wait("connection_failed", lambda i: i.address == nobody)
        assert failed == ConnectionInfo(nobody, False)
        assert nh.get_health_metrics()["dragonboat_transport_connect_failures_total"] >= 1
        assert all(i.address != nobody for i in log.of("connection_established"))


def test_a_lagging_follower_catching_up_by_snapshot(tmp_path: Path) -> None:
    h, logs = _logged_hosts(tmp_path)
    with h:
        values = {f"k{i}": str(i) for i in range(50)}
        leader, follower, index = _lagging_follower(h, values)
        assert index > 0
        h.start_configured(follower, 3)  # restarts behind the leader's log
        _caught_up(h.host(follower), "k49", "49")
        lnode, fnode = leader + 1, follower + 1
        sent = SnapshotInfo(1, lnode, fnode, index)  # from_node: the target
        to_follower = lambda i: i.from_node == fnode  # noqa: E731
        assert logs[leader].wait("send_snapshot_started", to_follower) == sent
        assert logs[leader].wait("send_snapshot_completed", to_follower) == sent
        assert (logs[leader].position("send_snapshot_started", to_follower)
                < logs[leader].position("send_snapshot_completed", to_follower))
        assert logs[leader].of("send_snapshot_aborted") == []
        # On the follower: received from the leader, then the state machine recovered.
        flog = logs[follower]
        assert flog.wait("snapshot_received") == SnapshotInfo(1, fnode, lnode, index)
        assert flog.wait("snapshot_recovered") == SnapshotInfo(1, fnode, 0, index)
        assert flog.position("snapshot_received") < flog.position("snapshot_recovered")
        assert h.host(follower).stale_read(1, None) == {"first": "1", **values}
        # The other follower was never behind: it got no snapshot.
        third = 3 - leader - follower
        assert logs[third].of("snapshot_received") == []


@contextlib.contextmanager
def _stream_cut(tmp_path: Path) -> Iterator[tuple[ConfiguredHosts, list[EventLog], int, int, int]]:
    """A lagging follower's host stops as the leader starts streaming it a
    snapshot; yields (hosts, logs, leader, follower, snapshot index) once the
    leader's send_snapshot_started came. Paced at 1 MiB/s, the second 2 MiB
    chunk of this ~3 MiB snapshot would leave about 2 s after the first: the
    target stops well before."""
    h, logs = _logged_hosts(tmp_path, max_snapshot_send_bytes_per_second=1 << 20)
    with h:
        values = {f"s{i}": base64.b64encode(os.urandom(200_000)).decode() for i in range(12)}
        leader, follower, index = _lagging_follower(h, values)
        h.start_configured(follower, 3)
        started = logs[leader].wait("send_snapshot_started", lambda i: i.from_node == follower + 1)
        assert started == SnapshotInfo(1, leader + 1, follower + 1, index)
        h.host(follower).stop()
        yield h, logs, leader, follower, index


def test_send_snapshot_aborted_when_the_target_stops_mid_stream(tmp_path: Path) -> None:
    with _stream_cut(tmp_path) as (h, logs, leader, follower, index):
        fnode = follower + 1
        aborted = logs[leader].wait("send_snapshot_aborted", lambda i: i.from_node == fnode)
        assert aborted == SnapshotInfo(1, leader + 1, fnode, index)
        assert logs[leader].of("send_snapshot_completed") == []
        assert logs[follower].of("snapshot_recovered") == []
        _propose(h.host(leader), b"after=1")  # the group goes on without it


def test_a_failed_snapshot_is_not_resent_in_a_tight_loop(tmp_path: Path) -> None:
    with _stream_cut(tmp_path) as (_, logs, leader, _, _):
        log = logs[leader]
        log.wait("send_snapshot_aborted")
        start, before = time.monotonic(), len(log.of("send_snapshot_started"))
        # Either 200 more attempts come, or 2 s pass: the rate either way.
        log.wait_count("send_snapshot_started", before + 200, timeout=2.0)
        attempts = len(log.of("send_snapshot_started")) - before
        elapsed = time.monotonic() - start
        # Not more than one a tick (10 ms), with a tolerance of twice that.
        assert attempts <= 2 * elapsed / 0.01 + 2, f"{attempts} attempts in {elapsed:.3f}s"


def test_snapshot_compacted_when_a_third_snapshot_is_kept(tmp_path: Path) -> None:
    log = EventLog()
    address = f"127.0.0.1:{free_port()}"
    with NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                                 rtt_millisecond=10, system_event_listener=log)) as nh:
        nh.start_cluster({1: address}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=1))
        indexes = []
        for i in range(3):
            _propose(nh, f"k{i}=1".encode())
            indexes.append(nh.sync_request_snapshot(1, None, 10.0))
        # Two snapshots are kept (the older one may be streaming to a follower):
        # the third removes the first.
        compacted = log.wait("snapshot_compacted")
        assert compacted == SnapshotInfo(1, 1, 0, indexes[1])
        assert log.position("snapshot_created", lambda i: i.index == indexes[2]) < log.position(
            "snapshot_compacted")
        assert len(log.of("snapshot_compacted")) == 1
        on_disk = sorted(int(p.name[len("snapshot-"):-len(".gbsnap")], 16)
                         for p in (tmp_path / "nh" / "snapshots" / "1-1").rglob("*.gbsnap"))
        assert on_disk == indexes[1:]
