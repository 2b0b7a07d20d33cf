// Tests of the transport wire codec (transport/wire.h) — what it encodes:
// property-based round trips of message batches and snapshot chunks built by
// a seeded generator, extreme values, encoding into a reused buffer without
// allocating, and the golden bytes of known values. Bad input is in
// wire_codec_frame_test.cc (frame headers) and wire_codec_malformed_test.cc
// (payloads); the shared helpers are in wire_test_util.h.
#include <xxhash.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "wire_test_util.h"

namespace dragonboat::transport {
namespace {

using namespace test;  // wire_test_util.h
using ::dragonboat::test::entry;  // message_builder.h
using ::dragonboat::test::msg;
using ::dragonboat::test::snap;

constexpr int kLastMessageType = static_cast<int>(MessageType::kNoOp);

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
  b.requests.push_back(msg(MessageType::kHeartbeat, 1, 2, 3).with_cluster(9).with_commit(10));
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
  b.requests.push_back(msg(MessageType::kReplicate, 1, 2, 3)
                           .with_cluster(5)
                           .with_log(200, 3)
                           .with_commit(199)
                           .with_entry(entry(201, 3, "hi").with_key(300)));
  Message s = msg(MessageType::kInstallSnapshot, 1, 3, 3)
                  .with_cluster(5)
                  .with_reject()
                  .with_snapshot(snap(150, 2).with_members({{1, "a"}}).with_file("f", 9).with_witness());
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

}  // namespace
}  // namespace dragonboat::transport
