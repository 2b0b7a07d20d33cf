// bindings/plugins.h — the built-in LogDB and transport alternatives
// (dragonboat/plugins.h) as Python objects that a NodeHostConfig's
// logdb_factory / transport_factory fields take.
#pragma once

#include <pybind11/pybind11.h>

#include "dragonboat/config.h"

namespace dragonboat::bindings {

// LogDBFactory, TransportFactory, memory_logdb() and InProcessNetwork.
void register_plugins(pybind11::module_& m);

// Sets config->logdb_factory / transport_factory from the Python
// NodeHostConfig's fields of the same names (None: the built-in ones).
void attach_plugins(const pybind11::object& py_config, NodeHostConfig* config);

}  // namespace dragonboat::bindings
