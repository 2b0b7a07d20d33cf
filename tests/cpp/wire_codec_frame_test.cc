// Tests of the transport wire codec (transport/wire.h) — frame headers under
// bad input: truncation, unknown magic and method, payload sizes over the
// limit, and every single bit flip in a header or a payload, each failing
// with its own named Status. Round trips are in wire_codec_roundtrip_test.cc,
// malformed payloads in wire_codec_malformed_test.cc; the shared helpers are
// in wire_test_util.h.
#include <cstddef>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "wire_test_util.h"

namespace dragonboat::transport {
namespace {

using namespace test;  // wire_test_util.h

// ---- frame header -----------------------------------------------------------

TEST(WireFrame, TruncatedHeader) {
  std::string f;
  encode_frame_header(Method::kPoke, {}, &f);
  FrameHeader h;
  for (size_t n = 0; n < kFrameHeaderSize; ++n) {
    EXPECT_FAILS(decode_frame_header(f.data(), n, Limits{}, &h), ErrorCode::kCorrupted,
                 "truncated frame header: " + std::to_string(n) + " of 24 bytes");
  }
}

TEST(WireFrame, BadMagic) {
  std::string f = raw_header('G', 'E', 100, 0, 0);
  FrameHeader h;
  EXPECT_FAILS(decode_frame_header(f.data(), f.size(), Limits{}, &h), ErrorCode::kCorrupted,
               "bad magic 0x4745 (want 0xD7B0)");
}

TEST(WireFrame, UnknownMethod) {
  for (uint16_t method : {0, 7, 101, 199, 301, 65535}) {
    std::string f = raw_header(kFrameMagic0, kFrameMagic1, method, 0, 0);
    FrameHeader h;
    EXPECT_FAILS(decode_frame_header(f.data(), f.size(), Limits{}, &h),
                 ErrorCode::kIncompatibleData, "unknown method " + std::to_string(method));
  }
}

TEST(WireFrame, HeaderChecksumMismatch) {
  std::string f = raw_header(kFrameMagic0, kFrameMagic1, 100, 10, 0);
  f[23] ^= 1;
  FrameHeader h;
  EXPECT_FAILS(decode_frame_header(f.data(), f.size(), Limits{}, &h), ErrorCode::kCorrupted,
               "header checksum mismatch");
}

TEST(WireFrame, PayloadSizeOverLimitIsRejectedFromTheHeader) {
  std::string f = raw_header(kFrameMagic0, kFrameMagic1, 100, 5000000000ULL, 0);
  FrameHeader h;
  EXPECT_FAILS(decode_frame_header(f.data(), f.size(), Limits{}, &h), ErrorCode::kPayloadTooBig,
               "payload size 5000000000 exceeds limit 67108864");
  Limits small;
  small.max_frame_payload = 100;
  f = raw_header(kFrameMagic0, kFrameMagic1, 200, 101, 0);
  EXPECT_FAILS(decode_frame_header(f.data(), f.size(), small, &h), ErrorCode::kPayloadTooBig,
               "payload size 101 exceeds limit 100");
  f = raw_header(kFrameMagic0, kFrameMagic1, 200, 100, 0);
  EXPECT_TRUE(decode_frame_header(f.data(), f.size(), small, &h).ok());
  EXPECT_EQ(h.payload_size, 100u);
}

TEST(WireFrame, PokeMustBeEmpty) {
  std::string f = raw_header(kFrameMagic0, kFrameMagic1, 300, 5, 0);
  FrameHeader h;
  EXPECT_FAILS(decode_frame_header(f.data(), f.size(), Limits{}, &h), ErrorCode::kCorrupted,
               "poke frame with 5 payload bytes");
}

TEST(WireFrame, PayloadSizeMismatch) {
  std::string buf;
  encode_batch_frame(small_batch(), &buf);
  FrameHeader h;
  ASSERT_TRUE(decode_frame_header(buf.data(), buf.size(), Limits{}, &h).ok());
  EXPECT_FAILS(verify_payload(h, buf.data() + kFrameHeaderSize, h.payload_size - 1),
               ErrorCode::kCorrupted, "payload size mismatch");
}

TEST(WireFrame, EveryHeaderBitFlipIsDetected) {
  std::string buf;
  encode_batch_frame(small_batch(), &buf);
  for (size_t bit = 0; bit < kFrameHeaderSize * 8; ++bit) {
    std::string f = buf;
    f[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    FrameHeader h;
    Status s = decode_frame_header(f.data(), f.size(), Limits{}, &h);
    ASSERT_FALSE(s.ok()) << "bit " << bit;
    EXPECT_TRUE(contains(s, bit < 16 ? "bad magic" : "header checksum mismatch"))
        << "bit " << bit << ": " << s.to_string();
  }
}

TEST(WireFrame, EveryPayloadBitFlipIsDetected) {
  for (int which = 0; which < 2; ++which) {
    std::string buf;
    if (which == 0) {
      encode_batch_frame(small_batch(), &buf);
    } else {
      encode_chunk_frame(small_chunk(), &buf);
    }
    FrameHeader h;
    ASSERT_TRUE(decode_frame_header(buf.data(), buf.size(), Limits{}, &h).ok());
    for (size_t bit = kFrameHeaderSize * 8; bit < buf.size() * 8; ++bit) {
      std::string f = buf;
      f[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      EXPECT_FAILS(verify_payload(h, f.data() + kFrameHeaderSize, h.payload_size),
                   ErrorCode::kCorrupted, "payload checksum mismatch");
    }
  }
}

}  // namespace
}  // namespace dragonboat::transport
