"""Helpers shared by the test_hostile_*.py modules (hostile input to the
public Python API, property-based with Hypothesis): the contract every failure
must meet, the hostile values, a state machine that takes any command and any
query, and the host each module runs.

The contract checked: no crash, no hang, and every failure is either a
:mod:`dragonboat.errors` class (a DragonboatError) or a TypeError/ValueError
whose message names the offending argument or field; valid input still works.

Each test module gets its own NodeHost (the ``env`` fixture of conftest.py,
built by :func:`module_host`): cluster MAIN for the positive cases, cluster
SPARE as the target of the argument checks (should a check let a hostile value
through, only SPARE is touched), cluster MEMBERS for membership changes.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, retry
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from dragonboat import Config, NodeHost, NodeHostConfig, RequestState, Result, StateMachine
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


def module_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """The host of one test module (conftest.py's ``env`` fixture): MAIN, SPARE
    and MEMBERS (ordered config changes) running, a completed read on MAIN."""
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


# ---- an on-disk state machine that opens at a given index --------------------


class BadOnDisk(OnDiskStateMachine):
    """Opens with a given (hostile) index; applies nothing."""

    def __init__(self, opened: Any) -> None:
        self.opened = opened

    def open(self, stopped: Any) -> Any:
        return self.opened

    def update(self, entries: Any) -> None:
        pass

    def lookup(self, query: Any) -> Any:
        return None

    def sync(self) -> None:
        pass
