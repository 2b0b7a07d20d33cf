// logdb_crash_test: SIGKILL a process writing to a RocksLogDB at random
// moments, then recover the directory and check what survived.
//
// A child process (this binary re-executed with --logdb-crash-child, so it is
// a fresh single-threaded process that never touches GoogleTest) opens the
// LogDB and saves batch after batch. Batch b writes entries
// [(b-1)*kPerBatch+1, b*kPerBatch] for EVERY group, with content derived from
// (cluster, index), and sets each group's hard state commit to its new last
// index. After save() returns OK the child writes b to a pipe: the
// acknowledgement. The parent kills it with SIGKILL after a random delay
// (seeded; short delays land in the child's open and WAL recovery, longer
// ones in the save loop), reopens the directory and checks:
//   - every acknowledged batch is intact: all entries present, content right,
//     hard state commit >= the acknowledged index (== the last index);
//   - no partial batch is visible: each group's last index is a whole number
//     of batches, there are no holes, and all groups of one shard (one atomic
//     RocksDB WriteBatch) hold the same number of batches. Different shards
//     are separate WriteBatches, so they may differ by the one batch that was
//     in flight, and never by more.
// The next child continues appending in the same directory, so recovery of
// recovered data is exercised again and again. Every 8th batch has 4 KiB
// entries (WAL records spanning log blocks); a small memtable makes flushes
// and compactions run, and get killed, too.
//
// Diagnostic (printed, not asserted): how many kills left a WAL ending in a
// torn record, i.e. one that the strict kAbsoluteConsistency recovery mode
// would refuse to open. It happens (a SIGKILL can cut a large write()),
// which is why the LogDB runs kTolerateCorruptedTailRecords.
//
// Environment: DRAGONBOAT_CRASH_SEED overrides the seed, DRAGONBOAT_CRASH_KILLS
// the number of kills.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "logdb/rocks_logdb.h"
#include "logdb_workload.h"

namespace {

using dragonboat::ErrorCode;
using dragonboat::Status;
using dragonboat::logdb::LogDB;
using dragonboat::logdb::NodeUpdate;
using dragonboat::logdb::RaftState;
using dragonboat::logdb::RocksLogDBOptions;
using dragonboat::raft::Entry;
using dragonboat::test::same_entry;

constexpr char kChildFlag[] = "--logdb-crash-child";
constexpr uint64_t kShards = 4;
constexpr uint64_t kGroups = 6;    // clusters 1..6: shards 1 and 2 hold two groups each
constexpr uint64_t kPerBatch = 4;  // entries per group per batch
constexpr uint64_t kNodeID = 1;
constexpr uint64_t kOpenedMarker = ~uint64_t{0};
// A small memtable so that flushes (and compactions) also run, and get
// killed, while the child writes.
constexpr uint64_t kChildWriteBuffer = 256 << 10;

// Every 8th batch carries 4 KiB entries: WAL records of 16-32 KiB that span
// log blocks and take longer to write, so some kills land inside them.
size_t extra_bytes(uint64_t i) { return ((i - 1) / kPerBatch + 1) % 8 == 0 ? 4088 : 0; }

Entry expected_entry(uint64_t c, uint64_t i) { return dragonboat::test::expected_entry(c, i, extra_bytes(i)); }

std::vector<NodeUpdate> make_batch(uint64_t b) {
  return dragonboat::test::make_batch(b, kGroups, kPerBatch, kNodeID, extra_bytes);
}

// ---- the child: plain code, no GoogleTest --------------------------------

bool send_value(int fd, uint64_t v) {
  const char* p = reinterpret_cast<const char*>(&v);
  size_t left = sizeof(v);
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

int crash_child_main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s %s DIR START_BATCH FD\n", argv[0], kChildFlag);
    return 2;
  }
  const std::string dir = argv[2];
  const uint64_t start = std::strtoull(argv[3], nullptr, 10);
  const int fd = std::atoi(argv[4]);
  RocksLogDBOptions o;
  o.dir = dir;
  o.shards = kShards;
  o.write_buffer_size = kChildWriteBuffer;
  std::unique_ptr<LogDB> db;
  Status s = open_rocks_logdb(o, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "crash child: open failed: %s\n", s.to_string().c_str());
    return 3;
  }
  if (!send_value(fd, kOpenedMarker)) return 4;
  for (uint64_t b = start;; ++b) {
    s = db->save(make_batch(b));
    if (!s.ok()) {
      std::fprintf(stderr, "crash child: save of batch %llu failed: %s\n",
                   static_cast<unsigned long long>(b), s.to_string().c_str());
      return 5;
    }
    if (!send_value(fd, b)) return 4;
  }
}

