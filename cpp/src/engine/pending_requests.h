// engine/pending_requests.h — the requests of one node that wait for the
// log (proposals, config changes) or a ReadIndex round, keyed by proposal
// key or read context, with deadlines counted in logical ticks.
//
// Bounded (backpressure: kSystemBusy when full). Every request completes
// exactly once: by the apply path, by expiry (kTimeout), or in bulk when the
// node stops (kTerminated) or loses leadership (kDropped).
// Thread-safety: thread-safe; RequestState callbacks run outside the lock.
#pragma once

#include <cstdint>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "common/thread_annotations.h"
#include "dragonboat/request_state.h"
#include "dragonboat/status.h"
#include "engine/block_pool.h"

namespace dragonboat::engine {

// The session fields of a proposal. An applied entry completes a pending
// request only when its key AND these match: keys are random per start of a
// replica (Node::open), and the tag is a second guard against an entry of
// another life or another node completing the wrong request.
struct RequestTag {
  uint64_t client_id = 0;
  uint64_t series_id = 0;
  bool operator==(const RequestTag& o) const {
    return std::tie(client_id, series_id) == std::tie(o.client_id, o.series_id);
  }
};

class PendingRequests {
 public:
  explicit PendingRequests(size_t max_pending, uint64_t cluster_id = 0)
      : max_(max_pending), cluster_id_(cluster_id) {}
  // Completes what is still pending with kTerminated: every RequestState made
  // here completes exactly once (the Python binding's callbacks rely on it).
  // A safety net: a node completes its tables when it stops, before it is
  // destroyed, so callbacks never run from here in the engine's own use.
  ~PendingRequests() { complete_all(RequestResultCode::kTerminated); }
  PendingRequests(const PendingRequests&) = delete;
  PendingRequests& operator=(const PendingRequests&) = delete;

  // Registers a request expiring at `deadline_tick`. kSystemBusy when
  // max_pending requests are already waiting; kInvalidOperation for a key
  // already pending.
  Status add(uint64_t key, uint64_t deadline_tick, RequestStatePtr* out, RequestTag tag = {});
  // Completes and forgets the request; false when the key is not pending
  // (completed already, expired, or never added).
  bool complete(uint64_t key, RequestResultCode code, Result result = {}, uint64_t snapshot_index = 0);
  // complete() for the entry that carried `key` and `tag`: a request added
  // with another tag stays pending (false).
  bool complete_entry(uint64_t key, const RequestTag& tag, RequestResultCode code, Result result = {});
  // Marks the request committed (RequestState::set_committed) if pending
  // with this tag.
  void notify_committed(uint64_t key, const RequestTag& tag = {});
  // Completes with kTimeout every request whose deadline <= now_tick.
  size_t expire(uint64_t now_tick);
  // Completes every pending request with `code`.
  size_t complete_all(RequestResultCode code);
  size_t size() const;
  // size() without taking the lock (may be momentarily stale), for the tick
  // thread's idle check. Sequentially consistent: the tick thread's active
  // set (Node::sleep_if_idle) relies on it.
  size_t approx_size() const { return count_.load(std::memory_order_seq_cst); }

 private:
  size_t max_;
  uint64_t cluster_id_;
  mutable std::mutex mu_;
  // The nodes of both containers (inserted by client threads, erased by the
  // apply side) are recycled through pool_, under mu_; declared first, so it
  // outlives them. Trimmed to a few blocks whenever the table empties: an
  // idle group keeps almost none, a one-at-a-time client still reuses them.
  BlockPool pool_{256};
  template <typename T>
  using Alloc = PoolAllocator<T>;
  using Deadlines = std::multimap<uint64_t, uint64_t, std::less<uint64_t>,
                                  Alloc<std::pair<const uint64_t, uint64_t>>>;  // deadline tick -> key
  struct Pending {
    RequestStatePtr state;
    RequestTag tag;
    // Its entry in by_deadline_ (multimap iterators stay valid until erased):
    // completing a request is O(log n) even when thousands share a deadline
    // tick, as a burst of proposals made in one tick does.
    Deadlines::iterator deadline;
  };
  std::unordered_map<uint64_t, Pending, std::hash<uint64_t>, std::equal_to<uint64_t>,
                     Alloc<std::pair<const uint64_t, Pending>>>
      by_key_{0, Alloc<std::pair<const uint64_t, Pending>>(&pool_)};
  std::atomic<size_t> count_{0};  // by_key_.size(), readable without mu_
  Deadlines by_deadline_{Alloc<std::pair<const uint64_t, uint64_t>>(&pool_)};
  // After an erase: publishes the size, and trims the pool once nothing is
  // pending.
  void erased() DB_REQUIRES(mu_);
};

}  // namespace dragonboat::engine
