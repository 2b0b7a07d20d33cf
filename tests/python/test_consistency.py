"""Snapshots are consistent cuts and a restarted node completes only its own requests.

Every state machine here is a checker (dragonboat.checker, and its C++ twin
loaded as a plugin): NOT idempotent, so an entry applied twice or skipped
shows as a wrong count or hash. With the idempotent k=v state machines of
the other tests both bugs below went unseen:

- a Python regular state machine's snapshot held state newer than its index
  (updates ran while a shared snapshot worker was busy), so after a restart
  the entries after the index were applied a second time;
- a restarted replica drew the same proposal keys as in its earlier life, so
  replaying its own old entries completed NEW proposals with OLD results.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig, StateMachine
from dragonboat.checker import Checker, CheckerState, ConcurrentChecker, OnDiskChecker, parse_state
from dragonboat.errors import DragonboatError
from dragonboat.statemachine import SnapshotReader, SnapshotWriter

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("DRAGONBOAT_BUILD_DIR", ROOT / "build" / "dev"))
CHECKER_PLUGIN = BUILD / "tests" / "checker" / "libdragonboat_checker_plugin.so"

# (kind, cluster ID). The plugin picks its kind from cluster_id % 3.
KINDS = [("python-regular", 10), ("python-concurrent", 11), ("python-on-disk", 12),
         ("cpp-regular", 21), ("cpp-concurrent", 22), ("cpp-on-disk", 23)]
SLOW = 1  # the group whose slow saves hold the shared snapshot worker


def start_checker(nh: NodeHost, kind: str, cluster_id: int, directory: Path,
                  members: dict[int, str], config: Config, save_delay: float = 0.0) -> None:
    """Starts (or restarts, with members == {}) a checker group of ``kind``."""
    if kind.startswith("cpp-"):
        if not CHECKER_PLUGIN.exists():
            pytest.fail(f"{CHECKER_PLUGIN} is missing: build the C++ tree (scripts/dev.sh test)")
        nh.start_cluster(members, False, None, config, plugin=str(CHECKER_PLUGIN))
    elif kind == "python-regular":
        nh.start_cluster(members, False, lambda c, n: Checker(save_delay), config)
    elif kind == "python-concurrent":
        nh.start_concurrent_cluster(members, False, lambda c, n: ConcurrentChecker(save_delay),
                                    config)
    else:
        sm_dir = str(directory / f"sm-{cluster_id}")
        nh.start_on_disk_cluster(members, False, lambda c, n: OnDiskChecker(sm_dir, save_delay),
                                 config)


def propose_all(nh: NodeHost, cluster_id: int, cmds: list[bytes], window: int = 100) -> None:
    """Proposes ``cmds`` in order (``window`` in flight) and requires each to be applied."""
    session = nh.get_noop_session(cluster_id)
    for i in range(0, len(cmds), window):
        states = [nh.propose(session, c, 30.0) for c in cmds[i:i + window]]
        for rs in states:
            rs.result(30.0)  # raises unless completed


def read_state(nh: NodeHost, cluster_id: int) -> tuple[int, int, int]:
    """(count, hash, distinct) through a linearizable read, once the group serves."""
    answer = dragonboat.retry(lambda: nh.sync_read(cluster_id, b"state", 5.0), timeout=30.0,
                              idempotent=True)
    return parse_state(answer)


def wait_for_leader(nh: NodeHost, cluster_id: int) -> None:
    def leader() -> None:
        if not nh.get_leader_id(cluster_id)[1]:
            raise dragonboat.errors.ClusterNotReadyError("no leader yet")

    dragonboat.retry(leader, timeout=30.0, idempotent=True)


def expected(cmds: list[bytes]) -> tuple[int, int, int]:
    state = CheckerState()
    for c in cmds:
        state.apply(c)
    return state.count, state.hash, len(state.applied)


@pytest.mark.parametrize(("kind", "cluster_id"), KINDS, ids=[k for k, _ in KINDS])
def test_snapshot_is_the_state_at_its_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            kind: str, cluster_id: int) -> None:
    """The issue's counter scenario, for every kind: one NodeHost, two one-member
    groups sharing the default snapshot worker, snapshots every 50 entries;
    group SLOW saves slowly, so the other group's snapshots wait for the worker
    while its entries keep coming. After a restart from the directory both
    groups hold exactly what was written: no entry applied twice or lost."""
    monkeypatch.setenv("DRAGONBOAT_CHECKER_DIR", str(tmp_path))  # the C++ on-disk kind's files
    address = f"127.0.0.1:{free_port()}"
    config = NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                            rtt_millisecond=10)

    def group_config(cid: int) -> Config:
        return Config(node_id=1, cluster_id=cid, election_rtt=10, heartbeat_rtt=1,
                      snapshot_entries=50, compaction_overhead=5)

    cmds = {cid: [f"{cid}-{i}".encode() for i in range(1000)] for cid in (SLOW, cluster_id)}
    with NodeHost(config) as nh:
        nh.start_cluster({1: address}, False, lambda c, n: Checker(save_delay=0.3),
                         group_config(SLOW))
        start_checker(nh, kind, cluster_id, tmp_path, {1: address}, group_config(cluster_id),
                      save_delay=0.02)
        for cid in (SLOW, cluster_id):
            read_state(nh, cid)  # elected and serving
        errors: list[BaseException] = []

        def write(cid: int) -> None:
            try:
                propose_all(nh, cid, cmds[cid])
            except BaseException as e:  # reported by the test thread below
                errors.append(e)

        writers = [threading.Thread(target=write, args=(cid,)) for cid in (SLOW, cluster_id)]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        assert not errors, f"every proposal must complete: {errors!r}"
        assert read_state(nh, cluster_id) == expected(cmds[cluster_id])
        assert nh.get_hash(cluster_id) == expected(cmds[cluster_id])[1]
    with NodeHost(config) as nh:
        nh.start_cluster({}, False, lambda c, n: Checker(save_delay=0.3), group_config(SLOW))
        start_checker(nh, kind, cluster_id, tmp_path, {}, group_config(cluster_id))
        # Restart = the latest snapshot (or the on-disk state's own index) + log replay.
        assert read_state(nh, SLOW) == expected(cmds[SLOW])
        assert read_state(nh, cluster_id) == expected(cmds[cluster_id]), (
            "after a restart the state must be exactly the writes: none twice, none lost")
        assert nh.get_hash(cluster_id) == expected(cmds[cluster_id])[1]


class Echo(StateMachine):
    """``update(b"<n>")`` returns n: each proposal's result names its own command."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.applied = 0

    def update(self, data: bytes) -> int:
        if self.delay:
            time.sleep(self.delay)  # a slow state machine: the replay after a restart takes a while
        self.applied += 1
        return int(data)

    def lookup(self, query: Any) -> Any:
        return self.applied

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        writer.write(str(self.applied).encode())

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        self.applied = int(reader.read() or b"0")


