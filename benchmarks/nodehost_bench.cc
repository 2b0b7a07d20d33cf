// nodehost_bench — the engine end to end, like the reference's benchmark:
// three NodeHosts as three processes on loopback (fork), N groups each
// replicated on all three, fsync on (RocksDB LogDB). Each process drives
// the groups it leads with K proposals in flight per group (closed loop:
// a completion issues the next request from its callback) for a fixed
// duration, then reports committed writes/s and latency percentiles. A
// read ratio turns that share of requests into ReadIndex reads.
//
// Usage: nodehost_bench [--groups 48] [--payload 16] [--inflight 64]
//                       [--seconds 5] [--read-ratio 0] [--dir /tmp] [--progress 1]
// --progress 1 prints each process's committed writes every second (the demo).
// --metrics FILE: host 1 writes its health metrics (Prometheus text) there, hosts 2 and 3 to FILE.2, FILE.3
// at the end of the run.
// --compression none|snappy|lz4 sets Config::entry_compression_type;
// --compressible 1 makes the payload JSON-like records (compressible about
// 3-4x, as application commands are) instead of one repeated byte; --random 1
// makes it random bytes (incompressible, as encrypted or already compressed
// commands are: the LogDB's LZ4-compressed SST files then save nothing). Every run
// reports the bytes the three processes wrote to disk (/proc/self/io) and
// sent on the wire (transport metrics) per payload byte written.
// --idle 1 sends no load: it reports the CPU each NodeHost process spends on
// idle groups and its memory per group (--quiesce 1 lets groups quiesce).
// --trace 1 records every proposal's hops through the engine
// (dragonboat/tracing.h) in all three processes and prints the median
// timeline of one proposal: queued, step pass, Replicate sent, leader and
// follower saves, acknowledgement, commit, apply (use with --inflight 1).
// --check-quorum 0 turns Config::check_quorum off (on by default here).
// --balance 0 leaves the leaders where the elections put them; by default
// they are moved so that each host leads a third of the groups.
// --snapshot-entries N / --compaction-overhead M set the groups' snapshot
// interval and the entries kept behind a snapshot (100000 / 10000 by
// default: no snapshot within a run); smaller values show what removing
// entries soon after they commit saves in disk bytes. --unsnapshotted N
// gives the first N groups no snapshots at all (their logs only grow): with
// the others compacting, it shows whether the space their deleted entries
// held is freed while the LogDB's files also hold entries still live.
// --busy-poll-us N sets NodeHostConfig::busy_poll_microseconds (engine
// threads poll that long for work before they sleep; 0 by default).
// Beside the result it prints the raw fdatasync latency of the same disk.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dragonboat/nodehost.h"
#include "dragonboat/tracing.h"
#include "trace_timeline.h"

using namespace dragonboat;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  uint64_t groups = 48;
  size_t payload = 16;
  int inflight = 64;
  double seconds = 5;
  double read_ratio = 0;
  std::string dir = "/tmp";
  bool progress = false;
  bool idle = false;
  bool quiesce = false;
  std::string metrics;
  double settle = 3;  // --idle: seconds between start-up and the measurement
  uint64_t rtt_ms = 5;
  uint64_t shards = 0;  // LogDB shards per host; 0 = the NodeHostConfig default
  CompressionType compression = CompressionType::kNoCompression;
  bool compressible = false;
  bool random_payload = false;
  bool trace = false;
  bool check_quorum = true;
  uint64_t snapshot_entries = 100000;
  uint64_t compaction_overhead = 10000;
  uint64_t unsnapshotted = 0;  // the first N groups never take snapshots
  bool balance = true;
  uint64_t busy_poll_us = 0;  // NodeHostConfig::busy_poll_microseconds
};

