// An entry's command bytes (dragonboat/payload.h): one block holding the
// count and the bytes; copies share it, moves hand it over, the last copy
// frees it whichever thread drops it (run under ASan in CI: a block freed
// twice or read after its free is a reported error there).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dragonboat/payload.h"

namespace dragonboat::raftpb {
namespace {

TEST(Payload, CopiesShareTheBytesAndOutliveTheOriginal) {
  std::string source(100, 'a');
  Payload p(source);
  source.assign(100, 'b');  // a copy was taken: the payload does not see this
  EXPECT_EQ(p, std::string(100, 'a'));
  Payload q;
  {
    Payload copy = p;
    EXPECT_EQ(copy.data(), p.data()) << "the same buffer, not a second one";
    q = copy;
  }
  p = Payload();  // the original is gone; q still holds the bytes
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(q.size(), 100u);
  EXPECT_EQ(q.view(), std::string(100, 'a'));
  EXPECT_EQ(q.str(), std::string(100, 'a'));
}

TEST(Payload, MovesHandTheBufferOverAndSelfAssignmentKeepsIt) {
  Payload p("command");
  const char* bytes = p.data();
  Payload moved = std::move(p);
  EXPECT_EQ(moved.data(), bytes);
  EXPECT_TRUE(p.empty());  // NOLINT(bugprone-use-after-move): a moved-from payload is empty
  EXPECT_EQ(p.data()[0], '\0') << "an empty payload reads as an empty string";
  Payload& alias = moved;
  moved = alias;
  EXPECT_EQ(moved, "command");
  moved = std::move(alias);
  EXPECT_EQ(moved, "command");
  Payload other("x");
  moved.swap(other);
  EXPECT_EQ(moved, "x");
  EXPECT_EQ(other, "command");
}

TEST(Payload, EmptyAndBinaryBytes) {
  EXPECT_TRUE(Payload("").empty());
  EXPECT_TRUE(Payload(std::string_view()).empty());
  const std::string binary("a\0b\xff", 4);
  Payload p(binary);
  EXPECT_EQ(p.size(), 4u);
  EXPECT_EQ(p, binary);
  EXPECT_NE(p, "a") << "the NUL is part of the bytes";
  p.assign("xyz", 2);
  EXPECT_EQ(p, "xy");
}

TEST(Payload, CopiesDroppedOnManyThreadsFreeTheBufferOnce) {
  // As an entry's copies are: the Update, a Replicate per follower, the
  // apply batch, each dropped by its own thread.
  for (int round = 0; round < 200; ++round) {
    Payload p(std::string(64, char('a' + round % 26)));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([copy = p, round] {
        Payload mine = copy;
        EXPECT_EQ(mine.view(), std::string(64, char('a' + round % 26)));
      });
    }
    p = Payload();
    for (auto& t : threads) t.join();
  }
}

}  // namespace
}  // namespace dragonboat::raftpb
