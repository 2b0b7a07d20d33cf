// raft/quorum.h — majority arithmetic over the voting members (full voters
// and witnesses; observers never count). §5.2 (votes), §5.3/§5.4 (commit).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace dragonboat::raft {

inline uint64_t quorum_size(uint64_t voters) { return voters / 2 + 1; }

// The largest index that a majority of `matches` has reached.
// REQUIRES: !matches.empty().
uint64_t majority_index(std::vector<uint64_t> matches);

enum class VoteResult { kPending, kWon, kLost };

// Tallies granted (true) / rejected (false) votes among `voter_count` voters.
VoteResult tally_votes(const std::map<uint64_t, bool>& votes, uint64_t voter_count);

}  // namespace dragonboat::raft