// An incompressible command of n bytes.
std::string random_payload(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  std::mt19937_64 rng(seed);
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// A compressible command of n bytes: JSON-like records whose numbers differ.
std::string compressible_payload(size_t n, uint64_t seed) {
  std::string s;
  std::mt19937_64 rng(seed);
  while (s.size() < n) {
    const uint64_t id = rng() % 1000000;
    s += "{\"id\":" + std::to_string(id) + ",\"user\":\"user-" + std::to_string(id % 997) +
         "\",\"state\":\"active\",\"score\":" + std::to_string(rng() % 10000) + "},";
  }
  s.resize(n);
  return s;
}

// Bytes this process has caused to be written to storage (/proc/self/io).
uint64_t disk_write_bytes() {
  std::ifstream in("/proc/self/io");
  std::string key;
  uint64_t v = 0;
  while (in >> key >> v) {
    if (key == "write_bytes:") return v;
  }
  return 0;
}


class Counter : public IStateMachine {
 public:
  Status update(std::string_view, Result* r) override {
    r->value = ++n_;
    return Status::OK();
  }
  Status lookup(std::string_view, std::string* a) override {
    *a = std::to_string(n_);
    return Status::OK();
  }
  Status save_snapshot(ISnapshotWriter* w) override { return w->write(&n_, sizeof(n_)); }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    size_t got = 0;
    return r->read(&n_, sizeof(n_), &got);
  }

 private:
  uint64_t n_ = 0;
};

uint16_t free_port() {
  // Let the kernel choose: bind port 0 through a throwaway NodeHost-free socket.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// What a child reports to the parent.
struct Report {
  uint64_t writes = 0, reads = 0, errors = 0, led = 0;
  double seconds = 0;
  double cpu_seconds = 0;   // CPU (user + sys) used by the process during the measured seconds
  double rss_mb = 0;        // resident memory at the end
  double base_rss_mb = 0;   // resident memory before the groups started
  double heap_mb = 0;       // malloc'd bytes in use at the end (mallinfo2)
  double base_heap_mb = 0;
  uint64_t disk_bytes = 0;  // written to storage during the run (/proc/self/io)
  uint64_t wire_bytes = 0;  // transport bytes sent during the run
  uint64_t refused = 0;     // errors at propose/read time (the slot stops)
  uint64_t busy = 0;        // SystemBusy at propose time (retried after 1 ms)
  uint64_t by_code[6] = {};  // failed completions by RequestResultCode
  uint32_t nlat = 0;  // latency samples (microseconds) follow
  uint32_t ntrace = 0;  // then tracing::Event records (--trace)
};

bool write_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n) {
    ssize_t w = ::write(fd, c, n);
    if (w <= 0) return false;
    c += w;
    n -= size_t(w);
  }
  return true;
}
bool read_all(int fd, void* p, size_t n) {
  char* c = static_cast<char*>(p);
  while (n) {
    ssize_t r = ::read(fd, c, n);
    if (r <= 0) return false;
    c += r;
    n -= size_t(r);
  }
  return true;
}

// One closed loop per in-flight slot of one group.
struct Driver {
  NodeHost* nh;
  uint64_t cluster;
  std::string payload;
  double read_ratio;
  std::atomic<bool>* running;
  std::atomic<uint64_t>* writes;
  std::atomic<uint64_t>* reads;
  std::atomic<uint64_t>* errors;
  std::atomic<uint64_t>* refused;
  std::atomic<uint64_t>* by_code;  // [6], by RequestResultCode
  std::mutex* lat_mu;
  std::vector<uint32_t>* lat;
  std::atomic<int>* outstanding;
  std::atomic<uint64_t>* busy;  // SystemBusy at propose time: retried, not an error
  std::mutex* retry_mu;
  std::vector<Driver*>* retry;  // slots to issue again after a short pause
  std::mt19937_64 rng{12345};
  Clock::time_point t0;  // the run's start
  uint64_t failed = 0;   // failed completions of this slot (its callback's thread only)
  double first_failed_start = -1;  // seconds after t0 the first failed request was issued

  void issue() {
    if (!running->load()) {
      outstanding->fetch_sub(1);
      return;
    }
    bool read = read_ratio > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < read_ratio;
    RequestStatePtr rs;
    auto start = Clock::now();
    Status s = read ? nh->read_index(cluster, std::chrono::seconds(5), &rs)
                    : nh->propose(nh->get_noop_session(cluster), payload, std::chrono::seconds(5), &rs);
    if (s.code() == ErrorCode::kSystemBusy) {
      // Backpressure: the engine refused at the door; try again shortly.
      busy->fetch_add(1);
      std::lock_guard<std::mutex> g(*retry_mu);
      retry->push_back(this);
      return;
    }
    if (!s.ok()) {
      errors->fetch_add(1);
      refused->fetch_add(1);
      outstanding->fetch_sub(1);  // this slot stops (busy / stopped)
      return;
    }
    rs->on_complete([this, start, read](const RequestResult& r) {
      if (r.completed()) {
        (read ? reads : writes)->fetch_add(1);
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
        std::lock_guard<std::mutex> g(*lat_mu);
        if (lat->size() < 2'000'000) lat->push_back(uint32_t(us));
      } else {
        errors->fetch_add(1);
        by_code[static_cast<size_t>(r.code) % 6].fetch_add(1);
        if (failed++ == 0) first_failed_start = std::chrono::duration<double>(start - t0).count();
      }
      issue();
    });
  }
};

