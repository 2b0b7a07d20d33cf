// bindings/listeners.cc — see listeners.h. Each event reaches the Python
// listener's method of the same name as the engine's struct, bound
// (register_events).
#include "listeners.h"

#include <memory>
#include <string>
#include <utility>

#include "dragonboat/logger.h"
#include "fields.h"
#include "gil.h"

namespace dragonboat::bindings {

namespace {

// Python listeners, called on the NodeHost's events thread (no engine lock
// held there): `method` gets the event's bound struct (a copy), called with
// the GIL taken.
template <typename... Info>
void call_listener(const py::object& obj, const char* method, const Info&... info) {
  EngineGIL gil;
  if (!py::hasattr(obj, method)) return;
  try {
    obj.attr(method)(info...);
  } catch (py::error_already_set& e) {
    log_message(LogLevel::kError, "python", std::string("event listener ") + method + " raised " + e.what());
  }
}

struct PyRaftListener : IRaftEventListener {
  std::shared_ptr<py::object> obj;
  void leader_updated(const LeaderInfo& i) override { call_listener(*obj, "leader_updated", i); }
};

struct PySystemListener : ISystemEventListener {
  std::shared_ptr<py::object> obj;
  void node(const char* m, const NodeEventInfo& i) { call_listener(*obj, m, i); }
  void snap(const char* m, const SnapshotInfo& i) { call_listener(*obj, m, i); }
  void entry(const char* m, const EntryInfo& i) { call_listener(*obj, m, i); }
  void conn(const char* m, const ConnectionInfo& i) { call_listener(*obj, m, i); }
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
  void node_host_shutting_down() override { call_listener(*obj, "node_host_shutting_down"); }
};

// The docstring of an event field (the same name means the same thing in
// every event).
const char* field_doc(const std::string& name) {
  static const std::pair<const char*, const char*> kDocs[] = {
      {"cluster_id", "The group."},
      {"node_id", "The local replica's node ID."},
      {"term", "The term of the change."},
      {"leader_id", "The leader's node ID (0: none known)."},
      {"from_node", "A sent snapshot: the target node; a received one: the sender."},
      {"index", "The snapshot's index, or the last log entry concerned."},
      {"address", "The other NodeHost's raft address."},
      {"snapshot_connection", "Whether it is a snapshot stream's connection."},
  };
  for (const auto& [n, doc] : kDocs)
    if (name == n) return doc;
  return "";
}

// An event struct as an immutable Python value: constructor with the fields
// as (keyword) arguments, read-only attributes, ==, hash and a dataclass-like
// repr. `fields` are (Python name, member pointer) pairs.
template <typename T, typename... M>
void bind_info(py::module_& m, const char* name, const char* doc, Field<T, M>... fields) {
  py::class_<T> c(m, name, doc);
  c.def(py::init([fields...](M... values) {
          T t;
          ((t.*(fields.second) = values), ...);
          return t;
        }),
        py::arg(fields.first)...);
  (c.def_readonly(fields.first, fields.second, field_doc(fields.first)), ...);
  auto as_tuple = [fields...](const T& t) { return py::make_tuple(t.*(fields.second)...); };
  c.def("__eq__", [as_tuple](const T& a, const py::object& b) -> py::object {
    if (!py::isinstance<T>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    return py::bool_(as_tuple(a).equal(as_tuple(b.cast<const T&>())));
  });
  c.def("__hash__", [as_tuple](const T& t) { return py::hash(as_tuple(t)); });
  std::string type_name = name;
  c.def("__repr__", [type_name, fields...](const T& t) {
    std::string out = type_name + "(";
    bool first = true;
    ((out += (first ? "" : ", ") + std::string(fields.first) + "=" +
             std::string(py::repr(py::cast(t.*(fields.second)))),
      first = false),
     ...);
    return out + ")";
  });
}

}  // namespace

void register_events(py::module_& m) {
  bind_info(m, "LeaderInfo", "The leader (or term) of a group changed, as the local replica node_id sees it.",
            field("cluster_id", &LeaderInfo::cluster_id), field("node_id", &LeaderInfo::node_id),
            field("term", &LeaderInfo::term), field("leader_id", &LeaderInfo::leader_id));
  bind_info(m, "NodeInfo", "A replica of this host (node_ready, node_unloaded, membership_changed).",
            field("cluster_id", &NodeEventInfo::cluster_id), field("node_id", &NodeEventInfo::node_id));
  bind_info(m, "SnapshotInfo",
            "A snapshot event of the local replica node_id; from_node: the target of a sent snapshot, "
            "the sender of a received one.",
            field("cluster_id", &SnapshotInfo::cluster_id), field("node_id", &SnapshotInfo::node_id),
            field("from_node", &SnapshotInfo::from), field("index", &SnapshotInfo::index));
  bind_info(m, "EntryInfo", "Log entries up to index (log_compacted, logdb_compacted).",
            field("cluster_id", &EntryInfo::cluster_id), field("node_id", &EntryInfo::node_id),
            field("index", &EntryInfo::index));
  bind_info(m, "ConnectionInfo", "A connection to another NodeHost (snapshot_connection: a snapshot stream's).",
            field("address", &ConnectionInfo::address),
            field("snapshot_connection", &ConnectionInfo::snapshot_connection));
}

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
