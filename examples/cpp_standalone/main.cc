// Starts a single-node NodeHost, proposes, reads it back; exits 0 on success.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "dragonboat/nodehost.h"

namespace {

class Echo : public dragonboat::IStateMachine {
 public:
  dragonboat::Status update(std::string_view cmd, dragonboat::Result* r) override {
    last_ = std::string(cmd);
    r->value = ++count_;
    return dragonboat::Status::OK();
  }
  dragonboat::Status lookup(std::string_view, std::string* a) override {
    *a = last_;
    return dragonboat::Status::OK();
  }
  dragonboat::Status save_snapshot(dragonboat::ISnapshotWriter* w) override { return w->write(last_.data(), last_.size()); }
  dragonboat::Status recover_from_snapshot(dragonboat::ISnapshotReader*) override { return dragonboat::Status::OK(); }

 private:
  std::string last_;
  uint64_t count_ = 0;
};

}  // namespace

int main() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  std::string dir = std::filesystem::temp_directory_path() / ("dragonboat-consumer-" + std::to_string(::getpid()));
  dragonboat::NodeHostConfig hc;
  hc.node_host_dir = dir;
  hc.raft_address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  hc.rtt_millisecond = 10;
  std::unique_ptr<dragonboat::NodeHost> nh;
  dragonboat::Status s = dragonboat::NodeHost::create(hc, &nh);
  if (!s.ok()) return std::fprintf(stderr, "create: %s\n", s.to_string().c_str()), 1;
  dragonboat::Config c;
  c.cluster_id = 1;
  c.node_id = 1;
  s = nh->start_cluster({{1, hc.raft_address}}, false,
                        [](uint64_t, uint64_t) { return std::make_unique<Echo>(); }, c);
  if (!s.ok()) return std::fprintf(stderr, "start: %s\n", s.to_string().c_str()), 1;
  dragonboat::Result r;
  for (int i = 0; i < 500; ++i) {  // the single member elects itself within a few ticks
    s = nh->sync_propose(nh->get_noop_session(1), "hello", std::chrono::seconds(2), &r);
    if (s.ok() || !dragonboat::is_temp_error(s.code())) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // retry interval
  }
  if (!s.ok()) return std::fprintf(stderr, "propose: %s\n", s.to_string().c_str()), 1;
  std::string answer;
  s = nh->sync_read(1, "", std::chrono::seconds(2), &answer);
  nh.reset();
  std::filesystem::remove_all(dir);
  if (!s.ok() || answer != "hello") return std::fprintf(stderr, "read: %s\n", s.to_string().c_str()), 1;
  std::printf("consumer: proposed and read back \"%s\" through the installed dragonboat package\n", answer.c_str());
  return 0;
}