// The malloc the process runs with: glibc's, or one preloaded with
// LD_PRELOAD (docs/operations.md, "Memory allocator"): figures differ by it.
const char* allocator_name() {
  if (::dlsym(RTLD_DEFAULT, "mallctl")) return "jemalloc";
  if (::dlsym(RTLD_DEFAULT, "tc_malloc")) return "tcmalloc";
  if (::dlsym(RTLD_DEFAULT, "mi_malloc")) return "mimalloc";
  return "glibc";
}

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double heap_mb() { return double(::mallinfo2().uordblks) / (1 << 20); }

double rss_mb() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * double(::sysconf(_SC_PAGESIZE)) / (1 << 20);
}

// Moves leadership so that host i leads the groups g with (g - 1) % hosts == i
// (a third each with three hosts, as an operator would spread them): where
// the elections put the leaders varies from run to run, and a host leading
// most groups runs most of the clients. Each host hands over the groups it
// leads; all wait until every group has its leader (30 s at most).
void balance_leaders(NodeHost* nh, int idx, uint64_t groups, size_t hosts) {
  auto target = [&](uint64_t g) { return (g - 1) % hosts + 1; };
  auto deadline = Clock::now() + std::chrono::seconds(30);
  for (;;) {
    size_t placed = 0;
    for (uint64_t g = 1; g <= groups; ++g) {
      uint64_t leader = 0;
      bool valid = false;
      if (!nh->get_leader_id(g, &leader, &valid).ok() || !valid) continue;
      if (leader == target(g)) {
        ++placed;
      } else if (leader == uint64_t(idx + 1)) {
        (void)nh->request_leader_transfer(g, target(g));  // asked again on the next round if it did not take
      }
    }
    if (placed == groups || Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // start-up only; not measured
  }
}

int child(int idx, const Options& o, const std::vector<std::string>& addrs, const std::vector<std::string>& dirs,
          int to_parent, int from_parent) {
  NodeHostConfig hc;
  hc.node_host_dir = dirs[idx];
  hc.raft_address = addrs[idx];
  hc.rtt_millisecond = o.rtt_ms;
  hc.busy_poll_microseconds = o.busy_poll_us;
  if (o.shards) hc.logdb_shards = o.shards;
  std::unique_ptr<NodeHost> nh;
  Status s = NodeHost::create(hc, &nh);
  if (!s.ok()) {
    std::fprintf(stderr, "host %d: %s\n", idx, s.to_string().c_str());
    return 1;
  }
  double base_rss = rss_mb();
  double base_heap = heap_mb();
  std::map<uint64_t, std::string> members;
  for (size_t i = 0; i < addrs.size(); ++i) members[i + 1] = addrs[i];
  for (uint64_t g = 1; g <= o.groups; ++g) {
    Config c;
    c.cluster_id = g;
    c.node_id = idx + 1;
    c.election_rtt = 20;
    c.heartbeat_rtt = 2;
    c.check_quorum = o.check_quorum;
    c.snapshot_entries = g <= o.unsnapshotted ? 0 : o.snapshot_entries;
    c.compaction_overhead = o.compaction_overhead;
    c.quiesce = o.quiesce;
    c.entry_compression_type = o.compression;
    s = nh->start_cluster(members, false, [](uint64_t, uint64_t) { return std::make_unique<Counter>(); }, c);
    if (!s.ok()) {
      std::fprintf(stderr, "host %d group %llu: %s\n", idx, (unsigned long long)g, s.to_string().c_str());
      return 1;
    }
  }
  // Ready once every group knows its leader.
  auto deadline = Clock::now() + std::chrono::seconds(60);
  for (uint64_t g = 1; g <= o.groups; ++g) {
    uint64_t leader = 0;
    bool valid = false;
    while (Clock::now() < deadline && (!nh->get_leader_id(g, &leader, &valid).ok() || !valid))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // start-up only; not measured
  }
  if (o.balance) balance_leaders(nh.get(), idx, o.groups, members.size());
  char c = 'r';
  write_all(to_parent, &c, 1);
  read_all(from_parent, &c, 1);  // go
  std::vector<uint64_t> led;
  for (uint64_t g = 1; g <= o.groups; ++g) {
    uint64_t leader = 0;
    bool valid = false;
    if (nh->get_leader_id(g, &leader, &valid).ok() && valid && leader == uint64_t(idx + 1)) led.push_back(g);
  }
  if (o.idle) {
    // Let elections settle and idle groups quiesce, then measure.
    std::this_thread::sleep_for(std::chrono::duration<double>(o.settle));
    double cpu0 = cpu_seconds();
    auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    Report r;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    r.cpu_seconds = cpu_seconds() - cpu0;
    r.rss_mb = rss_mb();
    r.base_rss_mb = base_rss;
    r.heap_mb = heap_mb();
    r.base_heap_mb = base_heap;
    r.led = led.size();
    if (!o.metrics.empty()) {
      std::ofstream m(o.metrics + "." + std::to_string(idx + 1));
      nh->write_health_metrics(m);
    }
    write_all(to_parent, &r, sizeof(r));
    read_all(from_parent, &c, 1);
    nh->stop();
    return 0;
  }
  std::atomic<bool> running{true};
  std::atomic<uint64_t> writes{0}, reads{0}, errors{0}, refused{0}, busy{0};
  std::mutex retry_mu;
  std::vector<Driver*> retry;
  std::atomic<uint64_t> by_code[6] = {};
  std::atomic<int> outstanding{0};
  std::mutex lat_mu;
  std::vector<uint32_t> lat;
  std::vector<std::unique_ptr<Driver>> drivers;
  for (uint64_t g : led) {
    for (int k = 0; k < o.inflight; ++k) {
      auto d = std::make_unique<Driver>();
      d->nh = nh.get();
      d->cluster = g;
      d->payload = o.compressible     ? compressible_payload(o.payload, g * 1000 + k)
                   : o.random_payload ? random_payload(o.payload, g * 1000 + k)
                                      : std::string(o.payload, 'x');
      d->read_ratio = o.read_ratio;
      d->running = &running;
      d->writes = &writes;
      d->reads = &reads;
      d->errors = &errors;
      d->refused = &refused;
      d->by_code = by_code;
      d->lat_mu = &lat_mu;
      d->lat = &lat;
      d->outstanding = &outstanding;
      d->busy = &busy;
      d->retry_mu = &retry_mu;
      d->retry = &retry;
      d->rng.seed(g * 1000 + k);
      drivers.push_back(std::move(d));
    }
  }
  const uint64_t disk0 = disk_write_bytes();
  const double wire0 = nh->get_health_metrics().total("dragonboat_transport_bytes_sent_total");
  if (o.trace) tracing::enable();
  const double cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  outstanding = int(drivers.size());
  for (auto& d : drivers) d->t0 = t0;
  for (auto& d : drivers) d->issue();
  // Slots refused with SystemBusy are issued again every millisecond.
  std::atomic<bool> retrying{true};
  std::thread retrier([&] {
    while (retrying.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::vector<Driver*> again;
      {
        std::lock_guard<std::mutex> g(retry_mu);
        again.swap(retry);
      }
      for (Driver* d : again) d->issue();
    }
  });
  if (o.progress) {
    // One line a second per process: what this NodeHost's leaders committed.
    uint64_t last = 0;
    for (int sec = 1; sec <= int(o.seconds); ++sec) {
      std::this_thread::sleep_until(t0 + std::chrono::seconds(sec));
      uint64_t w = writes.load() + reads.load();
      std::fprintf(stderr, "  [host %d, pid %d] %2ds: leads %zu groups, %9llu committed (%7llu/s)\n", idx + 1,
                   int(::getpid()), sec, led.size(), (unsigned long long)w, (unsigned long long)(w - last));
      last = w;
    }
    std::this_thread::sleep_until(t0 + std::chrono::duration<double>(o.seconds));
  } else {
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));  // the measured duration
  }
  running = false;
  Report r;
  r.writes = writes.load();
  r.reads = reads.load();
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.cpu_seconds = cpu_seconds() - cpu0;
  // Drain: requests in flight finish (or time out) before the host stops.
  while (outstanding.load() > 0 && Clock::now() - t0 < std::chrono::seconds(int(o.seconds) + 15))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  retrying = false;
  retrier.join();
  r.errors = errors.load();
  r.refused = refused.load();
  if (r.errors > r.refused) {
    // Where failures came from: by group, and when the first failed request was issued.
    std::map<uint64_t, std::pair<uint64_t, double>> by_group;
    for (const auto& d : drivers) {
      if (d->failed == 0) continue;
      auto& [n, first] = by_group[d->cluster];
      n += d->failed;
      first = n == d->failed ? d->first_failed_start : std::min(first, d->first_failed_start);
    }
    std::string line;
    for (const auto& [g, v] : by_group)
      line += " " + std::to_string(g) + ":" + std::to_string(v.first) + "@" + std::to_string(v.second).substr(0, 4) + "s";
    std::fprintf(stderr, "failed requests by group (group:count@first issued):%s\n", line.c_str());
  }
  r.busy = busy.load();
  for (int i = 0; i < 6; ++i) r.by_code[i] = by_code[i].load();
  r.led = led.size();
  r.disk_bytes = disk_write_bytes() - disk0;
  r.wire_bytes = uint64_t(nh->get_health_metrics().total("dragonboat_transport_bytes_sent_total") - wire0);
  tracing::disable();
  const std::vector<tracing::Event> trace = tracing::take();
  r.ntrace = uint32_t(trace.size());
  {
    std::lock_guard<std::mutex> g(lat_mu);
    r.nlat = uint32_t(lat.size());
    write_all(to_parent, &r, sizeof(r));
    write_all(to_parent, lat.data(), lat.size() * sizeof(uint32_t));
    write_all(to_parent, trace.data(), trace.size() * sizeof(tracing::Event));
  }
  read_all(from_parent, &c, 1);  // everyone reported: stop together
  if (!o.metrics.empty()) {
    std::ofstream m(idx == 0 ? o.metrics : o.metrics + "." + std::to_string(idx + 1));
    nh->write_health_metrics(m);
  }
  nh->stop();
  return 0;
}

