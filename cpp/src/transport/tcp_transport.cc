#include "transport/tcp_transport.h"

#include <asio.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace dragonboat::transport {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

bool split_address(const std::string& address, std::string* host, uint16_t* port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= address.size()) return false;
  *host = address.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  unsigned long p = 0;
  try {
    size_t used = 0;
    p = std::stoul(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1 || p > 65535) return false;
  } catch (const std::exception&) {
    return false;
  }
  *port = static_cast<uint16_t>(p);
  return true;
}

namespace {

uint64_t message_bytes(const raft::Message& m) {
  return 64 + raft::entries_size_bytes(m.entries) + m.snapshot.data.size();
}

constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

}  // namespace

struct TcpTransport::Impl {
  // One outgoing connection. All socket work happens on the I/O thread;
  // `mu` guards the queue and flags shared with senders.
  struct Remote : std::enable_shared_from_this<Remote> {
    Remote(Impl* i, std::string a) : impl(i), address(std::move(a)), socket(i->io) {}
    Impl* impl;
    std::string address;
    tcp::socket socket;
    std::mutex mu;
    std::vector<raft::Message> queue;
    uint64_t queued_bytes = 0;
    bool scheduled = false;
    Clock::time_point retry_at{};
    std::chrono::milliseconds backoff{kMinBackoff};
    // I/O-thread only.
    enum class State { kIdle, kConnecting, kConnected } state = State::kIdle;
    bool writing = false;
    std::string wbuf;
    std::vector<std::pair<uint64_t, uint64_t>> in_flight;  // targets of the frame being written
  };

  // One accepted connection.
  struct Inbound : std::enable_shared_from_this<Inbound> {
    explicit Inbound(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    char header[kFrameHeaderSize];
    FrameHeader fh;
    std::string payload;
    MessageBatch batch;
  };

  Impl(TcpTransportOptions o, const NodeRegistry* r, MessageHandler* h)
      : opt(std::move(o)), registry(r), handler(h), acceptor(io) {}

  TcpTransportOptions opt;
  const NodeRegistry* registry;
  MessageHandler* handler;
  asio::io_context io;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor;
  std::thread thread;
  std::string address;
  std::atomic<bool> running{false};
  TcpTransportStats stats;
  mutable std::mutex err_mu;
  std::string last_error;
  std::mutex remotes_mu;
  std::map<std::string, std::shared_ptr<Remote>> remotes;
  std::set<std::shared_ptr<Inbound>> inbound;  // I/O thread only

  void set_error(const std::string& e) {
    std::lock_guard<std::mutex> g(err_mu);
    last_error = e;
  }

  void report_unreachable(const std::vector<std::pair<uint64_t, uint64_t>>& targets) {
    std::set<std::pair<uint64_t, uint64_t>> unique(targets.begin(), targets.end());
    for (const auto& [c, n] : unique) handler->handle_unreachable(c, n);
  }

  // ---- receive path ----
  void accept() {
    acceptor.async_accept([this](const asio::error_code& ec, tcp::socket s) {
      if (ec || !running) return;
      asio::error_code ignore;
      s.set_option(tcp::no_delay(true), ignore);
      auto in = std::make_shared<Inbound>(std::move(s));
      inbound.insert(in);
      read_header(in);
      accept();
    });
  }

  void drop_inbound(const std::shared_ptr<Inbound>& in, const std::string& reason) {
    if (!reason.empty()) {
      set_error(reason);  // before the counter: readers see both in order
      ++stats.bad_frames;
    }
    asio::error_code ignore;
    in->socket.close(ignore);
    inbound.erase(in);
  }

  void read_header(std::shared_ptr<Inbound> in) {
    asio::async_read(in->socket, asio::buffer(in->header, kFrameHeaderSize),
                     [this, in](const asio::error_code& ec, size_t) {
                       if (ec) return drop_inbound(in, "");  // closed by the peer
                       Status s = decode_frame_header(in->header, kFrameHeaderSize, opt.limits, &in->fh);
                       if (!s.ok()) return drop_inbound(in, "bad frame header: " + s.to_string());
                       if (in->fh.payload_size == 0) return handle_frame(in);
                       // Safe: payload_size was checked against the limit above.
                       in->payload.resize(in->fh.payload_size);
                       asio::async_read(in->socket, asio::buffer(in->payload),
                                        [this, in](const asio::error_code& ec2, size_t) {
                                          if (ec2) return drop_inbound(in, "");
                                          handle_frame(in);
                                        });
                     });
  }

