// common/bytes.h — the one byte-encoding toolkit of the on-disk and on-wire
// formats: the raft records (raft/types.cc), the session table
// (rsm/session.cc), LogDB keys and values (logdb/codec.cc), snapshot files
// (snapshot/format.h) and the network wire format (transport/wire_*.cc).
//
//   put_u8/u16/u32/u64(p, v), get_u8/u16/u32/u64(p)
//       little-endian fixed width at a raw pointer (char or uint8_t).
//   put_be64(p, v), get_be64(p)
//       big-endian u64, for keys that must sort numerically (LogDB keys only).
//   put_varint(p, v) -> end, varint_size(v), kMaxVarintSize
//       unsigned LEB128: seven bits a byte, least significant group first,
//       the high bit set on every byte but the last; at most 10 bytes.
//   append_u8/u16/u32/u64/be64/varint(&s, v)
//       the same encodings appended to a std::string.
//   append_u64_prefixed(&s, b), append_varint_prefixed(&s, b)
//       a byte string after its length (a u64 / a varint).
//   Reader
//       a cursor over a std::string_view that reads the encodings above and
//       reports failure instead of reading out of bounds (see below).
//
// The writers never check space: a pointer writer writes exactly the stated
// width (varints: varint_size(v) bytes) and the caller provides the room.
// Everything is header-only, stateless or per-object; thread-safe as such.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace dragonboat::bytes {

namespace detail {
template <typename T>
inline constexpr bool kIsByte = std::is_same_v<T, char> || std::is_same_v<T, unsigned char>;
template <typename T>
using IfByte = std::enable_if_t<kIsByte<T>, int>;

template <typename T, typename B>
constexpr void store_le(B* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<B>(static_cast<uint8_t>(v >> (8 * i)));
}
template <typename T, typename B>
constexpr T load_le(const B* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<T>(static_cast<T>(static_cast<uint8_t>(p[i])) << (8 * i));
  }
  return v;
}
}  // namespace detail

// ---- fixed width at a pointer -------------------------------------------------

template <typename B, detail::IfByte<B> = 0>
constexpr void put_u8(B* p, uint8_t v) { p[0] = static_cast<B>(v); }
template <typename B, detail::IfByte<B> = 0>
constexpr void put_u16(B* p, uint16_t v) { detail::store_le(p, v); }
template <typename B, detail::IfByte<B> = 0>
constexpr void put_u32(B* p, uint32_t v) { detail::store_le(p, v); }
template <typename B, detail::IfByte<B> = 0>
constexpr void put_u64(B* p, uint64_t v) { detail::store_le(p, v); }

template <typename B, detail::IfByte<B> = 0>
constexpr uint8_t get_u8(const B* p) { return static_cast<uint8_t>(p[0]); }
template <typename B, detail::IfByte<B> = 0>
constexpr uint16_t get_u16(const B* p) { return detail::load_le<uint16_t>(p); }
template <typename B, detail::IfByte<B> = 0>
constexpr uint32_t get_u32(const B* p) { return detail::load_le<uint32_t>(p); }
template <typename B, detail::IfByte<B> = 0>
constexpr uint64_t get_u64(const B* p) { return detail::load_le<uint64_t>(p); }

