"""Shared fixtures: free loopback ports, temporary NodeHost directories, a KV state machine."""

from __future__ import annotations

import contextlib
import dataclasses
import faulthandler
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig, Session, StateMachine
from dragonboat.errors import ClusterNotFoundError, TemporaryError
from dragonboat.events import (
    ConnectionInfo,
    EntryInfo,
    NodeInfo,
    SnapshotInfo,
    SystemEventListener,
)
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

    def na_lookup(self, query: bytes) -> bytes:
        """The reference's NALookup: bytes in, bytes out."""
        return self.data.get(query.decode(), "").encode()

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        for k, v in sorted(self.data.items()):
            writer.write(f"{k}={v}\n".encode())

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        text = reader.read().decode()
        self.data = dict(line.split("=", 1) for line in text.splitlines() if line)


class GatedKV(KV):
    """A KV whose update of ``gate`` sets ``entered`` and then waits for
    ``release`` (at most 60 s): a request the test holds in the state machine."""

    def __init__(self, gate: bytes = b"gate=1") -> None:
        super().__init__()
        self.gate = gate
        self.entered = threading.Event()
        self.release = threading.Event()

    def update(self, data: bytes) -> int:
        if data == self.gate:
            self.entered.set()
            self.release.wait(60)
        return super().update(data)


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


class ConfiguredHosts(Hosts):
    """Hosts with extra NodeHostConfig fields (``settings[i]`` for host i) and
    groups of any Config fields; ``with`` stops them all."""

    def __init__(self, tmp: Path, n: int, settings: list[dict[str, Any]] | None = None) -> None:
        super().__init__(tmp, n)
        self.settings = settings if settings is not None else [{} for _ in range(n)]

    def config(self, i: int) -> NodeHostConfig:
        return dataclasses.replace(super().config(i), **self.settings[i])

    def __enter__(self) -> ConfiguredHosts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start_all(self) -> ConfiguredHosts:
        for i in range(len(self.hosts)):
            self.start(i)
        return self

    def group_config(self, i: int, cluster_id: int = 1, **fields: Any) -> Config:
        """Host i's node (i + 1): election_rtt 10, check_quorum on, then ``fields``."""
        return Config(**{"node_id": i + 1, "cluster_id": cluster_id, "election_rtt": 10,
                         "check_quorum": True, **fields})

    def start_configured(self, i: int, members: int, cluster_id: int = 1,
                         **fields: Any) -> None:
        """As start_replica, with any Config ``fields``."""
        initial = {j + 1: self.addresses[j] for j in range(members)}
        self.host(i).start_cluster(initial, False, self.factory(i),
                                   self.group_config(i, cluster_id, **fields))

    def start_configured_group(self, members: int, cluster_id: int = 1, **fields: Any) -> None:
        for i in range(members):
            self.start_configured(i, members, cluster_id, **fields)


class EventLog(SystemEventListener):
    """Records every system event of a NodeHost, in order, as ``(name, info)``;
    ``wait`` blocks (on a condition, with a timeout) until a matching one arrived."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []
        self._cond = threading.Condition()

    def _add(self, name: str, info: Any) -> None:
        with self._cond:
            self.seen.append((name, info))
            self._cond.notify_all()

    def of(self, name: str) -> list[Any]:
        """The infos of the ``name`` events so far, in order."""
        with self._cond:
            return [info for n, info in self.seen if n == name]

    def position(self, name: str, pred: Callable[[Any], bool] = lambda info: True) -> int:
        """Where the first matching ``name`` event is in ``seen`` (-1: none yet)."""
        with self._cond:
            return next((i for i, (n, info) in enumerate(self.seen) if n == name and pred(info)),
                        -1)

    def wait_count(self, name: str, n: int, timeout: float) -> bool:
        """Whether ``n`` ``name`` events arrived (waiting up to ``timeout`` seconds)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: sum(1 for e, _ in self.seen if e == name) >= n, timeout)

    def wait(self, name: str, pred: Callable[[Any], bool] = lambda info: True,
             timeout: float = 30.0) -> Any:
        """The first ``name`` event whose info satisfies ``pred`` (AssertionError
        naming what did arrive if none does within ``timeout`` seconds)."""
        with self._cond:
            def find() -> Any:
                return next((info for n, info in self.seen if n == name and pred(info)), None)

            if not self._cond.wait_for(lambda: find() is not None, timeout):
                raise AssertionError(f"no matching {name} event within {timeout}s; "
                                     f"seen: {[n for n, _ in self.seen]}")
            return find()

    def node_ready(self, info: NodeInfo) -> None:
        self._add("node_ready", info)

    def node_unloaded(self, info: NodeInfo) -> None:
        self._add("node_unloaded", info)

    def membership_changed(self, info: NodeInfo) -> None:
        self._add("membership_changed", info)

    def connection_established(self, info: ConnectionInfo) -> None:
        self._add("connection_established", info)

    def connection_failed(self, info: ConnectionInfo) -> None:
        self._add("connection_failed", info)

    def send_snapshot_started(self, info: SnapshotInfo) -> None:
        self._add("send_snapshot_started", info)

    def send_snapshot_completed(self, info: SnapshotInfo) -> None:
        self._add("send_snapshot_completed", info)

    def send_snapshot_aborted(self, info: SnapshotInfo) -> None:
        self._add("send_snapshot_aborted", info)

    def snapshot_received(self, info: SnapshotInfo) -> None:
        self._add("snapshot_received", info)

    def snapshot_recovered(self, info: SnapshotInfo) -> None:
        self._add("snapshot_recovered", info)

    def snapshot_created(self, info: SnapshotInfo) -> None:
        self._add("snapshot_created", info)

    def snapshot_compacted(self, info: SnapshotInfo) -> None:
        self._add("snapshot_compacted", info)

    def log_compacted(self, info: EntryInfo) -> None:
        self._add("log_compacted", info)

    def logdb_compacted(self, info: EntryInfo) -> None:
        self._add("logdb_compacted", info)


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
