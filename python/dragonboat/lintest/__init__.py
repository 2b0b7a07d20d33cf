"""Real processes under network faults, checked for linearizability.

``dragonboat lintest`` (or :func:`run`) runs one or more runs of
:func:`~dragonboat.lintest.runner.run_once`: server processes in network
namespaces (:mod:`~dragonboat.lintest.net`), clients recording every operation
(:mod:`~dragonboat.lintest.client`), a nemesis killing, pausing, partitioning
and dropping packets (:mod:`~dragonboat.lintest.nemesis`), and the verdicts
(linearizable, no lost acknowledged writes, replicas agree, progress after
healing). docs/testing.md describes the test. Needs root (namespaces).
"""

from __future__ import annotations

import collections
import dataclasses
import random
import sys
import time
from collections.abc import Sequence

from dragonboat.lintest.nemesis import FAULTS
from dragonboat.lintest.runner import RunResult, run_once

__all__ = ["FAULTS", "Options", "RunResult", "run", "run_once"]


@dataclasses.dataclass
class Options:
    """A series of runs: ``runs`` of them, or as many as start within ``minutes``."""

    runs: int | None = 1
    minutes: float | None = None
    seconds: float = 60.0
    nodes: Sequence[int] = (3, 5)
    seed: int | None = None
    clients_per_node: int = 2
    keys: int = 6
    inject: str | None = None
    faults: Sequence[str] = FAULTS
    root: str | None = None
    verbose: bool = False


def _summary(r: RunResult) -> str:
    ops = r.ops
    outcome = collections.Counter[str]()
    for k, v in ops.items():
        parts = k.split()
        if len(parts) == 2 and parts[0] in ("read", "write", "cas"):
            outcome[parts[1]] += v
    faults = ", ".join(f"{k} {v}" for k, v in sorted(r.faults.items()))
    return (f"lintest: seed {r.seed}, {r.nodes} nodes, {r.seconds:.0f} s: {r.operations} ops "
            f"(ok {outcome['ok']}, failed {outcome['fail']}, unknown {outcome['unknown']}), "
            f"{sum(r.faults.values())} faults ({faults}), recovery {r.recovery_seconds:.1f} s, "
            f"check {r.check_seconds:.1f} s, {len(r.violations)} violations")


def run(opts: Options) -> int:
    """Runs the series and prints one line per run and the totals; 0 when no
    run found a violation, 1 otherwise."""
    start = time.monotonic()
    seed = opts.seed if opts.seed is not None else random.randrange(1, 1 << 30)
    results: list[RunResult] = []
    i = 0
    while True:
        if opts.minutes is not None and time.monotonic() - start >= opts.minutes * 60:
            break
        if opts.minutes is None and opts.runs is not None and i >= opts.runs:
            break
        nodes = opts.nodes[i % len(opts.nodes)]

        def log(msg: str, run_seed: int = seed + i) -> None:
            if opts.verbose or "UNEXPECTEDLY" in msg or "FAILED" in msg:
                print(f"  [{run_seed}] {msg}", flush=True)

        r = run_once(seed + i, nodes, opts.seconds, root=opts.root,
                     clients_per_node=opts.clients_per_node, keys=opts.keys,
                     inject=opts.inject, faults=opts.faults, log=log)
        results.append(r)
        print(_summary(r), flush=True)
        for v in r.violations:
            print(f"  VIOLATION {v}")
        if r.violations:
            print(f"  kept {r.root} (history.jsonl, node logs); replay: dragonboat lintest "
                  f"--seed {r.seed} --nodes {r.nodes} --seconds {r.seconds:.0f}", flush=True)
        i += 1
    ops = sum(r.operations for r in results)
    faults = sum(sum(r.faults.values()) for r in results)
    violations = sum(len(r.violations) for r in results)
    print(f"lintest totals: {len(results)} runs, {ops} operations, {faults} faults, "
          f"{violations} violations, {(time.monotonic() - start) / 60:.1f} minutes")
    sys.stdout.flush()
    return 0 if violations == 0 else 1
