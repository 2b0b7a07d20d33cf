#include "transport/inproc_transport.h"

#include <algorithm>

namespace dragonboat::transport {

// ------------------------------------------------------------- network --

void InProcNetwork::attach(const std::string& address, InProcTransport* t) {
  std::lock_guard<std::mutex> g(mu_);
  transports_[address] = t;
}

void InProcNetwork::detach(const std::string& address) {
  std::lock_guard<std::mutex> g(mu_);
  transports_.erase(address);
}

void InProcNetwork::partition(const std::string& a, const std::string& b) {
  std::lock_guard<std::mutex> g(mu_);
  cut_.insert({a, b});
  cut_.insert({b, a});
}

void InProcNetwork::heal() {
  std::lock_guard<std::mutex> g(mu_);
  cut_.clear();
}

void InProcNetwork::set_fault_hook(FaultHook hook) {
  std::lock_guard<std::mutex> g(mu_);
  hook_ = std::move(hook);
}

void InProcNetwork::tick() {
  std::vector<InProcTransport*> all;
  uint64_t now;
  {
    std::lock_guard<std::mutex> g(mu_);
    now = ++now_;
    for (auto& [a, t] : transports_) all.push_back(t);
  }
  for (InProcTransport* t : all) {
    std::lock_guard<std::mutex> g(t->mu_);
    t->released_ = now;
    t->cv_.notify_one();
  }
}

InProcNetwork::Route InProcNetwork::route(const std::string& from, const std::string& to,
                                          const raft::Message& m, bool snapshot) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = transports_.find(to);
  if (it == transports_.end() || cut_.count({from, to})) return Route::kUnreachable;
  Fault f = hook_ ? hook_(m) : Fault{};
  if (f.drop) return Route::kLost;
  Route r = Route::kQueued;
  // A snapshot is one transfer: never duplicated.
  const int copies = snapshot ? 1 : std::max(1, f.copies);
  for (int i = 0; i < copies; ++i) {
    InProcTransport::Item item;
    item.kind = snapshot ? InProcTransport::Item::kSnapshot : InProcTransport::Item::kMessage;
    item.from = from;
    item.m = m;
    item.due = f.delay_ticks ? now_ + f.delay_ticks : 0;
    // A full receive queue (MaxReceiveQueueSize) drops the message.
    if (!it->second->enqueue(std::move(item))) r = Route::kQueueFull;
  }
  return r;
}

void InProcNetwork::snapshot_status(const std::string& sender, const raft::Message& m, bool failed) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = transports_.find(sender);
  if (it != transports_.end()) it->second->report(InProcTransport::Item::kSnapshotStatus, m, failed);
}

// ----------------------------------------------------------- transport --

InProcTransport::InProcTransport(std::string address, InProcNetwork* network, const raftio::INodeResolver* resolver,
                                 MessageHandler* handler, size_t max_queue, std::string snapshot_dir)
    : address_(std::move(address)), network_(network), registry_(resolver), handler_(handler),
      max_queue_(max_queue), snapshot_dir_(std::move(snapshot_dir)) {}

InProcTransport::~InProcTransport() { stop(); }

Status InProcTransport::start() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (running_) return Status::OK();
    running_ = true;
    thread_ = std::thread([this] { run(); });
  }
  // Lock order is network -> transport (route() enqueues under the network
  // lock): attach only after releasing our own lock.
  network_->attach(address_, this);
  return Status::OK();
}

void InProcTransport::stop() {
  network_->detach(address_);
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!running_) return;
    running_ = false;
    queue_.clear();
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

bool InProcTransport::enqueue(Item item) {
  std::lock_guard<std::mutex> g(mu_);
  if (!running_ || queue_.size() >= max_queue_) return false;
  queue_.push_back(std::move(item));
  cv_.notify_one();
  return true;
}

void InProcTransport::report(Item::Kind kind, const raft::Message& m, bool failed) {
  Item item;
  item.kind = kind;
  item.m = m;
  item.failed = failed;
  enqueue(std::move(item));
}

bool InProcTransport::send(raft::Message m) {
  std::string to;
  if (!registry_->resolve(m.cluster_id, m.to, &to)) {
    report(Item::kUnreachable, m, true);
    return false;
  }
  switch (network_->route(address_, to, m)) {
    case InProcNetwork::Route::kQueued:
    case InProcNetwork::Route::kLost: return true;  // lost in the network: the sender cannot tell
    case InProcNetwork::Route::kQueueFull: return false;  // dropped; Raft retries
    case InProcNetwork::Route::kUnreachable: break;
  }
  report(Item::kUnreachable, m, true);
  return false;
}

bool InProcTransport::send_snapshot(raft::Message m) {
  // The receiving transport's thread copies the file in and delivers the
  // message; its outcome comes back here as one status (snapshot_status).
  std::string to;
  if (!registry_->resolve(m.cluster_id, m.to, &to)) return false;
  switch (network_->route(address_, to, m, /*snapshot=*/true)) {
    case InProcNetwork::Route::kQueued: return true;
    case InProcNetwork::Route::kLost:
      report(Item::kSnapshotStatus, m, true);
      return true;
    case InProcNetwork::Route::kQueueFull:
    case InProcNetwork::Route::kUnreachable: break;
  }
  return false;
}

void InProcTransport::run() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    auto ready = [this](const Item& i) { return i.due <= released_; };
    cv_.wait(lk, [&] {
      return !running_ || std::any_of(queue_.begin(), queue_.end(), ready);
    });
    if (!running_) return;
    // Take every ready item, keep delayed ones in order.
    std::vector<Item> batch;
    std::deque<Item> rest;
    for (auto& i : queue_) {
      if (ready(i)) {
        batch.push_back(std::move(i));
      } else {
        rest.push_back(std::move(i));
      }
    }
    queue_.swap(rest);
    lk.unlock();
    // Deliver consecutive messages from one source as one batch.
    std::vector<raft::Message> msgs;
    std::string source;
    auto flush = [&] {
      if (!msgs.empty()) handler_->handle_messages(std::move(msgs));
      msgs.clear();
    };
    for (auto& i : batch) {
      switch (i.kind) {
        case Item::kMessage:
          if (i.from != source) {
            flush();
            source = i.from;
          }
          // A joining node answers at the address the leader's messages came from.
          handler_->learn_address(i.m.cluster_id, i.m.from, i.from);
          msgs.push_back(std::move(i.m));
          break;
        case Item::kSnapshot: {
          flush();
          bool ok = true;
          if (!snapshot_dir_.empty() && !i.m.snapshot.filepath.empty()) {
            std::string path;
            Status s = raftio::receive_snapshot_file(snapshot_dir_, i.m, i.m.snapshot.filepath, &path);
            ok = s.ok();
            i.m.snapshot.filepath = path;
          }
          if (ok) {
            handler_->learn_address(i.m.cluster_id, i.m.from, i.from);
            std::vector<raft::Message> one;
            one.push_back(i.m);
            handler_->handle_messages(std::move(one));
          }
          network_->snapshot_status(i.from, i.m, !ok);
          break;
        }
        case Item::kUnreachable:
          flush();
          handler_->handle_unreachable(i.m.cluster_id, i.m.to);
          break;
        case Item::kSnapshotStatus:
          flush();
          handler_->handle_snapshot_status(i.m.cluster_id, i.m.to, i.m.snapshot.index, i.failed);
          break;
      }
    }
    flush();
    lk.lock();
  }
}

}  // namespace dragonboat::transport
