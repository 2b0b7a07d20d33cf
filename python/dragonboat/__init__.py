"""dragonboat: multi-group Raft consensus with a C++17 engine and a native Python API.

Start with :class:`NodeHost` (one per process), a :class:`StateMachine`
subclass and :class:`Config` per group; errors are in :mod:`dragonboat.errors`.
"""

from __future__ import annotations

from dragonboat import _core, errors, events, plugins, tools
from dragonboat.config import (
    ClusterInfo,
    CompressionType,
    Config,
    Membership,
    NodeHostConfig,
    NodeHostInfo,
    SnapshotOption,
)
from dragonboat.errors import DragonboatError, is_temp_error
from dragonboat.nodehost import NodeHost, NodeUser, Session
from dragonboat.request_state import RequestResult, RequestState
from dragonboat.retry import retry
from dragonboat.simulation import SimulationResult, simulate
from dragonboat.statemachine import (
    ConcurrentStateMachine,
    Entry,
    OnDiskStateMachine,
    Result,
    SnapshotFile,
    SnapshotFileCollection,
    SnapshotReader,
    SnapshotWriter,
    StateMachine,
)

__version__: str = _core.__version__

__all__ = [
    "ClusterInfo",
    "CompressionType",
    "ConcurrentStateMachine",
    "NodeHostInfo",
    "Config",
    "Entry",
    "NodeUser",
    "OnDiskStateMachine",
    "events",
    "plugins",
    "DragonboatError",
    "Membership",
    "NodeHost",
    "NodeHostConfig",
    "RequestResult",
    "RequestState",
    "Result",
    "Session",
    "SimulationResult",
    "SnapshotFile",
    "SnapshotFileCollection",
    "SnapshotOption",
    "SnapshotReader",
    "SnapshotWriter",
    "StateMachine",
    "__version__",
    "errors",
    "is_temp_error",
    "retry",
    "simulate",
    "tools",
]
