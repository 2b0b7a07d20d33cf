// bindings/gil.cc — the log bridge and the completion dispatcher (gil.h).
#include "gil.h"

#include "dragonboat/logger.h"

namespace dragonboat::bindings {

namespace {

// C++ log lines -> logging.getLogger("dragonboat"), with their levels.
struct LogLine {
  LogLevel level;
  std::string text;
};

}  // namespace

void install_log_bridge() {
  static std::once_flag once;
  std::call_once(once, [] {
    static auto* lines = new GilBatchQueue<LogLine>("py-log", 10000, [](std::vector<LogLine>& batch) {
      py::object logger;
      try {
        logger = py::module_::import("logging").attr("getLogger")("dragonboat");
      } catch (py::error_already_set&) {
        return;  // logging is gone (interpreter shutting down): drop the lines
      }
      for (const auto& l : batch) {
        int level = l.level == LogLevel::kDebug ? 10 : l.level == LogLevel::kInfo ? 20
                  : l.level == LogLevel::kWarning ? 30 : 40;
        // Lines are bytes from C++ (paths, peer input): decoded leniently.
        auto text = py::reinterpret_steal<py::object>(
            PyUnicode_DecodeUTF8(l.text.data(), static_cast<Py_ssize_t>(l.text.size()), "replace"));
        if (!text) {
          PyErr_Clear();
          continue;
        }
        try {
          logger.attr("log")(level, text);
        } catch (py::error_already_set&) {
          // this line could not be logged; the others still are
        }
      }
    });
    // The sink never blocks or grows without bound: over 10,000 waiting
    // lines, new ones are dropped.
    set_log_sink([](LogLevel level, const char* component, const std::string& msg) {
      (void)lines->push({level, std::string(component) + ": " + msg});
    });
  });
}

namespace {

// RequestState callbacks registered from Python, called on the dispatcher
// thread ("db-py-done") with the request's RequestResult, or (committed
// callbacks) with whether it was committed.
struct Completion {
  PyObject* fn;  // an owned reference, released by the dispatcher (GIL held)
  RequestResult result;
  int8_t committed = -1;  // -1: a completion; 0/1: a committed callback's argument
};

GilBatchQueue<Completion>& completion_queue() {
  static auto* completions = new GilBatchQueue<Completion>(
      "py-done", SIZE_MAX, [](std::vector<Completion>& batch) {
        for (Completion& c : batch) {
          // Owns the reference from here: released after the call, even one that raised.
          auto fn = py::reinterpret_steal<py::object>(c.fn);
          try {
            if (c.committed < 0) {
              fn(c.result);
            } else {
              fn(c.committed != 0);
            }
          } catch (py::error_already_set& e) {
            log_message(LogLevel::kError, "python", std::string("completion callback raised ") + e.what());
          } catch (const std::exception& e) {  // e.g. a result that could not be converted
            log_message(LogLevel::kError, "python", std::string("completion callback failed: ") + e.what());
          }
        }
      });
  return *completions;
}

}  // namespace

void post_completion(PyObject* fn, const RequestResult& r) { (void)completion_queue().push({fn, r}); }

void post_committed(PyObject* fn, bool committed) {
  (void)completion_queue().push({fn, RequestResult{}, static_cast<int8_t>(committed ? 1 : 0)});
}

void start_completion_queue() { (void)completion_queue(); }

// Releases a Python object with the GIL held (shared_ptr deleter).
std::shared_ptr<py::object> py_shared(py::object o) {
  return std::shared_ptr<py::object>(new py::object(std::move(o)), [](py::object* p) {
    EngineGIL gil;
    delete p;
  });
}

}  // namespace dragonboat::bindings
