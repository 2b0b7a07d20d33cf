"""Tests for the pure-Python linearizability checker (dragonboat.linearizability)."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dragonboat.linearizability import Op, Verdict, check, dump_history, load_history

INF = math.inf


def r(client: int, out: Any, invoke: float, complete: float, key: str = "x") -> Op:
    """A completed read that returned ``out``."""
    return Op(client, "read", key, None, out, invoke, complete, "ok")


def w(client: int, value: Any, invoke: float, complete: float, key: str = "x") -> Op:
    """A completed write of ``value``."""
    return Op(client, "write", key, value, None, invoke, complete, "ok")


def cas(
    client: int, expected: Any, new: Any, out: bool | None, invoke: float, complete: float,
    key: str = "x",
) -> Op:
    """A completed compare-and-set that returned ``out``."""
    return Op(client, "cas", key, (expected, new), out, invoke, complete, "ok")


def unknown(op: Op) -> Op:
    """``op`` with an unknown outcome (complete = inf, no output)."""
    return Op(op.client, op.kind, op.key, op.value, None, op.invoke, INF, "unknown")


def failed(op: Op) -> Op:
    """``op`` marked as known not to have taken effect."""
    return Op(op.client, op.kind, op.key, op.value, op.output, op.invoke, op.complete, "fail")


def assert_bad(verdict: Verdict, key: str = "x") -> None:
    assert verdict.ok is False, verdict.explanation
    assert verdict.failed_key == key
    assert repr(key) in verdict.explanation


# --------------------------------------------------------------------------- good


GOOD: dict[str, list[Op]] = {
    "empty": [],
    "sequential": [
        r(1, None, 0, 1),
        w(1, 1, 2, 3),
        r(2, 1, 4, 5),
        w(2, 2, 6, 7),
        r(1, 2, 8, 9),
    ],
    "overlapping writes, reads see the later-linearized one": [
        w(1, 1, 0, 10),
        w(2, 2, 0, 10),
        r(3, 2, 11, 12),
        r(4, 2, 13, 14),
    ],
    "overlapping writes, reads see the other one": [
        w(1, 1, 0, 10),
        w(2, 2, 0, 10),
        r(3, 1, 11, 12),
        r(4, 1, 13, 14),
    ],
    "reads during overlapping writes see both orders in between": [
        w(1, 1, 0, 10),
        w(2, 2, 0, 10),
        r(3, None, 1, 2),
        r(3, 2, 3, 4),
        r(4, 1, 5, 6),
        r(4, 1, 11, 12),
    ],
    "read concurrent with a write may see old or new": [
        w(1, 1, 0, 1),
        w(1, 2, 2, 8),
        r(2, 2, 3, 4),
        r(3, 2, 5, 6),
        r(4, 2, 9, 10),
    ],
    "unknown write seen by a later read": [
        w(1, 1, 0, 1),
        unknown(w(1, 2, 2, 3)),
        r(2, 1, 4, 5),
        r(2, 2, 50, 51),
        r(3, 2, 60, 61),
    ],
    "unknown write never seen": [
        w(1, 1, 0, 1),
        unknown(w(2, 9, 2, 3)),
        r(1, 1, 4, 5),
        w(3, 3, 6, 7),
        r(1, 3, 8, 9),
    ],
    "many unknown writes, one seen": [
        *[unknown(w(c, 100 + c, c, c + 1)) for c in range(12)],
        r(20, None, 30, 31),
        r(20, 105, 40, 41),
        w(20, 1, 42, 43),
        r(20, 1, 44, 45),
    ],
    "unknown cas that took effect": [
        w(1, 1, 0, 1),
        unknown(cas(2, 1, 2, None, 2, 3)),
        r(1, 2, 10, 11),
    ],
    "cas success and failure": [
        w(1, 1, 0, 1),
        cas(2, 1, 2, True, 2, 3),
        cas(3, 1, 3, False, 4, 5),
        r(1, 2, 6, 7),
        cas(1, 2, 4, True, 8, 9),
        r(2, 4, 10, 11),
    ],
    "concurrent cas, one wins": [
        w(1, 0, 0, 1),
        cas(2, 0, 1, True, 2, 5),
        cas(3, 0, 2, False, 2, 5),
        r(4, 1, 6, 7),
    ],
    "cas with unknown result": [
        w(1, 0, 0, 1),
        cas(2, 0, 1, None, 2, 3),
        r(3, 1, 4, 5),
    ],
    "cas on an absent key": [
        cas(1, None, "a", True, 0, 1),
        r(1, "a", 2, 3),
    ],
    "fail ops are ignored": [
        w(1, 1, 0, 1),
        failed(w(2, 2, 2, 3)),
        failed(r(3, 99, 4, 5)),
        failed(cas(2, 1, 7, True, 6, 7)),
        r(1, 1, 8, 9),
    ],
    "unknown reads are ignored": [
        w(1, 1, 0, 1),
        unknown(r(2, None, 2, 3)),
        r(1, 1, 4, 5),
    ],
    "touching windows count as concurrent": [
        w(1, 1, 0, 5),
        r(2, None, 5, 6),
    ],
    "structured values": [
        w(1, [1, 2], 0, 1),
        r(2, (1, 2), 2, 3),
        w(1, {"a": [1]}, 4, 5),
        r(2, {"a": [1]}, 6, 7),
    ],
    "independent keys": [
        w(1, 1, 0, 10, key="a"),
        w(2, 1, 0, 10, key="b"),
        r(3, 1, 1, 2, key="a"),
        r(3, None, 3, 4, key="b"),
        r(4, 1, 5, 6, key="a"),
        r(4, 1, 11, 12, key="b"),
    ],
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_known_good(name: str) -> None:
    history = GOOD[name]
    verdict = check(history)
    assert verdict.ok is True, verdict.explanation
    assert verdict.failed_key is None
    assert verdict.keys == len({op.key for op in history})


def test_counts_and_dropped_ops() -> None:
    history = [w(1, 1, 0, 1), failed(w(2, 2, 2, 3)), unknown(r(3, None, 0, 1)), r(1, 1, 4, 5)]
    verdict = check(history)
    assert verdict.ok is True
    assert (verdict.keys, verdict.ops) == (1, 2)
    assert "2 failed ops and unknown reads ignored" in verdict.explanation
    assert verdict.elapsed >= 0


# --------------------------------------------------------------------------- bad


BAD: dict[str, list[Op]] = {
    "stale read after a completed write": [
        w(1, 1, 0, 1),
        w(1, 2, 2, 3),
        r(2, 1, 4, 5),
    ],
    "read of a value never written": [
        w(1, 1, 0, 1),
        r(2, 7, 2, 3),
    ],
    "read of a value before it is written": [
        r(2, 1, 0, 1),
        w(1, 1, 2, 3),
    ],
    "non-monotonic reads": [
        w(1, 1, 0, 1),
        w(2, 2, 2, 10),
        r(3, 2, 3, 4),
        r(4, 1, 5, 6),
    ],
    "lost acknowledged write": [
        w(1, 1, 0, 1),
        w(2, 2, 2, 3),
        r(3, 1, 4, 5),
        r(4, 1, 6, 7),
        r(3, 1, 8, 9),
    ],
    "cas succeeds twice from the same expected value": [
        w(1, 0, 0, 1),
        cas(2, 0, 1, True, 2, 3),
        cas(3, 0, 2, True, 2, 3),
    ],
    "failed cas although the expected value was there": [
        w(1, 0, 0, 1),
        cas(2, 0, 1, False, 2, 3),
    ],
    "unknown write seen before it was invoked": [
        r(1, 5, 0, 1),
        unknown(w(2, 5, 2, 3)),
    ],
    "failed write seen": [
        failed(w(1, 5, 0, 1)),
        r(2, 5, 2, 3),
    ],
    "unknown write seen, then its predecessor again": [
        w(1, 1, 0, 1),
        unknown(w(2, 2, 2, 3)),
        r(3, 2, 4, 5),
        r(3, 1, 6, 7),
    ],
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_known_bad(name: str) -> None:
    assert_bad(check(BAD[name]))


def test_bad_key_is_found_among_good_ones() -> None:
    history = [*GOOD["sequential"], *[_rekey(op, "y") for op in BAD["non-monotonic reads"]]]
    history += [_rekey(op, "z") for op in GOOD["cas success and failure"]]
    verdict = check(history)
    assert_bad(verdict, "y")
    assert verdict.keys == 3


def test_explanation_shows_the_stuck_point() -> None:
    verdict = check(BAD["stale read after a completed write"])
    assert_bad(verdict)
    text = verdict.explanation
    assert "client 1: write 2 [2, 3]" in text  # in the longest prefix
    assert "client 2: read -> 1 [4, 5]" in text  # the op that cannot go next
    assert "register holds 2" in text


def test_time_budget_exhausted_is_undecided() -> None:
    verdict = check(GOOD["sequential"], time_budget=0.0)
    assert verdict.ok is None
    assert verdict.failed_key is None
    assert "time budget" in verdict.explanation


@pytest.mark.parametrize(
    "op",
    [
        Op(1, "delete", "x", None, None, 0, 1, "ok"),
        Op(1, "read", "x", None, None, 0, 1, "maybe"),
        Op(1, "read", "x", None, None, 2, 1, "ok"),
        Op(1, "read", "x", None, None, 0, INF, "ok"),
        Op(1, "cas", "x", 5, True, 0, 1, "ok"),
        Op(1, "cas", "x", (1, 2), "yes", 0, 1, "ok"),
    ],
)
def test_malformed_ops_are_rejected(op: Op) -> None:
    with pytest.raises(ValueError):
        check([op])


# --------------------------------------------------------------------------- JSON


def test_json_round_trip(tmp_path: Path) -> None:
    history = [
        w(1, "a", 0.5, 1.25),
        unknown(w(2, [1, 2], 2, 3)),
        cas(3, "a", "b", True, 4, 5),
        unknown(cas(3, "b", "c", None, 6, 7)),
        r(4, None, 8, 9, key="other"),
        failed(w(5, 3, 10, 11)),
    ]
    path = tmp_path / "history.jsonl"
    dump_history(history, path)
    assert len(path.read_text().splitlines()) == len(history)
    loaded = load_history(path)
    assert loaded == history
    assert loaded[1].complete == INF
    assert loaded[2].value == ("a", "b")
    assert Op.from_json(history[3].to_json()) == history[3]
    assert history[1].to_json()["complete"] is None
    assert check(loaded).ok is True


# --------------------------------------------------------------------------- property


def _rekey(op: Op, key: str) -> Op:
    return Op(op.client, op.kind, key, op.value, op.output, op.invoke, op.complete, op.outcome)


VALUES = st.integers(min_value=0, max_value=3)


@st.composite
def linearizable_histories(
    draw: st.DrawFn, max_ops: int = 30, max_keys: int = 3
) -> list[Op]:
    """A register execution, one op per 10 time units, each op's window around its point.

    The windows are wide enough to overlap several neighbours, so the history is
    concurrent but linearizable by construction (the execution order is a witness).
    """
    n = draw(st.integers(min_value=1, max_value=max_ops))
    keys = ["a", "b", "c"][: draw(st.integers(min_value=1, max_value=max_keys))]
    registers: dict[str, Any] = {}
    ops: list[Op] = []
    for step in range(n):
        point = 10.0 * step
        key = draw(st.sampled_from(keys))
        kind = draw(st.sampled_from(["read", "write", "cas"]))
        invoke = point - draw(st.integers(min_value=0, max_value=35))
        complete = point + draw(st.integers(min_value=0, max_value=35))
        fate = draw(st.sampled_from(["ok"] * 6 + ["applied", "lost", "fail"]))
        current = registers.get(key)
        client = draw(st.integers(min_value=0, max_value=4))
        if kind == "read":
            if fate == "ok":
                ops.append(Op(client, "read", key, None, current, invoke, complete, "ok"))
            elif fate == "fail":
                ops.append(Op(client, "read", key, None, 99, invoke, complete, "fail"))
            else:
                ops.append(Op(client, "read", key, None, None, invoke, INF, "unknown"))
            continue
        if kind == "write":
            value: Any = draw(VALUES)
            takes_effect = fate in ("ok", "applied")
            if takes_effect:
                registers[key] = value
        else:
            expected = draw(st.one_of(st.none(), VALUES))
            value = (expected, draw(VALUES))
            takes_effect = fate in ("ok", "applied") and current == expected
            if takes_effect:
                registers[key] = value[1]
        if fate == "ok":
            output = (current == value[0]) if kind == "cas" else None
            if kind == "cas" and draw(st.integers(min_value=0, max_value=5)) == 0:
                output = None  # the client did not learn whether the cas succeeded
            ops.append(Op(client, kind, key, value, output, invoke, complete, "ok"))
        elif fate == "fail":
            ops.append(Op(client, kind, key, value, None, invoke, complete, "fail"))
        else:
            ops.append(Op(client, kind, key, value, None, invoke, INF, "unknown"))
    order = draw(st.permutations(range(len(ops))))
    return [ops[i] for i in order]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linearizable_histories())
def test_linearizable_by_construction(history: list[Op]) -> None:
    verdict = check(history)
    assert verdict.ok is True, verdict.explanation


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linearizable_histories(), st.data())
def test_read_of_unwritten_value_is_caught(history: list[Op], data: st.DataObject) -> None:
    reads = [i for i, op in enumerate(history) if op.kind == "read" and op.outcome == "ok"]
    if not reads:
        history.append(Op(9, "read", "a", None, None, 1000, 1001, "ok"))
        reads = [len(history) - 1]
    i = data.draw(st.sampled_from(reads))
    bad = history[i]
    history[i] = Op(bad.client, "read", bad.key, None, "never written", bad.invoke,
                    bad.complete, "ok")
    assert_bad(check(history), bad.key)


def brute_force(history: list[Op]) -> bool:
    """Linearizability by enumerating every order of every admissible subset of ops."""
    ops = [
        op for op in history
        if op.outcome == "ok" or (op.outcome == "unknown" and op.kind != "read")
    ]
    must = [op for op in ops if op.outcome == "ok"]
    maybe = [op for op in ops if op.outcome == "unknown"]

    def legal(order: tuple[Op, ...]) -> bool:
        for i, a in enumerate(order):
            for b in order[i + 1:]:
                if b.outcome == "ok" and b.complete < a.invoke:
                    return False  # b finished before a started, yet comes after it
        state: dict[str, Any] = {}
        for op in order:
            current = state.get(op.key)
            if op.kind == "read":
                if current != op.output:
                    return False
            elif op.kind == "write":
                state[op.key] = op.value
            else:
                expected, new = op.value
                if op.outcome == "ok" and op.output is False:
                    if current == expected:
                        return False
                elif op.outcome == "ok" and op.output is True or op.outcome == "unknown":
                    if current != expected:
                        return False
                    state[op.key] = new
                elif current == expected:
                    state[op.key] = new
        return True

    for size in range(len(maybe) + 1):
        for subset in itertools.combinations(maybe, size):
            for order in itertools.permutations(must + list(subset)):
                if legal(order):
                    return True
    return False


@st.composite
def arbitrary_histories(draw: st.DrawFn) -> list[Op]:
    """Small single-key histories, usually not linearizable."""
    n = draw(st.integers(min_value=1, max_value=6))
    ops: list[Op] = []
    small = st.integers(min_value=0, max_value=2)
    for client in range(n):
        value: Any
        output: Any
        complete: float
        kind = draw(st.sampled_from(["read", "write", "cas"]))
        invoke = draw(st.integers(min_value=0, max_value=10))
        complete = invoke + draw(st.integers(min_value=0, max_value=6))
        outcome = draw(st.sampled_from(["ok", "ok", "ok", "unknown", "fail"]))
        if kind == "read":
            value, output = None, draw(st.one_of(st.none(), small))
        elif kind == "write":
            value, output = draw(small), None
        else:
            value = (draw(st.one_of(st.none(), small)), draw(small))
            output = draw(st.sampled_from([True, False, None]))
        if outcome == "unknown":
            complete, output = INF, None
        ops.append(Op(client, kind, "k", value, output, invoke, complete, outcome))
    return ops


@settings(max_examples=500, deadline=None)
@given(arbitrary_histories())
def test_agrees_with_brute_force(history: list[Op]) -> None:
    verdict = check(history)
    event(f"linearizable: {verdict.ok}")
    assert verdict.ok is brute_force(history), verdict.explanation


def exhaustive(history: list[Op]) -> bool:
    """Linearizability of a one-key history by a plain search over every order.

    No pruning beyond remembering (placed ops, value) pairs that failed: a slow
    but simple reference for the checker's reductions.
    """
    ops = [
        op for op in history
        if op.outcome == "ok" or (op.outcome == "unknown" and op.kind != "read")
    ]
    must = sum(1 << i for i, op in enumerate(ops) if op.outcome == "ok")
    ends = [INF if op.outcome == "unknown" else op.complete for op in ops]
    failed_configs: set[tuple[int, Any]] = set()

    def apply(op: Op, value: Any) -> tuple[bool, Any]:
        if op.kind == "read":
            return op.output == value, value
        if op.kind == "write":
            return True, op.value
        expected, new = op.value
        if op.outcome == "unknown" or op.output is True:
            return value == expected, new
        if op.output is False:
            return value != expected, value
        return True, new if value == expected else value

    def search(done: int, value: Any) -> bool:
        if done & must == must:
            return True
        if (done, value) in failed_configs:
            return False
        for i, op in enumerate(ops):
            if done >> i & 1:
                continue
            if any(not done >> k & 1 and ends[k] < op.invoke for k in range(len(ops))):
                continue  # an op that has not been placed completed before this one began
            fits, after = apply(op, value)
            if fits and search(done | 1 << i, after):
                return True
        failed_configs.add((done, value))
        return False

    return search(0, None)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linearizable_histories(max_ops=14, max_keys=1), st.data())
def test_agrees_with_exhaustive_search(history: list[Op], data: st.DataObject) -> None:
    # Perturb a linearizable history so that both verdicts are common.
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        i = data.draw(st.integers(min_value=0, max_value=len(history) - 1))
        op = history[i]
        if op.kind == "read":
            op.output = data.draw(st.one_of(st.none(), VALUES))
        elif op.kind == "cas" and op.outcome == "ok":
            op.output = data.draw(st.sampled_from([True, False, None]))
        else:
            op.invoke += 25
            if op.outcome != "unknown":
                op.complete += 25
    verdict = check(history)
    event(f"linearizable: {verdict.ok}")
    assert verdict.ok is exhaustive(history), verdict.explanation


# --------------------------------------------------------------------------- benchmark


def concurrent_history(
    n_ops: int, n_keys: int, n_clients: int, unknown_rate: float, seed: int
) -> list[Op]:
    """A linearizable concurrent history with skewed key popularity.

    Each client runs ops back to back; every op gets a random window and a
    random linearization point inside it, and the register values are filled in
    by executing the ops in the order of those points. Writes use unique values.
    Some writes and cas ops end with an unknown outcome (half of them applied).
    """
    rng = random.Random(seed)
    weights = list(itertools.accumulate(1.0 / (k + 1) for k in range(n_keys)))
    free_at = [0.0] * n_clients
    skeletons: list[tuple[float, int, str, str, float, float, bool, bool]] = []
    for _ in range(n_ops):
        client = min(range(n_clients), key=free_at.__getitem__)
        invoke = free_at[client] + rng.expovariate(10.0)
        complete = invoke + rng.expovariate(1.0)
        free_at[client] = complete
        point = rng.uniform(invoke, complete)
        key = f"k{rng.choices(range(n_keys), cum_weights=weights)[0]}"
        roll = rng.random()
        kind = "read" if roll < 0.5 else "write" if roll < 0.85 else "cas"
        is_unknown = kind != "read" and rng.random() < unknown_rate
        applied = not is_unknown or rng.random() < 0.5
        skeletons.append((point, client, key, kind, invoke, complete, is_unknown, applied))
    skeletons.sort()
    registers: dict[str, Any] = {}
    recent: dict[str, list[Any]] = {}
    history: list[Op] = []
    for serial, (_, client, key, kind, invoke, complete, is_unknown, applied) in enumerate(
        skeletons
    ):
        current = registers.get(key)
        outcome = "unknown" if is_unknown else "ok"
        end = INF if is_unknown else complete
        if kind == "read":
            history.append(Op(client, kind, key, None, current, invoke, complete, "ok"))
            continue
        if kind == "write":
            value: Any = serial
            if applied:
                registers[key] = serial
                recent.setdefault(key, []).append(serial)
            history.append(Op(client, kind, key, value, None, invoke, end, outcome))
            continue
        seen = recent.get(key, [None])
        expected = current if rng.random() < 0.6 else rng.choice(seen[-5:])
        succeeded = applied and current == expected
        if succeeded:
            registers[key] = serial
            recent.setdefault(key, []).append(serial)
        output = None if is_unknown else current == expected
        history.append(Op(client, kind, key, (expected, serial), output, invoke, end, outcome))
    return history


def test_benchmark_30k_ops() -> None:
    history = concurrent_history(30_000, n_keys=50, n_clients=8, unknown_rate=0.02, seed=7)
    assert sum(op.outcome == "unknown" for op in history) > 50
    verdict = check(history)
    print(f"\n30k-op history: {verdict.keys} keys, {verdict.ops} ops, {verdict.elapsed:.2f}s")
    assert verdict.ok is True, verdict.explanation
    assert verdict.keys == 50


def test_stale_read_in_a_large_history_is_caught() -> None:
    history = concurrent_history(5_000, n_keys=10, n_clients=8, unknown_rate=0.02, seed=3)
    key = "k0"
    writes = {op.value: op for op in history
              if op.key == key and op.kind == "write" and op.outcome == "ok"}
    reads = [i for i, op in enumerate(history) if op.key == key and op.kind == "read"]
    for i in reads[len(reads) // 2:]:
        read = history[i]
        last = writes.get(read.output)
        if last is None or last.complete >= read.invoke:
            continue
        older = [op for op in writes.values() if op.complete < last.invoke]
        if older:
            # The read follows `last`, which follows `older[-1]`: seeing the older value
            # is stale (every written value is unique).
            stale = max(older, key=lambda op: op.complete).value
            history[i] = Op(read.client, "read", key, None, stale, read.invoke,
                            read.complete, "ok")
            break
    else:
        pytest.fail("no read to make stale")
    assert_bad(check(history), key)