  void handle_frame(const std::shared_ptr<Inbound>& in) {
    const FrameHeader& fh = in->fh;
    Status s = verify_payload(fh, in->payload.data(), fh.payload_size);
    if (!s.ok()) return drop_inbound(in, "bad frame payload: " + s.to_string());
    ++stats.frames_received;
    switch (fh.method) {
      case Method::kPoke:
        break;
      case Method::kRaftMessageBatch: {
        s = decode_batch(in->payload.data(), fh.payload_size, opt.limits, &in->batch);
        if (!s.ok()) return drop_inbound(in, "bad message batch: " + s.to_string());
        if (in->batch.deployment_id != opt.deployment_id) {
          // Another deployment's traffic: never delivered, counted.
          set_error("batch from deployment " + std::to_string(in->batch.deployment_id) + " dropped");
          ++stats.deployment_mismatches;
          break;
        }
        // Local message types (election timeouts, transport feedback) must
        // never come from the network: drop them, keep the rest.
        auto& reqs = in->batch.requests;
        size_t before = reqs.size();
        reqs.erase(std::remove_if(reqs.begin(), reqs.end(),
                                  [](const raft::Message& m) { return raft::is_local_message(m.type); }),
                   reqs.end());
        if (reqs.size() != before) {
          set_error("dropped " + std::to_string(before - reqs.size()) + " local-type message(s) from " +
                    in->batch.source_address);
          stats.local_messages_dropped += before - reqs.size();
        }
        stats.messages_received += reqs.size();
        if (!reqs.empty()) handler->handle_messages(std::move(reqs));
        in->batch.requests.clear();
        break;
      }
      case Method::kSnapshotChunk:
        return drop_inbound(in, "snapshot streaming is not supported by this transport yet");
    }
    read_header(in);
  }

  // ---- send path ----
  std::shared_ptr<Remote> remote_for(const std::string& addr) {
    std::lock_guard<std::mutex> g(remotes_mu);
    auto& r = remotes[addr];
    if (!r) r = std::make_shared<Remote>(this, addr);
    return r;
  }

  void schedule(const std::shared_ptr<Remote>& r) {
    // REQUIRES: r->mu held.
    if (r->scheduled) return;
    r->scheduled = true;
    asio::post(io, [this, r] { pump(r); });
  }

  void pump(const std::shared_ptr<Remote>& r) {
    {
      std::lock_guard<std::mutex> g(r->mu);
      r->scheduled = false;
    }
    if (!running) return;
    if (r->state == Remote::State::kIdle) return connect(r);
    if (r->state != Remote::State::kConnected || r->writing) return;
    MessageBatch batch;
    {
      std::lock_guard<std::mutex> g(r->mu);
      if (r->queue.empty()) return;
      // Take what fits one frame under the receiver's limits; the rest goes
      // in the next frame.
      uint64_t bytes = 0, entries = 0;
      size_t n = 0;
      for (; n < r->queue.size(); ++n) {
        const raft::Message& m = r->queue[n];
        uint64_t b = message_bytes(m);
        if (n > 0 && (bytes + b > opt.limits.max_frame_payload / 2 ||
                      n + 1 > opt.limits.max_messages_per_batch ||
                      entries + m.entries.size() > opt.limits.max_entries_per_batch)) {
          break;
        }
        bytes += b;
        entries += m.entries.size();
      }
      if (n == r->queue.size()) {
        batch.requests.swap(r->queue);
        r->queued_bytes = 0;
      } else {
        batch.requests.assign(std::make_move_iterator(r->queue.begin()),
                              std::make_move_iterator(r->queue.begin() + static_cast<long>(n)));
        r->queue.erase(r->queue.begin(), r->queue.begin() + static_cast<long>(n));
        r->queued_bytes -= bytes;
      }
    }
    batch.deployment_id = opt.deployment_id;
    batch.source_address = address;
    batch.bin_version = opt.bin_version;
    r->in_flight.clear();
    for (const auto& m : batch.requests) r->in_flight.push_back({m.cluster_id, m.to});
    r->wbuf.clear();
    encode_batch_frame(batch, &r->wbuf);
    r->writing = true;
    size_t n = batch.requests.size();
    asio::async_write(r->socket, asio::buffer(r->wbuf), [this, r, n](const asio::error_code& ec, size_t) {
      r->writing = false;
      if (ec) return fail(r, "write to " + r->address + ": " + ec.message());
      ++stats.frames_sent;
      stats.messages_sent += n;
      r->in_flight.clear();
      pump(r);
    });
  }

  void connect(const std::shared_ptr<Remote>& r) {
    std::string host;
    uint16_t port = 0;
    if (!split_address(r->address, &host, &port)) return fail(r, "invalid address " + r->address);
    asio::error_code ec;
    auto ip = asio::ip::make_address(host, ec);
    r->state = Remote::State::kConnecting;
    auto on_connect = [this, r](const asio::error_code& e) {
      if (!running) return;
      if (e) {
        ++stats.connect_failures;
        return fail(r, "connect to " + r->address + ": " + e.message());
      }
      asio::error_code ignore;
      r->socket.set_option(tcp::no_delay(true), ignore);
      r->state = Remote::State::kConnected;
      {
        std::lock_guard<std::mutex> g(r->mu);
        r->backoff = kMinBackoff;
      }
      pump(r);
    };
    if (!ec) {
      r->socket.async_connect(tcp::endpoint(ip, port), on_connect);
      return;
    }
    auto resolver = std::make_shared<tcp::resolver>(io);
    resolver->async_resolve(host, std::to_string(port),
                            [this, r, resolver, on_connect](const asio::error_code& e, tcp::resolver::results_type res) {
                              if (e) return fail(r, "resolve " + r->address + ": " + e.message());
                              asio::async_connect(r->socket, res,
                                                  [on_connect](const asio::error_code& e2, const tcp::endpoint&) {
                                                    on_connect(e2);
                                                  });
                            });
  }

