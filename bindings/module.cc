// bindings/module.cc — the dragonboat._core extension module: glue only.
// One file per area; this one registers the module and the version.
#include <pybind11/pybind11.h>

#include "dragonboat/status.h"

namespace py = pybind11;

void register_sim(py::module_& m);    // bindings/sim.cc
void register_tools(py::module_& m);  // bindings/tools.cc

namespace dragonboat::bindings {
void register_errors(py::module_& m);          // bindings/errors.cc
void register_config(py::module_& m);          // bindings/config.cc
void register_state_machines(py::module_& m);  // bindings/state_machines.cc
void register_requests(py::module_& m);        // bindings/requests.cc
void register_nodehost(py::module_& m);        // bindings/nodehost.cc
void register_events(py::module_& m);          // bindings/listeners.cc
void register_plugins(py::module_& m);         // bindings/plugins.cc
void start_completion_queue();                 // bindings/gil.cc
}  // namespace dragonboat::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "dragonboat C++ engine (internal module; use the dragonboat package)";
  m.attr("__version__") = dragonboat::version();
  m.def("is_temp_error_code", [](const std::string& name) {
    for (int c = 0; c <= static_cast<int>(dragonboat::ErrorCode::kFatal); ++c) {
      auto code = static_cast<dragonboat::ErrorCode>(c);
      if (name == dragonboat::error_code_name(code)) return dragonboat::is_temp_error(code);
    }
    throw py::value_error("unknown error code: " + name);
  }, py::arg("name"), "Whether the named error code is temporary (retry later).");
  m.def("error_code_names", [] {
    py::list out;
    for (int c = 0; c <= static_cast<int>(dragonboat::ErrorCode::kFatal); ++c) {
      out.append(dragonboat::error_code_name(static_cast<dragonboat::ErrorCode>(c)));
    }
    return out;
  }, "Names of every engine error code, in code order.");
  m.def("fnv1a64", [](const py::bytes& data, uint64_t h) {
    // dragonboat.checker's running hash, in C++: a Python loop over the
    // bytes of every applied command would cost the checker its speed.
    char* p = nullptr;
    Py_ssize_t n = 0;
    PyBytes_AsStringAndSize(data.ptr(), &p, &n);
    for (Py_ssize_t i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(p[i]);
      h *= 0x100000001b3ULL;
    }
    return h;
  }, py::arg("data"), py::arg("h"), "FNV-1a 64 of data, continuing from the hash h.");
  namespace b = dragonboat::bindings;
  b::start_completion_queue();  // its thread starts here, not on an engine thread
  b::register_errors(m);
  b::register_config(m);
  b::register_state_machines(m);
  b::register_requests(m);
  b::register_events(m);
  b::register_plugins(m);
  b::register_nodehost(m);
  register_sim(m);
  register_tools(m);
}
