// wire_test_util.h — helpers shared by the wire codec tests
// (wire_codec_{roundtrip,frame,malformed}_test.cc): the allocation probe,
// field-by-field comparison of batches and chunks, hand-built frame headers
// and payload pieces, EXPECT_FAILS, and a small batch (built with
// message_builder.h) and chunk to encode.
#pragma once

#include <xxhash.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include <gtest/gtest.h>

#include "message_builder.h"
#include "transport/wire.h"

// ---- allocation probe -------------------------------------------------------
// The test binary replaces global operator new to record the largest single
// allocation while a probe is active, so tests can check that decoding a
// hostile 100-byte buffer never reserves memory its claims would justify.
// (A replacement operator new cannot be inline: this header defines it, so
// include it in exactly one translation unit per binary — each *_test.cc
// here is its own binary.)
namespace dragonboat::transport::test {
inline std::atomic<bool> g_probe_on{false};
inline std::atomic<size_t> g_probe_max{0};
}  // namespace dragonboat::transport::test

void* operator new(size_t n) {
  namespace t = dragonboat::transport::test;
  if (t::g_probe_on.load(std::memory_order_relaxed)) {
    size_t cur = t::g_probe_max.load(std::memory_order_relaxed);
    while (n > cur && !t::g_probe_max.compare_exchange_weak(cur, n)) {
    }
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// Out of line, so the compiler does not see free() meet operator new.
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace dragonboat::transport::test {

using raft::Entry;
using raft::EntryType;
using raft::Membership;
using raft::Message;
using raft::MessageType;
using raft::Snapshot;

// Records the largest allocation made while it is alive.
class AllocationProbe {
 public:
  AllocationProbe() {
    g_probe_max = 0;
    g_probe_on = true;
  }
  ~AllocationProbe() { g_probe_on = false; }
  size_t largest() const { return g_probe_max.load(); }
};

// ---- field-by-field comparison ----------------------------------------------

#define FIELD_EQ(field)                                                        \
  if (!(a.field == b.field)) {                                                 \
    return ::testing::AssertionFailure() << where << #field << " differs";     \
  }

inline ::testing::AssertionResult entry_eq(const Entry& a, const Entry& b,
                                           const std::string& where) {
  FIELD_EQ(term);
  FIELD_EQ(index);
  FIELD_EQ(type);
  FIELD_EQ(key);
  FIELD_EQ(client_id);
  FIELD_EQ(series_id);
  FIELD_EQ(responded_to);
  FIELD_EQ(cmd);
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult snapshot_eq(const Snapshot& a, const Snapshot& b,
                                              const std::string& where) {
  FIELD_EQ(index);
  FIELD_EQ(term);
  FIELD_EQ(membership);
  FIELD_EQ(filepath);
  FIELD_EQ(file_size);
  FIELD_EQ(data);
  FIELD_EQ(witness);
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult message_eq(const Message& a, const Message& b,
                                             const std::string& where) {
  FIELD_EQ(type);
  FIELD_EQ(to);
  FIELD_EQ(from);
  FIELD_EQ(cluster_id);
  FIELD_EQ(term);
  FIELD_EQ(log_term);
  FIELD_EQ(log_index);
  FIELD_EQ(commit);
  FIELD_EQ(reject);
  FIELD_EQ(hint);
  FIELD_EQ(hint_high);
  FIELD_EQ(entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) {
    auto r = entry_eq(a.entries[i], b.entries[i], where + "entry " + std::to_string(i) + ": ");
    if (!r) return r;
  }
  return snapshot_eq(a.snapshot, b.snapshot, where + "snapshot.");
}

inline ::testing::AssertionResult batch_eq(const MessageBatch& a, const MessageBatch& b) {
  const std::string where = "batch: ";
  FIELD_EQ(deployment_id);
  FIELD_EQ(source_address);
  FIELD_EQ(bin_version);
  FIELD_EQ(requests.size());
  for (size_t i = 0; i < a.requests.size(); ++i) {
    auto r = message_eq(a.requests[i], b.requests[i], "message " + std::to_string(i) + ": ");
    if (!r) return r;
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult chunk_eq(const SnapshotChunk& a, const SnapshotChunk& b) {
  const std::string where = "chunk: ";
  FIELD_EQ(cluster_id);
  FIELD_EQ(node_id);
  FIELD_EQ(from);
  FIELD_EQ(deployment_id);
  FIELD_EQ(bin_version);
  FIELD_EQ(chunk_id);
  FIELD_EQ(chunk_count);
  FIELD_EQ(chunk_size);
  FIELD_EQ(file_size);
  FIELD_EQ(index);
  FIELD_EQ(term);
  FIELD_EQ(on_disk_index);
  FIELD_EQ(message_term);
  FIELD_EQ(membership);
  FIELD_EQ(witness);
  FIELD_EQ(file_path);
  FIELD_EQ(file_chunk_id);
  FIELD_EQ(file_chunk_count);
  FIELD_EQ(has_file_info);
  FIELD_EQ(file_info.file_path);
  FIELD_EQ(file_info.file_size);
  FIELD_EQ(file_info.file_id);
  FIELD_EQ(file_info.metadata);
  FIELD_EQ(data);
  FIELD_EQ(data_checksum);
  return ::testing::AssertionSuccess();
}

#undef FIELD_EQ

// ---- helpers ----------------------------------------------------------------

// Decodes one whole frame at `frame` the way a receiver would.
inline Status decode_frame(const std::string& frame, const Limits& limits, FrameHeader* h) {
  Status s = decode_frame_header(frame.data(), frame.size(), limits, h);
  if (!s.ok()) return s;
  return verify_payload(*h, frame.data() + kFrameHeaderSize, frame.size() - kFrameHeaderSize);
}

inline std::string varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}

inline std::string u64le(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

// A raw frame header with a valid header checksum over arbitrary fields.
inline std::string raw_header(uint8_t m0, uint8_t m1, uint16_t method, uint64_t size,
                              uint64_t checksum) {
  std::string h;
  h.push_back(static_cast<char>(m0));
  h.push_back(static_cast<char>(m1));
  h.push_back(static_cast<char>(method));
  h.push_back(static_cast<char>(method >> 8));
  h += u64le(size);
  h += u64le(checksum);
  uint32_t c = static_cast<uint32_t>(XXH3_64bits(h.data(), h.size()));
  for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>(c >> (8 * i)));
  return h;
}

// The start of a batch payload: version, deployment, bin version, address.
inline std::string batch_prefix(uint8_t version = kBatchFormatVersion) {
  std::string p(1, static_cast<char>(version));
  p += u64le(7);
  p += varint(1);
  p += varint(0);  // empty source address
  return p;
}

// A message head (type through hint_high) with all-zero varint fields.
inline std::string message_head(uint8_t type = 7, uint8_t flags = 0) {
  std::string p;
  p.push_back(static_cast<char>(type));
  p.push_back(static_cast<char>(flags));
  for (int i = 0; i < 9; ++i) p += varint(0);
  return p;
}

inline Status decode_batch_str(const std::string& p, const Limits& limits = Limits{}) {
  MessageBatch b;
  return decode_batch(p.data(), p.size(), limits, &b);
}

inline bool contains(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

#define EXPECT_FAILS(status_expr, want_code, text)                             \
  do {                                                                         \
    Status st_ = (status_expr);                                                \
    EXPECT_EQ(st_.code(), (want_code)) << st_.to_string();                     \
    EXPECT_TRUE(contains(st_, (text))) << st_.to_string();                     \
  } while (0)

// A small batch with entries and a snapshot (used by the bad-input tests).
inline MessageBatch small_batch() {
  using ::dragonboat::test::entry;
  using ::dragonboat::test::msg;
  using ::dragonboat::test::snap;
  MessageBatch b;
  b.deployment_id = 0x1122334455667788ULL;
  b.source_address = "10.0.0.1:63001";
  b.bin_version = 210;
  b.requests.push_back(msg(MessageType::kReplicate, 1, 2, 5)
                           .with_cluster(9)
                           .with_log(300, 5)
                           .with_commit(299)
                           .with_entries({entry(301, 5, "set x=1").with_key(77),
                                          entry(302, 5, "cc").with_key(77).with_type(EntryType::kConfigChange)}));
  Message s = msg(MessageType::kInstallSnapshot, 1, 3, 5)
                  .with_cluster(9)
                  .with_snapshot(snap(200, 4)
                                     .with_members({{1, "a:1"}, {2, "b:2"}})
                                     .with_file("snapshot-00000000000000C8.gbsnap", 4096));
  s.snapshot.membership.removed = {4};
  b.requests.push_back(s);
  b.requests.push_back(msg(MessageType::kHeartbeatResp, 2, 1, 0).with_cluster(0).with_reject().with_hint(12));
  return b;
}

inline SnapshotChunk small_chunk() {
  SnapshotChunk c;
  c.cluster_id = 9;
  c.node_id = 3;
  c.from = 1;
  c.deployment_id = 42;
  c.bin_version = 210;
  c.chunk_id = 1;
  c.chunk_count = 4;
  c.file_size = 10000;
  c.index = 200;
  c.term = 4;
  c.membership.addresses = {{1, "a:1"}, {3, "c:3"}};
  c.file_path = "snapshot-00000000000000C8.gbsnap";
  c.file_chunk_id = 1;
  c.file_chunk_count = 4;
  c.has_file_info = true;
  c.file_info.file_path = "external-1.sst";
  c.file_info.file_size = 300;
  c.file_info.file_id = 1;
  c.file_info.metadata = "meta";
  c.data = std::string(300, 'x');
  c.chunk_size = c.data.size();
  c.data_checksum = XXH3_64bits(c.data.data(), c.data.size());
  return c;
}
}  // namespace dragonboat::transport::test
