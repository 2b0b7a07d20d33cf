"""The Python NodeHost API over three in-process NodeHosts (real TCP, RocksDB)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import KV, Hosts, free_port, retry, running_hosts

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig, Result, errors


def test_propose_and_read_linearizably_from_a_follower(three: Hosts) -> None:
    leader = three.leader()
    follower = (leader + 1) % 3
    nh = three.host(follower)
    session = nh.get_noop_session(1)
    result = retry(lambda: nh.sync_propose(session, b"x=1", 5.0))
    assert result == Result(1, b"")
    other = three.host((leader + 2) % 3)
    assert retry(lambda: other.sync_read(1, "x", 5.0), idempotent=True) == "1"
    # ReadIndex + ReadLocalNode; any Python object as the query.
    rs = other.read_index(1, 5.0)
    r = rs.wait(10.0)
    assert r is not None and r.completed()
    assert other.read_local_node(rs, None) == {"x": "1"}


def test_sessions_apply_a_retried_proposal_once(three: Hosts) -> None:
    nh = three.host(three.leader())
    session = retry(lambda: nh.sync_get_session(1, 5.0), idempotent=True)
    first = nh.sync_propose(session, b"k=1", 5.0)
    again = nh.sync_propose(session, b"k=1", 5.0)  # a retry, e.g. after a timeout
    assert again == first
    session.proposal_completed()
    assert nh.sync_propose(session, b"k2=2", 5.0).value == 2
    nh.sync_close_session(session, 5.0)
    session.proposal_completed()
    with pytest.raises(errors.RejectedError):
        nh.sync_propose(session, b"k3=3", 5.0)


def test_asyncio_runs_many_concurrent_proposals(three: Hosts) -> None:
    nh = three.host(three.leader())
    session = nh.get_noop_session(1)
    retry(lambda: nh.sync_propose(session, b"warm=1", 5.0))

    async def main() -> list[dragonboat.RequestResult]:
        states = [nh.propose(session, f"a{i}=1".encode(), 10.0) for i in range(200)]
        return list(await asyncio.gather(*(asyncio.ensure_future(_wait(s)) for s in states)))

    async def _wait(rs: dragonboat.RequestState) -> dragonboat.RequestResult:
        return await rs

    results = asyncio.run(main())
    assert len(results) == 200 and all(r.completed() for r in results)


def test_other_threads_run_while_sync_propose_waits(three: Hosts) -> None:
    # The state machine blocks on "wait" until another Python thread releases
    # it: that thread can only run if sync_propose released the GIL.
    leader = three.leader()
    nh = three.host(leader)
    release = threading.Event()
    progressed: list[int] = []
    for sm in three.sms.values():
        original = sm.update

        def update(data: bytes, original: object = original) -> int:
            if data == b"wait=1":
                release.wait(30)
            return original(data)  # type: ignore[operator,no-any-return]

        sm.update = update  # type: ignore[method-assign]

    def helper() -> None:
        for i in range(1000):
            progressed.append(i)
        release.set()

    t = threading.Thread(target=helper)
    t.start()
    assert retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"wait=1", 30.0)).value >= 1
    t.join()
    assert len(progressed) == 1000


def test_membership_add_and_delete(tmp_path: Path) -> None:
    with running_hosts(tmp_path, 4) as h:
        leader = h.host(h.leader())
        retry(lambda: leader.sync_request_add_node(1, 4, h.addresses[3], 0, 5.0))
        h.host(3).start_cluster({}, True, h.factory(3), Config(node_id=4, cluster_id=1,
                                                               election_rtt=10))
        m = retry(lambda: h.host(3).sync_get_cluster_membership(1, 5.0), idempotent=True)
        assert set(m.nodes) == {1, 2, 3, 4}
        retry(lambda: leader.sync_propose(leader.get_noop_session(1), b"j=1", 5.0))
        assert retry(lambda: h.host(3).sync_read(1, "j", 5.0), idempotent=True) == "1"
        retry(lambda: h.host(3).sync_request_delete_node(1, 2, 0, 5.0))
        m = retry(lambda: h.host(3).sync_get_cluster_membership(1, 5.0), idempotent=True)
        assert 2 in m.removed and 2 not in m.nodes
        with pytest.raises(errors.RejectedError):
            retry(lambda: h.host(3).sync_request_add_node(1, 2, h.addresses[1], 0, 5.0))


def test_errors_are_named_exceptions(three: Hosts) -> None:
    nh = three.host(three.leader())
    session = nh.get_noop_session(1)
    with pytest.raises(errors.PayloadTooBigError) as too_big:
        nh.propose(session, b"x" * (9 << 20), 1.0)
    assert isinstance(too_big.value, ValueError) and not dragonboat.is_temp_error(too_big.value)
    with pytest.raises(errors.ClusterNotFoundError):
        nh.stale_read(99, "x")
    with pytest.raises(errors.TimeoutTooSmallError):
        nh.propose(session, b"x=1", 0.001)
    with pytest.raises(TypeError):
        nh.propose(session, "not bytes", 1.0)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidClusterSettingsError, match="election_rtt"):
        nh.start_cluster({}, True, lambda c, n: KV(), Config(node_id=1, cluster_id=2,
                                                              election_rtt=1))
    with pytest.raises(errors.InvalidAddressError):
        NodeHost(NodeHostConfig(node_host_dir="/tmp/x", raft_address="nowhere"))
    with pytest.raises(errors.ClusterAlreadyExistError):
        nh.start_cluster({}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=1))
    with pytest.raises(errors.LockDirectoryError):
        NodeHost(NodeHostConfig(node_host_dir=three.dirs[0], raft_address=three.addresses[0]))
    nh.stop()
    with pytest.raises(errors.SystemStoppedError):
        nh.propose(session, b"x=1", 1.0)


def test_request_results_carry_the_outcome(three: Hosts) -> None:
    leader = three.host(three.leader())
    ok = retry(lambda: _completed(leader.propose(leader.get_noop_session(1), b"r=7", 5.0)))
    assert ok.completed() and ok.code == "completed"
    assert not (ok.timeout() or ok.terminated() or ok.rejected() or ok.dropped() or ok.aborted())
    assert isinstance(ok.get_result(), Result) and ok.snapshot_index == 0
    ok.raise_for_outcome()  # completed: returns
    assert "completed" in repr(ok)
    # A group with no quorum (its other members never start): the proposal
    # cannot complete; its outcome names why and raises a temporary error.
    lone = three.host(0)
    lone.start_cluster({1: three.addresses[0], 2: "127.0.0.1:1", 3: "127.0.0.1:2"}, False,
                       lambda c, n: KV(), Config(node_id=1, cluster_id=7, election_rtt=10))
    r = lone.propose(lone.get_noop_session(7), b"x=1", 0.5).wait(30.0)
    assert r is not None and r.code in ("timeout", "dropped")
    assert [r.timeout(), r.dropped()].count(True) == 1 and not r.completed()
    with pytest.raises(errors.TemporaryError):
        r.raise_for_outcome()


def _completed(rs: dragonboat.RequestState) -> dragonboat.RequestResult:
    r = rs.wait(10.0)
    assert r is not None
    r.raise_for_outcome()  # a dropped proposal (leader change) is retried
    return r


def test_logdb_shards_default_is_automatic(tmp_path: Path) -> None:
    cfg = NodeHostConfig(node_host_dir=str(tmp_path / "nh"),
                         raft_address=f"127.0.0.1:{free_port()}")
    assert cfg.logdb_shards == 0  # automatic: the directory's recorded count, else per cores
    with NodeHost(cfg) as nh:
        shards = nh.node_host_config().logdb_shards
    assert 1 <= shards <= 16
    flag = (tmp_path / "nh" / "dragonboat.flag").read_text()
    assert f"logdb_shards={shards}\n" in flag
    with pytest.raises(errors.InvalidClusterSettingsError, match="logdb_shards"):
        NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "x"), raft_address="127.0.0.1:1",
                                logdb_shards=-1))


def test_a_raising_state_machine_stops_its_replica_only(three: Hosts) -> None:
    leader = three.leader()
    nh = three.host(leader)
    session = nh.get_noop_session(1)
    retry(lambda: nh.sync_propose(session, b"before=1", 5.0))
    # Every replica's update raises on this entry: each stops with the
    # traceback logged, and later requests fail with a named error.
    with pytest.raises((errors.ClusterClosedError, errors.TimeoutError)):
        nh.sync_propose(session, b"boom=1", 5.0)
    # Waiting for the stop to show: retrying a timeout is harmless here, as
    # every replica stops at boom=1, before after=1 could be applied.
    with pytest.raises(errors.ClusterClosedError):
        retry(lambda: nh.sync_propose(session, b"after=1", 1.0), limit=10, idempotent=True)


def test_metrics_and_snapshot(three: Hosts, tmp_path: Path) -> None:
    leader = three.leader()
    nh = three.host(leader)
    retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"s=1", 5.0))
    index = nh.sync_request_snapshot(1, None, 10.0)
    assert index > 0
    out = tmp_path / "metrics.txt"
    with out.open("w") as f:
        nh.write_health_metrics(f)
    assert "dragonboat_raft_term{" in out.read_text()
    # The same as numbers: host-wide, and per replica of a group.
    host = nh.get_health_metrics()
    assert host["dragonboat_logdb_saves_total"] >= 1 and "dragonboat_raft_term" not in host
    group = nh.get_health_metrics(1)
    assert group["dragonboat_raft_term"] >= 1 and group["dragonboat_raft_is_leader"] in (0.0, 1.0)
    assert group["dragonboat_raft_applied_index"] >= index  # the snapshot's index was applied
    assert group["dragonboat_snapshots_created_total"] >= 1
    with pytest.raises(errors.ClusterNotFoundError):
        nh.get_health_metrics(99)
    assert nh.has_node_info(1, leader + 1)
    assert not nh.has_node_info(1, 99)


def test_free_port_helper_gives_distinct_ports() -> None:
    assert free_port() != 0


def test_the_noop_session_is_one_immutable_object_per_group(tmp_path: Path) -> None:
    """get_noop_session is cached (a client asks for it per request): the same
    object per group, never advanced, checked as before, refused once stopped."""
    nh = NodeHost(NodeHostConfig(node_host_dir=str(tmp_path),
                                 raft_address=f"127.0.0.1:{free_port()}"))
    a = nh.get_noop_session(1)
    assert nh.get_noop_session(1) is a and a.is_noop() and a.cluster_id == 1
    b = nh.get_noop_session(2)
    assert b is not a and b.cluster_id == 2 and nh.get_noop_session(2) is b
    with pytest.raises(errors.InvalidSessionError):
        a.proposal_completed()  # the shared object cannot be changed
    assert a.series_id == nh.get_noop_session(1).series_id
    with pytest.raises(TypeError):
        nh.get_noop_session(True)  # a bool equal to a cached ID is still refused
    with pytest.raises(ValueError):
        nh.get_noop_session(-1)
    nh.stop()
    with pytest.raises(errors.SystemStoppedError):
        nh.get_noop_session(1)


def test_stop_while_other_threads_are_inside_calls(tmp_path: Path) -> None:
    """nh.stop() from one thread while others are inside GIL-released calls (a
    metrics scrape, node info, sync_propose, sync_read): each call ends with a
    clean error and the process survives. The engine NodeHost is destroyed only
    once those calls have left it (before, stop() freed it under their feet)."""
    for rnd in range(6):
        outcomes = _stop_under_calls(tmp_path / str(rnd))
        assert len(outcomes) == 4
        # A call that found the host stopped, or a request the stop terminated.
        assert set(outcomes) <= {"SystemStoppedError", "ClusterClosedError"}, outcomes


def _stop_under_calls(directory: Path) -> list[str]:
    address = f"127.0.0.1:{free_port()}"
    nh = NodeHost(NodeHostConfig(node_host_dir=str(directory), raft_address=address,
                                 rtt_millisecond=5))
    for g in (1, 2):
        nh.start_cluster({1: address}, False, lambda c, n: KV(),
                         Config(node_id=1, cluster_id=g, election_rtt=10, heartbeat_rtt=1))
    session = nh.get_noop_session(1)
    retry(lambda: nh.sync_propose(session, b"k=v", 2.0))
    ready = threading.Barrier(5)
    outcomes: list[str] = []

    def loop(call: Callable[[], object]) -> None:
        ready.wait()
        while True:
            try:
                call()
            except errors.DragonboatError as e:  # the stop reached this thread
                outcomes.append(type(e).__name__)
                return

    calls: list[Callable[[], object]] = [
        nh.get_health_metrics, nh.get_node_host_info,
        lambda: nh.sync_propose(session, b"k=v", 2.0), lambda: nh.sync_read(2, "k", 2.0)]
    threads = [threading.Thread(target=loop, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    ready.wait()
    nh.stop()
    for t in threads:
        t.join()
    return outcomes


def test_stop_from_a_state_machine_is_refused_not_a_deadlock(tmp_path: Path) -> None:
    """A state machine (an engine thread running Python) calling nh.stop() gets
    InvalidOperationError: the stop would wait for that very update to return.
    A done-callback, on the bindings' own dispatcher thread, may stop it."""
    address = f"127.0.0.1:{free_port()}"
    nh = NodeHost(NodeHostConfig(node_host_dir=str(tmp_path), raft_address=address,
                                 rtt_millisecond=5))
    refused: list[BaseException] = []

    class Stopper(KV):
        def update(self, data: bytes) -> int:
            try:
                nh.stop()
            except errors.DragonboatError as e:
                refused.append(e)
            return super().update(data)

    nh.start_cluster({1: address}, False, lambda c, n: Stopper(),
                     Config(node_id=1, cluster_id=1, election_rtt=10, heartbeat_rtt=1))
    session = nh.get_noop_session(1)
    retry(lambda: nh.sync_propose(session, b"k=v", 2.0))
    assert refused and all(isinstance(e, errors.InvalidOperationError) for e in refused), refused
    stopped = threading.Event()

    def stop_from_callback(r: dragonboat.RequestResult) -> None:
        nh.stop()
        stopped.set()

    nh.propose(session, b"k=w", 2.0).add_done_callback(stop_from_callback)
    assert stopped.wait(30)
    with pytest.raises(errors.SystemStoppedError):
        nh.get_noop_session(1)


