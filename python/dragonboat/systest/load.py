"""Load: client threads proposing unique commands through the workers (through
registered client sessions and through the no-op session), readers making
linearizable reads of ``b"state"``, and a poller sampling every replica's
state; everything is recorded for the invariant checks."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from dragonboat.checker import parse_state
from dragonboat.systest.cluster import CALL_ERRORS, Cluster
from dragonboat.systest.hosts import NotSent, WorkerLost
from dragonboat.systest.invariants import (
    FAILED,
    OK,
    UNKNOWN,
    HashLedger,
    ReadOp,
    StateSample,
    Violation,
    WriteOp,
)
from dragonboat.systest.model import Target

PROPOSAL_TIMEOUT = 2.0
"""Seconds a proposal or read may take in the engine."""


class Recorder:
    """Every operation and state sample of a run (thread-safe)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.lock = threading.Lock()
        self.writes: list[WriteOp] = []
        self.reads: list[ReadOp] = []
        self.read_attempts = 0
        self.ledger = HashLedger()
        self.log = log

    def add_write(self, op: WriteOp) -> None:
        """Records a proposal (its outcome is filled in as it goes)."""
        with self.lock:
            self.writes.append(op)

    def add_read(self, r: ReadOp | None) -> None:
        """Records a read attempt; a completed one is also a state sample."""
        with self.lock:
            self.read_attempts += 1
            if r is not None:
                self.reads.append(r)
        if r is not None:
            self.observe(StateSample(r.group, r.count, r.hash, r.distinct, r.source + " (read)"))

    def observe(self, s: StateSample) -> Violation | None:
        """Checks ``s`` against the samples so far (invariant a)."""
        with self.lock:
            v = self.ledger.observe(s)
        if v is not None:
            self.log(f"VIOLATION {v}")
        return v

    @property
    def operations(self) -> int:
        """Proposals plus read attempts."""
        with self.lock:
            return len(self.writes) + self.read_attempts


def propose(t: Target, op: WriteOp, handle: int, timeout: float = PROPOSAL_TIMEOUT) -> str:
    """One attempt of ``op`` through ``t`` (session ``handle``, 0: no-op session).

    Returns ``ok``, ``failed`` (surely not applied), ``unknown`` or ``lost``
    (the worker did not answer: it died with its sessions, or hangs). Only
    the attempts that may have been applied count in ``op.attempts``.
    """
    try:
        resp = t.worker.call("propose", timeout + 15.0, cluster=op.group, session=handle,
                             cmd=op.cmd, timeout=timeout)
    except NotSent:
        return "failed"
    except WorkerLost:
        op.attempts += 1
        return "lost"
    except CALL_ERRORS:
        op.attempts += 1
        return UNKNOWN
    if resp["outcome"] == "failed":
        return "failed"
    op.attempts += 1
    if resp["outcome"] == OK:
        op.complete = time.monotonic()
        op.value = int(resp["value"])
        op.outcome = OK
        return OK
    return UNKNOWN


def finish(op: WriteOp) -> None:
    """Sets the outcome of a proposal that was not acknowledged."""
    if op.outcome != OK:
        op.outcome = UNKNOWN if op.attempts else FAILED


def read_state(t: Target, group: int) -> ReadOp | None:
    """A linearizable read of ``b"state"`` through ``t``; None when it failed."""
    invoke = time.monotonic()
    try:
        answer = t.worker.call("read", PROPOSAL_TIMEOUT + 15.0, cluster=group, query="state",
                               timeout=PROPOSAL_TIMEOUT)["answer"]
    except CALL_ERRORS:
        return None
    count, h, distinct = parse_state(answer)
    return ReadOp(group, invoke, time.monotonic(), count, h, distinct, t.source())


