// Busy polling (NodeHostConfig::busy_poll_microseconds, common/spin_wait.h):
// how a waiter's polling window adapts, that a poll hands over work pushed
// from another thread, the setting's bounds, and three NodeHosts that poll
// applying every write exactly once (a counter would show a double or
// skipped apply), including writes one at a time, the path polling is for.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/spin_wait.h"
#include "nodehost_fixture.h"
#include "test_state_machines.h"

namespace dragonboat {
namespace {

using namespace std::chrono_literals;
using test::ConcurrentCounter;
using test::TestCluster;

constexpr uint64_t kStart = AdaptiveSpin::kGrowStartNs;

TEST(AdaptiveSpin, StartsSleepingAndGrowsOnlyAfterSleepsShorterThanTheBudget) {
  AdaptiveSpin spin;
  spin.set_budget_ns(100'000);
  EXPECT_EQ(spin.window_ns(), 0u) << "a new waiter does not poll";
  spin.slept(1ms);  // longer than the budget: polling would not have caught it
  EXPECT_EQ(spin.window_ns(), 0u);
  spin.slept(5us);
  EXPECT_EQ(spin.window_ns(), kStart);
  spin.slept(5us);
  EXPECT_EQ(spin.window_ns(), 2 * kStart);
  spin.slept(5us);
  spin.slept(5us);
  EXPECT_EQ(spin.window_ns(), 8 * kStart);
  spin.slept(5us);
  EXPECT_EQ(spin.window_ns(), 100'000u) << "capped at the budget";
  // Sleeps past the budget halve the window, then stop polling altogether.
  spin.slept(1ms);
  EXPECT_EQ(spin.window_ns(), 50'000u);
  spin.slept(1ms);
  spin.slept(1ms);
  EXPECT_EQ(spin.window_ns(), 12'500u);
  spin.slept(1ms);
  EXPECT_EQ(spin.window_ns(), 0u) << "below the growth start: no polling";
}

TEST(AdaptiveSpin, AZeroBudgetNeverPollsAndALowerBudgetCapsTheWindow) {
  AdaptiveSpin off;
  for (int i = 0; i < 10; ++i) off.slept(0ns);
  EXPECT_EQ(off.window_ns(), 0u);
  EXPECT_FALSE(off.poll([] { return true; })) << "a zero window does not even look";

  AdaptiveSpin spin;
  spin.set_budget_ns(1'000'000);
  for (int i = 0; i < 20; ++i) spin.slept(0ns);  // woken at once each time: poll as long as allowed
  EXPECT_EQ(spin.window_ns(), 1'000'000u);
  spin.slept(1us);  // poll + sleep now over the budget: polling longer would not have helped
  EXPECT_EQ(spin.window_ns(), 500'000u);
  spin.set_budget_ns(30'000);
  EXPECT_EQ(spin.window_ns(), 30'000u);
}

TEST(SpinUntil, ReturnsTrueForWorkPublishedByAnotherThreadAndFalseWhenNoneCame) {
  std::atomic<bool> ready{false};
  std::atomic<bool> polling{false};
  std::thread producer([&] {
    while (!polling.load()) std::this_thread::yield();
    ready.store(true);
  });
  // A minute of budget: the poll returns as soon as the flag flips.
  bool got = spin_until(
      [&] {
        polling.store(true);
        return ready.load();
      },
      60'000'000'000ull);
  producer.join();
  EXPECT_TRUE(got);
  EXPECT_FALSE(spin_until([] { return false; }, 1'000));
  EXPECT_FALSE(spin_until([] { return true; }, 0)) << "no budget: the caller sleeps instead";
}

TEST(BusyPollSetting, IsBoundedBySizeAndByHalfTheTick) {
  NodeHostConfig c;
  c.node_host_dir = "/tmp/unused";
  c.raft_address = "127.0.0.1:1";
  c.rtt_millisecond = 10;
  c.busy_poll_microseconds = 4'999;
  EXPECT_TRUE(c.validate().ok());
  c.busy_poll_microseconds = 5'000;  // half the tick: ticks alone would keep it polling
  Status s = c.validate();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidClusterSettings);
  EXPECT_NE(s.message().find("busy_poll_microseconds"), std::string::npos) << s.message();
  c.rtt_millisecond = 1000;
  c.busy_poll_microseconds = 10'000;
  EXPECT_TRUE(c.validate().ok());
  c.busy_poll_microseconds = 10'001;
  EXPECT_EQ(c.validate().code(), ErrorCode::kInvalidClusterSettings);
  c.busy_poll_microseconds = UINT64_MAX;
  EXPECT_EQ(c.validate().code(), ErrorCode::kInvalidClusterSettings);
}

TEST(BusyPollingHosts, ApplyEveryWriteOnceOneAtATimeAndInFlight) {
  TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tc.start_host(i, [](NodeHostConfig* hc) { hc->busy_poll_microseconds = 2'000; }).ok());
  }
  ConcurrentCounter* sms[3] = {};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tc.hosts[i]->start_concurrent_cluster(tc.members(), false,
                                                     [&sms, i](uint64_t, uint64_t) {
                                                       auto sm = std::make_unique<ConcurrentCounter>();
                                                       sms[i] = sm.get();
                                                       return sm;
                                                     },
                                                     TestCluster::config(1, i + 1))
                    .ok());
  }
  int leader = tc.leader(1);
  ASSERT_GE(leader, 0);
  NodeHost& nh = *tc.hosts[leader];
  Session noop = nh.get_noop_session(1);
  // One at a time: each write's result is the count after it, so a double
  // or skipped apply breaks the sequence.
  for (uint64_t i = 1; i <= 200; ++i) {
    Result r;
    ASSERT_TRUE(tc.propose(leader, noop, "+1", &r).ok());
    ASSERT_EQ(r.value, i);
  }
  // Writes one at a time leave gaps far shorter than 2 ms: the workers'
  // windows grew and some wake-ups were found by polling.
  double polled = 0;
  for (auto& h : tc.hosts) polled += h->get_health_metrics().total("dragonboat_busy_poll_wakeups_total");
  EXPECT_GT(polled, 0.0);
  // Then 300 in flight: every result distinct.
  std::set<uint64_t> values;
  ASSERT_NO_FATAL_FAILURE(test::propose_increments(nh, noop, 300, &values));
  EXPECT_EQ(values.size(), 300u);
  EXPECT_EQ(*values.rbegin(), 500u);
  for (size_t i = 0; i < 3; ++i) {
    std::string v;
    ASSERT_TRUE(tc.read(i, 1, "", &v).ok());
    EXPECT_EQ(v, "500") << "host " << i;
  }
}

TEST(BusyPollingHosts, AHostWithoutBusyPollingNeverPolls) {
  TestCluster tc(1);
  ASSERT_TRUE(tc.start_host(0).ok());
  ASSERT_TRUE(tc.hosts[0]->start_cluster(tc.members(), false, test::make_kv, TestCluster::config(1, 1)).ok());
  ASSERT_EQ(tc.leader(1), 0);
  Session noop = tc.hosts[0]->get_noop_session(1);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(tc.propose(0, noop, "k=" + std::to_string(i)).ok());
  EXPECT_EQ(tc.hosts[0]->get_health_metrics().total("dragonboat_busy_poll_wakeups_total"), 0.0);
}

}  // namespace
}  // namespace dragonboat
