// bindings/nodehost.cc — NodeHost, RequestState, Session and Python state
// machines for the dragonboat package (python/dragonboat/nodehost.py wraps
// them in the public API).
//
// GIL policy: every call that can block or do engine work releases the GIL.
// Engine threads take the GIL only to run Python state machine code or a
// Python completion callback, and never while holding an engine lock: the
// state machine adapter takes its own mutex first, then the GIL, and the
// Python lookup path does the same (mutex, then GIL), so the two cannot
// deadlock. Python state machines get one GIL acquisition per applied batch.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <dlfcn.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "common/thread_name.h"
#include "dragonboat/logger.h"
#include "dragonboat/nodehost.h"
#include "dragonboat/plugin.h"

namespace py = pybind11;
using namespace dragonboat;

namespace {

// A failed Status crossing into Python: raised as the dragonboat.errors
// class of its code (see the translator registered below).
struct StatusError {
  std::string code;
  std::string message;
};

void check(const Status& s) {
  if (!s.ok()) throw StatusError{error_code_name(s.code()), s.message()};
}

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
constexpr double kMaxTimeoutSeconds = 1e9;

Timeout to_timeout(double seconds) {
  if (!(seconds > 0) || !(seconds <= kMaxTimeoutSeconds)) {  // also NaN and infinities
    throw StatusError{"invalid_deadline", "timeout must be a positive number of seconds, at most 1e9"};
  }
  return Timeout(static_cast<int64_t>(seconds * 1000.0));
}

// A Python int argument as a uint64: TypeError or ValueError naming `name`
// (pybind11's own conversion reports neither the argument nor the range).
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

// Taking the GIL from an engine thread. pybind11 would create and destroy
// a Python thread state on every acquisition from a thread Python does not
// know; the first acquisition on each engine thread keeps its state for the
// thread's life instead (a small, bounded set of threads).
class EngineGIL {
 public:
  EngineGIL() {
    thread_local bool kept = false;
    if (!kept) {
      gil_.inc_ref();
      kept = true;
    }
  }

 private:
  py::gil_scoped_acquire gil_;
};

// ---- snapshot streams as Python file-like objects ---------------------------

struct PyWriter {
  ISnapshotWriter* w = nullptr;
  // Any bytes-like object (bytes, bytearray, memoryview, ...).
  size_t write(const py::object& data) {
    if (!w) throw py::value_error("the snapshot writer is closed (used after save_snapshot returned)");
    Py_buffer view;
    if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_C_CONTIGUOUS) != 0) {
      PyErr_Clear();
      throw py::type_error(std::string("data must be bytes-like (contiguous), not ") + Py_TYPE(data.ptr())->tp_name);
    }
    struct Release {
      Py_buffer* v;
      ~Release() { PyBuffer_Release(v); }  // the GIL is held again (after check_nogil)
    } release{&view};
    const size_t n = static_cast<size_t>(view.len);
    const char* p = static_cast<const char*>(view.buf);
    check_nogil([&] { return w->write(p, n); });
    return n;
  }
};

struct PyReader {
  ISnapshotReader* r = nullptr;
  // n < 0: everything left; an n beyond any size is the same.
  py::bytes read(const py::object& n_obj) {
    if (!r) throw py::value_error("the snapshot reader is closed (used after recover_from_snapshot returned)");
    if (!PyLong_Check(n_obj.ptr()) || PyBool_Check(n_obj.ptr())) {
      throw py::type_error(std::string("n must be an int, not ") + Py_TYPE(n_obj.ptr())->tp_name);
    }
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(n_obj.ptr(), &overflow);
    if (overflow != 0) n = -1;
    std::string out;
    Status s;
    {
      py::gil_scoped_release nogil;
      char buf[64 << 10];
      size_t want = n < 0 ? SIZE_MAX : static_cast<size_t>(n);
      while (out.size() < want) {
        size_t got = 0;
        s = r->read(buf, std::min(sizeof(buf), want - out.size()), &got);
        if (!s.ok() || got == 0) break;
        out.append(buf, got);
      }
    }
    check(s);
    return py::bytes(out);
  }
};

// ---- Python state machines ------------------------------------------------------

// Shared by the engine's adapter and the binding's lookup path.
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

Status py_failure(const char* what, py::error_already_set& e) {
  std::string msg = std::string(what) + " raised " + e.what();
  log_message(LogLevel::kError, "python", msg);
  return Status(ErrorCode::kInvalidOperation, msg);
}

// A result's value: an int in [0, 2**64) (bool and integer types with
// __index__, e.g. NumPy's, included; float not).
bool result_value(const py::handle& v, uint64_t* out) {
  PyObject* o = v.ptr();
  py::object index;
  if (!PyLong_Check(o)) {
    if (PyFloat_Check(o) || !PyIndex_Check(o)) return false;
    index = py::reinterpret_steal<py::object>(PyNumber_Index(o));
    if (!index) {
      PyErr_Clear();
      return false;
    }
    o = index.ptr();
  }
  unsigned long long x = PyLong_AsUnsignedLongLong(o);
  if (x == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();
    return false;
  }
  *out = x;
  return true;
}