def test_restarted_node_completes_new_requests_with_their_own_results(tmp_path: Path) -> None:
    """The issue's restart scenario: 600 puts, a restart whose state machine
    applies slowly (the replay takes ~2 s), and new proposals as soon as it
    leads: every new proposal must come back with its own result, never an
    old entry's. (Under the bug all 300 came back with old results.)"""
    address = f"127.0.0.1:{free_port()}"
    config = NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                            rtt_millisecond=10)
    group = Config(node_id=1, cluster_id=1, election_rtt=10, heartbeat_rtt=1)
    old = list(range(1, 601))
    # Each life waits for leadership before proposing, as a careful client
    # does: no request is dropped, so both lives draw the same number of keys
    # and the old entries' keys are those of the new requests (under the
    # bug: keys restarted at node_id << 40).
    with NodeHost(config) as nh:
        nh.start_cluster({1: address}, False, lambda c, n: Echo(), group)
        wait_for_leader(nh, 1)
        session = nh.get_noop_session(1)
        states = [nh.propose(session, str(v).encode(), 30.0) for v in old]
        assert [rs.result(30.0).value for rs in states] == old
    with NodeHost(config) as nh:
        nh.start_cluster({}, False, lambda c, n: Echo(delay=0.003), group)
        session = nh.get_noop_session(1)
        new = list(range(1_000_001, 1_000_301))
        wait_for_leader(nh, 1)
        # The replay of the 600 old entries takes ~2 s: these wait behind it.
        pending = [(v, nh.propose(session, str(v).encode(), 30.0)) for v in new]
        wrong = [(v, rs.result(30.0).value) for v, rs in pending if rs.result(30.0).value != v]
        assert not wrong, (
            f"{len(wrong)} new proposals completed with an old entry's result: {wrong[:5]}")
        assert nh.stale_read(1, None) == len(old) + len(new)


