// Tests of the transport wire codec (transport/wire.h) — malformed payloads:
// truncation at every offset, bit flips, length and count fields larger than
// the input, limits, unknown versions and malformed fields — each failing
// with its own named Status and without large allocations. Round trips are
// in wire_codec_roundtrip_test.cc, frame headers in wire_codec_frame_test.cc;
// the shared helpers are in wire_test_util.h.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "wire_test_util.h"

namespace dragonboat::transport {
namespace {

using namespace test;  // wire_test_util.h

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

  std::string entry = varint(1) + varint(1) + std::string(1, '\4') + std::string(5, '\0');
  EXPECT_FAILS(
      decode_batch_str(batch_prefix() + varint(1) + message_head() + varint(1) + entry),
      ErrorCode::kCorrupted, "batch: message 0: entry 0: unknown entry type 4");

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
