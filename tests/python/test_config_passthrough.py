"""Settings the engine must act on, observed from Python: ordered membership
changes, the in-memory log limit, quiesce, deployment IDs, mutual TLS, the
transport queues, snapshot bandwidth limits, compaction control, wal_dir and
the state machine's close()."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import KV, ConfiguredHosts, EventLog, free_port, retry

from dragonboat import Config, NodeHost, NodeHostConfig, RequestState, SnapshotOption, errors
from dragonboat.checker import Checker, CheckerState

MiB = 1 << 20
#: The snapshot stream's chunk (transport/wire.h kDefaultChunkDataSize): a
#: bandwidth limit paces chunk by chunk, so the first one leaves at once.
SNAPSHOT_CHUNK = 2 * MiB


def _until(check: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Polls ``check`` until it holds (TemporaryError naming ``what`` after ``limit`` s)."""

    def poll() -> None:
        if not check():
            raise errors.TemporaryError(f"not yet: {what}")

    retry(poll, limit=limit, idempotent=True)


def _single(tmp_path: Path, **settings: Any) -> tuple[NodeHost, str]:
    address = f"127.0.0.1:{free_port()}"
    nh = NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                                 rtt_millisecond=10, **settings))
    return nh, address


def _propose(nh: NodeHost, cluster_id: int, cmd: bytes) -> None:
    retry(lambda: nh.sync_propose(nh.get_noop_session(cluster_id), cmd, 10.0))


# ---- Config -----------------------------------------------------------------------


def test_ordered_config_change_rejects_a_stale_config_change_index(tmp_path: Path) -> None:
    with ConfiguredHosts(tmp_path, 3).start_all() as h:
        h.start_configured_group(3, cluster_id=1, ordered_config_change=True)
        h.start_configured_group(3, cluster_id=2)  # the same steps without the option
        nh = h.host(h.leader(1))
        stale = _membership_index(nh, 1)
        retry(lambda: nh.sync_request_add_observer(1, 7, "127.0.0.1:1", stale, 5.0))
        # The change above moved the index: quoting the old one is refused...
        with pytest.raises(errors.RejectedError):
            retry(lambda: nh.sync_request_add_observer(1, 8, "127.0.0.1:2", stale, 5.0))
        current = _membership_index(nh, 1)
        assert current > stale
        assert 8 not in nh.get_cluster_membership(1).observers
        # ... quoting the current one (as read) is applied.
        retry(lambda: nh.sync_request_add_observer(1, 8, "127.0.0.1:2", current, 5.0))
        assert set(nh.sync_get_cluster_membership(1, 5.0).observers) == {7, 8}
        # Without ordered_config_change the index quoted is not checked.
        other = h.host(h.leader(2))
        stale = _membership_index(other, 2)
        retry(lambda: other.sync_request_add_observer(2, 7, "127.0.0.1:1", stale, 5.0))
        retry(lambda: other.sync_request_add_observer(2, 8, "127.0.0.1:2", stale, 5.0))
        assert set(other.sync_get_cluster_membership(2, 5.0).observers) == {7, 8}


def _membership_index(nh: NodeHost, cluster_id: int) -> int:
    """The group's config_change_id, read linearizably."""
    return retry(lambda: nh.sync_get_cluster_membership(cluster_id, 5.0),
                 idempotent=True).config_change_id