def test_lagging_on_disk_follower_catches_up_by_a_streamed_snapshot(tmp_path: Path) -> None:
    """Three replicas of an on-disk checker; one is stopped while the others
    write and compact their logs; it comes back, receives a snapshot streamed
    from the leader's state at an applied index, replays the rest, and ends
    with the same count and hash as the others."""
    addresses = [f"127.0.0.1:{free_port()}" for _ in range(3)]
    members = {i + 1: a for i, a in enumerate(addresses)}
    configs = [NodeHostConfig(node_host_dir=str(tmp_path / f"nh{i}"), raft_address=addresses[i],
                              rtt_millisecond=10) for i in range(3)]

    def group(i: int) -> Config:
        return Config(node_id=i + 1, cluster_id=7, election_rtt=10, heartbeat_rtt=1,
                      snapshot_entries=20, compaction_overhead=2)

    hosts: list[NodeHost | None] = [NodeHost(c) for c in configs]
    try:
        for i, nh in enumerate(hosts):
            assert nh is not None
            start_checker(nh, "python-on-disk", 7, tmp_path / f"sm{i}", members, group(i))
        first = hosts[0]
        assert first is not None
        read_state(first, 7)
        lagging = 2
        lag_host = hosts[lagging]
        assert lag_host is not None
        lag_host.stop_cluster(7)
        cmds = [f"w{i}".encode() for i in range(300)]
        propose_all(first, 7, cmds, window=50)
        start_checker(lag_host, "python-on-disk", 7, tmp_path / f"sm{lagging}", {}, group(lagging))
        want = expected(cmds)

        def caught_up() -> tuple[int, int, int]:
            got = parse_state(lag_host.stale_read(7, b"state"))
            if got[0] < want[0]:
                raise dragonboat.errors.ClusterNotReadyError(f"at {got[0]} of {want[0]}")
            return got

        assert dragonboat.retry(caught_up, timeout=30.0, idempotent=True) == want
        for nh in hosts:
            assert nh is not None
            assert parse_state(nh.stale_read(7, b"state")) == want
            assert nh.get_hash(7) == want[1]
        assert lag_host.get_health_metrics(7).get("dragonboat_snapshots_recovered_total", 0) >= 1, (
            "the follower must have caught up from a snapshot, not the log")
    finally:
        for nh in hosts:
            if nh is not None:
                nh.stop()


def test_get_hash_needs_a_state_machine_with_one(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    with NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                                 rtt_millisecond=10)) as nh:
        nh.start_cluster({1: address}, False, lambda c, n: Echo(),
                         Config(node_id=1, cluster_id=1, election_rtt=10, heartbeat_rtt=1))
        with pytest.raises(DragonboatError):
            nh.get_hash(1)


@pytest.mark.parametrize("kind", ["python-regular", "python-concurrent", "cpp-regular"])
def test_exported_snapshot_holds_the_state_at_its_index_and_imports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """An exported snapshot taken while writes keep coming holds exactly the
    state at its index, and a node repaired from it (import_snapshot) resumes
    from that state. In a one-member group that keeps its term, log index =
    command count + a fixed offset (the election's entries), measured with
    a first snapshot."""
    monkeypatch.setenv("DRAGONBOAT_CHECKER_DIR", str(tmp_path))
    monkeypatch.setenv("DRAGONBOAT_CHECKER_SAVE_DELAY_MS", "200")
    cluster_id = 30 if kind == "cpp-regular" else 31  # the plugin: cluster_id % 3 == 0 is regular
    address = f"127.0.0.1:{free_port()}"
    group = Config(node_id=1, cluster_id=cluster_id, election_rtt=10, heartbeat_rtt=1)
    cmds = [f"e{i}".encode() for i in range(1500)]
    exported = tmp_path / "export"
    exported.mkdir()
    with NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / "old"), raft_address=address,
                                 rtt_millisecond=10)) as nh:
        start_checker(nh, kind, cluster_id, tmp_path, {1: address}, group, save_delay=0.2)
        wait_for_leader(nh, cluster_id)
        propose_all(nh, cluster_id, cmds[:1])
        offset = nh.sync_request_snapshot(cluster_id, None, 10.0) - 1
        writer = threading.Thread(target=propose_all, args=(nh, cluster_id, cmds[1:], 20))
        writer.start()
        while parse_state(nh.stale_read(cluster_id, b"state"))[0] < 200:
            time.sleep(0.01)  # polling: the export should land in the middle of the writes
        index = nh.sync_request_snapshot(
            cluster_id, dragonboat.SnapshotOption(exported=True, export_path=str(exported)), 10.0)
        writer.join()
        assert parse_state(nh.stale_read(cluster_id, b"state"))[0] == len(cmds)
    new_dir = str(tmp_path / "new")
    new_address = f"127.0.0.1:{free_port()}"
    repaired = NodeHostConfig(node_host_dir=new_dir, raft_address=new_address)
    dragonboat.tools.import_snapshot(repaired, str(exported), {1: new_address}, 1)
    with NodeHost(NodeHostConfig(node_host_dir=new_dir, raft_address=new_address,
                                 rtt_millisecond=10)) as nh:
        start_checker(nh, kind, cluster_id, tmp_path / "imported", {}, group)
        count = index - offset
        assert 0 < count < len(cmds), "the export should fall inside the writes"
        assert read_state(nh, cluster_id) == expected(cmds[:count]), (
            f"the snapshot at index {index} must hold the first {count} commands, no more")
        propose_all(nh, cluster_id, [b"after-import"])
        assert read_state(nh, cluster_id) == expected(cmds[:count] + [b"after-import"])