// A result's data: bytes, bytearray or str (UTF-8).
bool result_data(const py::handle& v, std::string* out) {
  PyObject* o = v.ptr();
  if (PyBytes_Check(o)) {
    out->assign(PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o)));
    return true;
  }
  if (PyByteArray_Check(o)) {
    out->assign(PyByteArray_AS_STRING(o), static_cast<size_t>(PyByteArray_GET_SIZE(o)));
    return true;
  }
  if (PyUnicode_Check(o)) {
    Py_ssize_t n = 0;
    const char* p = PyUnicode_AsUTF8AndSize(o, &n);
    if (!p) {
      PyErr_Clear();
      return false;
    }
    out->assign(p, static_cast<size_t>(n));
    return true;
  }
  return false;
}

// What a state machine returned for an entry (`what`: "update()", ...) as
// the engine's Result. A value that is none of None, an int in [0, 2**64),
// bytes, (value, data) or an object with .value (and .data) is the state
// machine's error, as an exception would be: the replica stops, logged;
// it is never a C++ exception on an engine thread (std::terminate).
// REQUIRES: the GIL is held. May raise error_already_set (a raising .value).
Status to_result(const py::handle& v, Result* r, const char* what) {
  *r = Result();
  if (v.is_none()) return Status::OK();
  bool ok;
  // The common case first: probing an int for .value below would raise and
  // format an AttributeError per entry.
  if (PyLong_CheckExact(v.ptr())) {
    ok = result_value(v, &r->value);
  } else if (PyTuple_Check(v.ptr())) {
    auto t = py::reinterpret_borrow<py::tuple>(v);
    ok = (t.size() < 1 || result_value(t[0], &r->value)) && (t.size() < 2 || result_data(t[1], &r->data));
  } else if (PyBytes_Check(v.ptr())) {
    ok = result_data(v, &r->data);
  } else if (py::hasattr(v, "value")) {
    ok = result_value(v.attr("value"), &r->value) &&
         (!py::hasattr(v, "data") || result_data(v.attr("data"), &r->data));
  } else {
    ok = result_value(v, &r->value);
  }
  if (ok) return Status::OK();
  std::string msg = std::string(what) + " returned a value of type " + Py_TYPE(v.ptr())->tp_name +
                    " that is not a result: an int in [0, 2**64), bytes, (value, data) or a "
                    "dragonboat.Result with such a value and data";
  log_message(LogLevel::kError, "python", msg);
  return Status(ErrorCode::kInvalidOperation, msg);
}

// The Python calls both adapters make, with the GIL held by the caller.
Status py_lookup(PySM& sm, std::string_view q, std::string* a) {
  try {
    py::object v = sm.obj.attr("lookup")(py::bytes(q.data(), q.size()));
    if (!result_data(py::isinstance<py::bytes>(v) ? v : py::str(v), a)) {  // e.g. a lone surrogate
      return Status(ErrorCode::kInvalidOperation, "lookup() returned text that is not valid Unicode");
    }
  } catch (py::error_already_set& e) {
    return py_failure("lookup()", e);
  }
  return Status::OK();
}

// Calls save(writer) with a Python view of `w` valid only during the call.
template <typename Save>
Status py_save(ISnapshotWriter* w, Save save) {
  PyWriter pw{w};
  py::object writer = py::cast(&pw, py::return_value_policy::reference);
  Status s = Status::OK();
  try {
    save(writer);
  } catch (py::error_already_set& e) {
    s = py_failure("save_snapshot()", e);
  }
  pw.w = nullptr;
  return s;
}

Status py_recover(PySM& sm, ISnapshotReader* r) {
  PyReader pr{r};
  py::object reader = py::cast(&pr, py::return_value_policy::reference);
  Status s = Status::OK();
  try {
    sm.obj.attr("recover_from_snapshot")(reader);
  } catch (py::error_already_set& e) {
    s = py_failure("recover_from_snapshot()", e);
  }
  pr.r = nullptr;
  return s;
}

// The state machine's get_hash() (the reference's IHash), when it has one.
bool py_hash(PySM& sm, uint64_t* out) {
  try {
    if (sm.closed || !py::hasattr(sm.obj, "get_hash")) return false;
    py::object v = sm.obj.attr("get_hash")();
    if (!result_value(v, out)) {
      // Reported as no hash (InvalidOperationError); the log says why.
      log_message(LogLevel::kError, "python",
                  std::string("get_hash() returned a value of type ") + Py_TYPE(v.ptr())->tp_name +
                      ", not an int in [0, 2**64)");
      return false;
    }
    return true;
  } catch (py::error_already_set& e) {
    (void)py_failure("get_hash()", e);
    return false;
  }
}

