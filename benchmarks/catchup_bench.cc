// catchup_bench — how fast a new replica catches up by snapshot: a group of
// two NodeHosts (this process, loopback TCP, RocksDB, fsync on) holds a
// state of --mb MiB; a snapshot is taken and the log compacted; a third
// NodeHost then joins and the time until it serves a linearizable read of
// the whole state is measured (snapshot save on the leader is NOT included:
// it happens before; streaming, verification, fsync and recovery are).
// Prints MiB/s of state transferred.
// Usage: catchup_bench [--mb 256] [--dir /tmp]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dragonboat/nodehost.h"

using namespace dragonboat;
using namespace std::chrono_literals;

namespace {

// The state: a list of blobs; a query returns the total size.
class Blobs : public IStateMachine {
 public:
  Status update(std::string_view cmd, Result* r) override {
    std::lock_guard<std::mutex> g(mu_);
    blobs_.emplace_back(cmd);
    bytes_ += cmd.size();
    r->value = bytes_;
    return Status::OK();
  }
  Status lookup(std::string_view, std::string* a) override {
    std::lock_guard<std::mutex> g(mu_);
    *a = std::to_string(bytes_);
    return Status::OK();
  }
  Status save_snapshot(ISnapshotWriter* w) override {
    std::lock_guard<std::mutex> g(mu_);
    uint64_t n = blobs_.size();
    Status s = w->write(&n, sizeof(n));
    for (const auto& b : blobs_) {
      uint64_t len = b.size();
      if (s.ok()) s = w->write(&len, sizeof(len));
      if (s.ok()) s = w->write(b.data(), b.size());
    }
    return s;
  }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    auto read = [&](void* p, size_t n) {
      size_t done = 0;
      while (done < n) {
        size_t got = 0;
        Status s = r->read(static_cast<char*>(p) + done, n - done, &got);
        if (!s.ok()) return s;
        if (got == 0) return Status(ErrorCode::kCorrupted, "short snapshot");
        done += got;
      }
      return Status::OK();
    };
    std::lock_guard<std::mutex> g(mu_);
    blobs_.clear();
    bytes_ = 0;
    uint64_t n = 0;
    Status s = read(&n, sizeof(n));
    for (uint64_t i = 0; s.ok() && i < n; ++i) {
      uint64_t len = 0;
      s = read(&len, sizeof(len));
      std::string b(len, '\0');
      if (s.ok()) s = read(b.data(), len);
      bytes_ += len;
      blobs_.push_back(std::move(b));
    }
    return s;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> blobs_;
  uint64_t bytes_ = 0;
};

uint16_t free_port() {
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

int fail(const char* what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mb = 256;
  std::string base = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--mb") mb = std::stoull(v);
    else if (k == "--dir") base = v;
    else return std::fprintf(stderr, "unknown flag %s\n", k.c_str()), 2;
  }
  std::string root = base + "/dragonboat-catchup-" + std::to_string(::getpid());
  std::vector<std::string> addrs;
  std::vector<std::unique_ptr<NodeHost>> hosts(3);
  for (int i = 0; i < 3; ++i) addrs.push_back("127.0.0.1:" + std::to_string(free_port()));
  auto start_host = [&](int i) {
    NodeHostConfig c;
    c.node_host_dir = root + "/host" + std::to_string(i);
    c.raft_address = addrs[i];
    c.rtt_millisecond = 20;
    return NodeHost::create(c, &hosts[i]);
  };
  auto config = [](uint64_t id) {
    Config c;
    c.cluster_id = 1;
    c.node_id = id;
    c.election_rtt = 20;
    c.heartbeat_rtt = 2;
    c.check_quorum = true;
    return c;
  };
  auto factory = [](uint64_t, uint64_t) { return std::make_unique<Blobs>(); };
  std::map<uint64_t, std::string> members = {{1, addrs[0]}, {2, addrs[1]}};
  for (int i = 0; i < 2; ++i) {
    Status s = start_host(i);
    if (!s.ok()) return fail("start host", s);
    s = hosts[i]->start_cluster(members, false, factory, config(i + 1));
    if (!s.ok()) return fail("start cluster", s);
  }
  // Fill the state with 1 MiB proposals.
  const std::string blob(1 << 20, 'x');
  for (uint64_t i = 0; i < mb;) {
    Status s = hosts[0]->sync_propose(hosts[0]->get_noop_session(1), blob, 10s, nullptr);
    if (s.ok()) {
      ++i;
    } else if (!is_temp_error(s.code())) {
      return fail("propose", s);
    }
  }
  SnapshotOption so;
  so.override_compaction_overhead = true;
  so.compaction_overhead = 0;  // the log is gone: the newcomer needs the snapshot
  uint64_t index = 0;
  Status s = hosts[0]->sync_request_snapshot(1, so, 120s, &index);
  if (!s.ok()) s = hosts[1]->sync_request_snapshot(1, so, 120s, &index);
  (void)hosts[1]->sync_request_snapshot(1, so, 120s, &index);
  for (;;) {
    s = hosts[0]->sync_request_add_node(1, 3, addrs[2], 0, 10s);
    if (s.ok()) break;
    if (!is_temp_error(s.code())) return fail("add node", s);
  }
  s = start_host(2);
  if (!s.ok()) return fail("start host 3", s);
  auto t0 = std::chrono::steady_clock::now();
  s = hosts[2]->start_cluster({}, true, factory, config(3));
  if (!s.ok()) return fail("join", s);
  std::string answer;
  const std::string want = std::to_string(mb << 20);
  while (answer != want) {
    s = hosts[2]->sync_read(1, "", 10s, &answer);
    if (!s.ok() && !is_temp_error(s.code())) return fail("read", s);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("catch-up by snapshot: %llu MiB of state in %.2f s = %.1f MiB/s (stream, verify, fsync, recover)\n",
              (unsigned long long)mb, secs, double(mb) / secs);
  for (auto& h : hosts) h.reset();
  std::filesystem::remove_all(root);
  return 0;
}
