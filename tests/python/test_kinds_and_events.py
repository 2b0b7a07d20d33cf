"""Concurrent and on-disk Python state machines, listeners, logging, information calls."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import KV, Hosts, free_port, retry

from dragonboat import (
    ConcurrentStateMachine,
    Config,
    Entry,
    NodeHost,
    NodeHostConfig,
    OnDiskStateMachine,
    SnapshotReader,
    SnapshotWriter,
    errors,
    events,
)
from dragonboat.events import LeaderInfo, NodeInfo


class Counter(ConcurrentStateMachine):
    def __init__(self) -> None:
        self.total = 0
        self.batches: list[int] = []

    def update(self, entries: list[Entry]) -> None:
        self.batches.append(len(entries))
        for e in entries:
            self.total += int(e.cmd)
            e.result = self.total

    def lookup(self, query: Any) -> Any:
        return self.total

    def prepare_snapshot(self) -> Any:
        return self.total

    def save_snapshot(self, context: Any, writer: SnapshotWriter) -> None:
        writer.write(str(context).encode())

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        self.total = int(reader.read())


class FileStore(OnDiskStateMachine):
    """Sum of the entries, kept durably in a file with the applied index."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.applied = 0
        self.sum = 0
        self.updates = 0

    # An open() without the stop parameter (written before it existed) still works.
    def open(self) -> int:  # type: ignore[override]
        if self.path.exists():
            self.applied, self.sum = map(int, self.path.read_text().split())
        return self.applied

    def update(self, entries: list[Entry]) -> None:
        for e in entries:
            self.sum += int(e.cmd)
            self.applied = e.index
            self.updates += 1
            e.result = self.sum
        self.path.write_text(f"{self.applied} {self.sum}")

    def sync(self) -> None:
        pass  # written synchronously in update

    def lookup(self, query: Any) -> Any:
        return self.sum

    def prepare_snapshot(self) -> Any:
        return (self.applied, self.sum)

    def save_snapshot(self, context: Any, writer: SnapshotWriter) -> None:
        writer.write(f"{context[0]} {context[1]}".encode())

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        self.applied, self.sum = map(int, reader.read().split())
        self.path.write_text(f"{self.applied} {self.sum}")


def single(tmp_path: Path, **kw: Any) -> tuple[NodeHost, str]:
    address = f"127.0.0.1:{free_port()}"
    nh = NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                                 rtt_millisecond=10, **kw))
    return nh, address


def test_concurrent_state_machine_gets_batches(tmp_path: Path) -> None:
    nh, address = single(tmp_path)
    with nh:
        sm = Counter()
        nh.start_concurrent_cluster({1: address}, False, lambda c, n: sm,
                                    Config(node_id=1, cluster_id=5, snapshot_entries=50))
        session = nh.get_noop_session(5)
        retry(lambda: nh.sync_propose(session, b"0", 5.0))
        states = [nh.propose(session, b"1", 10.0) for _ in range(300)]
        values = sorted(s.result(10.0).value for s in states)
        assert values == list(range(1, 301))
        assert max(sm.batches) > 1, "entries arrive in batches"
        assert nh.sync_read(5, None, 5.0) == 300


def test_on_disk_state_machine_restarts_from_its_own_index(tmp_path: Path) -> None:
    store = tmp_path / "store.txt"
    nh, address = single(tmp_path)
    first = FileStore(store)
    with nh:
        nh.start_on_disk_cluster({1: address}, False, lambda c, n: first, Config(node_id=1,
                                                                                 cluster_id=6))
        session = nh.get_noop_session(6)
        retry(lambda: nh.sync_propose(session, b"5", 5.0))
        for _ in range(9):
            nh.sync_propose(session, b"5", 5.0)
        with pytest.raises(errors.InvalidOperationError):
            nh.sync_get_session(6, 2.0)  # on-disk: no-op session only
    again = FileStore(store)
    nh2 = NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                                  rtt_millisecond=10))
    with nh2:
        nh2.start_on_disk_cluster({}, False, lambda c, n: again, Config(node_id=1, cluster_id=6))
        retry(lambda: nh2.sync_propose(nh2.get_noop_session(6), b"1", 5.0))
        assert nh2.sync_read(6, None, 5.0) == 51
        assert again.updates == 1, "entries already in the store are not replayed"


def test_cluster_info_reports_the_kind_each_group_was_started_with(tmp_path: Path) -> None:
    # ClusterInfo.state_machine_type: 1 regular, 2 concurrent, 3 on-disk (the
    # reference's values), as started — whatever adapter runs the Python object.
    nh, address = single(tmp_path)
    with nh:
        nh.start_cluster({1: address}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=11))
        nh.start_concurrent_cluster({1: address}, False, lambda c, n: Counter(),
                                    Config(node_id=1, cluster_id=12))
        nh.start_on_disk_cluster({1: address}, False, lambda c, n: FileStore(tmp_path / "s"),
                                 Config(node_id=1, cluster_id=13))
        kinds = {c.cluster_id: c.state_machine_type for c in nh.get_node_host_info().cluster_info}
        assert kinds == {11: 1, 12: 2, 13: 3}


