// transport/tcp_snapshot_stream.cc — snapshot streams: sending one (its own
// thread and connection, blocking I/O, paced) and receiving one (chunks
// written to a temporary directory, published when complete), plus the
// membership-only snapshot of a witness.
#include "common/thread_name.h"
#include "dragonboat/logger.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"
#include "transport/tcp_transport_impl.h"

namespace dragonboat::transport {

// A witness's snapshot: the membership only, one empty chunk, nothing
// written to disk; acknowledged like a stored one.
void TcpTransport::Impl::deliver_witness_snapshot(const std::shared_ptr<Inbound>& in) {
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
void TcpTransport::Impl::deliver_snapshot(const std::shared_ptr<Inbound>& in, std::string filepath, uint64_t file_size) {
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

void TcpTransport::Impl::handle_chunk(const std::shared_ptr<Inbound>& in) {
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
  snapshot::SnapshotMeta meta{ch.cluster_id, ch.node_id, ch.index, ch.term, 0, 0, 0};
  s = snapshot::publish_received(rx.root, rx.tmp, &meta);
  if (!s.ok()) return drop_inbound(in, "snapshot receive: " + s.to_string());
  rx.active = false;  // published, or removed as a retry of one already held
  std::string final_dir = snapshot::snapshot_dir(rx.root, ch.index);
  deliver_snapshot(in, snapshot::data_file_path(final_dir, ch.index), meta.file_size);
}

void TcpTransport::Impl::stream_snapshot(Stream* st, raft::Message m) {
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
    uint64_t c = m.cluster_id, n = m.to, index = m.snapshot.index;
    asio::post(io, [this, c, n, index, ok] { handler->handle_snapshot_status(c, n, index, !ok); });
  }
  st->done = true;
}

void TcpTransport::Impl::reap_streams(bool all) {
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

}  // namespace dragonboat::transport
