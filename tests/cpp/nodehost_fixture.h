// nodehost_fixture.h — shared pieces of the NodeHost tests: free loopback
// ports, temporary directories and a cluster of NodeHosts started in this
// process over real TCP and RocksDB. (The state machines they run are in
// test_state_machines.h.)
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "checker_sm.h"
#include "dragonboat/nodehost.h"
#include "test_util.h"

namespace dragonboat::test {

// A port the kernel just handed out on 127.0.0.1 (closed again at once).
inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline std::string temp_dir(const std::string& tag) {
  std::string t = std::filesystem::temp_directory_path() / ("dragonboat-" + tag + "-XXXXXX");
  std::vector<char> buf(t.begin(), t.end());
  buf.push_back('\0');
  return ::mkdtemp(buf.data());
}

// Opens a gate (sets the promise) when it goes out of scope unless done:
// declared after the hosts, it releases blocked state machines or
// listeners before the hosts stop, even when an assertion ends a test early.
struct OpenOnExit {
  std::promise<void>* gate;
  bool done = false;
  void open() {
    if (!done) gate->set_value();
    done = true;
  }
  ~OpenOnExit() { open(); }
};

// N NodeHosts in this process, each with its own directory and port.
struct TestCluster {
  explicit TestCluster(size_t n, uint64_t rtt_ms = 10) : rtt(rtt_ms) {
    for (size_t i = 0; i < n; ++i) {
      dirs.push_back(temp_dir("nh"));
      addresses.push_back("127.0.0.1:" + std::to_string(free_port()));
      hosts.emplace_back();
    }
  }
  ~TestCluster() {
    for (auto& h : hosts) h.reset();
    for (auto& d : dirs) std::filesystem::remove_all(d);
  }
  NodeHostConfig host_config(size_t i) const {
    NodeHostConfig c;
    c.node_host_dir = dirs[i];
    c.raft_address = addresses[i];
    c.rtt_millisecond = rtt;
    return c;
  }
  // Starts host i. A port picked by free_port() can be taken by another
  // test process before we bind it (ctest runs tests in parallel): a FIRST
  // start that cannot listen moves to a fresh port and directory and retries.
  Status start_host(size_t i, const std::function<void(NodeHostConfig*)>& tweak = {}) {
    Status s;
    for (int attempt = 0; attempt < 5; ++attempt) {
      bool fresh = !std::filesystem::exists(dirs[i] + "/dragonboat.flag");
      NodeHostConfig hc = host_config(i);
      if (tweak) tweak(&hc);
      s = NodeHost::create(hc, &hosts[i]);
      if (s.ok() || !fresh || s.message().find("cannot listen") == std::string::npos) return s;
      std::filesystem::remove_all(dirs[i]);
      std::filesystem::create_directories(dirs[i]);
      addresses[i] = "127.0.0.1:" + std::to_string(free_port());
    }
    return s;
  }
  // Members 1..n at the hosts' addresses.
  std::map<uint64_t, std::string> members() const {
    std::map<uint64_t, std::string> m;
    for (size_t i = 0; i < addresses.size(); ++i) m[i + 1] = addresses[i];
    return m;
  }
  static Config config(uint64_t cluster_id, uint64_t node_id) {
    Config c;
    c.cluster_id = cluster_id;
    c.node_id = node_id;
    c.election_rtt = 10;
    c.heartbeat_rtt = 1;
    c.check_quorum = true;
    return c;
  }
  // The index (0-based) of the host whose replica leads `cluster_id`, once
  // every running replica agrees; -1 after the limit.
  int leader(uint64_t cluster_id, std::chrono::seconds limit = std::chrono::seconds(30)) {
    int found = -1;
    bool ok = eventually(
        [&] {
          uint64_t seen = 0;
          for (auto& h : hosts) {
            if (!h) continue;
            uint64_t id = 0;
            bool valid = false;
            if (!h->get_leader_id(cluster_id, &id, &valid).ok()) continue;
            if (!valid || (seen && id != seen)) return false;
            seen = id;
          }
          if (!seen || !hosts[seen - 1]) return false;
          found = static_cast<int>(seen - 1);
          return true;
        },
        limit);
    return ok ? found : -1;
  }
  // sync_propose, retried while the error is temporary (no leader yet).
  Status propose(size_t host, const Session& s, const std::string& cmd, Result* r = nullptr) {
    Status st;
    eventually([&] {
      st = hosts[host]->sync_propose(s, cmd, std::chrono::seconds(5), r);
      return st.ok() || !is_temp_error(st.code());
    });
    return st;
  }
  Status read(size_t host, uint64_t cluster_id, const std::string& key, std::string* value) {
    Status st;
    eventually([&] {
      st = hosts[host]->sync_read(cluster_id, key, std::chrono::seconds(5), value);
      return st.ok() || !is_temp_error(st.code());
    });
    return st;
  }

  uint64_t rtt;
  std::vector<std::string> dirs;
  std::vector<std::string> addresses;
  std::vector<std::unique_ptr<NodeHost>> hosts;
};

// `n` counter increments ("+1", test::ConcurrentCounter and the like)
// proposed at once through `nh`, then waited for: every one must complete;
// the results they completed with go to *results (a count that was applied
// twice or skipped shows as fewer distinct results or a wrong largest one).
inline void propose_increments(NodeHost& nh, const Session& s, int n, std::set<uint64_t>* results) {
  std::vector<RequestStatePtr> all;
  for (int i = 0; i < n; ++i) {
    RequestStatePtr rs;
    ASSERT_TRUE(nh.propose(s, "+1", std::chrono::seconds(10), &rs).ok());
    all.push_back(rs);
  }
  for (auto& rs : all) {
    RequestResult r = rs->wait();
    ASSERT_TRUE(r.completed());
    results->insert(r.result.value);
  }
}

// Checker commands ("cmd-<i>") proposed through one host with the no-op
// session; `want` is what every replica must end up with (checker_sm.h), to
// compare with a "state" read (CheckerState::summary).
struct CheckerLoad {
  CheckerLoad(TestCluster* cluster, size_t host, uint64_t cluster_id = 1) : tc(cluster), via(host), cluster_id(cluster_id) {}

  TestCluster* tc;
  size_t via;
  uint64_t cluster_id;
  testing::CheckerState want;

  Status write(int i) {
    const std::string cmd = "cmd-" + std::to_string(i);
    want.apply(cmd);
    return tc->propose(via, tc->hosts[via]->get_noop_session(cluster_id), cmd);
  }
};

}  // namespace dragonboat::test
