"""NodeHost operations from Python: observers and witnesses, leader transfer,
client sessions registered by hand, na_read_local_node, completion callbacks,
the replica lifecycle (stop_node, sync_remove_data, host accessors), the local
membership view, and the worker and pending-request settings."""

from __future__ import annotations

import asyncio
import collections
import gc
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import KV, GatedKV, Hosts, free_port, retry, running_hosts

from dragonboat import (
    Config,
    NodeHost,
    NodeHostConfig,
    RequestResult,
    RequestState,
    Session,
    errors,
    request_state,
)


def _done(rs: RequestState) -> RequestResult:
    """Waits for ``rs``; raises its outcome's exception unless completed."""
    r = rs.wait(10.0)
    assert r is not None
    r.raise_for_outcome()
    return r


def _no_quorum_group(h: Hosts, cluster_id: int) -> None:
    """A group on host 0 whose other members never start: nothing completes."""
    h.host(0).start_cluster({1: h.addresses[0], 2: "127.0.0.1:1", 3: "127.0.0.1:2"}, False,
                            lambda c, n: KV(), Config(node_id=1, cluster_id=cluster_id,
                                                      election_rtt=10))


def test_observer_reads_witness_votes_and_observer_promotion(tmp_path: Path) -> None:
    with running_hosts(tmp_path, 5) as h:
        leader = h.host(h.leader())
        retry(lambda: leader.sync_propose(leader.get_noop_session(1), b"a=1", 5.0))
        # The asynchronous form: a RequestState completing with the change.
        retry(lambda: _done(leader.request_add_observer(1, 4, h.addresses[3], 0, 5.0)))
        h.host(3).start_cluster({}, True, h.factory(3), Config(node_id=4, cluster_id=1,
                                                               election_rtt=10, is_observer=True))
        # An observer serves linearizable reads (through the leader) and has the data.
        assert retry(lambda: h.host(3).sync_read(1, "a", 5.0), idempotent=True) == "1"
        retry(lambda: leader.sync_request_add_witness(1, 5, h.addresses[4], 0, 5.0))
        h.host(4).start_cluster({}, True, h.factory(4), Config(node_id=5, cluster_id=1,
                                                               election_rtt=10, is_witness=True))
        m = retry(lambda: leader.sync_get_cluster_membership(1, 5.0), idempotent=True)
        assert set(m.nodes) == {1, 2, 3}
        assert m.observers == {4: h.addresses[3]} and m.witnesses == {5: h.addresses[4]}
        # A witness has no state machine: proposals and reads are refused.
        witness = h.host(4)
        with pytest.raises(errors.InvalidOperationError):
            witness.sync_propose(witness.get_noop_session(1), b"w=1", 2.0)
        with pytest.raises(errors.InvalidOperationError):
            witness.sync_read(1, "a", 2.0)
        # Adding the observer as a node promotes it.
        retry(lambda: leader.sync_request_add_node(1, 4, h.addresses[3], 0, 5.0))
        m = retry(lambda: leader.sync_get_cluster_membership(1, 5.0), idempotent=True)
        assert 4 in m.nodes and 4 not in m.observers
        # A voting member cannot be demoted to an observer.
        with pytest.raises(errors.RejectedError):
            leader.sync_request_add_observer(1, 2, h.addresses[1], 0, 5.0)


def test_leader_transfer(three: Hosts) -> None:
    old = three.leader()
    target = (old + 1) % 3 + 1  # a follower's node ID
    nh = three.host(old)
    nh.request_leader_transfer(1, target)

    def moved() -> None:
        leader, ok = three.host(target - 1).get_leader_id(1)
        if not (ok and leader == target):
            raise errors.TemporaryError("not transferred yet")

    retry(moved, idempotent=True)
    with pytest.raises(errors.InvalidTargetError):
        three.host(target - 1).request_leader_transfer(1, 99)
    with pytest.raises(errors.ClusterNotFoundError):
        nh.request_leader_transfer(42, 1)


