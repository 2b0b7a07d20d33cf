// dragonboat/request_state.h — the outcome of an asynchronous request
// (proposal, read, membership change, snapshot), as in the reference's
// RequestState / RequestResult.
//
// A RequestState completes exactly once with one code; waiting (with a wall-
// clock bound) and callbacks both work, so the Python layer can bridge it to
// futures and asyncio. Request deadlines themselves are enforced by the
// engine in logical ticks (it completes the request with kTimeout).
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dragonboat/status.h"

namespace dragonboat {

// What applying an entry produced (the reference's sm.Result).
struct Result {
  uint64_t value = 0;
  std::string data;
  bool operator==(const Result& o) const { return value == o.value && data == o.data; }
};

enum class RequestResultCode : uint8_t {
  kTimeout,     // the deadline passed first (the request may still be applied)
  kCompleted,   // done; result/snapshot_index are meaningful
  kTerminated,  // the node or NodeHost stopped
  kRejected,    // refused by the group (e.g. stale config change, unknown session)
  kDropped,     // dropped (no leader, leader changed, busy): retry
  kAborted,     // aborted (e.g. a leader transfer or a snapshot request cancelled)
};

const char* request_result_code_name(RequestResultCode code);

struct RequestResult {
  RequestResultCode code = RequestResultCode::kTimeout;
  Result result;
  uint64_t snapshot_index = 0;
  bool timeout() const { return code == RequestResultCode::kTimeout; }
  bool completed() const { return code == RequestResultCode::kCompleted; }
  bool terminated() const { return code == RequestResultCode::kTerminated; }
  bool rejected() const { return code == RequestResultCode::kRejected; }
  bool dropped() const { return code == RequestResultCode::kDropped; }
  bool aborted() const { return code == RequestResultCode::kAborted; }
  // The outcome as a Status: OK when completed, otherwise its error
  // (kTimeout, kClusterClosed, kRejected, kClusterNotReady, kCanceled). The
  // one mapping: the sync_ calls and the Python package use it.
  Status status() const;
};

class RequestState {
 public:
  using Callback = std::function<void(const RequestResult&)>;

  explicit RequestState(uint64_t key = 0, uint64_t cluster_id = 0) : key_(key), cluster_id_(cluster_id) {}
  RequestState(const RequestState&) = delete;
  RequestState& operator=(const RequestState&) = delete;

  uint64_t key() const { return key_; }
  // The group the request went to (NodeHost::read_local_node uses it).
  uint64_t cluster_id() const { return cluster_id_; }

  // Completes the request; true for the first call, false (ignored) after.
  // Callbacks run on the calling thread, after the state is visible to
  // waiters, outside the internal lock.
  bool complete(RequestResultCode code, Result result = {}, uint64_t snapshot_index = 0);

  // Whether the request has completed (lock-free: cheap to poll).
  bool done() const;
  // Blocks up to `wait` for completion; false if still pending (the request
  // goes on; wait again or rely on the engine's own deadline).
  bool wait_for(std::chrono::milliseconds wait, RequestResult* out) const;
  // Blocks until completion.
  RequestResult wait() const;

  // Runs `cb` exactly once with the outcome: now if already complete (on this
  // thread), else on the completing thread. Callbacks run in the order they
  // were added; an empty `cb` is ignored.
  void on_complete(Callback cb);

  // With NodeHostConfig::notify_commit, a proposal is also marked committed
  // as soon as its entry is committed (before it is applied; the reference's
  // CommittedC). Without it, committed() turns true only with completion
  // (code kCompleted; never for the other outcomes).
  bool committed() const;
  // Blocks up to `wait` until marked committed or done (with any code);
  // false on timeout. Then committed() tells which.
  bool wait_committed(std::chrono::milliseconds wait) const;
  // Runs `cb` exactly once, with committed(), when the request is marked
  // committed or is done, whichever comes first: now if that already
  // happened (on this thread), else on the marking or completing thread,
  // outside the internal lock (at completion, before the on_complete
  // callbacks, also when the two race on different threads). The
  // non-blocking form of wait_committed. Callbacks run on engine threads:
  // keep them short, and never wait in one for the same request's
  // completion (its completion waits for the committed callbacks to return).
  using CommittedCallback = std::function<void(bool committed)>;
  void on_committed(CommittedCallback cb);
  // The engine: marks the request committed (idempotent).
  void set_committed();

 private:
  const uint64_t key_;
  const uint64_t cluster_id_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  // Held (before mu_) while set_committed or complete hands out callbacks, so
  // the committed mark's callbacks have all run before any completion
  // callback, even when the two race on different threads. Recursive: a
  // callback may call complete() on its own request (it returns false).
  std::recursive_mutex deliver_mu_;
  bool done_ = false;
  // done_, readable without mu_: done() is polled by busy-polling waiters
  // (NodeHostConfig::busy_poll_microseconds), which must not contend for
  // the lock the completing thread takes.
  std::atomic<bool> done_flag_{false};
  bool committed_ = false;
  RequestResult result_;
  // The first callback apart: nearly every request has exactly one, and it
  // then costs no allocation besides its own (a small callable has none).
  Callback first_callback_;
  std::vector<Callback> callbacks_;  // the second and later, in order
  std::vector<CommittedCallback> committed_callbacks_;  // until marked committed or done
};

using RequestStatePtr = std::shared_ptr<RequestState>;

}  // namespace dragonboat
