"""Hostile input to the public Python API: what a state machine hands back.

Update results, on-disk open() results and hashes of the wrong type or out of
range, and hostile calls on the snapshot streams. The contract checked
(hostile_util.py): no crash, no hang, every failure is either a
:mod:`dragonboat.errors` class (a DragonboatError) or a TypeError/ValueError
whose message names the offending value; a bad result stops the replica, not
the process; valid results still work.

One NodeHost runs for the module (the ``env`` fixture); each test starts its
own group. The method calls are in test_hostile_methods.py, the settings in
test_hostile_settings.py.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import pytest
from conftest import retry
from hostile_util import (
    U64_MAX,
    BadOnDisk,
    Env,
    Store,
    T,
    _check_exception,
    _Evil,
    _IndexOnly,
    assert_clean_failure,
    call_cleanly,
)

from dragonboat import Config, Result, errors
from dragonboat.errors import DragonboatError
from dragonboat.statemachine import SnapshotReader, SnapshotWriter

pytestmark = pytest.mark.usefixtures("no_hang")  # conftest.py


# ---- snapshot streams -------------------------------------------------------------------------


class HostileStreams(Store):
    """Tries hostile writes and reads on the snapshot streams, recording what
    each raised, then saves and recovers normally."""

    WRITES: tuple[Any, ...] = ("text", None, 1, 1.5, [1], object(), _Evil(), _IndexOnly())
    READS: tuple[Any, ...] = ("1", None, 1.5, True, [1], object(), _Evil(), _IndexOnly())

    def __init__(self) -> None:
        super().__init__()
        self.failures: list[tuple[str, BaseException | None]] = []

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        for v in self.WRITES:
            self.failures.append(("data", _raised(functools.partial(writer.write, v))))
        writer.write(bytearray(b""))  # bytes-like: accepted
        writer.write(memoryview(self.count.to_bytes(8, "little")))
        writer.write(self.last)

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        for v in self.READS:
            self.failures.append(("n", _raised(functools.partial(reader.read, v))))
        head = reader.read(8)
        rest = reader.read(2**70)  # beyond any size: everything left
        self.count, self.last = int.from_bytes(head, "little"), rest


def _raised(fn: Callable[[], object]) -> BaseException | None:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - classified by the caller
        return e
    return None


def test_hostile_snapshot_stream_calls_fail_cleanly(env: Env) -> None:
    nh, cid = env.nh, next(env.cluster_ids)
    sm = HostileStreams()
    env.start(cid, sm)
    retry(lambda: nh.sync_propose(nh.get_noop_session(cid), b"kept", T))
    assert nh.sync_request_snapshot(cid, None, T) > 0
    nh.stop_cluster(cid)
    again = HostileStreams()
    nh.start_cluster({}, False, lambda c, n: again, Config(node_id=1, cluster_id=cid,
                                                          election_rtt=10))
    try:
        assert retry(lambda: nh.sync_read(cid, None, T), idempotent=True)[0] >= 1
        assert again.last == b"kept"  # recovered from the snapshot
        failures = sm.failures + again.failures
        assert len(failures) == len(HostileStreams.WRITES) + len(HostileStreams.READS)
        for arg, e in failures:
            assert e is not None, arg
            _check_exception(e, arg, strict=True)
    finally:
        nh.stop_cluster(cid)


# ---- what a state machine hands back -------------------------------------------------------------

BAD_RESULTS: list[Any] = [-1, 2**64, 2**200, "text", 1.5, math.nan, object(), [1], {"v": 1},
                          Result(-1), Result(2**64), Result(1, 5), Result(1, None),  # type: ignore[arg-type]
                          (-1, b""), (1, 2), ("x",), _Evil()]


class BadResults(Store):
    """Returns one hostile value from update, open, get_hash."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value

    def update(self, data: bytes) -> Any:
        return self.value

    def get_hash(self) -> Any:
        return self.value


@pytest.mark.parametrize("value", BAD_RESULTS, ids=[type(v).__name__ for v in BAD_RESULTS])
def test_a_bad_update_result_stops_the_replica_not_the_process(env: Env, value: Any) -> None:
    nh, cid = env.nh, next(env.cluster_ids)
    env.start(cid, BadResults(value))
    try:
        e = assert_clean_failure(lambda: nh.sync_propose(nh.get_noop_session(cid), b"x", 1.0),
                                 "update")
        assert isinstance(e, (errors.ClusterClosedError, errors.TimeoutError)), e
        assert isinstance(assert_clean_failure(lambda: nh.get_hash(cid), "get_hash"),
                          DragonboatError)
    finally:
        call_cleanly(lambda: nh.stop_cluster(cid), "cluster_id")


def test_good_update_results_and_hash_are_accepted(env: Env) -> None:
    nh, cid = env.nh, next(env.cluster_ids)
    sm = BadResults(0)
    env.start(cid, sm)
    try:
        for value, want in ((None, Result()), (True, Result(1)), (U64_MAX, Result(U64_MAX)),
                            (_IndexOnly(), Result(1)), (b"d", Result(0, b"d")),
                            ((2, b"d"), Result(2, b"d")), ((3, "é"), Result(3, "é".encode())),
                            ((4,), Result(4)),
                            (Result(5, bytearray(b"b")), Result(5, b"b"))):  # type: ignore[arg-type]
            sm.value = value
            assert retry(lambda: nh.sync_propose(nh.get_noop_session(cid), b"x", T)) == want
        sm.value = U64_MAX
        assert nh.get_hash(cid) == U64_MAX
    finally:
        nh.stop_cluster(cid)


@pytest.mark.parametrize("opened", [-1, 2**64, "0", None, 0.0, object()])
def test_a_bad_open_result_fails_cleanly(env: Env, opened: Any) -> None:
    nh, cid = env.nh, next(env.cluster_ids)
    out = call_cleanly(lambda: nh.start_on_disk_cluster(
        {1: env.address}, False, lambda c, n: BadOnDisk(opened),
        Config(node_id=1, cluster_id=cid, election_rtt=10)), "open")
    if not isinstance(out, BaseException):  # opened asynchronously: the replica fails
        try:
            assert_clean_failure(lambda: nh.sync_read(cid, None, 0.5), "open")
        finally:
            call_cleanly(lambda: nh.stop_cluster(cid), "cluster_id")