def test_session_registered_used_and_unregistered_by_hand(three: Hosts) -> None:
    nh = three.host(three.leader())
    s = Session.new(1)
    assert not s.is_noop() and s.client_id != 0 and s.cluster_id == 1
    retry(lambda: _done(nh.propose_session(s, 5.0)))
    s.prepare_for_propose()
    first = nh.sync_propose(s, b"s=1", 5.0)
    # A retry of the same proposal (session unchanged) is applied once.
    assert nh.sync_propose(s, b"s=1", 5.0) == first
    s.proposal_completed()
    nh.sync_propose(s, b"t=2", 5.0)
    s.proposal_completed()
    s.prepare_for_unregister()
    _done(nh.propose_session(s, 5.0))
    s.prepare_for_propose()
    with pytest.raises(errors.RejectedError):
        nh.sync_propose(s, b"u=3", 5.0)
    noop = nh.get_noop_session(1)
    for misuse in (noop.proposal_completed, noop.prepare_for_register,
                   noop.prepare_for_unregister, noop.prepare_for_propose):
        with pytest.raises(errors.InvalidSessionError):
            misuse()


def test_na_read_local_node_and_done_callbacks(three: Hosts) -> None:
    nh = three.host(three.leader())
    retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"n=5", 5.0))
    rs = retry(lambda: _done_rs(nh.read_index(1, 5.0)), idempotent=True)
    assert nh.na_read_local_node(rs, b"n") == b"5"  # through KV.na_lookup
    # Callbacks: each registered one runs once with the outcome, also when
    # registered after completion; one that raises does not stop the others.
    seen: list[RequestResult] = []
    all_ran = threading.Event()

    def record(r: RequestResult) -> None:
        seen.append(r)
        if len(seen) == 3:
            all_ran.set()

    def boom(r: RequestResult) -> None:
        raise RuntimeError("a callback that raises is logged")

    p = nh.propose(nh.get_noop_session(1), b"c=1", 5.0)
    p.add_done_callback(boom)
    p.add_done_callback(record)
    p.add_done_callback(record)
    _done(p)
    p.add_done_callback(record)  # already complete: still called once
    assert all_ran.wait(10.0)
    # Completions run in order on one thread: once a callback queued now has
    # run, a duplicate call of an earlier one would have shown.
    flushed = threading.Event()
    p.add_done_callback(lambda r: flushed.set())
    assert flushed.wait(10.0)
    assert len(seen) == 3 and all(r.completed() for r in seen)
    # The request holds a callback until it has run, then lets it go (the
    # engine keeps only a pointer; the dispatcher owns the reference): it
    # runs although nothing else refers to it, and is freed after, not leaked.
    calls: list[RequestResult] = []
    called = threading.Event()

    class Callback:
        def __call__(self, r: RequestResult) -> None:
            calls.append(r)
            called.set()

    cb = Callback()
    released = weakref.ref(cb)
    q = nh.propose(nh.get_noop_session(1), b"c=2", 5.0)
    q.add_done_callback(cb)
    del cb
    assert called.wait(10.0)
    after = threading.Event()
    q.add_done_callback(lambda r: after.set())  # queued behind it: runs once it has returned
    assert after.wait(10.0)
    assert len(calls) == 1 and calls[0].completed()
    assert released() is None
    # A read that has not completed cannot be used for a local read.
    _no_quorum_group(three, 7)
    pending = three.host(0).read_index(7, 5.0)
    with pytest.raises(errors.InvalidOperationError):
        three.host(0).na_read_local_node(pending, b"n")


def _done_rs(rs: RequestState) -> RequestState:
    _done(rs)
    return rs


