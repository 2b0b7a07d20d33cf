"""Hostile input to the public Python API, property-based (Hypothesis).

Every public method of NodeHost, NodeUser, RequestState and Session, and every
field of the settings dataclasses (NodeHostConfig, Config, SnapshotOption),
gets values of the wrong type (str, float, None, list, bytes, object() where
an int is expected, ...), values out of range (negative and 2**64-sized ints,
NaN, infinite, zero and negative timeouts), empty and oversized payloads,
unknown cluster and node IDs, bad addresses, and calls after stop(). The
contract checked: no crash, no hang, and every failure is either a
:mod:`dragonboat.errors` class (a DragonboatError) or a TypeError/ValueError
whose message names the offending argument or field; valid input still works.

One NodeHost runs for the module (cluster MAIN for the positive cases,
cluster SPARE as the target of the argument checks: should a check let a
hostile value through, only SPARE is touched), another one is stopped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import faulthandler
import functools
import inspect
import io
import itertools
import math
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, retry
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dragonboat import (
    Config,
    NodeHost,
    NodeHostConfig,
    NodeUser,
    RequestResult,
    RequestState,
    Result,
    Session,
    SnapshotOption,
    StateMachine,
    errors,
    simulate,
)
from dragonboat import retry as retry_fn
from dragonboat.errors import DragonboatError
from dragonboat.statemachine import OnDiskStateMachine, SnapshotReader, SnapshotWriter

U64_MAX = 2**64 - 1
MAX_PAYLOAD = 1024  # the module host's max_proposal_payload_size
MAIN, SPARE, MEMBERS = 1, 2, 3  # the module host's clusters
UNKNOWN = 4242  # a cluster no host runs
T = 5.0  # a valid timeout for the baselines

# DRAGONBOAT_HYPOTHESIS_SCALE=10 runs ten times the examples (a soak).
SCALE = max(1, int(os.environ.get("DRAGONBOAT_HYPOTHESIS_SCALE", "1")))
# Validation only: each example is microseconds, a slow one is a bug.
FAST = settings(max_examples=80 * SCALE, deadline=timedelta(seconds=2), database=None,
                suppress_health_check=[HealthCheck.too_slow])
# Examples that reach the engine (proposals, fsyncs, elections).
ENGINE = settings(max_examples=30 * SCALE, deadline=timedelta(seconds=15), database=None,
                  suppress_health_check=[HealthCheck.too_slow])


# ---- the contract ---------------------------------------------------------------


def _check_exception(e: BaseException, arg_name: str, *, strict: bool) -> None:
    """A clean failure: a DragonboatError (unless ``strict``), or a
    TypeError/ValueError naming ``arg_name`` (never pybind11's generic
    "incompatible function arguments")."""
    if isinstance(e, DragonboatError) and not strict:
        return
    if not isinstance(e, (TypeError, ValueError)):
        raise AssertionError(f"untyped {type(e).__name__} for hostile {arg_name}: {e}") from e
    msg = str(e)
    if arg_name not in msg or "incompatible function arguments" in msg:
        raise AssertionError(f"{type(e).__name__} does not name {arg_name!r}: {msg}") from e
    if isinstance(e, UnicodeError):  # a ValueError, but an accident, not a check
        raise AssertionError(f"{type(e).__name__} for {arg_name}: {msg}") from e


def assert_clean_failure(fn: Callable[[], object], arg_name: str, *,
                         strict: bool = False) -> BaseException:
    """``fn()`` must fail cleanly (see _check_exception); returns the exception.

    ``strict``: the failure must be attributed to ``arg_name`` even when it is
    a DragonboatError (an InvalidDeadlineError naming the timeout passes, a
    ClusterNotFoundError for the baseline's cluster does not).
    """
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - classified below
        _check_exception(e, arg_name, strict=strict)
        return e
    raise AssertionError(f"a hostile {arg_name} was accepted")


def call_cleanly(fn: Callable[[], object], arg_name: str) -> object:
    """``fn()`` may succeed (its result is returned) or fail cleanly (the
    exception is returned)."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - classified below
        _check_exception(e, arg_name, strict=False)
        return e


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A test that hangs dumps every thread's stack and fails the run."""
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


# ---- hostile values ---------------------------------------------------------------


class _Evil:
    """Every conversion raises."""

    def __index__(self) -> int:
        raise RuntimeError("evil __index__")

    def __float__(self) -> float:
        raise RuntimeError("evil __float__")

    def __bool__(self) -> bool:
        raise RuntimeError("evil __bool__")

    def __repr__(self) -> str:
        raise RuntimeError("evil __repr__")

    __str__ = __repr__


class _IndexOnly:
    """An integer-like object that is not an int (as NumPy's are not)."""

    def __index__(self) -> int:
        return 1


ANY_OBJECT = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
    st.binary(max_size=8), st.lists(st.integers(), max_size=3), st.tuples(st.integers()),
    st.dictionaries(st.integers(), st.text(max_size=3), max_size=2), st.complex_numbers(),
    st.builds(object), st.builds(_Evil), st.builds(_IndexOnly), st.just(Decimal("1")),
    st.just(Fraction(1, 2)), st.just(math.nan), st.just(math.inf), st.just(print),
    st.just(bytearray(b"1")), st.just(memoryview(b"1")), st.just(Path("/tmp")))
NOT_INT = ANY_OBJECT.filter(lambda v: not isinstance(v, int) or isinstance(v, bool))
BAD_U64 = st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64),
                    st.sampled_from([-1, -(2**63), 2**64, 2**65, 2**1000]))
ANY_U64 = st.one_of(st.integers(0, U64_MAX), st.sampled_from([0, 1, 2**63 - 1, 2**63, U64_MAX]))
HOSTILE_U64 = st.one_of(NOT_INT, BAD_U64)
NOT_NUMBER = ANY_OBJECT.filter(
    lambda v: isinstance(v, bool) or not isinstance(v, (int, float, Fraction)))
BAD_TIMEOUT = st.one_of(
    st.sampled_from([0, 0.0, -0.0, -1, -1e-9, math.nan, -math.nan, math.inf, -math.inf, 1e300,
                     2**64, -(2**64), 2**1100, 1e9 + 1, 2e9]),
    st.floats(max_value=0.0), st.floats(min_value=1e9, exclude_min=True),
    st.integers(max_value=0))
HOSTILE_TIMEOUT = st.one_of(NOT_NUMBER, BAD_TIMEOUT)
NOT_BOOL = ANY_OBJECT.filter(lambda v: not isinstance(v, bool))
NOT_STR = ANY_OBJECT.filter(lambda v: not isinstance(v, str))
BAD_STR = st.one_of(st.sampled_from(["a\x00b", "\x00", "\udc80", "x\ud800y"]),
                    st.text(max_size=6).map(lambda s: s + "\x00"))
