// Applying committed entries with client sessions: at-most-once under
// retries, routing of config changes, and a failing state machine stopping
// at the failing entry instead of skipping it.
#include <gtest/gtest.h>

#include "message_builder.h"
#include "rsm/applier.h"
#include "test_state_machines.h"

namespace dragonboat::rsm {
namespace {

using raft::Entry;
using raft::EntryType;

using dragonboat::test::entry;  // message_builder.h
// "k=v" sets k; result value = number of updates so far (test_state_machines.h).
using dragonboat::test::KV;

TEST(Applier, SessionsMakeRetriesAtMostOnce) {
  KV kv;
  SessionManager sessions;
  Applier a(&kv, &sessions);
  ApplyOutput out;
  std::vector<Entry> ents = {
      entry(1, 1),                                                      // leader no-op
      entry(2, 1).with_key(10).with_session(77, kSeriesIDForRegister),  // register client 77
      entry(3, 1, "x=1").with_key(11).with_session(77, 1),              // series 1
      entry(4, 1, "x=2").with_key(12).with_session(77, 1),              // a retry of series 1 (same series)
      entry(5, 1, "y=1").with_key(13).with_session(0, kNoOpSeriesID),   // no-op session: always applied
      entry(6, 1, "z=1").with_key(14).with_session(88, 1),              // unknown session
      entry(7, 1).with_key(15).with_session(77, kSeriesIDForRegister),  // registering twice
  };
  ASSERT_TRUE(a.apply(ents, &out).ok());
  EXPECT_EQ(a.applied(), 7u);
  EXPECT_EQ(kv.updates, 2u) << "the retried series is not applied again";
  EXPECT_EQ(kv.data["x"], "1");
  ASSERT_EQ(out.completions.size(), 6u);
  EXPECT_EQ(out.completions[0].key, 10u);
  EXPECT_EQ(out.completions[0].result.value, 77u);
  EXPECT_EQ(out.completions[1].result.data, "x=1");
  EXPECT_EQ(out.completions[2].key, 12u);
  EXPECT_EQ(out.completions[2].code, RequestResultCode::kCompleted);
  EXPECT_EQ(out.completions[2].result, out.completions[1].result) << "the cached result is returned";
  EXPECT_EQ(out.completions[4].code, RequestResultCode::kRejected) << "no such session";
  EXPECT_EQ(out.completions[5].code, RequestResultCode::kRejected) << "already registered";
}

TEST(Applier, ConfigChangesAndMetadataAreNotApplied) {
  KV kv;
  SessionManager sessions;
  Applier a(&kv, &sessions);
  ApplyOutput out;
  Entry cc = entry(1, 1, raft::encode_config_change(raft::ConfigChange{}))
                 .with_key(5)
                 .with_type(EntryType::kConfigChange);
  Entry meta = entry(2, 1).with_type(EntryType::kMetadata);
  ASSERT_TRUE(a.apply({cc, meta, entry(3, 1, "a=b").with_key(6)}, &out).ok());
  // Only the application entry reaches the state machine and completes here
  // (config changes are completed by the step side).
  ASSERT_EQ(out.completions.size(), 1u);
  EXPECT_EQ(out.completions[0].key, 6u);
  EXPECT_EQ(kv.updates, 1u);
  EXPECT_EQ(a.applied(), 3u);
}

TEST(Applier, FailingStateMachineStopsAtTheEntryAndNeverSkipsIt) {
  KV kv("fail");  // refuses "fail"
  SessionManager sessions;
  Applier a(&kv, &sessions);
  ApplyOutput out;
  Status s = a.apply(
      {entry(1, 1, "a=1").with_key(1), entry(2, 1, "fail").with_key(2), entry(3, 1, "b=1").with_key(3)}, &out);
  EXPECT_EQ(s.code(), ErrorCode::kFatal);
  EXPECT_NE(s.message().find("entry 2"), std::string::npos) << s.to_string();
  EXPECT_LT(a.applied(), 2u) << "entry 2 was not applied and nothing after it";
  EXPECT_EQ(kv.data.count("b"), 0u);
  // Applying out of order is refused.
  EXPECT_EQ(a.apply({entry(5, 1, "c=1").with_key(5)}, &out).code(), ErrorCode::kFatal);
}

}  // namespace
}  // namespace dragonboat::rsm
