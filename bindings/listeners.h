// bindings/listeners.h — Python event listeners as the engine's
// IRaftEventListener / ISystemEventListener.
#pragma once

#include <pybind11/pybind11.h>

#include "dragonboat/nodehost.h"

namespace dragonboat::bindings {

// Sets config->raft_event_listener / system_event_listener from the Python
// NodeHostConfig's raft_event_listener / system_event_listener (None: none).
void attach_listeners(const pybind11::object& py_config, NodeHostConfig* config);

}  // namespace dragonboat::bindings
