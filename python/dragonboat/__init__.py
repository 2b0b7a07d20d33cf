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


def get_include() -> str:
    """The directory of the C++ headers shipped with the package (``dragonboat/plugin.h``
    and what it includes), for building a C++ plugin state machine against an installed
    wheel: ``c++ -std=c++17 -shared -fPIC -I"$(python -c 'import dragonboat;
    print(dragonboat.get_include())')" my_sm.cc -o libmy_sm.so`` (docs/cpp.md)."""
    import os

    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")

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
    "get_include",
    "is_temp_error",
    "retry",
    "simulate",
    "tools",
]