NOT_BYTES = ANY_OBJECT.filter(lambda v: not isinstance(v, (bytes, bytearray, memoryview)))
BAD_ADDRESS = st.one_of(
    st.sampled_from(["", ":", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:0", "h:65536",
                     "h:-1", "h:99999999999999999999", "h:８０", "h:²", "h:1e3", "h: 80",
                     " h:80", "h\x00:80", "h o s t:80", "\udc80:80", "[]:80", "h:0x50",
                     "h/x:80", "h:80:", "h:" + "9" * 5000]),
    st.text(max_size=10).filter(lambda s: ":" not in s),
    st.text(max_size=6).map(lambda s: s + ":0"))
HOSTILE_ADDRESS = st.one_of(NOT_STR, BAD_ADDRESS)
NOT_CALLABLE = ANY_OBJECT.filter(lambda v: not callable(v))

def _hashable(v: object) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


HOSTILE_MEMBERS = st.one_of(
    ANY_OBJECT.filter(lambda v: not isinstance(v, dict)),
    st.dictionaries(HOSTILE_U64.filter(_hashable), st.just("127.0.0.1:1"), min_size=1,
                    max_size=2),
    st.dictionaries(st.integers(1, 9), HOSTILE_ADDRESS, min_size=1, max_size=2))

# The hostile values of each kind of argument.
HOSTILE: dict[str, st.SearchStrategy[Any]] = {
    "u64": HOSTILE_U64,
    "timeout": HOSTILE_TIMEOUT,
    "session": ANY_OBJECT,
    "bytes": NOT_BYTES,
    "bool": NOT_BOOL,
    "address": HOSTILE_ADDRESS,
    "option": ANY_OBJECT.filter(lambda v: v is not None),
    "rs": ANY_OBJECT,
    "members": HOSTILE_MEMBERS,
    "config": ANY_OBJECT,
    "callable": NOT_CALLABLE,
    "file": ANY_OBJECT,
    "optional_u64": st.one_of(NOT_INT.filter(lambda v: v is not None), BAD_U64),
    "plugin": ANY_OBJECT.filter(lambda v: v is not None and not isinstance(v, (str, Path))),
}


# ---- a state machine that takes any command and any query ----------------------------


class Store(StateMachine):
    """Counts updates and keeps the last command; any query is answered."""

    def __init__(self) -> None:
        self.count = 0
        self.last = b""

    def update(self, data: bytes) -> Result:
        self.count += 1
        self.last = data
        return Result(len(data), data[:8])

    def lookup(self, query: Any) -> Any:
        return (self.count, type(query).__name__)

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        writer.write(self.count.to_bytes(8, "little") + self.last)

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        data = reader.read()
        self.count, self.last = int.from_bytes(data[:8], "little"), data[8:]


# ---- the hosts --------------------------------------------------------------------------


@dataclass
class Env:
    nh: NodeHost
    address: str
    tmp: Path
    done_rs: RequestState  # a completed read_index on MAIN
    cluster_ids: Iterator[int]  # fresh cluster IDs for tests that start groups

    def start(self, cluster_id: int, sm: Any = None, wait: bool = True, **config: Any) -> None:
        """Starts a one-node group here (and waits for its leader)."""
        sm = Store() if sm is None else sm
        self.nh.start_cluster({1: self.address}, False, lambda c, n: sm,
                              Config(node_id=1, cluster_id=cluster_id, election_rtt=10, **config))
        if wait:
            retry(lambda: self.nh.sync_get_cluster_membership(cluster_id, 2.0), idempotent=True)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("hostile")
    address = f"127.0.0.1:{free_port()}"
    nh = NodeHost(NodeHostConfig(node_host_dir=str(tmp / "nh"), raft_address=address,
                                 rtt_millisecond=5, max_proposal_payload_size=MAX_PAYLOAD))
    try:
        e = Env(nh, address, tmp, None, itertools.count(100))  # type: ignore[arg-type]
        e.start(MAIN, wait=False)
        e.start(SPARE, wait=False)
        e.start(MEMBERS, wait=False, ordered_config_change=True)
        for c in (MAIN, SPARE, MEMBERS):
            retry(functools.partial(nh.sync_get_cluster_membership, c, 2.0), idempotent=True)
        e.done_rs = nh.read_index(MAIN, T)
        result = e.done_rs.wait(T)
        assert result is not None and result.completed()
        yield e
    finally:
        nh.stop()


@dataclass
class Stopped:
    nh: NodeHost
    user: NodeUser
    session: Session
    done_rs: RequestState


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> Stopped:
    """A NodeHost that ran a group, with a NodeUser, a registered session and a
    completed read from before it was stopped."""
    tmp = tmp_path_factory.mktemp("stopped")
    address = f"127.0.0.1:{free_port()}"
    nh = NodeHost(NodeHostConfig(node_host_dir=str(tmp / "nh"), raft_address=address,
                                 rtt_millisecond=5))
    try:
        nh.start_cluster({1: address}, False, lambda c, n: Store(),
                         Config(node_id=1, cluster_id=MAIN, election_rtt=10))
        session = retry(lambda: nh.sync_get_session(MAIN, 2.0), idempotent=True)
        user = nh.get_node_user(MAIN)
        rs = nh.read_index(MAIN, T)
        assert rs.result(T) is not None
    finally:
        nh.stop()
    return Stopped(nh, user, session, rs)


# ---- every public method: its arguments, their kinds, a valid baseline ------------------

Baseline = Callable[[Env], dict[str, Any]]


def _noop(e: Env) -> Session:
    return e.nh.get_noop_session(SPARE)


def _change(e: Env) -> dict[str, Any]:
    return {"cluster_id": SPARE, "node_id": 77, "address": "127.0.0.1:1",
            "config_change_index": 0, "timeout": T}


def _start(e: Env) -> dict[str, Any]:
    return {"initial_members": {1: e.address}, "join": False,
            "create_state_machine": lambda c, n: Store(),
            "config": Config(node_id=1, cluster_id=999, election_rtt=10)}


def _start_on_disk(e: Env) -> dict[str, Any]:
    return {**_start(e), "create_state_machine": lambda c, n: BadOnDisk(0)}