void py_close(PySM& sm) {
  sm.closed = true;
  try {
    if (py::hasattr(sm.obj, "close")) sm.obj.attr("close")();
  } catch (py::error_already_set& e) {
    (void)py_failure("close()", e);
  }
}

// A Python regular state machine is the engine's regular kind (so no update
// runs between a snapshot's index and the end of its save: the saved state
// is exactly the state at that index), with batched updates: one GIL
// acquisition per batch, the Python update() called per entry inside it.
class PyRegularAdapter : public IStateMachine {
 public:
  explicit PyRegularAdapter(std::shared_ptr<PySM> s) : s_(std::move(s)) {}
  Status update(std::string_view cmd, Result* result) override {
    SMEntry e;
    e.cmd = cmd;
    std::vector<SMEntry> one(1, e);
    Status s = batch_update(&one);
    *result = std::move(one[0].result);
    return s;
  }
  Status batch_update(std::vector<SMEntry>* entries) override {
    std::lock_guard<std::mutex> g(s_->mu);
    EngineGIL gil;
    try {
      py::object fn = s_->obj.attr("update");
      for (SMEntry& e : *entries) {
        Status s = to_result(fn(py::bytes(e.cmd.data(), e.cmd.size())), &e.result, "update()");
        if (!s.ok()) return s;
      }
    } catch (py::error_already_set& e) {
      return py_failure("update()", e);
    }
    return Status::OK();
  }
  Status lookup(std::string_view q, std::string* a) override {
    std::lock_guard<std::mutex> g(s_->mu);
    EngineGIL gil;
    return py_lookup(*s_, q, a);
  }
  Status save_snapshot(ISnapshotWriter* w) override {
    std::lock_guard<std::mutex> g(s_->mu);
    EngineGIL gil;
    return py_save(w, [&](const py::object& writer) { s_->obj.attr("save_snapshot")(writer); });
  }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    std::lock_guard<std::mutex> g(s_->mu);
    EngineGIL gil;
    return py_recover(*s_, r);
  }
  bool hash(uint64_t* out) override {
    std::lock_guard<std::mutex> g(s_->mu);
    EngineGIL gil;
    return py_hash(*s_, out);
  }
  void close() override {
    std::lock_guard<std::mutex> g(s_->mu);
    EngineGIL gil;
    py_close(*s_);
  }

 private:
  std::shared_ptr<PySM> s_;
};

// The concurrent and on-disk kinds: update() gets the whole batch as a list
// of dragonboat.statemachine.Entry objects (one GIL acquisition), lookups
// may run alongside updates (their concurrency is the state machine's
// business, as in the reference), and prepare_snapshot's Python context is
// kept for the save that follows (one snapshot operation at a time).
class PyBatchAdapter : public IConcurrentStateMachine, public IOnDiskStateMachine {
 public:
  explicit PyBatchAdapter(std::shared_ptr<PySM> s) : s_(std::move(s)) {}
  ~PyBatchAdapter() override {
    EngineGIL gil;
    ctx_ = py::object();
  }
  Status open(uint64_t* applied) override {
    EngineGIL gil;
    try {
      py::object v = s_->obj.attr("open")();
      if (!result_value(v, applied)) {
        std::string msg = std::string("open() returned a value of type ") + Py_TYPE(v.ptr())->tp_name +
                          ", not an index (an int in [0, 2**64))";
        log_message(LogLevel::kError, "python", msg);
        return Status(ErrorCode::kInvalidOperation, msg);
      }
    } catch (py::error_already_set& e) {
      return py_failure("open()", e);
    }
    return Status::OK();
  }
  Status update(std::vector<SMEntry>* entries) override {
    EngineGIL gil;
    try {
      py::object entry_cls = py::module_::import("dragonboat.statemachine").attr("Entry");
      py::list batch(entries->size());
      for (size_t i = 0; i < entries->size(); ++i) {
        const SMEntry& e = (*entries)[i];
        batch[i] = entry_cls(e.index, py::bytes(e.cmd.data(), e.cmd.size()));
      }
      s_->obj.attr("update")(batch);
      for (size_t i = 0; i < entries->size(); ++i) {
        Status s = to_result(batch[i].attr("result"), &(*entries)[i].result, "update() (an Entry.result)");
        if (!s.ok()) return s;
      }
    } catch (py::error_already_set& e) {
      return py_failure("update()", e);
    }
    return Status::OK();
  }
  Status lookup(std::string_view q, std::string* a) override {
    EngineGIL gil;
    return py_lookup(*s_, q, a);
  }
  Status sync() override {
    EngineGIL gil;
    try {
      if (py::hasattr(s_->obj, "sync")) s_->obj.attr("sync")();
    } catch (py::error_already_set& e) {
      return py_failure("sync()", e);
    }
    return Status::OK();
  }
  Status prepare_snapshot(std::string* ctx) override {
    ctx->clear();
    EngineGIL gil;
    try {
      ctx_ = s_->obj.attr("prepare_snapshot")();
    } catch (py::error_already_set& e) {
      return py_failure("prepare_snapshot()", e);
    }
    return Status::OK();
  }
  Status save_snapshot(const std::string&, ISnapshotWriter* w) override {
    EngineGIL gil;
    py::object ctx = std::move(ctx_);
    ctx_ = py::object();
    return py_save(w, [&](const py::object& writer) { s_->obj.attr("save_snapshot")(ctx, writer); });
  }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    EngineGIL gil;
    return py_recover(*s_, r);
  }
  bool hash(uint64_t* out) override {
    EngineGIL gil;
    return py_hash(*s_, out);
  }
  void close() override {
    EngineGIL gil;
    py_close(*s_);
  }

 private:
  std::shared_ptr<PySM> s_;
  py::object ctx_;
};

