"""The whole-system randomized test (modelled on dragonboat's "drummer").

Per seed, 3 to 5 NodeHosts run as separate processes
(:mod:`dragonboat.systest.worker`), each with several Raft groups of checker
state machines (:mod:`dragonboat.checker`, Python and optionally the C++
plugin); client threads propose unique commands (through client sessions and
the no-op session) and read, while a random schedule stops and restarts
replicas, stops or kills -9 whole NodeHosts, changes memberships, transfers
leadership and takes snapshots. After healing, the invariants of
:mod:`dragonboat.systest.invariants` are checked: equal hashes at equal
counts, exactly-once session proposals, no lost acknowledged write,
consistent results, linearizable reads and progress.

Run it with ``python -m dragonboat systest``; from Python::

    from dragonboat.systest import Options, run
    run(Options(seeds=3))
"""

from __future__ import annotations

from dragonboat.systest.controller import Options, SeedResult, replay_command, run, run_seed

__all__ = ["Options", "SeedResult", "replay_command", "run", "run_seed"]