// ---- the parent ----------------------------------------------------------

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/logdb_crash_XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    if (p == nullptr) std::abort();
    path = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

uint64_t env_u64(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : dflt;
}

struct ChildRun {
  bool opened = false;
  std::vector<uint64_t> acks;
  int wait_status = 0;
  double open_ms = -1;  // fork to "opened", when waited for
};

// When to kill: `delay` after fork(), or `delay` after the child reported
// its LogDB open (so some kills land in the save loop however slow the
// shared machine makes the open).
struct KillPlan {
  bool after_open = false;
  std::chrono::microseconds delay{0};
};

void decode_messages(const std::string& buf, ChildRun* run) {
  for (size_t off = 0; off + sizeof(uint64_t) <= buf.size(); off += sizeof(uint64_t)) {
    uint64_t v;
    std::memcpy(&v, buf.data() + off, sizeof(v));
    if (v == kOpenedMarker) {
      run->opened = true;
    } else {
      run->acks.push_back(v);
    }
  }
}

// Starts a child appending from batch `start`, SIGKILLs it as planned, reaps
// it and collects what it acknowledged.
ChildRun run_and_kill(const std::string& dir, uint64_t start, const KillPlan& plan) {
  ChildRun run;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return run;
  }
  const pid_t parent = ::getpid();
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls until execv.
  const std::string start_arg = std::to_string(start);
  const std::string fd_arg = std::to_string(p[1]);
  std::vector<char*> args = {const_cast<char*>("logdb_crash_test"), const_cast<char*>(kChildFlag),
                             const_cast<char*>(dir.c_str()), const_cast<char*>(start_arg.c_str()),
                             const_cast<char*>(fd_arg.c_str()), nullptr};
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    ::close(p[0]);
    ::close(p[1]);
    return run;
  }
  if (pid == 0) {
    // Die with the parent (the test runner), and never outlive it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::fcntl(p[1], F_SETFD, 0);  // keep the write end across exec
    ::execv("/proc/self/exe", args.data());
    ::_exit(127);
  }
  ::close(p[1]);
  std::string buf;
  if (plan.after_open) {
    // The first message is the open marker (or EOF if the child failed).
    uint64_t v = 0;
    size_t got = 0;
    while (got < sizeof(v)) {
      ssize_t n = ::read(p[0], reinterpret_cast<char*>(&v) + got, sizeof(v) - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    buf.append(reinterpret_cast<const char*>(&v), got);
    run.open_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  std::this_thread::sleep_for(plan.delay);
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &run.wait_status, 0) < 0 && errno == EINTR) {
  }
  // The child is gone and the parent's write end closed: read to EOF.
  char chunk[4096];
  for (;;) {
    ssize_t n = ::read(p[0], chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  ::close(p[0]);
  decode_messages(buf, &run);
  return run;
}

class QuietLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const rocksdb::InfoLogLevel, const char*, va_list) override {}
  rocksdb::Status Close() override { return rocksdb::Status::OK(); }
};

// Diagnostic only: does every shard's WAL end cleanly, i.e. would the
// strict mode kAbsoluteConsistency open it? A read-only open changes
// nothing on disk. Counts the torn tails a SIGKILL leaves behind, which is
// why the LogDB must tolerate a torn tail (and does: verify() opens it).
bool wal_tails_clean(const std::string& dir, std::string* first_error) {
  bool clean = true;
  for (uint64_t i = 0; i < kShards; ++i) {
    rocksdb::Options o;
    o.wal_recovery_mode = rocksdb::WALRecoveryMode::kAbsoluteConsistency;
    o.info_log = std::make_shared<QuietLogger>();
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::OpenForReadOnly(o, dir + "/shard-" + std::to_string(i), &raw);
    delete raw;
    // A child killed before creating the shard leaves nothing to check.
    if (!s.ok() && !s.IsInvalidArgument() && !s.IsPathNotFound() && !s.IsNotFound()) {
      if (clean && first_error->empty()) *first_error = "shard-" + std::to_string(i) + ": " + s.ToString();
      clean = false;
    }
  }
  return clean;
}

struct Verified {
  bool ok = false;
  uint64_t min_batches = 0;  // over all groups
  uint64_t max_batches = 0;
  uint64_t lost = 0;         // acknowledged batches missing
  uint64_t entries_checked = 0;
};