// ---- C++ plugins --------------------------------------------------------------------

using PluginVersionFn = uint32_t (*)();
using PluginCreateFn = void* (*)(uint64_t, uint64_t, uint32_t*);

// Loaded plugins stay loaded for the process: state machines made by them
// may outlive any one NodeHost.
PluginCreateFn load_plugin(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, PluginCreateFn> loaded;
  std::lock_guard<std::mutex> g(mu);
  auto it = loaded.find(path);
  if (it != loaded.end()) return it->second;
  void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) throw StatusError{"invalid_operation", std::string("cannot load plugin: ") + ::dlerror()};
  auto version = reinterpret_cast<PluginVersionFn>(::dlsym(h, "dragonboat_plugin_abi_version"));
  auto create = reinterpret_cast<PluginCreateFn>(::dlsym(h, "dragonboat_create_state_machine"));
  if (!version || !create) {
    ::dlclose(h);
    throw StatusError{"invalid_operation", "plugin " + path +
                                               " does not export dragonboat_plugin_abi_version and "
                                               "dragonboat_create_state_machine (use DRAGONBOAT_PLUGIN)"};
  }
  if (version() != kPluginABIVersion) {
    uint32_t v = version();
    ::dlclose(h);
    throw StatusError{"invalid_operation", "plugin " + path + " was built for plugin ABI " + std::to_string(v) +
                                               ", this library implements " + std::to_string(kPluginABIVersion)};
  }
  loaded[path] = create;
  return create;
}

// ---- the NodeHost handle ---------------------------------------------------------

struct PyNodeHost {
  ~PyNodeHost() { stop(); }
  // Stops the engine. Engine threads may need the GIL to finish (state
  // machines, listeners): the engine is never stopped while holding it.
  // REQUIRES: the GIL is held. Idempotent.
  void stop() {
    std::unique_ptr<NodeHost> stopping;
    {
      std::lock_guard<std::mutex> g(mu);
      stopping = std::move(nh);
    }
    if (stopping) {
      py::gil_scoped_release nogil;
      stopping.reset();  // stops groups, transport, threads
    }
    std::lock_guard<std::mutex> g(mu);
    sms.clear();
  }
  std::unique_ptr<NodeHost> nh;
  std::mutex mu;
  std::map<uint64_t, std::shared_ptr<PySM>> sms;  // cluster ID -> Python state machine
  std::set<uint64_t> native;                      // clusters run by a C++ plugin

  NodeHost& host() {
    if (!nh) throw StatusError{"system_stopped", "the NodeHost is stopped"};
    return *nh;
  }
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
  py::object lookup(uint64_t cluster_id, const py::object& query) {
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
      check_nogil([&] { return host().stale_read(cluster_id, q, &answer); });
      return py::bytes(answer);
    }
    // The engine's view first: a stopped, failed or witness replica is not
    // read (its Python object may be closed or absent).
    check(host().check_local_read(cluster_id));
    std::shared_ptr<PySM> s = sm(cluster_id);
    std::unique_lock<std::mutex> g(s->mu, std::defer_lock);
    if (s->exclusive) {
      py::gil_scoped_release nogil;
      g.lock();
    }
    if (s->closed) throw StatusError{"cluster_closed", "the replica of cluster " + std::to_string(cluster_id) + " stopped"};
    return s->obj.attr("lookup")(query);
  }
};

