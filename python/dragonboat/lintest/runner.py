"""One run of the linearizability test, and a series of runs (``dragonboat lintest``).

A run starts one server process per node, each in its own network namespace,
bootstraps the register store's group on them, lets clients put,
compare-and-set and read a few registers while the nemesis injects faults,
then heals everything and checks four verdicts:

- **linearizable**: the history (every operation with its invocation,
  completion and outcome) has a linearization (Wing-Gong/Lowe per key,
  :mod:`dragonboat.linearizability`), final reads of every key included;
- **no lost acknowledged writes**: every write the clients saw succeed was
  applied exactly once, every unknown one at most once and every refused one
  never (the store counts applies per command);
- **replicas agree**: every node ends with the same ``(count, hash)``;
- **progress after healing**: every node completes a write and a read within
  a minute after the last fault is healed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence

from dragonboat import linearizability
from dragonboat.lintest import net as netns
from dragonboat.lintest.client import Client, History, LogicalClient
from dragonboat.lintest.nemesis import FAULTS, Nemesis
from dragonboat.lintest.nodes import CALL_ERRORS, CLUSTER, Nodes

HEAL_DEADLINE = 60.0
"""Seconds every node has after the last heal to complete a write and a read."""


@dataclasses.dataclass
class RunResult:
    """What one run did and found."""

    seed: int
    nodes: int
    seconds: float
    ops: dict[str, int]
    faults: dict[str, int]
    violations: list[str]
    check_seconds: float
    recovery_seconds: float
    root: str

    @property
    def operations(self) -> int:
        """Operations recorded in the history."""
        return sum(v for k, v in self.ops.items()
                   if k.split()[0] in ("read", "write", "cas") and len(k.split()) == 2)


def _states(nodes: Nodes) -> list[tuple[int, int] | None]:
    out: list[tuple[int, int] | None] = []
    for i in range(nodes.count):
        try:
            r = nodes.call(i, "states", 10.0)
            st = [s["state"] for s in r["states"] if s["cluster"] == CLUSTER]
            count, h, _ = st[0].split() if st else ("-1", "0", "0")
            out.append((int(count), int(h)) if st else None)
        except CALL_ERRORS:
            out.append(None)
    return out


def _heal_phase(nodes: Nodes, history: History, keys: Sequence[str],
                violations: list[str]) -> float:
    """Every node completes a write and a read, then every key is read through
    every node (all recorded); returns the seconds until every node made progress."""
    start = time.monotonic()
    deadline = start + HEAL_DEADLINE
    for i in range(nodes.count):
        s = LogicalClient(nodes, i, history)
        wrote = read = False
        while time.monotonic() < deadline and not (wrote and read):
            if not wrote:
                op = s.write(keys[i % len(keys)], None, cas=False)
                wrote = op is not None and op.outcome == "ok"
            if not read:
                read = s.read(keys[i % len(keys)]) is not None
            if not (wrote and read):
                time.sleep(0.1)  # back off while the group elects a leader
        if not (wrote and read):
            violations.append(f"no progress after healing: node {i} did not complete a "
                              f"{'write' if not wrote else 'read'} within {HEAL_DEADLINE:.0f} s")
    recovery = time.monotonic() - start
    for i in range(nodes.count):
        s = LogicalClient(nodes, i, history)
        for k in keys:
            while s.read(k) is None and time.monotonic() < deadline:
                time.sleep(0.1)
    return recovery


def _converged(nodes: Nodes, violations: list[str]) -> None:
    deadline = time.monotonic() + HEAL_DEADLINE
    while True:
        states = _states(nodes)
        if None not in states and len(set(states)) == 1:
            return
        if time.monotonic() > deadline:
            violations.append(f"replicas disagree: (count, hash) per node {states}")
            return
        time.sleep(0.2)  # the followers apply the last entries


def _applied_check(nodes: Nodes, history: History, violations: list[str]) -> None:
    try:
        applied: dict[str, int] = json.loads(
            nodes.call(0, "applied", 30.0, cluster=CLUSTER)["applied"])
    except CALL_ERRORS as e:
        violations.append(f"could not read the applied commands: {e}")
        return
    lost, twice, refused = [], [], []
    for op in history.ops:
        if op.kind == "read":
            continue
        oid = str(op.value[1] if op.kind == "cas" else op.value)
        times = applied.get(oid, 0)
        if op.outcome == "ok" and times == 0:
            lost.append(oid)
        elif times > 1:
            twice.append(f"{oid} x{times}")
        elif op.outcome == "fail" and times:
            refused.append(oid)
    for what, ids in (("acknowledged writes lost", lost), ("writes applied more than once", twice),
                      ("refused writes applied", refused)):
        if ids:
            violations.append(f"{len(ids)} {what}: {', '.join(ids[:10])}")


def run_once(seed: int, nodes: int, seconds: float, *, root: str | None = None,
             clients_per_node: int = 2, keys: int = 6, inject: str | None = None,
             faults: Sequence[str] = FAULTS, rtt_ms: int = 10,
             log: Callable[[str], None] = print) -> RunResult:
    """One run; see the module docstring. The run's directory (logs, history)
    is removed when it passes and kept when it does not."""
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")
    why = netns.unavailable()
    if why:
        raise RuntimeError(why)
    directory = tempfile.mkdtemp(prefix=f"dragonboat-lintest-{seed}-", dir=root)
    net = netns.Network(nodes)
    net.setup()
    cluster = Nodes(net, directory, rtt_ms, inject, log)
    history = History()
    stop = threading.Event()
    violations: list[str] = []
    nemesis = Nemesis(cluster, net, seed, stop, log, faults)
    key_names = [f"k{i}" for i in range(keys)]
    recovery = check_secs = 0.0
    try:
        for i in range(nodes):
            cluster.start(i, first=True)
        seen: dict[str, str | None] = {}
        workers = [Client(i, cluster, history, key_names, seed * 1000 + i, stop, seen)
                   for i in range(nodes * clients_per_node)]
        for w in workers:
            w.start()
        nemesis.start()
        stop.wait(seconds)
        stop.set()
        nemesis.join()
        for w in workers:
            w.join()
        nemesis.heal()
        violations += nemesis.restart_failures
        recovery = _heal_phase(cluster, history, key_names, violations)
        _converged(cluster, violations)
        _applied_check(cluster, history, violations)
        violations += [f"crash: {c}" for c in cluster.crashes()]
        linearizability.dump_history(history.ops, os.path.join(directory, "history.jsonl"))
        verdict = linearizability.check(history.ops, time_budget=120.0)
        check_secs = verdict.elapsed
        if verdict.ok is False:
            violations.append(f"not linearizable: {verdict.explanation}")
        elif verdict.ok is None:
            violations.append(f"linearizability undecided: {verdict.explanation}")
    finally:
        stop.set()
        cluster.stop_all()
        net.teardown()
    if not violations:
        shutil.rmtree(directory, ignore_errors=True)
    return RunResult(seed=seed, nodes=nodes, seconds=seconds, ops=dict(history.counts),
                     faults=dict(nemesis.injected), violations=violations,
                     check_seconds=check_secs, recovery_seconds=recovery, root=directory)
