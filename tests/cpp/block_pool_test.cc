// The block pool behind the pending-request tables (engine/block_pool.h):
// freed blocks are reused by size up to a bound, trimmed on demand, and a
// container drawing nodes from it reuses them instead of calling malloc; a
// pending-request table that fills and empties over and over still completes
// every request once (run under ASan in CI: a block handed out twice or
// freed while in use is a reported error there). The thread-safe recycled
// blocks behind RequestState (common/recycled_blocks.h) hand a block freed on
// one thread to the next allocation on another, up to their bound.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "common/recycled_blocks.h"
#include "engine/block_pool.h"
#include "engine/pending_requests.h"

namespace dragonboat::engine {
namespace {

TEST(BlockPool, ReusesFreedBlocksOfTheSameSizeUpToItsBound) {
  BlockPool pool(2);
  void* a = pool.allocate(64);
  void* b = pool.allocate(64);
  void* c = pool.allocate(64);
  pool.deallocate(a, 64);
  pool.deallocate(b, 64);
  pool.deallocate(c, 64);  // beyond the bound: back to malloc
  EXPECT_EQ(pool.kept(64), 2u);
  void* again = pool.allocate(64);
  EXPECT_TRUE(again == a || again == b) << "a kept block is handed out again";
  EXPECT_EQ(pool.kept(64), 1u);
  void* other = pool.allocate(32);  // another size has its own list
  pool.deallocate(other, 32);
  EXPECT_EQ(pool.kept(32), 1u);
  EXPECT_EQ(pool.kept(), 2u);
  pool.trim(0);
  EXPECT_EQ(pool.kept(), 0u);
  pool.deallocate(again, 64);
  EXPECT_EQ(pool.kept(64), 1u);  // freed by the destructor
}

TEST(BlockPool, AMapDrawsItsNodesFromThePoolAndReusesThem) {
  BlockPool pool(256);
  using Alloc = PoolAllocator<std::pair<const uint64_t, uint64_t>>;
  std::map<uint64_t, uint64_t, std::less<uint64_t>, Alloc> m{Alloc(&pool)};
  for (uint64_t i = 0; i < 100; ++i) m.emplace(i, i);
  EXPECT_EQ(pool.kept(), 0u);
  m.clear();
  EXPECT_EQ(pool.kept(), 100u) << "every node came back";
  for (uint64_t i = 0; i < 60; ++i) m.emplace(i, i * 2);
  EXPECT_EQ(pool.kept(), 40u) << "new nodes are the kept ones";
  EXPECT_EQ(m.at(59), 118u);
}

TEST(PendingRequests, FillingAndEmptyingOverAndOverCompletesEveryRequestOnce) {
  // The table trims its pool whenever it empties (one request at a time),
  // and keeps it while busy (many in flight): both ways, every request
  // completes exactly once with its own result.
  PendingRequests p(1000);
  uint64_t key = 0;
  for (int round = 0; round < 50; ++round) {
    const int n = round % 2 == 0 ? 1 : 300;
    std::vector<RequestStatePtr> states(size_t(n), nullptr);
    const uint64_t first = key + 1;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(p.add(++key, 100 + uint64_t(round), &states[size_t(i)]).ok());
    for (int i = 0; i < n; i += 2) {
      ASSERT_TRUE(p.complete(first + uint64_t(i), RequestResultCode::kCompleted, Result{first + uint64_t(i), ""}));
    }
    EXPECT_EQ(p.expire(100 + uint64_t(round)), size_t(n / 2));
    EXPECT_EQ(p.size(), 0u);
    for (int i = 0; i < n; ++i) {
      RequestResult r = states[size_t(i)]->wait();
      if (i % 2 == 0) {
        ASSERT_TRUE(r.completed());
        EXPECT_EQ(r.result.value, first + uint64_t(i));
      } else {
        EXPECT_TRUE(r.timeout());
      }
    }
  }
}

TEST(RecycledBlocks, ABlockFreedOnOneThreadIsReusedByAnotherUpToTheBound) {
  using Blocks = RecycledBlocks<200, 3>;  // a size and bound of this test's own
  std::vector<void*> made(5);
  for (void*& p : made) p = Blocks::allocate();
  std::thread([&] {
    for (void* p : made) Blocks::deallocate(p);  // the last two go back to malloc
  }).join();
  EXPECT_EQ(Blocks::kept(), 3u);
  void* again = nullptr;
  std::thread([&] { again = Blocks::allocate(); }).join();
  EXPECT_TRUE(again == made[0] || again == made[1] || again == made[2]) << "a kept block, from another thread";
  EXPECT_EQ(Blocks::kept(), 2u);
  Blocks::deallocate(again);
}

TEST(RecycledBlocks, SharedObjectsMadeFromThemAreRecycled) {
  struct Thing {
    uint64_t a[20];
  };
  // Made here, dropped on another thread (as the apply worker drops a
  // request), made again here: glibc's per-thread cache cannot return that
  // block to this thread; the recycled blocks do.
  RecyclingAllocator<Thing> alloc;
  auto t = std::allocate_shared<Thing>(alloc);
  void* first = t.get();
  t->a[19] = 7;
  std::thread([t = std::move(t)]() mutable { t.reset(); }).join();
  auto again = std::allocate_shared<Thing>(alloc);
  EXPECT_EQ(static_cast<void*>(again.get()), first) << "the object and its control block came back as one block";
}

}  // namespace
}  // namespace dragonboat::engine