def test_replica_lifecycle_and_host_accessors(three: Hosts) -> None:
    i = (three.leader() + 1) % 3
    nh = three.host(i)
    assert nh.raft_address() == three.addresses[i]
    assert nh.node_host_config().node_host_dir == three.dirs[i]
    with pytest.raises(errors.ClusterNotFoundError):
        nh.stop_node(1, 99)  # not this host's node ID for the group
    other = three.host((i + 1) % 3)
    with pytest.raises(errors.ClusterNotStoppedError):
        other.sync_remove_data(1, (i + 1) % 3 + 1, 5.0)
    nh.stop_node(1, i + 1)
    with pytest.raises(errors.ClusterNotFoundError):
        nh.stale_read(1, "x")
    with pytest.raises(errors.ClusterNotFoundError):
        nh.stop_node(1, i + 1)
    assert nh.has_node_info(1, i + 1)
    nh.sync_remove_data(1, i + 1, 5.0)
    assert not nh.has_node_info(1, i + 1)
    with pytest.raises(errors.NodeRemovedError):  # as the reference: never started again
        three.start_replica(i, 3)
    info = nh.get_node_host_info()
    assert all(c.cluster_id != 1 for c in info.cluster_info) and (1, i + 1) not in info.log_info


def test_asyncio_cancelled_await_leaves_the_loop_working(three: Hosts) -> None:
    nh = three.host(three.leader())
    # A leader whose followers stopped (no check-quorum, so it stays leader):
    # its proposal is appended but cannot commit, and stays pending.
    three.start_group(3, cluster_id=7, check_quorum=False)
    stuck = three.leader(7)
    for i in range(3):
        if i != stuck:
            three.host(i).stop_cluster(7)
    lone = three.host(stuck)
    pending = lone.propose(lone.get_noop_session(7), b"x=1", 1.0)

    async def main() -> list[RequestResult]:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pending, 0.05)  # cancels the await, not the request
        session = nh.get_noop_session(1)

        async def one(i: int) -> RequestResult:
            return await retry_async(lambda: nh.propose(session, f"a{i}=1".encode(), 5.0))

        return await asyncio.gather(*(one(i) for i in range(50)))

    results = asyncio.run(main())
    assert len(results) == 50 and all(r.completed() for r in results)
    # The cancelled request still ends (its loop is closed by now): no hang,
    # no crash, and the finished loop is not kept alive by its completions.
    late = pending.wait(10.0)
    assert late is not None and not late.completed()

    def loop_freed() -> None:
        gc.collect()
        if len(request_state._LoopInbox._by_loop) != 0:
            raise errors.TemporaryError("the completion of the cancelled await is not posted yet")

    retry(loop_freed, limit=10.0, idempotent=True)


async def retry_async(make: Callable[[], RequestState]) -> RequestResult:
    """Awaits make() (a no-op proposal) until its outcome is not "dropped" (a new
    leader): a dropped proposal is not applied; one that timed out may be, so
    it is not proposed again."""
    for _ in range(100):
        r = await make()
        if not r.dropped():
            return r
        await asyncio.sleep(0.05)  # a retry interval, not synchronisation
    raise AssertionError("still failing after 100 attempts")


def test_session_proposal_retried_after_a_real_timeout_is_applied_once(three: Hosts) -> None:
    """The reference's example: propose with a registered session, time out,
    retry the same proposal with the session unchanged: applied exactly once."""
    # No check-quorum: the leader keeps leading alone.
    three.start_group(3, cluster_id=9, check_quorum=False)
    leader = three.leader(9)
    nh = three.host(leader)
    kv = three.sms[leader]  # this replica runs throughout
    # A retry registers another session; one registered by a timed-out try is never used.
    session = retry(lambda: nh.sync_get_session(9, 5.0), idempotent=True)
    followers = [i for i in range(3) if i != leader]
    for i in followers:
        three.host(i).stop_cluster(9)
    # No quorum: the leader appends the proposal but cannot commit it in time.
    with pytest.raises(errors.TimeoutError):
        nh.sync_propose(session, b"once=1", 0.5)
    # One follower back: it cannot win an election against the longer log, so
    # the old leader commits the timed-out entry and applies it.
    three.start_replica(followers[0], 3, cluster_id=9, check_quorum=False)

    def applied_once() -> None:
        if kv.updates != 1:
            raise errors.TemporaryError("the timed-out entry is not applied yet")

    retry(applied_once, idempotent=True)
    # The retry with the session unchanged is answered from the session's
    # cache instead of being applied again.
    retry(lambda: nh.sync_propose(session, b"once=1", 5.0), session=session)
    session.proposal_completed()
    assert kv.updates == 1
    assert nh.stale_read(9, "once") == "1"