// Big-endian: the most significant byte first, so that keys compared as byte
// strings compare as numbers. Used only by LogDB keys.
template <typename B, detail::IfByte<B> = 0>
constexpr void put_be64(B* p, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) p[i] = static_cast<B>(static_cast<uint8_t>(v >> (8 * (7 - i))));
}
template <typename B, detail::IfByte<B> = 0>
constexpr uint64_t get_be64(const B* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// ---- varints ------------------------------------------------------------------

inline constexpr size_t kMaxVarintSize = 10;

// The bytes put_varint writes for v: 1 for 0..127, 2 for 128..16383, ...,
// 10 for values of 64 bits.
constexpr size_t varint_size(uint64_t v) {
  const int bits = 64 - __builtin_clzll(v | 1);
  return static_cast<size_t>((bits + 6) / 7);
}

// Writes v at p; returns the byte after it.
template <typename B, detail::IfByte<B> = 0>
constexpr B* put_varint(B* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<B>(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  *p++ = static_cast<B>(static_cast<uint8_t>(v));
  return p;
}

// ---- appending to a string ----------------------------------------------------

namespace detail {
// Appends the sizeof(T) bytes put(p, v) writes.
template <typename T>
inline void append_fixed(std::string* out, T v, void (*put)(char*, T)) {
  char b[sizeof(T)];
  put(b, v);
  out->append(b, sizeof b);
}
}  // namespace detail

inline void append_u8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
inline void append_u16(std::string* out, uint16_t v) { detail::append_fixed(out, v, put_u16<char>); }
inline void append_u32(std::string* out, uint32_t v) { detail::append_fixed(out, v, put_u32<char>); }
inline void append_u64(std::string* out, uint64_t v) { detail::append_fixed(out, v, put_u64<char>); }
inline void append_be64(std::string* out, uint64_t v) { detail::append_fixed(out, v, put_be64<char>); }
inline void append_varint(std::string* out, uint64_t v) {
  char b[kMaxVarintSize];
  out->append(b, static_cast<size_t>(put_varint(b, v) - b));
}
// [u64 length][bytes]
inline void append_u64_prefixed(std::string* out, std::string_view s) {
  append_u64(out, s.size());
  out->append(s.data(), s.size());
}
// [varint length][bytes]
inline void append_varint_prefixed(std::string* out, std::string_view s) {
  append_varint(out, s.size());
  out->append(s.data(), s.size());
}

// ---- reading ------------------------------------------------------------------

// Why a Reader stopped.
enum class ReadError : uint8_t {
  kNone = 0,
  kTruncated,  // fewer bytes left than the read needs (or a length claims)
  kOverflow,   // a varint longer than 64 bits
};

// What a Reader does with a tenth varint byte that carries bits beyond 64
// (2..127; a tenth byte with the continuation bit always fails).
enum class VarintOverflow : uint8_t {
  kReject,        // fail with kOverflow (the wire format)
  kDropHighBits,  // keep the low 64 bits (the LogDB reader always has)
};

// A bounds-checked cursor over bytes it does not own (the bytes must outlive
// it). Every read returns false instead of reading past the end; a failed
// read leaves the output and the position as they were, and the failure is
// sticky: ok() turns false, error() says why, and every later read fails.
// Typical use:
//
//   bytes::Reader r(data);
//   if (!r.u8(&ver) || !r.varint(&n) || !r.done()) return corrupt(...);
//
// Not thread-safe (one per decode).
class Reader {
 public:
  constexpr explicit Reader(std::string_view in, VarintOverflow overflow = VarintOverflow::kReject)
      : p_(in.data()), begin_(in.data()), end_(in.data() + in.size()), overflow_(overflow) {}
  constexpr Reader(const char* data, size_t size, VarintOverflow overflow = VarintOverflow::kReject)
      : Reader(std::string_view(data, size), overflow) {}

  constexpr bool ok() const { return error_ == ReadError::kNone; }
  constexpr ReadError error() const { return error_; }
  // Bytes not yet read.
  constexpr size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  // Bytes read so far.
  constexpr size_t position() const { return static_cast<size_t>(p_ - begin_); }
  // Every byte read and no read failed.
  constexpr bool done() const { return ok() && p_ == end_; }

  __attribute__((always_inline)) constexpr bool u8(uint8_t* v) {
    if (!ok() || p_ == end_) return fail(ReadError::kTruncated);
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  constexpr bool u16(uint16_t* v) { return fixed(v, get_u16<char>); }
  constexpr bool u32(uint32_t* v) { return fixed(v, get_u32<char>); }
  constexpr bool u64(uint64_t* v) { return fixed(v, get_u64<char>); }
  constexpr bool be64(uint64_t* v) { return fixed(v, get_be64<char>); }

  __attribute__((always_inline)) constexpr bool varint(uint64_t* v) {
    if (!ok()) return false;
    // When the longest varint fits, skip the per-byte bounds check.
    if (__builtin_expect(remaining() >= kMaxVarintSize, 1)) return varint_impl<false>(v);
    return varint_impl<true>(v);
  }

  // The next n bytes, as a view into the input.
  constexpr bool bytes(size_t n, std::string_view* s) {
    if (!ok() || n > remaining()) return fail(ReadError::kTruncated);
    *s = std::string_view(p_, n);
    p_ += n;
    return true;
  }

  // [u64 length][bytes] and [varint length][bytes]; a length beyond the bytes
  // left is kTruncated.
  constexpr bool u64_prefixed(std::string_view* s) { return prefixed(&Reader::u64, s); }
  constexpr bool varint_prefixed(std::string_view* s) { return prefixed(&Reader::varint, s); }
  bool u64_prefixed(std::string* s) { return assign(&Reader::u64, s); }
  bool varint_prefixed(std::string* s) { return assign(&Reader::varint, s); }

 private:
  constexpr bool fail(ReadError e) {
    if (ok()) error_ = e;
    return false;
  }

  template <typename T>
  constexpr bool fixed(T* v, T (*get)(const char*)) {
    if (!ok() || remaining() < sizeof(T)) return fail(ReadError::kTruncated);
    *v = get(p_);
    p_ += sizeof(T);
    return true;
  }

  template <bool kCheckBounds>
  __attribute__((always_inline)) constexpr bool varint_impl(uint64_t* v) {
    uint64_t r = 0;
    for (size_t i = 0; i < kMaxVarintSize; ++i) {
      if constexpr (kCheckBounds) {
        if (p_ + i == end_) return fail(ReadError::kTruncated);
      }
      const uint8_t b = static_cast<uint8_t>(p_[i]);
      if (i == kMaxVarintSize - 1 &&
          (overflow_ == VarintOverflow::kReject ? b > 1 : (b & 0x80) != 0)) {
        return fail(ReadError::kOverflow);
      }
      r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        p_ += i + 1;
        *v = r;
        return true;
      }
    }
    return fail(ReadError::kOverflow);  // unreachable: the tenth byte ends or fails
  }

  constexpr bool prefixed(bool (Reader::*length)(uint64_t*), std::string_view* s) {
    const char* const start = p_;
    uint64_t n = 0;
    if (!(this->*length)(&n)) return false;
    if (n > remaining()) {
      p_ = start;
      return fail(ReadError::kTruncated);
    }
    return bytes(static_cast<size_t>(n), s);
  }
  bool assign(bool (Reader::*length)(uint64_t*), std::string* s) {
    std::string_view v;
    if (!prefixed(length, &v)) return false;
    s->assign(v.data(), v.size());
    return true;
  }

  const char* p_;
  const char* begin_;
  const char* end_;
  VarintOverflow overflow_;
  ReadError error_ = ReadError::kNone;
};

}  // namespace dragonboat::bytes