NodeHostConfig host_config(const py::object& c) {
  NodeHostConfig o;
  o.deployment_id = c.attr("deployment_id").cast<uint64_t>();
  o.wal_dir = c.attr("wal_dir").cast<std::string>();
  o.node_host_dir = c.attr("node_host_dir").cast<std::string>();
  o.rtt_millisecond = c.attr("rtt_millisecond").cast<uint64_t>();
  o.raft_address = c.attr("raft_address").cast<std::string>();
  o.listen_address = c.attr("listen_address").cast<std::string>();
  o.mutual_tls = c.attr("mutual_tls").cast<bool>();
  o.ca_file = c.attr("ca_file").cast<std::string>();
  o.cert_file = c.attr("cert_file").cast<std::string>();
  o.key_file = c.attr("key_file").cast<std::string>();
  o.max_send_queue_size = c.attr("max_send_queue_size").cast<uint64_t>();
  o.max_receive_queue_size = c.attr("max_receive_queue_size").cast<uint64_t>();
  o.max_proposal_payload_size = c.attr("max_proposal_payload_size").cast<uint64_t>();
  o.notify_commit = c.attr("notify_commit").cast<bool>();
  o.logdb_shards = c.attr("logdb_shards").cast<uint64_t>();
  o.apply_workers = c.attr("apply_workers").cast<uint64_t>();
  o.max_snapshot_send_bytes_per_second = c.attr("max_snapshot_send_bytes_per_second").cast<uint64_t>();
  o.max_snapshot_recv_bytes_per_second = c.attr("max_snapshot_recv_bytes_per_second").cast<uint64_t>();
  return o;
}

Config raft_config(const py::object& c) {
  Config o;
  o.node_id = c.attr("node_id").cast<uint64_t>();
  o.cluster_id = c.attr("cluster_id").cast<uint64_t>();
  o.check_quorum = c.attr("check_quorum").cast<bool>();
  o.election_rtt = c.attr("election_rtt").cast<uint64_t>();
  o.heartbeat_rtt = c.attr("heartbeat_rtt").cast<uint64_t>();
  o.snapshot_entries = c.attr("snapshot_entries").cast<uint64_t>();
  o.compaction_overhead = c.attr("compaction_overhead").cast<uint64_t>();
  o.ordered_config_change = c.attr("ordered_config_change").cast<bool>();
  o.max_in_mem_log_size = c.attr("max_in_mem_log_size").cast<uint64_t>();
  o.disable_auto_compactions = c.attr("disable_auto_compactions").cast<bool>();
  o.is_observer = c.attr("is_observer").cast<bool>();
  o.is_witness = c.attr("is_witness").cast<bool>();
  o.quiesce = c.attr("quiesce").cast<bool>();
  return o;
}

// dragonboat.statemachine.Result, made from C++ (the class is looked up once;
// pybind11's call-once store avoids the GIL/static-init deadlock).
py::object make_py_result(const Result& r) {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> cls;
  auto& result_class = cls.call_once_and_store_result([] {
                             return py::module_::import("dragonboat.statemachine").attr("Result");
                           }).get_stored();
  return result_class(r.value, py::bytes(r.data));
}

// RequestResult::raise_for_outcome: the exception of a non-completed outcome.
void raise_for_outcome(const RequestResult& r) {
  switch (r.code) {
    case RequestResultCode::kCompleted: return;
    case RequestResultCode::kTimeout: throw StatusError{"timeout", "request timeout"};
    case RequestResultCode::kTerminated: throw StatusError{"cluster_closed", "request terminated"};
    case RequestResultCode::kRejected: throw StatusError{"rejected", "request rejected"};
    case RequestResultCode::kDropped: throw StatusError{"cluster_not_ready", "request dropped"};
    case RequestResultCode::kAborted: throw StatusError{"canceled", "request aborted"};
  }
}

// ---- queues drained under the GIL ----------------------------------------------
// Engine threads may hold engine locks, so they never wait for the GIL: what
// they hand to Python (log lines, completions) is queued, and one thread of
// the queue's own, holding no engine lock, drains every waiting item under
// ONE GIL acquisition (one per item made every completion wait for a
// contended GIL hand-off). Queues live for the process (never destroyed:
// their thread may outlive the interpreter's finalization).
template <typename Item>
class GilBatchQueue {
 public:
  using Drain = std::function<void(std::vector<Item>&)>;  // called with the GIL held
  // Starts the draining thread (construct from a Python thread, at module
  // initialisation: a failure to start is an import error, never an engine
  // thread's problem).
  GilBatchQueue(const char* thread_name, size_t bound, Drain drain)
      : name_(thread_name), bound_(bound), drain_(std::move(drain)) {
    std::thread([this] {
      set_thread_name(name_);
      loop();
    }).detach();
  }
  // Queues `item`; false when dropped (the queue is at its bound).
  bool push(Item item) {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (queue_.size() >= bound_) return false;
      queue_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }

 private:
  void loop() {
    std::vector<Item> batch;
    for (;;) {
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [&] { return !queue_.empty(); });
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
        queue_.clear();
      }
      if (!Py_IsInitialized()) {
        // The interpreter is gone: nothing to call, and Python objects in
        // the items must not be released without it (they are leaked).
        for (Item& it : batch) new Item(std::move(it));
        batch.clear();
        continue;
      }
      EngineGIL gil;
      drain_(batch);
      batch.clear();  // Python objects released with the GIL held
    }
  }
  const std::string name_;
  const size_t bound_;
  const Drain drain_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
};

// C++ log lines -> logging.getLogger("dragonboat"), with their levels.
struct LogLine {
  LogLevel level;
  std::string text;
};

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

