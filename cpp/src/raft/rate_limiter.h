// raft/rate_limiter.h — bounds the bytes of entries held in memory and not
// yet applied (the reference's MaxInMemLogSize). The leader combines its own
// figure with the latest reports of its followers; a follower's report
// expires after a few election timeouts so a dead follower cannot block
// the group forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>

namespace dragonboat::raft {

class RateLimiter {
 public:
  explicit RateLimiter(uint64_t max_bytes) : max_(max_bytes) {}

  bool enabled() const { return max_ > 0; }
  // Over the limit. Hysteresis: once limited, stays so until below 70%.
  bool limited();

  // Own in-memory log accounting, by entry index.
  void on_append(uint64_t first_index, const uint64_t* sizes, size_t n);
  void on_applied(uint64_t index);  // entries <= index are applied
  void reset(uint64_t next_index);  // snapshot restore: nothing held
  uint64_t own_bytes() const { return own_; }

  void tick() { ++tick_; }
  void set_follower(uint64_t node_id, uint64_t bytes) { followers_[node_id] = {bytes, tick_}; }
  void clear_followers() { followers_.clear(); }
  // Ticks after which a follower report is ignored.
  void set_expiry(uint64_t ticks) { expiry_ = ticks; }

 private:
  uint64_t max_;
  uint64_t own_ = 0;
  uint64_t base_ = 1;             // index of sizes_[0]
  std::deque<uint64_t> sizes_;    // sizes of entries > applied
  struct Report { uint64_t bytes; uint64_t at; };
  std::map<uint64_t, Report> followers_;
  uint64_t tick_ = 0;
  uint64_t expiry_ = 30;
  bool limited_ = false;
};

}  // namespace dragonboat::raft
