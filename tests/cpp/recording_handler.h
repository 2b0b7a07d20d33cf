// tests/cpp/recording_handler.h — a transport MessageHandler that records
// what a transport delivers, for the transport tests (in-process, TCP, TLS,
// snapshot streaming).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include "transport/transport.h"

namespace dragonboat::test {

class RecordingHandler : public transport::MessageHandler {
 public:
  struct SnapshotStatus {
    uint64_t cluster_id;
    uint64_t node_id;
    uint64_t index;  // the snapshot's
    bool failed;
  };

  void handle_messages(std::vector<raft::Message> msgs) override {
    std::lock_guard<std::mutex> g(mu_);
    ++batches;
    for (auto& m : msgs) received.push_back(std::move(m));
    cv_.notify_all();
  }
  void handle_unreachable(uint64_t cluster_id, uint64_t node_id) override {
    std::lock_guard<std::mutex> g(mu_);
    unreachable.push_back({cluster_id, node_id});
    cv_.notify_all();
  }
  void handle_snapshot_status(uint64_t cluster_id, uint64_t node_id, uint64_t index, bool failed) override {
    std::lock_guard<std::mutex> g(mu_);
    snapshot_status.push_back({cluster_id, node_id, index, failed});
    cv_.notify_all();
  }

  // Blocks until `pred` — called as pred() or pred(*this), with the lock
  // held — holds; false after `timeout` (the deadline only turns a hang into
  // a test failure).
  template <typename P>
  bool wait(P pred) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, timeout, [&] {
      if constexpr (std::is_invocable_v<P, RecordingHandler&>) {
        return pred(*this);
      } else {
        return pred();
      }
    });
  }
  // Copies under the lock (for use while the transport may still deliver).
  std::vector<raft::Message> received_copy() {
    std::lock_guard<std::mutex> g(mu_);
    return received;
  }
  size_t received_count() {
    std::lock_guard<std::mutex> g(mu_);
    return received.size();
  }

  // What was recorded: read inside wait()'s predicate, or through the
  // copies above while deliveries may still happen.
  std::vector<raft::Message> received;
  std::vector<std::pair<uint64_t, uint64_t>> unreachable;
  std::vector<SnapshotStatus> snapshot_status;
  int batches = 0;
  std::chrono::milliseconds timeout{30000};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace dragonboat::test
