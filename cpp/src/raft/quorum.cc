#include "raft/quorum.h"

#include <algorithm>
#include <functional>

namespace dragonboat::raft {

uint64_t majority_index(std::vector<uint64_t> matches) {
  std::sort(matches.begin(), matches.end(), std::greater<uint64_t>());
  return matches[quorum_size(matches.size()) - 1];
}

VoteResult tally_votes(const std::map<uint64_t, bool>& votes, uint64_t voter_count) {
  uint64_t granted = 0, rejected = 0;
  for (const auto& [id, g] : votes) (g ? granted : rejected)++;
  uint64_t q = quorum_size(voter_count);
  if (granted >= q) return VoteResult::kWon;
  // More rejections than voters (a vote counted before a membership change
  // shrank the group) is lost too, not a wrapped-around count.
  if (rejected > voter_count || voter_count - rejected < q) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace dragonboat::raft
