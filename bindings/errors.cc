// bindings/errors.cc — see errors.h.
#include "errors.h"

namespace dragonboat::bindings {

void check(const Status& s) {
  if (!s.ok()) throw StatusError{error_code_name(s.code()), s.message()};
}

Timeout to_timeout(double seconds) {
  if (!(seconds > 0) || !(seconds <= kMaxTimeoutSeconds)) {  // also NaN and infinities
    throw StatusError{"invalid_deadline", "timeout must be a positive number of seconds, at most 1e9"};
  }
  return Timeout(static_cast<int64_t>(seconds * 1000.0));
}

uint64_t to_u64(const py::handle& v, const char* name) {
  if (!PyLong_Check(v.ptr()) || PyBool_Check(v.ptr())) {
    throw py::type_error(std::string(name) + " must be an int, not " + Py_TYPE(v.ptr())->tp_name);
  }
  unsigned long long x = PyLong_AsUnsignedLongLong(v.ptr());
  if (x == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::value_error(std::string(name) + " must be in [0, 2**64 - 1]");
  }
  return x;
}

void raise_for_outcome(const RequestResult& r) { check(r.status()); }

void register_errors(py::module_&) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      py::object cls = py::module_::import("dragonboat.errors").attr("error_class")(e.code);
      PyErr_SetObject(cls.ptr(), cls(e.message).ptr());
    }
  });
}

}  // namespace dragonboat::bindings
