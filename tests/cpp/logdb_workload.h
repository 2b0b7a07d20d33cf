// tests/cpp/logdb_workload.h — the deterministic LogDB workload shared by the
// crash test (kill -9 of a writing process) and the fault test (injected I/O
// errors): every (cluster, index) can only ever hold one entry, so a reader
// tells a whole batch from a torn, lost or corrupted one.
#pragma once

#include <cstdint>
#include <vector>

#include "logdb/logdb.h"
#include "message_builder.h"
#include "raft/types.h"

namespace dragonboat::test {

inline uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The one entry (cluster c, index i) can hold: 8-64 bytes of payload derived
// from (c, i), plus `extra` bytes (the crash test's big entries).
inline raft::Entry expected_entry(uint64_t c, uint64_t i, size_t extra = 0) {
  raft::Entry e = entry(i, 1 + i / 64).with_key((c << 32) | i).with_session(c, i, i - 1);  // an application entry
  size_t len = 8 + extra + static_cast<size_t>((c * 7 + i * 13) % 57);
  std::string cmd(len, '\0');
  for (size_t p = 0; p < len; ++p) {
    cmd[p] = static_cast<char>(mix((c << 40) ^ (i << 8) ^ (p / 8)) >> (8 * (p % 8)));
  }
  e.cmd = std::move(cmd);
  return e;
}

inline bool same_entry(const raft::Entry& a, const raft::Entry& b) {
  return a.index == b.index && a.term == b.term && a.type == b.type && a.key == b.key &&
         a.client_id == b.client_id && a.series_id == b.series_id &&
         a.responded_to == b.responded_to && a.cmd == b.cmd;
}

// Batch b (from 1): entries (b-1)*per_batch+1 .. b*per_batch of groups
// 1..groups (node `node_id`), each with a hard state committing them.
// `extra(i)` gives entry i's extra payload bytes.
template <typename Extra>
std::vector<logdb::NodeUpdate> make_batch(uint64_t b, uint64_t groups, uint64_t per_batch, uint64_t node_id,
                                          Extra extra) {
  std::vector<logdb::NodeUpdate> updates;
  const uint64_t first = (b - 1) * per_batch + 1, last = b * per_batch;
  for (uint64_t c = 1; c <= groups; ++c) {
    logdb::NodeUpdate u;
    u.cluster_id = c;
    u.node_id = node_id;
    for (uint64_t i = first; i <= last; ++i) u.entries.push_back(expected_entry(c, i, extra(i)));
    u.state.term = u.entries.back().term;
    u.state.vote = node_id;
    u.state.commit = last;
    updates.push_back(std::move(u));
  }
  return updates;
}

}  // namespace dragonboat::test
