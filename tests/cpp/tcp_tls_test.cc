// Mutual TLS on the TCP transport: peers with certificates signed by the CA
// talk; a peer with another CA's certificate, or without TLS, is refused and
// the refusal is counted and explained. The test makes its own throwaway CA
// and certificates with the openssl command line tool.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "message_builder.h"
#include "recording_handler.h"
#include "test_util.h"
#include "transport/tcp_transport.h"

namespace dragonboat::transport {
namespace {

using dragonboat::test::eventually;
using raft::Message;
using raft::MessageType;

using Recorder = dragonboat::test::RecordingHandler;

// Message `seq` from node 1 to `to` in group `cluster`: a heartbeat with
// commit seq.
Message heartbeat(uint64_t cluster, uint64_t to, uint64_t seq) {
  return dragonboat::test::msg(MessageType::kHeartbeat, 1, to, 2).with_cluster(cluster).with_commit(seq);
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::mt19937_64 rng(std::random_device{}());
    dir_ = new std::string((std::filesystem::temp_directory_path() / ("dragonboat-tls-" + std::to_string(rng()))).string());
    std::filesystem::create_directories(*dir_);
    auto run = [](const std::string& cmd) {
      std::string full = "cd " + *dir_ + " && " + cmd + " >/dev/null 2>&1";
      ASSERT_EQ(std::system(full.c_str()), 0) << cmd;
    };
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    for (const char* ca : {"ca", "rogue-ca"}) {
      run(std::string("openssl req -x509 ") + ec + " -keyout " + ca + ".key -out " + ca + ".crt -days 2 -subj /CN=" + ca);
    }
    for (auto [name, ca] : {std::pair<const char*, const char*>{"a", "ca"}, {"b", "ca"}, {"rogue", "rogue-ca"}}) {
      std::string n = name, c = ca;
      run("openssl req " + ec + " -keyout " + n + ".key -out " + n + ".csr -subj /CN=" + n);
      run("openssl x509 -req -in " + n + ".csr -CA " + c + ".crt -CAkey " + c + ".key -CAcreateserial -out " + n +
          ".crt -days 2");
    }
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static TcpTransportOptions tls(const std::string& name, const std::string& ca = "ca") {
    TcpTransportOptions o;
    o.listen_address = "127.0.0.1:0";
    o.mutual_tls = true;
    o.ca_file = *dir_ + "/" + ca + ".crt";
    o.cert_file = *dir_ + "/" + name + ".crt";
    o.key_file = *dir_ + "/" + name + ".key";
    return o;
  }
  static std::string* dir_;
};
std::string* TlsTest::dir_ = nullptr;

TEST_F(TlsTest, PeersSignedByTheCaExchangeMessages) {
  NodeRegistry reg;
  Recorder ra, rb;
  TcpTransport a(tls("a"), &reg, &ra), b(tls("b"), &reg, &rb);
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  reg.add(1, 2, b.address());
  reg.add(1, 1, a.address());
  for (uint64_t i = 1; i <= 100; ++i) ASSERT_TRUE(a.send(heartbeat(1, 2, i)));
  ASSERT_TRUE(rb.wait([&] { return rb.received.size() == 100; }));
  ASSERT_TRUE(b.send(heartbeat(1, 1, 1)));
  ASSERT_TRUE(ra.wait([&] { return ra.received.size() == 1; }));
  EXPECT_EQ(a.tcp_stats().tls_refusals.load() + b.tcp_stats().tls_refusals.load(), 0u);
}

TEST_F(TlsTest, PeerWithAnotherCasCertificateIsRefused) {
  NodeRegistry reg;
  Recorder rr, rb;
  // The rogue trusts our CA (so it would accept us) but its own certificate
  // is signed by another CA: b must refuse it.
  TcpTransportOptions ro = tls("rogue");
  ro.ca_file = *dir_ + "/ca.crt";
  TcpTransport rogue(ro, &reg, &rr), b(tls("b"), &reg, &rb);
  rr.timeout = std::chrono::milliseconds(50);  // polled while sending
  ASSERT_TRUE(rogue.start().ok());
  ASSERT_TRUE(b.start().ok());
  reg.add(1, 2, b.address());
  // With TLS 1.3 the client's handshake completes before the server checks
  // the client certificate; the refusal reaches the sender on a later write,
  // as Raft keeps sending.
  uint64_t seq = 0;
  ASSERT_TRUE(eventually([&] {
    rogue.send(heartbeat(1, 2, ++seq));
    return rr.wait([&] { return !rr.unreachable.empty(); });
  })) << "the refused sender learns it";
  ASSERT_TRUE(eventually([&] { return b.tcp_stats().tls_refusals.load() >= 1; }));
  ASSERT_TRUE(eventually([&] { return b.tcp_stats().bad_frames.load() >= 1; }));
  EXPECT_NE(b.last_error().find("TLS handshake refused"), std::string::npos) << b.last_error();
  EXPECT_TRUE(rb.received.empty());
}

TEST_F(TlsTest, PlainTcpClientIsRefused) {
  NodeRegistry reg;
  Recorder rp, rb;
  TcpTransportOptions plain;
  plain.listen_address = "127.0.0.1:0";
  TcpTransport p(plain, &reg, &rp), b(tls("b"), &reg, &rb);
  ASSERT_TRUE(p.start().ok());
  ASSERT_TRUE(b.start().ok());
  reg.add(1, 2, b.address());
  ASSERT_TRUE(p.send(heartbeat(1, 2, 1)));
  ASSERT_TRUE(eventually([&] { return b.tcp_stats().tls_refusals.load() >= 1; }));
  EXPECT_TRUE(rb.received.empty());
}

TEST_F(TlsTest, MissingOrBadFilesAreNamedAtStart) {
  NodeRegistry reg;
  Recorder r;
  TcpTransportOptions o = tls("a");
  o.cert_file = *dir_ + "/nope.crt";
  TcpTransport t(o, &reg, &r);
  Status s = t.start();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidOperation);
  EXPECT_NE(s.message().find("nope.crt"), std::string::npos) << s.to_string();
  o = tls("a");
  o.ca_file.clear();
  TcpTransport t2(o, &reg, &r);
  EXPECT_NE(t2.start().message().find("ca_file is not set"), std::string::npos);
}

}  // namespace
}  // namespace dragonboat::transport