class Load:
    """The client, reader and poller threads of one run."""

    def __init__(self, cluster: Cluster, recorder: Recorder, seed: int) -> None:
        self.cluster = cluster
        self.model = cluster.model
        self.rec = recorder
        self.seed = seed
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, rng: random.Random) -> None:
        """Starts the threads (``rng`` decides how many of which)."""
        groups = sorted(self.model.groups)
        for c in groups:
            g = self.model.groups[c]
            for i in range(rng.randint(1, 2)):
                self._spawn(f"n{i}", self._noop_client, c, f"c{c}n{i}")
            if g.sessions:
                self._spawn("s0", self._session_client, c, f"c{c}s0")
        for i in range(2):
            self._spawn(f"r{i}", self._reader, 0, f"r{i}")
        self._spawn("poll", self._poller, 0, "poll")

    def _spawn(self, tag: str, fn: Callable[[int, str, random.Random], None], group: int,
               name: str) -> None:
        rng = random.Random(f"{self.seed}/{group}/{tag}")
        t = threading.Thread(target=fn, args=(group, name, rng), daemon=True,
                             name=f"systest-{name}")
        self._threads.append(t)
        t.start()

    def finish(self, timeout: float) -> list[str]:
        """Stops the threads; returns the names of those that did not end in time."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return [t.name for t in self._threads if t.is_alive()]

    def _pace(self, rng: random.Random) -> None:
        self.stop.wait(rng.uniform(0.0, 0.02))  # think time between a client's requests

    def _noop_client(self, c: int, name: str, rng: random.Random) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            op = WriteOp(c, f"{name}.{n}", False, time.monotonic(), client=name)
            self.rec.add_write(op)
            tries = rng.choice((1, 1, 2, 3))  # retries reuse the command: applied at least once
            while tries > 0 and not self.stop.is_set():
                t = self.model.write_target(c, rng)
                if t is None:
                    self.stop.wait(0.05)  # no live replica: try again shortly
                    continue
                tries -= 1
                if propose(t, op, 0) == OK:
                    break
            finish(op)
            self._pace(rng)

    def _session_client(self, c: int, name: str, rng: random.Random) -> None:
        n = 0
        while not self.stop.is_set():
            t = self.model.write_target(c, rng)
            if t is None:
                self.stop.wait(0.05)
                continue
            try:
                handle = int(t.worker.call("get_session", 20.0, cluster=c,
                                           timeout=3.0)["handle"])
            except CALL_ERRORS:
                self.stop.wait(0.05)
                continue
            budget = rng.randint(1, 5)  # attempts of one proposal before giving up the session
            result = OK
            while result == OK and not self.stop.is_set():
                n += 1
                op = WriteOp(c, f"{name}.{n}", True, time.monotonic(), client=name)
                self.rec.add_write(op)
                for _ in range(budget):
                    # A retry keeps the session's series: applied at most once.
                    result = propose(t, op, handle)
                    if result in (OK, "lost") or self.stop.is_set():
                        break
                    self.stop.wait(rng.uniform(0.02, 0.2))  # back off before the retry
                finish(op)
                self._pace(rng)
            if result != "lost":
                try:
                    t.worker.call("close_session", 20.0, handle=handle, timeout=3.0)
                except CALL_ERRORS:
                    pass  # given up: the session expires in the group

    def _reader(self, _: int, name: str, rng: random.Random) -> None:
        groups = sorted(self.model.groups)
        while not self.stop.is_set():
            c = rng.choice(groups)
            t = self.model.read_target(c, rng)
            if t is None:
                self.stop.wait(0.05)
                continue
            self.rec.add_read(read_state(t, c))
            self._pace(rng)

    def _poller(self, _: int, name: str, rng: random.Random) -> None:
        while not self.stop.wait(0.25):  # sample every replica's state 4 times a second
            for h in range(len(self.model.addresses)):
                self.poll_host(h)

    def poll_host(self, h: int) -> None:
        """Samples the state of every replica on host ``h`` (stale reads)."""
        w = self.cluster.worker(h)
        if w is None:
            return
        try:
            states = w.call("states", 20.0)["states"]
        except CALL_ERRORS:
            return
        for s in states:
            count, hh, distinct = parse_state(s["state"])
            self.rec.observe(StateSample(int(s["cluster"]), count, hh, distinct,
                                         f"host {h} node {s['node']} (stale)"))
