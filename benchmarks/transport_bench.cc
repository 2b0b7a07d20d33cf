// transport_bench: messages/s and MB/s between two TCP transports on
// loopback, beside the raw TCP throughput of the same loopback measured in
// the same run.
//
//   transport_bench [--seconds S] [--repeats R]
#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "snapshot/snapshot_file.h"
#include "transport/tcp_transport.h"

using namespace dragonboat::transport;
using Clock = std::chrono::steady_clock;

namespace {

class Counter : public MessageHandler {
 public:
  void handle_messages(std::vector<dragonboat::raft::Message> msgs) override {
    uint64_t bytes = 0;
    for (const auto& m : msgs)
      for (const auto& e : m.entries) bytes += e.cmd.size();
    messages += msgs.size();
    payload += bytes;
  }
  void handle_unreachable(uint64_t, uint64_t) override {}
  void handle_snapshot_status(uint64_t, uint64_t, uint64_t, bool) override {}
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> payload{0};
};

// Raw loopback TCP: one connection, 256 KiB writes, as fast as possible.
double raw_mb_per_sec(double seconds) {
  asio::io_context io;
  asio::ip::tcp::acceptor acc(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  uint16_t port = acc.local_endpoint().port();
  std::atomic<uint64_t> received{0};
  std::thread reader([&] {
    asio::ip::tcp::socket s = acc.accept();
    std::vector<char> buf(1 << 20);
    asio::error_code ec;
    for (;;) {
      size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec) break;
      received += n;
    }
  });
  asio::ip::tcp::socket w(io);
  w.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::vector<char> chunk(256 << 10, 'r');
  auto t0 = Clock::now();
  auto end = t0 + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) asio::write(w, asio::buffer(chunk));
  w.shutdown(asio::ip::tcp::socket::shutdown_both);
  w.close();
  reader.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  return received / secs / 1e6;
}

struct Result {
  double msgs_per_sec;
  double mb_per_sec;
};

// One entry of `payload` bytes per message, 48 groups, as fast as the
// sender's queue accepts.
Result transport_run(size_t payload, double seconds) {
  NodeRegistry reg;
  Counter ca, cb;
  TcpTransportOptions o;
  o.listen_address = "127.0.0.1:0";
  o.max_send_queue_bytes = 8u << 20;
  TcpTransport a(o, &reg, &ca), b(o, &reg, &cb);
  if (!a.start().ok() || !b.start().ok()) {
    std::fprintf(stderr, "cannot start transports\n");
    std::exit(1);
  }
  for (uint64_t c = 1; c <= 48; ++c) reg.add(c, 2, b.address());
  dragonboat::raft::Message m;
  m.type = dragonboat::raft::MessageType::kReplicate;
  m.to = 2;
  m.from = 1;
  m.term = 5;
  dragonboat::raft::Entry e;
  e.term = 5;
  e.cmd = std::string(payload, 'p');
  m.entries.push_back(e);
  auto t0 = Clock::now();
  auto end = t0 + std::chrono::duration<double>(seconds);
  uint64_t seq = 0;
  while (Clock::now() < end) {
    m.cluster_id = 1 + seq % 48;
    m.log_index = ++seq;
    m.entries[0].index = seq;
    if (!a.send(m)) std::this_thread::yield();  // queue full: back off
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  uint64_t got = cb.messages.load(), bytes = cb.payload.load();
  a.stop();
  b.stop();
  return Result{got / secs, bytes / secs / 1e6};
}

// Sequential write rate of the disk under `dir`: 256 MiB in 1 MiB writes + fsync.
double disk_write_mb_per_sec(const std::string& dir, uint64_t bytes) {
  std::string path = dir + "/disk-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char> buf(1 << 20, 'd');
  auto t0 = Clock::now();
  for (uint64_t done = 0; done < bytes; done += buf.size()) {
    if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) break;
  }
  ::fsync(fd);
  ::close(fd);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ::unlink(path.c_str());
  return bytes / secs / 1e6;
}