  // The connection failed: everything queued or in flight is lost; tell
  // Raft its targets are unreachable and back off before reconnecting.
  void fail(const std::shared_ptr<Remote>& r, const std::string& why) {
    set_error(why);
    asio::error_code ignore;
    r->socket.close(ignore);
    r->state = Remote::State::kIdle;
    r->writing = false;
    std::vector<std::pair<uint64_t, uint64_t>> targets;
    targets.swap(r->in_flight);
    {
      std::lock_guard<std::mutex> g(r->mu);
      for (const auto& m : r->queue) targets.push_back({m.cluster_id, m.to});
      r->queue.clear();
      r->queued_bytes = 0;
      r->retry_at = Clock::now() + r->backoff;
      r->backoff = std::min(r->backoff * 2, kMaxBackoff);
    }
    report_unreachable(targets);
  }
};

TcpTransport::TcpTransport(TcpTransportOptions options, const NodeRegistry* registry, MessageHandler* handler)
    : impl_(std::make_unique<Impl>(std::move(options), registry, handler)) {}

TcpTransport::~TcpTransport() { stop(); }

Status TcpTransport::start() {
  Impl& d = *impl_;
  if (d.running) return Status::OK();
  std::string host;
  uint16_t port = 0;
  if (!split_address(d.opt.listen_address, &host, &port)) {
    return Status(ErrorCode::kInvalidAddress, "invalid listen address " + d.opt.listen_address);
  }
  asio::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec) return Status(ErrorCode::kInvalidAddress, "listen address must be numeric: " + d.opt.listen_address);
  tcp::endpoint ep(ip, port);
  d.acceptor.open(ep.protocol(), ec);
  if (!ec) d.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) d.acceptor.bind(ep, ec);
  if (!ec) d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(ErrorCode::kFatal, "cannot listen on " + d.opt.listen_address + ": " + ec.message());
  uint16_t bound = d.acceptor.local_endpoint().port();
  d.address = d.opt.raft_address.empty() ? host + ":" + std::to_string(bound) : d.opt.raft_address;
  d.running = true;
  d.work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(d.io.get_executor());
  d.accept();
  d.thread = std::thread([&d] { d.io.run(); });
  return Status::OK();
}

void TcpTransport::stop() {
  Impl& d = *impl_;
  if (!d.running.exchange(false)) return;
  d.work.reset();
  d.io.stop();
  if (d.thread.joinable()) d.thread.join();
  // The I/O thread is gone: close everything from here, so the port is free
  // and peers see the connections end as soon as stop() returns.
  asio::error_code ignore;
  d.acceptor.close(ignore);
  for (auto& in : d.inbound) in->socket.close(ignore);
  d.inbound.clear();
  std::lock_guard<std::mutex> g(d.remotes_mu);
  for (auto& [a, r] : d.remotes) r->socket.close(ignore);
  d.remotes.clear();
}

bool TcpTransport::send(raft::Message m) {
  Impl& d = *impl_;
  if (!d.running) return false;
  std::string to;
  if (!d.registry->resolve(m.cluster_id, m.to, &to)) {
    uint64_t c = m.cluster_id, n = m.to;
    asio::post(d.io, [&d, c, n] { d.handler->handle_unreachable(c, n); });
    return false;
  }
  auto r = d.remote_for(to);
  std::lock_guard<std::mutex> g(r->mu);
  if (Clock::now() < r->retry_at) {
    // Backing off after a failure: drop now rather than queue forever.
    uint64_t c = m.cluster_id, n = m.to;
    asio::post(d.io, [&d, c, n] { d.handler->handle_unreachable(c, n); });
    return false;
  }
  uint64_t size = message_bytes(m);
  if (r->queued_bytes + size > d.opt.max_send_queue_bytes) {
    ++d.stats.send_queue_drops;
    return false;
  }
  r->queued_bytes += size;
  r->queue.push_back(std::move(m));
  d.schedule(r);
  return true;
}

bool TcpTransport::send_snapshot(raft::Message m) {
  Impl& d = *impl_;
  uint64_t c = m.cluster_id, n = m.to;
  if (d.running) asio::post(d.io, [&d, c, n] { d.handler->handle_snapshot_status(c, n, true); });
  return false;
}

const std::string& TcpTransport::address() const { return impl_->address; }
const TcpTransportStats& TcpTransport::stats() const { return impl_->stats; }

std::string TcpTransport::last_error() const {
  std::lock_guard<std::mutex> g(impl_->err_mu);
  return impl_->last_error;
}

}  // namespace dragonboat::transport
