"""The reference's error semantics from Python: which errors are temporary,
one membership change at a time per replica, and a state machine abandoning
a snapshot save (docs/cpp.md, "Which failures are temporary")."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import KV, Hosts, retry, running_hosts

import dragonboat
from dragonboat import SnapshotOption, errors
from dragonboat.statemachine import SnapshotWriter


def test_temporary_errors_are_the_references() -> None:
    temporary: list[type[errors.DragonboatError]] = [
        errors.SystemBusyError, errors.ClusterClosedError, errors.ClusterNotInitializedError,
        errors.ClusterNotReadyError, errors.TimeoutError, errors.PendingConfigChangeExistError,
        errors.PendingLeaderTransferExistError]
    final: list[type[errors.DragonboatError]] = [
        errors.NodeRemovedError, errors.ClusterNotFoundError, errors.RejectedError,
        errors.SnapshotAbortedError, errors.InvalidTargetError]
    for cls in temporary:
        assert dragonboat.is_temp_error(cls("x")), cls.__name__
    for cls in final:
        assert not dragonboat.is_temp_error(cls("x")), cls.__name__
    assert not hasattr(errors, "BadKeyError") and not hasattr(errors, "DeadlineNotSetError")


def test_a_second_membership_change_while_one_waits_is_refused(tmp_path: Path) -> None:
    with running_hosts(tmp_path, 3) as h:
        leader = h.leader()
        nh = h.host(leader)
        retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"a=1", 5.0))
        # The followers stop: the first change cannot commit and stays pending.
        for i in range(3):
            if i != leader:
                h.host(i).stop()
                h.hosts[i] = None
        first = nh.request_add_node(1, 4, "127.0.0.1:1", 0, 30.0)
        with pytest.raises(errors.PendingConfigChangeExistError):
            nh.request_add_node(1, 5, "127.0.0.1:2", 0, 30.0)
        nh.stop_cluster(1)
        result = first.wait(5.0)
        assert result is not None and result.terminated()


class AbortingKV(KV):
    """Abandons its first snapshot save."""

    def __init__(self) -> None:
        super().__init__()
        self.aborted = False

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        if not self.aborted:
            self.aborted = True
            raise errors.SnapshotAbortedError("not now")
        super().save_snapshot(writer)


def test_a_state_machine_may_abort_a_snapshot_save(tmp_path: Path) -> None:
    h = Hosts(tmp_path, 1)
    try:
        nh = h.start(0)
        sm = AbortingKV()
        nh.start_cluster({1: h.addresses[0]}, False, lambda c, n: sm,
                         dragonboat.Config(node_id=1, cluster_id=1, election_rtt=10))
        retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"a=1", 5.0))
        rs = nh.request_snapshot(1, SnapshotOption(), 5.0)
        result = rs.wait(10.0)
        assert result is not None and result.aborted(), result
        # The replica goes on: writes, and the next snapshot is made.
        retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"b=2", 5.0))
        assert nh.sync_request_snapshot(1, SnapshotOption(), 5.0) > 0
        assert nh.stale_read(1, "b") == "2"
    finally:
        h.stop()


class PlainKV(KV):
    """A state machine without na_lookup (no IExtended)."""

    na_lookup = None  # type: ignore[assignment]


def test_na_read_local_node_needs_na_lookup(tmp_path: Path) -> None:
    h = Hosts(tmp_path, 1)
    try:
        nh = h.start(0)
        nh.start_cluster({1: h.addresses[0]}, False, lambda c, n: KV(),
                         dragonboat.Config(node_id=1, cluster_id=1, election_rtt=10))
        nh.start_cluster({1: h.addresses[0]}, False, lambda c, n: PlainKV(),
                         dragonboat.Config(node_id=1, cluster_id=2, election_rtt=10))
        def write(cid: int) -> None:
            retry(lambda: nh.sync_propose(nh.get_noop_session(cid), b"k=v", 5.0))

        write(1)
        write(2)
        rs1 = retry(lambda: _completed(nh.read_index(1, 5.0)), idempotent=True)
        assert nh.na_read_local_node(rs1, b"k") == b"v"
        rs2 = retry(lambda: _completed(nh.read_index(2, 5.0)), idempotent=True)
        with pytest.raises(NotImplementedError, match="na_lookup"):
            nh.na_read_local_node(rs2, b"k")
        assert nh.read_local_node(rs2, "k") == "v"  # lookup still serves
    finally:
        h.stop()


def _completed(rs: dragonboat.RequestState) -> dragonboat.RequestState:
    r = rs.wait(10.0)
    assert r is not None
    r.raise_for_outcome()
    return rs


class SlowOpen(dragonboat.OnDiskStateMachine):
    """An on-disk state machine whose open polls ``stopped`` until the host
    stops, then gives up (the reference's ErrOpenStopped)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.saw_stop = False
        self.signal: Callable[[], bool] | None = None

    def open(self, stopped: Callable[[], bool]) -> int:
        assert not stopped()
        self.signal = stopped
        self.entered.set()
        while not stopped():
            time.sleep(0.001)  # a long recovery's work, polling between steps
        self.saw_stop = True
        raise errors.OpenStoppedError("gave up opening")

    def update(self, entries: list[dragonboat.Entry]) -> None:
        raise AssertionError("never opened")

    def lookup(self, query: object) -> object:
        return None

    def sync(self) -> None:
        pass

    def prepare_snapshot(self) -> object:
        return None

    def save_snapshot(self, context: object, writer: SnapshotWriter) -> None:
        pass

    def recover_from_snapshot(self, reader: object) -> None:
        pass


def test_an_open_that_gives_up_when_the_host_stops_fails_the_start(tmp_path: Path) -> None:
    h = Hosts(tmp_path, 1)
    nh = h.start(0)
    sm = SlowOpen()
    outcome: list[BaseException | None] = []

    def start() -> None:
        try:
            nh.start_on_disk_cluster({1: h.addresses[0]}, False, lambda c, n: sm,
                                     dragonboat.Config(node_id=1, cluster_id=1, election_rtt=10))
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            outcome.append(e)

    starter = threading.Thread(target=start)
    starter.start()
    assert sm.entered.wait(30)
    nh.stop()
    starter.join(30)
    assert sm.saw_stop
    assert len(outcome) == 1 and isinstance(outcome[0], errors.OpenStoppedError), outcome
    assert not dragonboat.is_temp_error(outcome[0])
    assert sm.signal is not None
    with pytest.raises(RuntimeError, match="only during open"):
        sm.signal()
