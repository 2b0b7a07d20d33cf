#include "engine/pending_requests.h"

#include <utility>
#include <vector>

#include "common/recycled_blocks.h"

namespace dragonboat::engine {

Status PendingRequests::add(uint64_t key, uint64_t deadline_tick, RequestStatePtr* out, RequestTag tag) {
  std::lock_guard<std::mutex> g(mu_);
  if (by_key_.size() >= max_) return Status(ErrorCode::kSystemBusy, "too many pending requests");
  if (by_key_.count(key)) return Status(ErrorCode::kInvalidOperation, "request key already pending");
  // Recycled blocks: the apply worker usually frees what the client's thread
  // allocates here (common/recycled_blocks.h).
  auto st = std::allocate_shared<RequestState>(RecyclingAllocator<RequestState>(), key, cluster_id_);
  // Requests come with non-decreasing deadlines (one timeout, a clock that
  // only advances): hinted at the end, the insert is O(1) instead of a walk
  // down a tree of thousands.
  auto it = by_key_.emplace(key, Pending{std::move(st), tag, by_deadline_.emplace_hint(by_deadline_.end(), deadline_tick, key)})
                .first;
  count_.store(by_key_.size(), std::memory_order_seq_cst);
  *out = it->second.state;
  return Status::OK();
}

bool PendingRequests::complete(uint64_t key, RequestResultCode code, Result result, uint64_t snapshot_index) {
  RequestStatePtr st;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return false;
    st = std::move(it->second.state);
    by_deadline_.erase(it->second.deadline);
    by_key_.erase(it);
    erased();
  }
  return st->complete(code, std::move(result), snapshot_index);
}

bool PendingRequests::complete_entry(uint64_t key, const RequestTag& tag, RequestResultCode code, Result result) {
  RequestStatePtr st;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = by_key_.find(key);
    if (it == by_key_.end() || !(it->second.tag == tag)) return false;
    st = std::move(it->second.state);
    by_deadline_.erase(it->second.deadline);
    by_key_.erase(it);
    erased();
  }
  return st->complete(code, std::move(result));
}

void PendingRequests::notify_committed(uint64_t key, const RequestTag& tag) {
  RequestStatePtr st;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = by_key_.find(key);
    if (it == by_key_.end() || !(it->second.tag == tag)) return;
    st = it->second.state;
  }
  st->set_committed();
}

size_t PendingRequests::expire(uint64_t now_tick) {
  std::vector<RequestStatePtr> expired;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto end = by_deadline_.upper_bound(now_tick);
    for (auto d = by_deadline_.begin(); d != end; ++d) {
      auto it = by_key_.find(d->second);
      expired.push_back(it->second.state);
      by_key_.erase(it);
    }
    by_deadline_.erase(by_deadline_.begin(), end);
    erased();
  }
  for (auto& st : expired) st->complete(RequestResultCode::kTimeout);
  return expired.size();
}

size_t PendingRequests::complete_all(RequestResultCode code) {
  std::vector<RequestStatePtr> all;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& [k, p] : by_key_) all.push_back(p.state);
    by_key_.clear();
    by_deadline_.clear();
    erased();
  }
  for (auto& st : all) st->complete(code);
  return all.size();
}

void PendingRequests::erased() {
  count_.store(by_key_.size(), std::memory_order_seq_cst);
  if (by_key_.empty()) pool_.trim(8);
}

size_t PendingRequests::size() const {
  std::lock_guard<std::mutex> g(mu_);
  return by_key_.size();
}

}  // namespace dragonboat::engine
