#include "dragonboat/session.h"

#include <array>
#include <random>

namespace dragonboat {

Session Session::create(uint64_t cluster_id) {
  // One generator per thread, seeded from 8 words of the system's entropy
  // (a single random_device word would give 2^32 distinct sequences: client
  // IDs of different processes could collide and break deduplication).
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::array<uint32_t, 8> words;
    for (auto& w : words) w = rd();
    std::seed_seq seq(words.begin(), words.end());
    return std::mt19937_64(seq);
  }();
  uint64_t client_id = 0;
  while (client_id == 0) client_id = rng();  // 0 is the no-op session's
  return make(cluster_id, client_id);
}

}  // namespace dragonboat
