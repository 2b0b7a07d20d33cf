#include "snapshot/format.h"

#include <xxhash.h>

#include <cstring>
#include <memory>
#include <new>

namespace dragonboat::snapshot {

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kLz4: return "lz4";
  }
  return "unknown";
}

void encode_header(const FileHeader& h, uint8_t out[kHeaderSize]) {
  std::memset(out, 0, kHeaderSize);
  put_u64(out + 0, h.magic);
  put_u32(out + 8, h.version);
  put_u32(out + 12, h.checksum_type);
  put_u32(out + 16, h.compression);
  put_u32(out + 20, h.block_size);
  put_u64(out + kHeaderChecksumOffset, header_checksum(out));
}

uint64_t header_checksum(const uint8_t in[kHeaderSize]) {
  return XXH3_64bits(in, kHeaderChecksumOffset);
}

void encode_block_header(const BlockHeader& b, uint8_t out[kBlockHeaderSize]) {
  put_u32(out + 0, b.stored_length);
  put_u32(out + 4, b.uncompressed_length);
  put_u32(out + 8, b.encoding);
  put_u32(out + 12, b.reserved);
  put_u64(out + kBlockChecksumOffset, b.checksum);
}

BlockHeader decode_block_header(const uint8_t in[kBlockHeaderSize]) {
  BlockHeader b;
  b.stored_length = get_u32(in + 0);
  b.uncompressed_length = get_u32(in + 4);
  b.encoding = get_u32(in + 8);
  b.reserved = get_u32(in + 12);
  b.checksum = get_u64(in + kBlockChecksumOffset);
  return b;
}

namespace {

// RAII owner of an XXH3 streaming state.
struct StateDeleter {
  void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};

XXH3_state_t* new_state() {
  XXH3_state_t* s = XXH3_createState();
  if (s == nullptr) throw std::bad_alloc();  // out of memory: as any allocation
  return s;
}

}  // namespace

uint64_t block_checksum(uint64_t block_no, const uint8_t header16[kBlockChecksumOffset],
                        const void* stored, size_t stored_length) {
  // One thread-local state avoids an allocation per block.
  thread_local std::unique_ptr<XXH3_state_t, StateDeleter> state(new_state());
  XXH3_64bits_reset_withSeed(state.get(), block_no);
  XXH3_64bits_update(state.get(), header16, kBlockChecksumOffset);
  if (stored_length > 0) XXH3_64bits_update(state.get(), stored, stored_length);
  return XXH3_64bits_digest(state.get());
}

void encode_tail(const FileTail& t, uint8_t out[kTailSize]) {
  put_u32(out + 0, t.marker);
  put_u32(out + 4, t.reserved);
  put_u64(out + 8, t.payload_length);
  put_u64(out + 16, t.block_count);
  put_u64(out + 24, t.blocks_digest);
  put_u64(out + 32, t.magic);
}

FileTail decode_tail(const uint8_t in[kTailSize]) {
  FileTail t;
  t.marker = get_u32(in + 0);
  t.reserved = get_u32(in + 4);
  t.payload_length = get_u64(in + 8);
  t.block_count = get_u64(in + 16);
  t.blocks_digest = get_u64(in + 24);
  t.magic = get_u64(in + 32);
  return t;
}

BlocksDigest::BlocksDigest() : state_(new_state()) {
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_));
}

BlocksDigest::~BlocksDigest() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void BlocksDigest::add(uint64_t block_checksum) {
  uint8_t le[8];
  put_u64(le, block_checksum);
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), le, sizeof le);
}

uint64_t BlocksDigest::digest() const {
  return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_));
}

}  // namespace dragonboat::snapshot
