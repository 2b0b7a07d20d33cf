// power_loss_test: simulated power cuts of whole machines under a
// multi-group load (docs/testing.md, "Power loss").
//
// Three NodeHosts in this process (real RocksDB, real TCP on loopback), six
// groups of three replicas, each a checker state machine (regular,
// concurrent, on-disk by cluster_id % 3) that snapshots every 40 entries, so
// cuts land in WAL writes, flushes, snapshot saves, compactions, elections
// and restarts. Each round: writers propose unique commands through every
// host; after a random delay one machine, or all three, lose power
// (PowerLossFS: every later change fails, then unsynced bytes and entries are
// dropped or torn); the machines restart from what was durable.
//
// Verdicts, every 100 cuts and at the end:
//  - every restart succeeds: no node starts with a log or snapshot it did not
//    sync (a snapshot recorded in the LogDB whose files were not durable, a
//    torn snapshot file taken as whole, a flag file half written) — any of
//    those fails the start;
//  - the replicas of every group converge to one count and hash, read
//    linearizably (a stale read after a cut may lag: see verify_group);
//  - every acknowledged command was applied exactly once, every command with
//    an unknown outcome at most once, and nothing else was applied.
//
// DRAGONBOAT_POWER_CUTS (default 1000; 300 under ASan) and
// DRAGONBOAT_POWER_SEED set the run.
#include <rocksdb/env.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "checker_sm.h"
#include "common/file_io.h"
#include "logdb/rocks_logdb.h"
#include "nodehost_fixture.h"
#include "power_loss_fs.h"

namespace {

using dragonboat::Config;
using dragonboat::NodeHost;
using dragonboat::Result;
using dragonboat::Status;
using dragonboat::test::eventually;
using dragonboat::test::PowerLossFS;
using dragonboat::test::TestCluster;

constexpr uint64_t kGroups = 6;
constexpr size_t kHosts = 3;

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

// Installs the simulated disk for the LogDB and the engine's own files, and
// removes it again (after the hosts are gone) however the test ends.
struct InstallFS {
  explicit InstallFS(std::shared_ptr<PowerLossFS> f) : fs(std::move(f)), env(rocksdb::NewCompositeEnv(fs)) {
    dragonboat::logdb::set_env_override(env.get());
    dragonboat::io::set_file_observer(fs.get());
  }
  ~InstallFS() {
    dragonboat::io::set_file_observer(nullptr);
    dragonboat::logdb::set_env_override(nullptr);
  }
  std::shared_ptr<PowerLossFS> fs;
  std::unique_ptr<rocksdb::Env> env;
};

// What the writers know about each group's commands.
struct Ledger {
  std::mutex mu;
  std::map<uint64_t, std::set<std::string>> acked;  // group -> acknowledged commands
  std::map<uint64_t, std::set<std::string>> maybe;  // group -> outcome unknown
  uint64_t next = 0;
};

class PowerLossTest : public ::testing::Test {
 protected:
  PowerLossTest() : install(std::make_shared<PowerLossFS>()), cluster(kHosts, /*rtt_ms=*/5) {
    checker_dir = dragonboat::test::temp_dir("power-sm");
    for (size_t i = 0; i < kHosts; ++i) install.fs->add_machine(cluster.dirs[i]);
  }
  ~PowerLossTest() override {
    for (auto& h : cluster.hosts) h.reset();
    std::filesystem::remove_all(checker_dir);
  }

  static Config group_config(uint64_t cluster_id, uint64_t node_id) {
    Config c = TestCluster::config(cluster_id, node_id);
    c.snapshot_entries = 40;
    // Debian's RocksDB keeps an assertion (removed upstream, RocksDB PR
    // #12796) that aborts when a memtable switch is retried after a failed
    // write; automatic compactions after every snapshot force such switches
    // while the simulated cuts fail writes. Reclaiming space is not what
    // this test is about: the entries are still dropped after snapshots.
    c.disable_auto_compactions = true;
    c.compaction_overhead = 10;
    return c;
  }

