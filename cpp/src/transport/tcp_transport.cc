#include "transport/tcp_transport.h"

#include <asio.hpp>
#include <asio/steady_timer.hpp>
#include <asio/ssl.hpp>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <list>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/thread_name.h"
#include "dragonboat/logger.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"

namespace dragonboat::transport {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::chrono::microseconds pace_delay(uint64_t sent, uint64_t rate, std::chrono::microseconds elapsed) {
  if (rate == 0) return std::chrono::microseconds(0);
  // When `sent` bytes may go out at `rate`, at the earliest.
  auto due = std::chrono::microseconds(static_cast<int64_t>(sent * 1'000'000.0 / double(rate)));
  return due > elapsed ? due - elapsed : std::chrono::microseconds(0);
}

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

using TlsStream = asio::ssl::stream<tcp::socket&>;

// Reads/writes through TLS when the connection has it, else the plain socket.
template <typename Buf, typename H>
void conn_read(tcp::socket& s, TlsStream* tls, const Buf& b, H&& h) {
  if (tls) {
    asio::async_read(*tls, b, std::forward<H>(h));
  } else {
    asio::async_read(s, b, std::forward<H>(h));
  }
}
template <typename Buf, typename H>
void conn_write(tcp::socket& s, TlsStream* tls, const Buf& b, H&& h) {
  if (tls) {
    asio::async_write(*tls, b, std::forward<H>(h));
  } else {
    asio::async_write(s, b, std::forward<H>(h));
  }
}

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
    std::unique_ptr<TlsStream> tls;  // per connection attempt, with mutual TLS
    std::mutex mu;
    std::vector<raft::Message> queue;
    uint64_t queued_bytes = 0;
    bool scheduled = false;
    bool hello = false;  // send an empty batch (our address only) even with nothing queued
    Clock::time_point retry_at{};
    std::chrono::milliseconds backoff{kMinBackoff};
    // I/O-thread only.
    enum class State { kIdle, kConnecting, kConnected } state = State::kIdle;
    bool writing = false;
    std::string wbuf;
    std::vector<std::pair<uint64_t, uint64_t>> in_flight;  // targets of the frame being written
  };

  // A snapshot being received on an inbound connection.
  struct Receiving {
    bool active = false;
    std::string root, tmp, path;
    int fd = -1;
    uint64_t next = 0, count = 0, index = 0;
    uint64_t received = 0;  // bytes of chunk frames so far (pacing)
    std::chrono::steady_clock::time_point started;
  };

  // One accepted connection.
  struct Inbound : std::enable_shared_from_this<Inbound> {
    explicit Inbound(tcp::socket s) : socket(std::move(s)) {}
    ~Inbound() { abort_receiving(); }
    void abort_receiving() {
      if (rx.fd >= 0) ::close(rx.fd);
      rx.fd = -1;
      if (rx.active && !rx.tmp.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(rx.tmp, ec);  // a half-received snapshot never stays
      }
      rx.active = false;
    }
    tcp::socket socket;
    std::unique_ptr<TlsStream> tls;
    char header[kFrameHeaderSize];
    FrameHeader fh;
    std::string payload;
    MessageBatch batch;
    SnapshotChunk chunk;
    Receiving rx;
    bool peer_seen = false;  // its source address reset our back-off toward it
    std::string out;
  };

  // One outgoing snapshot stream (its own thread and connection).
  struct Stream {
    std::thread thread;
    std::atomic<bool> done{false};
    std::mutex fd_mu;  // guards fd against reuse between shutdown and close
    int fd = -1;
  };

  Impl(TcpTransportOptions o, const NodeRegistry* r, MessageHandler* h)
      : opt(std::move(o)), registry(r), handler(h), acceptor(io) {}

  TcpTransportOptions opt;
  const NodeRegistry* registry;
  MessageHandler* handler;
  asio::io_context io;
  std::unique_ptr<asio::ssl::context> ssl;  // set with mutual TLS
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
  std::mutex streams_mu;
  std::list<std::unique_ptr<Stream>> streams;

  // Every refusal is logged (warning) and kept for last_error().
  void set_error(const std::string& e) {
    log_message(LogLevel::kWarning, "transport", address + ": " + e);
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

  void drop_inbound(const std::shared_ptr<Inbound>& in, const std::string& reason) {
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

  void read_header(std::shared_ptr<Inbound> in) {
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

  void handle_frame(const std::shared_ptr<Inbound>& in) {
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
        if (!reqs.empty()) handler->handle_messages(std::move(reqs));
        in->batch.requests.clear();
        break;
      }
      case Method::kSnapshotChunk:
        return handle_chunk(in);
    }
    read_header(in);
  }

  // A witness's snapshot: the membership only, one empty chunk, nothing
  // written to disk; acknowledged like a stored one.
  void deliver_witness_snapshot(const std::shared_ptr<Inbound>& in) {
    const SnapshotChunk& ch = in->chunk;
    if (ch.chunk_id != 0 || ch.chunk_count != 1 || !ch.data.empty() || ch.file_size != 0) {
      return drop_inbound(in, "witness snapshot chunk " + std::to_string(ch.chunk_id) + " of " +
                                  std::to_string(ch.chunk_count) + " with " + std::to_string(ch.data.size()) +
                                  " bytes: a witness snapshot is one empty chunk");
    }
    in->abort_receiving();
    deliver_snapshot(in, "", 0);
  }

  // Hands the InstallSnapshot of the chunk just received (its data file at
  // `filepath`, none for a witness) to the handler, then tells the sender:
  // the snapshot is durable here, only now it succeeded.
  void deliver_snapshot(const std::shared_ptr<Inbound>& in, std::string filepath, uint64_t file_size) {
    const SnapshotChunk& ch = in->chunk;
    ++stats.snapshots_received;
    raft::Message m;
    m.type = raft::MessageType::kInstallSnapshot;
    m.cluster_id = ch.cluster_id;
    m.to = ch.node_id;
    m.from = ch.from;
    m.term = ch.message_term;
    m.snapshot.index = ch.index;
    m.snapshot.term = ch.term;
    m.snapshot.membership = ch.membership;
    m.snapshot.witness = ch.witness;
    m.snapshot.filepath = std::move(filepath);
    m.snapshot.file_size = file_size;
    std::vector<raft::Message> one;
    one.push_back(std::move(m));
    handler->handle_messages(std::move(one));
    in->out.clear();
    encode_frame_header(Method::kPoke, std::string_view(), &in->out);
    conn_write(in->socket, in->tls.get(), asio::buffer(in->out), [this, in](const asio::error_code& ec, size_t) {
      if (ec) return drop_inbound(in, "");
      read_header(in);
    });
  }

  void handle_chunk(const std::shared_ptr<Inbound>& in) {
    SnapshotChunk& ch = in->chunk;
    Status s = decode_chunk(in->payload.data(), in->fh.payload_size, opt.limits, &ch);
    if (!s.ok()) return drop_inbound(in, "bad snapshot chunk: " + s.to_string());
    if (ch.bin_version != opt.bin_version) {
      set_error("snapshot chunk with version " + std::to_string(ch.bin_version) + " dropped");
      ++stats.version_mismatches;
      return drop_inbound(in, "");
    }
    if (ch.deployment_id != opt.deployment_id) {
      set_error("snapshot chunk from deployment " + std::to_string(ch.deployment_id) + " dropped");
      ++stats.deployment_mismatches;
      return drop_inbound(in, "");
    }
    if (ch.witness) return deliver_witness_snapshot(in);
    if (opt.snapshot_dir.empty()) return drop_inbound(in, "snapshot received but no snapshot_dir is configured");
    Receiving& rx = in->rx;
    if (ch.chunk_id == 0) {
      in->abort_receiving();
      rx = Receiving{};
      rx.root = opt.snapshot_dir + "/" + std::to_string(ch.cluster_id) + "-" + std::to_string(ch.node_id);
      s = snapshot::create_temp_dir(rx.root, ch.index, snapshot::TempKind::kReceiving, &rx.tmp);
      if (!s.ok()) return drop_inbound(in, "snapshot receive: " + s.to_string());
      rx.active = true;
      rx.path = snapshot::data_file_path(rx.tmp, ch.index);
      rx.fd = ::open(rx.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (rx.fd < 0) return drop_inbound(in, "snapshot receive: cannot create " + rx.path);
      rx.count = ch.chunk_count;
      rx.index = ch.index;
      rx.received = 0;
      rx.started = std::chrono::steady_clock::now();
    }
    if (!rx.active || ch.chunk_id != rx.next || ch.index != rx.index || ch.chunk_count != rx.count) {
      return drop_inbound(in, "snapshot chunk " + std::to_string(ch.chunk_id) + " out of order");
    }
    for (size_t off = 0; off < ch.data.size();) {
      ssize_t n = ::write(rx.fd, ch.data.data() + off, ch.data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return drop_inbound(in, "snapshot receive: write to " + rx.path + " failed");
      off += static_cast<size_t>(n);
    }
    rx.received += kFrameHeaderSize + in->fh.payload_size;
    if (++rx.next < rx.count) {
      // Bandwidth limit (max_snapshot_recv_bytes_per_second): read the next
      // chunk only when this stream is back under its rate; a timer, so the
      // I/O thread serves every other connection meanwhile.
      auto wait = pace_delay(rx.received, opt.max_snapshot_recv_bytes_per_second,
                             std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - rx.started));
      if (wait.count() <= 0) return read_header(in);
      auto timer = std::make_shared<asio::steady_timer>(io, wait);
      timer->async_wait([this, in, timer](const asio::error_code& e) {
        if (e || !running) return drop_inbound(in, "");
        read_header(in);
      });
      return;
    }
    // Last chunk: make it durable, verify every block, publish it.
    bool synced = ::fsync(rx.fd) == 0;
    ::close(rx.fd);
    rx.fd = -1;
    if (!synced) return drop_inbound(in, "snapshot receive: fsync of " + rx.path + " failed");
    snapshot::DataFileInfo info;
    s = snapshot::validate_file(rx.path, &info);
    if (!s.ok()) return drop_inbound(in, "received snapshot fails verification: " + s.to_string());
    snapshot::SnapshotMeta meta;
    meta.cluster_id = ch.cluster_id;
    meta.node_id = ch.node_id;
    meta.index = ch.index;
    meta.term = ch.term;
    meta.file_size = info.file_size;
    meta.payload_size = info.payload_size;
    meta.data_checksum = info.data_checksum;
    s = snapshot::write_meta_file(snapshot::meta_file_path(rx.tmp), meta);
    if (s.ok()) s = snapshot::commit_snapshot_dir(rx.root, rx.tmp, meta);
    if (s.code() == ErrorCode::kRejected) {
      in->abort_receiving();  // a retry of a snapshot we already hold
      s = Status::OK();
    }
    if (!s.ok()) return drop_inbound(in, "snapshot receive: " + s.to_string());
    rx.active = false;
    std::string final_dir = snapshot::snapshot_dir(rx.root, ch.index);
    deliver_snapshot(in, snapshot::data_file_path(final_dir, ch.index), info.file_size);
  }

  // ---- snapshot sending (one thread per stream, blocking I/O) ----
  void stream_snapshot(Stream* st, raft::Message m) {
    bool ok = false;
    int file = -1;
    asio::io_context sio;
    tcp::socket s(sio);
    do {
      std::string to, host;
      uint16_t port = 0;
      if (!registry->resolve(m.cluster_id, m.to, &to) || !split_address(to, &host, &port)) break;
      asio::error_code ec;
      tcp::resolver res(sio);
      auto eps = res.resolve(host, std::to_string(port), ec);
      if (ec) break;
      asio::connect(s, eps, ec);
      if (ec) break;
      {
        std::lock_guard<std::mutex> g(st->fd_mu);
        st->fd = s.native_handle();
      }
      if (!running) break;
      timeval tv{60, 0};  // the receiver's answer must come within a minute
      ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      std::unique_ptr<TlsStream> tls;
      if (ssl) {
        tls = std::make_unique<TlsStream>(s, *ssl);
        tls->handshake(asio::ssl::stream_base::client, ec);
        if (ec) {
          ++stats.tls_refusals;
          set_error("TLS handshake with " + to + " for a snapshot: " + ec.message());
          break;
        }
      }
      // A witness's snapshot carries the membership only (Raft::send_snapshot):
      // no file, one empty chunk.
      const bool witness = m.snapshot.witness;
      uint64_t size = 0;
      if (!witness) {
        file = ::open(m.snapshot.filepath.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat sb;
        if (file < 0 || ::fstat(file, &sb) != 0) break;
        size = static_cast<uint64_t>(sb.st_size);
      }
      const uint64_t chunk = kDefaultChunkDataSize;
      SnapshotChunk ch;
      ch.cluster_id = m.cluster_id;
      ch.node_id = m.to;
      ch.from = m.from;
      ch.deployment_id = opt.deployment_id;
      ch.bin_version = opt.bin_version;
      ch.chunk_count = size == 0 ? 1 : (size + chunk - 1) / chunk;
      ch.file_size = size;
      ch.index = m.snapshot.index;
      ch.term = m.snapshot.term;
      ch.message_term = m.term;
      ch.membership = m.snapshot.membership;
      ch.witness = m.snapshot.witness;
      ch.file_path = witness ? std::string() : std::filesystem::path(m.snapshot.filepath).filename().string();
      ch.file_chunk_count = ch.chunk_count;
      std::string frame;
      bool sent = true;
      uint64_t sent_bytes = 0;
      const auto started = std::chrono::steady_clock::now();
      for (uint64_t id = 0; id < ch.chunk_count && running; ++id) {
        // Bandwidth limit (max_snapshot_send_bytes_per_second): wait on
        // this stream's own thread; nothing else waits with it.
        auto wait = pace_delay(sent_bytes, opt.max_snapshot_send_bytes_per_second,
                               std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - started));
        if (wait.count() > 0) std::this_thread::sleep_for(wait);
        ch.data.resize(std::min(chunk, size - std::min(size, id * chunk)));
        size_t got = 0;
        while (got < ch.data.size()) {
          ssize_t n = ::read(file, &ch.data[got], ch.data.size() - got);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
          got += static_cast<size_t>(n);
        }
        if (got != ch.data.size()) {
          sent = false;
          break;
        }
        ch.chunk_id = id;
        ch.file_chunk_id = id;
        frame.clear();
        encode_chunk_frame(ch, &frame);
        if (tls) {
          asio::write(*tls, asio::buffer(frame), ec);
        } else {
          asio::write(s, asio::buffer(frame), ec);
        }
        if (ec) {
          sent = false;
          break;
        }
        sent_bytes += frame.size();
      }
      if (!sent || !running) break;
      char hdr[kFrameHeaderSize];
      if (tls) {
        asio::read(*tls, asio::buffer(hdr, sizeof(hdr)), ec);
      } else {
        asio::read(s, asio::buffer(hdr, sizeof(hdr)), ec);
      }
      FrameHeader fh;
      ok = !ec && decode_frame_header(hdr, sizeof(hdr), opt.limits, &fh).ok() && fh.method == Method::kPoke;
    } while (false);
    if (file >= 0) ::close(file);
    {
      std::lock_guard<std::mutex> g(st->fd_mu);
      st->fd = -1;
      asio::error_code ignore;
      s.close(ignore);
    }
    if (ok) ++stats.snapshots_sent;
    if (running) {
      uint64_t c = m.cluster_id, n = m.to;
      asio::post(io, [this, c, n, ok] { handler->handle_snapshot_status(c, n, !ok); });
    }
    st->done = true;
  }

  void reap_streams(bool all) {
    // REQUIRES: streams_mu held.
    for (auto it = streams.begin(); it != streams.end();) {
      if (all || (*it)->done) {
        if ((*it)->thread.joinable()) (*it)->thread.join();
        it = streams.erase(it);
      } else {
        ++it;
      }
    }
  }

  // ---- send path ----
  // The connection for a group: streams_per_remote connections per remote
  // host, chosen by cluster ID, so one group's messages stay in order on
  // one connection while different groups spread over several.
  std::shared_ptr<Remote> remote_for(const std::string& addr, uint64_t cluster_id) {
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
  void peer_is_back(const std::string& addr) {
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
      if (r->queue.empty() && !r->hello) return;
      r->hello = false;
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
    conn_write(r->socket, r->tls.get(), asio::buffer(r->wbuf), [this, r, n](const asio::error_code& ec, size_t) {
      r->writing = false;
      if (ec) return fail(r, "write to " + r->address + ": " + ec.message());
      ++stats.frames_sent;
      stats.bytes_sent += r->wbuf.size();
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
        handler->connection_event(r->address, false, true);
        return fail(r, "connect to " + r->address + ": " + e.message());
      }
      asio::error_code ignore;
      r->socket.set_option(tcp::no_delay(true), ignore);
      auto connected = [this, r] {
        r->state = Remote::State::kConnected;
        handler->connection_event(r->address, false, false);
        {
          std::lock_guard<std::mutex> g(r->mu);
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
  void fail(const std::shared_ptr<Remote>& r, const std::string& why) {
    set_error(why);
    asio::error_code ignore;
    r->socket.close(ignore);
    r->tls.reset();
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
    d.io.run();
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
  auto r = d.remote_for(to, m.cluster_id);
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
  uint64_t c = m.cluster_id, n = m.to;
  std::lock_guard<std::mutex> g(d.streams_mu);
  d.reap_streams(false);
  if (d.streams.size() >= d.opt.max_snapshot_streams) {
    // Too many streams at once: fail now; Raft sends the snapshot again.
    asio::post(d.io, [&d, c, n] { d.handler->handle_snapshot_status(c, n, true); });
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
const TcpTransportStats& TcpTransport::stats() const { return impl_->stats; }

std::string TcpTransport::last_error() const {
  std::lock_guard<std::mutex> g(impl_->err_mu);
  return impl_->last_error;
}

}  // namespace dragonboat::transport
