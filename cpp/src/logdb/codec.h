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
#include <vector>

#include "logdb/logdb.h"
#include "raft/types.h"

namespace dragonboat::logdb {

enum class KeyKind : uint8_t {
  kEntry = 0x01,      // [kind][cluster][node][LAST index] -> a batch of consecutive entries
  kHardState = 0x02,  // [kind][cluster][node]        -> hard state
  kSnapshot = 0x03,   // [kind][cluster][node][index] -> snapshot record
  kBootstrap = 0x04,  // [kind][cluster][node]        -> bootstrap record
  // [kind][cluster][node] -> empty: remove_node_data removed the node; its ID
  // cannot be started again (kNodeRemoved), as in the reference.
  kRemoved = 0x05,
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

// Entries are stored in batches: consecutive entries of one node under the
// key of the batch's LAST index, so one RocksDB key serves many entries
// (a memtable insert per batch, not per entry), a read seeks to the first
// key >= the wanted index, and removing entries up to I is a range delete of
// the keys <= I (a batch straddling I stays whole until a later compaction).
// Format: [u8 2][varint count >= 1][varint first index] then per entry
// [varint term][u8 type][varint key][varint client][varint series]
// [varint responded_to][varint len][cmd].
void encode_entry_batch(const raft::Entry* first, size_t count, std::string* out);
// Appends the entries of a batch stored under `key_index` to *out;
// kCorrupted (naming key_index) when malformed or when its last index is
// not key_index.
Status decode_entry_batch(const char* data, size_t size, uint64_t key_index, std::vector<raft::Entry>* out);

std::string encode_hard_state(const raft::HardState& st);
Status decode_hard_state(const std::string& v, raft::HardState* st);

std::string encode_snapshot(const raft::Snapshot& ss);
Status decode_snapshot(const std::string& v, raft::Snapshot* ss);

std::string encode_bootstrap(const Bootstrap& b);
Status decode_bootstrap(const std::string& v, Bootstrap* b);

}  // namespace dragonboat::logdb