def test_max_in_mem_log_size_makes_proposals_busy_while_nothing_commits(tmp_path: Path) -> None:
    limit, payload = 64 << 10, b"k=" + b"v" * (4 << 10)
    with ConfiguredHosts(tmp_path, 3).start_all() as h:
        # No check-quorum: the leader keeps leading once its followers stop.
        h.start_configured_group(3, check_quorum=False, max_in_mem_log_size=limit)
        leader = h.leader()
        nh = h.host(leader)
        _propose(nh, 1, b"warm=1")
        followers = [i for i in range(3) if i != leader]
        for i in followers:
            h.host(i).stop_cluster(1)
        session = nh.get_noop_session(1)
        saves = "dragonboat_logdb_saves_total"
        accepted: list[RequestState] = []
        # One proposal at a time, each appended (saved) or dropped before the
        # next: the limit is checked per step pass, so a faster burst could
        # queue a pass's worth beyond it (it is a target, as in the reference).
        with pytest.raises(errors.SystemBusyError, match="max_in_mem_log_size") as busy:
            while len(accepted) < 1000:  # appended, never committed
                before = nh.get_health_metrics()[saves]
                rs = nh.propose(session, payload, 60.0)
                accepted.append(rs)
                _until(lambda: nh.get_health_metrics()[saves] > before  # noqa: B023
                       or rs.wait(0) is not None, "the proposal saved or dropped")  # noqa: B023
        assert busy.value.maybe_applied is False
        appended = [rs for rs in accepted if rs.wait(0) is None]
        # Refused once the unapplied entries passed the limit, not long before.
        assert limit <= len(appended) * len(payload) <= limit + 2 * len(payload)
        # A follower back: the entries commit and apply, and proposals are taken again.
        h.start_configured(followers[0], 3, check_quorum=False, max_in_mem_log_size=limit)
        retry(lambda: nh.sync_propose(session, b"after=1", 10.0))
        assert all(rs.result(30.0).value >= 1 for rs in appended)


def test_quiesce_takes_idle_replicas_off_the_tick_thread(tmp_path: Path) -> None:
    with ConfiguredHosts(tmp_path, 3).start_all() as h:
        h.start_configured_group(3, quiesce=True)
        nh = h.host(h.leader())
        _propose(nh, 1, b"q=1")

        def ticking() -> list[float]:
            return [h.host(i).get_health_metrics()["dragonboat_replicas_ticking"]
                    for i in range(3)]

        # Idle for election_rtt * 10 ticks (1 s here): every replica quiesces.
        _until(lambda: ticking() == [0, 0, 0], "every replica quiesced")
        # A quiesced group still takes writes and linearizable reads.
        _propose(nh, 1, b"q=2")
        other = h.host((h.leader() + 1) % 3)
        assert retry(lambda: other.sync_read(1, "q", 5.0), idempotent=True) == "2"


def test_hosts_of_different_deployment_ids_never_form_a_group(tmp_path: Path) -> None:
    settings: list[dict[str, Any]] = [{"deployment_id": d} for d in (1, 1, 2)]
    with ConfiguredHosts(tmp_path, 3, settings).start_all() as h:
        h.start_configured_group(3)
        leader = h.leader()
        assert leader in (0, 1)
        _propose(h.host(leader), 1, b"d=1")
        assert retry(lambda: h.host(1 - leader).sync_read(1, "d", 5.0), idempotent=True) == "1"
        stranger = h.host(2)
        # Host 2 refuses every batch of the others' (heartbeats every 10 ms)...
        _until(lambda: stranger.get_health_metrics()[
            "dragonboat_transport_deployment_mismatches_total"] >= 50,
            "host 2 refused the group's traffic")
        # ... so its replica never hears of the leader nor gets the data.
        assert stranger.get_leader_id(1)[1] is False
        assert stranger.stale_read(1, "d") is None
        assert h.host(leader).get_health_metrics(1)["dragonboat_raft_is_leader"] == 1