  // Starts host i and its replica of every group; the status of the first
  // failure (a node that cannot start from what the cut left).
  Status start(size_t i, bool first) {
    Status s = cluster.start_host(i);
    if (!s.ok()) return Status(s.code(), "host " + std::to_string(i + 1) + ": " + s.to_string());
    NodeHost* h = cluster.hosts[i].get();
    const auto members = first ? cluster.members() : std::map<uint64_t, std::string>{};
    const uint64_t node = i + 1;
    for (uint64_t c = 1; c <= kGroups; ++c) {
      const Config cfg = group_config(c, node);
      switch (c % 3) {
        case 0:
          s = h->start_cluster(members, false, [](uint64_t, uint64_t) {
            return std::make_unique<dragonboat::testing::CheckerSM>();
          }, cfg);
          break;
        case 1:
          s = h->start_concurrent_cluster(members, false, [](uint64_t, uint64_t) {
            return std::make_unique<dragonboat::testing::ConcurrentCheckerSM>();
          }, cfg);
          break;
        default:
          s = h->start_on_disk_cluster(members, false, [this](uint64_t cid, uint64_t nid) {
            return std::make_unique<dragonboat::testing::OnDiskCheckerSM>(checker_dir, cid, nid);
          }, cfg);
      }
      if (!s.ok()) {
        return Status(s.code(), "host " + std::to_string(i + 1) + " group " + std::to_string(c) + ": " + s.to_string());
      }
    }
    return Status::OK();
  }

