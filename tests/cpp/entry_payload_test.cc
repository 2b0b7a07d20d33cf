// Compressed log entries (Config::entry_compression_type): the encoded
// payload round-trips, is used only when it shrinks the command, rejects
// damaged bytes without trusting their lengths, and the applier hands the
// state machine the original command, sessions included.
#include <gtest/gtest.h>

#include <string>

#include "message_builder.h"
#include "rsm/applier.h"
#include "rsm/entry_payload.h"
#include "test_state_machines.h"

namespace dragonboat::rsm {
namespace {

using raft::Entry;
using raft::EntryType;
using dragonboat::test::entry;

// A 1 KiB command that compresses well but is not one repeated byte.
std::string compressible(int seed) {
  std::string s;
  while (s.size() < 1024) s += "key-" + std::to_string(seed) + "=value-" + std::to_string(s.size() % 7) + ";";
  return s;
}

std::string encoded(CompressionType t, const std::string& cmd) {
  std::string out;
  EXPECT_TRUE(encode_payload(t, cmd, &out));
  return out;
}

class EntryPayload : public ::testing::TestWithParam<CompressionType> {};

TEST_P(EntryPayload, RoundTripsAndShrinks) {
  const std::string cmd = compressible(1);
  std::string enc = encoded(GetParam(), cmd);
  EXPECT_LT(enc.size(), cmd.size() / 2);
  EXPECT_EQ(static_cast<uint8_t>(enc[0]), static_cast<uint8_t>(GetParam())) << "version 0, the codec's number";
  std::string back;
  ASSERT_TRUE(decode_payload(enc, &back).ok());
  EXPECT_EQ(back, cmd);
}

TEST_P(EntryPayload, KeepsCommandsThatWouldNotShrink) {
  std::string out = "untouched";
  EXPECT_FALSE(encode_payload(GetParam(), "", &out));
  EXPECT_FALSE(encode_payload(GetParam(), "x", &out));
  std::string noise;
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 512; ++i) {  // xorshift bytes: incompressible
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    noise.push_back(static_cast<char>(x));
  }
  EXPECT_FALSE(encode_payload(GetParam(), noise, &out));
  EXPECT_EQ(out, "untouched");
}

TEST_P(EntryPayload, DamageIsCorruptionNotACrash) {
  const std::string cmd = compressible(2);
  const std::string enc = encoded(GetParam(), cmd);
  std::string back = "prior";
  auto rejects = [&](const std::string& bad, const char* what) {
    Status s = decode_payload(bad, &back);
    EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << what << ": " << s.to_string();
  };
  rejects("", "empty");
  rejects(enc.substr(0, 1), "header only");
  rejects(std::string(1, static_cast<char>(0x10 | static_cast<uint8_t>(GetParam()))) + enc.substr(1), "version 1");
  rejects(std::string(1, '\x07') + enc.substr(1), "unknown codec");
  rejects(std::string(1, '\x00') + enc.substr(1), "codec none");
  rejects(enc.substr(0, enc.size() - 3), "truncated data");
  std::string longer = enc;
  longer[1] = static_cast<char>(static_cast<uint8_t>(longer[1]) + 1);  // the length's low varint bits
  rejects(longer, "length one more than the data holds");
  // A length no real entry could claim must fail before it sizes a buffer.
  std::string huge(1, enc[0]);
  huge += std::string("\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 9);
  huge += enc.substr(3);
  rejects(huge, "huge length");
  EXPECT_EQ(back, "prior") << "a failed decode leaves the output alone";
}

INSTANTIATE_TEST_SUITE_P(Codecs, EntryPayload, ::testing::Values(CompressionType::kSnappy, CompressionType::kLZ4),
                         [](const auto& info) { return info.param == CompressionType::kSnappy ? "Snappy" : "LZ4"; });

TEST(EntryPayloadNone, NoCompressionNeverEncodes) {
  std::string out;
  EXPECT_FALSE(encode_payload(CompressionType::kNoCompression, compressible(3), &out));
  EXPECT_TRUE(out.empty());
}

test::EntryBuilder encoded_entry(uint64_t index, const std::string& cmd, CompressionType t) {
  return entry(index, 1, encoded(t, cmd)).with_key(100 + index).with_type(EntryType::kEncodedApplication);
}

// Plain and encoded entries interleave (replicas and runs may differ in the
// setting); the state machine sees exactly the original commands, once each,
// in log order, and a retried series is answered from the session cache.
TEST(EntryPayloadApply, StateMachineSeesOriginalCommandsOnce) {
  test::CheckerSM expect_sm, sm;
  SessionManager sessions;
  Applier a(&sm, &sessions);
  const std::string c2 = compressible(2), c3 = compressible(3), c4 = compressible(4);
  std::vector<Entry> ents = {
      entry(1, 1).with_key(1).with_session(9, kSeriesIDForRegister),
      encoded_entry(2, c2, CompressionType::kSnappy).with_session(9, 1),
      entry(3, 1, c3).with_key(3),
      encoded_entry(4, c4, CompressionType::kLZ4),
      encoded_entry(5, c2, CompressionType::kLZ4).with_session(9, 1),  // a retry of series 1
  };
  ApplyOutput out;
  ASSERT_TRUE(a.apply(ents, &out).ok());
  for (const std::string* c : {&c2, &c3, &c4}) {
    Result r;
    ASSERT_TRUE(expect_sm.update(*c, &r).ok());
  }
  EXPECT_EQ(sm.state().count, 3u);
  EXPECT_EQ(sm.state().hash, expect_sm.state().hash) << "same commands, same order";
  ASSERT_EQ(out.completions.size(), 5u);
  EXPECT_EQ(out.completions[4].result, out.completions[1].result) << "the retry gets the cached result";
}

TEST(EntryPayloadApply, DamagedEntryStopsBeforeIt) {
  test::CheckerSM sm;
  SessionManager sessions;
  Applier a(&sm, &sessions);
  std::string bad = encoded(CompressionType::kSnappy, compressible(5));
  bad.resize(bad.size() - 4);
  ApplyOutput out;
  Status s = a.apply({entry(1, 1, "a").with_key(1), entry(2, 1, bad).with_key(2).with_type(EntryType::kEncodedApplication),
                      entry(3, 1, "c").with_key(3)},
                     &out);
  EXPECT_EQ(s.code(), ErrorCode::kFatal) << s.to_string();
  EXPECT_NE(s.message().find("entry 2"), std::string::npos) << s.to_string();
  EXPECT_EQ(sm.state().count, 0u) << "nothing of the failed pass is applied";
  EXPECT_EQ(a.applied(), 0u);
}

}  // namespace
}  // namespace dragonboat::rsm
