// bindings/config.h — the Python configuration dataclasses as the engine's
// structs (python/dragonboat/config.py validates them first).
#pragma once

#include <pybind11/pybind11.h>

#include "dragonboat/config.h"

namespace dragonboat::bindings {

// A dragonboat.NodeHostConfig's fields (not its listeners: listeners.h).
NodeHostConfig host_config(const pybind11::object& c);

// A dragonboat.Config's fields.
Config raft_config(const pybind11::object& c);

}  // namespace dragonboat::bindings