// Reopens the directory and checks it. `acked`: the highest batch ever
// acknowledged; `recovered`: batches every group held at the previous check
// (recovered data must stay); `started`: the highest batch the last child
// could have begun. Entries of batches below `checked_to` were read by an
// earlier call; they are re-read only when `full`.
Verified verify(const std::string& dir, uint64_t acked, uint64_t recovered, uint64_t started,
                uint64_t checked_to, bool full) {
  Verified v;
  RocksLogDBOptions o;
  o.dir = dir;
  o.shards = kShards;
  std::unique_ptr<LogDB> db;
  Status s = open_rocks_logdb(o, &db);
  if (!s.ok()) {
    ADD_FAILURE() << "reopen after SIGKILL failed: " << s.to_string();
    return v;
  }
  std::vector<uint64_t> batches(kGroups + 1, 0);
  bool ok = true;
  for (uint64_t c = 1; c <= kGroups; ++c) {
    RaftState rs;
    s = db->read_raft_state(c, kNodeID, &rs);
    if (s.code() == ErrorCode::kUnavailable) {
      rs = RaftState{};
    } else if (!s.ok()) {
      ADD_FAILURE() << "read_raft_state(" << c << "): " << s.to_string();
      return v;
    }
    const uint64_t last = rs.last_index;
    if (last % kPerBatch != 0) {
      ADD_FAILURE() << "cluster " << c << ": last index " << last
                    << " is not a batch boundary (partial batch visible)";
      ok = false;
    }
    if (last > 0 && rs.first_index != 1) {
      ADD_FAILURE() << "cluster " << c << ": first index " << rs.first_index;
      ok = false;
    }
    // The hard state is in the same WriteBatch as the entries.
    if (rs.state.commit != last) {
      ADD_FAILURE() << "cluster " << c << ": hard state commit " << rs.state.commit
                    << " != last index " << last;
      ok = false;
    }
    batches[c] = last / kPerBatch;
    if (batches[c] < acked) {
      ADD_FAILURE() << "cluster " << c << ": holds " << batches[c] << " batches, " << acked
                    << " were acknowledged";
      v.lost = std::max(v.lost, acked - batches[c]);
      ok = false;
    }
    if (batches[c] < recovered) {
      ADD_FAILURE() << "cluster " << c << ": holds " << batches[c] << " batches, " << recovered
                    << " were read back after the previous crash";
      ok = false;
    }
    // The child acknowledges batch b before it starts batch b+1.
    if (batches[c] > started) {
      ADD_FAILURE() << "cluster " << c << ": holds " << batches[c] << " batches, the child can "
                    << "have started only " << started;
      ok = false;
    }
    const uint64_t low = full || checked_to == 0 ? 1 : (checked_to - 1) * kPerBatch + 1;
    if (last >= low) {
      std::vector<Entry> got;
      s = db->entries(c, kNodeID, low, last + 1, ~uint64_t{0}, &got);
      if (!s.ok() || got.size() != last + 1 - low) {
        ADD_FAILURE() << "cluster " << c << ": entries [" << low << ", " << last + 1
                      << "): " << s.to_string() << ", got " << got.size();
        ok = false;
      } else {
        for (const Entry& e : got) {
          if (!same_entry(e, expected_entry(c, e.index))) {
            ADD_FAILURE() << "cluster " << c << ": entry " << e.index << " has wrong content";
            ok = false;
            break;
          }
        }
        v.entries_checked += got.size();
      }
    }
  }
  // Atomicity across groups: one shard's part of a batch is one WriteBatch.
  for (uint64_t c = 1; c <= kGroups; ++c) {
    for (uint64_t d = c + 1; d <= kGroups; ++d) {
      if (c % kShards == d % kShards && batches[c] != batches[d]) {
        ADD_FAILURE() << "clusters " << c << " and " << d << " share shard " << c % kShards
                      << " but hold " << batches[c] << " and " << batches[d]
                      << " batches (partial batch visible)";
        ok = false;
      }
    }
  }
  v.min_batches = *std::min_element(batches.begin() + 1, batches.end());
  v.max_batches = *std::max_element(batches.begin() + 1, batches.end());
  v.ok = ok;
  return v;
}

