"""The random fault schedule: one thread injects faults one at a time.

Faults: stop and restart a replica (briefly, or long enough that it must
catch up by snapshot), stop a whole NodeHost cleanly or kill -9 it and
restart it from its directory, membership changes (add a voter, an observer,
a witness; promote an observer; remove a member; replace a voter), leader
transfers, requested and exported snapshots. A fault that takes replicas down
is only chosen while every group it touches keeps a live majority of voters;
:meth:`Chaos.heal` brings everything back for the final checks.
"""

from __future__ import annotations

import collections
import os
import random
import threading
import time
from collections.abc import Callable

from dragonboat.systest.cluster import CALL_ERRORS, Cluster
from dragonboat.systest.model import OBSERVER, VOTER, WITNESS, Replica

MAX_VOTERS = 5


class Chaos:
    """Injects faults into ``cluster`` with choices made by ``rng``."""

    def __init__(self, cluster: Cluster, rng: random.Random) -> None:
        self.cluster = cluster
        self.model = cluster.model
        self.rng = rng
        self.log = cluster.log
        self.counts: collections.Counter[str] = collections.Counter()
        self._pending: list[tuple[float, str, Callable[[], None]]] = []
        self._exports = 0

    @property
    def faults(self) -> int:
        """How many faults were injected."""
        return sum(self.counts.values())

    # ---- the loop ----------------------------------------------------------------------

    def run(self, seconds: float, stop: threading.Event) -> None:
        """Injects faults for ``seconds`` (or until ``stop``), then returns."""
        end = time.monotonic() + seconds
        while not stop.is_set():
            now = time.monotonic()
            if now >= end:
                return
            self._run_due(now)
            pause = self.rng.uniform(0.15, 0.9)
            if self._pending:
                pause = min(pause, max(0.0, self._pending[0][0] - now))
            if stop.wait(min(pause, end - now)):  # the schedule's own pace between faults
                return
            if time.monotonic() >= (self._pending[0][0] if self._pending else float("inf")):
                continue  # a restart is due first
            self._inject()

    def _later(self, delay: float, what: str, fn: Callable[[], None]) -> None:
        self._pending.append((time.monotonic() + delay, what, fn))
        self._pending.sort(key=lambda p: p[0])

    def _run_due(self, now: float) -> None:
        while self._pending and self._pending[0][0] <= now:
            _, what, fn = self._pending.pop(0)
            self.log(f"due: {what}")
            fn()

    def _inject(self) -> None:
        with self.model.lock:
            doubt = [c for c in sorted(self.model.groups)
                     if any(not r.confirmed for r in self.model.members(c))]
        for c in doubt:  # settle changes in doubt first: the membership decides
            self.cluster.refresh(c, self.rng, tries=1)
        options: list[tuple[float, str, Callable[[], bool]]] = [
            (4, "restart-replica", lambda: self.restart_replica(lag=False)),
            (1.5, "lagging-replica", lambda: self.restart_replica(lag=True)),
            (1, "stop-host", lambda: self.host_down(kill=False)),
            (2, "kill-host", lambda: self.host_down(kill=True)),
            (1, "add-node", lambda: self.add(VOTER)),
            (0.7, "add-observer", lambda: self.add(OBSERVER)),
            (0.5, "add-witness", lambda: self.add(WITNESS)),
            (0.7, "promote-observer", self.promote),
            (1, "remove-member", self.remove),
            (0.7, "replace-voter", self.replace),
            (1.5, "leader-transfer", self.transfer),
            (1.5, "snapshot", lambda: self.snapshot(exported=False)),
            (0.7, "exported-snapshot", lambda: self.snapshot(exported=True)),
        ]
        with self.model.lock:
            short = [c for c in self.model.groups
                     if len([r for r in self.model.members(c) if r.role == VOTER]) < 3]
        if short and self.add(VOTER, groups=short):  # a voter short: add one first
            self.counts["add-node"] += 1
            return
        weights = [w for w, _, _ in options]
        for _ in range(4):  # a few tries: the first choice may not apply right now
            _, name, fn = self.rng.choices(options, weights)[0]
            if fn():
                self.counts[name] += 1
                return

    # ---- replicas and hosts ------------------------------------------------------------

    def _pick_group(self) -> int:
        return self.rng.choice(sorted(self.model.groups))

    def restart_replica(self, lag: bool) -> bool:
        """Stops a replica; restarts it soon, or (``lag``) after the log moved on."""
        with self.model.lock:
            cands = [r for c in sorted(self.model.groups) for r in self.model.members(c)
                     if self.model.is_up(r) and r.confirmed
                     and self.model.quorum_ok(c, lose={r.node})]
        if not cands:
            return False
        r = self.rng.choice(cands)
        self.log(f"stop replica {r.name()}" + (" (lagging)" if lag else ""))
        self.cluster.stop_replica(r)
        delay = self.rng.uniform(2.5, 5.0) if lag else self.rng.uniform(0.05, 1.5)
        self._later(delay, f"restart replica {r.name()}", lambda: self._restart(r))
        return True

    def _restart(self, r: Replica) -> None:
        with self.model.lock:
            skip = r.removed or r.running or not self.model.host_up(r.host)
        if not skip and not self.cluster.start_replica(r):
            self._later(1.0, f"restart replica {r.name()} again", lambda: self._restart(r))

    def host_down(self, kill: bool) -> bool:
        """Stops (or kills) a NodeHost whose replicas every group can spare."""
        with self.model.lock:
            cands = []
            for h in range(len(self.model.addresses)):
                if not self.model.host_up(h):
                    continue
                lose: dict[int, set[int]] = collections.defaultdict(set)
                for r in self.model.on_host(h):
                    lose[r.cluster].add(r.node)
                if all(self.model.quorum_ok(c, lose=lose[c]) for c in self.model.groups):
                    cands.append(h)
        if not cands:
            return False
        h = self.rng.choice(cands)
        self.log(f"{'kill -9' if kill else 'stop'} host {h}")
        self.cluster.take_down(h, kill)
        self._later(self.rng.uniform(0.3, 3.0), f"restart host {h}", lambda: self._bring_up(h))
        return True

    def _bring_up(self, h: int) -> None:
        if not self.cluster.bring_up(h):
            self._later(1.0, f"restart host {h} again", lambda: self._bring_up(h))

    # ---- membership --------------------------------------------------------------------

    def add(self, role: str, groups: list[int] | None = None, host: int | None = None,
            cluster: int | None = None) -> bool:
        """Adds a new node (never-used ID) in ``role`` on a host without a replica of the group."""
        rng = self.rng
        with self.model.lock:
            cands = []
            for c in groups or sorted(self.model.groups):
                if cluster is not None and c != cluster:
                    continue
                members = self.model.members(c)
                voters = [r for r in members if r.role in (VOTER, WITNESS)]
                if any(not r.confirmed for r in members):
                    continue  # an earlier change is in doubt
                if role == WITNESS and (any(r.role == WITNESS for r in members)
                                        or len([r for r in voters if r.role == VOTER]) < 3):
                    continue
                if role in (VOTER, WITNESS) and (len(voters) >= MAX_VOTERS or not
                                                 self.model.quorum_ok(c, add_voter=1)):
                    continue
                free = self.model.free_hosts(c)
                if host is not None:
                    free = [h for h in free if h == host]
                if free:
                    cands.append((c, free))
            if not cands:
                return False
            c, free = rng.choice(cands)
            h = rng.choice(free)
            node = self.model.next_node[c]
            self.model.next_node[c] += 1
            r = Replica(c, node, h, role, confirmed=False)
            self.model.replicas[c][node] = r
        via = self.cluster.via(c, rng)
        if via is None:
            self.log(f"add {role} {r.name()}: no live voter to ask")
            return True  # the ID is burnt; the record stays in doubt
        self.log(f"add {role} {r.name()} via host {via}")
        try:
            kind = {VOTER: "node", OBSERVER: "observer", WITNESS: "witness"}[role]
            self.cluster.call(via, "change", 20.0, kind=kind, cluster=c, node=node,
                              address=self.model.addresses[h], timeout=4.0)
        except CALL_ERRORS as e:
            self.log(f"add {r.name()}: {e}")
        # Started as a joiner whatever the answer: an add in doubt may still commit.
        self.cluster.start_replica(r, join=True)
        self.cluster.refresh(c, rng)
        return True

    def promote(self) -> bool:
        """Promotes a live observer to a voter (add_node with its ID)."""
        with self.model.lock:
            cands = [r for c in sorted(self.model.groups) for r in self.model.members(c)
                     if r.role == OBSERVER and r.confirmed and self.model.is_up(r)
                     and self.model.quorum_ok(c, add_voter=1)
                     and len([v for v in self.model.members(c) if v.role != OBSERVER])
                     < MAX_VOTERS]
        if not cands:
            return False
        r = self.rng.choice(cands)
        via = self.cluster.via(r.cluster, self.rng)
        if via is None:
            return False
        self.log(f"promote observer {r.name()} via host {via}")
        with self.model.lock:
            r.confirmed = False  # in doubt until the membership says
            r.role = VOTER
        try:
            self.cluster.call(via, "change", 20.0, kind="node", cluster=r.cluster, node=r.node,
                              address=self.model.addresses[r.host], timeout=4.0)
        except CALL_ERRORS as e:
            self.log(f"promote {r.name()}: {e}")
        self.cluster.refresh(r.cluster, self.rng)
        return True

    def _removable(self, c: int, r: Replica, min_voters: int) -> bool:
        members = self.model.members(c)
        if any(not m.confirmed for m in members) or not r.confirmed or not self.model.is_up(r):
            return False
        if r.role == OBSERVER:
            return True
        rest = [m for m in members if m.role in (VOTER, WITNESS) and m is not r]
        full = [m for m in rest if m.role == VOTER]
        return (len(rest) >= min_voters and len(full) >= 2
                and self.model.quorum_ok(c, remove={r.node}))

    def remove(self, target: Replica | None = None) -> bool:
        """Removes a member (keeping at least 3 voters, 2 with a state machine)."""
        with self.model.lock:
            cands = [r for c in sorted(self.model.groups) for r in self.model.members(c)
                     if self._removable(c, r, 3)]
        if target is None:
            if not cands:
                return False
            target = self.rng.choice(cands)
        via = self.cluster.via(target.cluster, self.rng, exclude=target.node)
        if via is None:
            return False
        self.log(f"remove {target.role} {target.name()} via host {via}")
        try:
            self.cluster.call(via, "change", 20.0, kind="delete", cluster=target.cluster,
                              node=target.node, timeout=4.0)
        except CALL_ERRORS as e:
            self.log(f"remove {target.name()}: {e}")
        self.cluster.refresh(target.cluster, self.rng)
        return True

    def replace(self) -> bool:
        """Removes a voter of a 3-voter group, then adds a new voter on the same host."""
        with self.model.lock:
            cands = [r for c in sorted(self.model.groups) for r in self.model.members(c)
                     if r.role == VOTER and self._removable(c, r, 2)
                     and len([m for m in self.model.members(c) if m.role == VOTER]) == 3
                     and all(self.model.is_up(m) for m in self.model.members(c))]
        if not cands:
            return False
        r = self.rng.choice(cands)
        self.remove(r)
        if r.removed:
            self.add(VOTER, host=r.host, cluster=r.cluster)
        return True

    # ---- leadership and snapshots ------------------------------------------------------

    def transfer(self) -> bool:
        """Asks a group's leader to hand leadership to another live voter."""
        c = self._pick_group()
        via = self.cluster.via(c, self.rng)
        if via is None:
            return False
        try:
            leader = self.cluster.call(via, "leader", 10.0, cluster=c)
        except CALL_ERRORS:
            return False
        with self.model.lock:
            rs = self.model.replicas[c]
            lr = rs.get(leader["leader"])
            targets = [r for r in self.model.members(c) if r.role == VOTER and r.confirmed
                       and self.model.is_up(r) and r.node != leader["leader"]]
            if not leader["valid"] or lr is None or not self.model.is_up(lr) or not targets:
                return False
        t = self.rng.choice(targets)
        self.log(f"leader transfer g{c}: n{lr.node} -> n{t.node}")
        try:
            self.cluster.call(lr.host, "transfer", 10.0, cluster=c, target=t.node)
        except CALL_ERRORS as e:
            self.log(f"transfer g{c}: {e}")
        return True

    def snapshot(self, exported: bool) -> bool:
        """Requests a snapshot of a replica (``exported``: into a fresh directory)."""
        c = self._pick_group()
        with self.model.lock:
            cands = [r for r in self.model.members(c)
                     if r.role != WITNESS and r.confirmed and self.model.is_up(r)]
        if not cands:
            return False
        r = self.rng.choice(cands)
        args: dict[str, object] = {"cluster": c, "timeout": 5.0}
        if exported:
            self._exports += 1
            path = os.path.join(self.cluster.root, "exports", str(self._exports))
            os.makedirs(path, exist_ok=True)
            args.update(exported=True, export_path=path)
        elif self.rng.random() < 0.3:
            args["overhead"] = self.rng.randint(0, 5)
        self.log(f"{'exported ' if exported else ''}snapshot of {r.name()}")
        try:
            self.cluster.call(r.host, "snapshot", 20.0, **args)
        except CALL_ERRORS as e:
            self.log(f"snapshot {r.name()}: {e}")
        return True

    # ---- the end -----------------------------------------------------------------------

    def heal(self, deadline: float) -> list[str]:
        """Brings every host and replica back and settles every membership in doubt;
        returns what could not be healed by ``deadline``."""
        self._pending.clear()
        problems = []
        for h in range(len(self.model.addresses)):
            while not self.cluster.bring_up(h) and time.monotonic() < deadline:
                time.sleep(0.5)  # retry a restart (e.g. its port is briefly taken)
            if self.cluster.worker(h) is None:
                problems.append(f"host {h} could not be restarted")
        for c in sorted(self.model.groups):
            with self.model.lock:
                stopped = [r for r in self.model.members(c) if not r.running and r.started_once]
            for r in stopped:
                if not self.cluster.start_replica(r):
                    problems.append(f"replica {r.name()} could not be restarted")
        for c in sorted(self.model.groups):
            while not self.cluster.refresh(c, self.rng) and time.monotonic() < deadline:
                time.sleep(0.2)  # polling until the group answers, with a deadline
        return problems
