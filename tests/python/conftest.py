"""Shared fixtures: free loopback ports, temporary NodeHost directories, a KV state machine."""

from __future__ import annotations

import contextlib
import faulthandler
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig, Session, StateMachine
from dragonboat.errors import ClusterNotFoundError, TemporaryError
from dragonboat.statemachine import SnapshotReader, SnapshotWriter

if TYPE_CHECKING:
    from hostile_util import Env

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class KV(StateMachine):
    """``b"key=value"`` sets a key; a query is a key; the result is the number of keys."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.updates = 0

    def update(self, data: bytes) -> int:
        key, _, value = data.decode().partition("=")
        if key == "boom":
            raise RuntimeError("boom: this state machine refuses the entry")
        self.data[key] = value
        self.updates += 1
        return len(self.data)

    def lookup(self, query: Any) -> Any:
        if query is None:
            return dict(self.data)
        if isinstance(query, bytes):  # na_read_local_node and C++-style callers
            query = query.decode()
        return self.data.get(query)

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        for k, v in sorted(self.data.items()):
            writer.write(f"{k}={v}\n".encode())

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        text = reader.read().decode()
        self.data = dict(line.split("=", 1) for line in text.splitlines() if line)


def retry(fn: Callable[[], T], limit: float = 30.0, *, session: Session | None = None,
          idempotent: bool = False) -> T:
    """Calls fn until it stops raising a temporary error (a leader is elected...).

    As dragonboat.retry: a no-op proposal is retried only while it is surely
    not applied (dropped, busy), not after a timeout; ``session=`` for a
    proposal through that registered session, ``idempotent=True`` for reads
    and polling.
    """
    return dragonboat.retry(fn, timeout=limit, interval=0.01, session=session,
                            idempotent=idempotent)


class Hosts:
    """N NodeHosts in this process with one group (cluster 1) on all of them."""

    def __init__(self, tmp: Path, n: int) -> None:
        self.addresses = [f"127.0.0.1:{free_port()}" for _ in range(n)]
        self.dirs = [str(tmp / f"nh{i}") for i in range(n)]
        self.hosts: list[NodeHost | None] = [None] * n
        self.sms: dict[int, KV] = {}

    def config(self, i: int) -> NodeHostConfig:
        return NodeHostConfig(node_host_dir=self.dirs[i], raft_address=self.addresses[i],
                              rtt_millisecond=10)

    def start(self, i: int) -> NodeHost:
        nh = NodeHost(self.config(i))
        self.hosts[i] = nh
        return nh

    def host(self, i: int) -> NodeHost:
        nh = self.hosts[i]
        assert nh is not None
        return nh

    def factory(self, i: int) -> Callable[[int, int], KV]:
        def make(cluster_id: int, node_id: int) -> KV:
            sm = KV()
            self.sms[i] = sm
            return sm

        return make

    def start_replica(self, i: int, members: int, cluster_id: int = 1,
                      check_quorum: bool = True) -> None:
        """Host i's replica (node i + 1) of a group of the first ``members`` hosts."""
        initial = {j + 1: self.addresses[j] for j in range(members)}
        self.host(i).start_cluster(initial, False, self.factory(i),
                                   Config(node_id=i + 1, cluster_id=cluster_id, election_rtt=10,
                                          check_quorum=check_quorum))

    def start_group(self, members: int, cluster_id: int = 1, check_quorum: bool = True) -> None:
        for i in range(members):
            self.start_replica(i, members, cluster_id, check_quorum)

    def leader(self, cluster_id: int = 1) -> int:
        """The index of the host whose replica leads ``cluster_id`` (waits for one)."""

        def find() -> int:
            for nh in self.hosts:
                if nh is None:
                    continue
                try:
                    leader, valid = nh.get_leader_id(cluster_id)
                except ClusterNotFoundError:
                    continue  # this host does not run the group (yet)
                if valid and self.hosts[leader - 1] is not None:
                    return leader - 1
            raise TemporaryError("no leader yet")

        return retry(find, idempotent=True)

    def stop(self) -> None:
        for nh in self.hosts:
            if nh is not None:
                nh.stop()


@contextlib.contextmanager
def running_hosts(tmp: Path, n: int, members: int = 3) -> Iterator[Hosts]:
    """``n`` NodeHosts started, group 1 on the first ``members``; all stopped after."""
    h = Hosts(tmp, n)
    try:
        for i in range(n):
            h.start(i)
        h.start_group(members)
        yield h
    finally:
        h.stop()


@pytest.fixture
def three(tmp_path: Path) -> Iterator[Hosts]:
    with running_hosts(tmp_path, 3) as h:
        yield h


# ---- for the hostile-input tests (test_hostile_*.py, helpers in hostile_util.py) ----


@pytest.fixture
def no_hang() -> Iterator[None]:
    """A test that hangs dumps every thread's stack and fails the run."""
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """One NodeHost per test module, its clusters running (hostile_util.module_host).

    hostile_util is imported here, not at the top: it imports Hypothesis,
    which not every test module needs."""
    from hostile_util import module_host

    yield from module_host(tmp_path_factory)
