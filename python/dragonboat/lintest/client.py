"""The linearizability test's clients: threads that put, compare-and-set and read
registers through one node each and record every operation they invoke.

A logical client has at most one operation outstanding. Writes go through a
client session (at-most-once: a write is applied once or never); a write whose
outcome is unknown (a timeout, the node died) may still be applied later, so
the client records it as unknown and carries on as a new logical client with a
new session, never retrying it. Reads are linearizable reads (ReadIndex).
"""

from __future__ import annotations

import collections
import json
import math
import random
import threading
import time

from dragonboat.linearizability import Op
from dragonboat.lintest.kv import APPLIED
from dragonboat.lintest.nodes import CALL_ERRORS, CLUSTER, Nodes
from dragonboat.systest.hosts import NotSent, WorkerError, WorkerLost

REQUEST_TIMEOUT = 2.0
"""Seconds the engine has for one request."""

ANSWER_WAIT = REQUEST_TIMEOUT + 8.0
"""Seconds a client waits for a node's answer before calling the outcome unknown."""


class History:
    """Every recorded operation, and the counters of the run (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ops: list[Op] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self._next_client = 0
        self.start = time.monotonic()

    def new_client(self) -> int:
        """A fresh logical client ID."""
        with self._lock:
            self._next_client += 1
            return self._next_client

    def now(self) -> float:
        """Seconds since the run started (the history's clock)."""
        return time.monotonic() - self.start

    def add(self, op: Op) -> None:
        """Records one operation."""
        with self._lock:
            self.ops.append(op)
            self.counts[f"{op.kind} {op.outcome}"] += 1

    def count(self, what: str) -> None:
        """Counts an event that is not an operation (e.g. a failed read)."""
        with self._lock:
            self.counts[what] += 1


class LogicalClient:
    """A logical client bound to a node: its ID and its client session there (a new
    ID and session after an outcome it cannot know)."""

    def __init__(self, nodes: Nodes, node: int, history: History) -> None:
        self.nodes = nodes
        self.node = node
        self.history = history
        self.client = history.new_client()
        self.handle = 0  # 0: no session yet
        self.seq = 0

    def _renew(self) -> None:
        """Becomes a new logical client (after an unknown outcome)."""
        self.client = self.history.new_client()
        self.handle = 0

    def _ensure_session(self) -> bool:
        if self.handle:
            return True
        try:
            r = self.nodes.call(self.node, "get_session", ANSWER_WAIT, cluster=CLUSTER,
                                timeout=REQUEST_TIMEOUT)
        except CALL_ERRORS:
            return False
        self.handle = int(r["handle"])
        return True

    def write(self, key: str, expected: str | None, cas: bool) -> Op | None:
        """Puts (or compare-and-sets, from ``expected``) a fresh value into ``key``.

        Returns the recorded operation, or None when nothing was sent (no
        session could be opened, or the node is down).
        """
        if not self._ensure_session():
            return None
        self.seq += 1
        oid = f"{self.client}.{self.seq}"
        cmd: dict[str, str | None] = {"id": oid, "op": "cas" if cas else "put", "k": key,
                                      "v": oid}
        if cas:
            cmd["e"] = expected
        op = Op(client=self.client, kind="cas" if cas else "write", key=key,
                value=(expected, oid) if cas else oid, output=None,
                invoke=self.history.now(), complete=math.inf, outcome="unknown")
        try:
            r = self.nodes.call(self.node, "propose", ANSWER_WAIT, cluster=CLUSTER,
                                session=self.handle, cmd=json.dumps(cmd),
                                timeout=REQUEST_TIMEOUT)
        except NotSent:
            return None
        except (WorkerLost, WorkerError):
            r = {"outcome": "unknown"}
        if r["outcome"] == "ok":
            op.complete = self.history.now()
            op.outcome = "ok"
            if cas:
                op.output = r["value"] == APPLIED
        elif r["outcome"] == "failed":
            op.complete = self.history.now()
            op.outcome = "fail"
            self.history.count(f"write refused: {r.get('code')}")
            if r.get("code") == "KeyError":
                # The server restarted and forgot the session (handles are
                # random, so a new server never takes an old handle for its own).
                self._renew()
        else:
            self._renew()
        self.history.add(op)
        return op

    def read(self, key: str) -> Op | None:
        """A linearizable read of ``key``; None when it failed (a failed read
        constrains nothing, so it is not recorded)."""
        invoke = self.history.now()
        try:
            r = self.nodes.call(self.node, "get", ANSWER_WAIT, cluster=CLUSTER, key=key,
                                timeout=REQUEST_TIMEOUT)
        except CALL_ERRORS as e:
            self.history.count(f"read failed: {type(e).__name__}")
            return None
        op = Op(client=self.client, kind="read", key=key, value=None, output=r["value"],
                invoke=invoke, complete=self.history.now(), outcome="ok")
        self.history.add(op)
        return op


class Client(threading.Thread):
    """Invokes random operations through one node until ``stop`` is set."""

    def __init__(self, index: int, nodes: Nodes, history: History, keys: list[str],
                 seed: int, stop: threading.Event, seen: dict[str, str | None]) -> None:
        super().__init__(name=f"lintest-client-{index}", daemon=True)
        self.session = LogicalClient(nodes, index % nodes.count, history)
        self.keys = keys
        self.rng = random.Random(seed)
        self.stop = stop
        self.seen = seen  # key -> a value some client saw lately (CAS guesses from it)

    def run(self) -> None:
        """The client loop: 40% reads, 40% puts, 20% compare-and-sets."""
        while not self.stop.is_set():
            key = self.rng.choice(self.keys)
            roll = self.rng.random()
            if roll < 0.4:
                op = self.session.read(key)
                if op is not None:
                    self.seen[key] = op.output
            elif roll < 0.8:
                op = self.session.write(key, None, cas=False)
                if op is not None and op.outcome == "ok":
                    self.seen[key] = str(op.value)
            else:
                op = self.session.write(key, self.seen.get(key), cas=True)
            if op is None:
                # Nothing was sent: the node is down or has no leader yet. Back
                # off a little instead of spinning on it.
                self.stop.wait(0.1)
