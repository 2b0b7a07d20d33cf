// raft/config.h — per-node settings of the Raft core (a subset of the
// reference's config.Config; the engine fills it from the user's Config).
#pragma once

#include <cstdint>

#include "dragonboat/status.h"

namespace dragonboat::raft {

struct Config {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  // Ticks without hearing from a leader before a follower campaigns; the
  // actual timeout is randomized in [election_rtt, 2*election_rtt) (§5.2).
  uint64_t election_rtt = 10;
  // Ticks between leader heartbeats. REQUIRES: election_rtt > 2*heartbeat_rtt... the
  // reference recommends election_rtt >= 10 * heartbeat_rtt; we require >.
  uint64_t heartbeat_rtt = 1;
  // Leader steps down when it has not heard from a quorum within an
  // election timeout; followers with a live leader ignore disrupting votes.
  bool check_quorum = false;
  // Pre-vote (thesis §9.6): a candidate first asks whether it could win
  // without bumping terms. On by default (the reference v3.3 lacks it).
  bool pre_vote = true;
  // Bound on the bytes of entries not yet applied, across the group; over it
  // proposals get kSystemBusy. 0 disables rate limiting.
  uint64_t max_in_mem_log_size = 0;
  // Bytes of entries per Replicate message (at least one entry is sent).
  uint64_t max_replicate_bytes = 1 << 20;
  // Unacknowledged Replicate messages per follower while pipelining.
  uint64_t max_inflight = 256;
  // Bytes of committed entries handed to the caller per Update.
  uint64_t max_apply_bytes = 64 << 20;
  // The leader quiesces the group after this many idle ticks (0 disables
  // quiesce). REQUIRES: 0 or >= 2 * election_rtt.
  uint64_t quiesce_ticks = 0;
  // A config change must quote the current Membership::config_change_id.
  bool ordered_config_change = false;
  // The node starts as a non-voting observer / a witness.
  bool is_observer = false;
  bool is_witness = false;

  // kInvalidClusterSettings naming the bad field.
  Status validate() const;
};

// The injected random source: the core uses it only for election timeouts.
class Random {
 public:
  virtual ~Random() = default;
  // Uniform in [0, n). REQUIRES: n > 0.
  virtual uint64_t uniform(uint64_t n) = 0;
};

// A small, seeded, deterministic generator (splitmix64).
class SeededRandom : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t uniform(uint64_t n) override { return next() % n; }
  // Uniform in [0, 1).
  double real() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

}  // namespace dragonboat::raft
