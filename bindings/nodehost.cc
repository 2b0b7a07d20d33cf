// bindings/nodehost.cc — the NodeHost handle: the engine's NodeHost plus the
// Python state machines of its groups (python/dragonboat/nodehost.py wraps it
// in the public API). The GIL policy is in gil.h.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

#include "config.h"
#include "dragonboat/nodehost.h"
#include "dragonboat/plugin.h"
#include "errors.h"
#include "fields.h"
#include "gil.h"
#include "listeners.h"
#include "plugins.h"
#include "state_machines.h"

namespace dragonboat::bindings {

namespace {

struct PyNodeHost;

// A call's hold on the engine NodeHost (see PyNodeHost::host()).
class Pin {
 public:
  Pin(PyNodeHost* owner, NodeHost* nh) : owner_(owner), nh_(nh) { ++held(); }
  Pin(const Pin&) = delete;
  Pin& operator=(const Pin&) = delete;
  ~Pin();
  NodeHost* operator->() const { return nh_; }
  NodeHost& operator*() const { return *nh_; }
  NodeHost* get() const { return nh_; }
  // Pins this thread holds: a stop() here would wait for them, i.e. itself
  // (Python code run inside a call: an on-disk open(), a close(), a factory).
  static int& held() {
    thread_local int n = 0;
    return n;
  }

 private:
  PyNodeHost* owner_;
  NodeHost* nh_;
};

struct PyNodeHost {
  ~PyNodeHost() { release(); }
  // Stops the engine. Engine threads may need the GIL to finish (state
  // machines, listeners): the engine is never stopped while holding it.
  // The engine NodeHost is destroyed only once no other thread is inside a
  // call on it: a thread in a GIL-released call (sync_propose, a metrics
  // scrape, start_cluster running a Python factory) would otherwise go on
  // using freed memory. engine->stop() first ends what those calls wait for
  // (their requests terminate, later calls fail with kSystemStopped), then
  // the pins drain.
  // REQUIRES: the GIL is held. Idempotent.
  void stop() {
    if (Pin::held() > 0 || EngineGIL::active()) {
      // From a state machine, a listener or Python code run inside a call on
      // a NodeHost, the stop would wait for that very code to return.
      throw StatusError{"invalid_operation",
                        "NodeHost.stop() cannot be called from a state machine, an event listener or code run "
                        "inside a NodeHost call: it would wait for itself; stop it from another thread"};
    }
    release();
  }
  // stop() without the check: the destructor (Python holds a reference to
  // the NodeHost for the whole of each of its calls, so none is running).
  void release() {
    std::unique_ptr<NodeHost> stopping;
    bool stopped_elsewhere;
    {
      std::lock_guard<std::mutex> g(mu);
      stopped_elsewhere = taken;  // by an earlier (or a concurrent) stop
      stopping = std::move(owned);
      if (stopping) taken = true;
    }
    if (stopping) {
      live.store(nullptr);  // new calls: SystemStoppedError
      py::gil_scoped_release nogil;
      stopping->stop();  // stops groups, transport, threads
      draining.store(true);
      {
        std::unique_lock<std::mutex> g(drain_mu);
        drained.wait(g, [&] { return calls.load() == 0; });
      }
      stopping.reset();
      {
        std::lock_guard<std::mutex> g(drain_mu);
        stop_done = true;
      }
      drained.notify_all();
    } else if (stopped_elsewhere) {
      // Another thread's stop() took the engine and may still be stopping
      // it: return only once it is done, as stop() promises (its threads
      // gone), not at once. (Never taken: the create failed, nothing runs.)
      py::gil_scoped_release nogil;
      std::unique_lock<std::mutex> g(drain_mu);
      drained.wait(g, [&] { return stop_done; });
    }
    std::lock_guard<std::mutex> g(mu);
    sms.clear();
  }
  std::mutex mu;
  std::unique_ptr<NodeHost> owned;  // set by create, taken by stop
  bool taken = false;               // guarded by mu: a stop took `owned`
  std::map<uint64_t, std::shared_ptr<PySM>> sms;  // cluster ID -> Python state machine
  std::set<uint64_t> native;                      // clusters run by a C++ plugin

