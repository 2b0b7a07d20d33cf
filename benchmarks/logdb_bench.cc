// logdb_bench: batched save() throughput of RocksLogDB, beside the raw
// fdatasync rate of the same disk.
//
// Each save() carries G groups x E entries (one NodeUpdate per group: E new
// entries and a hard state), as a step worker's batch does. RocksLogDB
// commits each touched shard's part as one WriteBatch with one WAL sync, so
// a save costs min(G, shards) syncs, run one after another. The ceiling is
// therefore the disk's fdatasync rate, measured here in the same directory
// (64-byte write + fdatasync in a loop) before and after the saves; the
// table reports syncs/s as a fraction of it.
//
//   logdb_bench [--dir DIR] [--seconds S] [--repeats R] [--entries E]
//               [--shards N] [--sizes 16,1024] [--groups 1,16,48]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "logdb/rocks_logdb.h"

namespace {

using dragonboat::Status;
using dragonboat::logdb::LogDB;
using dragonboat::logdb::NodeUpdate;
using dragonboat::logdb::RocksLogDBOptions;
using dragonboat::raft::Entry;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string dir = "/tmp";
  double seconds = 3;
  int repeats = 3;
  uint64_t entries = 8;  // per group per save
  uint64_t shards = 4;   // RocksLogDBOptions' default
  std::vector<uint64_t> sizes{16, 1024};
  std::vector<uint64_t> groups{1, 16, 48};
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "logdb_bench: %s\n", what.c_str());
  std::exit(1);
}

std::vector<uint64_t> parse_list(const char* s) {
  std::vector<uint64_t> out;
  for (const char* p = s; *p != '\0';) {
    char* end = nullptr;
    out.push_back(std::strtoull(p, &end, 10));
    if (end == p) die(std::string("bad list: ") + s);
    p = *end == ',' ? end + 1 : end;
  }
  return out;
}

// fdatasyncs per second: append 64 bytes, fdatasync, repeat for `seconds`.
double raw_fdatasync_rate(const std::string& dir, double seconds) {
  const std::string path = dir + "/fdatasync_probe";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) die("cannot create " + path + ": " + std::strerror(errno));
  char buf[64];
  std::memset(buf, 'x', sizeof(buf));
  uint64_t n = 0;
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    if (::write(fd, buf, sizeof(buf)) != static_cast<ssize_t>(sizeof(buf))) die("probe write failed");
    if (::fdatasync(fd) != 0) die(std::string("fdatasync: ") + std::strerror(errno));
    ++n;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(fd);
  ::unlink(path.c_str());
  return static_cast<double>(n) / secs;
}

struct Stats {
  double min = 0, median = 0, max = 0;
};

Stats stats_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return Stats{v.front(), v[v.size() / 2], v.back()};
}

struct RunResult {
  double entries_per_sec = 0;
  double mb_per_sec = 0;  // entry payload (cmd) bytes, 10^6 B
  double syncs_per_sec = 0;
};

