"""The system under test as the controller drives it: worker processes and the
replicas on them. Each method does one thing to the real processes and keeps
the :class:`~dragonboat.systest.model.Model` in step with it."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from dragonboat.systest.hosts import NotSent, WorkerError, WorkerLost, WorkerProcess
from dragonboat.systest.model import OBSERVER, VOTER, WITNESS, Model, Replica

CALL_ERRORS = (NotSent, WorkerLost, WorkerError)
"""What a request to a worker may raise."""


class Cluster:
    """Worker processes (one NodeHost each) and the groups replicated on them."""

    def __init__(self, root: str, addresses: list[str], settings: dict[str, Any],
                 log: Callable[[str], None]) -> None:
        self.root = root
        self.settings = settings
        self.model = Model(addresses=addresses, workers=[None] * len(addresses))
        self.log = log
        self.all_workers: list[WorkerProcess] = []
        self._spawn_lock = threading.Lock()

    # ---- hosts -------------------------------------------------------------------------

    def host_dir(self, host: int) -> str:
        """The NodeHost directory of ``host`` (kept across its restarts)."""
        return os.path.join(self.root, f"host{host}")

    def spawn(self, host: int) -> WorkerProcess:
        """Starts host ``host``'s worker process and waits until its NodeHost runs."""
        s = dict(self.settings)
        settings = {"dir": self.host_dir(host), "address": self.model.addresses[host],
                    "rtt": s["rtt"], "cpp_save_delay_ms": s["cpp_save_delay_ms"][host],
                    "log_level": s["log_level"], "inject": s.get("inject"),
                    "busy_poll_us": s.get("busy_poll_us", 0)}
        log_path = os.path.join(self.root, f"host{host}.log")
        w = WorkerProcess(host, settings, log_path, self._exited)
        with self._spawn_lock:
            self.all_workers.append(w)
        w.wait_ready(60.0)
        with self.model.lock:
            self.model.workers[host] = w
        return w

    def _exited(self, w: WorkerProcess) -> None:
        how = "as told" if w.expected_exit else "UNEXPECTEDLY"
        self.log(f"host {w.index} (pid {w.pid}) exited {how}: {w.status()}")

    def worker(self, host: int) -> WorkerProcess | None:
        """Host ``host``'s running worker, or None."""
        with self.model.lock:
            w = self.model.workers[host]
        return w if w is not None and w.alive() else None

    def take_down(self, host: int, kill: bool) -> None:
        """Stops host ``host``: kill -9 or a clean NodeHost stop."""
        with self.model.lock:
            w = self.model.workers[host]
            self.model.workers[host] = None
        if w is None:
            return
        if kill:
            w.kill()
        else:
            w.quit(30.0)

    def bring_up(self, host: int) -> bool:
        """Restarts host ``host`` from its directory and restarts its replicas."""
        if self.worker(host) is not None:
            return True
        try:
            self.spawn(host)
        except RuntimeError as e:
            self.log(f"host {host} did not restart: {e}")
            return False
        with self.model.lock:
            replicas = [r for r in self.model.on_host(host) if r.started_once or r.running]
        for r in replicas:
            self.start_replica(r)
        return True

    def shutdown(self) -> None:
        """Stops every worker (cleanly, kill -9 after a while); none is left behind."""
        for h in range(len(self.model.addresses)):
            with self.model.lock:
                w = self.model.workers[h]
                self.model.workers[h] = None
            if w is not None:
                w.quit(20.0)
        for w in self.all_workers:
            if w.proc.poll() is None:
                w.kill()

    def crashes(self) -> list[str]:
        """Workers that exited without being told to (crashes), with their log tails."""
        out = []
        for w in self.all_workers:
            code = w.proc.poll()
            if code is not None and not w.expected_exit:
                note = (" (a signal this test never sends: from outside the test?)"
                        if code < 0 and code != -signal.SIGKILL else "")
                out.append(f"host {w.index} (pid {w.pid}) {w.status()}{note}; "
                           f"log {w.log_path}:\n{w.log_tail()}")
        return out

    # ---- replicas ----------------------------------------------------------------------

    def call(self, host: int, op: str, wait: float, **args: Any) -> dict[str, Any]:
        """A request to host ``host`` (NotSent when it is down)."""
        w = self.worker(host)
        if w is None:
            raise NotSent(f"host {host} is down")
        return w.call(op, wait, **args)

    def start_replica(self, r: Replica, members: dict[int, str] | None = None,
                      join: bool = False) -> bool:
        """Starts (or restarts, with no members) replica ``r`` on its host."""
        with self.model.lock:
            req = self.model.start_request(r, self.settings, members, join)
        try:
            self.call(r.host, "start", 30.0, **req)
        except WorkerError as e:
            if e.error != "ClusterAlreadyExistError":
                self.log(f"start {r.name()}: {e}")
                return False
        except (NotSent, WorkerLost) as e:
            self.log(f"start {r.name()}: {e}")
            return False
        with self.model.lock:
            r.running = True
            r.started_once = True
        return True

    def stop_replica(self, r: Replica) -> bool:
        """Stops replica ``r`` (not a membership change)."""
        with self.model.lock:
            r.running = False
        try:
            self.call(r.host, "stop_cluster", 30.0, cluster=r.cluster)
        except WorkerError as e:
            if e.error != "ClusterNotFoundError":
                self.log(f"stop {r.name()}: {e}")
        except (NotSent, WorkerLost):
            pass  # the host is down: so is the replica
        return True

    def via(self, cluster: int, rng: random.Random, exclude: int = 0) -> int | None:
        """A host with a live, confirmed voter of ``cluster`` (not node ``exclude``)."""
        with self.model.lock:
            hosts = [r.host for r in self.model.members(cluster)
                     if r.role == VOTER and r.confirmed and r.node != exclude
                     and self.model.is_up(r)]
        return rng.choice(hosts) if hosts else None

    def membership(self, cluster: int, rng: random.Random, tries: int = 3) -> dict[str, Any] | None:
        """The group's membership: read linearizably through up to ``tries`` live
        replicas, the newest answer (highest config change ID) winning.

        One replica is not enough: a voter whose removal committed but which
        never applied it (the leader stopped replicating to it) still calls
        itself a member; its read fails or answers an older membership.
        """
        with self.model.lock:
            hosts = sorted({r.host for r in self.model.members(cluster)
                            if r.role != WITNESS and self.model.is_up(r)})
        rng.shuffle(hosts)
        best: dict[str, Any] | None = None
        for host in hosts[:max(tries, 1)]:
            try:
                m = self.call(host, "membership", 10.0, cluster=cluster, timeout=3.0)
            except CALL_ERRORS:
                continue
            got = {k: ({int(n): a for n, a in m[k].items()} if isinstance(m[k], dict) else m[k])
                   for k in ("nodes", "observers", "witnesses", "removed", "ccid")}
            if best is None or got["ccid"] > best["ccid"]:
                best = got
        return best

    def refresh(self, cluster: int, rng: random.Random, tries: int = 3) -> bool:
        """Brings the model's roles of ``cluster`` in line with its real membership.

        Replicas the membership lists as removed are stopped and their data
        removed; ones it does not list at all stay in doubt (``confirmed``
        False): an add that timed out may still commit.
        """
        m = self.membership(cluster, rng, tries)
        if m is None:
            return False
        removed: list[Replica] = []
        with self.model.lock:
            for r in self.model.members(cluster):
                if r.node in m["nodes"]:
                    r.role, r.confirmed = VOTER, True
                elif r.node in m["observers"]:
                    r.role, r.confirmed = OBSERVER, True
                elif r.node in m["witnesses"]:
                    r.role, r.confirmed = WITNESS, True
                elif r.node in m["removed"]:
                    r.removed = True
                    removed.append(r)
                else:
                    r.confirmed = False
        for r in removed:
            self.retire(r)
        return True

    def retire(self, r: Replica) -> None:
        """Stops a removed replica and removes its data."""
        self.stop_replica(r)
        try:
            self.call(r.host, "remove_data", 30.0, cluster=r.cluster, node=r.node)
        except CALL_ERRORS as e:
            self.log(f"remove_data {r.name()}: {e}")

    def wait_leader(self, cluster: int, deadline: float) -> bool:
        """Waits (polling) until some live replica of ``cluster`` knows a leader."""
        while time.monotonic() < deadline:
            with self.model.lock:
                hosts = [r.host for r in self.model.members(cluster) if self.model.is_up(r)]
            for h in hosts:
                try:
                    if self.call(h, "leader", 10.0, cluster=cluster)["valid"]:
                        return True
                except CALL_ERRORS:
                    pass
            time.sleep(0.05)  # polling for a condition, with a deadline
        return False
