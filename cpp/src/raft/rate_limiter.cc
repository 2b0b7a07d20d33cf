#include "raft/rate_limiter.h"

#include <algorithm>

namespace dragonboat::raft {

bool RateLimiter::limited() {
  if (!enabled()) return false;
  uint64_t worst = own_;
  for (const auto& [id, r] : followers_) {
    if (tick_ - r.at <= expiry_) worst = std::max(worst, r.bytes);
  }
  if (limited_) {
    limited_ = worst * 10 >= max_ * 7;
  } else {
    limited_ = worst > max_;
  }
  return limited_;
}

void RateLimiter::on_append(uint64_t first_index, const uint64_t* sizes, size_t n) {
  if (!enabled() || n == 0) return;
  if (first_index < base_) {
    // Entries below base_ were already applied and are not counted.
    uint64_t skip = base_ - first_index;
    if (skip >= n) return;
    sizes += skip;
    n -= skip;
    first_index = base_;
  }
  // Truncate a replaced suffix.
  while (base_ + sizes_.size() > first_index) {
    own_ -= sizes_.back();
    sizes_.pop_back();
  }
  if (base_ + sizes_.size() < first_index) {
    // A gap means our view restarted (e.g. after a snapshot): start over.
    sizes_.clear();
    own_ = 0;
    base_ = first_index;
  }
  for (size_t i = 0; i < n; ++i) {
    sizes_.push_back(sizes[i]);
    own_ += sizes[i];
  }
}

void RateLimiter::on_applied(uint64_t index) {
  while (!sizes_.empty() && base_ <= index) {
    own_ -= sizes_.front();
    sizes_.pop_front();
    ++base_;
  }
  if (sizes_.empty() && base_ <= index) base_ = index + 1;
}

void RateLimiter::reset(uint64_t next_index) {
  sizes_.clear();
  own_ = 0;
  base_ = next_index;
}

}  // namespace dragonboat::raft
