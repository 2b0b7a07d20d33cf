// bindings/requests.cc — Session, RequestResult and RequestState (its
// completion and, with notify_commit, its committed mark).
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <tuple>

#include "dragonboat/nodehost.h"
#include "errors.h"
#include "gil.h"
#include "state_machines.h"

namespace dragonboat::bindings {

namespace {
// Python callbacks run on the completion dispatcher (gil.h), never on the
// engine thread that completes the request. The callable travels as one owned
// reference in a pointer-sized capture, which std::function keeps inline: no
// allocation per callback (a proposal's hottest Python path). The reference is
// handed to the dispatcher, which calls and releases it with the GIL held; the
// engine always completes a request it made, so it is never dropped uncalled.
void on_committed(RequestState& rs, py::function cb) {
  PyObject* fn = cb.release().ptr();
  try {
    rs.on_committed([fn](bool committed) { post_committed(fn, committed); });
  } catch (...) {  // not registered (out of memory): the reference is still ours
    Py_DECREF(fn);
    throw;
  }
}
void on_complete(RequestState& rs, py::function cb) {
  PyObject* fn = cb.release().ptr();
  try {
    rs.on_complete([fn](const RequestResult& r) { post_completion(fn, r); });
  } catch (...) {  // not registered (out of memory): the reference is still ours
    Py_DECREF(fn);
    throw;
  }
}
}  // namespace

void register_requests(py::module_& m) {
  // The no-op session has no series: the reference panics when one is
  // advanced or re-purposed; here that is an InvalidSessionError.
  auto regular_only = [](void (Session::*step)(), const char* what) {
    return [step, what](Session& s) {
      if (s.is_noop()) throw StatusError{"invalid_session", std::string(what) + ": the no-op session has no series"};
      (s.*step)();
    };
  };
  py::class_<Session>(m, "Session", "A client session (at-most-once proposals).")
      .def_static(
          "new",
          [](const py::object& cluster_id) { return Session::create(to_u64(cluster_id, "cluster_id")); },
          py::arg("cluster_id"),
          "A new session with a random client ID, ready to be registered with propose_session "
          "(the reference's NewSession); sync_get_session does all of it in one call.")
      .def_readonly("cluster_id", &Session::cluster_id, "The group the session belongs to.")
      .def_readonly("client_id", &Session::client_id, "The session's ID within its group (0: no-op).")
      .def_readonly("series_id", &Session::series_id, "The ID of the proposal being made.")
      .def_readonly("responded_to", &Session::responded_to,
                    "The last series ID whose result the client has seen (the group may forget it).")
      .def("is_noop", &Session::is_noop, "Whether this is the no-op session (never deduplicated).");
  // The session's steps: (name, step, docstring), each refused on the no-op session.
  const std::tuple<const char*, void (Session::*)(), const char*> steps[] = {
      {"proposal_completed", &Session::proposal_completed,
       "Call after a proposal completed, before the next one (not after a timeout: retry unchanged)."},
      {"prepare_for_register", &Session::prepare_for_register, "Makes propose_session register this session."},
      {"prepare_for_unregister", &Session::prepare_for_unregister, "Makes propose_session unregister this session."},
      {"prepare_for_propose", &Session::prepare_for_propose,
       "Call once propose_session registered this session: it is ready for proposals."},
  };
  auto session = py::reinterpret_borrow<py::class_<Session>>(m.attr("Session"));
  for (const auto& [name, step, doc] : steps) session.def(name, regular_only(step, name), doc);

  // A value type bound directly (not a dict wrapped in Python): completion
  // callbacks are the hottest Python path of a busy client.
  py::class_<RequestResult> result(m, "RequestResult", "The outcome of a request (the reference's RequestResult).");
  // The outcome predicates: (name, predicate, docstring).
  const std::tuple<const char*, bool (RequestResult::*)() const, const char*> outcomes[] = {
      {"completed", &RequestResult::completed, "Done; get_result() holds the state machine's result."},
      {"timeout", &RequestResult::timeout, "The deadline passed first (the request may still be applied)."},
      {"terminated", &RequestResult::terminated, "The replica or the NodeHost stopped."},
      {"rejected", &RequestResult::rejected, "The group refused it (e.g. an evicted session, a stale config change)."},
      {"dropped", &RequestResult::dropped, "Dropped (no leader, leader changed, busy): retry."},
      {"aborted", &RequestResult::aborted, "Aborted (e.g. a snapshot save the state machine abandoned)."},
  };
  for (const auto& [name, predicate, doc] : outcomes) result.def(name, predicate, doc);
  result
      .def_property_readonly("code", [](const RequestResult& r) { return request_result_code_name(r.code); },
                             "One of completed, timeout, terminated, rejected, dropped, aborted.")
      .def_readonly("snapshot_index", &RequestResult::snapshot_index,
                    "The snapshot's index (completed snapshot requests).")
      .def("get_result", [](const RequestResult& r) { return make_py_result(r.result); },
           "The state machine's result (completed proposals) as a dragonboat.Result.")
      .def("raise_for_outcome", &raise_for_outcome,
           "Raises the exception matching a non-completed outcome (TimeoutError, ClusterClosedError, "
           "RejectedError, ClusterNotReadyError, CanceledError); returns for a completed one.")
      .def("__repr__", [](const RequestResult& r) {
        return std::string("RequestResult(") + request_result_code_name(r.code) +
               ", Result(value=" + std::to_string(r.result.value) + ", data=" +
               py::repr(py::bytes(r.result.data)).cast<std::string>() +
               "), snapshot_index=" + std::to_string(r.snapshot_index) + ")";
      });

  py::class_<RequestState, std::shared_ptr<RequestState>>(m, "RequestState", "An asynchronous request's outcome.")
      .def("done", &RequestState::done)
      .def("committed", &RequestState::committed,
           "Marked committed (notify_commit), or completed with code completed.")
      .def(
          "wait_committed",
          [](RequestState& rs, double timeout) {
            if (std::isnan(timeout)) throw py::value_error("timeout must be a number of seconds, not NaN");
            {
              // A blocking wait on the request's condition variable: no GIL,
              // no spinning (the GIL is released as in wait()).
              py::gil_scoped_release nogil;
              if (timeout < 0 || timeout > kMaxTimeoutSeconds) {  // forever (-1, an infinity)
                while (!rs.wait_committed(std::chrono::hours(1))) {
                }
              } else if (!rs.wait_committed(std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000)))) {
                return false;
              }
            }
            return rs.committed();
          },
          py::arg("timeout") = -1.0,
          "Waits (GIL released) up to timeout seconds (a negative one or more than 1e9: until marked "
          "committed or done); then committed(): False on timeout or for an outcome other than completed.")
      .def("on_committed", &on_committed, py::arg("callback"),
          "Calls callback(committed: bool) once, on the completion dispatcher thread, when the request "
          "is marked committed or is done (before its completion callbacks).")
      .def(
          "wait",
          [](RequestState& rs, double timeout) -> py::object {
            if (std::isnan(timeout)) throw py::value_error("timeout must be a number of seconds, not NaN");
            RequestResult r;
            bool done;
            {
              py::gil_scoped_release nogil;
              if (timeout < 0 || timeout > kMaxTimeoutSeconds) {  // forever (-1, an infinity)
                r = rs.wait();
                done = true;
              } else {
                done = rs.wait_for(std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000)), &r);
              }
            }
            if (!done) return py::none();
            return py::cast(r);
          },
          py::arg("timeout") = -1.0,
          "Waits (GIL released) up to timeout seconds (a negative one or more than 1e9: until done); "
          "the RequestResult, or None if still pending.")
      .def("on_complete", &on_complete, py::arg("callback"),
           "Calls callback(RequestResult) once, on the completion dispatcher thread.");
}

}  // namespace dragonboat::bindings