def _make_certificates(d: Path, names: list[str]) -> None:
    """A throwaway CA and a certificate per name it signed (as tests/cpp/tcp_tls_test.cc)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=ca")
    for n in names:
        run("req", *ec, "-keyout", f"{n}.key", "-out", f"{n}.csr", "-subj", f"/CN={n}")
        run("x509", "-req", "-in", f"{n}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{n}.crt", "-days", "2")


def test_mutual_tls_group_writes_and_reads(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command line tool")
    certs = tmp_path / "certs"
    certs.mkdir()
    names = ["nh0", "nh1", "nh2"]
    _make_certificates(certs, names)
    logs = [EventLog() for _ in names]
    settings: list[dict[str, Any]] = [
        {"mutual_tls": True, "ca_file": str(certs / "ca.crt"), "cert_file": str(certs / f"{n}.crt"),
         "key_file": str(certs / f"{n}.key"), "system_event_listener": log}
        for n, log in zip(names, logs)]
    with ConfiguredHosts(tmp_path, 3, settings).start_all() as h:
        h.start_configured_group(3)
        leader = h.leader()
        follower = h.host((leader + 1) % 3)
        _propose(follower, 1, b"tls=1")
        other = h.host((leader + 2) % 3)
        assert retry(lambda: other.sync_read(1, "tls", 5.0), idempotent=True) == "1"
        # TLS is really on: a host speaking plain TCP cannot be talked to.
        plain, plain_address = _single(tmp_path / "plain")
        with plain:
            nh = h.host(h.leader())
            retry(lambda: nh.sync_request_add_observer(1, 4, plain_address, 0, 5.0))

            def refused() -> bool:  # by whichever host sends to it
                return any(log.position("connection_failed", lambda i: i.address == plain_address)
                           >= 0 for log in logs)

            _until(refused, "a failed TLS connection to the plain host")
            assert plain.get_health_metrics()["dragonboat_transport_messages_received_total"] == 0


def _queues(send: int, receive: int) -> list[dict[str, Any]]:
    return [{"max_send_queue_size": send, "max_receive_queue_size": receive}
            for _ in range(3)]


def test_small_queues_still_make_progress_under_a_burst(tmp_path: Path) -> None:
    with ConfiguredHosts(tmp_path, 3, _queues(64 << 10, 4 << 10)).start_all() as h:
        assert h.host(0).node_host_config().max_receive_queue_size == 4 << 10
        h.start_configured_group(3)
        nh = h.host(h.leader())
        _propose(nh, 1, b"warm=1")
        session = nh.get_noop_session(1)
        value = "x" * 1024
        keys = [f"b{i}" for i in range(1000)]
        burst = [nh.propose(session, f"{k}={value}".encode(), 30.0) for k in keys]
        for k, rs in zip(keys, burst):
            r = rs.wait(60.0)
            assert r is not None
            if r.dropped():  # a leader change: not applied, propose again
                _propose(nh, 1, f"{k}={value}".encode())
            else:
                r.raise_for_outcome()
        other = h.host((h.leader() + 1) % 3)
        state = retry(lambda: other.sync_read(1, None, 10.0), idempotent=True)
        assert all(state.get(k) == value for k in keys)
        for i in range(3):  # the drop counters of both queues are exported
            assert h.host(i).get_health_metrics()[
                "dragonboat_transport_messages_dropped_total"] >= 0
            assert h.host(i).get_health_metrics(1)["dragonboat_messages_dropped_total"] >= 0


def test_a_follower_catches_up_a_backlog_larger_than_the_send_queue(tmp_path: Path) -> None:
    # A message larger than max_send_queue_size still goes out when the queue
    # is empty (as the reference); dropped each time, the follower would never
    # catch up.
    with ConfiguredHosts(tmp_path, 3, _queues(64 << 10, 0)).start_all() as h:
        h.start_configured_group(3)
        leader = h.leader()
        nh = h.host(leader)
        lagging = (leader + 1) % 3
        h.host(lagging).stop_cluster(1)
        # One at a time: each entry reaches the other follower in a small message.
        for i in range(200):
            _propose(nh, 1, f"k{i}={'x' * 1024}".encode())
        # Back, it is sent the ~200 KiB it missed in one Replicate message.
        h.start_configured(lagging, 3)
        back = h.host(lagging)
        _until(lambda: back.stale_read(1, "k199") == "x" * 1024, "caught up")


@pytest.mark.parametrize("side", ["send", "recv"])
def test_snapshot_bandwidth_limit_slows_a_catch_up(tmp_path: Path, side: str) -> None:
    rate = 2 * MiB
    settings: list[dict[str, Any]] = [
        {f"max_snapshot_{side}_bytes_per_second": rate} for _ in range(3)]
    with ConfiguredHosts(tmp_path, 3, settings).start_all() as h:
        h.start_configured_group(3)
        leader = h.leader()
        nh = h.host(leader)
        lagging = (leader + 1) % 3
        h.host(lagging).stop_cluster(1)
        # About 6.5 MiB of state that does not compress (base64 of random bytes).
        values = {f"s{i}": base64.b64encode(os.urandom(200_000)).decode() for i in range(26)}
        for k, v in values.items():
            _propose(nh, 1, f"{k}={v}".encode())
        # Compact the whole log: the lagging replica can only catch up by snapshot.
        index = nh.sync_request_snapshot(
            1, SnapshotOption(override_compaction_overhead=True, compaction_overhead=0), 30.0)
        snap = next((Path(h.dirs[leader]) / "snapshots" / f"1-{leader + 1}")
                    .rglob(f"*{index:016X}.gbsnap"))
        size = snap.stat().st_size
        assert size > 3 * SNAPSHOT_CHUNK
        start = time.monotonic()
        h.start_configured(lagging, 3)
        back = h.host(lagging)
        _until(lambda: back.get_health_metrics(1)["dragonboat_snapshots_recovered_total"] >= 1
               and back.stale_read(1, "s25") == values["s25"], "caught up by snapshot", limit=60)
        elapsed = time.monotonic() - start
        # Paced chunk by chunk: all but the last chunk wait for the rate.
        floor = (size - SNAPSHOT_CHUNK) / rate
        assert elapsed >= 0.8 * floor, f"{size} bytes at {rate} B/s in {elapsed:.2f}s"


@pytest.mark.parametrize("disabled", [True, False])
def test_disable_auto_compactions_leaves_the_logdb_to_request_compaction(
        tmp_path: Path, disabled: bool) -> None:
    log = EventLog()
    nh, address = _single(tmp_path, system_event_listener=log)
    with nh:
        nh.start_cluster({1: address}, False, lambda c, n: KV(),
                         Config(node_id=1, cluster_id=1, snapshot_entries=5,
                                compaction_overhead=1, disable_auto_compactions=disabled))
        for i in range(6):
            _propose(nh, 1, f"a{i}=1".encode())
        first = log.wait("log_compacted")
        # A later snapshot, taken after that compaction: an automatic LogDB
        # compaction runs on the snapshot worker before that snapshot's save.
        for i in range(6):
            _propose(nh, 1, f"b{i}=1".encode())
        later = log.wait("snapshot_created", lambda i: i.index > first.index + 1)
        dropped = log.wait("log_compacted", lambda i: i.index == later.index - 1)
        if not disabled:
            assert -1 < log.position("logdb_compacted") < log.position(
                "snapshot_created", lambda i: i.index == later.index)
            return
        assert log.of("logdb_compacted") == []
        r = nh.request_compaction(1, 1).wait(30.0)
        assert r is not None and r.completed()
        assert log.wait("logdb_compacted").index == dropped.index


def test_snapshot_option_overrides_the_compaction_overhead(tmp_path: Path) -> None:
    log = EventLog()
    nh, address = _single(tmp_path, system_event_listener=log)
    with nh:
        nh.start_cluster({1: address}, False, lambda c, n: KV(),
                         Config(node_id=1, cluster_id=1, compaction_overhead=2))
        for i in range(20):
            _propose(nh, 1, f"k{i}=1".encode())
        first = nh.sync_request_snapshot(
            1, SnapshotOption(override_compaction_overhead=True, compaction_overhead=5), 10.0)
        assert log.wait("log_compacted").index == first - 5
        for i in range(10):
            _propose(nh, 1, f"m{i}=1".encode())
        second = nh.sync_request_snapshot(1, None, 10.0)  # the Config's overhead
        log.wait("log_compacted", lambda i: i.index > first - 5)
        assert [e.index for e in log.of("log_compacted")] == [first - 5, second - 2]


# ---- NodeHostConfig and the state machine -----------------------------------------


def test_wal_dir_holds_the_write_ahead_log_across_a_restart(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    config = NodeHostConfig(node_host_dir=str(tmp_path / "nh"), rtt_millisecond=10,
                            raft_address=f"127.0.0.1:{free_port()}", wal_dir=str(wal))
    with NodeHost(config) as nh:
        nh.start_cluster({1: config.raft_address}, False, lambda c, n: KV(),
                         Config(node_id=1, cluster_id=1))
        for i in range(20):
            _propose(nh, 1, f"w{i}={i}".encode())
        assert any(p.stat().st_size > 0 for p in wal.rglob("*.log")), "no WAL in wal_dir"
        assert list((tmp_path / "nh").rglob("*.log")) == [], "a WAL beside the data"
    with NodeHost(config) as nh:
        nh.start_cluster({}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=1))
        state = retry(lambda: nh.sync_read(1, None, 5.0), idempotent=True)
        assert state == {f"w{i}": str(i) for i in range(20)}


class Closing(KV):
    def __init__(self) -> None:
        super().__init__()
        self.closes = 0
        self.closed = threading.Event()

    def close(self) -> None:
        self.closes += 1
        self.closed.set()


def test_busy_polling_hosts_apply_every_write_once(tmp_path: Path) -> None:
    """busy_poll_microseconds changes how engine threads wait, never what
    they do: one write at a time (the path polling is for) and a burst in
    flight reach every replica's checker exactly once, in order."""
    want = CheckerState()
    with ConfiguredHosts(tmp_path, 3, [{"busy_poll_microseconds": 2_000}] * 3) as h:
        h.start_all()
        initial = {j + 1: h.addresses[j] for j in range(3)}
        for i in range(3):
            h.host(i).start_cluster(initial, False, lambda c, n: Checker(), h.group_config(i))
        leader = h.host(h.leader())
        session = leader.get_noop_session(1)
        def write(cmd: bytes) -> int:
            return retry(lambda: leader.sync_propose(session, cmd, 5.0)).value

        def state(host: NodeHost) -> bytes:
            return bytes(retry(lambda: host.sync_read(1, b"state", 5.0), idempotent=True))

        for i in range(100):
            cmd = f"one-{i}".encode()
            assert write(cmd) == want.apply(cmd), "a double or skipped apply"
        # Gaps between writes one at a time are far below 2 ms: polling found work.
        assert sum(h.host(i).get_health_metrics()["dragonboat_busy_poll_wakeups_total"]
                   for i in range(3)) > 0
        burst = [f"burst-{i}".encode() for i in range(200)]
        pending = [leader.propose(session, cmd, 10.0) for cmd in burst]
        for rs in pending:
            result = rs.wait()
            assert result is not None and result.completed()
        for cmd in burst:
            want.apply(cmd)
        for i in range(3):
            assert state(h.host(i)) == want.lookup(b"state"), f"host {i}"


def test_state_machine_close_is_called_when_its_replica_stops(tmp_path: Path) -> None:
    nh, address = _single(tmp_path)
    sms = {1: Closing(), 2: Closing()}
    with nh:
        for cid in sms:
            nh.start_cluster({1: address}, False, lambda c, n: sms[c],
                             Config(node_id=1, cluster_id=cid))
            _propose(nh, cid, b"c=1")
        assert not sms[1].closed.is_set() and not sms[2].closed.is_set()
        nh.stop_cluster(1)
        assert sms[1].closed.wait(10.0), "close() not called by stop_cluster"
        assert not sms[2].closed.is_set()
    assert sms[2].closed.wait(10.0), "close() not called by NodeHost.stop"
    assert sms[1].closes == 1 and sms[2].closes == 1
