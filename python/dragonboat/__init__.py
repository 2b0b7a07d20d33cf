"""dragonboat: multi-group Raft consensus with a C++17 engine and a native Python API.

This release contains the pure Raft protocol core and its deterministic
simulation; the NodeHost API arrives with the engine (see the project issues).
"""

from __future__ import annotations

from dragonboat import _core
from dragonboat.simulation import SimulationResult, simulate

__version__: str = _core.__version__

__all__ = ["SimulationResult", "__version__", "simulate"]
