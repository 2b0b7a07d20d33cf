"""The linearizability test's nemesis: one fault at a time, held a few seconds,
then healed, until the run ends.

Faults: ``kill-minority`` / ``kill-leader`` / ``kill-all`` (kill -9, restarted
at the heal), ``pause-minority`` / ``pause-leader`` (SIGSTOP, SIGCONT at the
heal), ``partition`` (a random minority from the majority),
``isolate-leader``, ``bridge`` (two sides that only one node reaches both of)
and ``packet-loss`` (every node drops a random share of its incoming packets).
"""

from __future__ import annotations

import collections
import random
import threading
import time
from collections.abc import Callable, Sequence

from dragonboat.lintest.net import Network
from dragonboat.lintest.nodes import Nodes

FAULTS = ("kill-minority", "kill-leader", "kill-all", "pause-minority", "pause-leader",
          "partition", "isolate-leader", "bridge", "packet-loss")
"""Every fault the nemesis injects."""


class Nemesis(threading.Thread):
    """Injects random faults from ``faults`` until ``stop`` is set."""

    def __init__(self, nodes: Nodes, net: Network, seed: int, stop: threading.Event,
                 log: Callable[[str], None], faults: Sequence[str] = FAULTS) -> None:
        super().__init__(name="lintest-nemesis", daemon=True)
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")
        self.nodes = nodes
        self.net = net
        self.rng = random.Random(seed)
        self.stop = stop
        self.log = log
        self.faults = list(faults)
        self.injected: collections.Counter[str] = collections.Counter()
        self.restart_failures: list[str] = []
        self._start = time.monotonic()

    def _minority(self) -> list[int]:
        n = self.nodes.count
        return self.rng.sample(range(n), self.rng.randint(1, max(1, (n - 1) // 2)))

    def _leader_or_any(self) -> int:
        leader = self.nodes.leader()
        return leader if leader is not None else self.rng.randrange(self.nodes.count)

    def inject(self, fault: str) -> str:
        """Injects ``fault``; returns what it did, for the log."""
        n = self.nodes.count
        if fault in ("kill-minority", "kill-leader", "kill-all"):
            victims = (self._minority() if fault == "kill-minority" else
                       [self._leader_or_any()] if fault == "kill-leader" else list(range(n)))
            for v in victims:
                self.nodes.kill(v)
            return f"kill -9 {victims}"
        if fault in ("pause-minority", "pause-leader"):
            victims = self._minority() if fault == "pause-minority" else [self._leader_or_any()]
            for v in victims:
                self.nodes.pause(v)
            return f"SIGSTOP {victims}"
        if fault == "partition":
            side = set(self._minority())
            self.net.partition([side, set(range(n)) - side])
            return f"partition {sorted(side)} | {sorted(set(range(n)) - side)}"
        if fault == "isolate-leader":
            leader = self._leader_or_any()
            self.net.partition([{leader}, set(range(n)) - {leader}])
            return f"isolate leader {leader}"
        if fault == "bridge":
            order = list(range(n))
            self.rng.shuffle(order)
            half = n // 2
            groups = [set(order[:half + 1]), set(order[half:])]
            self.net.partition(groups)
            return f"bridge {sorted(groups[0])} <{order[half]}> {sorted(groups[1])}"
        if fault == "packet-loss":
            p = self.rng.uniform(0.1, 0.4)
            self.net.lose(p)
            return f"drop {p:.0%} of packets"
        raise ValueError(f"unknown fault {fault!r}")

    def heal(self) -> None:
        """Undoes every fault: the network whole, paused nodes resumed, dead ones restarted."""
        self.net.heal()
        for i in range(self.nodes.count):
            self.nodes.resume(i)
        for i in range(self.nodes.count):
            if not self.nodes.up(i):
                try:
                    self.nodes.start(i, first=False)
                except RuntimeError as e:
                    self.restart_failures.append(str(e))
                    self.log(f"RESTART FAILED: {e}")

    def run(self) -> None:
        """Calm for 1-3 s, a fault held for 2-5 s, heal; again until stopped."""
        while not self.stop.wait(self.rng.uniform(1.0, 3.0)):
            fault = self.rng.choice(self.faults)
            what = self.inject(fault)
            self.injected[fault] += 1
            self.log(f"{time.monotonic() - self._start:6.1f}s  {fault}: {what}")
            self.stop.wait(self.rng.uniform(2.0, 5.0))
            self.heal()
