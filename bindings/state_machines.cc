// bindings/state_machines.cc — see state_machines.h.
#include "state_machines.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dragonboat/logger.h"
#include "errors.h"

namespace dragonboat::bindings {

namespace {

// Snapshot streams as Python file-like objects, valid during one call.
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

// save_snapshot's `files` (dragonboat.SnapshotFileCollection).
struct PyFiles {
  ISnapshotWriter* w = nullptr;
  void add_file(uint64_t file_id, const std::string& path, const py::bytes& metadata) {
    if (!w) throw py::value_error("the file collection is closed (used after save_snapshot returned)");
    std::string meta = metadata;
    check_nogil([&] { return w->add_file(file_id, path, meta); });
  }
};

// How many parameters a bound method takes (0 when it has no signature to
// read): the optional trailing parameters (open's `stopped`, the snapshot
// methods' `files`) are passed only to methods that declare them.
size_t param_count(const py::object& fn) {
  try {
    return py::len(py::module_::import("inspect").attr("signature")(fn).attr("parameters"));
  } catch (py::error_already_set&) {
    return 0;
  }
}

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

}  // namespace

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

namespace {

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

// Calls the state machine's save_snapshot(*leading, writer[, files]) with
// Python views of `w` valid only during the call; `files` goes to a method
// that declares it.
Status py_save(PySM& sm, ISnapshotWriter* w, const std::vector<py::object>& leading) {
  PyWriter pw{w};
  PyFiles pf{w};
  py::object writer = py::cast(&pw, py::return_value_policy::reference);
  py::object files = py::cast(&pf, py::return_value_policy::reference);
  Status s = Status::OK();
  try {
    py::object fn = sm.obj.attr("save_snapshot");
    py::list args;
    for (const py::object& a : leading) args.append(a);
    args.append(writer);
    if (param_count(fn) > args.size()) args.append(files);
    fn(*py::tuple(args));
  } catch (py::error_already_set& e) {
    // SnapshotAbortedError abandons this save only; anything else stops the replica.
    if (e.matches(py::module_::import("dragonboat.errors").attr("SnapshotAbortedError"))) {
      s = Status(ErrorCode::kSnapshotAborted, std::string("save_snapshot() raised ") + e.what());
    } else {
      s = py_failure("save_snapshot()", e);
    }
  }
  pw.w = nullptr;
  pf.w = nullptr;
  return s;
}

// Calls recover_from_snapshot(reader[, files]); `files` (a list of
// dragonboat.SnapshotFile) goes to a method that declares it.
Status py_recover(PySM& sm, ISnapshotReader* r) {
  PyReader pr{r};
  py::object reader = py::cast(&pr, py::return_value_policy::reference);
  Status s = Status::OK();
  try {
    py::object fn = sm.obj.attr("recover_from_snapshot");
    if (param_count(fn) > 1) {
      py::object file_cls = py::module_::import("dragonboat.statemachine").attr("SnapshotFile");
      py::list files;
      for (const SnapshotFile& f : r->files()) files.append(file_cls(f.file_id, f.filepath, py::bytes(f.metadata)));
      fn(reader, files);
    } else {
      fn(reader);
    }
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
    return py_save(*s_, w, {});
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
  Status open(const StopSignal& stop, uint64_t* applied) override {
    EngineGIL gil;
    // open(stopped) gets a callable valid during the call only; an open()
    // without the parameter (written before it existed) is called without.
    auto signal = std::make_shared<const StopSignal*>(&stop);
    py::cpp_function stopped(
        [signal]() {
          if (!*signal) throw std::runtime_error("stopped() is valid only during open()");
          return (*signal)->stopped();
        },
        py::doc("True once the NodeHost is stopping: give up by raising OpenStoppedError."));
    struct Expire {
      std::shared_ptr<const StopSignal*> s;
      ~Expire() { *s = nullptr; }
    } expire{signal};
    try {
      py::object fn = s_->obj.attr("open");
      py::object v = param_count(fn) > 0 ? fn(stopped) : fn();
      if (!result_value(v, applied)) {
        std::string msg = std::string("open() returned a value of type ") + Py_TYPE(v.ptr())->tp_name +
                          ", not an index (an int in [0, 2**64))";
        log_message(LogLevel::kError, "python", msg);
        return Status(ErrorCode::kInvalidOperation, msg);
      }
    } catch (py::error_already_set& e) {
      if (e.matches(py::module_::import("dragonboat.errors").attr("OpenStoppedError"))) {
        return Status(ErrorCode::kOpenStopped, std::string("open() raised ") + e.what());
      }
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
    return py_save(*s_, w, {ctx});
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

}  // namespace

namespace {
// Starts the group through `start` (one of NodeHost's three) with a factory
// wrapping `sm` in the adapter A for the engine's interface I.
template <typename I, typename A, typename Start>
Status start_adapted(NodeHost* nh, Start start, const std::map<uint64_t, std::string>& members, bool join,
                     const std::shared_ptr<PySM>& sm, const Config& config) {
  return (nh->*start)(members, join, [sm](uint64_t, uint64_t) -> std::unique_ptr<I> { return std::make_unique<A>(sm); },
                      config);
}
}  // namespace

Status start_python_cluster(NodeHost* nh, const std::map<uint64_t, std::string>& initial_members, bool join,
                            std::shared_ptr<PySM> sm, StateMachineType type, const Config& config) {
  switch (type) {
    case StateMachineType::kRegular:
      return start_adapted<IStateMachine, PyRegularAdapter>(nh, &NodeHost::start_cluster, initial_members, join, sm,
                                                            config);
    case StateMachineType::kConcurrent:
      return start_adapted<IConcurrentStateMachine, PyBatchAdapter>(nh, &NodeHost::start_concurrent_cluster,
                                                                    initial_members, join, sm, config);
    case StateMachineType::kOnDisk:
      return start_adapted<IOnDiskStateMachine, PyBatchAdapter>(nh, &NodeHost::start_on_disk_cluster, initial_members,
                                                                join, sm, config);
  }
  return Status(ErrorCode::kInvalidClusterSettings, "unknown state machine type");
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

void register_state_machines(py::module_& m) {
  py::enum_<StateMachineType>(m, "StateMachineType", "The three kinds of state machine.")
      .value("REGULAR", StateMachineType::kRegular)
      .value("CONCURRENT", StateMachineType::kConcurrent)
      .value("ON_DISK", StateMachineType::kOnDisk);
  py::class_<PyWriter>(m, "SnapshotWriter", "Binary, write-only stream into a snapshot.")
      .def("write", &PyWriter::write, py::arg("data"),
           "Appends bytes-like data (bytes, bytearray, memoryview); returns how many bytes.")
      .def("stopped", [](const PyWriter& w) { return w.w != nullptr && w.w->stopped(); },
           "True once the node is stopping: return early (the snapshot is discarded).");
  py::class_<PyReader>(m, "SnapshotReader", "Binary, read-only stream out of a snapshot.")
      .def("read", &PyReader::read, py::arg("n") = -1, "Reads up to n bytes (all with -1); b'' at the end.")
      .def("stopped", [](const PyReader& r) { return r.r != nullptr && r.r->stopped(); },
           "True once the node is stopping: return early.");
  py::class_<PyFiles>(m, "SnapshotFileCollection", "Where save_snapshot attaches external files.")
      .def("add_file", &PyFiles::add_file, py::arg("file_id"), py::arg("path"), py::arg("metadata") = py::bytes(),
           "Attaches the file at path under file_id: copied into the snapshot when the save returns.");
}

}  // namespace dragonboat::bindings