@pytest.mark.parametrize(("kind", "cluster_id"), [("python-on-disk", 40), ("cpp-on-disk", 41)])
def test_on_disk_restarts_from_a_snapshot_taken_after_entries_it_never_saw(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, cluster_id: int) -> None:
    """An on-disk state machine's own snapshots hold no state: they say it was
    synced. When the last entries before a snapshot never reach it (a new
    leader's no-op, a membership change), open() reports an index below the
    snapshot's; the restart must still work (found by the whole-system test:
    the replica could never be started again)."""
    monkeypatch.setenv("DRAGONBOAT_CHECKER_DIR", str(tmp_path))
    address = f"127.0.0.1:{free_port()}"
    config = NodeHostConfig(node_host_dir=str(tmp_path / "nh"), raft_address=address,
                            rtt_millisecond=10)
    group = Config(node_id=1, cluster_id=cluster_id, election_rtt=10, heartbeat_rtt=1)
    cmds = [f"o{i}".encode() for i in range(10)]
    with NodeHost(config) as nh:
        start_checker(nh, kind, cluster_id, tmp_path, {1: address}, group)
        wait_for_leader(nh, cluster_id)
        propose_all(nh, cluster_id, cmds)
    with NodeHost(config) as nh:
        start_checker(nh, kind, cluster_id, tmp_path, {}, group)
        assert read_state(nh, cluster_id) == expected(cmds)  # the new term's no-op is applied
        nh.sync_request_add_observer(cluster_id, 9, f"127.0.0.1:{free_port()}", 0, 10.0)
        index = nh.sync_request_snapshot(cluster_id, None, 10.0)
        assert index > 0
    with NodeHost(config) as nh:
        start_checker(nh, kind, cluster_id, tmp_path, {}, group)
        assert read_state(nh, cluster_id) == expected(cmds)
        propose_all(nh, cluster_id, [b"after"])
        assert read_state(nh, cluster_id) == expected([*cmds, b"after"])


def test_witness_behind_a_compacted_log_catches_up_and_keeps_the_group_writable(
        tmp_path: Path) -> None:
    """A witness added after the log was compacted must catch up by a
    (membership-only) snapshot over TCP; then, with one of the two full
    voters stopped, the leader and the witness still commit writes (before
    the fix the witness snapshot never left the leader and writes stalled)."""
    addresses = [f"127.0.0.1:{free_port()}" for _ in range(3)]
    hosts = [NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / f"nh{i}"),
                                     raft_address=addresses[i], rtt_millisecond=10))
             for i in range(3)]
    try:
        def group(i: int, witness: bool = False) -> Config:
            return Config(node_id=i + 1, cluster_id=8, election_rtt=10, heartbeat_rtt=1,
                          snapshot_entries=0 if witness else 10, compaction_overhead=2,
                          is_witness=witness)

        voters = {1: addresses[0], 2: addresses[1]}
        for i in range(2):
            hosts[i].start_cluster(voters, False, lambda c, n: Checker(), group(i))
        wait_for_leader(hosts[0], 8)
        leader = hosts[0].get_leader_id(8)[0] - 1
        cmds = [f"v{i}".encode() for i in range(60)]
        propose_all(hosts[leader], 8, cmds, window=10)  # snapshots and compaction happen
        dragonboat.retry(lambda: hosts[leader].sync_request_add_witness(8, 3, addresses[2], 0, 5.0))
        hosts[2].start_cluster({}, True, lambda c, n: Checker(), group(2, witness=True))
        follower = 1 - leader
        hosts[follower].stop()  # now every commit needs the witness
        more = [b"after-1", b"after-2"]
        propose_all(hosts[leader], 8, more)
        assert read_state(hosts[leader], 8) == expected(cmds + more)
    finally:
        for nh in hosts:
            nh.stop()
