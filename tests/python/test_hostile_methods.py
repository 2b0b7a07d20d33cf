"""Hostile input to the public Python API, property-based (Hypothesis): calls.

Every public method of NodeHost, NodeUser, RequestState and Session, and the
module functions retry() and simulate(), gets values of the wrong type (str,
float, None, list, bytes, object() where an int is expected, ...), values out
of range (negative and 2**64-sized ints, NaN, infinite, zero and negative
timeouts), empty and oversized payloads, unknown cluster and node IDs, bad
addresses, and calls after stop(). The contract checked (hostile_util.py): no
crash, no hang, and every failure is either a :mod:`dragonboat.errors` class (a
DragonboatError) or a TypeError/ValueError whose message names the offending
argument; valid input still works.

One NodeHost runs for the module (the ``env`` fixture: cluster MAIN for the
positive cases, cluster SPARE as the target of the argument checks: should a
check let a hostile value through, only SPARE is touched), another one is
stopped. The settings dataclasses and start_cluster are in
test_hostile_settings.py, what a state machine hands back in
test_hostile_state_machine.py.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import io
import itertools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest
from conftest import free_port, retry
from hostile_util import (
    ANY_OBJECT,
    ANY_U64,
    BAD_TIMEOUT,
    BAD_U64,
    ENGINE,
    FAST,
    HOSTILE,
    HOSTILE_TIMEOUT,
    HOSTILE_U64,
    MAIN,
    MAX_PAYLOAD,
    MEMBERS,
    NOT_BYTES,
    NOT_CALLABLE,
    NOT_INT,
    NOT_NUMBER,
    SPARE,
    U64_MAX,
    UNKNOWN,
    BadOnDisk,
    Env,
    Store,
    T,
    _Evil,
    assert_clean_failure,
    call_cleanly,
)
from hypothesis import given, settings
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
    errors,
    simulate,
)
from dragonboat import retry as retry_fn
from dragonboat.errors import DragonboatError

pytestmark = pytest.mark.usefixtures("no_hang")  # conftest.py


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
    "get_cluster_membership": ({"cluster_id": "u64"}, lambda e: {"cluster_id": SPARE}),
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
