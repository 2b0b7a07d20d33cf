"""The linearizability test's node processes: one server per network namespace,
started, killed, paused and restarted by the clients' and the nemesis' threads."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from dragonboat.lintest.net import Network
from dragonboat.systest.hosts import NotSent, WorkerError, WorkerLost, WorkerProcess

CLUSTER = 1
"""The one Raft group of the register store."""

PORT = 26001
"""Every node's Raft port (each node has an address of its own)."""

CALL_ERRORS = (NotSent, WorkerLost, WorkerError)
"""What a request to a node may raise."""

REPLICA_CONFIG = {"election_rtt": 10, "heartbeat_rtt": 1, "check_quorum": True,
                  "snapshot_entries": 300, "compaction_overhead": 100}
"""Short elections; check_quorum so an isolated leader steps down; snapshots and
log compaction every few hundred entries, so restarts recover from snapshots."""


class Nodes:
    """The server processes, by node index (node ID = index + 1)."""

    def __init__(self, net: Network, root: str, rtt_ms: int, inject: str | None,
                 log: Callable[[str], None]) -> None:
        self.net = net
        self.root = root
        self.rtt_ms = rtt_ms
        self.inject = inject
        self.log = log
        self._lock = threading.Lock()
        self._workers: list[WorkerProcess | None] = [None] * net.nodes
        self._paused: set[int] = set()
        self.all_workers: list[WorkerProcess] = []
        self.members = {i + 1: f"{net.ip(i)}:{PORT}" for i in range(net.nodes)}

    @property
    def count(self) -> int:
        """How many nodes the group has."""
        return self.net.nodes

    def start(self, node: int, first: bool) -> None:
        """Starts node ``node``'s server and its replica (``first``: bootstrap the
        group; otherwise restart from the node's directory). RuntimeError when the
        process or the replica does not start."""
        settings = {"dir": os.path.join(self.root, f"node{node}"),
                    "address": self.members[node + 1], "rtt": self.rtt_ms,
                    "log_level": "ERROR", "inject": self.inject}
        w = WorkerProcess(node, settings, os.path.join(self.root, f"node{node}.log"),
                          self._exited, module="dragonboat.lintest.server",
                          prefix=self.net.prefix(node))
        with self._lock:
            self.all_workers.append(w)
        w.wait_ready(60.0)
        try:
            w.call("start", 60.0, cluster=CLUSTER, node=node + 1, kind="kv",
                   members=self.members if first else {}, config=REPLICA_CONFIG)
        except CALL_ERRORS as e:
            w.kill()
            raise RuntimeError(f"node {node}: the replica did not start: {e}") from e
        with self._lock:
            self._workers[node] = w

    def _exited(self, w: WorkerProcess) -> None:
        if not w.expected_exit:
            self.log(f"node {w.index} (pid {w.pid}) exited UNEXPECTEDLY: {w.status()}")

    def up(self, node: int) -> bool:
        """Whether node ``node``'s process runs (paused or not)."""
        with self._lock:
            w = self._workers[node]
        return w is not None and w.alive()

    def paused(self) -> set[int]:
        """The nodes stopped with SIGSTOP."""
        with self._lock:
            return set(self._paused)

    def call(self, node: int, op: str, wait: float, **args: Any) -> dict[str, Any]:
        """A request to node ``node``; NotSent when it is down."""
        with self._lock:
            w = self._workers[node]
        if w is None:
            raise NotSent(f"node {node} is down")
        return w.call(op, wait, **args)

    def kill(self, node: int) -> None:
        """kill -9 (a paused process dies as well)."""
        with self._lock:
            w = self._workers[node]
            self._workers[node] = None
            self._paused.discard(node)
        if w is not None:
            w.kill()

    def pause(self, node: int) -> None:
        """SIGSTOP: the process keeps its sockets but does nothing."""
        with self._lock:
            w = self._workers[node]
            if w is None or node in self._paused:
                return
            self._paused.add(node)
        os.kill(w.pid, signal.SIGSTOP)

    def resume(self, node: int) -> None:
        """SIGCONT after :meth:`pause`."""
        with self._lock:
            w = self._workers[node]
            was = node in self._paused
            self._paused.discard(node)
        if w is not None and was:
            os.kill(w.pid, signal.SIGCONT)

    def leader(self) -> int | None:
        """The node index most running nodes name as the leader, or None."""
        votes: dict[int, int] = {}
        for i in range(self.count):
            if i in self.paused():
                continue
            try:
                r = self.call(i, "leader", 2.0, cluster=CLUSTER)
            except CALL_ERRORS:
                continue
            if r.get("valid") and int(r["leader"]) > 0:
                votes[int(r["leader"]) - 1] = votes.get(int(r["leader"]) - 1, 0) + 1
        return max(votes, key=lambda k: votes[k]) if votes else None

    def stop_all(self) -> None:
        """Resumes and stops every server (kill -9 when a clean stop hangs)."""
        for i in range(self.count):
            self.resume(i)
            with self._lock:
                w = self._workers[i]
                self._workers[i] = None
            if w is not None:
                w.quit(20.0)
        for w in self.all_workers:
            if w.proc.poll() is None:
                w.kill()

    def crashes(self) -> list[str]:
        """Servers that exited without being told to, with their log tails."""
        return [f"node {w.index} (pid {w.pid}) {w.status()}; log {w.log_path}:\n{w.log_tail()}"
                for w in self.all_workers
                if w.proc.poll() is not None and not w.expected_exit]
