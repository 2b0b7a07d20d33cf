// Unit tests for common/bytes.h, the byte-encoding toolkit every on-disk and
// on-wire format uses. Pins the exact bytes of fixed-width little-endian and
// big-endian integers and of LEB128 varints (a change here changes every
// format), round-trips values at the width boundaries (0, max, varint 127/128
// and every 7-bit group edge), and checks that Reader refuses truncated or
// overlong input without reading past the end of its view: each input is a
// view of a prefix of a larger buffer, so a read past the view's end would
// find valid bytes and succeed.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"

namespace dragonboat::bytes {
namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

std::string hex(std::string_view s) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    const auto b = static_cast<uint8_t>(c);
    if (!out.empty()) out += ' ';
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string varint_bytes(uint64_t v) {
  std::string s;
  append_varint(&s, v);
  return s;
}

// ---- exact bytes --------------------------------------------------------------

TEST(Bytes, FixedWidthIsLittleEndian) {
  std::string s;
  append_u8(&s, 0xab);
  append_u16(&s, 0x0102);
  append_u32(&s, 0x01020304);
  append_u64(&s, 0x0102030405060708);
  EXPECT_EQ(hex(s), "ab 02 01 04 03 02 01 08 07 06 05 04 03 02 01");

  char p[8] = {};
  put_u64(p, 0x1122334455667788);
  EXPECT_EQ(hex(std::string_view(p, 8)), "88 77 66 55 44 33 22 11");
  uint8_t u[4] = {};
  put_u32(u, 0xdeadbeef);
  EXPECT_EQ(u[0], 0xef);
  EXPECT_EQ(u[3], 0xde);
  EXPECT_EQ(get_u32(static_cast<const uint8_t*>(u)), 0xdeadbeefu);
  put_u16(p, 0xfffe);
  EXPECT_EQ(hex(std::string_view(p, 2)), "fe ff");
}

TEST(Bytes, Be64IsBigEndianAndSortsNumerically) {
  std::string a, b, c;
  append_be64(&a, 0x0102030405060708);
  EXPECT_EQ(hex(a), "01 02 03 04 05 06 07 08");
  append_be64(&b, 255);
  append_be64(&c, 256);
  EXPECT_LT(b, c);  // as byte strings, as LogDB keys compare
  EXPECT_EQ(get_be64(a.data()), 0x0102030405060708u);
}

TEST(Bytes, VarintBytes) {
  EXPECT_EQ(hex(varint_bytes(0)), "00");
  EXPECT_EQ(hex(varint_bytes(1)), "01");
  EXPECT_EQ(hex(varint_bytes(127)), "7f");
  EXPECT_EQ(hex(varint_bytes(128)), "80 01");
  EXPECT_EQ(hex(varint_bytes(300)), "ac 02");
  EXPECT_EQ(hex(varint_bytes(16383)), "ff 7f");
  EXPECT_EQ(hex(varint_bytes(16384)), "80 80 01");
  EXPECT_EQ(hex(varint_bytes(kU64Max)), "ff ff ff ff ff ff ff ff ff 01");
  EXPECT_EQ(hex(varint_bytes(uint64_t{1} << 63)), "80 80 80 80 80 80 80 80 80 01");
}

TEST(Bytes, LengthPrefixedBytes) {
  std::string s;
  append_u64_prefixed(&s, "ab");
  EXPECT_EQ(hex(s), "02 00 00 00 00 00 00 00 61 62");
  s.clear();
  append_varint_prefixed(&s, "ab");
  EXPECT_EQ(hex(s), "02 61 62");
  s.clear();
  append_varint_prefixed(&s, std::string(128, 'x'));
  EXPECT_EQ(s.size(), 130u);
  EXPECT_EQ(hex(s.substr(0, 3)), "80 01 78");
}

// ---- round trips --------------------------------------------------------------

TEST(Bytes, FixedWidthRoundTripsAtBoundaries) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{0x7f}, uint64_t{0x80}, uint64_t{0xff},
                     uint64_t{0xffff}, uint64_t{0xffffffff}, uint64_t{1} << 63, kU64Max}) {
    SCOPED_TRACE(v);
    std::string s;
    append_u8(&s, static_cast<uint8_t>(v));
    append_u16(&s, static_cast<uint16_t>(v));
    append_u32(&s, static_cast<uint32_t>(v));
    append_u64(&s, v);
    append_be64(&s, v);
    ASSERT_EQ(s.size(), 1u + 2 + 4 + 8 + 8);
    Reader r(s);
    uint8_t a = 0;
    uint16_t b = 0;
    uint32_t c = 0;
    uint64_t d = 0, e = 0;
    ASSERT_TRUE(r.u8(&a) && r.u16(&b) && r.u32(&c) && r.u64(&d) && r.be64(&e));
    EXPECT_EQ(a, static_cast<uint8_t>(v));
    EXPECT_EQ(b, static_cast<uint16_t>(v));
    EXPECT_EQ(c, static_cast<uint32_t>(v));
    EXPECT_EQ(d, v);
    EXPECT_EQ(e, v);
    EXPECT_TRUE(r.done());
  }
}

