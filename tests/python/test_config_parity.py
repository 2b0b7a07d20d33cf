"""The settings have one definition, the C++ structs: every field the engine
reads (bindings/config.cc's tables) exists in the Python dataclass with the
same name and default, and the dataclass has no field the engine ignores.
Adding an option on one side only fails here."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from dragonboat import Config, NodeHostConfig, SnapshotOption, _core
from dragonboat.errors import InvalidClusterSettingsError

# Python-only fields: objects, not settings (the bindings attach them).
PYTHON_ONLY = {"raft_event_listener", "system_event_listener", "logdb_factory", "transport_factory"}


@pytest.mark.parametrize("cls", [Config, NodeHostConfig, SnapshotOption])
def test_python_fields_are_the_cpp_fields_with_the_cpp_defaults(cls: Any) -> None:
    cpp = dict(_core.config_fields(cls.__name__))
    py = {f.name: f.default for f in dataclasses.fields(cls) if f.name not in PYTHON_ONLY}
    assert sorted(py) == sorted(cpp), (
        f"{cls.__name__}: only in Python {sorted(set(py) - set(cpp))}, "
        f"only in C++ {sorted(set(cpp) - set(py))}")
    for name, default in cpp.items():
        assert py[name] == default and type(py[name]) is type(default), (
            f"{cls.__name__}.{name}: Python default {py[name]!r}, C++ {default!r}")


def test_the_cpp_rules_apply_and_name_the_field() -> None:
    # Rules that exist only in C++ (none is repeated in Python).
    with pytest.raises(InvalidClusterSettingsError, match="snapshot_entries"):
        Config(node_id=1, cluster_id=1, is_witness=True, snapshot_entries=10).validate()
    with pytest.raises(InvalidClusterSettingsError, match="max_in_mem_log_size"):
        Config(node_id=1, cluster_id=1, max_in_mem_log_size=100).validate()
    with pytest.raises(InvalidClusterSettingsError, match="max_apply_backlog"):
        Config(node_id=1, cluster_id=1, max_apply_backlog=0).validate()
    with pytest.raises(InvalidClusterSettingsError, match="election_rtt"):
        Config(node_id=1, cluster_id=1, election_rtt=2, heartbeat_rtt=1).validate()
    base = NodeHostConfig(node_host_dir="/tmp/x", raft_address="127.0.0.1:1")
    base.validate()
    for field, value in (("snapshot_workers", 0), ("max_pending_per_node", 0),
                         ("rtt_millisecond", 86_400_001), ("apply_workers", 65)):
        bad = dataclasses.replace(base)
        setattr(bad, field, value)
        with pytest.raises(InvalidClusterSettingsError, match=field):
            bad.validate()
