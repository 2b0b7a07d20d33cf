// Applying committed entries with client sessions: at-most-once under
// retries, routing of config changes, and a failing state machine stopping
// at the failing entry instead of skipping it.
#include <gtest/gtest.h>

#include <map>

#include "rsm/applier.h"

namespace dragonboat::rsm {
namespace {

using raft::Entry;
using raft::EntryType;

// "k=v" sets k; result value = number of updates so far; "fail" fails.
class KV : public IStateMachine {
 public:
  Status update(std::string_view cmd, Result* r) override {
    if (cmd == "fail") return Status(ErrorCode::kInvalidOperation, "refused command");
    auto eq = cmd.find('=');
    data[std::string(cmd.substr(0, eq))] = std::string(cmd.substr(eq + 1));
    r->value = ++updates;
    r->data = std::string(cmd);
    return Status::OK();
  }
  Status lookup(std::string_view q, std::string* a) override {
    *a = data[std::string(q)];
    return Status::OK();
  }
  Status save_snapshot(ISnapshotWriter*) override { return Status::OK(); }
  Status recover_from_snapshot(ISnapshotReader*) override { return Status::OK(); }
  std::map<std::string, std::string> data;
  uint64_t updates = 0;
};

Entry entry(uint64_t index, std::string cmd, uint64_t key, uint64_t client = 0, uint64_t series = 0,
            uint64_t responded = 0) {
  Entry e;
  e.index = index;
  e.term = 1;
  e.cmd = std::move(cmd);
  e.key = key;
  e.client_id = client;
  e.series_id = series;
  e.responded_to = responded;
  return e;
}

TEST(Applier, SessionsMakeRetriesAtMostOnce) {
  KV kv;
  SessionManager sessions;
  Applier a(&kv, &sessions);
  ApplyOutput out;
  std::vector<Entry> ents = {
      entry(1, "", 0),                                      // leader no-op
      entry(2, "", 10, 77, kSeriesIDForRegister),           // register client 77
      entry(3, "x=1", 11, 77, 1),                           // series 1
      entry(4, "x=2", 12, 77, 1),                           // a retry of series 1 (same series)
      entry(5, "y=1", 13, 0, kNoOpSeriesID),                // no-op session: always applied
      entry(6, "z=1", 14, 88, 1),                           // unknown session
      entry(7, "", 15, 77, kSeriesIDForRegister),           // registering twice
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
  Entry cc = entry(1, raft::encode_config_change(raft::ConfigChange{}), 5);
  cc.type = EntryType::kConfigChange;
  Entry meta = entry(2, "", 0);
  meta.type = EntryType::kMetadata;
  ASSERT_TRUE(a.apply({cc, meta, entry(3, "a=b", 6)}, &out).ok());
  // Only the application entry reaches the state machine and completes here
  // (config changes are completed by the step side).
  ASSERT_EQ(out.completions.size(), 1u);
  EXPECT_EQ(out.completions[0].key, 6u);
  EXPECT_EQ(kv.updates, 1u);
  EXPECT_EQ(a.applied(), 3u);
}

TEST(Applier, FailingStateMachineStopsAtTheEntryAndNeverSkipsIt) {
  KV kv;
  SessionManager sessions;
  Applier a(&kv, &sessions);
  ApplyOutput out;
  Status s = a.apply({entry(1, "a=1", 1), entry(2, "fail", 2), entry(3, "b=1", 3)}, &out);
  EXPECT_EQ(s.code(), ErrorCode::kFatal);
  EXPECT_NE(s.message().find("entry 2"), std::string::npos) << s.to_string();
  EXPECT_LT(a.applied(), 2u) << "entry 2 was not applied and nothing after it";
  EXPECT_EQ(kv.data.count("b"), 0u);
  // Applying out of order is refused.
  EXPECT_EQ(a.apply({entry(5, "c=1", 5)}, &out).code(), ErrorCode::kFatal);
}

}  // namespace
}  // namespace dragonboat::rsm