  // The engine NodeHost for one call; the Pin keeps stop() from destroying
  // it until the call returns (hold it for the call's whole duration:
  // `h.host()->sync_propose(...)` inside the GIL-released lambda).
  // SystemStoppedError once stop() began.
  Pin host() {
    // seq_cst pairs with stop(): it clears `live` and then reads `calls`;
    // here `calls` is raised and then `live` read. Either stop() sees this
    // call, or this call sees nullptr (the Dekker pattern).
    calls.fetch_add(1);
    NodeHost* nh = live.load();
    if (nh == nullptr) {
      unpin();
      throw StatusError{"system_stopped", "the NodeHost is stopped"};
    }
    return Pin(this, nh);
  }
  void unpin() {
    if (calls.fetch_sub(1) == 1 && draining.load()) {
      std::lock_guard<std::mutex> g(drain_mu);  // stop() checks `calls` under it: no lost wake-up
      drained.notify_all();
    }
  }
  void created() { live.store(owned.get()); }

 private:
  std::atomic<NodeHost*> live{nullptr};
  std::atomic<int> calls{0};
  std::atomic<bool> draining{false};
  std::mutex drain_mu;
  bool stop_done = false;  // guarded by drain_mu: the engine NodeHost is destroyed
  std::condition_variable drained;

