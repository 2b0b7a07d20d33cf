#include "snapshot/format.h"

#include <xxhash.h>

#include <cstring>
#include <memory>
#include <new>
#include <tuple>

#include "common/enum_util.h"

namespace dragonboat::snapshot {

namespace {

// A fixed layout is written once, as a table of fields (a member and its
// byte offset), that both encoding and decoding walk.
template <typename S, typename T>
struct Field {
  size_t offset;
  T S::*member;
};
template <typename S, typename T>
constexpr Field<S, T> at(size_t offset, T S::*member) {
  return {offset, member};
}

void put(uint8_t* p, uint32_t v) { put_u32(p, v); }
void put(uint8_t* p, uint64_t v) { put_u64(p, v); }
void get(const uint8_t* p, uint32_t* v) { *v = get_u32(p); }
void get(const uint8_t* p, uint64_t* v) { *v = get_u64(p); }

template <typename S, typename Layout>
void put_fields(const S& s, const Layout& layout, uint8_t* out) {
  std::apply([&](const auto&... f) { (put(out + f.offset, s.*f.member), ...); }, layout);
}
template <typename S, typename Layout>
S get_fields(const Layout& layout, const uint8_t* in) {
  S s;
  std::apply([&](const auto&... f) { (get(in + f.offset, &(s.*f.member)), ...); }, layout);
  return s;
}

constexpr auto kHeaderLayout =
    std::make_tuple(at(0, &FileHeader::magic), at(8, &FileHeader::version), at(12, &FileHeader::checksum_type),
                    at(16, &FileHeader::compression), at(20, &FileHeader::block_size));
constexpr auto kBlockHeaderLayout = std::make_tuple(
    at(0, &BlockHeader::stored_length), at(4, &BlockHeader::uncompressed_length), at(8, &BlockHeader::encoding),
    at(12, &BlockHeader::reserved), at(kBlockChecksumOffset, &BlockHeader::checksum));
constexpr auto kTailLayout =
    std::make_tuple(at(0, &FileTail::marker), at(4, &FileTail::reserved), at(8, &FileTail::payload_length),
                    at(16, &FileTail::block_count), at(24, &FileTail::blocks_digest), at(32, &FileTail::magic));

}  // namespace

const char* compression_name(Compression c) {
  static const char* const kNames[] = {"none", "lz4", "snappy"};  // in Compression's order
  return enum_name(c, kNames);
}

void encode_header(const FileHeader& h, uint8_t out[kHeaderSize]) {
  std::memset(out, 0, kHeaderSize);
  put_fields(h, kHeaderLayout, out);
  put_u64(out + kHeaderChecksumOffset, header_checksum(out));
}

FileHeader decode_header(const uint8_t in[kHeaderSize]) { return get_fields<FileHeader>(kHeaderLayout, in); }

uint64_t header_checksum(const uint8_t in[kHeaderSize]) {
  return XXH3_64bits(in, kHeaderChecksumOffset);
}

void encode_block_header(const BlockHeader& b, uint8_t out[kBlockHeaderSize]) {
  put_fields(b, kBlockHeaderLayout, out);
}

BlockHeader decode_block_header(const uint8_t in[kBlockHeaderSize]) {
  return get_fields<BlockHeader>(kBlockHeaderLayout, in);
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

void encode_tail(const FileTail& t, uint8_t out[kTailSize]) { put_fields(t, kTailLayout, out); }

FileTail decode_tail(const uint8_t in[kTailSize]) { return get_fields<FileTail>(kTailLayout, in); }

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
