// bindings/state_machines.h — Python state machines as the engine's
// IStateMachine / IConcurrentStateMachine / IOnDiskStateMachine, and the
// snapshot streams they write and read.
#pragma once

#include <pybind11/pybind11.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "dragonboat/nodehost.h"
#include "gil.h"

namespace dragonboat::bindings {

namespace py = pybind11;

// A Python state machine, shared by the engine's adapter and the binding's
// lookup path.
struct PySM {
  bool exclusive = true;  // the regular kind: lookups wait for updates (mu)
  std::mutex mu;   // updates, lookups and snapshots exclude each other (taken before the GIL)
  py::object obj;  // the Python state machine; released with the GIL held
  std::atomic<bool> closed{false};  // close() was called: no more lookups
  ~PySM() {
    EngineGIL gil;
    obj = py::object();
  }
};

// Starts a replica whose state machine is `sm` (of kind `type`), as the
// NodeHost's start_cluster / start_concurrent_cluster / start_on_disk_cluster.
// REQUIRES: the GIL is NOT held.
Status start_python_cluster(NodeHost* nh, const std::map<uint64_t, std::string>& initial_members, bool join,
                            std::shared_ptr<PySM> sm, StateMachineType type, const Config& config);

// A lookup's answer as bytes: bytes, bytearray or str (UTF-8); false for
// anything else (or text that is not valid Unicode).
bool result_data(const py::handle& v, std::string* out);

// dragonboat.statemachine.Result made from the engine's Result.
py::object make_py_result(const Result& r);

// Binds StateMachineType, SnapshotWriter and SnapshotReader.
void register_state_machines(py::module_& m);

}  // namespace dragonboat::bindings
