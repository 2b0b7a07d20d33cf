// transport/tcp_transport.h — the Transport over TCP (asio).
//
// One listener on the NodeHost's address; streams_per_remote outgoing
// connections per remote host, chosen by cluster ID. Messages queued on a
// connection are drained into ONE frame per write: many groups' messages to
// the same host travel together. Per-remote send
// queues are bounded by bytes (MaxSendQueueSize): over the bound a message
// is dropped and Raft retries. A failed connect or write reports every
// queued target as unreachable and backs off before reconnecting (100 ms,
// doubling to 5 s), dropping sends meanwhile, so nothing queues forever.
// Received frames are checked (magic, checksums, limits before allocation,
// deployment ID); a bad frame closes that connection and is counted.
// Thread-safety: public methods are thread-safe; handler callbacks run on
// the transport's I/O thread.
//
// Snapshots stream on their own connection, from a sender thread per stream
// (at most max_snapshot_streams at once): the snapshot data file is read in
// chunks (kDefaultChunkDataSize) each with its XXH3 checksum; the receiver
// writes them into <snapshot_dir>/<cluster>-<node>/snapshot-<index>.receiving,
// verifies the whole file, fsyncs, renames it complete (cpp/src/snapshot
// directory protocol), delivers the InstallSnapshot message and answers with
// a poke frame; only that answer makes the sender report success. A corrupt
// chunk aborts the stream (temporary directory removed) and the sender
// reports failure, so Raft retries. Never more than one chunk in memory.
//
// With mutual_tls every connection (messages and snapshots, both directions)
// is TLS 1.2+ with peer certificates required and verified against the CA.
// Not yet: received chunks are written on the I/O thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/address.h"
#include "transport/transport.h"
#include "transport/wire.h"

namespace dragonboat::transport {

struct TcpTransportOptions {
  std::string listen_address;  // "host:port"; port 0 picks a free port
  std::string raft_address;    // advertised address; defaults to the bound listen address
  uint64_t deployment_id = 0;
  uint32_t bin_version = 1;
  uint64_t max_send_queue_bytes = 64u << 20;  // per connection
  // Connections per remote host; a group always uses the one chosen by its
  // cluster ID (cluster_id % streams_per_remote), so its order is kept.
  uint64_t streams_per_remote = 2;
  // Mutual TLS (the reference's MutualTLS, CAFile, CertFile, KeyFile): every
  // connection, both ways, presents a certificate signed by the CA in
  // ca_file and requires one from the peer; others are refused and logged.
  bool mutual_tls = false;
  std::string ca_file, cert_file, key_file;
  // Root under which received snapshots are stored; empty = refuse them.
  std::string snapshot_dir;
  size_t max_snapshot_streams = 2;           // concurrent outgoing streams
  // Each outgoing snapshot stream is paced to this rate (0: unlimited).
  uint64_t max_snapshot_send_bytes_per_second = 0;
  // Each incoming snapshot stream is read at most this fast (0: unlimited).
  uint64_t max_snapshot_recv_bytes_per_second = 0;
  // How long the I/O thread polls for ready handlers before it sleeps in
  // the reactor (common/spin_wait.h; 0: never).
  uint64_t busy_poll_ns = 0;
  Limits limits;
};

// Counters, for tests and metrics.
struct TcpTransportStats {
  std::atomic<uint64_t> frames_sent{0};
  std::atomic<uint64_t> bytes_sent{0};      // frame bytes, headers included
  std::atomic<uint64_t> bytes_received{0};
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> frames_received{0};
  std::atomic<uint64_t> messages_received{0};
  std::atomic<uint64_t> bad_frames{0};            // closed connections
  std::atomic<uint64_t> deployment_mismatches{0}; // dropped batches
  std::atomic<uint64_t> version_mismatches{0};    // dropped batches/chunks of another bin_version
  std::atomic<uint64_t> local_messages_dropped{0}; // local types refused from the network
  std::atomic<uint64_t> send_queue_drops{0};
  std::atomic<uint64_t> connect_failures{0};
  std::atomic<uint64_t> snapshots_sent{0};
  std::atomic<uint64_t> snapshots_received{0};
  std::atomic<uint64_t> tls_refusals{0};  // handshakes that failed (no or bad certificate)
  std::atomic<uint64_t> frames_written_directly{0};  // of frames_sent: by a flushing step worker (send batches)
};

class TcpTransport : public Transport {
 public:
  TcpTransport(TcpTransportOptions options, const NodeRegistry* registry, MessageHandler* handler);
  ~TcpTransport() override;

  // Binds and starts the I/O thread. kInvalidAddress for a bad address,
  // kFatal when it cannot bind, kInvalidOperation when the TLS files cannot
  // be loaded (the message names the file).
  Status start() override;
  // Closes the listener and every connection and joins the I/O thread. A
  // stopped transport cannot be started again (make a new one).
  void stop() override;
  bool send(raft::Message m) override;
  bool send_snapshot(raft::Message m) override;
  // An empty message batch carrying our address (see Transport::hello).
  void hello(const std::string& address) override;
  // Send batches (Transport::begin_send_batch). At a flush from this
  // thread, a connection that is idle (connected, nothing being written, no
  // TLS) gets this thread's messages for it written at once with one
  // non-blocking send(); what the socket does not take, a busy connection,
  // a large batch (more than kMaxDirectMessages or kMaxDirectBytes) and
  // every other flush go to the I/O thread as one frame.
  void begin_send_batch() override;
  void flush_sends(bool from_this_thread) override;
  void end_send_batch() override;
  static constexpr size_t kMaxDirectMessages = 16;
  static constexpr uint64_t kMaxDirectBytes = 64 << 10;
  const std::string& address() const override;

  // Every counter, live.
  const TcpTransportStats& tcp_stats() const;
  // The counters the NodeHost's metrics report (ITransport::stats).
  raftio::TransportStats stats() const override;
  // The reason the last bad frame was refused (for logs and tests).
  std::string last_error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Pacing of a stream: how long to wait before sending more, after `sent`
// bytes in `elapsed`, to stay at or under `rate` bytes/s (0: never wait).
std::chrono::microseconds pace_delay(uint64_t sent, uint64_t rate, std::chrono::microseconds elapsed);

// "host:port" parsing (common/address.h), under the transport's name too.
using dragonboat::split_address;

}  // namespace dragonboat::transport
