// bindings/plugins.cc — see plugins.h.
#include "plugins.h"

#include <memory>
#include <string>

#include "dragonboat/plugins.h"

namespace dragonboat::bindings {

namespace py = pybind11;

namespace {

// Opaque holders: Python passes them around, only C++ calls them.
struct LogDBFactoryHolder {
  raftio::LogDBFactory make;
  std::string what;
};
struct TransportFactoryHolder {
  raftio::TransportFactory make;
  std::string what;
};

// The holder in `field` of `cfg`, or nullptr for None; TypeError naming the
// field for anything else.
template <typename H>
const H* holder(const py::object& cfg, const char* field, const char* type) {
  py::object v = cfg.attr(field);
  if (v.is_none()) return nullptr;
  if (!py::isinstance<H>(v)) {
    throw py::type_error(std::string(field) + " must be a dragonboat.plugins." + type + " or None, not " +
                         Py_TYPE(v.ptr())->tp_name);
  }
  return &v.cast<const H&>();
}

}  // namespace

void register_plugins(py::module_& m) {
  py::class_<LogDBFactoryHolder>(m, "LogDBFactory", "Makes a NodeHost's LogDB (NodeHostConfig.logdb_factory).")
      .def("__repr__", [](const LogDBFactoryHolder& h) { return "<LogDBFactory " + h.what + ">"; });
  py::class_<TransportFactoryHolder>(m, "TransportFactory",
                                     "Makes a NodeHost's transport (NodeHostConfig.transport_factory).")
      .def("__repr__", [](const TransportFactoryHolder& h) { return "<TransportFactory " + h.what + ">"; });
  m.def(
      "memory_logdb", [] { return LogDBFactoryHolder{plugins::memory_logdb(), "memory"}; },
      "The in-memory LogDB: nothing survives the NodeHost.");
  py::class_<plugins::InProcessNetwork, std::shared_ptr<plugins::InProcessNetwork>>(
      m, "InProcessNetwork", "Links the NodeHosts of this process without sockets.")
      .def(py::init<>())
      .def(
          "transport_factory",
          [](plugins::InProcessNetwork& n) { return TransportFactoryHolder{n.transport_factory(), "in-process"}; },
          "A NodeHostConfig.transport_factory joining this network.")
      .def("partition", &plugins::InProcessNetwork::partition, py::arg("a"), py::arg("b"),
           py::call_guard<py::gil_scoped_release>(), "Cuts both directions between two raft addresses.")
      .def("heal", &plugins::InProcessNetwork::heal, py::call_guard<py::gil_scoped_release>(),
           "Ends every partition.");
}

void attach_plugins(const py::object& py_config, NodeHostConfig* config) {
  if (const auto* h = holder<LogDBFactoryHolder>(py_config, "logdb_factory", "LogDBFactory")) {
    config->logdb_factory = h->make;
  }
  if (const auto* h = holder<TransportFactoryHolder>(py_config, "transport_factory", "TransportFactory")) {
    config->transport_factory = h->make;
  }
}

}  // namespace dragonboat::bindings