# method -> (its arguments' kinds, a valid baseline: SPARE, or harmless).
METHODS: dict[str, tuple[dict[str, str], Baseline]] = {
    "start_cluster": ({"initial_members": "members", "join": "bool",
                       "create_state_machine": "callable", "config": "config"}, _start),
    "start_concurrent_cluster": ({"initial_members": "members", "join": "bool",
                                  "create_state_machine": "callable", "config": "config"},
                                 _start),
    "start_on_disk_cluster": ({"initial_members": "members", "join": "bool",
                               "create_state_machine": "callable", "config": "config"},
                              _start_on_disk),
    "stop_cluster": ({"cluster_id": "u64"}, lambda e: {"cluster_id": UNKNOWN}),
    "stop_node": ({"cluster_id": "u64", "node_id": "u64"},
                  lambda e: {"cluster_id": SPARE, "node_id": 99}),
    "remove_data": ({"cluster_id": "u64", "node_id": "u64"},
                    lambda e: {"cluster_id": UNKNOWN, "node_id": 99}),
    "sync_remove_data": ({"cluster_id": "u64", "node_id": "u64", "timeout": "timeout"},
                         lambda e: {"cluster_id": UNKNOWN, "node_id": 99, "timeout": T}),
    "request_compaction": ({"cluster_id": "u64", "node_id": "u64"},
                           lambda e: {"cluster_id": SPARE, "node_id": 1}),
    "get_node_host_info": ({"skip_log_info": "bool"}, lambda e: {"skip_log_info": True}),
    "get_node_user": ({"cluster_id": "u64"}, lambda e: {"cluster_id": SPARE}),
    "get_noop_session": ({"cluster_id": "u64"}, lambda e: {"cluster_id": SPARE}),
    "sync_get_session": ({"cluster_id": "u64", "timeout": "timeout"},
                         lambda e: {"cluster_id": SPARE, "timeout": T}),
    "sync_close_session": ({"session": "session", "timeout": "timeout"},
                           lambda e: {"session": _noop(e), "timeout": T}),
    "propose": ({"session": "session", "cmd": "bytes", "timeout": "timeout"},
                lambda e: {"session": _noop(e), "cmd": b"x", "timeout": T}),
    "sync_propose": ({"session": "session", "cmd": "bytes", "timeout": "timeout"},
                     lambda e: {"session": _noop(e), "cmd": b"x", "timeout": T}),
    "propose_session": ({"session": "session", "timeout": "timeout"},
                        lambda e: {"session": Session.new(SPARE), "timeout": T}),
    "read_index": ({"cluster_id": "u64", "timeout": "timeout"},
                   lambda e: {"cluster_id": SPARE, "timeout": T}),
    "read_local_node": ({"rs": "rs"}, lambda e: {"rs": e.done_rs, "query": "q"}),
    "na_read_local_node": ({"rs": "rs", "query": "bytes"},
                           lambda e: {"rs": e.done_rs, "query": b"q"}),
    "sync_read": ({"cluster_id": "u64", "timeout": "timeout"},
                  lambda e: {"cluster_id": SPARE, "query": "q", "timeout": T}),
    "stale_read": ({"cluster_id": "u64"}, lambda e: {"cluster_id": SPARE, "query": "q"}),
    "get_hash": ({"cluster_id": "u64"}, lambda e: {"cluster_id": SPARE}),
    **{name: ({"cluster_id": "u64", "node_id": "u64", "address": "address",
               "config_change_index": "u64", "timeout": "timeout"}, _change)
       for name in ("request_add_node", "request_add_observer", "request_add_witness",
                    "sync_request_add_node", "sync_request_add_observer",
                    "sync_request_add_witness")},
    **{name: ({"cluster_id": "u64", "node_id": "u64", "config_change_index": "u64",
               "timeout": "timeout"},
              lambda e: {k: v for k, v in _change(e).items() if k != "address"})
       for name in ("request_delete_node", "sync_request_delete_node")},
    "sync_get_cluster_membership": ({"cluster_id": "u64", "timeout": "timeout"},
                                    lambda e: {"cluster_id": SPARE, "timeout": T}),
    "get_leader_id": ({"cluster_id": "u64"}, lambda e: {"cluster_id": SPARE}),
    "request_leader_transfer": ({"cluster_id": "u64", "target_node_id": "u64"},
                                lambda e: {"cluster_id": SPARE, "target_node_id": 1}),
    "request_snapshot": ({"cluster_id": "u64", "option": "option", "timeout": "timeout"},
                         lambda e: {"cluster_id": SPARE, "option": None, "timeout": T}),
    "sync_request_snapshot": ({"cluster_id": "u64", "option": "option", "timeout": "timeout"},
                              lambda e: {"cluster_id": SPARE, "option": None, "timeout": T}),
    "has_node_info": ({"cluster_id": "u64", "node_id": "u64"},
                      lambda e: {"cluster_id": SPARE, "node_id": 1}),
    "write_health_metrics": ({"file": "file"}, lambda e: {"file": io.StringIO()}),
    "get_health_metrics": ({"cluster_id": "optional_u64"}, lambda e: {"cluster_id": SPARE}),
}
# Methods without arguments (or checked elsewhere): stop() is idempotent,
# raft_address() and node_host_config() are plain accessors.
NO_ARGUMENTS = {"stop", "raft_address", "node_host_config"}


def test_every_public_method_is_covered() -> None:
    public = {n for n, v in vars(NodeHost).items() if not n.startswith("_") and callable(v)}
    assert public == set(METHODS) | NO_ARGUMENTS
    for name, (kinds, _) in METHODS.items():  # the kinds name real parameters
        params = inspect.signature(getattr(NodeHost, name)).parameters
        assert set(kinds) <= set(params), name


CASES = [(m, a) for m, (kinds, _) in METHODS.items() for a in kinds]


@pytest.mark.parametrize(("method", "arg"), CASES, ids=[f"{m}-{a}" for m, a in CASES])
@FAST
@given(data=st.data())
def test_hostile_argument_is_refused_naming_it(env: Env, method: str, arg: str,
                                               data: st.DataObject) -> None:
    kinds, baseline = METHODS[method]
    kwargs = baseline(env)
    kwargs[arg] = data.draw(HOSTILE[kinds[arg]], label=arg)
    assert_clean_failure(lambda: getattr(env.nh, method)(**kwargs), arg, strict=True)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_after_stop_fails_cleanly(env: Env, stopped: Stopped, method: str) -> None:
    kwargs = METHODS[method][1](env)
    if "session" in kwargs:
        kwargs["session"] = stopped.session
    if "rs" in kwargs:
        kwargs["rs"] = stopped.done_rs
    if "cluster_id" in kwargs:
        kwargs["cluster_id"] = MAIN
    fn = getattr(stopped.nh, method)
    if method in ("write_health_metrics", "get_node_host_info", "get_noop_session"):
        call_cleanly(lambda: fn(**kwargs), method)  # may work on a stopped host
    else:
        e = assert_clean_failure(lambda: fn(**kwargs), method)
        assert isinstance(e, DragonboatError), e


def test_accessors_and_stop_after_stop(stopped: Stopped) -> None:
    stopped.nh.stop()  # idempotent
    with stopped.nh:  # __exit__ stops again
        pass
    assert stopped.nh.node_host_config().rtt_millisecond == 5
    call_cleanly(stopped.nh.raft_address, "raft_address")
    assert_clean_failure(lambda: stopped.user.propose(stopped.session, b"x", T), "propose")
    assert_clean_failure(lambda: stopped.user.read_index(T), "read_index")
    assert_clean_failure(lambda: stopped.nh.sync_close_session(stopped.session, T), "session")
    # A request made before the stop is complete and stays usable.
    r = stopped.done_rs.wait(0)
    assert r is not None and r.completed() and stopped.done_rs.done()
    assert_clean_failure(lambda: stopped.nh.read_local_node(stopped.done_rs, "q"), "query")


