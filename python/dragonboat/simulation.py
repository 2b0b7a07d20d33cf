"""Runs the deterministic simulation of the Raft core from Python."""

from __future__ import annotations

from dataclasses import dataclass, field

from dragonboat import _check, _core


@dataclass(frozen=True)
class SimulationResult:
    """Statistics and invariant violations of one simulated seed."""

    seed: int
    steps: int
    writes_acked: int
    reads_confirmed: int
    leader_elections: int
    config_changes: int
    snapshots_installed: int
    crashes: int
    messages: int
    dropped_messages: int
    settings: str
    replay: str
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no safety or liveness invariant was violated."""
        return not self.violations


def simulate(seed: int, steps: int = 2000) -> SimulationResult:
    """Simulate a Raft group under faults for ``steps`` steps from ``seed``.

    The run is deterministic: the same seed always gives the same result. The
    GIL is released while the C++ simulation runs.
    """
    seed = _check.uint64(seed, "seed")
    steps = _check.uint64(steps, "steps", minimum=1)
    return SimulationResult(**_core.simulate(seed, steps))
