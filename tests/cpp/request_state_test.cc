// RequestState completes exactly once (waiters and callbacks agree), its
// committed mark (notify_commit) wakes waiters and callbacks once, and the
// engine's pending-request table enforces its bound and tick deadlines.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dragonboat/request_state.h"
#include "engine/pending_requests.h"

namespace dragonboat {
namespace {

TEST(RequestState, CompletesExactlyOnceForWaitersAndCallbacks) {
  RequestState rs(5);
  std::atomic<int> calls{0};
  rs.on_complete([&](const RequestResult& r) {
    EXPECT_TRUE(r.completed());
    EXPECT_EQ(r.result.value, 9u);
    ++calls;
  });
  RequestResult out;
  EXPECT_FALSE(rs.wait_for(std::chrono::milliseconds(0), &out)) << "pending";
  EXPECT_TRUE(rs.complete(RequestResultCode::kCompleted, Result{9, "x"}));
  EXPECT_FALSE(rs.complete(RequestResultCode::kTimeout)) << "a second completion is ignored";
  ASSERT_TRUE(rs.wait_for(std::chrono::milliseconds(0), &out));
  EXPECT_TRUE(out.completed());
  EXPECT_EQ(out.result.data, "x");
  // A callback registered after completion runs at once, with the same outcome.
  rs.on_complete([&](const RequestResult& r) {
    EXPECT_EQ(r.result.value, 9u);
    ++calls;
  });
  EXPECT_EQ(calls.load(), 2);
  EXPECT_STREQ(request_result_code_name(RequestResultCode::kDropped), "dropped");
}

TEST(RequestState, CallbacksRunOnceEachInTheOrderTheyWereAdded) {
  // The first callback is kept apart from the others (no allocation for the
  // usual single one): the order and the exactly-once still hold for many.
  RequestState rs(6);
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) rs.on_complete([&order, i](const RequestResult&) { order.push_back(i); });
  EXPECT_TRUE(rs.complete(RequestResultCode::kDropped));
  EXPECT_FALSE(rs.complete(RequestResultCode::kCompleted));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(RequestState, RacingCompletersProduceOneOutcome) {
  for (int round = 0; round < 200; ++round) {
    auto rs = std::make_shared<RequestState>();
    std::atomic<int> winners{0}, callbacks{0};
    rs->on_complete([&](const RequestResult&) { ++callbacks; });
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) {
      ts.emplace_back([&, i] {
        if (rs->complete(i % 2 ? RequestResultCode::kCompleted : RequestResultCode::kTimeout)) ++winners;
      });
    }
    RequestResult seen = rs->wait();
    for (auto& t : ts) t.join();
    EXPECT_EQ(winners.load(), 1);
    EXPECT_EQ(callbacks.load(), 1);
    EXPECT_EQ(rs->wait().code, seen.code);
  }
}

TEST(RequestState, CommittedMarkWakesWaitersAndCallbacksOnce) {
  RequestState rs;
  std::vector<bool> seen;
  rs.on_committed([&](bool c) { seen.push_back(c); });
  EXPECT_FALSE(rs.committed());
  EXPECT_FALSE(rs.wait_committed(std::chrono::milliseconds(0))) << "neither committed nor done";
  std::thread marker([&] { rs.set_committed(); });
  EXPECT_TRUE(rs.wait_committed(std::chrono::seconds(10))) << "woken by the mark";
  marker.join();
  EXPECT_TRUE(rs.committed());
  EXPECT_FALSE(rs.done());
  rs.set_committed();  // idempotent: the callback does not run again
  rs.on_committed([&](bool c) { seen.push_back(c); });  // after the mark: at once
  ASSERT_TRUE(rs.complete(RequestResultCode::kCompleted));
  EXPECT_EQ(seen, (std::vector<bool>{true, true})) << "completion does not repeat the mark";
}

TEST(RequestState, CommittedCallbacksRunBeforeACompletionThatRacesThem) {
  // The step worker marks a request committed while the apply worker may
  // already complete it. However slowly the committed callbacks run, the
  // completion callbacks come after them (the Python binding queues both:
  // the queue's order is what a client sees).
  RequestState rs;
  std::mutex mu;
  std::vector<std::string> order;
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  rs.on_committed([&](bool) {
    entered.set_value();
    released.wait();  // a slow committed callback
    std::lock_guard<std::mutex> g(mu);
    order.push_back("committed");
  });
  std::promise<void> completed_cb;
  auto completed = completed_cb.get_future();
  rs.on_complete([&](const RequestResult&) {
    std::lock_guard<std::mutex> g(mu);
    order.push_back("completed");
    completed_cb.set_value();
  });
  std::thread marker([&] { rs.set_committed(); });
  entered.get_future().wait();
  std::thread completer([&] { rs.complete(RequestResultCode::kCompleted); });
  // Without the ordering the completion callback runs now, while the
  // committed one is still inside; with it, it waits (the bounded wait only
  // gives a broken version the chance to show).
  EXPECT_EQ(completed.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  release.set_value();
  marker.join();
  completer.join();
  EXPECT_EQ(order, (std::vector<std::string>{"committed", "completed"}));
  EXPECT_FALSE(rs.complete(RequestResultCode::kTimeout));
}

TEST(RequestState, CompletionStandsInForTheCommittedMark) {
  // Without notify_commit nothing marks the request: completion decides.
  RequestState done;
  std::vector<bool> seen;
  done.on_committed([&](bool c) { seen.push_back(c); });
  std::vector<int> order;
  done.on_committed([&](bool) { order.push_back(1); });
  done.on_complete([&](const RequestResult&) { order.push_back(2); });
  ASSERT_TRUE(done.complete(RequestResultCode::kCompleted));
  EXPECT_TRUE(done.committed());
  EXPECT_TRUE(done.wait_committed(std::chrono::milliseconds(0)));
  EXPECT_EQ(order, (std::vector<int>{1, 2})) << "the committed callbacks run first";
  // Another outcome is done but not committed.
  RequestState dropped;
  dropped.on_committed([&](bool c) { seen.push_back(c); });
  ASSERT_TRUE(dropped.complete(RequestResultCode::kDropped));
  EXPECT_FALSE(dropped.committed());
  EXPECT_TRUE(dropped.wait_committed(std::chrono::milliseconds(0))) << "done: nothing to wait for";
  dropped.on_committed([&](bool c) { seen.push_back(c); });
  EXPECT_EQ(seen, (std::vector<bool>{true, false, false}));
}

TEST(PendingRequests, BoundedAndUniqueKeys) {
  engine::PendingRequests p(2);
  RequestStatePtr a, b, c;
  ASSERT_TRUE(p.add(1, 10, &a).ok());
  EXPECT_EQ(p.add(1, 10, &b).code(), ErrorCode::kInvalidOperation);
  ASSERT_TRUE(p.add(2, 10, &b).ok());
  EXPECT_EQ(p.add(3, 10, &c).code(), ErrorCode::kSystemBusy) << "backpressure";
  EXPECT_TRUE(p.complete(1, RequestResultCode::kCompleted, Result{4, ""}));
  EXPECT_FALSE(p.complete(1, RequestResultCode::kCompleted)) << "already completed";
  EXPECT_TRUE(a->done());
  EXPECT_EQ(a->wait().result.value, 4u);
  EXPECT_TRUE(p.add(3, 10, &c).ok()) << "room again";
}

TEST(PendingRequests, DeadlinesInTicksAndBulkCompletion) {
  engine::PendingRequests p(100);
  RequestStatePtr early, late, other;
  ASSERT_TRUE(p.add(1, 5, &early).ok());
  ASSERT_TRUE(p.add(2, 9, &late).ok());
  ASSERT_TRUE(p.add(3, 9, &other).ok());
  EXPECT_EQ(p.expire(4), 0u);
  EXPECT_EQ(p.expire(5), 1u);
  EXPECT_TRUE(early->wait().timeout());
  EXPECT_FALSE(late->done());
  EXPECT_TRUE(p.complete(2, RequestResultCode::kCompleted));
  EXPECT_EQ(p.complete_all(RequestResultCode::kTerminated), 1u);
  EXPECT_TRUE(other->wait().terminated());
  EXPECT_EQ(p.size(), 0u);
  EXPECT_EQ(p.expire(100), 0u) << "nothing left to expire twice";
}

TEST(PendingRequests, ATableDestroyedWithRequestsPendingTerminatesThem) {
  // Every RequestState the engine makes completes exactly once: the Python
  // binding hands each callback's reference over at completion.
  RequestStatePtr left;
  int calls = 0;
  {
    engine::PendingRequests p(10);
    ASSERT_TRUE(p.add(1, 100, &left).ok());
    left->on_complete([&](const RequestResult& r) {
      EXPECT_TRUE(r.terminated());
      ++calls;
    });
  }
  EXPECT_TRUE(left->done());
  EXPECT_EQ(calls, 1);
}

TEST(PendingRequests, AnEntryCompletesOnlyTheRequestWithItsSessionFields) {
  // An entry of an earlier life (or another proposer) holding the same key
  // must not complete a request made with other session fields.
  engine::PendingRequests p(10);
  RequestStatePtr mine;
  ASSERT_TRUE(p.add(7, 100, &mine, engine::RequestTag{42, 3}).ok());
  EXPECT_FALSE(p.complete_entry(7, engine::RequestTag{0, 0}, RequestResultCode::kCompleted, Result{1, "old"}));
  EXPECT_FALSE(p.complete_entry(7, engine::RequestTag{42, 2}, RequestResultCode::kCompleted, Result{1, "old"}));
  EXPECT_FALSE(mine->done()) << "still waiting for its own entry";
  p.notify_committed(7, engine::RequestTag{42, 2});
  EXPECT_FALSE(mine->committed());
  EXPECT_TRUE(p.complete_entry(7, engine::RequestTag{42, 3}, RequestResultCode::kCompleted, Result{9, "new"}));
  EXPECT_EQ(mine->wait().result.data, "new");
  EXPECT_EQ(p.size(), 0u);
}

}  // namespace
}  // namespace dragonboat
