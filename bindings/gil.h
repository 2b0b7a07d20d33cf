// bindings/gil.h — taking the GIL from engine threads, and the queues that
// hand work from engine threads to Python.
//
// GIL policy: every call that can block or do engine work releases the GIL.
// Engine threads take the GIL only to run Python state machine code or a
// Python completion callback, and never while holding an engine lock: the
// state machine adapter takes its own mutex first, then the GIL, and the
// Python lookup path does the same (mutex, then GIL), so the two cannot
// deadlock. Python state machines get one GIL acquisition per applied batch.
#pragma once

#include <pthread.h>
#include <pybind11/pybind11.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dragonboat/nodehost.h"

namespace dragonboat::bindings {

namespace py = pybind11;

// Taking the GIL from an engine thread. pybind11 would create and destroy
// a Python thread state on every acquisition from a thread Python does not
// know; the first acquisition on each engine thread keeps its state for the
// thread's life instead (a small, bounded set of threads).
class EngineGIL {
 public:
  // `engine_code`: false on the bindings' own queue threads (completion
  // callbacks, log lines), which a NodeHost's stop does not wait for.
  explicit EngineGIL(bool engine_code = true) : counted_(engine_code) {
    thread_local bool kept = false;
    if (!kept) {
      gil_.inc_ref();
      kept = true;
    }
    if (counted_) ++depth();
  }
  ~EngineGIL() {
    if (counted_) --depth();
  }
  EngineGIL(const EngineGIL&) = delete;
  EngineGIL& operator=(const EngineGIL&) = delete;
  // Whether this thread is an engine thread running Python code right now (a
  // state machine, a listener): NodeHost.stop() there would wait for itself.
  static bool active() { return depth() > 0; }

 private:
  static int& depth() {
    thread_local int d = 0;
    return d;
  }
  bool counted_;
  py::gil_scoped_acquire gil_;
};

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
      // "db-<role>", as the engine names its threads (Linux keeps 15 bytes).
      ::pthread_setname_np(::pthread_self(), ("db-" + name_).substr(0, 15).c_str());
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
      EngineGIL gil(/*engine_code=*/false);  // a callback here may stop a NodeHost
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

// Routes the engine's log lines to logging.getLogger("dragonboat") (once).
void install_log_bridge();

// Starts the completion dispatcher thread (call at module initialisation,
// from a Python thread).
void start_completion_queue();

// Calls `fn(r)` on the completion dispatcher thread ("py-done"), under one
// GIL acquisition for every waiting completion. Takes over the reference
// `fn` owns (callable from any thread: no GIL needed); the dispatcher
// releases it after the call, with the GIL held.
void post_completion(PyObject* fn, const RequestResult& r);

// Calls `fn(committed)` on the same thread and queue (RequestState::on_committed;
// queued before the request's completions, so it runs before them). Takes
// over `fn`'s reference as post_completion does.
void post_committed(PyObject* fn, bool committed);

// A Python object in a shared_ptr whose deleter takes the GIL (engine
// threads may drop the last reference).
std::shared_ptr<py::object> py_shared(py::object o);

}  // namespace dragonboat::bindings