def test_get_cluster_membership_is_the_local_view(three: Hosts) -> None:
    nh = three.host(three.leader())
    linear = retry(lambda: nh.sync_get_cluster_membership(1, 5.0), idempotent=True)
    local = nh.get_cluster_membership(1)  # at once: no ReadIndex round
    assert local == linear
    assert local.nodes == {i + 1: a for i, a in enumerate(three.addresses)}
    retry(lambda: nh.sync_request_add_observer(1, 9, "127.0.0.1:1", 0, 5.0))

    def observed() -> None:
        if nh.get_cluster_membership(1).observers != {9: "127.0.0.1:1"}:
            raise errors.TemporaryError("the change is not applied here yet")

    retry(observed, idempotent=True)
    assert nh.get_cluster_membership(1).config_change_id > local.config_change_id
    with pytest.raises(errors.ClusterNotFoundError):
        nh.get_cluster_membership(42)


def test_max_pending_per_node_bounds_the_waiting_proposals(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    sm = GatedKV(b"block=1")
    nh = NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                                 rtt_millisecond=10, max_pending_per_node=2))
    try:
        assert nh.node_host_config().max_pending_per_node == 2
        nh.start_cluster({1: address}, False, lambda c, n: sm, Config(node_id=1, cluster_id=1))
        s = nh.get_noop_session(1)
        retry(lambda: nh.sync_propose(s, b"warm=1", 5.0))
        # A proposal waits until applied: one blocked in update, one behind it.
        first = nh.propose(s, b"block=1", 60.0)
        assert sm.entered.wait(30)
        second = nh.propose(s, b"b=2", 60.0)
        with pytest.raises(errors.SystemBusyError, match="pending"):
            nh.propose(s, b"c=3", 60.0)
        sm.release.set()
        _done(first)
        _done(second)
        nh.sync_propose(s, b"d=4", 5.0)  # room again
        assert nh.stale_read(1, None) == {"warm": "1", "block": "1", "b": "2", "d": "4"}
    finally:
        sm.release.set()
        nh.stop()


def _threads_named(prefix: str) -> int:
    """How many threads of this process have a name starting with ``prefix``."""
    names: collections.Counter[str] = collections.Counter()
    for task in Path("/proc/self/task").iterdir():
        try:
            names[(task / "comm").read_text().strip()] += 1
        except OSError:  # the thread ended meanwhile
            continue
    return sum(n for name, n in names.items() if name.startswith(prefix))


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_snapshot_workers_sets_the_snapshot_thread_count(tmp_path: Path) -> None:
    before = _threads_named("db-snap-")  # other NodeHosts of this process

    def running(n: int) -> Callable[[], None]:
        def check() -> None:  # the engine names its threads as they start
            if _threads_named("db-snap-") - before != n:
                raise errors.TemporaryError(f"not {n} snapshot threads (yet)")

        return check

    address = f"127.0.0.1:{free_port()}"
    with NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                                 rtt_millisecond=10, snapshot_workers=3)) as nh:
        assert nh.node_host_config().snapshot_workers == 3
        retry(running(3), limit=10.0, idempotent=True)
        nh.start_cluster({1: address}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=1))
        retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"a=1", 5.0))
        assert nh.sync_request_snapshot(1, None, 5.0) > 0
    retry(running(0), limit=10.0, idempotent=True)  # joined by stop()