  // Proposes unique commands through random hosts until `stop`.
  void write(std::atomic<bool>* stop, uint64_t seed) {
    std::mt19937_64 rng(seed);
    while (!stop->load()) {
      const uint64_t c = 1 + rng() % kGroups;
      NodeHost* h = cluster.hosts[rng() % kHosts].get();
      std::string cmd;
      {
        std::lock_guard<std::mutex> g(ledger.mu);
        cmd = "g" + std::to_string(c) + "-" + std::to_string(ledger.next++);
      }
      Result r;
      Status s = h->sync_propose(h->get_noop_session(c), cmd, std::chrono::milliseconds(1000), &r);
      {
        std::lock_guard<std::mutex> g(ledger.mu);
        if (s.ok()) {
          ledger.acked[c].insert(cmd);
        } else {
          ledger.maybe[c].insert(cmd);  // may or may not be in the log: at most once
        }
      }
      // A client's back-off while a group elects a leader or a host is down
      // (load pacing only; nothing waits on it).
      if (!s.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  // Every group's replicas converge; then the applied commands are exactly
  // the acknowledged ones plus some of the unknown ones, each once.
  void verify(const std::string& when) {
    for (uint64_t c = 1; c <= kGroups; ++c) {
      // An unknown proposal may still commit while the lookups run (its entry
      // reached a leader's log before the cut); compare a state that did not
      // change between the first and the last lookup.
      bool stable = false;
      for (int attempt = 0; attempt < 20 && !stable; ++attempt) {
        verify_group(when, c, &stable);
        if (HasFatalFailure()) return;
      }
      ASSERT_TRUE(stable) << when << ": group " << c << " kept applying commands after the writers stopped";
    }
  }

  void verify_group(const std::string& when, uint64_t c, bool* stable) {
    std::string states[kHosts];
    const bool converged = eventually(
        [&] {
          // A linearizable read on every replica: each has then applied
          // all that was committed when the read started. A stale read is
          // not enough: after a cut a replica learns its commit index from
          // a leader of a new term (the commit index alone is not synced,
          // thesis §3.8), so its durable, committed entries may wait for
          // that election before they are applied.
          for (size_t i = 0; i < kHosts; ++i) {
            if (!cluster.hosts[i]->sync_read(c, "state", std::chrono::milliseconds(2000), &states[i]).ok()) return false;
          }
          // Converged = equal states, and no acknowledged command missing
          // (a replica that has not caught up yet reports fewer).
          if (states[0] != states[1] || states[1] != states[2]) return false;
          std::lock_guard<std::mutex> g(ledger.mu);
          return std::strtoull(states[0].c_str(), nullptr, 10) >= ledger.acked[c].size();
        },
        std::chrono::seconds(60));
    ASSERT_TRUE(converged) << when << ": group " << c << " did not converge: [" << states[0] << "] [" << states[1]
                           << "] [" << states[2] << "]";
    uint64_t count = 0, hash = 0, distinct = 0;
    ASSERT_EQ(std::sscanf(states[0].c_str(), "%lu %lu %lu", &count, &hash, &distinct), 3);
    ASSERT_EQ(count, distinct) << when << ": group " << c << " applied a command twice";
    std::lock_guard<std::mutex> g(ledger.mu);
    uint64_t maybe_applied = 0;
    for (const std::string& cmd : ledger.acked[c]) {
      std::string times;
      ASSERT_TRUE(cluster.hosts[0]->stale_read(c, "applied:" + cmd, &times).ok());
      ASSERT_EQ(times, "1") << when << ": group " << c << " lost acknowledged command " << cmd;
    }
    for (const std::string& cmd : ledger.maybe[c]) {
      std::string times;
      ASSERT_TRUE(cluster.hosts[0]->stale_read(c, "applied:" + cmd, &times).ok());
      ASSERT_TRUE(times == "0" || times == "1") << when << ": " << cmd << " applied " << times << " times";
      maybe_applied += times == "1";
    }
    std::string after;
    ASSERT_TRUE(cluster.hosts[0]->stale_read(c, "state", &after).ok());
    if (after != states[0]) return;  // a late unknown command landed: look again
    *stable = true;
    ASSERT_EQ(count, ledger.acked[c].size() + maybe_applied)
        << when << ": group " << c << " applied a command nobody proposed";
  }

  InstallFS install;
  TestCluster cluster;
  std::string checker_dir;
  Ledger ledger;
};

TEST_F(PowerLossTest, AcknowledgedWritesSurviveRandomPowerCuts) {
#if defined(__SANITIZE_ADDRESS__)
  const uint64_t default_cuts = 300;
#else
  const uint64_t default_cuts = 1000;
#endif
  const uint64_t cuts = env_u64("DRAGONBOAT_POWER_CUTS", default_cuts);
  const uint64_t seed = env_u64("DRAGONBOAT_POWER_SEED", 20261206);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < kHosts; ++i) ASSERT_TRUE(start(i, true).ok());

  uint64_t whole_cuts = 0, restarts = 0;
  PowerLossFS::CrashReport total;
  const auto began = std::chrono::steady_clock::now();
  for (uint64_t k = 0; k < cuts; ++k) {
    // The victims: all three machines (a site-wide outage) or one.
    const bool all = rng() % 3 == 0;
    std::vector<size_t> victims;
    if (all) {
      victims = {0, 1, 2};
      ++whole_cuts;
    } else {
      victims = {static_cast<size_t>(rng() % kHosts)};
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) writers.emplace_back([&, w] { write(&stop, rng() ^ (k * 8 + static_cast<uint64_t>(w))); });
    // A random point: 0-60 ms after the last restart (inside elections,
    // replays and catch-up as well as steady writes).
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 60000));
    for (size_t v : victims) install.fs->power_off(cluster.dirs[v]);
    // Stopping a powered-off host ends its waiting requests (its disk takes
    // no more writes, so this is the cut, not a clean shutdown).
    for (size_t v : victims) cluster.hosts[v]->stop();
    stop = true;
    for (auto& t : writers) t.join();
    for (size_t v : victims) {
      cluster.hosts[v].reset();
      PowerLossFS::CrashReport r = install.fs->crash(cluster.dirs[v], rng, 50);
      total.files_cut += r.files_cut;
      total.files_torn += r.files_torn;
      total.bytes_lost += r.bytes_lost;
      total.entries_removed += r.entries_removed;
      total.renames_undone += r.renames_undone;
    }
    for (size_t v : victims) {
      Status s = start(v, false);
      ASSERT_TRUE(s.ok()) << "after cut " << k << ": " << s.to_string();
      ++restarts;
    }
    if (k % 100 == 99 || k + 1 == cuts) {
      verify("after cut " + std::to_string(k));
      if (HasFatalFailure()) return;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  uint64_t acked = 0, maybe = 0;
  for (auto& [c, s] : ledger.acked) acked += s.size();
  for (auto& [c, s] : ledger.maybe) maybe += s.size();
  std::printf(
      "power loss: %lu cuts (%lu of all three machines), %lu restarts, %lu acknowledged writes, %lu unknown, "
      "0 lost; files cut %lu (torn %lu), %lu unsynced bytes dropped, %lu entries removed, %lu renames undone; "
      "seed %lu, %.1f s\n",
      static_cast<unsigned long>(cuts), static_cast<unsigned long>(whole_cuts), static_cast<unsigned long>(restarts),
      static_cast<unsigned long>(acked), static_cast<unsigned long>(maybe),
      static_cast<unsigned long>(total.files_cut), static_cast<unsigned long>(total.files_torn),
      static_cast<unsigned long>(total.bytes_lost), static_cast<unsigned long>(total.entries_removed),
      static_cast<unsigned long>(total.renames_undone), static_cast<unsigned long>(seed), secs);
}

}  // namespace