// The disk's floor for one durable write: 64 B written and fdatasync'd,
// overwriting one block (`append` false) or appending, as a log does (the
// file's size changes, so the file system's journal commits too).
double fdatasync_us(const std::string& dir, bool append = false) {
  std::string path = dir + "/dragonboat-bench-fsync";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) return -1;
  char buf[64] = {};
  const int n = 200;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (::pwrite(fd, buf, sizeof(buf), append ? off_t(i) * off_t(sizeof(buf)) : 0) < 0 || ::fdatasync(fd) != 0) break;
  }
  double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n;
  ::close(fd);
  ::unlink(path.c_str());
  return us;
}

// The disk's sequential bandwidth for durable writes: 128 MiB appended in
// 1 MiB writes, each fdatasync'd (about what one large LogDB save does).
double sequential_mb_per_s(const std::string& dir) {
  std::string path = dir + "/dragonboat-bench-seq";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) return -1;
  const std::string buf = random_payload(1 << 20, 7);  // incompressible, in case the device compresses
  const int n = 128;
  auto t0 = Clock::now();
  int done = 0;
  for (; done < n; ++done) {
    if (::write(fd, buf.data(), buf.size()) != ssize_t(buf.size()) || ::fdatasync(fd) != 0) break;
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(fd);
  ::unlink(path.c_str());
  return done * double(buf.size()) / secs / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--groups") o.groups = std::stoull(v);
    else if (k == "--payload") o.payload = std::stoull(v);
    else if (k == "--inflight") o.inflight = std::stoi(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--read-ratio") o.read_ratio = std::stod(v);
    else if (k == "--dir") o.dir = v;
    else if (k == "--progress") o.progress = v != "0";
    else if (k == "--idle") o.idle = v != "0";
    else if (k == "--quiesce") o.quiesce = v != "0";
    else if (k == "--metrics") o.metrics = v;
    else if (k == "--settle") o.settle = std::stod(v);
    else if (k == "--rtt") o.rtt_ms = std::stoull(v);
    else if (k == "--shards") o.shards = std::stoull(v);
    else if (k == "--compressible") o.compressible = v != "0";
    else if (k == "--random") o.random_payload = v != "0";
    else if (k == "--trace") o.trace = v != "0";
    else if (k == "--check-quorum") o.check_quorum = v != "0";
    else if (k == "--balance") o.balance = v != "0";
    else if (k == "--busy-poll-us") o.busy_poll_us = std::stoull(v);
    else if (k == "--snapshot-entries") o.snapshot_entries = std::stoull(v);
    else if (k == "--compaction-overhead") o.compaction_overhead = std::stoull(v);
    else if (k == "--unsnapshotted") o.unsnapshotted = std::stoull(v);
    else if (k == "--compression") {
      if (v == "none") o.compression = CompressionType::kNoCompression;
      else if (v == "snappy") o.compression = CompressionType::kSnappy;
      else if (v == "lz4") o.compression = CompressionType::kLZ4;
      else {
        std::fprintf(stderr, "--compression takes none, snappy or lz4, not %s\n", v.c_str());
        return 2;
      }
    }
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  std::vector<std::string> addrs, dirs;
  for (int i = 0; i < 3; ++i) {
    addrs.push_back("127.0.0.1:" + std::to_string(free_port()));
    std::string t = o.dir + "/dragonboat-bench-XXXXXX";
    std::vector<char> b(t.begin(), t.end());
    b.push_back('\0');
    dirs.push_back(::mkdtemp(b.data()));
  }
  int up[3][2], down[3][2];
  pid_t pids[3];
  for (int i = 0; i < 3; ++i) {
    if (::pipe(up[i]) != 0 || ::pipe(down[i]) != 0) return 1;
    pids[i] = ::fork();
    if (pids[i] == 0) {
      ::close(up[i][0]);
      ::close(down[i][1]);
      ::_exit(child(i, o, addrs, dirs, up[i][1], down[i][0]));
    }
    ::close(up[i][1]);
    ::close(down[i][0]);
  }
  char c;
  bool ok = true;
  for (int i = 0; i < 3; ++i) ok &= read_all(up[i][0], &c, 1);
  for (int i = 0; i < 3; ++i) write_all(down[i][1], "g", 1);
  if (o.idle) {
    std::printf("idle: groups=%llu quiesce=%d rtt=%llu ms, per NodeHost process:\n", (unsigned long long)o.groups,
                int(o.quiesce), (unsigned long long)o.rtt_ms);
    for (int i = 0; i < 3 && ok; ++i) {
      Report r;
      ok &= read_all(up[i][0], &r, sizeof(r));
      std::printf("  host %d: CPU %.1f%% of one core over %.1f s; heap in use %.1f MB (%.1f KiB per group); "
                  "RSS %.1f MB (%.1f KiB per group, includes freed memory malloc keeps)\n",
                  i + 1, 100 * r.cpu_seconds / r.seconds, r.seconds, r.heap_mb,
                  (r.heap_mb - r.base_heap_mb) * 1024 / double(o.groups), r.rss_mb,
                  (r.rss_mb - r.base_rss_mb) * 1024 / double(o.groups));
    }
    for (int i = 0; i < 3; ++i) write_all(down[i][1], "x", 1);
    for (int i = 0; i < 3; ++i) ::waitpid(pids[i], nullptr, 0);
    for (auto& d : dirs) std::filesystem::remove_all(d);
    return ok ? 0 : 1;
  }
  Report total;
  std::vector<uint32_t> lat;
  std::vector<tracing::Event> events;
  double secs = 0;
  for (int i = 0; i < 3 && ok; ++i) {
    Report r;
    ok &= read_all(up[i][0], &r, sizeof(r));
    std::vector<uint32_t> l(r.nlat);
    ok &= read_all(up[i][0], l.data(), l.size() * sizeof(uint32_t));
    std::vector<tracing::Event> ev(r.ntrace);
    ok &= read_all(up[i][0], ev.data(), ev.size() * sizeof(tracing::Event));
    events.insert(events.end(), ev.begin(), ev.end());
    total.writes += r.writes;
    total.reads += r.reads;
    total.errors += r.errors;
    total.led += r.led;
    total.disk_bytes += r.disk_bytes;
    total.refused += r.refused;
    total.busy += r.busy;
    for (int k = 0; k < 6; ++k) total.by_code[k] += r.by_code[k];
    total.wire_bytes += r.wire_bytes;
    total.cpu_seconds += r.cpu_seconds;
    secs = std::max(secs, r.seconds);
    lat.insert(lat.end(), l.begin(), l.end());
  }
  for (int i = 0; i < 3; ++i) write_all(down[i][1], "x", 1);
  for (int i = 0; i < 3; ++i) ::waitpid(pids[i], nullptr, 0);
  // What the three hosts left on disk (LogDB, snapshots), before removal:
  // shows space held by log entries that compaction has not freed yet.
  uintmax_t space = 0;
  for (auto& d : dirs) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(d, ec); !ec && it != decltype(it)(); it.increment(ec)) {
      if (it->is_regular_file(ec)) space += it->file_size(ec);
    }
    std::filesystem::remove_all(d);
  }
  if (!ok) {
    std::fprintf(stderr, "a NodeHost process failed\n");
    return 1;
  }
  // The disk's sequential rate, measured right after the run on the same
  // disk, once the run's dirty pages are written back: measured while the
  // kernel still flushed hundreds of MB of the run's SST and blob files, it
  // came out at a third of the quiet disk's rate (payload shares over 100 %).
  ::sync();
  const double seq_mb = sequential_mb_per_s(o.dir);
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, size_t(p * lat.size()))] / 1000.0; };
  std::printf("groups=%llu payload=%zuB inflight/group=%d read-ratio=%.2f: %.0f writes/s, %.0f reads/s, "
              "latency ms p50 %.2f p99 %.2f p99.9 %.2f (errors %llu, groups led %llu)\n",
              (unsigned long long)o.groups, o.payload, o.inflight, o.read_ratio, total.writes / secs,
              total.reads / secs, pct(0.50), pct(0.99), pct(0.999), (unsigned long long)total.errors,
              (unsigned long long)total.led);
  if (total.writes + total.reads > 0) {
    // CPU is steadier than throughput on a shared VM: a change that saves
    // work shows here even when the disk's noise hides it in writes/s.
    std::printf("cpu: %.1f us per completed request (user + sys of the three processes), %.2f cores busy%s\n",
                total.cpu_seconds * 1e6 / double(total.writes + total.reads), total.cpu_seconds / secs,
                o.busy_poll_us ? (", busy poll " + std::to_string(o.busy_poll_us) + " us").c_str() : "");
  }
  if (total.busy > 0) {
    std::printf("backpressure: %llu proposals refused with SystemBusy at propose time (retried)\n",
                (unsigned long long)total.busy);
  }
  if (total.errors > 0) {
    std::printf("errors: %llu refused at propose/read time;", (unsigned long long)total.refused);
    for (int k = 0; k < 6; ++k) {
      if (total.by_code[k] == 0) continue;
      std::printf(" %s %llu", request_result_code_name(static_cast<RequestResultCode>(k)),
                  (unsigned long long)total.by_code[k]);
    }
    std::printf("\n");
  }
  if (o.read_ratio < 1 && total.writes > 0) {
    // Includes what the drain after the measured seconds wrote: a ratio.
    const double payload_bytes = double(total.writes) * double(o.payload);
    std::printf("bytes per payload byte (compression %s, %s payload): disk %.2f (3 replicas), wire %.2f\n",
                o.compression == CompressionType::kSnappy ? "snappy"
                : o.compression == CompressionType::kLZ4  ? "lz4"
                                                           : "none",
                o.compressible ? "compressible" : o.random_payload ? "random" : "one-byte", total.disk_bytes / payload_bytes,
                total.wire_bytes / payload_bytes);
    const double payload_mb = total.writes / secs * double(o.payload) / 1e6;
    std::printf("payload committed: %.1f MB/s; disk writes of the three processes: %.1f MB/s; "
                "their directories at the end: %.1f MB\n",
                payload_mb, double(total.disk_bytes) / secs / 1e6, double(space) / 1e6);
    if (o.payload >= 1024) {
      // The issue-17 accounting (docs/benchmarks.md, "Large payloads"): the
      // three replicas share this disk and each writes every payload byte
      // once to its WAL, so one payload byte costs at least three disk bytes.
      std::printf("payload share of the disk: %.0f %% of sequential MB/s / 3 replicas (%.1f of %.1f MB/s)\n",
                  100 * payload_mb / (seq_mb / 3), payload_mb, seq_mb / 3);
    }
  }
  if (o.trace) bench::TraceTimeline(events).print();
  std::printf("baseline: fdatasync of 64 B on %s: %.0f us (overwrite), %.0f us (append); sequential writes, "
              "1 MiB per fdatasync: %.0f MB/s; malloc: %s\n",
              o.dir.c_str(), fdatasync_us(o.dir), fdatasync_us(o.dir, true), seq_mb, allocator_name());
  return 0;
}