class SnapshotWaiter : public MessageHandler {
 public:
  void handle_messages(std::vector<dragonboat::raft::Message>) override {}
  void handle_unreachable(uint64_t, uint64_t) override {}
  void handle_snapshot_status(uint64_t, uint64_t, uint64_t, bool f) override {
    std::lock_guard<std::mutex> g(mu);
    done = true;
    failed = f;
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool done = false, failed = false;
};

// Streams a snapshot file of `bytes` payload between two transports.
double snapshot_mb_per_sec(const std::string& dir, uint64_t bytes) {
  std::string path = dir + "/send.gbsnap";
  std::unique_ptr<dragonboat::snapshot::SnapshotWriter> w;
  if (!dragonboat::snapshot::SnapshotWriter::create(path, dragonboat::snapshot::WriterOptions{}, &w).ok()) return 0;
  std::vector<char> buf(1 << 20, 's');
  for (uint64_t done = 0; done < bytes; done += buf.size()) (void)w->write(buf.data(), buf.size());
  (void)w->finish();
  uint64_t file_size = w->info().file_size;
  NodeRegistry reg;
  SnapshotWaiter sa;
  Counter cb;
  TcpTransportOptions o;
  o.listen_address = "127.0.0.1:0";
  TcpTransport a(o, &reg, &sa);
  o.snapshot_dir = dir + "/recv";
  TcpTransport b(o, &reg, &cb);
  if (!a.start().ok() || !b.start().ok()) return 0;
  reg.add(1, 2, b.address());
  dragonboat::raft::Message m;
  m.type = dragonboat::raft::MessageType::kInstallSnapshot;
  m.cluster_id = 1;
  m.to = 2;
  m.from = 1;
  m.term = 2;
  m.snapshot.index = 1000;
  m.snapshot.term = 2;
  m.snapshot.filepath = path;
  auto t0 = Clock::now();
  a.send_snapshot(m);
  {
    std::unique_lock<std::mutex> lk(sa.mu);
    sa.cv.wait(lk, [&] { return sa.done; });
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  a.stop();
  b.stop();
  std::filesystem::remove_all(dir + "/recv");
  std::filesystem::remove(path);
  return sa.failed ? 0 : file_size / secs / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  int repeats = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) {
      repeats = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--repeats R]\n", argv[0]);
      return 2;
    }
  }
  std::vector<double> raw;
  for (int r = 0; r < repeats; ++r) raw.push_back(raw_mb_per_sec(std::min(seconds, 2.0)));
  std::sort(raw.begin(), raw.end());
  std::printf("raw loopback TCP (256 KiB writes): %.0f / %.0f / %.0f MB/s (min/median/max)\n", raw.front(),
              raw[raw.size() / 2], raw.back());
  std::printf("%-10s %28s %24s %12s\n", "entry", "messages/s min/med/max", "payload MB/s min/med/max",
              "MB/s vs raw");
  for (size_t payload : {size_t{16}, size_t{1024}}) {
    std::vector<Result> rs;
    for (int r = 0; r < repeats; ++r) rs.push_back(transport_run(payload, seconds));
    std::sort(rs.begin(), rs.end(), [](const Result& x, const Result& y) { return x.msgs_per_sec < y.msgs_per_sec; });
    const Result& med = rs[rs.size() / 2];
    std::printf("%-10zu %9.0f/%9.0f/%9.0f %7.1f/%7.1f/%7.1f %12.3f\n", payload, rs.front().msgs_per_sec,
                med.msgs_per_sec, rs.back().msgs_per_sec, rs.front().mb_per_sec, med.mb_per_sec,
                rs.back().mb_per_sec, med.mb_per_sec / raw[raw.size() / 2]);
  }
  std::string dir = (std::filesystem::temp_directory_path() / ("dragonboat-transport-bench-" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  const uint64_t snap = 256u << 20;
  std::vector<double> disk, stream;
  for (int r = 0; r < repeats; ++r) {
    disk.push_back(disk_write_mb_per_sec(dir, snap));
    stream.push_back(snapshot_mb_per_sec(dir, snap));
  }
  std::sort(disk.begin(), disk.end());
  std::sort(stream.begin(), stream.end());
  std::printf("disk sequential write (1 MiB writes + fsync, %s): %.0f / %.0f / %.0f MB/s\n", dir.c_str(), disk.front(),
              disk[disk.size() / 2], disk.back());
  std::printf("snapshot streaming 256 MiB over loopback (received, verified, fsynced, renamed): "
              "%.0f / %.0f / %.0f MB/s, %.2f of disk write\n",
              stream.front(), stream[stream.size() / 2], stream.back(), stream[stream.size() / 2] / disk[disk.size() / 2]);
  std::filesystem::remove_all(dir);
  return 0;
}