class Recorder(events.RaftEventListener, events.SystemEventListener):
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.lock = threading.Lock()

    def leader_updated(self, info: events.LeaderInfo) -> None:
        with self.lock:
            self.seen.append(f"leader {info.cluster_id} {info.leader_id}")

    def node_ready(self, info: events.NodeInfo) -> None:
        with self.lock:
            self.seen.append(f"ready {info.cluster_id}")

    def snapshot_created(self, info: events.SnapshotInfo) -> None:
        with self.lock:
            self.seen.append(f"snapshot {info.index}")


def wait_for(pred: Any, limit: float = 30.0) -> bool:
    deadline = time.monotonic() + limit
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)  # polling interval; the predicate decides
    return True


def test_listeners_receive_events_as_dataclasses(tmp_path: Path) -> None:
    rec = Recorder()
    nh, address = single(tmp_path, raft_event_listener=rec, system_event_listener=rec)
    with nh:
        nh.start_cluster({1: address}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=7))
        retry(lambda: nh.sync_propose(nh.get_noop_session(7), b"a=1", 5.0))
        nh.sync_request_snapshot(7, None, 5.0)
        assert wait_for(lambda: any(s.startswith("snapshot") for s in rec.seen))
        assert "ready 7" in rec.seen
        assert "leader 7 1" in rec.seen


def test_listeners_may_be_plain_callables(tmp_path: Path) -> None:
    leaders: list[LeaderInfo] = []
    system: list[tuple[str, object]] = []
    nh, address = single(tmp_path, raft_event_listener=leaders.append,
                         system_event_listener=lambda event, info: system.append((event, info)))
    with nh:
        nh.start_cluster({1: address}, False, lambda c, n: KV(), Config(node_id=1, cluster_id=7))
        retry(lambda: nh.sync_propose(nh.get_noop_session(7), b"a=1", 5.0))
        assert wait_for(lambda: any(i.cluster_id == 7 and i.leader_id == 1 for i in leaders))
        assert wait_for(lambda: ("node_ready", NodeInfo(7, 1)) in system)
    # stop() delivers what was queued: the host's shutdown, then its replicas unloading.
    names = [event for event, _ in system]
    assert ("node_host_shutting_down", None) in system
    assert names.index("node_host_shutting_down") < names.index("node_unloaded")


def test_engine_log_lines_reach_python_logging(three: Hosts) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logging.getLogger("dragonboat").addHandler(handler)
    try:
        nh = three.host(three.leader())
        retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"x=1", 5.0))
        with pytest.raises((errors.ClusterClosedError, errors.TimeoutError)):
            nh.sync_propose(nh.get_noop_session(1), b"boom=1", 5.0)
        assert wait_for(lambda: any("boom" in r.getMessage() for r in records))
        boom = next(r for r in records if "boom" in r.getMessage())
        assert boom.levelno == logging.ERROR
    finally:
        logging.getLogger("dragonboat").removeHandler(handler)


def test_information_node_user_and_data_lifecycle(three: Hosts) -> None:
    leader = three.leader()
    nh = three.host(leader)
    info = nh.get_node_host_info()
    assert info.raft_address == three.addresses[leader]
    assert [c.cluster_id for c in info.cluster_info] == [1]
    assert info.cluster_info[0].is_leader and info.cluster_info[0].nodes[leader + 1]
    assert (1, leader + 1) in info.log_info
    assert nh.get_node_host_info(skip_log_info=True).log_info == []
    user = nh.get_node_user(1)
    rs = retry(lambda: user.propose(nh.get_noop_session(1), b"u=1", 5.0))
    assert rs.result(10.0).value >= 1
    with pytest.raises(errors.ClusterNotFoundError):
        nh.get_node_user(42)
    with pytest.raises(errors.ClusterNotStoppedError):
        nh.remove_data(1, leader + 1)
    with pytest.raises(errors.RejectedError):
        nh.request_compaction(1, leader + 1)  # nothing dropped yet


class EndlessSaver(KV):
    """A snapshot save that only ends when the node stops."""

    def __init__(self) -> None:
        super().__init__()
        self.saw_stop = threading.Event()
        self.saving = threading.Event()

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        self.saving.set()
        while not writer.stopped():
            writer.write(b"x" * 1024)
            time.sleep(0.001)  # a slow state; the loop ends on stopped()
        self.saw_stop.set()


def test_a_long_snapshot_save_sees_the_node_stopping(tmp_path: Path) -> None:
    nh, address = single(tmp_path)
    sm = EndlessSaver()
    with nh:
        nh.start_cluster({1: address}, False, lambda c, n: sm, Config(node_id=1, cluster_id=9))
        retry(lambda: nh.sync_propose(nh.get_noop_session(9), b"a=1", 5.0))
        rs = nh.request_snapshot(9, None, 30.0)
        assert sm.saving.wait(10)
        nh.stop_cluster(9)  # returns: the save noticed and gave up
        assert sm.saw_stop.is_set()
        r = rs.wait(10.0)
        assert r is not None and r.terminated()
