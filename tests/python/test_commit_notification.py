"""notify_commit: a proposal's RequestState reports its entry committed before
the entry is applied (committed(), wait_committed(), committed_future());
without it, only completion marks it.

The proposer's state machine blocks in the update of one entry: once it is
applying that entry, the entry is committed, and the engine marks the request
committed before handing the entry to the apply worker — so with
notify_commit the mark is already there, and without it it is not yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from conftest import KV, GatedKV, Hosts, retry
from hostile_util import ANY_OBJECT, BAD_TIMEOUT, FAST, Env, call_cleanly
from hypothesis import given
from hypothesis import strategies as st

from dragonboat import Config, NodeHostConfig, RequestState

GATE = b"gate=1"


class GatedHosts(Hosts):
    """Three NodeHosts (notify_commit as given) whose replicas of cluster 1 are Gated."""

    def __init__(self, tmp: Path, notify_commit: bool) -> None:
        super().__init__(tmp, 3)
        self.notify_commit = notify_commit
        self.gates: dict[int, GatedKV] = {}

    def config(self, i: int) -> NodeHostConfig:
        return dataclasses.replace(super().config(i), notify_commit=self.notify_commit)

    def factory(self, i: int) -> Callable[[int, int], KV]:
        def make(cluster_id: int, node_id: int) -> KV:
            sm = self.gates[i] = GatedKV(GATE)
            return sm

        return make

    def release_all(self) -> None:
        for gate in self.gates.values():
            gate.release.set()


@contextlib.contextmanager
def gated_hosts(tmp: Path, notify_commit: bool) -> Iterator[GatedHosts]:
    h = GatedHosts(tmp, notify_commit)
    try:
        for i in range(3):
            h.start(i)
        h.start_group(3)
        yield h
    finally:
        h.release_all()  # never leave an apply worker blocked at stop
        h.stop()


def propose_gate(h: GatedHosts) -> RequestState:
    """Proposes GATE on the leader; returns once the leader's own state
    machine is applying it (and blocked there)."""
    i = h.leader()
    nh = h.host(i)
    retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"warm=1", 5.0))
    rs = nh.propose(nh.get_noop_session(1), GATE, 60.0)
    assert h.gates[i].entered.wait(30), "the entry was never applied"
    return rs


def test_notify_commit_marks_the_entry_before_it_is_applied(tmp_path: Path) -> None:
    with gated_hosts(tmp_path, notify_commit=True) as h:
        rs = propose_gate(h)
        # Committed (it is being applied) but not complete (apply is blocked).
        assert rs.committed() and not rs.done()
        assert rs.wait_committed(0) is True
        assert rs.wait_committed() is True  # no limit: returns at once

        async def main() -> bool:
            return await asyncio.wait_for(rs.committed_future(), 10.0)

        assert asyncio.run(main()) is True
        assert not rs.done()
        h.release_all()
        r = rs.wait(30.0)
        assert r is not None and r.completed()
        assert rs.committed() and rs.wait_committed(0) is True


def test_without_notify_commit_only_completion_marks_the_entry(tmp_path: Path) -> None:
    with gated_hosts(tmp_path, notify_commit=False) as h:
        rs = propose_gate(h)
        # The entry is committed (being applied), but nothing marks the request.
        assert not rs.committed() and not rs.done()
        assert rs.wait_committed(0.2) is False  # a timeout, not a mark
        waited: list[bool] = []
        waiter = threading.Thread(target=lambda: waited.append(rs.wait_committed(60)))
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive() and not waited  # blocked, with the GIL released

        async def main() -> bool:
            fut = rs.committed_future()
            await asyncio.sleep(0.2)
            assert not fut.done()  # the loop runs: nothing has resolved it
            h.release_all()
            return await asyncio.wait_for(fut, 30.0)

        # Resolved by completion: then the request is complete as well.
        assert asyncio.run(main()) is True
        assert rs.done() and rs.committed()
        waiter.join(30.0)
        assert waited == [True]
        r = rs.wait(0)
        assert r is not None and r.completed()


def test_a_request_that_fails_is_not_committed(tmp_path: Path) -> None:
    with gated_hosts(tmp_path, notify_commit=True) as h:
        nh = h.host(0)
        # A group whose other members never start: no leader, nothing commits.
        nh.start_cluster({1: h.addresses[0], 2: "127.0.0.1:1", 3: "127.0.0.1:2"}, False,
                         lambda c, n: KV(), Config(node_id=1, cluster_id=7, election_rtt=10))
        rs = nh.propose(nh.get_noop_session(7), b"x=1", 0.5)

        async def main() -> bool:
            return await asyncio.wait_for(rs.committed_future(), 30.0)

        assert asyncio.run(main()) is False  # resolved when it ended (dropped or timed out)
        assert rs.wait_committed() is False
        assert rs.done() and not rs.committed()
        r = rs.wait(0)
        assert r is not None and not r.completed()


@FAST
@given(timeout=st.one_of(ANY_OBJECT, BAD_TIMEOUT, st.floats()))
def test_wait_committed_takes_any_timeout(env: Env, timeout: Any) -> None:
    # env.done_rs is a completed read: committed, so any valid timeout returns True.
    out = call_cleanly(lambda: env.done_rs.wait_committed(timeout), "timeout")
    if timeout is None or (isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
                           and timeout == timeout):  # not NaN
        assert out is True, out
