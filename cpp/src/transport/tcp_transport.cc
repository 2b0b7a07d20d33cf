// transport/tcp_transport.cc — TcpTransport: the listener, outgoing
// connections with batching and back-off, and inbound frames of message
// batches (snapshot streams: tcp_snapshot_stream.cc; the state:
// tcp_transport_impl.h).
#include "transport/tcp_transport_impl.h"

#include <cerrno>
#include <cstring>

#include "common/spin_wait.h"
#include "common/thread_name.h"
#include "common/trace_point.h"
#include "dragonboat/logger.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"

namespace dragonboat::transport {

std::chrono::microseconds pace_delay(uint64_t sent, uint64_t rate, std::chrono::microseconds elapsed) {
  if (rate == 0) return std::chrono::microseconds(0);
  // When `sent` bytes may go out at `rate`, at the earliest.
  auto due = std::chrono::microseconds(static_cast<int64_t>(sent * 1'000'000.0 / double(rate)));
  return due > elapsed ? due - elapsed : std::chrono::microseconds(0);
}

namespace {
// The I/O thread's loop: asio's run(), except that with a polling budget
// (common/spin_wait.h) the thread polls for ready handlers for up to that
// long before it sleeps in the reactor.
void run_io(asio::io_context& io, uint64_t busy_poll_ns) {
  AdaptiveSpin spin;
  spin.set_budget_ns(busy_poll_ns);
  bool ended = false;
  while (!ended && !io.stopped()) {
    spin.poll_or_sleep([&io] { return io.poll() > 0 || io.stopped(); },
                       [&] { ended = io.run_one() == 0 && io.stopped(); });
  }
}
}  // namespace

// Every refusal is kept for last_error() and, unless `log` is false (a
// repeat that fail() suppresses), logged as a warning.
void TcpTransport::Impl::set_error(const std::string& e, bool log) {
  if (log) log_message(LogLevel::kWarning, "transport", address + ": " + e);
  std::lock_guard<std::mutex> g(err_mu);
  last_error = e;
}

void TcpTransport::Impl::report_unreachable(const std::vector<std::pair<uint64_t, uint64_t>>& targets) {
  std::set<std::pair<uint64_t, uint64_t>> unique(targets.begin(), targets.end());
  for (const auto& [c, n] : unique) handler->handle_unreachable(c, n);
}

void TcpTransport::Impl::accept() {
  acceptor.async_accept([this](const asio::error_code& ec, tcp::socket s) {
    if (ec || !running) return;
    asio::error_code ignore;
    s.set_option(tcp::no_delay(true), ignore);
    auto in = std::make_shared<Inbound>(std::move(s));
    inbound.insert(in);
    if (ssl) {
      in->tls = std::make_unique<TlsStream>(in->socket, *ssl);
      in->tls->async_handshake(asio::ssl::stream_base::server, [this, in](const asio::error_code& e) {
        if (e) {
          ++stats.tls_refusals;
          return drop_inbound(in, "TLS handshake refused: " + e.message());
        }
        read_header(in);
      });
    } else {
      read_header(in);
    }
    accept();
  });
}

void TcpTransport::Impl::drop_inbound(const std::shared_ptr<Inbound>& in, const std::string& reason) {
  asio::error_code ignore;
  in->socket.close(ignore);
  in->abort_receiving();
  if (!reason.empty()) {
    // After the cleanup and with the reason first: whoever sees the
    // counter move sees the reason and the cleaned-up directory too.
    set_error(reason);
    ++stats.bad_frames;
  }
  inbound.erase(in);
}

void TcpTransport::Impl::read_header(std::shared_ptr<Inbound> in) {
  conn_read(in->socket, in->tls.get(), asio::buffer(in->header, kFrameHeaderSize),
                   [this, in](const asio::error_code& ec, size_t) {
                     if (ec) return drop_inbound(in, "");  // closed by the peer
                     Status s = decode_frame_header(in->header, kFrameHeaderSize, opt.limits, &in->fh);
                     if (!s.ok()) return drop_inbound(in, "bad frame header: " + s.to_string());
                     if (in->fh.payload_size == 0) return handle_frame(in);
                     // Safe: payload_size was checked against the limit above.
                     in->payload.resize(in->fh.payload_size);
                     conn_read(in->socket, in->tls.get(), asio::buffer(in->payload),
                                      [this, in](const asio::error_code& ec2, size_t) {
                                        if (ec2) return drop_inbound(in, "");
                                        handle_frame(in);
                                      });
                   });
}

void TcpTransport::Impl::handle_frame(const std::shared_ptr<Inbound>& in) {
  const FrameHeader& fh = in->fh;
  Status s = verify_payload(fh, in->payload.data(), fh.payload_size);
  if (!s.ok()) return drop_inbound(in, "bad frame payload: " + s.to_string());
  ++stats.frames_received;
  stats.bytes_received += kFrameHeaderSize + fh.payload_size;
  switch (fh.method) {
    case Method::kPoke:
      break;
    case Method::kRaftMessageBatch: {
      s = decode_batch(in->payload.data(), fh.payload_size, opt.limits, &in->batch);
      if (!s.ok()) return drop_inbound(in, "bad message batch: " + s.to_string());
      if (in->batch.bin_version != opt.bin_version) {
        // Another binary/protocol version: its messages may mean other things.
        set_error("batch from " + in->batch.source_address + " with version " +
                  std::to_string(in->batch.bin_version) + " dropped (ours is " +
                  std::to_string(opt.bin_version) + ")");
        ++stats.version_mismatches;
        break;
      }
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
      if (!in->batch.source_address.empty() && !in->peer_seen) {
        in->peer_seen = true;
        peer_is_back(in->batch.source_address);
      }
      if (!in->batch.source_address.empty()) {
        std::pair<uint64_t, uint64_t> last{0, 0};
        for (const auto& m : reqs) {
          if (std::make_pair(m.cluster_id, m.from) == last) continue;  // runs of one group: once
          last = {m.cluster_id, m.from};
          handler->learn_address(m.cluster_id, m.from, in->batch.source_address);
        }
      }
      if (tracing::enabled()) {
        for (const auto& m : reqs) tracing::trace_wire(tracing::Hop::kWireReceived, m);
      }
      if (!reqs.empty()) handler->handle_messages(std::move(reqs));
      in->batch.requests.clear();
      break;
    }
    case Method::kSnapshotChunk:
      return handle_chunk(in);
  }
  read_header(in);
}

// The connection for a group: streams_per_remote connections per remote
// host, chosen by cluster ID, so one group's messages stay in order on
// one connection while different groups spread over several.
std::shared_ptr<TcpTransport::Impl::Remote> TcpTransport::Impl::remote_for(const std::string& addr, uint64_t cluster_id) {
  uint64_t stream = cluster_id % std::max<uint64_t>(1, opt.streams_per_remote);
  std::lock_guard<std::mutex> g(remotes_mu);
  auto& r = remotes[addr + "#" + std::to_string(stream)];
  if (!r) r = std::make_shared<Remote>(this, addr);
  return r;
}

// A peer connected to us: it is up, so our connections toward it stop
// backing off (a restarted node is otherwise unreachable for up to
// kMaxBackoff after it is back, and cannot rejoin within an election
// timeout). Once per inbound connection, on the I/O thread.
void TcpTransport::Impl::peer_is_back(const std::string& addr) {
  std::vector<std::shared_ptr<Remote>> rs;
  {
    std::lock_guard<std::mutex> g(remotes_mu);
    std::string prefix = addr + "#";
    for (auto it = remotes.lower_bound(prefix); it != remotes.end() && it->first.compare(0, prefix.size(), prefix) == 0;
         ++it) {
      rs.push_back(it->second);
    }
  }
  for (auto& r : rs) {
    std::lock_guard<std::mutex> g(r->mu);
    r->retry_at = Clock::time_point{};
    r->backoff = kMinBackoff;
  }
}

void TcpTransport::Impl::schedule(const std::shared_ptr<Remote>& r) {
  // REQUIRES: r->mu held.
  if (r->scheduled) return;
  r->scheduled = true;
  asio::post(io, [this, r] { pump(r); });
}

void TcpTransport::Impl::pump(const std::shared_ptr<Remote>& r) {
  MessageBatch batch;
  bool connect_now = false;
  {
    std::lock_guard<std::mutex> g(r->mu);
    r->scheduled = false;
    if (!running) return;
    if (r->state == Remote::State::kIdle) {
      r->state = Remote::State::kConnecting;
      connect_now = true;
    } else {
      if (r->state != Remote::State::kConnected || r->writing) return;
      if (r->queue.empty() && !r->hello) return;
      r->writing = true;
      take_batch(r.get(), &batch);
    }
  }
  if (connect_now) return connect(r);
  // Encoded outside mu (a catch-up frame can be megabytes): this thread
  // owns wbuf and in_flight while `writing` is set.
  const size_t n = encode_frame(r.get(), &batch);
  conn_write(r->socket, r->tls.get(), asio::buffer(r->wbuf),
             [this, r, n](const asio::error_code& ec, size_t) { wrote_frame(r, ec, n); });
}

void TcpTransport::Impl::take_batch(Remote* r, MessageBatch* batch) {
  r->hello = false;
  // Take what fits one frame under the receiver's limits; the rest goes
  // in the next frame.
  uint64_t bytes = 0, entries = 0;
  size_t n = 0;
  for (; n < r->queue.size(); ++n) {
    const raft::Message& m = r->queue[n];
    uint64_t b = message_bytes(m);
    if (n > 0 && (bytes + b > opt.limits.max_frame_payload / 2 || n + 1 > opt.limits.max_messages_per_batch ||
                  entries + m.entries.size() > opt.limits.max_entries_per_batch)) {
      break;
    }
    bytes += b;
    entries += m.entries.size();
  }
  if (n == r->queue.size()) {
    batch->requests.swap(r->queue);
    r->queued_bytes = 0;
  } else {
    batch->requests.assign(std::make_move_iterator(r->queue.begin()),
                           std::make_move_iterator(r->queue.begin() + static_cast<long>(n)));
    r->queue.erase(r->queue.begin(), r->queue.begin() + static_cast<long>(n));
    r->queued_bytes -= bytes;
  }
}

size_t TcpTransport::Impl::encode_frame(Remote* r, MessageBatch* batch) {
  batch->deployment_id = opt.deployment_id;
  batch->source_address = address;
  batch->bin_version = opt.bin_version;
  r->in_flight.clear();
  for (const auto& m : batch->requests) r->in_flight.push_back({m.cluster_id, m.to});
  if (tracing::enabled()) {
    for (const auto& m : batch->requests) tracing::trace_wire(tracing::Hop::kWireSent, m);
  }
  r->wbuf.clear();
  encode_batch_frame(*batch, &r->wbuf);
  return batch->requests.size();
}

void TcpTransport::Impl::sent_frame(Remote* r, size_t messages) {
  ++stats.frames_sent;
  stats.bytes_sent += r->wbuf.size();
  stats.messages_sent += messages;
  r->in_flight.clear();
}

void TcpTransport::Impl::wrote_frame(const std::shared_ptr<Remote>& r, const asio::error_code& ec, size_t messages) {
  if (ec) return fail(r, "write to " + r->address + ": " + ec.message());
  sent_frame(r.get(), messages);
  {
    // wbuf and in_flight are free for the next writer from here.
    std::lock_guard<std::mutex> g(r->mu);
    r->writing = false;
  }
  pump(r);
}

// A step pass's critical messages for an idle connection are written by the
// step worker itself: on the path of one request this saves the hand-off to
// the I/O thread (a wake-up: 40-90 us on the VMs of docs/benchmarks.md)
// twice, the leader's Replicate and the follower's acknowledgement. The
// write costs the step worker the send (on loopback ~20-30 us: the
// receiver's TCP processing runs in the sender's context), so larger
// batches and messages off the critical path (commit broadcasts) still go
// to the I/O thread, leaving the step worker free for the next proposal.
void TcpTransport::Impl::write_or_schedule(const std::shared_ptr<Remote>& r, bool direct) {
  std::unique_lock<std::mutex> g(r->mu);
  if (!running || (r->queue.empty() && !r->hello)) return;  // stopped, or the I/O thread took it
  // A pump already posted (scheduled) but not yet run does not stop us: it
  // will find the queue empty, and what it would have sent (earlier
  // messages) goes first in this frame, in order.
  if (!direct || ssl || r->state != Remote::State::kConnected || r->writing ||
      r->queue.size() > TcpTransport::kMaxDirectMessages || r->queued_bytes > TcpTransport::kMaxDirectBytes) {
    schedule(r);
    return;
  }
  r->writing = true;
  // One frame within the receiver's limits; a rest (with limits configured
  // below the direct bounds) follows through the I/O thread. At most
  // kMaxDirectBytes: encoded under mu.
  MessageBatch batch;
  take_batch(r.get(), &batch);
  const size_t n = encode_frame(r.get(), &batch);
  // Under mu: stop() and fail() close the socket only with mu held, so the
  // descriptor cannot be closed (and reused) during this call.
  const ssize_t sent =
      ::send(r->socket.native_handle(), r->wbuf.data(), r->wbuf.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  const int err = sent < 0 ? errno : 0;
  const size_t written = sent > 0 ? static_cast<size_t>(sent) : 0;
  if (written == r->wbuf.size()) {
    ++stats.frames_written_directly;
    sent_frame(r.get(), n);
    r->writing = false;
    if (!r->queue.empty()) schedule(r);
    return;
  }
  // The socket's buffer is full (or the write failed): the I/O thread
  // writes the rest, or fails the connection. `writing` stays set, so
  // nothing else is written in between.
  g.unlock();
  asio::post(io, [this, r, n, written, err] {
    if (!running) return;
    if (err != 0 && err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
      return fail(r, "write to " + r->address + ": " + std::strerror(err));
    }
    asio::async_write(r->socket, asio::buffer(r->wbuf.data() + written, r->wbuf.size() - written),
                      [this, r, n](const asio::error_code& ec, size_t) { wrote_frame(r, ec, n); });
  });
}

void TcpTransport::Impl::connect(const std::shared_ptr<Remote>& r) {
  std::string host;
  uint16_t port = 0;
  if (!split_address(r->address, &host, &port)) return fail(r, "invalid address " + r->address);
  asio::error_code ec;
  auto ip = asio::ip::make_address(host, ec);  // r->state is kConnecting (pump)
  auto on_connect = [this, r](const asio::error_code& e) {
    if (!running) return;
    if (e) {
      ++stats.connect_failures;
      handler->connection_event(r->address, false, true);
      return fail(r, "connect to " + r->address + ": " + e.message());
    }
    asio::error_code ignore;
    r->socket.set_option(tcp::no_delay(true), ignore);
    auto connected = [this, r] {
      if (r->unlogged_repeats > 0) {
        log_message(LogLevel::kInfo, "transport",
                    address + ": connected to " + r->address + " after " +
                        std::to_string(r->unlogged_repeats + 1) + " failed attempts");
      }
      r->logged_failure.clear();  // the next failure is news again
      r->unlogged_repeats = 0;
      handler->connection_event(r->address, false, false);
      {
        std::lock_guard<std::mutex> g(r->mu);
        r->state = Remote::State::kConnected;
        r->backoff = kMinBackoff;
      }
      pump(r);
    };
    if (!ssl) return connected();
    r->tls = std::make_unique<TlsStream>(r->socket, *ssl);
    r->tls->async_handshake(asio::ssl::stream_base::client, [this, r, connected](const asio::error_code& e2) {
      if (!running) return;
      if (e2) {
        ++stats.tls_refusals;
        handler->connection_event(r->address, false, true);
        return fail(r, "TLS handshake with " + r->address + ": " + e2.message());
      }
      connected();
    });
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
void TcpTransport::Impl::fail(const std::shared_ptr<Remote>& r, const std::string& why) {
  // A peer that is down fails every retry (100 ms to 5 s apart) the same way:
  // the first failure is logged, the same one again at most once a minute
  // with how often it recurred, so a cluster starting up or a dead peer does
  // not flood the log. last_error() always holds the latest.
  const auto now = Clock::now();
  if (why == r->logged_failure && now - r->logged_at < kRepeatedFailureLogInterval) {
    ++r->unlogged_repeats;
    set_error(why, /*log=*/false);
  } else {
    std::string line = why;
    if (r->unlogged_repeats > 0) {
      const std::string n = std::to_string(r->unlogged_repeats);
      line += why == r->logged_failure ? " (" + n + " more times since it was last logged)"
                                       : " (before it, " + n + " more times: " + r->logged_failure + ")";
    }
    set_error(line);
    r->logged_failure = why;
    r->logged_at = now;
    r->unlogged_repeats = 0;
  }
  std::vector<std::pair<uint64_t, uint64_t>> targets;
  {
    std::lock_guard<std::mutex> g(r->mu);  // a direct writer never sees a closed descriptor
    asio::error_code ignore;
    r->socket.close(ignore);
    r->tls.reset();
    r->state = Remote::State::kIdle;
    r->writing = false;
    targets.swap(r->in_flight);
    for (const auto& m : r->queue) targets.push_back({m.cluster_id, m.to});
    r->queue.clear();
    r->queued_bytes = 0;
    r->retry_at = Clock::now() + r->backoff;
    r->backoff = std::min(r->backoff * 2, kMaxBackoff);
  }
  report_unreachable(targets);
}

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
  if (d.opt.mutual_tls) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    auto load = [&](const char* what, const std::string& file, auto&& fn) {
      if (file.empty()) return std::string(what) + " is not set";
      asio::error_code e;
      fn(file, e);
      return e ? std::string("cannot load ") + what + " " + file + ": " + e.message() : std::string();
    };
    std::string err = load("ca_file", d.opt.ca_file, [&](const std::string& f, asio::error_code& e) { ctx->load_verify_file(f, e); });
    if (err.empty()) err = load("cert_file", d.opt.cert_file, [&](const std::string& f, asio::error_code& e) { ctx->use_certificate_chain_file(f, e); });
    if (err.empty()) err = load("key_file", d.opt.key_file, [&](const std::string& f, asio::error_code& e) { ctx->use_private_key_file(f, asio::ssl::context::pem, e); });
    if (!err.empty()) return Status(ErrorCode::kInvalidOperation, "mutual TLS: " + err);
    // Both sides must present a certificate signed by our CA.
    ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    d.ssl = std::move(ctx);
  }
  tcp::endpoint ep(ip, port);
  d.acceptor.open(ep.protocol(), ec);
  if (!ec) d.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) d.acceptor.bind(ep, ec);
  if (!ec) d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(ErrorCode::kFatal, "cannot listen on " + d.opt.listen_address + ": " + ec.message());
  if (!d.opt.snapshot_dir.empty()) {
    // Half-received snapshots of an earlier run never survive a restart.
    std::error_code fec;
    for (const auto& entry : std::filesystem::directory_iterator(d.opt.snapshot_dir, fec)) {
      if (entry.is_directory()) (void)snapshot::remove_orphans(entry.path().string());
    }
  }
  uint16_t bound = d.acceptor.local_endpoint().port();
  d.address = d.opt.raft_address.empty() ? host + ":" + std::to_string(bound) : d.opt.raft_address;
  d.running = true;
  d.work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(d.io.get_executor());
  d.accept();
  d.thread = std::thread([&d] {
    set_thread_name("io");
    run_io(d.io, d.opt.busy_poll_ns);
  });
  return Status::OK();
}

void TcpTransport::stop() {
  Impl& d = *impl_;
  if (!d.running.exchange(false)) return;
  {
    // Unblock and join snapshot streams first (they may post to the I/O thread).
    std::lock_guard<std::mutex> g(d.streams_mu);
    for (auto& st : d.streams) {
      std::lock_guard<std::mutex> f(st->fd_mu);
      if (st->fd >= 0) ::shutdown(st->fd, SHUT_RDWR);
    }
    d.reap_streams(true);
  }
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
  for (auto& [a, r] : d.remotes) {
    std::lock_guard<std::mutex> rg(r->mu);  // a step worker may be writing to it directly
    r->socket.close(ignore);
  }
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
  auto r = d.remote_for(to, m.cluster_id);
  std::lock_guard<std::mutex> g(r->mu);
  if (Clock::now() < r->retry_at) {
    // Backing off after a failure: drop now rather than queue forever.
    uint64_t c = m.cluster_id, n = m.to;
    asio::post(d.io, [&d, c, n] { d.handler->handle_unreachable(c, n); });
    return false;
  }
  uint64_t size = message_bytes(m);
  // Dropped only while the queue is already at its limit (as the
  // reference): a message larger than the whole limit still goes out when
  // the queue is empty, or a Replicate of a big batch would be dropped on
  // every retransmission and never commit.
  if (r->queued_bytes > 0 && r->queued_bytes + size > d.opt.max_send_queue_bytes) {
    ++d.stats.send_queue_drops;
    return false;
  }
  r->queued_bytes += size;
  r->queue.push_back(std::move(m));
  if (Impl::held.owner == &d) {
    // Held for this thread's flush_sends(): one frame per connection per flush.
    auto& rs = Impl::held.remotes;
    if (std::find(rs.begin(), rs.end(), r) == rs.end()) rs.push_back(r);
    return true;
  }
  d.schedule(r);
  return true;
}

thread_local TcpTransport::Impl::HeldSends TcpTransport::Impl::held;

void TcpTransport::begin_send_batch() {
  // A thread holds the sends of one transport at a time (a step worker
  // belongs to one NodeHost); any other transport sends at once.
  if (Impl::held.owner == nullptr) Impl::held.owner = impl_.get();
}

void TcpTransport::flush_sends(bool from_this_thread) {
  Impl& d = *impl_;
  if (Impl::held.owner != &d) return;
  // write_or_schedule never sends, so the list does not change meanwhile.
  for (const auto& r : Impl::held.remotes) d.write_or_schedule(r, from_this_thread);
  Impl::held.remotes.clear();
}

void TcpTransport::end_send_batch() {
  flush_sends(/*from_this_thread=*/false);
  if (Impl::held.owner == impl_.get()) Impl::held.owner = nullptr;
}

void TcpTransport::hello(const std::string& address) {
  Impl& d = *impl_;
  if (!d.running || address == d.address) return;
  auto r = d.remote_for(address, 0);
  std::lock_guard<std::mutex> g(r->mu);
  r->hello = true;
  d.schedule(r);
}

bool TcpTransport::send_snapshot(raft::Message m) {
  Impl& d = *impl_;
  if (!d.running) return false;
  std::lock_guard<std::mutex> g(d.streams_mu);
  d.reap_streams(false);
  if (d.streams.size() >= d.opt.max_snapshot_streams) {
    // Too many streams at once: fail now (the caller reports it); Raft
    // sends the snapshot again.
    return false;
  }
  auto st = std::make_unique<Impl::Stream>();
  Impl::Stream* raw = st.get();
  st->thread = std::thread([&d, raw, m = std::move(m)]() mutable {
    set_thread_name("snap-send");
    d.stream_snapshot(raw, std::move(m));
  });
  d.streams.push_back(std::move(st));
  return true;
}

const std::string& TcpTransport::address() const { return impl_->address; }
const TcpTransportStats& TcpTransport::tcp_stats() const { return impl_->stats; }

raftio::TransportStats TcpTransport::stats() const {
  const TcpTransportStats& s = impl_->stats;
  raftio::TransportStats out;
  out.bytes_sent = s.bytes_sent.load();
  out.bytes_received = s.bytes_received.load();
  out.messages_sent = s.messages_sent.load();
  out.messages_received = s.messages_received.load();
  out.send_queue_drops = s.send_queue_drops.load();
  out.bad_frames = s.bad_frames.load();
  out.connect_failures = s.connect_failures.load();
  out.deployment_mismatches = s.deployment_mismatches.load();
  out.snapshots_sent = s.snapshots_sent.load();
  out.snapshots_received = s.snapshots_received.load();
  return out;
}

std::string TcpTransport::last_error() const {
  std::lock_guard<std::mutex> g(impl_->err_mu);
  return impl_->last_error;
}

}  // namespace dragonboat::transport
