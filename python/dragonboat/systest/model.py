"""What the controller knows of the system under test: hosts, groups, replicas.

The fault schedule consults it before each fault (a fault may only take down
replicas while each group keeps a live majority of its voters) and the load
threads pick their targets from it. Every field is guarded by ``lock``.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from dragonboat.systest.hosts import WorkerProcess

VOTER = "voter"
"""A voting member with a state machine."""
OBSERVER = "observer"
"""A non-voting member."""
WITNESS = "witness"
"""A voting member without a state machine."""


@dataclass
class GroupSpec:
    """One Raft group of the run and the settings all its replicas share."""

    cluster: int
    kind: str  # regular / concurrent / ondisk (Python checkers) or plugin (C++)
    sm_kind: str  # the state machine kind: regular / concurrent / ondisk
    save_delay: float  # seconds (Python checkers)
    snapshot_entries: int
    compaction_overhead: int
    check_quorum: bool

    @property
    def sessions(self) -> bool:
        """Whether client sessions may be used (not with on-disk state machines)."""
        return self.sm_kind != "ondisk"

    def label(self) -> str:
        """E.g. ``py-regular`` or ``cpp-ondisk``."""
        return f"{'cpp' if self.kind == 'plugin' else 'py'}-{self.sm_kind}"


@dataclass
class Replica:
    """One node of a group on one host, as the controller believes it is."""

    cluster: int
    node: int
    host: int
    role: str
    confirmed: bool = True  # the membership shows it in ``role`` (False: an add in doubt)
    running: bool = False  # started, and not stopped by a fault (its host may be down)
    started_once: bool = False  # its host has its data: restart with no members
    removed: bool = False

    def name(self) -> str:
        """E.g. ``g3/n4@h1``."""
        return f"g{self.cluster}/n{self.node}@h{self.host}"


@dataclass
class Target:
    """Where to send a request for a group: a live replica's worker."""

    worker: WorkerProcess
    host: int
    node: int

    def source(self) -> str:
        """A label for reports."""
        return f"host {self.host} node {self.node}"


@dataclass
class Model:
    """Hosts, groups and replicas (see the module docstring)."""

    addresses: list[str]
    groups: dict[int, GroupSpec] = field(default_factory=dict)
    replicas: dict[int, dict[int, Replica]] = field(default_factory=dict)
    next_node: dict[int, int] = field(default_factory=dict)
    workers: list[WorkerProcess | None] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def host_up(self, host: int) -> bool:
        """Whether host ``host``'s worker process is running."""
        w = self.workers[host]
        return w is not None and w.alive()

    def is_up(self, r: Replica) -> bool:
        """Whether ``r`` is started on a running host (and not removed)."""
        return r.running and not r.removed and self.host_up(r.host)

    def members(self, cluster: int) -> list[Replica]:
        """The replicas of ``cluster`` not removed (confirmed or in doubt)."""
        return [r for r in self.replicas[cluster].values() if not r.removed]

    def on_host(self, host: int) -> list[Replica]:
        """Every non-removed replica on ``host``."""
        return [r for c in self.replicas for r in self.members(c) if r.host == host]

    def quorum_ok(self, cluster: int, lose: set[int] | frozenset[int] = frozenset(),
                  add_voter: int = 0, remove: set[int] | frozenset[int] = frozenset()) -> bool:
        """Whether ``cluster`` keeps a live majority of voters when the nodes in
        ``lose`` go down, ``add_voter`` new voters (empty: not counted live)
        join and the nodes in ``remove`` leave the group.

        Voters in doubt count in the total but never as live, and at least one
        live voter must have a state machine (a witness cannot lead).
        """
        voters = [r for r in self.members(cluster)
                  if r.role in (VOTER, WITNESS) and r.node not in remove]
        live = [r for r in voters if r.confirmed and self.is_up(r) and r.node not in lose]
        n = len(voters) + add_voter
        full = sum(1 for r in live if r.role == VOTER)
        return n > 0 and len(live) >= n // 2 + 1 and full >= 1

    def _targets(self, cluster: int, roles: tuple[str, ...]) -> list[Target]:
        out = []
        for r in self.members(cluster):
            w = self.workers[r.host]
            if r.role in roles and r.confirmed and self.is_up(r) and w is not None:
                out.append(Target(w, r.host, r.node))
        return out

    def write_target(self, cluster: int, rng: random.Random) -> Target | None:
        """A live voter with a state machine, or None."""
        with self.lock:
            t = self._targets(cluster, (VOTER,))
        return rng.choice(t) if t else None

    def read_target(self, cluster: int, rng: random.Random) -> Target | None:
        """A live voter or observer, or None."""
        with self.lock:
            t = self._targets(cluster, (VOTER, OBSERVER))
        return rng.choice(t) if t else None

    def free_hosts(self, cluster: int) -> list[int]:
        """Running hosts holding no replica of ``cluster``."""
        used = {r.host for r in self.members(cluster)}
        return [h for h in range(len(self.addresses)) if h not in used and self.host_up(h)]

    def host_of(self, address: str) -> int | None:
        """The host index of a raft address."""
        try:
            return self.addresses.index(address)
        except ValueError:
            return None

    def start_request(self, r: Replica, settings: dict[str, Any],
                      members: dict[int, str] | None = None, join: bool = False) -> dict[str, Any]:
        """The worker's ``start`` arguments for ``r``."""
        g = self.groups[r.cluster]
        witness = r.role == WITNESS
        return {
            "cluster": r.cluster, "node": r.node, "join": join,
            "members": {str(k): v for k, v in (members or {}).items()},
            "kind": g.kind, "plugin": settings.get("plugin"), "save_delay": g.save_delay,
            "config": {
                "election_rtt": settings["election_rtt"],
                "heartbeat_rtt": settings["heartbeat_rtt"],
                "check_quorum": g.check_quorum,
                "snapshot_entries": 0 if witness else g.snapshot_entries,
                "compaction_overhead": 0 if witness else g.compaction_overhead,
                "is_observer": r.role == OBSERVER,
                "is_witness": witness,
            },
        }
