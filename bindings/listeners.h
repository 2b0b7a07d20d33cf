// bindings/listeners.h — Python event listeners as the engine's
// IRaftEventListener / ISystemEventListener.
#pragma once

#include <pybind11/pybind11.h>

#include "dragonboat/nodehost.h"

namespace dragonboat::bindings {

// Sets config->raft_event_listener / system_event_listener from the Python
// NodeHostConfig's raft_event_listener / system_event_listener (None: none).
// LeaderInfo, NodeInfo, SnapshotInfo, EntryInfo and ConnectionInfo: the
// engine's event structs as immutable Python values.
void register_events(pybind11::module_& m);

void attach_listeners(const pybind11::object& py_config, NodeHostConfig* config);

}  // namespace dragonboat::bindings