TEST(Bytes, VarintRoundTripsAtEveryGroupEdge) {
  std::vector<uint64_t> values = {0, kU64Max, kU64Max - 1};
  for (int bits = 7; bits < 64; bits += 7) {
    const uint64_t edge = uint64_t{1} << bits;  // first value needing one more byte
    values.insert(values.end(), {edge - 1, edge, edge + 1});
  }
  values.push_back(uint64_t{1} << 63);
  for (uint64_t v : values) {
    SCOPED_TRACE(v);
    const std::string s = varint_bytes(v);
    EXPECT_EQ(s.size(), varint_size(v));
    EXPECT_LE(s.size(), kMaxVarintSize);
    char raw[kMaxVarintSize];
    EXPECT_EQ(std::string(raw, put_varint(raw, v)), s);
    for (VarintOverflow mode : {VarintOverflow::kReject, VarintOverflow::kDropHighBits}) {
      Reader r(s, mode);
      uint64_t got = ~v;
      ASSERT_TRUE(r.varint(&got));
      EXPECT_EQ(got, v);
      EXPECT_TRUE(r.done());
    }
  }
  EXPECT_EQ(varint_size(127), 1u);
  EXPECT_EQ(varint_size(128), 2u);
  EXPECT_EQ(varint_size(kU64Max), 10u);
}

TEST(Bytes, PrefixedRoundTrip) {
  std::string s;
  append_u64_prefixed(&s, "");
  append_u64_prefixed(&s, "hello");
  append_varint_prefixed(&s, std::string(200, 'z'));
  append_varint_prefixed(&s, "");
  Reader r(s);
  std::string a = "x", b;
  std::string_view c, d = "x";
  ASSERT_TRUE(r.u64_prefixed(&a) && r.u64_prefixed(&b) && r.varint_prefixed(&c) &&
              r.varint_prefixed(&d));
  EXPECT_EQ(a, "");
  EXPECT_EQ(b, "hello");
  EXPECT_EQ(c, std::string(200, 'z'));
  EXPECT_EQ(d, "");
  EXPECT_TRUE(r.done());
}

// ---- bounded reading ----------------------------------------------------------

TEST(BytesReader, RefusesTruncatedFixedWidthWithoutReadingPastTheView) {
  std::string full;
  append_u64(&full, 0x0102030405060708);
  for (size_t len = 0; len < 8; ++len) {
    SCOPED_TRACE(len);
    Reader r(std::string_view(full.data(), len));  // the rest of `full` is readable memory
    uint64_t v = 42;
    EXPECT_FALSE(r.u64(&v));
    EXPECT_EQ(v, 42u);  // untouched
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error(), ReadError::kTruncated);
    EXPECT_EQ(r.position(), 0u);
    EXPECT_EQ(r.remaining(), len);
  }
  Reader r(std::string_view(full.data(), 3));
  uint16_t h = 0;
  uint32_t w = 7;
  EXPECT_TRUE(r.u16(&h));
  EXPECT_EQ(h, 0x0708);
  EXPECT_FALSE(r.u32(&w));
  EXPECT_EQ(w, 7u);
  EXPECT_EQ(r.remaining(), 1u);
}

TEST(BytesReader, FailureIsSticky) {
  const std::string s = "\x01\x02\x03";
  Reader r(s);
  uint64_t v = 0;
  uint8_t b = 0;
  EXPECT_FALSE(r.u64(&v));
  EXPECT_FALSE(r.u8(&b));  // a byte is there, but the reader has failed
  EXPECT_EQ(b, 0);
  std::string_view sv;
  EXPECT_FALSE(r.bytes(0, &sv));
  EXPECT_FALSE(r.done());
  EXPECT_EQ(r.remaining(), 3u);
}