# ---- values of the right type: IDs, timeouts, payloads ------------------------------------


@ENGINE
@given(cluster_id=ANY_U64, node_id=ANY_U64)
def test_any_cluster_and_node_id(env: Env, cluster_id: int, node_id: int) -> None:
    nh = env.nh
    known = cluster_id in (MAIN, SPARE, MEMBERS)
    for fn in (lambda: nh.get_leader_id(cluster_id), lambda: nh.stale_read(cluster_id, None),
               lambda: nh.read_index(cluster_id, T).result(T),
               lambda: nh.get_noop_session(cluster_id),
               lambda: nh.has_node_info(cluster_id, node_id),
               lambda: nh.get_health_metrics(cluster_id),
               lambda: nh.sync_get_cluster_membership(cluster_id, T)):
        out = call_cleanly(fn, "cluster_id")
        if not known:
            assert isinstance(out, (errors.ClusterNotFoundError, Session, bool)), out
    if not known:
        for fn in (lambda: nh.get_node_user(cluster_id), lambda: nh.get_hash(cluster_id),
                   lambda: nh.stop_cluster(cluster_id), lambda: nh.stop_node(cluster_id, node_id),
                   lambda: nh.request_compaction(cluster_id, node_id),
                   lambda: nh.request_leader_transfer(cluster_id, node_id),
                   lambda: nh.sync_get_session(cluster_id, T),
                   lambda: nh.sync_propose(nh.get_noop_session(cluster_id), b"x", T),
                   lambda: nh.request_snapshot(cluster_id, None, T),
                   lambda: nh.request_add_observer(cluster_id, node_id, "127.0.0.1:1", 0, T),
                   lambda: nh.request_delete_node(cluster_id, node_id, 0, T)):
            assert isinstance(assert_clean_failure(fn, "cluster_id"),
                              errors.ClusterNotFoundError)
        # No data: removing it is a no-op, or refused cleanly.
        call_cleanly(lambda: nh.remove_data(cluster_id, node_id), "node_id")
    elif node_id != 1:
        for fn in (lambda: nh.stop_node(cluster_id, node_id),
                   lambda: nh.request_compaction(cluster_id, node_id)):
            assert isinstance(assert_clean_failure(fn, "node_id"), errors.ClusterNotFoundError)
        if cluster_id == SPARE:  # MAIN serves the positive cases: no transfers there
            call_cleanly(lambda: nh.request_leader_transfer(cluster_id, node_id),
                         "target_node_id")


@ENGINE
@given(timeout=st.one_of(st.floats(min_value=1e-12, max_value=1e9), st.integers(1, 10**9),
                         st.sampled_from([1e-9, 0.001, 0.004, 0.005, 0.0051, 1, 1e9,
                                          Fraction(1, 3)])))
def test_any_positive_timeout_works_or_is_too_small(env: Env, timeout: float) -> None:
    # Below one tick (5 ms) the engine refuses; otherwise the healthy group answers.
    nh = env.nh
    for fn in (lambda: nh.sync_read(MAIN, None, timeout),
               lambda: nh.read_index(MAIN, timeout).result(),
               lambda: nh.sync_get_cluster_membership(MAIN, timeout),
               lambda: nh.sync_propose(nh.get_noop_session(MAIN), b"t", timeout)):
        out = call_cleanly(fn, "timeout")
        if isinstance(out, (errors.TimeoutTooSmallError, errors.InvalidDeadlineError)):
            assert float(timeout) < 0.1, out  # else: a temporary error at worst
        elif isinstance(out, BaseException):
            assert isinstance(out, errors.TemporaryError), out


@FAST
@given(timeout=HOSTILE_TIMEOUT)
def test_hostile_timeouts_everywhere(env: Env, timeout: Any) -> None:
    nh, user = env.nh, NodeUser(env.nh, SPARE)
    for fn in (lambda: nh.sync_read(SPARE, None, timeout), lambda: user.read_index(timeout),
               lambda: user.propose(_noop(env), b"x", timeout),
               lambda: nh.sync_request_snapshot(SPARE, SnapshotOption(), timeout)):
        assert_clean_failure(fn, "timeout", strict=True)


@FAST
@given(timeout=st.one_of(ANY_OBJECT, BAD_TIMEOUT, st.floats()))
def test_request_state_wait_takes_any_timeout(env: Env, timeout: Any) -> None:
    rs = env.done_rs
    for fn in (lambda: rs.wait(timeout), lambda: rs.result(timeout)):
        out = call_cleanly(fn, "timeout")
        if timeout is None or (isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
                               and timeout == timeout):  # not NaN
            # Valid: a negative timeout polls, an infinite or huge one waits;
            # the request is complete either way.
            assert isinstance(out, (RequestResult, Result)), out