TEST(LogDBCrash, SigkillDuringOpenAndWritesLosesNothingAcknowledged) {
  const uint64_t seed = env_u64("DRAGONBOAT_CRASH_SEED", 20240611);
#if defined(__SANITIZE_ADDRESS__)
  const uint64_t default_kills = 100;  // ~3x slower under ASan; keep it near 30 s
#else
  const uint64_t default_kills = 150;
#endif
  const uint64_t kills = env_u64("DRAGONBOAT_CRASH_KILLS", default_kills);
  std::mt19937_64 rng(seed);
  // Two kinds of kill, mixed at random: 1..30 ms after fork() (mostly while
  // the child starts, opens and recovers the WAL: each open replays the
  // previous WAL and flushes it to an SST), and 0.2..25 ms after the child
  // reported its open (while it saves).
  std::bernoulli_distribution after_open(0.6);
  std::uniform_int_distribution<int> from_fork_us(1000, 30000);
  std::uniform_int_distribution<int> from_open_us(200, 25000);
  std::vector<double> open_ms;
  TempDir dir;
  const auto t0 = std::chrono::steady_clock::now();

  uint64_t acked = 0;       // highest batch ever acknowledged
  uint64_t next_start = 1;  // where the next child starts appending
  uint64_t checked_to = 0;  // batches whose content a verify() already read
  uint64_t kills_in_open = 0, kills_in_writes = 0, in_flight_seen = 0, split_saves = 0;
  uint64_t prev_max = 0;
  uint64_t torn_tails = 0;  // kills after which some shard's WAL ended in a torn record
  std::string torn_example;
  uint64_t entries_checked = 0, lost = 0;
  for (uint64_t k = 0; k < kills; ++k) {
    KillPlan plan;
    plan.after_open = after_open(rng);
    plan.delay = std::chrono::microseconds(plan.after_open ? from_open_us(rng) : from_fork_us(rng));
    ChildRun run = run_and_kill(dir.path, next_start, plan);
    if (run.open_ms >= 0) open_ms.push_back(run.open_ms);
    ASSERT_TRUE(WIFSIGNALED(run.wait_status) && WTERMSIG(run.wait_status) == SIGKILL)
        << "kill " << k << ": the child ended by itself (status " << run.wait_status
        << "); see its message above";
    (run.opened ? kills_in_writes : kills_in_open) += 1;
    for (size_t j = 0; j < run.acks.size(); ++j) {
      ASSERT_EQ(run.acks[j], next_start + j) << "kill " << k << ": acknowledgements out of order";
    }
    if (!run.acks.empty()) acked = std::max(acked, run.acks.back());
    const uint64_t started = run.acks.empty() ? next_start : run.acks.back() + 1;

    if (!wal_tails_clean(dir.path, &torn_example)) ++torn_tails;

    const bool full = (k % 10 == 9) || k + 1 == kills;
    Verified v = verify(dir.path, acked, checked_to, started, checked_to, full);
    entries_checked += v.entries_checked;
    lost += v.lost;
    ASSERT_TRUE(v.ok) << "kill " << k << " (" << plan.delay.count() << " us after "
                      << (plan.after_open ? "open" : "fork") << ", seed " << seed
                      << ", acknowledged " << acked << ")";
    // A shard may hold the one batch that was in flight; never more.
    ASSERT_LE(v.max_batches, v.min_batches + 1);
    // The batch this child had in flight reached the disk: in every shard, or
    // (killed between two shards' WriteBatches) in some.
    if (run.opened && v.max_batches == started && started > prev_max) {
      ++in_flight_seen;
      if (v.min_batches < v.max_batches) ++split_saves;
    }
    prev_max = v.max_batches;
    checked_to = v.min_batches;
    next_start = v.min_batches + 1;  // rewrites an in-flight batch with identical content
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(open_ms.begin(), open_ms.end());
  const double open_median = open_ms.empty() ? 0 : open_ms[open_ms.size() / 2];
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("crash test: %llu kills, %llu acknowledged batches verified, %llu lost\n", u(kills),
              u(acked), u(lost));
  std::printf(
      "crash test detail: %llu kills during start/open/recovery, %llu during saves; in-flight "
      "batch found on disk after %llu kills (split across shards after %llu); batch = %llu groups "
      "x %llu entries over %llu shards; %llu entries read back; median open %.1f ms; seed %llu; "
      "%.1f s\n",
      u(kills_in_open), u(kills_in_writes), u(in_flight_seen), u(split_saves), u(kGroups),
      u(kPerBatch), u(kShards), u(entries_checked), open_median, u(seed), secs);
  std::printf("crash test: %llu of %llu kills left a WAL that kAbsoluteConsistency would refuse%s%s\n",
              u(torn_tails), u(kills), torn_example.empty() ? "" : ", e.g. ", torn_example.c_str());
  EXPECT_EQ(lost, 0u);
  EXPECT_GT(kills_in_open, 0u) << "no kill landed in the child's open: tune the delays";
  EXPECT_GT(kills_in_writes, 0u) << "no kill landed in the save loop: tune the delays";
  EXPECT_GT(acked, 0u);
}

}  // namespace

int main(int argc, char** argv) {
  // The crash child: a fresh process (exec'd), no GoogleTest.
  if (argc >= 2 && std::strcmp(argv[1], kChildFlag) == 0) return crash_child_main(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