TEST(BytesReader, RefusesTruncatedVarint) {
  const std::string full = varint_bytes(kU64Max);  // ten bytes
  for (size_t len = 0; len < full.size(); ++len) {
    SCOPED_TRACE(len);
    for (VarintOverflow mode : {VarintOverflow::kReject, VarintOverflow::kDropHighBits}) {
      Reader r(std::string_view(full.data(), len), mode);
      uint64_t v = 42;
      EXPECT_FALSE(r.varint(&v));
      EXPECT_EQ(v, 42u);
      EXPECT_EQ(r.error(), ReadError::kTruncated);
      EXPECT_EQ(r.position(), 0u);
    }
  }
  // "\x80\x01" cut to its first byte: the byte after the view must not be used.
  const std::string two = varint_bytes(128);
  Reader r(std::string_view(two.data(), 1));
  uint64_t v = 0;
  EXPECT_FALSE(r.varint(&v));
}

TEST(BytesReader, VarintOverflow) {
  // Eleven bytes: more than 64 bits in either mode.
  const std::string eleven = std::string(10, '\xff') + std::string(1, '\0');
  // Ten bytes whose last carries bits beyond 64.
  const std::string wide = std::string(9, '\xff') + std::string(1, '\x02');
  uint64_t v = 42;
  for (VarintOverflow mode : {VarintOverflow::kReject, VarintOverflow::kDropHighBits}) {
    Reader r(eleven, mode);
    EXPECT_FALSE(r.varint(&v));
    EXPECT_EQ(r.error(), ReadError::kOverflow);
    EXPECT_EQ(r.position(), 0u);
  }
  Reader strict(wide);
  EXPECT_FALSE(strict.varint(&v));
  EXPECT_EQ(strict.error(), ReadError::kOverflow);
  EXPECT_EQ(v, 42u);
  // LogDB's reader keeps the low 64 bits.
  Reader lenient(wide, VarintOverflow::kDropHighBits);
  EXPECT_TRUE(lenient.varint(&v));
  EXPECT_EQ(v, kU64Max >> 1);
  EXPECT_TRUE(lenient.done());
  // A tenth byte with the continuation bit fails in either mode.
  const std::string cont = std::string(10, '\x80');
  Reader r(cont, VarintOverflow::kDropHighBits);
  EXPECT_FALSE(r.varint(&v));
  EXPECT_EQ(r.error(), ReadError::kOverflow);
}

TEST(BytesReader, RefusesLengthsBeyondTheInput) {
  std::string s;
  append_varint(&s, 5);
  s += "abcd";  // one short
  Reader r(s);
  std::string_view v = "untouched";
  EXPECT_FALSE(r.varint_prefixed(&v));
  EXPECT_EQ(v, "untouched");
  EXPECT_EQ(r.error(), ReadError::kTruncated);
  EXPECT_EQ(r.position(), 0u);

  std::string t;
  append_u64(&t, kU64Max);  // a length no input has
  t += "abc";
  Reader q(t);
  std::string out = "untouched";
  EXPECT_FALSE(q.u64_prefixed(&out));
  EXPECT_EQ(out, "untouched");

  const std::string four = "wxyz";
  Reader b(std::string_view(four.data(), 2));
  std::string_view got;
  EXPECT_FALSE(b.bytes(3, &got));
  Reader b2(std::string_view(four.data(), 2));
  EXPECT_TRUE(b2.bytes(2, &got));
  EXPECT_EQ(got, "wx");
  EXPECT_TRUE(b2.done());
}

TEST(BytesReader, ReadsInOrderAndReportsPosition) {
  std::string s;
  append_u8(&s, 1);
  append_varint(&s, 300);
  append_u32(&s, 7);
  Reader r(s);
  uint8_t a = 0;
  uint64_t b = 0;
  uint32_t c = 0;
  EXPECT_EQ(r.remaining(), 7u);
  ASSERT_TRUE(r.u8(&a));
  EXPECT_EQ(r.position(), 1u);
  ASSERT_TRUE(r.varint(&b));
  EXPECT_EQ(r.position(), 3u);
  EXPECT_FALSE(r.done());
  ASSERT_TRUE(r.u32(&c));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 300u);
  EXPECT_EQ(c, 7u);
  EXPECT_TRUE(r.done());
  EXPECT_FALSE(r.u8(&a));  // at the end
  EXPECT_FALSE(r.done());  // a read failed
}

// The toolkit is constexpr where it can be: the formats' constants can be
// checked at compile time.
static_assert(varint_size(0) == 1 && varint_size(127) == 1 && varint_size(128) == 2);
static_assert([] {
  char b[8] = {};
  put_u32(b, 0x01020304);
  return b[0] == 4 && b[3] == 1 && get_u32(static_cast<const char*>(b)) == 0x01020304;
}());

}  // namespace
}  // namespace dragonboat::bytes
