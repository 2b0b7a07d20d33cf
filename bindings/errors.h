// bindings/errors.h — Status to Python exceptions, and argument conversions
// that name the argument. One place for the whole module (nodehost, tools).
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "dragonboat/nodehost.h"

namespace dragonboat::bindings {

namespace py = pybind11;

// A failed Status crossing into Python: raised as the dragonboat.errors
// class of its code (see register_errors).
struct StatusError {
  std::string code;     // error_code_name(), e.g. "timeout"
  std::string message;
};

// Throws StatusError for a failed Status.
void check(const Status& s);

// Runs `call` (returning a Status) with the GIL released, then raises on error.
template <typename F>
void check_nogil(F&& call) {
  Status s;
  {
    py::gil_scoped_release nogil;
    s = call();
  }
  check(s);
}

// The longest timeout in seconds (about 31.7 years, as dragonboat._check):
// the engine's clocks count nanoseconds in 64 bits.
inline constexpr double kMaxTimeoutSeconds = 1e9;

// Seconds as the engine's Timeout; InvalidDeadlineError unless in (0, 1e9].
Timeout to_timeout(double seconds);

// A Python int argument as a uint64: TypeError or ValueError naming `name`
// (pybind11's own conversion reports neither the argument nor the range).
uint64_t to_u64(const py::handle& v, const char* name);

// The exception of a request's non-completed outcome (the one mapping from
// RequestResultCode to an error); returns for a completed one.
void raise_for_outcome(const RequestResult& r);

// Registers the StatusError translator (module initialisation).
void register_errors(py::module_& m);

}  // namespace dragonboat::bindings