// RequestState callbacks registered from Python, called on the dispatcher
// thread ("db-py-done") with the request's RequestResult.
struct Completion {
  std::shared_ptr<py::function> fn;
  RequestResult result;
};

// Created at module initialisation (register_nodehost), on a Python thread.
GilBatchQueue<Completion>& completion_queue() {
  static auto* completions = new GilBatchQueue<Completion>(
      "py-done", SIZE_MAX, [](std::vector<Completion>& batch) {
        for (Completion& c : batch) {
          try {
            (*c.fn)(c.result);
          } catch (py::error_already_set& e) {
            log_message(LogLevel::kError, "python", std::string("completion callback raised ") + e.what());
          }
          // The RequestState's own copy of the holder may be dropped later on
          // an engine thread: empty the function now, with the GIL held.
          *c.fn = py::function();
        }
      });
  return *completions;
}

void post_completion(std::shared_ptr<py::function> fn, const RequestResult& r) {
  (void)completion_queue().push({std::move(fn), r});
}

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

// Releases a Python object with the GIL held (shared_ptr deleter).
std::shared_ptr<py::object> py_shared(py::object o) {
  return std::shared_ptr<py::object>(new py::object(std::move(o)), [](py::object* p) {
    EngineGIL gil;
    delete p;
  });
}

}  // namespace

