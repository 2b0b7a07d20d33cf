// bindings/listeners.cc — see listeners.h. Each event reaches the Python
// listener's method of the same name as one dict of the event's fields.
#include "listeners.h"

#include <memory>
#include <string>
#include <utility>

#include "dragonboat/logger.h"
#include "gil.h"

namespace dragonboat::bindings {

namespace {

// Python listeners, called on the NodeHost's events thread (no engine lock
// held there): `method` gets one dict made of the (name, value) pairs, built
// and called with the GIL taken.
template <typename... Fields>
void call_listener(const py::object& obj, const char* method, const Fields&... fields) {
  EngineGIL gil;
  if (!py::hasattr(obj, method)) return;
  py::dict d;
  ((d[fields.first] = fields.second), ...);
  try {
    obj.attr(method)(d);
  } catch (py::error_already_set& e) {
    log_message(LogLevel::kError, "python", std::string("event listener ") + method + " raised " + e.what());
  }
}

template <typename T>
std::pair<const char*, T> field(const char* name, T value) {
  return {name, value};
}

struct PyRaftListener : IRaftEventListener {
  std::shared_ptr<py::object> obj;
  void leader_updated(const LeaderInfo& i) override {
    call_listener(*obj, "leader_updated", field("cluster_id", i.cluster_id), field("node_id", i.node_id),
                  field("term", i.term), field("leader_id", i.leader_id));
  }
};

struct PySystemListener : ISystemEventListener {
  std::shared_ptr<py::object> obj;
  void node(const char* m, const NodeEventInfo& i) {
    call_listener(*obj, m, field("cluster_id", i.cluster_id), field("node_id", i.node_id));
  }
  void snap(const char* m, const SnapshotInfo& i) {
    call_listener(*obj, m, field("cluster_id", i.cluster_id), field("node_id", i.node_id), field("from", i.from),
                  field("index", i.index));
  }
  void entry(const char* m, const EntryInfo& i) {
    call_listener(*obj, m, field("cluster_id", i.cluster_id), field("node_id", i.node_id), field("index", i.index));
  }
  void conn(const char* m, const ConnectionInfo& i) {
    call_listener(*obj, m, field("address", i.address), field("snapshot_connection", i.snapshot_connection));
  }
  void node_ready(const NodeEventInfo& i) override { node("node_ready", i); }
  void node_unloaded(const NodeEventInfo& i) override { node("node_unloaded", i); }
  void membership_changed(const NodeEventInfo& i) override { node("membership_changed", i); }
  void connection_established(const ConnectionInfo& i) override { conn("connection_established", i); }
  void connection_failed(const ConnectionInfo& i) override { conn("connection_failed", i); }
  void send_snapshot_started(const SnapshotInfo& i) override { snap("send_snapshot_started", i); }
  void send_snapshot_completed(const SnapshotInfo& i) override { snap("send_snapshot_completed", i); }
  void send_snapshot_aborted(const SnapshotInfo& i) override { snap("send_snapshot_aborted", i); }
  void snapshot_received(const SnapshotInfo& i) override { snap("snapshot_received", i); }
  void snapshot_recovered(const SnapshotInfo& i) override { snap("snapshot_recovered", i); }
  void snapshot_created(const SnapshotInfo& i) override { snap("snapshot_created", i); }
  void snapshot_compacted(const SnapshotInfo& i) override { snap("snapshot_compacted", i); }
  void log_compacted(const EntryInfo& i) override { entry("log_compacted", i); }
  void logdb_compacted(const EntryInfo& i) override { entry("logdb_compacted", i); }
};

}  // namespace

void attach_listeners(const py::object& py_config, NodeHostConfig* config) {
  py::object rl = py_config.attr("raft_event_listener");
  if (!rl.is_none()) {
    auto l = std::make_shared<PyRaftListener>();
    l->obj = py_shared(rl);
    config->raft_event_listener = l;
  }
  py::object sl = py_config.attr("system_event_listener");
  if (!sl.is_none()) {
    auto l = std::make_shared<PySystemListener>();
    l->obj = py_shared(sl);
    config->system_event_listener = l;
  }
}

}  // namespace dragonboat::bindings
