#include "raft/read_index.h"

namespace dragonboat::raft {

void ReadIndexTracker::add(const ReadCtx& ctx, uint64_t index, uint64_t from) {
  if (pending_.count(ctx)) return;
  pending_[ctx] = Request{ctx, index, from, {}};
  queue_.push_back(ctx);
}

std::vector<ReadIndexTracker::Request> ReadIndexTracker::confirm(const ReadCtx& ctx, uint64_t from,
                                                                 uint64_t self, uint64_t quorum) {
  std::vector<Request> done;
  auto it = pending_.find(ctx);
  if (it == pending_.end()) return done;
  it->second.acks.insert(from);
  it->second.acks.insert(self);
  if (it->second.acks.size() < quorum) return done;
  // Confirmed: release this request and all queued before it, since the
  // quorum's ack of a later round also proves leadership at their arrival.
  while (!queue_.empty()) {
    ReadCtx c = queue_.front();
    queue_.pop_front();
    auto p = pending_.find(c);
    done.push_back(std::move(p->second));
    pending_.erase(p);
    if (c == ctx) break;
  }
  return done;
}

std::vector<ReadIndexTracker::Request> ReadIndexTracker::reset() {
  std::vector<Request> out;
  for (const auto& c : queue_) out.push_back(std::move(pending_[c]));
  pending_.clear();
  queue_.clear();
  return out;
}

}  // namespace dragonboat::raft