class Blocking(Store):
    """update() waits for ``release`` (a pending request on demand)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def update(self, data: bytes) -> Result:
        self.release.wait(30)
        return super().update(data)


def test_request_state_negative_timeout_polls_a_pending_request(env: Env) -> None:
    nh, cid, sm = env.nh, next(env.cluster_ids), Blocking()
    env.start(cid, sm)
    try:
        rs = nh.propose(nh.get_noop_session(cid), b"x", 30.0)
        for t in (-1, -1e300, -math.inf, -(2**2000), 0, 1e-9):
            assert rs.wait(t) is None and not rs.done()
            assert_clean_failure(functools.partial(rs.result, t), "timeout")  # still pending
        assert_clean_failure(lambda: rs.wait(math.nan), "timeout", strict=True)
        threading.Timer(0.2, sm.release.set).start()
        r = rs.wait(math.inf)  # waits until done
        assert r is not None and r.completed() and r.get_result() == Result(1, b"x")
    finally:
        sm.release.set()
        nh.stop_cluster(cid)


@FAST
@given(fn=NOT_CALLABLE)
def test_add_done_callback_refuses_a_non_callable(env: Env, fn: Any) -> None:
    assert_clean_failure(lambda: env.done_rs.add_done_callback(fn), "fn", strict=True)


def test_add_done_callback_and_await_still_work(env: Env) -> None:
    got = threading.Event()
    env.done_rs.add_done_callback(lambda r: got.set())
    assert got.wait(5)

    async def main() -> RequestResult:
        return await env.nh.read_index(MAIN, T)

    assert asyncio.run(main()).completed()


@ENGINE
@given(cmd=st.one_of(st.binary(min_size=1, max_size=MAX_PAYLOAD), st.just(b"\x00" * MAX_PAYLOAD),
                     st.binary(min_size=1, max_size=64).map(bytearray),
                     st.binary(min_size=1, max_size=64).map(lambda b: memoryview(b))))
def test_payloads_up_to_the_limit_are_applied(env: Env, cmd: bytes) -> None:
    r = retry(lambda: env.nh.sync_propose(env.nh.get_noop_session(MAIN), cmd, T))
    assert r == Result(len(cmd), bytes(cmd[:8]))


def test_an_empty_payload_needs_a_registered_session(env: Env) -> None:
    # Through the no-op session an empty entry is a leader's no-op: never
    # applied, so never completed. Refused at once rather than timing out.
    nh = env.nh
    empty: tuple[Any, ...] = (b"", bytearray(), memoryview(b""))
    for cmd in empty:
        e = assert_clean_failure(functools.partial(nh.propose, nh.get_noop_session(MAIN), cmd, T),
                                 "cmd", strict=True)
        assert isinstance(e, ValueError)
    s = retry(lambda: nh.sync_get_session(MAIN, T), idempotent=True)
    assert nh.sync_propose(s, b"", T) == Result(0, b"")
    nh.sync_close_session(s, T)


@FAST
@given(size=st.one_of(st.integers(MAX_PAYLOAD + 1, 4 * MAX_PAYLOAD),
                      st.sampled_from([MAX_PAYLOAD + 1, 1 << 20])))
def test_oversized_payloads_are_refused(env: Env, size: int) -> None:
    nh = env.nh
    for fn in (lambda: nh.propose(nh.get_noop_session(MAIN), b"x" * size, T),
               lambda: NodeUser(nh, MAIN).propose(nh.get_noop_session(MAIN),
                                                  bytearray(size), T)):  # type: ignore[arg-type]
        e = assert_clean_failure(fn, "cmd")
        assert isinstance(e, errors.PayloadTooBigError) and e.maybe_applied is False


@FAST
@given(query=st.one_of(ANY_OBJECT.filter(lambda v: not isinstance(v, _Evil)), st.binary()))
def test_any_query_reaches_the_state_machine(env: Env, query: Any) -> None:
    assert env.nh.stale_read(MAIN, query)[1] == type(query).__name__
    assert env.nh.read_local_node(env.done_rs, query)[1] == type(query).__name__


# ---- sessions ------------------------------------------------------------------------------


@FAST
@given(cluster_id=st.one_of(ANY_U64, HOSTILE_U64))
def test_session_new_takes_any_uint64_and_names_a_bad_cluster_id(cluster_id: Any) -> None:
    out = call_cleanly(lambda: Session.new(cluster_id), "cluster_id")
    valid = isinstance(cluster_id, int) and not isinstance(cluster_id, bool)
    if valid and 0 <= cluster_id <= U64_MAX:
        assert isinstance(out, Session) and out.cluster_id == cluster_id and not out.is_noop()
    else:
        assert isinstance(out, (TypeError, ValueError)), out


def test_noop_session_cannot_be_advanced_registered_or_closed(env: Env) -> None:
    noop = env.nh.get_noop_session(MAIN)
    for step in (noop.proposal_completed, noop.prepare_for_register, noop.prepare_for_unregister,
                 noop.prepare_for_propose):
        assert isinstance(assert_clean_failure(step, "session"), errors.InvalidSessionError)
    for fn in (lambda: env.nh.propose_session(noop, T),
               lambda: env.nh.sync_close_session(noop, T)):
        assert isinstance(assert_clean_failure(fn, "session"), errors.InvalidSessionError)


def test_unregistered_and_closed_sessions_are_refused(env: Env) -> None:
    nh = env.nh
    fresh = Session.new(MAIN)  # prepared for registration, not registered
    assert isinstance(assert_clean_failure(lambda: nh.propose(fresh, b"x", T), "session"),
                      errors.InvalidSessionError)
    fresh.prepare_for_propose()  # claims to be registered: the group refuses it
    assert_clean_failure(lambda: nh.sync_propose(fresh, b"x", T), "session")
    assert_clean_failure(lambda: nh.sync_close_session(Session.new(MAIN), T), "session")
    s = retry(lambda: nh.sync_get_session(MAIN, T), idempotent=True)
    assert nh.sync_propose(s, b"once", T).value == 4
    s.proposal_completed()
    nh.sync_close_session(s, T)
    assert isinstance(assert_clean_failure(lambda: nh.sync_close_session(s, T), "session"),
                      errors.RejectedError)
    assert_clean_failure(lambda: nh.sync_propose(s, b"after close", T), "session")


@FAST
@given(cluster_id=ANY_U64.filter(lambda c: c not in (MAIN, SPARE, MEMBERS)))
def test_sessions_of_unknown_clusters_are_refused(env: Env, cluster_id: int) -> None:
    nh = env.nh
    for s in (nh.get_noop_session(cluster_id), Session.new(cluster_id)):
        for fn in (lambda s=s: nh.propose(s, b"x", T), lambda s=s: nh.propose_session(s, T),
                   lambda s=s: nh.sync_close_session(s, T)):
            assert isinstance(assert_clean_failure(fn, "session"), DragonboatError)


@FAST
@given(cluster_id=ANY_U64.filter(lambda c: c != SPARE))
def test_node_user_refuses_a_session_of_another_cluster(env: Env, cluster_id: int) -> None:
    user = env.nh.get_node_user(SPARE)
    e = assert_clean_failure(
        lambda: user.propose(env.nh.get_noop_session(cluster_id), b"x", T), "session")
    assert isinstance(e, errors.InvalidSessionError)


@FAST
@given(nh=ANY_OBJECT, cluster_id=HOSTILE_U64)
def test_node_user_constructor_checks_its_arguments(env: Env, nh: Any, cluster_id: Any) -> None:
    assert_clean_failure(lambda: NodeUser(nh, SPARE), "nh", strict=True)
    assert_clean_failure(lambda: NodeUser(env.nh, cluster_id), "cluster_id", strict=True)
    assert_clean_failure(lambda: env.nh.get_node_user(cluster_id), "cluster_id", strict=True)


@FAST
@given(timeout=HOSTILE_TIMEOUT, session=ANY_OBJECT, cmd=NOT_BYTES)
def test_node_user_methods_check_their_arguments(env: Env, timeout: Any, session: Any,
                                                 cmd: Any) -> None:
    user = env.nh.get_node_user(SPARE)
    assert_clean_failure(lambda: user.read_index(timeout), "timeout", strict=True)
    assert_clean_failure(lambda: user.propose(_noop(env), b"x", timeout), "timeout", strict=True)
    assert_clean_failure(lambda: user.propose(session, b"x", T), "session", strict=True)
    assert_clean_failure(lambda: user.propose(_noop(env), cmd, T), "cmd", strict=True)


def test_node_user_works(env: Env) -> None:
    user = env.nh.get_node_user(MAIN)
    assert user.propose(env.nh.get_noop_session(MAIN), b"u", T).result(T) == Result(1, b"u")
    assert user.read_index(T).result(T) == Result()


# ---- membership -------------------------------------------------------------------------------


@ENGINE
@given(node_id=ANY_U64, ccid=ANY_U64, address=st.sampled_from(["127.0.0.1:1", "[::1]:2", "h:3"]))
def test_membership_changes_with_any_ids_are_refused_or_rejected(env: Env, node_id: int, ccid: int,
                                                                 address: str) -> None:
    nh = env.nh
    current = retry(lambda: nh.sync_get_cluster_membership(MEMBERS, T), idempotent=True)
    if ccid == current.config_change_id:
        ccid += 1  # ordered_config_change: a stale index is rejected, nothing changes
    for fn in (lambda: nh.request_add_node(MEMBERS, node_id, address, ccid, T).result(T),
               lambda: nh.request_add_witness(MEMBERS, node_id, address, ccid, T).result(T),
               lambda: nh.sync_request_add_observer(MEMBERS, node_id, address, ccid, T),
               lambda: nh.sync_request_delete_node(MEMBERS, node_id, ccid, T)):
        assert isinstance(assert_clean_failure(fn, "node_id"), DragonboatError)
    assert retry(lambda: nh.sync_get_cluster_membership(MEMBERS, T), idempotent=True) == current


def test_membership_change_with_a_valid_index_works(env: Env) -> None:
    nh = env.nh
    m = retry(lambda: nh.sync_get_cluster_membership(MEMBERS, T), idempotent=True)
    retry(lambda: nh.sync_request_add_observer(MEMBERS, 9, "127.0.0.1:9", m.config_change_id, T))
    m = retry(lambda: nh.sync_get_cluster_membership(MEMBERS, T), idempotent=True)
    assert m.observers == {9: "127.0.0.1:9"}
    retry(lambda: nh.sync_request_delete_node(MEMBERS, 9, m.config_change_id, T))
    m = retry(lambda: nh.sync_get_cluster_membership(MEMBERS, T), idempotent=True)
    assert m.observers == {} and 9 in m.removed and set(m.nodes) == {1}


# ---- snapshots --------------------------------------------------------------------------------

SNAPSHOT_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(SnapshotOption)}


def _hostile_field(kind: str) -> st.SearchStrategy[Any]:
    """Hostile values of a settings field annotated ``kind``."""
    if kind == "int":
        return HOSTILE_U64
    if kind == "bool":
        return NOT_BOOL
    if kind == "str":
        return st.one_of(NOT_STR, BAD_STR)
    raise AssertionError(kind)


@pytest.mark.parametrize("field", sorted(SNAPSHOT_FIELDS))
@FAST
@given(data=st.data())
def test_hostile_snapshot_option_fields(env: Env, field: str, data: st.DataObject) -> None:
    value = data.draw(_hostile_field(SNAPSHOT_FIELDS[field]), label=field)
    option = SnapshotOption(**{field: value})
    assert_clean_failure(option.validate, field, strict=True)
    assert_clean_failure(lambda: env.nh.request_snapshot(SPARE, option, T), field, strict=True)


def test_snapshot_options_that_the_engine_refuses_and_valid_ones(env: Env) -> None:
    nh = env.nh
    for option in (SnapshotOption(exported=True),  # no export_path
                   SnapshotOption(exported=True, export_path=str(env.tmp / "missing")),
                   SnapshotOption(exported=True, export_path="/proc/nope")):
        e = assert_clean_failure(functools.partial(nh.sync_request_snapshot, MAIN, option, T),
                                 "export_path")
        assert isinstance(e, DragonboatError)
    retry(lambda: nh.sync_propose(nh.get_noop_session(MAIN), b"snap", T))
    assert nh.sync_request_snapshot(MAIN, None, T) > 0
    out = env.tmp / "exported"
    out.mkdir()
    option = SnapshotOption(exported=True, export_path=str(out),
                            override_compaction_overhead=True, compaction_overhead=U64_MAX)
    assert retry(lambda: nh.sync_request_snapshot(MAIN, option, T)) > 0
    assert any(out.iterdir())


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


# ---- settings dataclasses: every field ---------------------------------------------------------

CONFIG_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(Config)}
HOST_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(NodeHostConfig)
               if f.type in ("int", "bool", "str")}


@pytest.mark.parametrize("field", sorted(CONFIG_FIELDS))
@FAST
@given(data=st.data())
def test_hostile_config_fields(env: Env, field: str, data: st.DataObject) -> None:
    value = data.draw(_hostile_field(CONFIG_FIELDS[field]), label=field)
    config = Config(node_id=1, cluster_id=998, election_rtt=10)
    setattr(config, field, value)
    assert_clean_failure(config.validate, field, strict=True)
    for start in _starts(env):
        assert_clean_failure(functools.partial(start, {1: env.address}, False,
                                               lambda c, n: Store(), config), field, strict=True)


def _starts(env: Env) -> tuple[Callable[..., None], ...]:
    """The three start_*cluster methods of the module host."""
    return (env.nh.start_cluster, env.nh.start_concurrent_cluster, env.nh.start_on_disk_cluster)


SMALL_OR_ANY_U64 = st.one_of(st.integers(0, 30), ANY_U64)


# Any values (mostly refused), and valid ones with extreme sizes (they start).
ANY_CONFIG = st.builds(
    Config, node_id=SMALL_OR_ANY_U64, cluster_id=ANY_U64, check_quorum=st.booleans(),
    election_rtt=SMALL_OR_ANY_U64, heartbeat_rtt=SMALL_OR_ANY_U64,
    snapshot_entries=SMALL_OR_ANY_U64, compaction_overhead=ANY_U64,
    ordered_config_change=st.booleans(), max_in_mem_log_size=SMALL_OR_ANY_U64,
    disable_auto_compactions=st.booleans(), is_observer=st.booleans(),
    is_witness=st.booleans(), quiesce=st.booleans())
EXTREME_CONFIG = st.builds(
    Config, node_id=st.one_of(st.integers(1, 30), st.integers(1, U64_MAX), st.just(U64_MAX)),
    cluster_id=ANY_U64, check_quorum=st.booleans(),
    election_rtt=st.one_of(st.integers(3, 50), st.just(U64_MAX)), heartbeat_rtt=st.just(1),
    snapshot_entries=st.one_of(st.integers(1, 3), ANY_U64), compaction_overhead=ANY_U64,
    ordered_config_change=st.booleans(),
    max_in_mem_log_size=st.one_of(st.just(0), st.integers(1024, U64_MAX)),
    disable_auto_compactions=st.booleans(), is_observer=st.booleans(), quiesce=st.booleans())


@ENGINE
@given(config=st.one_of(ANY_CONFIG, EXTREME_CONFIG))
def test_any_well_typed_config_starts_or_is_refused(env: Env, config: Config) -> None:
    config.cluster_id = next(env.cluster_ids)  # never a running group
    nh = env.nh

    def start() -> None:
        nh.start_cluster({config.node_id: env.address}, False, lambda c, n: Store(), config)

    if config.node_id == 0:  # not a node ID: refused among the initial members first
        assert_clean_failure(start, "initial_members", strict=True)
        return
    out = call_cleanly(start, "config")
    event(f"start: {type(out).__name__}")
    if isinstance(out, BaseException):
        assert isinstance(out, (errors.InvalidClusterSettingsError,
                                errors.InvalidAddressError)), out
        return
    try:
        call_cleanly(lambda: nh.sync_propose(nh.get_noop_session(config.cluster_id), b"x", 0.05),
                     "config")
        call_cleanly(lambda: nh.get_leader_id(config.cluster_id), "config")
    finally:
        nh.stop_cluster(config.cluster_id)


def _host_config(tmp: Path, **fields: Any) -> NodeHostConfig:
    c = NodeHostConfig(node_host_dir=str(tmp / "never"), raft_address="127.0.0.1:1",
                       rtt_millisecond=5)
    for k, v in fields.items():
        setattr(c, k, v)
    return c


@pytest.mark.parametrize("field", sorted(HOST_FIELDS))
@FAST
@given(data=st.data())
def test_hostile_node_host_config_fields(env: Env, field: str, data: st.DataObject) -> None:
    value = data.draw(_hostile_field(HOST_FIELDS[field]), label=field)
    config = _host_config(env.tmp, **{field: value})
    assert_clean_failure(config.validate, field, strict=True)
    assert_clean_failure(lambda: NodeHost(config), field, strict=True)


@FAST
@given(address=HOSTILE_ADDRESS, listen=st.one_of(NOT_STR, BAD_ADDRESS.filter(
    lambda a: a and not a.endswith(":0"))))
def test_bad_addresses_are_refused(env: Env, address: Any, listen: Any) -> None:
    assert_clean_failure(lambda: NodeHost(_host_config(env.tmp, raft_address=address)),
                         "raft_address", strict=True)
    assert_clean_failure(lambda: NodeHost(_host_config(env.tmp, listen_address=listen)),
                         "listen_address", strict=True)
    assert_clean_failure(lambda: env.nh.request_add_observer(SPARE, 9, address, 0, T), "address",
                         strict=True)
    assert_clean_failure(
        lambda: env.nh.start_cluster({1: env.address, 2: address}, False, lambda c, n: Store(),
                                     Config(node_id=1, cluster_id=997, election_rtt=10)),
        "initial_members", strict=True)


@pytest.mark.parametrize(("field", "value"), [
    ("node_host_dir", ""), ("rtt_millisecond", 0), ("rtt_millisecond", 86_400_001),
    ("rtt_millisecond", U64_MAX), ("apply_workers", 0), ("apply_workers", 65),
    ("apply_workers", U64_MAX), ("logdb_shards", 65), ("max_proposal_payload_size", 0),
    ("mutual_tls", True),
])
def test_out_of_range_node_host_config_values(env: Env, field: str, value: Any) -> None:
    config = _host_config(env.tmp, **{field: value})
    assert_clean_failure(lambda: NodeHost(config), field, strict=True)


@pytest.mark.parametrize("config", [None, {}, "config", Config(), object()])
def test_node_host_needs_a_node_host_config(config: Any) -> None:
    assert_clean_failure(lambda: NodeHost(config), "config", strict=True)


def _start_and_stop(config: NodeHostConfig) -> None:
    NodeHost(config).stop()


def test_hosts_with_odd_but_valid_settings_start_and_stop(env: Env) -> None:
    """Unusual valid values reach the engine (huge queue and rate bounds, a
    day-long tick, the most workers and shards); hosts that cannot start (an
    address not ours, a file as the directory, missing TLS files) fail
    cleanly."""
    huge: dict[str, Any] = {name: U64_MAX for name in (
        "max_send_queue_size", "max_receive_queue_size", "max_snapshot_send_bytes_per_second",
        "max_snapshot_recv_bytes_per_second", "max_proposal_payload_size", "deployment_id")}
    address = f"127.0.0.1:{free_port()}"
    with NodeHost(NodeHostConfig(node_host_dir=str(env.tmp / "odd"), raft_address=address,
                                 rtt_millisecond=86_400_000, apply_workers=64, logdb_shards=64,
                                 raft_event_listener=5, system_event_listener="x",
                                 **huge)) as nh:
        nh.start_cluster({1: address}, False, lambda c, n: Store(),
                         Config(node_id=1, cluster_id=1, election_rtt=U64_MAX,
                                heartbeat_rtt=U64_MAX // 2))
        # One tick is a day: every timeout is below it.
        assert isinstance(assert_clean_failure(lambda: nh.read_index(1, 60.0), "timeout"),
                          errors.TimeoutTooSmallError)
        assert nh.get_leader_id(1) == (0, False)
    (env.tmp / "a-file").write_text("")
    for config in (
            NodeHostConfig(node_host_dir=str(env.tmp / "d1"),
                           raft_address=f"192.0.2.1:{free_port()}"),  # not ours
            NodeHostConfig(node_host_dir=str(env.tmp / "d3"),
                           raft_address=f"localhost:{free_port()}"),  # listens on numeric only
            NodeHostConfig(node_host_dir=str(env.tmp / "a-file"),
                           raft_address=f"127.0.0.1:{free_port()}"),
            NodeHostConfig(node_host_dir="/proc/no/such/dir",
                           raft_address=f"127.0.0.1:{free_port()}"),
            NodeHostConfig(node_host_dir=str(env.tmp / "d2"),
                           raft_address=f"127.0.0.1:{free_port()}", mutual_tls=True,
                           ca_file="/nope", cert_file="/nope", key_file="/nope")):
        e = assert_clean_failure(functools.partial(_start_and_stop, config), "config")
        assert isinstance(e, DragonboatError), e


# ---- start_cluster: members, factories, plugins --------------------------------------------------


def test_start_cluster_arguments_the_engine_checks(env: Env) -> None:
    nh, cid = env.nh, next(env.cluster_ids)
    config = Config(node_id=1, cluster_id=cid, election_rtt=10)

    def store(c: int, n: int) -> Store:
        return Store()

    cases: list[tuple[dict[int, str], bool]] = [
        ({}, False),  # a new node without members
        ({1: env.address}, True),  # joining with members
        ({2: env.address}, False),  # node_id not among them
        ({1: "127.0.0.1:1"}, False)]  # not this host's address
    for members, join in cases:
        e = assert_clean_failure(functools.partial(nh.start_cluster, members, join, store, config),
                                 "initial_members")
        assert isinstance(e, DragonboatError), e
    nh.start_cluster({1: env.address}, False, store, config)
    try:
        e = assert_clean_failure(lambda: nh.start_cluster({1: env.address}, False, store, config),
                                 "config")
        assert isinstance(e, errors.ClusterAlreadyExistError)
        # Started as regular: the same node as another kind is refused.
        e = assert_clean_failure(lambda: nh.start_on_disk_cluster(
            {1: env.address}, False, lambda c, n: BadOnDisk(0), config), "config")
        assert isinstance(e, DragonboatError)
    finally:
        nh.stop_cluster(cid)
    regular: Any = store  # restarted as another kind than it was started with
    e = assert_clean_failure(lambda: nh.start_concurrent_cluster({}, False, regular, config),
                             "config")
    assert isinstance(e, errors.InvalidClusterSettingsError)


@pytest.mark.parametrize("made", [None, 5, "sm", object(), lambda: None, Result()])
def test_a_factory_returning_no_state_machine_is_refused(env: Env, made: Any) -> None:
    for start in _starts(env):
        config = Config(node_id=1, cluster_id=next(env.cluster_ids), election_rtt=10)
        assert_clean_failure(
            functools.partial(start, {1: env.address}, False, lambda c, n: made, config),
            "create_state_machine", strict=True)


def test_a_raising_factory_propagates_its_error(env: Env) -> None:
    def factory(c: int, n: int) -> Store:
        raise KeyError("the application's own error")

    with pytest.raises(KeyError):
        env.nh.start_cluster({1: env.address}, False, factory,
                             Config(node_id=1, cluster_id=next(env.cluster_ids), election_rtt=10))


@pytest.mark.parametrize("plugin", ["/no/such/plugin.so", "", "relative.so", "/dev/null",
                                    Path("/no/such.so"), "a\x00b", 5, b"/x.so", object()])
def test_bad_plugins_are_refused(env: Env, plugin: Any) -> None:
    config = Config(node_id=1, cluster_id=next(env.cluster_ids), election_rtt=10)
    assert_clean_failure(lambda: env.nh.start_cluster({1: env.address}, False, None, config,
                                                      plugin=plugin), "plugin")
    assert_clean_failure(lambda: env.nh.start_cluster({1: env.address}, False,
                                                      lambda c, n: Store(), config,
                                                      plugin="/x.so"),
                         "create_state_machine", strict=True)
    assert_clean_failure(lambda: env.nh.start_cluster({1: env.address}, False, None, config),
                         "create_state_machine", strict=True)


BUILD = Path(os.environ.get("DRAGONBOAT_BUILD_DIR",
                           Path(__file__).resolve().parents[2] / "build" / "dev"))
PLUGIN = BUILD / "examples" / "plugin" / "libdragonboat_kv_plugin.so"


@pytest.fixture(scope="module")
def plugin_cluster(env: Env) -> int:
    """A group on the module host run by the C++ KV plugin."""
    if not PLUGIN.exists():
        pytest.skip(f"{PLUGIN} is missing: build the C++ tree first")
    cid = next(env.cluster_ids)
    env.nh.start_cluster({1: env.address}, False, None,
                         Config(node_id=1, cluster_id=cid, election_rtt=10), plugin=str(PLUGIN))
    retry(lambda: env.nh.sync_propose(env.nh.get_noop_session(cid), b"k=v", T))
    return cid


@FAST
@given(query=st.one_of(ANY_OBJECT, BAD_STR, st.binary(), st.text()))
def test_plugin_lookups_take_bytes_or_text_only(env: Env, plugin_cluster: int,
                                                query: Any) -> None:
    out = call_cleanly(lambda: env.nh.stale_read(plugin_cluster, query), "query")
    if isinstance(query, str):
        try:
            query.encode()
        except UnicodeEncodeError:
            assert isinstance(out, ValueError), out  # a lone surrogate
            return
    if isinstance(query, (bytes, str)):
        assert isinstance(out, bytes), out  # the plugin's answer (empty: no such key)
    else:
        assert isinstance(out, TypeError), out


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


class BadOnDisk(OnDiskStateMachine):
    """Opens with a given (hostile) index; applies nothing."""

    def __init__(self, opened: Any) -> None:
        self.opened = opened

    def open(self) -> Any:
        return self.opened

    def update(self, entries: Any) -> None:
        pass

    def lookup(self, query: Any) -> Any:
        return None

    def sync(self) -> None:
        pass


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


# ---- metrics and info ----------------------------------------------------------------------------


def test_metrics_accept_text_and_binary_files(env: Env) -> None:
    text, binary = io.StringIO(), io.BytesIO()
    env.nh.write_health_metrics(text)
    env.nh.write_health_metrics(binary)
    assert text.getvalue() and binary.getvalue().decode().startswith(text.getvalue()[:20])
    assert env.nh.get_health_metrics(MAIN)["dragonboat_raft_term"] >= 1
    info = env.nh.get_node_host_info(skip_log_info=False)
    assert {c.cluster_id for c in info.cluster_info} >= {MAIN, SPARE, MEMBERS}


# ---- module functions: retry and simulate ------------------------------------------------------


@FAST
@given(fn=NOT_CALLABLE, timeout=st.one_of(NOT_NUMBER, st.sampled_from(
    [math.nan, -1, -math.inf, -1e-9, 1e9 + 1, 2**1100, -(2**1100)])),
       interval=st.one_of(NOT_NUMBER, st.sampled_from([math.nan, -1, math.inf, 1e300, 2**64])),
       session=ANY_OBJECT.filter(lambda v: v is not None))
def test_retry_checks_its_arguments(fn: Any, timeout: Any, interval: Any, session: Any) -> None:
    assert_clean_failure(lambda: retry_fn(fn), "fn", strict=True)
    assert_clean_failure(lambda: retry_fn(lambda: 1, timeout=timeout), "timeout", strict=True)
    assert_clean_failure(lambda: retry_fn(lambda: 1, interval=interval), "interval", strict=True)
    assert_clean_failure(lambda: retry_fn(lambda: 1, session=session), "session", strict=True)


def test_retry_with_an_infinite_timeout_still_returns() -> None:
    calls = itertools.count()

    def flaky() -> str:
        if next(calls) < 2:
            raise errors.ClusterNotReadyError("not yet")
        return "done"

    assert retry_fn(flaky, timeout=math.inf, interval=0) == "done"


@FAST
@given(seed=st.one_of(HOSTILE_U64), steps=st.one_of(NOT_INT, st.integers(max_value=0), BAD_U64))
def test_simulate_checks_its_arguments(seed: Any, steps: Any) -> None:
    assert_clean_failure(lambda: simulate(seed, 10), "seed", strict=True)
    assert_clean_failure(lambda: simulate(1, steps), "steps", strict=True)


@settings(max_examples=5, deadline=timedelta(seconds=10), database=None)
@given(seed=ANY_U64, steps=st.integers(1, 50))
def test_simulate_takes_any_seed(seed: int, steps: int) -> None:
    assert simulate(seed, steps).seed == seed
