// snapshot/format.h — the byte layout of a snapshot data file: constants,
// little-endian integer coding (from common/bytes.h), and encode/decode of
// the fixed-size header, block header and tail. docs/storage.md ("Snapshot
// files") describes the same layout in prose; keep the two in step.
//
// Layout (every integer little-endian, fixed width):
//
//   header (64 bytes) | block 0 | block 1 | ... | block N-1 | tail (40 bytes)
//   block = block header (24 bytes) + stored bytes
//
// Thread-safety: only constants and pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"

namespace dragonboat::snapshot {

// How the payload of a file is compressed (recorded in the header).
enum class Compression : uint32_t {
  kNone = 0,  // every block stored as is
  kLz4 = 1,   // blocks LZ4 block-compressed when that makes them smaller
  kSnappy = 2,  // blocks Snappy-compressed when that makes them smaller
};

// How one block's bytes are stored (recorded in the block header).
enum class BlockEncoding : uint32_t {
  kRaw = 0,  // stored bytes are the payload bytes
  kLz4 = 1,  // stored bytes are one LZ4 block decompressing to the payload bytes
  kSnappy = 2,  // stored bytes are one Snappy buffer decompressing to the payload bytes
};

// Which checksum protects blocks (recorded in the header). Only XXH3-64.
enum class ChecksumType : uint32_t {
  kXxh3_64 = 1,
};

// Returns "none" / "lz4" / "snappy", or "unknown".
const char* compression_name(Compression c);

inline constexpr uint32_t kFormatVersion = 1;

// Magic values: eight ASCII bytes, also readable as little-endian u64.
inline constexpr uint64_t kHeaderMagic = 0x50414E5347415244ULL;  // "DRAGSNAP"
inline constexpr uint64_t kTailMagic = 0x4C49415447415244ULL;    // "DRAGTAIL"

inline constexpr size_t kHeaderSize = 64;
inline constexpr size_t kHeaderReservedOffset = 24;
inline constexpr size_t kHeaderReservedSize = 32;
inline constexpr size_t kHeaderChecksumOffset = 56;  // XXH3-64 of bytes [0, 56)

inline constexpr size_t kBlockHeaderSize = 24;
inline constexpr size_t kBlockChecksumOffset = 16;  // checksum covers bytes [0, 16) + data

inline constexpr size_t kTailSize = 40;
// The tail's first word sits where a block's stored length would; no block
// can have this length, so a sequential reader knows the blocks ended.
inline constexpr uint32_t kTailMarker = 0xFFFFFFFFu;

// Bounds of the block size (the most payload bytes one block holds).
inline constexpr uint32_t kMinBlockSize = 1;
inline constexpr uint32_t kMaxBlockSize = 64u << 20;
inline constexpr uint32_t kDefaultBlockSize = 1u << 20;

// ---- little-endian coding ---------------------------------------------------

// The fixed-width little-endian helpers of common/bytes.h, under the names the
// snapshot code (and its tests) use: put_u32/put_u64 at a uint8_t*, and
// get_u32/get_u64 from one.
using bytes::get_u32;
using bytes::get_u64;
using bytes::put_u32;
using bytes::put_u64;

// ---- header -----------------------------------------------------------------

struct FileHeader {
  uint64_t magic = kHeaderMagic;
  uint32_t version = kFormatVersion;
  uint32_t checksum_type = static_cast<uint32_t>(ChecksumType::kXxh3_64);
  uint32_t compression = static_cast<uint32_t>(Compression::kNone);
  uint32_t block_size = kDefaultBlockSize;
};

// Writes kHeaderSize bytes: the fields, zeroed reserved space, and the header
// checksum.
void encode_header(const FileHeader& h, uint8_t out[kHeaderSize]);
// The fields of kHeaderSize bytes; neither the magic nor the checksum checked.
FileHeader decode_header(const uint8_t in[kHeaderSize]);

// The XXH3-64 checksum a header's bytes [0, kHeaderChecksumOffset) must have.
uint64_t header_checksum(const uint8_t in[kHeaderSize]);

// ---- block header -----------------------------------------------------------

struct BlockHeader {
  uint32_t stored_length = 0;        // bytes that follow the block header
  uint32_t uncompressed_length = 0;  // payload bytes the block yields
  uint32_t encoding = static_cast<uint32_t>(BlockEncoding::kRaw);
  uint32_t reserved = 0;
  uint64_t checksum = 0;
};

// Writes kBlockHeaderSize bytes (the checksum field as given).
void encode_block_header(const BlockHeader& b, uint8_t out[kBlockHeaderSize]);
BlockHeader decode_block_header(const uint8_t in[kBlockHeaderSize]);

// The checksum of block number `block_no`: XXH3-64 seeded with the block
// number over the block header's first 16 bytes followed by the stored bytes.
// Seeding with the number catches blocks that are swapped or repeated.
uint64_t block_checksum(uint64_t block_no, const uint8_t header16[kBlockChecksumOffset],
                        const void* stored, size_t stored_length);

// ---- tail -------------------------------------------------------------------

struct FileTail {
  uint32_t marker = kTailMarker;
  uint32_t reserved = 0;
  uint64_t payload_length = 0;  // sum of all blocks' uncompressed lengths
  uint64_t block_count = 0;
  uint64_t blocks_digest = 0;   // XXH3-64 over every block checksum (8 LE bytes each), in order
  uint64_t magic = kTailMagic;
};

void encode_tail(const FileTail& t, uint8_t out[kTailSize]);
FileTail decode_tail(const uint8_t in[kTailSize]);

// Accumulates FileTail::blocks_digest: feed every block checksum in order.
// Not thread-safe (one per writer or reader).
class BlocksDigest {
 public:
  BlocksDigest();
  ~BlocksDigest();
  BlocksDigest(const BlocksDigest&) = delete;
  BlocksDigest& operator=(const BlocksDigest&) = delete;

  // Adds the checksum of the next block.
  void add(uint64_t block_checksum);
  // The digest of the checksums added so far (of none: XXH3-64 of nothing).
  uint64_t digest() const;

 private:
  void* state_;  // XXH3_state_t*, kept out of this header
};

}  // namespace dragonboat::snapshot