void register_nodehost(py::module_& m) {
  (void)completion_queue();  // its thread starts here, not on an engine thread
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      py::object cls = py::module_::import("dragonboat.errors").attr("error_class")(e.code);
      PyErr_SetObject(cls.ptr(), cls(e.message).ptr());
    }
  });

  py::class_<PyWriter>(m, "SnapshotWriter", "Binary, write-only stream into a snapshot.")
      .def("write", &PyWriter::write, py::arg("data"),
           "Appends bytes-like data (bytes, bytearray, memoryview); returns how many bytes.")
      .def("stopped", [](const PyWriter& w) { return w.w != nullptr && w.w->stopped(); },
           "True once the node is stopping: return early (the snapshot is discarded).");
  py::class_<PyReader>(m, "SnapshotReader", "Binary, read-only stream out of a snapshot.")
      .def("read", &PyReader::read, py::arg("n") = -1, "Reads up to n bytes (all with -1); b'' at the end.")
      .def("stopped", [](const PyReader& r) { return r.r != nullptr && r.r->stopped(); },
           "True once the node is stopping: return early.");

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
      .def("is_noop", &Session::is_noop, "Whether this is the no-op session (never deduplicated).")
      .def("proposal_completed", regular_only(&Session::proposal_completed, "proposal_completed"),
           "Call after a proposal completed, before the next one (not after a timeout: retry unchanged).")
      .def("prepare_for_register", regular_only(&Session::prepare_for_register, "prepare_for_register"),
           "Makes propose_session register this session.")
      .def("prepare_for_unregister", regular_only(&Session::prepare_for_unregister, "prepare_for_unregister"),
           "Makes propose_session unregister this session.")
      .def("prepare_for_propose", regular_only(&Session::prepare_for_propose, "prepare_for_propose"),
           "Call once propose_session registered this session: it is ready for proposals.");

  // A value type bound directly (not a dict wrapped in Python): completion
  // callbacks are the hottest Python path of a busy client.
  py::class_<RequestResult>(m, "RequestResult", "The outcome of a request (the reference's RequestResult).")
      .def_property_readonly("code", [](const RequestResult& r) { return request_result_code_name(r.code); },
                             "One of completed, timeout, terminated, rejected, dropped, aborted.")
      .def_readonly("snapshot_index", &RequestResult::snapshot_index,
                    "The snapshot's index (completed snapshot requests).")
      .def("completed", &RequestResult::completed, "Done; get_result() holds the state machine's result.")
      .def("timeout", &RequestResult::timeout, "The deadline passed first (the request may still be applied).")
      .def("terminated", &RequestResult::terminated, "The replica or the NodeHost stopped.")
      .def("rejected", &RequestResult::rejected,
           "The group refused it (e.g. an evicted session, a stale config change).")
      .def("dropped", &RequestResult::dropped, "Dropped (no leader, leader changed, busy): retry.")
      .def("aborted", &RequestResult::aborted, "Aborted.")
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
      .def("committed", &RequestState::committed)
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
      .def(
          "on_complete",
          [](RequestState& rs, py::function cb) {
            auto holder = std::make_shared<py::function>(std::move(cb));
            rs.on_complete([holder](const RequestResult& r) { post_completion(holder, r); });
          },
          py::arg("callback"), "Calls callback(RequestResult) once, on the completion dispatcher thread.");

  py::class_<PyNodeHost>(m, "NodeHost", "The engine's NodeHost (use dragonboat.NodeHost).")
      .def(py::init([](const py::object& cfg) {
             install_log_bridge();
             auto h = std::make_unique<PyNodeHost>();
             NodeHostConfig c = host_config(cfg);
             py::object rl = cfg.attr("raft_event_listener");
             if (!rl.is_none()) {
               auto l = std::make_shared<PyRaftListener>();
               l->obj = py_shared(rl);
               c.raft_event_listener = l;
             }
             py::object sl = cfg.attr("system_event_listener");
             if (!sl.is_none()) {
               auto l = std::make_shared<PySystemListener>();
               l->obj = py_shared(sl);
               c.system_event_listener = l;
             }
             check_nogil([&] { return NodeHost::create(c, &h->nh); });
             return h;
           }),
           py::arg("config"))
      .def("stop", &PyNodeHost::stop)
      .def("raft_address", [](PyNodeHost& h) { return h.host().raft_address(); })
      .def("logdb_shards", [](PyNodeHost& h) { return h.host().node_host_config().logdb_shards; },
           "The LogDB shard count in use (logdb_shards=0 resolved).")
      .def(
          "start_cluster",
          [](PyNodeHost& h, std::map<uint64_t, std::string> members, bool join, py::function factory,
             const py::object& cfg, const std::string& kind) {
            (void)h.host();  // a stopped NodeHost: SystemStoppedError, the factory is not called
            Config c = raft_config(cfg);
            auto state = std::make_shared<PySM>();
            state->obj = factory(c.cluster_id, c.node_id);
            if (state->obj.is_none()) throw StatusError{"invalid_cluster_settings", "the state machine factory returned None"};
            state->exclusive = kind == "regular";
            Status s;
            {
              py::gil_scoped_release nogil;
              if (kind == "regular") {
                s = h.host().start_cluster(
                    members, join,
                    [state](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> {
                      return std::make_unique<PyRegularAdapter>(state);
                    },
                    c);
              } else if (kind == "concurrent") {
                s = h.host().start_concurrent_cluster(
                    members, join,
                    [state](uint64_t, uint64_t) -> std::unique_ptr<IConcurrentStateMachine> {
                      return std::make_unique<PyBatchAdapter>(state);
                    },
                    c);
              } else {
                s = h.host().start_on_disk_cluster(
                    members, join,
                    [state](uint64_t, uint64_t) -> std::unique_ptr<IOnDiskStateMachine> {
                      return std::make_unique<PyBatchAdapter>(state);
                    },
                    c);
              }
            }
            check(s);
            std::lock_guard<std::mutex> g(h.mu);
            h.sms[c.cluster_id] = state;  // the start is authoritative: this kind, this object
            h.native.erase(c.cluster_id);
          },
          py::arg("initial_members"), py::arg("join"), py::arg("factory"), py::arg("config"),
          py::arg("kind") = "regular")
      .def(
          "start_plugin_cluster",
          [](PyNodeHost& h, std::map<uint64_t, std::string> members, bool join, const std::string& path,
             const py::object& cfg) {
            (void)h.host();  // a stopped NodeHost: SystemStoppedError, nothing loaded
            Config c = raft_config(cfg);
            PluginCreateFn create = load_plugin(path);
            Status s;
            {
              py::gil_scoped_release nogil;
              uint32_t kind = 0;
              void* sm = create(c.cluster_id, c.node_id, &kind);
              // Owned here until start_* hands it to the engine (freed if it does not).
              if (!sm) {
                s = Status(ErrorCode::kInvalidOperation, "the plugin's factory returned null");
              } else if (kind == static_cast<uint32_t>(PluginKind::kRegular)) {
                auto held = std::make_shared<std::unique_ptr<IStateMachine>>(static_cast<IStateMachine*>(sm));
                s = h.host().start_cluster(members, join, [held](uint64_t, uint64_t) { return std::move(*held); }, c);
              } else if (kind == static_cast<uint32_t>(PluginKind::kConcurrent)) {
                auto held = std::make_shared<std::unique_ptr<IConcurrentStateMachine>>(
                    static_cast<IConcurrentStateMachine*>(sm));
                s = h.host().start_concurrent_cluster(members, join,
                                                      [held](uint64_t, uint64_t) { return std::move(*held); }, c);
              } else if (kind == static_cast<uint32_t>(PluginKind::kOnDisk)) {
                auto held =
                    std::make_shared<std::unique_ptr<IOnDiskStateMachine>>(static_cast<IOnDiskStateMachine*>(sm));
                s = h.host().start_on_disk_cluster(members, join,
                                                   [held](uint64_t, uint64_t) { return std::move(*held); }, c);
              } else {
                s = Status(ErrorCode::kInvalidOperation, "the plugin reported unknown kind " + std::to_string(kind));
              }
            }
            check(s);
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
             h.stop_and_forget(cluster_id, [&] { return h.host().stop_cluster(cluster_id); });
           })
      .def("get_noop_session", [](PyNodeHost& h, uint64_t c) { return h.host().get_noop_session(c); })
      .def("propose",
           [](PyNodeHost& h, const Session& s, const py::bytes& cmd, double timeout) {
             // Never blocks (it queues the proposal and wakes a worker), so the
             // GIL is kept: releasing and re-taking it per call would make
             // every proposal wait for a contended GIL hand-off.
             std::string_view v = cmd;
             RequestStatePtr rs;
             check(h.host().propose(s, v, to_timeout(timeout), &rs));
             return rs;
           })
      .def("propose_session",
           [](PyNodeHost& h, const Session& s, double timeout) {
             RequestStatePtr rs;
             check_nogil([&] { return h.host().propose_session(s, to_timeout(timeout), &rs); });
             return rs;
           })
      .def("sync_get_session",
           [](PyNodeHost& h, uint64_t c, double timeout) {
             Session out;
             check_nogil([&] { return h.host().sync_get_session(c, to_timeout(timeout), &out); });
             return out;
           })
      .def("sync_close_session",
           [](PyNodeHost& h, const Session& s, double timeout) {
             check_nogil([&] { return h.host().sync_close_session(s, to_timeout(timeout)); });
           })
      .def("read_index",
           [](PyNodeHost& h, uint64_t c, double timeout) {
             RequestStatePtr rs;  // queues only: the GIL is kept (see propose)
             check(h.host().read_index(c, to_timeout(timeout), &rs));
             return rs;
           })
      .def("lookup", [](PyNodeHost& h, uint64_t c, const py::object& q) { return h.lookup(c, q); },
           "Queries the Python state machine of cluster c (mutex, then GIL).")
      .def("get_leader_id",
           [](PyNodeHost& h, uint64_t c) {
             uint64_t id = 0;
             bool valid = false;
             check(h.host().get_leader_id(c, &id, &valid));
             return py::make_tuple(id, valid);
           })
      .def("membership_change",
           [](PyNodeHost& h, const std::string& kind, uint64_t c, uint64_t node, const std::string& address,
              uint64_t ccid, double timeout) {
             RequestStatePtr rs;
             Status st;
             Timeout t = to_timeout(timeout);
             {
               py::gil_scoped_release nogil;
               if (kind == "node") st = h.host().request_add_node(c, node, address, ccid, t, &rs);
               else if (kind == "observer") st = h.host().request_add_observer(c, node, address, ccid, t, &rs);
               else if (kind == "witness") st = h.host().request_add_witness(c, node, address, ccid, t, &rs);
               else st = h.host().request_delete_node(c, node, ccid, t, &rs);
             }
             check(st);
             return rs;
           })
      .def("sync_get_cluster_membership",
           [](PyNodeHost& h, uint64_t c, double timeout) {
             Membership m;
             check_nogil([&] { return h.host().sync_get_cluster_membership(c, to_timeout(timeout), &m); });
             py::dict d;
             d["config_change_id"] = m.config_change_id;
             d["nodes"] = m.nodes;
             d["observers"] = m.observers;
             d["witnesses"] = m.witnesses;
             d["removed"] = m.removed;
             return d;
           })
      .def("request_leader_transfer",
           [](PyNodeHost& h, uint64_t c, uint64_t target) { check(h.host().request_leader_transfer(c, target)); })
      .def("request_snapshot",
           [](PyNodeHost& h, uint64_t c, bool exported, const std::string& path, bool override_overhead,
              uint64_t overhead, double timeout) {
             SnapshotOption o;
             o.exported = exported;
             o.export_path = path;
             o.override_compaction_overhead = override_overhead;
             o.compaction_overhead = overhead;
             RequestStatePtr rs;
             check_nogil([&] { return h.host().request_snapshot(c, o, to_timeout(timeout), &rs); });
             return rs;
           })
      .def("has_node_info", [](PyNodeHost& h, uint64_t c, uint64_t n) { return h.host().has_node_info(c, n); })
      .def("get_hash",
           [](PyNodeHost& h, uint64_t c) {
             uint64_t v = 0;
             check_nogil([&] { return h.host().get_hash(c, &v); });  // may wait for a batch to apply
             return v;
           })
      .def("stop_node",
           [](PyNodeHost& h, uint64_t c, uint64_t n) {
             h.stop_and_forget(c, [&] { return h.host().stop_node(c, n); });
           })
      .def("remove_data",
           [](PyNodeHost& h, uint64_t c, uint64_t n) {
             check_nogil([&] { return h.host().remove_data(c, n); });
           })
      .def("request_compaction",
           [](PyNodeHost& h, uint64_t c, uint64_t n) {
             RequestStatePtr rs;
             check(h.host().request_compaction(c, n, &rs));
             return rs;
           })
      .def("node_host_info",
           [](PyNodeHost& h, bool skip_log_info) {
             NodeHostInfoOption o;
             o.skip_log_info = skip_log_info;
             NodeHostInfo info;
             {
               py::gil_scoped_release nogil;
               info = h.host().get_node_host_info(o);
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
      .def("health_metrics", [](PyNodeHost& h) {
        std::ostringstream out;
        h.host().write_health_metrics(out);
        return out.str();
      });
}
