// Tests of the transport wire codec (transport/wire.h): property-based round
// trips of message batches and snapshot chunks built by a seeded generator,
// and every kind of bad input — truncation at every offset, bit flips, length
// and count fields larger than the input, unknown magic/method/version — each
// failing with its own named Status and without large allocations.
#include <xxhash.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "transport/wire.h"

// ---- allocation probe -------------------------------------------------------
// The test binary replaces global operator new to record the largest single
// allocation while a probe is active, so tests can check that decoding a
// hostile 100-byte buffer never reserves memory its claims would justify.
namespace {
std::atomic<bool> g_probe_on{false};
std::atomic<size_t> g_probe_max{0};
}  // namespace

void* operator new(size_t n) {
  if (g_probe_on.load(std::memory_order_relaxed)) {
    size_t cur = g_probe_max.load(std::memory_order_relaxed);
    while (n > cur && !g_probe_max.compare_exchange_weak(cur, n)) {
    }
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// Out of line, so the compiler does not see free() meet operator new.
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace dragonboat::transport {
namespace {

using raft::Entry;
using raft::EntryType;
using raft::Membership;
using raft::Message;
using raft::MessageType;
using raft::Snapshot;

constexpr int kLastMessageType = static_cast<int>(MessageType::kNoOp);

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

// ---- random values ----------------------------------------------------------

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  uint64_t below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool coin(int one_in = 2) { return below(one_in) == 0; }

  // Integers of every varint length, with the edges over-represented.
  uint64_t u64() {
    switch (below(8)) {
      case 0: return 0;
      case 1: return below(128);
      case 2: return 127 + below(3);          // the one/two-byte boundary
      case 3: return below(1u << 20);
      case 4: return rng_() >> below(64);     // any bit length
      case 5: return UINT64_MAX - below(2);
      case 6: return uint64_t{1} << below(64);
      default: return rng_();
    }
  }
  uint32_t u32() { return static_cast<uint32_t>(u64()); }

  std::string bytes(size_t max_len) {
    size_t n = 0;
    switch (below(4)) {
      case 0: n = 0; break;
      case 1: n = below(17); break;
      case 2: n = below(200); break;
      default: n = below(max_len + 1); break;
    }
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng_());
    return s;
  }

  std::map<uint64_t, std::string> nodes(size_t max) {
    std::map<uint64_t, std::string> m;
    size_t n = below(max + 1);
    for (size_t i = 0; i < n; ++i) m[u64()] = bytes(40);
    return m;
  }

  Membership membership() {
    Membership m;
    if (coin(4)) return m;
    m.config_change_id = u64();
    m.addresses = nodes(5);
    m.observers = nodes(2);
    m.witnesses = nodes(2);
    size_t removed = below(4);
    for (size_t i = 0; i < removed; ++i) m.removed.insert(u64());
    return m;
  }

  Entry entry() {
    Entry e;
    e.term = u64();
    e.index = u64();
    e.type = static_cast<EntryType>(below(3));
    e.key = u64();
    e.client_id = u64();
    e.series_id = u64();
    e.responded_to = u64();
    e.cmd = bytes(3000);
    return e;
  }

  Snapshot snapshot() {
    Snapshot s;
    s.index = u64();
    s.term = u64();
    s.membership = membership();
    s.filepath = bytes(100);
    s.file_size = u64();
    s.data = bytes(5000);
    s.witness = coin();
    return s;
  }

  Message message(MessageType type) {
    Message m;
    m.type = type;
    m.to = u64();
    m.from = u64();
    m.cluster_id = u64();
    m.term = u64();
    m.log_term = u64();
    m.log_index = u64();
    m.commit = u64();
    m.reject = coin();
    m.hint = u64();
    m.hint_high = u64();
    if (coin()) {
      size_t n = below(coin(8) ? 100 : 6);
      for (size_t i = 0; i < n; ++i) m.entries.push_back(entry());
    }
    if (coin(3)) m.snapshot = snapshot();
    return m;
  }

  MessageBatch batch(int first_type) {
    MessageBatch b;
    b.deployment_id = u64();
    b.source_address = bytes(60);
    b.bin_version = u32();
    size_t n = below(9);
    for (size_t i = 0; i < n; ++i) {
      int type = i == 0 ? first_type : static_cast<int>(below(kLastMessageType + 1));
      b.requests.push_back(message(static_cast<MessageType>(type)));
    }
    return b;
  }

  SnapshotChunk chunk() {
    SnapshotChunk c;
    c.cluster_id = u64();
    c.node_id = u64();
    c.from = u64();
    c.deployment_id = u64();
    c.bin_version = u32();
    c.chunk_id = u64();
    c.chunk_count = u64();
    c.file_size = u64();
    c.index = u64();
    c.term = u64();
    c.on_disk_index = u64();
    c.message_term = u64();
    c.membership = membership();
    c.witness = coin();
    c.file_path = bytes(100);
    c.file_chunk_id = u64();
    c.file_chunk_count = u64();
    c.has_file_info = coin();
    if (c.has_file_info) {
      c.file_info.file_path = bytes(100);
      c.file_info.file_size = u64();
      c.file_info.file_id = u64();
      c.file_info.metadata = bytes(300);
    }
    c.data = bytes(20000);
    c.chunk_size = c.data.size();
    c.data_checksum = XXH3_64bits(c.data.data(), c.data.size());
    return c;
  }

 private:
  std::mt19937_64 rng_;
};

// ---- field-by-field comparison ----------------------------------------------

#define FIELD_EQ(field)                                                        \
  if (!(a.field == b.field)) {                                                 \
    return ::testing::AssertionFailure() << where << #field << " differs";     \
  }

::testing::AssertionResult entry_eq(const Entry& a, const Entry& b, const std::string& where) {
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

::testing::AssertionResult snapshot_eq(const Snapshot& a, const Snapshot& b,
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

::testing::AssertionResult message_eq(const Message& a, const Message& b,
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

::testing::AssertionResult batch_eq(const MessageBatch& a, const MessageBatch& b) {
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

::testing::AssertionResult chunk_eq(const SnapshotChunk& a, const SnapshotChunk& b) {
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
Status decode_frame(const std::string& frame, const Limits& limits, FrameHeader* h) {
  Status s = decode_frame_header(frame.data(), frame.size(), limits, h);
  if (!s.ok()) return s;
  return verify_payload(*h, frame.data() + kFrameHeaderSize, frame.size() - kFrameHeaderSize);
}

std::string varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}

std::string u64le(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

// A raw frame header with a valid header checksum over arbitrary fields.
std::string raw_header(uint8_t m0, uint8_t m1, uint16_t method, uint64_t size, uint64_t checksum) {
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
std::string batch_prefix(uint8_t version = kBatchFormatVersion) {
  std::string p(1, static_cast<char>(version));
  p += u64le(7);
  p += varint(1);
  p += varint(0);  // empty source address
  return p;
}

// A message head (type through hint_high) with all-zero varint fields.
std::string message_head(uint8_t type = 7, uint8_t flags = 0) {
  std::string p;
  p.push_back(static_cast<char>(type));
  p.push_back(static_cast<char>(flags));
  for (int i = 0; i < 9; ++i) p += varint(0);
  return p;
}

Status decode_batch_str(const std::string& p, const Limits& limits = Limits{}) {
  MessageBatch b;
  return decode_batch(p.data(), p.size(), limits, &b);
}

bool contains(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

#define EXPECT_FAILS(status_expr, want_code, text)                             \
  do {                                                                         \
    Status st_ = (status_expr);                                                \
    EXPECT_EQ(st_.code(), (want_code)) << st_.to_string();                     \
    EXPECT_TRUE(contains(st_, (text))) << st_.to_string();                     \
  } while (0)

// A small batch with entries and a snapshot (used by the bad-input tests).
MessageBatch small_batch() {
  MessageBatch b;
  b.deployment_id = 0x1122334455667788ULL;
  b.source_address = "10.0.0.1:63001";
  b.bin_version = 210;
  Message m;
  m.type = MessageType::kReplicate;
  m.to = 2;
  m.from = 1;
  m.cluster_id = 9;
  m.term = 5;
  m.log_term = 5;
  m.log_index = 300;
  m.commit = 299;
  Entry e;
  e.term = 5;
  e.index = 301;
  e.key = 77;
  e.cmd = "set x=1";
  m.entries.push_back(e);
  e.index = 302;
  e.type = EntryType::kConfigChange;
  e.cmd = "cc";
  m.entries.push_back(e);
  b.requests.push_back(m);
  Message s;
  s.type = MessageType::kInstallSnapshot;
  s.to = 3;
  s.from = 1;
  s.cluster_id = 9;
  s.term = 5;
  s.snapshot.index = 200;
  s.snapshot.term = 4;
  s.snapshot.membership.addresses = {{1, "a:1"}, {2, "b:2"}};
  s.snapshot.membership.removed = {4};
  s.snapshot.filepath = "snapshot-00000000000000C8.gbsnap";
  s.snapshot.file_size = 4096;
  b.requests.push_back(s);
  Message r;
  r.type = MessageType::kHeartbeatResp;
  r.to = 1;
  r.from = 2;
  r.reject = true;
  r.hint = 12;
  b.requests.push_back(r);
  return b;
}

SnapshotChunk small_chunk() {
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

// ---- round trips ------------------------------------------------------------

TEST(WireRoundTrip, RandomBatchesOfEveryMessageType) {
  Gen g(20240601);
  std::string buf;
  size_t messages = 0, entries = 0, snapshots = 0;
  for (int i = 0; i < 3000; ++i) {
    MessageBatch in = g.batch(i % (kLastMessageType + 1));
    buf.clear();
    encode_batch_frame(in, &buf);
    ASSERT_EQ(buf.size(), kFrameHeaderSize + encoded_batch_size(in));
    FrameHeader h;
    ASSERT_TRUE(decode_frame(buf, Limits{}, &h).ok()) << "iteration " << i;
    EXPECT_EQ(h.method, Method::kRaftMessageBatch);
    MessageBatch out;
    Status s = decode_batch(buf.data() + kFrameHeaderSize, h.payload_size, Limits{}, &out);
    ASSERT_TRUE(s.ok()) << "iteration " << i << ": " << s.to_string();
    ASSERT_TRUE(batch_eq(in, out)) << "iteration " << i;
    for (const auto& m : in.requests) {
      ++messages;
      entries += m.entries.size();
      snapshots += m.snapshot.index != 0;
    }
  }
  // The generator really produced a mix.
  EXPECT_GT(messages, 10000u);
  EXPECT_GT(entries, 20000u);
  EXPECT_GT(snapshots, 3000u);
}

TEST(WireRoundTrip, DecodingIntoAReusedBatchLeavesNothingStale) {
  // The decoder reuses the Message/Entry objects of its output; nothing of an
  // earlier, bigger batch (snapshots, entries, strings) may leak through.
  Gen g(5);
  MessageBatch out;
  SnapshotChunk cout;
  std::string buf;
  for (int i = 0; i < 2000; ++i) {
    MessageBatch in = g.batch(i % (kLastMessageType + 1));
    buf.clear();
    encode_batch(in, &buf);
    ASSERT_TRUE(decode_batch(buf.data(), buf.size(), Limits{}, &out).ok());
    ASSERT_TRUE(batch_eq(in, out)) << "iteration " << i;
    SnapshotChunk c = g.chunk();
    buf.clear();
    encode_chunk(c, &buf);
    ASSERT_TRUE(decode_chunk(buf.data(), buf.size(), Limits{}, &cout).ok());
    ASSERT_TRUE(chunk_eq(c, cout)) << "iteration " << i;
  }
}

TEST(WireRoundTrip, EveryMessageTypeWithEntriesAndSnapshot) {
  Gen g(7);
  for (int t = 0; t <= kLastMessageType; ++t) {
    MessageBatch in;
    in.deployment_id = 3;
    Message m = g.message(static_cast<MessageType>(t));
    m.entries = {g.entry(), g.entry()};
    m.snapshot = g.snapshot();
    m.snapshot.index = 10;
    in.requests.push_back(m);
    std::string p;
    encode_batch(in, &p);
    MessageBatch out;
    ASSERT_TRUE(decode_batch(p.data(), p.size(), Limits{}, &out).ok());
    EXPECT_TRUE(batch_eq(in, out)) << raft::message_type_name(m.type);
  }
}

TEST(WireRoundTrip, SnapshotFieldsRoundTripEvenWhenIndexIsZero) {
  // Each non-default snapshot field alone must survive (the encoder decides
  // per field, not by Snapshot::empty()).
  std::vector<Snapshot> cases(7);
  cases[0].term = 1;
  cases[1].file_size = 1;
  cases[2].witness = true;
  cases[3].filepath = "f";
  cases[4].data = "d";
  cases[5].membership.removed = {1};
  cases[6].membership.config_change_id = 1;
  for (const Snapshot& ss : cases) {
    MessageBatch in;
    in.requests.emplace_back().snapshot = ss;
    std::string p;
    encode_batch(in, &p);
    MessageBatch out;
    ASSERT_TRUE(decode_batch(p.data(), p.size(), Limits{}, &out).ok());
    EXPECT_TRUE(batch_eq(in, out));
  }
}

TEST(WireRoundTrip, ExtremeValues) {
  MessageBatch in;
  in.deployment_id = UINT64_MAX;
  in.bin_version = UINT32_MAX;
  Message m;
  m.type = MessageType::kNoOp;
  m.to = m.from = m.cluster_id = m.term = m.log_term = m.log_index = m.commit = UINT64_MAX;
  m.hint = m.hint_high = UINT64_MAX;
  m.reject = true;
  Entry e;
  e.term = e.index = e.key = e.client_id = e.series_id = e.responded_to = UINT64_MAX;
  e.type = EntryType::kMetadata;
  m.entries.push_back(e);
  m.snapshot.index = m.snapshot.term = m.snapshot.file_size = UINT64_MAX;
  m.snapshot.membership.config_change_id = UINT64_MAX;
  m.snapshot.membership.witnesses = {{UINT64_MAX, "w"}};
  in.requests.push_back(m);
  std::string p;
  encode_batch(in, &p);
  MessageBatch out;
  ASSERT_TRUE(decode_batch(p.data(), p.size(), Limits{}, &out).ok());
  EXPECT_TRUE(batch_eq(in, out));
}

TEST(WireRoundTrip, DeploymentIdRoundTrips) {
  Gen g(99);
  for (uint64_t id : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128},
                      uint64_t{0x8000000000000000ULL}, UINT64_MAX, g.u64(), g.u64()}) {
    MessageBatch b = small_batch();
    b.deployment_id = id;
    std::string buf;
    encode_batch_frame(b, &buf);
    FrameHeader h;
    ASSERT_TRUE(decode_frame(buf, Limits{}, &h).ok());
    MessageBatch out;
    ASSERT_TRUE(decode_batch(buf.data() + kFrameHeaderSize, h.payload_size, Limits{}, &out).ok());
    EXPECT_EQ(out.deployment_id, id);

    SnapshotChunk c = small_chunk();
    c.deployment_id = id;
    buf.clear();
    encode_chunk_frame(c, &buf);
    ASSERT_TRUE(decode_frame(buf, Limits{}, &h).ok());
    SnapshotChunk co;
    ASSERT_TRUE(decode_chunk(buf.data() + kFrameHeaderSize, h.payload_size, Limits{}, &co).ok());
    EXPECT_EQ(co.deployment_id, id);
  }
}

TEST(WireRoundTrip, EmptyBatchAndPoke) {
  MessageBatch in;
  std::string buf;
  encode_batch_frame(in, &buf);
  FrameHeader h;
  ASSERT_TRUE(decode_frame(buf, Limits{}, &h).ok());
  MessageBatch out = small_batch();  // overwritten by decode
  ASSERT_TRUE(decode_batch(buf.data() + kFrameHeaderSize, h.payload_size, Limits{}, &out).ok());
  EXPECT_TRUE(batch_eq(in, out));

  std::string poke;
  encode_frame_header(Method::kPoke, {}, &poke);
  ASSERT_EQ(poke.size(), kFrameHeaderSize);
  ASSERT_TRUE(decode_frame(poke, Limits{}, &h).ok());
  EXPECT_EQ(h.method, Method::kPoke);
  EXPECT_EQ(h.payload_size, 0u);
}

TEST(WireRoundTrip, RandomChunks) {
  Gen g(31337);
  std::string buf;
  for (int i = 0; i < 1000; ++i) {
    SnapshotChunk in = g.chunk();
    buf.clear();
    encode_chunk_frame(in, &buf);
    ASSERT_EQ(buf.size(), kFrameHeaderSize + encoded_chunk_size(in));
    FrameHeader h;
    ASSERT_TRUE(decode_frame(buf, Limits{}, &h).ok());
    EXPECT_EQ(h.method, Method::kSnapshotChunk);
    SnapshotChunk out;
    Status s = decode_chunk(buf.data() + kFrameHeaderSize, h.payload_size, Limits{}, &out);
    ASSERT_TRUE(s.ok()) << "iteration " << i << ": " << s.to_string();
    ASSERT_TRUE(chunk_eq(in, out)) << "iteration " << i;
  }
}

TEST(WireRoundTrip, ChunkDerivedFieldsComeFromData) {
  SnapshotChunk in = small_chunk();
  in.chunk_size = 1;       // ignored by encode
  in.data_checksum = 2;    // ignored by encode
  std::string p;
  encode_chunk(in, &p);
  SnapshotChunk out;
  ASSERT_TRUE(decode_chunk(p.data(), p.size(), Limits{}, &out).ok());
  EXPECT_EQ(out.chunk_size, in.data.size());
  EXPECT_EQ(out.data_checksum, XXH3_64bits(in.data.data(), in.data.size()));
}

TEST(WireEncode, AppendsAndReusesCapacity) {
  MessageBatch b = small_batch();
  std::string buf = "prefix";
  encode_batch(b, &buf);
  ASSERT_EQ(buf.compare(0, 6, "prefix"), 0);
  MessageBatch out;
  ASSERT_TRUE(decode_batch(buf.data() + 6, buf.size() - 6, Limits{}, &out).ok());
  EXPECT_TRUE(batch_eq(b, out));

  // Two frames back to back in one buffer decode independently.
  buf.clear();
  encode_batch_frame(b, &buf);
  const size_t first = buf.size();
  encode_chunk_frame(small_chunk(), &buf);
  FrameHeader h;
  ASSERT_TRUE(decode_frame_header(buf.data() + first, buf.size() - first, Limits{}, &h).ok());
  EXPECT_EQ(h.method, Method::kSnapshotChunk);
  ASSERT_TRUE(verify_payload(h, buf.data() + first + kFrameHeaderSize, h.payload_size).ok());

  // Re-encoding into a cleared buffer allocates nothing when a message has
  // no snapshot (the hot path).
  b.requests.pop_back();
  b.requests.erase(b.requests.begin() + 1);
  buf.clear();
  encode_batch_frame(b, &buf);
  const char* data = buf.data();
  AllocationProbe probe;
  for (int i = 0; i < 10; ++i) {
    buf.clear();
    encode_batch_frame(b, &buf);
  }
  EXPECT_EQ(probe.largest(), 0u);
  EXPECT_EQ(buf.data(), data);
}

// ---- golden bytes -----------------------------------------------------------
// The exact bytes of known values (docs/wire.md walks through the first).
// A failure here means the wire format changed: bump the format version.

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h.push_back(digits[c >> 4]);
    h.push_back(digits[c & 15]);
  }
  return h;
}

TEST(WireGolden, HeartbeatFrame) {
  MessageBatch b;
  b.deployment_id = 1;
  b.source_address = "a:1";
  b.bin_version = 210;
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = 2;
  m.from = 1;
  m.cluster_id = 9;
  m.term = 3;
  m.commit = 10;
  b.requests.push_back(m);
  std::string f;
  encode_batch_frame(b, &f);
  EXPECT_EQ(hex(f),
            "d7b064001c00000000000000a468fb08ab57761c4a9175ca"  // frame header
            "010100000000000000d20103613a3101"                  // batch head
            "0d000201090300000a000000");                        // the heartbeat
}

TEST(WireGolden, BatchWithEntryAndSnapshot) {
  MessageBatch b;
  b.deployment_id = 0x0102030405060708ULL;
  b.source_address = "h:1";
  b.bin_version = 1;
  Message m;
  m.type = MessageType::kReplicate;
  m.to = 2;
  m.from = 1;
  m.cluster_id = 5;
  m.term = 3;
  m.log_term = 3;
  m.log_index = 200;
  m.commit = 199;
  Entry e;
  e.term = 3;
  e.index = 201;
  e.key = 300;
  e.cmd = "hi";
  m.entries.push_back(e);
  b.requests.push_back(m);
  Message s;
  s.type = MessageType::kInstallSnapshot;
  s.to = 3;
  s.from = 1;
  s.cluster_id = 5;
  s.term = 3;
  s.reject = true;
  s.snapshot.index = 150;
  s.snapshot.term = 2;
  s.snapshot.membership.addresses = {{1, "a"}};
  s.snapshot.filepath = "f";
  s.snapshot.file_size = 9;
  s.snapshot.witness = true;
  b.requests.push_back(s);
  std::string p;
  encode_batch(b, &p);
  EXPECT_EQ(hex(p),
            "010807060504030201" "01" "03683a31" "02"
            "07000201050303c801c7010000" "01" "03c90100ac0200000002" "6869"
            "0f03030105030000000000" "00"
            "01960102" "3a" + hex(raft::encode_membership(s.snapshot.membership)) + "016609" "00");
}

TEST(WireGolden, Chunk) {
  SnapshotChunk c;
  c.cluster_id = 5;
  c.node_id = 3;
  c.from = 1;
  c.deployment_id = 7;
  c.bin_version = 1;
  c.chunk_count = 2;
  c.file_size = 104;
  c.index = 150;
  c.term = 2;
  c.file_path = "s.gbsnap";
  c.file_chunk_count = 2;
  c.data = "abc";
  std::string p;
  encode_chunk(c, &p);
  EXPECT_EQ(hex(p), "0100" "0700000000000000" "01" "0503010002" "68" "9601" "02" "00" "000002"
                    "08732e6762736e6170" "29" + hex(raft::encode_membership(c.membership)) +
                    "50392f89945faf78" "03616263");
}

// ---- frame header -----------------------------------------------------------

TEST(WireFrame, TruncatedHeader) {
  std::string f;
  encode_frame_header(Method::kPoke, {}, &f);
  FrameHeader h;
  for (size_t n = 0; n < kFrameHeaderSize; ++n) {
    EXPECT_FAILS(decode_frame_header(f.data(), n, Limits{}, &h), ErrorCode::kCorrupted,
                 "truncated frame header: " + std::to_string(n) + " of 24 bytes");
  }
}

TEST(WireFrame, BadMagic) {
  std::string f = raw_header('G', 'E', 100, 0, 0);
  FrameHeader h;
  EXPECT_FAILS(decode_frame_header(f.data(), f.size(), Limits{}, &h), ErrorCode::kCorrupted,
               "bad magic 0x4745 (want 0xD7B0)");
}

TEST(WireFrame, UnknownMethod) {
  for (uint16_t method : {0, 7, 101, 199, 301, 65535}) {
    std::string f = raw_header(kFrameMagic0, kFrameMagic1, method, 0, 0);
    FrameHeader h;
    EXPECT_FAILS(decode_frame_header(f.data(), f.size(), Limits{}, &h),
                 ErrorCode::kIncompatibleData, "unknown method " + std::to_string(method));
  }
}

TEST(WireFrame, HeaderChecksumMismatch) {
  std::string f = raw_header(kFrameMagic0, kFrameMagic1, 100, 10, 0);
  f[23] ^= 1;
  FrameHeader h;
  EXPECT_FAILS(decode_frame_header(f.data(), f.size(), Limits{}, &h), ErrorCode::kCorrupted,
               "header checksum mismatch");
}

TEST(WireFrame, PayloadSizeOverLimitIsRejectedFromTheHeader) {
  std::string f = raw_header(kFrameMagic0, kFrameMagic1, 100, 5000000000ULL, 0);
  FrameHeader h;
  EXPECT_FAILS(decode_frame_header(f.data(), f.size(), Limits{}, &h), ErrorCode::kPayloadTooBig,
               "payload size 5000000000 exceeds limit 67108864");
  Limits small;
  small.max_frame_payload = 100;
  f = raw_header(kFrameMagic0, kFrameMagic1, 200, 101, 0);
  EXPECT_FAILS(decode_frame_header(f.data(), f.size(), small, &h), ErrorCode::kPayloadTooBig,
               "payload size 101 exceeds limit 100");
  f = raw_header(kFrameMagic0, kFrameMagic1, 200, 100, 0);
  EXPECT_TRUE(decode_frame_header(f.data(), f.size(), small, &h).ok());
  EXPECT_EQ(h.payload_size, 100u);
}

TEST(WireFrame, PokeMustBeEmpty) {
  std::string f = raw_header(kFrameMagic0, kFrameMagic1, 300, 5, 0);
  FrameHeader h;
  EXPECT_FAILS(decode_frame_header(f.data(), f.size(), Limits{}, &h), ErrorCode::kCorrupted,
               "poke frame with 5 payload bytes");
}

TEST(WireFrame, PayloadSizeMismatch) {
  std::string buf;
  encode_batch_frame(small_batch(), &buf);
  FrameHeader h;
  ASSERT_TRUE(decode_frame_header(buf.data(), buf.size(), Limits{}, &h).ok());
  EXPECT_FAILS(verify_payload(h, buf.data() + kFrameHeaderSize, h.payload_size - 1),
               ErrorCode::kCorrupted, "payload size mismatch");
}

TEST(WireFrame, EveryHeaderBitFlipIsDetected) {
  std::string buf;
  encode_batch_frame(small_batch(), &buf);
  for (size_t bit = 0; bit < kFrameHeaderSize * 8; ++bit) {
    std::string f = buf;
    f[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    FrameHeader h;
    Status s = decode_frame_header(f.data(), f.size(), Limits{}, &h);
    ASSERT_FALSE(s.ok()) << "bit " << bit;
    EXPECT_TRUE(contains(s, bit < 16 ? "bad magic" : "header checksum mismatch"))
        << "bit " << bit << ": " << s.to_string();
  }
}

TEST(WireFrame, EveryPayloadBitFlipIsDetected) {
  for (int which = 0; which < 2; ++which) {
    std::string buf;
    if (which == 0) {
      encode_batch_frame(small_batch(), &buf);
    } else {
      encode_chunk_frame(small_chunk(), &buf);
    }
    FrameHeader h;
    ASSERT_TRUE(decode_frame_header(buf.data(), buf.size(), Limits{}, &h).ok());
    for (size_t bit = kFrameHeaderSize * 8; bit < buf.size() * 8; ++bit) {
      std::string f = buf;
      f[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      EXPECT_FAILS(verify_payload(h, f.data() + kFrameHeaderSize, h.payload_size),
                   ErrorCode::kCorrupted, "payload checksum mismatch");
    }
  }
}

// ---- malformed payloads -----------------------------------------------------

TEST(WireDecode, BatchTruncatedAtEveryOffset) {
  std::string p;
  encode_batch(small_batch(), &p);
  for (size_t n = 0; n < p.size(); ++n) {
    std::string cut = p.substr(0, n);  // its own allocation, so ASan sees overreads
    Status s = decode_batch_str(cut);
    ASSERT_EQ(s.code(), ErrorCode::kCorrupted) << "length " << n << ": " << s.to_string();
    EXPECT_TRUE(s.message().rfind("batch: ", 0) == 0) << s.to_string();
  }
  EXPECT_TRUE(decode_batch_str(p).ok());
}

TEST(WireDecode, ChunkTruncatedAtEveryOffset) {
  std::string p;
  encode_chunk(small_chunk(), &p);
  for (size_t n = 0; n < p.size(); ++n) {
    std::string cut = p.substr(0, n);
    SnapshotChunk c;
    Status s = decode_chunk(cut.data(), cut.size(), Limits{}, &c);
    ASSERT_EQ(s.code(), ErrorCode::kCorrupted) << "length " << n << ": " << s.to_string();
  }
}

TEST(WireDecode, TruncationErrorsNameTheField) {
  std::string p;
  encode_batch(small_batch(), &p);
  EXPECT_FAILS(decode_batch_str(p.substr(0, 5)), ErrorCode::kCorrupted,
               "batch: truncated in deployment_id");
  // Cut inside the second entry's cmd of message 0.
  size_t at = p.find("cc");
  ASSERT_NE(at, std::string::npos);
  EXPECT_FAILS(decode_batch_str(p.substr(0, at + 1)), ErrorCode::kCorrupted,
               "batch: message 0: entry 1: entry cmd length 2 exceeds the 1 bytes left");
}

TEST(WireDecode, PayloadBitFlipsNeverCrashTheDecoder) {
  // Without the frame checksum (e.g. a fuzzer's input), damage either fails
  // cleanly or decodes to some batch that itself round-trips.
  std::string p;
  encode_batch(small_batch(), &p);
  int failed = 0;
  for (size_t bit = 0; bit < p.size() * 8; ++bit) {
    std::string f = p;
    f[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    MessageBatch b;
    Status s = decode_batch(f.data(), f.size(), Limits{}, &b);
    if (!s.ok()) {
      ++failed;
      continue;
    }
    std::string again;
    encode_batch(b, &again);
    MessageBatch b2;
    ASSERT_TRUE(decode_batch(again.data(), again.size(), Limits{}, &b2).ok());
    EXPECT_TRUE(batch_eq(b, b2));
  }
  EXPECT_GT(failed, 0);

  std::string c;
  encode_chunk(small_chunk(), &c);
  for (size_t bit = 0; bit < c.size() * 8; ++bit) {
    std::string f = c;
    f[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    SnapshotChunk out;
    Status s = decode_chunk(f.data(), f.size(), Limits{}, &out);
    if (s.ok()) {
      EXPECT_EQ(out.data_checksum, XXH3_64bits(out.data.data(), out.data.size()));
    }
  }
}

TEST(WireDecode, HugeCountsAreRejectedBeforeAllocation) {
  const uint64_t k2_40 = uint64_t{1} << 40;
  auto pad = [](std::string p) {
    p.resize(100, '\0');
    return p;
  };
  {
    std::string p = pad(batch_prefix() + varint(k2_40));
    AllocationProbe probe;
    EXPECT_FAILS(decode_batch_str(p), ErrorCode::kCorrupted,
                 "batch: message count 1099511627776 exceeds what the 83 bytes left can hold");
    EXPECT_LT(probe.largest(), 1024u);
  }
  {
    std::string p = pad(batch_prefix() + varint(1) + message_head() + varint(k2_40));
    AllocationProbe probe;
    EXPECT_FAILS(decode_batch_str(p), ErrorCode::kCorrupted,
                 "batch: message 0: entry count 1099511627776 exceeds what the");
    EXPECT_LT(probe.largest(), 1024u);
  }
  {
    // A cmd length of 2^40 inside an entry.
    std::string entry = varint(1) + varint(1) + std::string(1, '\0') + varint(0) + varint(0) +
                        varint(0) + varint(0) + varint(k2_40);
    std::string p = pad(batch_prefix() + varint(1) + message_head() + varint(1) + entry);
    AllocationProbe probe;
    EXPECT_FAILS(decode_batch_str(p), ErrorCode::kCorrupted,
                 "batch: message 0: entry 0: entry cmd length 1099511627776 exceeds the");
    EXPECT_LT(probe.largest(), 1024u);
  }
  {
    std::string p = batch_prefix();
    p.resize(9);
    p += varint(0) + varint(k2_40);  // source address length
    p = pad(p);
    AllocationProbe probe;
    EXPECT_FAILS(decode_batch_str(p), ErrorCode::kCorrupted,
                 "batch: source_address length 1099511627776 exceeds the");
    EXPECT_LT(probe.largest(), 1024u);
  }
  {
    // A snapshot whose membership claims 2^40 bytes.
    std::string p = batch_prefix() + varint(1) + message_head(15, 0x02) + varint(0) +
                    std::string(1, '\0') + varint(1) + varint(1) + varint(k2_40);
    p = pad(p);
    AllocationProbe probe;
    EXPECT_FAILS(decode_batch_str(p), ErrorCode::kCorrupted,
                 "batch: message 0: membership length 1099511627776 exceeds the");
    EXPECT_LT(probe.largest(), 1024u);
  }
  {
    // A chunk whose data claims 2^40 bytes.
    std::string p;
    encode_chunk(small_chunk(), &p);
    size_t data_at = p.size() - 300 - varint(300).size();
    p = p.substr(0, data_at) + varint(k2_40);
    p.resize(p.size() + 50, 'x');
    SnapshotChunk c;
    AllocationProbe probe;
    EXPECT_FAILS(decode_chunk(p.data(), p.size(), Limits{}, &c), ErrorCode::kCorrupted,
                 "chunk: data length 1099511627776 exceeds the 50 bytes left");
    EXPECT_LT(probe.largest(), 1024u);
  }
}

TEST(WireDecode, LimitsAreEnforced) {
  MessageBatch b = small_batch();
  std::string p;
  encode_batch(b, &p);
  Limits l;
  l.max_messages_per_batch = 2;
  EXPECT_FAILS(decode_batch_str(p, l), ErrorCode::kPayloadTooBig,
               "batch: message count 3 exceeds limit max_messages_per_batch = 2");
  l = Limits{};
  l.max_entries_per_batch = 1;
  EXPECT_FAILS(decode_batch_str(p, l), ErrorCode::kPayloadTooBig,
               "batch: message 0: entry count 2 exceeds limit max_entries_per_batch");
  l = Limits{};
  l.max_cmd_size = 6;
  EXPECT_FAILS(decode_batch_str(p, l), ErrorCode::kPayloadTooBig,
               "batch: message 0: entry 0: entry cmd size 7 exceeds limit 6");
  l = Limits{};
  l.max_string_size = 10;
  EXPECT_FAILS(decode_batch_str(p, l), ErrorCode::kPayloadTooBig,
               "batch: source_address size 14 exceeds limit 10");
  l = Limits{};
  l.max_membership_size = 10;
  EXPECT_FAILS(decode_batch_str(p, l), ErrorCode::kPayloadTooBig,
               "batch: message 1: membership size");
  l = Limits{};
  l.max_snapshot_data_size = 3;
  b.requests[1].snapshot.data = "data";
  p.clear();
  encode_batch(b, &p);
  EXPECT_FAILS(decode_batch_str(p, l), ErrorCode::kPayloadTooBig,
               "batch: message 1: snapshot data size 4 exceeds limit 3");

  // The entry budget is shared by all messages of a batch.
  MessageBatch two;
  two.requests.resize(2);
  two.requests[0].entries.resize(3);
  two.requests[1].entries.resize(3);
  p.clear();
  encode_batch(two, &p);
  l = Limits{};
  l.max_entries_per_batch = 5;
  EXPECT_FAILS(decode_batch_str(p, l), ErrorCode::kPayloadTooBig,
               "batch: message 1: entry count 3 exceeds limit");
  l.max_entries_per_batch = 6;
  EXPECT_TRUE(decode_batch_str(p, l).ok());

  SnapshotChunk c = small_chunk();
  p.clear();
  encode_chunk(c, &p);
  SnapshotChunk out;
  l = Limits{};
  l.max_chunk_data_size = 299;
  EXPECT_FAILS(decode_chunk(p.data(), p.size(), l, &out), ErrorCode::kPayloadTooBig,
               "chunk: data size 300 exceeds limit 299");
  l = Limits{};
  l.max_file_metadata_size = 3;
  EXPECT_FAILS(decode_chunk(p.data(), p.size(), l, &out), ErrorCode::kPayloadTooBig,
               "chunk: file_info metadata size 4 exceeds limit 3");
}

TEST(WireDecode, UnknownVersions) {
  std::string p;
  encode_batch(small_batch(), &p);
  for (uint8_t v : {0, 2, 255}) {
    p[0] = static_cast<char>(v);
    EXPECT_FAILS(decode_batch_str(p), ErrorCode::kIncompatibleData,
                 "batch: unknown format version " + std::to_string(v) + " (this build reads 1)");
  }
  std::string c;
  encode_chunk(small_chunk(), &c);
  c[0] = 2;
  SnapshotChunk out;
  EXPECT_FAILS(decode_chunk(c.data(), c.size(), Limits{}, &out), ErrorCode::kIncompatibleData,
               "chunk: unknown format version 2 (this build reads 1)");
}

TEST(WireDecode, MalformedFields) {
  std::string ok_tail = varint(0);  // no entries
  EXPECT_FAILS(decode_batch_str(batch_prefix() + varint(1) + message_head(22) + ok_tail),
               ErrorCode::kCorrupted, "batch: message 0: unknown message type 22");
  EXPECT_FAILS(decode_batch_str(batch_prefix() + varint(1) + message_head(7, 0x04) + ok_tail),
               ErrorCode::kCorrupted, "batch: message 0: unknown message flags 0x04");
  EXPECT_TRUE(decode_batch_str(batch_prefix() + varint(1) + message_head(21) + ok_tail).ok());

  std::string entry = varint(1) + varint(1) + std::string(1, '\3') + std::string(5, '\0');
  EXPECT_FAILS(
      decode_batch_str(batch_prefix() + varint(1) + message_head() + varint(1) + entry),
      ErrorCode::kCorrupted, "batch: message 0: entry 0: unknown entry type 3");

  std::string snap = std::string(1, '\x02') + varint(1) + varint(1);
  EXPECT_FAILS(decode_batch_str(batch_prefix() + varint(1) + message_head(15, 0x02) + ok_tail +
                                snap + std::string(8, '\0')),
               ErrorCode::kCorrupted, "batch: message 0: unknown snapshot flags 0x02");

  // A membership that raft::decode_membership refuses.
  std::string bad_membership = std::string(1, '\0') + varint(1) + varint(1) + varint(3) + "xyz" +
                               varint(0) + varint(0) + varint(0);
  EXPECT_FAILS(decode_batch_str(batch_prefix() + varint(1) + message_head(15, 0x02) + ok_tail +
                                bad_membership),
               ErrorCode::kCorrupted, "batch: message 0: malformed membership");

  // An 11-byte varint and a 10-byte one that overflows.
  std::string p = batch_prefix() + varint(1) + message_head();
  EXPECT_FAILS(decode_batch_str(p + std::string(10, '\xff') + std::string(1, '\0')),
               ErrorCode::kCorrupted, "entry count: varint overflows 64 bits");
  EXPECT_FAILS(decode_batch_str(p + std::string(9, '\xff') + std::string(1, '\x02')),
               ErrorCode::kCorrupted, "entry count: varint overflows 64 bits");

  // bin_version wider than 32 bits.
  std::string wide(1, static_cast<char>(kBatchFormatVersion));
  wide += u64le(1) + varint(uint64_t{1} << 32) + varint(0) + varint(0);
  EXPECT_FAILS(decode_batch_str(wide), ErrorCode::kCorrupted,
               "batch: bin_version 4294967296 does not fit 32 bits");

  // Bytes after the last message.
  std::string full;
  encode_batch(small_batch(), &full);
  EXPECT_FAILS(decode_batch_str(full + "x"), ErrorCode::kCorrupted,
               "batch: 1 trailing bytes after the last message");

  std::string c;
  encode_chunk(small_chunk(), &c);
  SnapshotChunk out;
  std::string flags = c;
  flags[1] = 0x04;
  EXPECT_FAILS(decode_chunk(flags.data(), flags.size(), Limits{}, &out), ErrorCode::kCorrupted,
               "chunk: unknown flags 0x04");
  std::string extra = c + "x";
  EXPECT_FAILS(decode_chunk(extra.data(), extra.size(), Limits{}, &out), ErrorCode::kCorrupted,
               "chunk: 1 trailing bytes after the data");
}

TEST(WireDecode, ChunkDataChecksumIsVerified) {
  std::string c;
  encode_chunk(small_chunk(), &c);
  SnapshotChunk out;
  for (size_t i : {c.size() - 1, c.size() - 150, c.size() - 300}) {
    std::string f = c;
    f[i] ^= 0x20;
    EXPECT_FAILS(decode_chunk(f.data(), f.size(), Limits{}, &out), ErrorCode::kCorrupted,
                 "chunk: data checksum mismatch");
  }
  // The stored checksum itself damaged.
  std::string f = c;
  f[c.size() - 300 - 2 - 1] ^= 1;
  EXPECT_FAILS(decode_chunk(f.data(), f.size(), Limits{}, &out), ErrorCode::kCorrupted,
               "chunk: data checksum mismatch");
}

TEST(WireDecode, ErrorMessagesAreDistinct) {
  // Each failure class carries its own words, so a log line identifies it.
  std::set<std::string> seen;
  FrameHeader h;
  auto header_error = [&](const std::string& f) {
    Status s = decode_frame_header(f.data(), f.size(), Limits{}, &h);
    EXPECT_FALSE(s.ok());
    return s.to_string();
  };
  std::string good;
  encode_frame_header(Method::kPoke, {}, &good);
  std::string bad_sum = good;
  bad_sum[20] ^= 1;
  std::vector<std::string> msgs = {
      header_error(good.substr(0, 3)),
      header_error(raw_header(1, 2, 100, 0, 0)),
      header_error(bad_sum),
      header_error(raw_header(kFrameMagic0, kFrameMagic1, 7, 0, 0)),
      header_error(raw_header(kFrameMagic0, kFrameMagic1, 100, 5000000000ULL, 0)),
      header_error(raw_header(kFrameMagic0, kFrameMagic1, 300, 1, 0)),
  };
  FrameHeader ph;
  ph.payload_size = 1;
  ph.payload_checksum = 0;
  msgs.push_back(verify_payload(ph, "x", 1).to_string());
  for (const auto& m : msgs) EXPECT_TRUE(seen.insert(m).second) << m;
  EXPECT_EQ(seen.size(), 7u);
}

}  // namespace
}  // namespace dragonboat::transport
