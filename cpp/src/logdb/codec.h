// logdb/codec.h — the LogDB key layout and versioned value encodings.
//
// Keys sort numerically: a one-byte record kind, then big-endian cluster ID,
// node ID and (for entries and snapshots) index. All records of one node are
// therefore contiguous, and entries of a node are in index order, so range
// scans and range deletes are cheap. Values start with a format byte.
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "logdb/logdb.h"
#include "raft/types.h"

namespace dragonboat::logdb {

enum class KeyKind : uint8_t {
  kEntry = 0x01,      // [kind][cluster][node][index] -> entry
  kHardState = 0x02,  // [kind][cluster][node]        -> hard state
  kSnapshot = 0x03,   // [kind][cluster][node][index] -> snapshot record
  kBootstrap = 0x04,  // [kind][cluster][node]        -> bootstrap record
};

constexpr size_t kNodeKeySize = 17;   // kind + cluster + node
constexpr size_t kIndexKeySize = 25;  // + index

std::string node_key(KeyKind kind, uint64_t cluster_id, uint64_t node_id);
std::string index_key(KeyKind kind, uint64_t cluster_id, uint64_t node_id, uint64_t index);
// Parses a key produced above; false when it is not one.
bool parse_key(const char* data, size_t size, KeyKind* kind, uint64_t* cluster_id,
               uint64_t* node_id, uint64_t* index);

void encode_entry(const raft::Entry& e, std::string* out);
// kCorrupted on a malformed value.
Status decode_entry(const char* data, size_t size, raft::Entry* e);

std::string encode_hard_state(const raft::HardState& st);
Status decode_hard_state(const std::string& v, raft::HardState* st);

std::string encode_snapshot(const raft::Snapshot& ss);
Status decode_snapshot(const std::string& v, raft::Snapshot* ss);

std::string encode_bootstrap(const Bootstrap& b);
Status decode_bootstrap(const std::string& v, Bootstrap* b);

}  // namespace dragonboat::logdb