 public:
  // Stops a group with `stop` (run without the GIL) and then drops its
  // Python state machine — only the one that was running when the stop
  // began: another thread may have started the group again meanwhile.
  // REQUIRES: the GIL is held (the state machine is released with it).
  template <typename Stop>
  void stop_and_forget(uint64_t cluster_id, Stop stop) {
    std::shared_ptr<PySM> stopping;
    {
      std::lock_guard<std::mutex> g(mu);
      auto it = sms.find(cluster_id);
      if (it != sms.end()) stopping = it->second;
    }
    check_nogil(stop);
    std::shared_ptr<PySM> gone;
    std::lock_guard<std::mutex> g(mu);
    auto it = sms.find(cluster_id);
    if (stopping && it != sms.end() && it->second == stopping) {
      gone = std::move(it->second);
      sms.erase(it);
    }
  }
  std::shared_ptr<PySM> sm(uint64_t cluster_id) {
    std::lock_guard<std::mutex> g(mu);
    auto it = sms.find(cluster_id);
    if (it == sms.end()) throw StatusError{"cluster_not_found", "no Python state machine for cluster " + std::to_string(cluster_id)};
    return it->second;
  }
  // Calls the Python lookup under the state machine's mutex (mutex, then
  // GIL); a plugin's lookup takes and returns bytes, without the GIL.
  // `na`: the reference's NALookup: the Python state machine's
  // na_lookup(bytes) -> bytes (NotImplementedError when it has none).
  py::object lookup(uint64_t cluster_id, const py::object& query, bool na = false) {
    bool is_native;
    {
      std::lock_guard<std::mutex> g(mu);
      is_native = native.count(cluster_id) != 0;
    }
    if (is_native) {
      std::string q, answer;
      if (!py::isinstance<py::bytes>(query) && !py::isinstance<py::str>(query)) {
        throw py::type_error(std::string("query must be bytes (or str) for a C++ plugin state machine, not ") +
                             Py_TYPE(query.ptr())->tp_name);
      }
      if (!result_data(query, &q)) throw py::value_error("query must be valid Unicode text (no lone surrogates)");
      check_nogil([&] { return host()->stale_read(cluster_id, q, &answer); });
      return py::bytes(answer);
    }
    // The engine's view first: a stopped, failed or witness replica is not
    // read (its Python object may be closed or absent).
    check(host()->check_local_read(cluster_id));
    std::shared_ptr<PySM> s = sm(cluster_id);
    std::unique_lock<std::mutex> g(s->mu, std::defer_lock);
    if (s->exclusive) {
      py::gil_scoped_release nogil;
      g.lock();
    }
    if (s->closed) throw StatusError{"cluster_closed", "the replica of cluster " + std::to_string(cluster_id) + " stopped"};
    if (!na) return s->obj.attr("lookup")(query);
    py::object fn = py::getattr(s->obj, "na_lookup", py::none());
    if (fn.is_none()) {
      PyErr_SetString(PyExc_NotImplementedError,
                      "the state machine has no na_lookup(query: bytes) -> bytes (the reference's IExtended)");
      throw py::error_already_set();
    }
    py::object answer = fn(query);
    if (!py::isinstance<py::bytes>(answer)) {
      throw py::type_error(std::string("na_lookup() must return bytes, not ") + Py_TYPE(answer.ptr())->tp_name);
    }
    return answer;
  }
};

Pin::~Pin() {
  --held();
  owner_->unpin();
}

py::dict membership_dict(const Membership& m) {
  return to_dict(m, field("config_change_id", &Membership::config_change_id), field("nodes", &Membership::nodes),
                 field("observers", &Membership::observers), field("witnesses", &Membership::witnesses),
                 field("removed", &Membership::removed));
}

}  // namespace

void register_nodehost(py::module_& m) {
  py::class_<PyNodeHost> cls(m, "NodeHost", "The engine's NodeHost (use dragonboat.NodeHost).");
  cls
      .def(py::init([](const py::object& cfg) {
             install_log_bridge();
             auto h = std::make_unique<PyNodeHost>();
             NodeHostConfig c = host_config(cfg);
             attach_listeners(cfg, &c);
             attach_plugins(cfg, &c);
             check_nogil([&] { return NodeHost::create(c, &h->owned); });
             h->created();
             return h;
           }),
           py::arg("config"))
      .def("stop", &PyNodeHost::stop)
      .def("raft_address", [](PyNodeHost& h) { return h.host()->raft_address(); })
      .def("logdb_shards", [](PyNodeHost& h) { return h.host()->node_host_config().logdb_shards; },
           "The LogDB shard count in use (logdb_shards=0 resolved).")
      .def(
          "start_cluster",
          [](PyNodeHost& h, std::map<uint64_t, std::string> members, bool join, py::function factory,
             const py::object& cfg, StateMachineType kind) {
            (void)h.host();  // a stopped NodeHost: SystemStoppedError, the factory is not called
            Config c = raft_config(cfg);
            auto state = std::make_shared<PySM>();
            state->obj = factory(c.cluster_id, c.node_id);
            if (state->obj.is_none()) throw StatusError{"invalid_cluster_settings", "the state machine factory returned None"};
            state->exclusive = kind == StateMachineType::kRegular;
            check_nogil([&] { return start_python_cluster(h.host().get(), members, join, state, kind, c); });
            std::lock_guard<std::mutex> g(h.mu);
            h.sms[c.cluster_id] = state;  // the start is authoritative: this kind, this object
            h.native.erase(c.cluster_id);
          },
          py::arg("initial_members"), py::arg("join"), py::arg("factory"), py::arg("config"),
          py::arg("kind") = StateMachineType::kRegular)
      .def(
          "start_plugin_cluster",
          [](PyNodeHost& h, std::map<uint64_t, std::string> members, bool join, const std::string& path,
             const py::object& cfg) {
            (void)h.host();  // a stopped NodeHost: SystemStoppedError, nothing loaded
            Config c = raft_config(cfg);
            Plugin plugin;
            check(Plugin::load(path, &plugin));
            check_nogil([&] { return plugin.start_cluster(h.host().get(), members, join, c); });
            std::shared_ptr<PySM> replaced;  // a stopped Python predecessor, released after the lock
            std::lock_guard<std::mutex> g(h.mu);
            h.native.insert(c.cluster_id);
            auto old = h.sms.find(c.cluster_id);
            if (old != h.sms.end()) {
              replaced = std::move(old->second);
              h.sms.erase(old);
            }
          },
          py::arg("initial_members"), py::arg("join"), py::arg("path"), py::arg("config"))
      .def("stop_cluster",
           [](PyNodeHost& h, uint64_t cluster_id) {
             h.stop_and_forget(cluster_id, [&] { return h.host()->stop_cluster(cluster_id); });
           })
      .def("get_noop_session", [](PyNodeHost& h, uint64_t c) { return h.host()->get_noop_session(c); })
      .def("propose",
           [](PyNodeHost& h, const Session& s, const py::bytes& cmd, double timeout) {
             // Never blocks (it queues the proposal and wakes a worker), so the
             // GIL is kept: releasing and re-taking it per call would make
             // every proposal wait for a contended GIL hand-off.
             std::string_view v = cmd;
             RequestStatePtr rs;
             check(h.host()->propose(s, v, to_timeout(timeout), &rs));
             return rs;
           })
      .def("sync_propose",
           [](PyNodeHost& h, const Session& s, const py::bytes& cmd, double timeout) {
             std::string_view v = cmd;  // the caller holds cmd
             Result r;
             check_nogil([&] { return h.host()->sync_propose(s, v, to_timeout(timeout), &r); });
             return make_py_result(r);
           })
      .def("propose_session",
           [](PyNodeHost& h, const Session& s, double timeout) {
             RequestStatePtr rs;
             check_nogil([&] { return h.host()->propose_session(s, to_timeout(timeout), &rs); });
             return rs;
           })
      .def("sync_get_session",
           [](PyNodeHost& h, uint64_t c, double timeout) {
             Session out;
             check_nogil([&] { return h.host()->sync_get_session(c, to_timeout(timeout), &out); });
             return out;
           })
      .def("sync_close_session",
           [](PyNodeHost& h, const Session& s, double timeout) {
             check_nogil([&] { return h.host()->sync_close_session(s, to_timeout(timeout)); });
           })
      .def("read_index",
           [](PyNodeHost& h, uint64_t c, double timeout) {
             RequestStatePtr rs;  // queues only: the GIL is kept (see propose)
             check(h.host()->read_index(c, to_timeout(timeout), &rs));
             return rs;
           })
      .def("na_lookup", [](PyNodeHost& h, uint64_t c, const py::bytes& q) { return h.lookup(c, q, true); },
           "The state machine's na_lookup(bytes) -> bytes (a plugin's lookup); NotImplementedError without one.")
      .def("lookup", [](PyNodeHost& h, uint64_t c, const py::object& q) { return h.lookup(c, q); },
           "Queries the Python state machine of cluster c (mutex, then GIL).")
      .def("get_leader_id",
           [](PyNodeHost& h, uint64_t c) {
             uint64_t id = 0;
             bool valid = false;
             check(h.host()->get_leader_id(c, &id, &valid));
             return py::make_tuple(id, valid);
           })
      .def("sync_get_cluster_membership",
           [](PyNodeHost& h, uint64_t c, double timeout) {
             Membership m;
             check_nogil([&] { return h.host()->sync_get_cluster_membership(c, to_timeout(timeout), &m); });
             return membership_dict(m);
           })
      .def("get_cluster_membership",
           [](PyNodeHost& h, uint64_t c) {
             Membership m;  // the local replica's view: no waiting, the GIL is kept
             check(h.host()->get_cluster_membership(c, &m));
             return membership_dict(m);
           })
      .def("request_leader_transfer",
           [](PyNodeHost& h, uint64_t c, uint64_t target) { check(h.host()->request_leader_transfer(c, target)); })
      .def("request_snapshot",
           [](PyNodeHost& h, uint64_t c, const py::object& option, double timeout) {
             SnapshotOption o = snapshot_option(option);
             RequestStatePtr rs;
             check_nogil([&] { return h.host()->request_snapshot(c, o, to_timeout(timeout), &rs); });
             return rs;
           })
      .def("sync_request_snapshot",
           [](PyNodeHost& h, uint64_t c, const py::object& option, double timeout) {
             SnapshotOption o = snapshot_option(option);
             uint64_t index = 0;
             check_nogil([&] { return h.host()->sync_request_snapshot(c, o, to_timeout(timeout), &index); });
             return index;
           })
      .def("sync_remove_data",
           [](PyNodeHost& h, uint64_t c, uint64_t n, double timeout) {
             check_nogil([&] { return h.host()->sync_remove_data(c, n, to_timeout(timeout)); });
           })
      .def("has_node_info", [](PyNodeHost& h, uint64_t c, uint64_t n) { return h.host()->has_node_info(c, n); })
      .def("get_hash",
           [](PyNodeHost& h, uint64_t c) {
             uint64_t v = 0;
             check_nogil([&] { return h.host()->get_hash(c, &v); });  // may wait for a batch to apply
             return v;
           })
      .def("stop_node",
           [](PyNodeHost& h, uint64_t c, uint64_t n) {
             h.stop_and_forget(c, [&] { return h.host()->stop_node(c, n); });
           })
      .def("remove_data",
           [](PyNodeHost& h, uint64_t c, uint64_t n) {
             check_nogil([&] { return h.host()->remove_data(c, n); });
           })
      .def("request_compaction",
           [](PyNodeHost& h, uint64_t c, uint64_t n) {
             RequestStatePtr rs;
             check(h.host()->request_compaction(c, n, &rs));
             return rs;
           })
      .def("node_host_info",
           [](PyNodeHost& h, bool skip_log_info) {
             NodeHostInfoOption o;
             o.skip_log_info = skip_log_info;
             NodeHostInfo info;
             {
               py::gil_scoped_release nogil;
               info = h.host()->get_node_host_info(o);
             }
             py::dict d;
             d["raft_address"] = info.raft_address;
             py::list clusters;
             for (const auto& ci : info.cluster_info) {
               py::dict c;
               c["cluster_id"] = ci.cluster_id;
               c["node_id"] = ci.node_id;
               c["nodes"] = ci.nodes;
               c["config_change_index"] = ci.config_change_index;
               c["state_machine_type"] = static_cast<int>(ci.state_machine_type);
               c["is_leader"] = ci.is_leader;
               c["is_observer"] = ci.is_observer;
               c["is_witness"] = ci.is_witness;
               c["pending"] = ci.pending;
               clusters.append(c);
             }
             d["cluster_info"] = clusters;
             py::list logs;
             for (const auto& li : info.log_info) logs.append(py::make_tuple(li.cluster_id, li.node_id));
             d["log_info"] = logs;
             return d;
           },
           py::arg("skip_log_info") = false)
      .def("health_metrics",
           [](PyNodeHost& h) {
             std::ostringstream out;
             {
               py::gil_scoped_release nogil;
               h.host()->write_health_metrics(out);
             }
             return out.str();
           })
      // [(name, type, help, [(suffix, {label: value}, value), ...]), ...]
      .def("health_metric_families", [](PyNodeHost& h) {
        HealthMetrics m;
        {
          py::gil_scoped_release nogil;
          m = h.host()->get_health_metrics();
        }
        py::list families;
        for (const MetricFamily& f : m.families) {
          py::list samples;
          for (const MetricSample& s : f.samples) {
            py::dict labels;
            for (const auto& [k, v] : s.labels) labels[py::str(k)] = v;
            samples.append(py::make_tuple(s.suffix, labels, s.value));
          }
          families.append(py::make_tuple(f.name, metric_type_name(f.type), f.help, samples));
        }
        return families;
      });

  // Membership changes: one binding per signature, each call named once.
  using Add = Status (NodeHost::*)(uint64_t, uint64_t, const std::string&, uint64_t, Timeout, RequestStatePtr*);
  using SyncAdd = Status (NodeHost::*)(uint64_t, uint64_t, const std::string&, uint64_t, Timeout);
  const std::pair<const char*, Add> adds[] = {{"request_add_node", &NodeHost::request_add_node},
                                              {"request_add_observer", &NodeHost::request_add_observer},
                                              {"request_add_witness", &NodeHost::request_add_witness}};
  const std::pair<const char*, SyncAdd> sync_adds[] = {
      {"sync_request_add_node", &NodeHost::sync_request_add_node},
      {"sync_request_add_observer", &NodeHost::sync_request_add_observer},
      {"sync_request_add_witness", &NodeHost::sync_request_add_witness}};
  for (const auto& [name, call] : adds) {
    cls.def(name, [call = call](PyNodeHost& h, uint64_t c, uint64_t node, const std::string& address, uint64_t ccid,
                                double timeout) {
      RequestStatePtr rs;
      check_nogil([&] { return ((*h.host()).*call)(c, node, address, ccid, to_timeout(timeout), &rs); });
      return rs;
    });
  }
  for (const auto& [name, call] : sync_adds) {
    cls.def(name, [call = call](PyNodeHost& h, uint64_t c, uint64_t node, const std::string& address, uint64_t ccid,
                                double timeout) {
      check_nogil([&] { return ((*h.host()).*call)(c, node, address, ccid, to_timeout(timeout)); });
    });
  }
  cls.def("request_delete_node", [](PyNodeHost& h, uint64_t c, uint64_t node, uint64_t ccid, double timeout) {
    RequestStatePtr rs;
    check_nogil([&] { return h.host()->request_delete_node(c, node, ccid, to_timeout(timeout), &rs); });
    return rs;
  });
  cls.def("sync_request_delete_node", [](PyNodeHost& h, uint64_t c, uint64_t node, uint64_t ccid, double timeout) {
    check_nogil([&] { return h.host()->sync_request_delete_node(c, node, ccid, to_timeout(timeout)); });
  });
}

}  // namespace dragonboat::bindings
