// transport/tcp_transport_impl.h — TcpTransport::Impl, shared by
// tcp_transport.cc (listening, connections, frames of message batches) and
// tcp_snapshot_stream.cc (snapshot streams, sent and received).
#pragma once

// Our own header first: asio's configuration must see libstdc++'s (see
// DRAGONBOAT_ASIO_DEFINITIONS in CMakeLists.txt).
#include "transport/tcp_transport.h"

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace dragonboat::transport {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

using TlsStream = asio::ssl::stream<tcp::socket&>;

// Runs op(stream) on the connection's TLS stream when it has one, else on
// the plain socket.
template <typename Op>
inline void on_stream(tcp::socket& s, TlsStream* tls, Op&& op) {
  if (tls) {
    op(*tls);
  } else {
    op(s);
  }
}
// Reads/writes through TLS when the connection has it, else the plain socket.
template <typename Buf, typename H>
inline void conn_read(tcp::socket& s, TlsStream* tls, const Buf& b, H&& h) {
  on_stream(s, tls, [&](auto& stream) { asio::async_read(stream, b, std::forward<H>(h)); });
}
template <typename Buf, typename H>
inline void conn_write(tcp::socket& s, TlsStream* tls, const Buf& b, H&& h) {
  on_stream(s, tls, [&](auto& stream) { asio::async_write(stream, b, std::forward<H>(h)); });
}

inline uint64_t message_bytes(const raft::Message& m) {
  return 64 + raft::entries_size_bytes(m.entries) + m.snapshot.data.size();
}

constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
// A connection that keeps failing the same way is logged once per interval.
constexpr std::chrono::seconds kRepeatedFailureLogInterval{60};

struct TcpTransport::Impl {
  // One outgoing connection (we only write to it). Socket work happens on
  // the I/O thread, except a direct write (flush_sends: one non-blocking
  // send() by a step worker, under `mu`, while the connection is idle).
  // `mu` guards the queue, the flags shared with senders, the state and
  // who writes; whoever set `writing` owns wbuf and in_flight until it
  // clears it.
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
    // Under mu (set by the I/O thread; read by direct writers too).
    enum class State { kIdle, kConnecting, kConnected } state = State::kIdle;
    bool writing = false;  // a frame is being written: by the I/O thread, or the rest of a direct write
    // Owned by whoever set `writing`.
    std::string wbuf;
    std::vector<std::pair<uint64_t, uint64_t>> in_flight;  // targets of the frame being written
    // I/O-thread only.
    std::string logged_failure;     // the last failure written to the log ("" once connected)
    Clock::time_point logged_at{};  // when
    uint64_t unlogged_repeats = 0;  // failures since, not logged
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

  // ---- errors (tcp_transport.cc) ----
  // Keeps e for last_error(); logs it as a warning unless log is false.
  void set_error(const std::string& e, bool log = true);

  void report_unreachable(const std::vector<std::pair<uint64_t, uint64_t>>& targets);

  // ---- receive path (tcp_transport.cc) ----
  void accept();

  void drop_inbound(const std::shared_ptr<Inbound>& in, const std::string& reason);

  void read_header(std::shared_ptr<Inbound> in);

  void handle_frame(const std::shared_ptr<Inbound>& in);

  // ---- snapshot streams, received and sent (tcp_snapshot_stream.cc) ----
  // A witness's snapshot: the membership only, one empty chunk, nothing
  // written to disk; acknowledged like a stored one.
  void deliver_witness_snapshot(const std::shared_ptr<Inbound>& in);

  // Hands the InstallSnapshot of the chunk just received (its data file at
  // `filepath`, none for a witness) to the handler, then tells the sender:
  // the snapshot is durable here, only now it succeeded.
  void deliver_snapshot(const std::shared_ptr<Inbound>& in, std::string filepath, uint64_t file_size);

  void handle_chunk(const std::shared_ptr<Inbound>& in);

  void stream_snapshot(Stream* st, raft::Message m);

  void reap_streams(bool all);

  // ---- send path (tcp_transport.cc) ----
  // The connection for a group: streams_per_remote connections per remote
  // host, chosen by cluster ID, so one group's messages stay in order on
  // one connection while different groups spread over several.
  std::shared_ptr<Remote> remote_for(const std::string& addr, uint64_t cluster_id);

  // A peer connected to us: it is up, so our connections toward it stop
  // backing off (a restarted node is otherwise unreachable for up to
  // kMaxBackoff after it is back, and cannot rejoin within an election
  // timeout). Once per inbound connection, on the I/O thread.
  void peer_is_back(const std::string& addr);

  void schedule(const std::shared_ptr<Remote>& r);

  void pump(const std::shared_ptr<Remote>& r);

  // Moves the messages of the next frame (what fits the receiver's limits)
  // from the queue into `batch`. REQUIRES: r->mu held, r->writing just set
  // by the caller.
  void take_batch(Remote* r, MessageBatch* batch);
  // Records the batch's targets in in_flight and encodes it into wbuf;
  // returns how many messages. REQUIRES: the caller set r->writing.
  size_t encode_frame(Remote* r, MessageBatch* batch);

  // Counts the frame in wbuf (`messages` of them) as sent and forgets its
  // targets. REQUIRES: the caller set r->writing.
  void sent_frame(Remote* r, size_t messages);

  // A frame (or its rest) finished writing on the I/O thread: count it,
  // release `writing` and go on with what queued meanwhile.
  void wrote_frame(const std::shared_ptr<Remote>& r, const asio::error_code& ec, size_t messages);

  // ---- send batches (TcpTransport::begin_send_batch) ----
  // The connections this thread queued messages for since its last flush.
  struct HeldSends {
    Impl* owner = nullptr;  // the transport holding this thread's sends; null: none
    std::vector<std::shared_ptr<Remote>> remotes;
  };
  static thread_local HeldSends held;

  // Writes what is queued for r from this thread when `direct` and the
  // connection is idle and the batch small, else hands it to the I/O thread.
  void write_or_schedule(const std::shared_ptr<Remote>& r, bool direct);

  void connect(const std::shared_ptr<Remote>& r);

  // The connection failed: everything queued or in flight is lost; tell
  // Raft its targets are unreachable and back off before reconnecting.
  void fail(const std::shared_ptr<Remote>& r, const std::string& why);
};

}  // namespace dragonboat::transport