// One timed run in a fresh LogDB directory under `base`.
RunResult run_once(const Args& a, const std::string& base, uint64_t size, uint64_t groups) {
  const std::string dir = base + "/db";
  RocksLogDBOptions o;
  o.dir = dir;
  o.shards = a.shards;
  std::unique_ptr<LogDB> db;
  Status s = open_rocks_logdb(o, &db);
  if (!s.ok()) die("open: " + s.to_string());

  std::set<uint64_t> touched;
  std::vector<NodeUpdate> batch(groups);
  for (uint64_t g = 0; g < groups; ++g) {
    NodeUpdate& u = batch[g];
    u.cluster_id = g + 1;
    u.node_id = 1;
    u.state.term = 1;
    u.state.vote = 1;
    u.entries.resize(a.entries);
    for (uint64_t j = 0; j < a.entries; ++j) {
      Entry& e = u.entries[j];
      e.term = 1;
      e.cmd = std::string(size, static_cast<char>('a' + (g + j) % 26));
    }
    touched.insert(db->shard_of(u.cluster_id));
  }
  uint64_t next = 1;  // next index, the same for every group
  auto save_one = [&]() {
    for (NodeUpdate& u : batch) {
      for (uint64_t j = 0; j < a.entries; ++j) {
        u.entries[j].index = next + j;
        u.entries[j].key = next + j;
      }
      u.state.commit = next + a.entries - 1;
    }
    next += a.entries;
    Status st = db->save(batch);
    if (!st.ok()) die("save: " + st.to_string());
  };
  // Warm up (WAL file creation, first memtable allocations) untimed.
  for (int i = 0; i < 20; ++i) save_one();

  uint64_t saves = 0;
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(a.seconds);
  while (Clock::now() < deadline) {
    save_one();
    ++saves;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  db.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  RunResult r;
  const double entries = static_cast<double>(saves * groups * a.entries);
  r.entries_per_sec = entries / secs;
  r.mb_per_sec = entries * static_cast<double>(size) / secs / 1e6;
  r.syncs_per_sec = static_cast<double>(saves * touched.size()) / secs;
  return r;
}

std::string fmt3(const Stats& s, const char* f) {
  char buf[128];
  std::string spec = std::string(f) + "/" + f + "/" + f;
  std::snprintf(buf, sizeof(buf), spec.c_str(), s.min, s.median, s.max);
  return buf;
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= 1024 && b % 1024 == 0) {
    std::snprintf(buf, sizeof(buf), "%llu KiB", static_cast<unsigned long long>(b / 1024));
  } else {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(b));
  }
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    auto want = [&](const char* flag) { return !std::strcmp(argv[i], flag) && i + 1 < argc; };
    if (want("--dir")) {
      a.dir = argv[++i];
    } else if (want("--seconds")) {
      a.seconds = std::atof(argv[++i]);
    } else if (want("--repeats")) {
      a.repeats = std::max(1, std::atoi(argv[++i]));
    } else if (want("--entries")) {
      a.entries = std::max<uint64_t>(1, std::strtoull(argv[++i], nullptr, 10));
    } else if (want("--shards")) {
      a.shards = std::strtoull(argv[++i], nullptr, 10);
    } else if (want("--sizes")) {
      a.sizes = parse_list(argv[++i]);
    } else if (want("--groups")) {
      a.groups = parse_list(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--dir DIR] [--seconds S] [--repeats R] [--entries E] [--shards N] "
                   "[--sizes 16,1024] [--groups 1,16,48]\n",
                   argv[0]);
      return 2;
    }
  }
  std::string tmpl = a.dir + "/logdb_bench_XXXXXX";
  std::vector<char> tbuf(tmpl.begin(), tmpl.end());
  tbuf.push_back('\0');
  if (::mkdtemp(tbuf.data()) == nullptr) die("cannot create a directory in " + a.dir);
  const std::string base = tbuf.data();

  std::printf("logdb bench: RocksLogDB, %llu shards (one WriteBatch + one WAL fdatasync per touched "
              "shard per save), %d runs x %.1f s per shape, in %s\n",
              static_cast<unsigned long long>(a.shards), a.repeats, a.seconds, base.c_str());
  std::vector<double> raw;
  for (int i = 0; i < 3; ++i) raw.push_back(raw_fdatasync_rate(base, 1.0));
  const Stats raw_before = stats_of(raw);
  std::printf("raw fdatasync (64 B write + fdatasync, same dir) before: %s /s (min/median/max of 3 x 1 s)\n",
              fmt3(raw_before, "%.0f").c_str());
  std::printf("%-7s %-6s %-42s %-25s %-25s %-20s %s\n", "entry", "groups", "batch shape per save",
              "entries/s min/med/max", "payload MB/s min/med/max", "syncs/s min/med/max",
              "syncs/s / raw fdatasync/s (median)");
  struct Row {
    double sync_median;
  };
  std::vector<Row> rows;
  for (uint64_t size : a.sizes) {
    for (uint64_t g : a.groups) {
      std::vector<double> eps, mbs, sps;
      for (int r = 0; r < a.repeats; ++r) {
        RunResult rr = run_once(a, base, size, g);
        eps.push_back(rr.entries_per_sec);
        mbs.push_back(rr.mb_per_sec);
        sps.push_back(rr.syncs_per_sec);
      }
      const uint64_t syncs = std::min<uint64_t>(g, a.shards);
      char shape[96];
      std::snprintf(shape, sizeof(shape), "%llu x %llu = %llu entries, %s, %llu sync%s",
                    static_cast<unsigned long long>(g), static_cast<unsigned long long>(a.entries),
                    static_cast<unsigned long long>(g * a.entries),
                    human_bytes(g * a.entries * size).c_str(), static_cast<unsigned long long>(syncs),
                    syncs == 1 ? "" : "s");
      const Stats se = stats_of(eps), sm = stats_of(mbs), ss = stats_of(sps);
      std::printf("%-7s %-6llu %-42s %-25s %-25s %-20s %.2f\n", human_bytes(size).c_str(),
                  static_cast<unsigned long long>(g), shape, fmt3(se, "%.0f").c_str(),
                  fmt3(sm, "%.2f").c_str(), fmt3(ss, "%.0f").c_str(), ss.median / raw_before.median);
      std::fflush(stdout);
    }
  }
  raw.clear();
  for (int i = 0; i < 3; ++i) raw.push_back(raw_fdatasync_rate(base, 1.0));
  const Stats raw_after = stats_of(raw);
  std::printf("raw fdatasync after: %s /s (ratios above use the 'before' median %.0f /s)\n",
              fmt3(raw_after, "%.0f").c_str(), raw_before.median);
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
  return 0;
}
