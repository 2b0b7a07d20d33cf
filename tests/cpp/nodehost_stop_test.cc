// Stopping a NodeHost, or one of its groups, while other threads are inside
// calls on it: a start still running, reads holding the replica. Run under
// ASan+UBSan by the test command (scripts/dev.sh, ASAN_CI_TESTS), which is
// what turns a use-after-free here into a failure.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "nodehost_fixture.h"
#include "test_state_machines.h"

namespace dragonboat {
namespace {

using test::KV;
using test::TestCluster;
using namespace std::chrono_literals;

// A KV that records its close() (the replica was stopped, not abandoned).
class ClosingKV : public KV {
 public:
  explicit ClosingKV(std::shared_ptr<std::atomic<bool>> closed) : closed_(std::move(closed)) {}
  void close() override { closed_->store(true); }

 private:
  std::shared_ptr<std::atomic<bool>> closed_;
};

Config single(uint64_t cluster_id) {
  Config c = TestCluster::config(cluster_id, 1);
  c.check_quorum = false;
  return c;
}

// stop() while a start_cluster is inside its state machine factory: the stop
// waits for that start (it holds the host's start lock past its `stopped`
// check), then stops the replica it added. Before, stop() collected the
// running groups without waiting: the late replica was never stopped nor
// closed, and the LogDB was closed under the start still using it.
TEST(NodeHostStop, WaitsForAStartInProgressAndStopsWhatItStarted) {
  TestCluster tc(1);
  ASSERT_TRUE(tc.start_host(0).ok());
  NodeHost* nh = tc.hosts[0].get();
  auto closed = std::make_shared<std::atomic<bool>>(false);
  std::promise<void> entered, gate;
  std::shared_future<void> gate_open = gate.get_future().share();
  test::OpenOnExit release{&gate};
  auto start = std::async(std::launch::async, [&] {
    return nh->start_cluster({{1, tc.addresses[0]}}, false,
                             [&](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> {
                               entered.set_value();
                               gate_open.wait();
                               return std::make_unique<ClosingKV>(closed);
                             },
                             single(7));
  });
  entered.get_future().wait();
  auto stop = std::async(std::launch::async, [&] { nh->stop(); });
  // The stop cannot finish while the factory runs. (A bounded look: on the
  // old code it finished well within it; on this code it never can.)
  EXPECT_EQ(stop.wait_for(300ms), std::future_status::timeout);
  release.open();
  Status started = start.get();
  stop.get();
  EXPECT_TRUE(started.ok()) << started.to_string();  // it was past the check when stop() began
  EXPECT_TRUE(closed->load()) << "the replica the start added was not stopped by stop()";
  std::string answer;
  EXPECT_EQ(nh->stale_read(7, "k", &answer).code(), ErrorCode::kSystemStopped);
}

// Reads that hold a replica while stop_cluster stops it and drops the host's
// reference: each read gets an answer or kClusterClosed / kClusterNotFound,
// never a state machine that was closed or freed (the replica now co-owns
// its state machine, and a closed one refuses reads).
TEST(NodeHostStop, ReadsRacingStopClusterGetAnAnswerOrClusterClosed) {
  TestCluster tc(1);
  ASSERT_TRUE(tc.start_host(0).ok());
  NodeHost* nh = tc.hosts[0].get();
  for (uint64_t round = 1; round <= 10; ++round) {
    ASSERT_TRUE(nh->start_cluster({{1, tc.addresses[0]}}, false, test::make_kv, single(round)).ok());
    Session s = nh->get_noop_session(round);
    ASSERT_TRUE(tc.propose(0, s, "k=v" + std::to_string(round)).ok());
    std::atomic<int> readers_in{0};
    std::vector<std::future<ErrorCode>> readers;
    std::string want = "v" + std::to_string(round);
    for (int r = 0; r < 2; ++r) {  // stale reads: the state machine's lookup
      readers.push_back(std::async(std::launch::async, [&] {
        readers_in.fetch_add(1);
        for (;;) {
          std::string answer;
          Status st = nh->stale_read(round, "k", &answer);
          if (!st.ok()) return st.code();
          if (answer != want) return ErrorCode::kInvalidOperation;  // a wrong answer is a failure too
        }
      }));
    }
    readers.push_back(std::async(std::launch::async, [&] {  // node info: the state machine's kind
      readers_in.fetch_add(1);
      for (;;) {
        (void)nh->get_node_host_info(NodeHostInfoOption{});
        uint64_t id = 0;
        bool valid = false;
        Status st = nh->get_leader_id(round, &id, &valid);
        if (!st.ok()) return st.code();
      }
    }));
    ASSERT_TRUE(test::eventually([&] { return readers_in.load() == 3; }, 10s));
    ASSERT_TRUE(nh->stop_cluster(round).ok());
    for (auto& f : readers) {
      ErrorCode c = f.get();
      EXPECT_TRUE(c == ErrorCode::kClusterClosed || c == ErrorCode::kClusterNotFound) << static_cast<int>(c);
    }
  }
}

}  // namespace
}  // namespace dragonboat