_EXIT_WITHOUT_STOP = """
import sys
import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig
from dragonboat.bench import Counter

address = sys.argv[2]
nh = NodeHost(NodeHostConfig(node_host_dir=sys.argv[1], raft_address=address,
                             rtt_millisecond=5))
nh.start_cluster({1: address}, False, lambda c, n: Counter(),
                 Config(node_id=1, cluster_id=1, election_rtt=10, heartbeat_rtt=1))
s = nh.get_noop_session(1)
dragonboat.retry(lambda: nh.sync_propose(s, b"x", 2.0))
for _ in range(500):
    nh.propose(s, b"x", 5.0)  # still being applied when the script ends
print("exiting without stop", flush=True)
"""


def test_a_script_ending_without_stop_and_with_requests_in_flight_exits(tmp_path: Path) -> None:
    """The NodeHost is stopped at exit (atexit), not from the interpreter's
    finalization, where an apply worker inside a Python batch could no longer
    take the GIL and the stop waited for it forever (the process hung)."""
    script = tmp_path / "ends_without_stop.py"  # (run as `python -c`, it did not hang)
    script.write_text(_EXIT_WITHOUT_STOP)
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "nh"),
                          f"127.0.0.1:{free_port()}"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "exiting without stop" in out.stdout


def _engine_threads() -> int:
    """The engine's worker threads in this process (named db-step-N, db-apply-N, ...)."""
    names = []
    for t in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{t}/comm") as f:
                names.append(f.read().strip())
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return sum(n.startswith(("db-step", "db-apply", "db-snap", "db-tick", "db-io")) for n in names)


def test_concurrent_stops_both_return_once_the_engine_is_stopped(tmp_path: Path) -> None:
    """Two threads call nh.stop() at once: neither returns before the engine's
    threads are gone (the second used to return at once, mid-stop)."""
    before = _engine_threads()
    address = f"127.0.0.1:{free_port()}"
    nh = NodeHost(NodeHostConfig(node_host_dir=str(tmp_path), raft_address=address,
                                 rtt_millisecond=5))
    nh.start_cluster({1: address}, False, lambda c, n: KV(),
                     Config(node_id=1, cluster_id=1, election_rtt=10, heartbeat_rtt=1))
    assert _engine_threads() > before
    together = threading.Barrier(2)
    seen: list[int] = []

    def stop() -> None:
        together.wait()
        nh.stop()
        seen.append(_engine_threads())  # at once, as a caller would go on

    threads = [threading.Thread(target=stop) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [before, before]
