// bindings/config.h — the Python configuration dataclasses as the engine's
// structs (python/dragonboat/config.py validates them first).
#pragma once

#include <pybind11/pybind11.h>

#include "dragonboat/config.h"
#include "dragonboat/nodehost.h"

namespace dragonboat::bindings {

// A dragonboat.NodeHostConfig's fields (not its listeners: listeners.h).
NodeHostConfig host_config(const pybind11::object& c);

// A dragonboat.Config's fields.
Config raft_config(const pybind11::object& c);

// A dragonboat.SnapshotOption's fields.
SnapshotOption snapshot_option(const pybind11::object& o);

// Binds config_fields (the C++ fields and defaults, for the parity test),
// validate_config and validate_node_host_config (the C++ rules).
void register_config(pybind11::module_& m);

}  // namespace dragonboat::bindings
