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
  void handle_snapshot_status(uint64_t, uint64_t, bool) override {}
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
  return 0;
}
