#include "rsm/entry_payload.h"

#include "common/bytes.h"
#include "common/compression.h"

namespace dragonboat::rsm {

namespace {

constexpr uint8_t kVersion = 0;

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kCorrupted, "encoded entry: " + what);
}

}  // namespace

bool encode_payload(CompressionType type, std::string_view cmd, std::string* out) {
  const size_t cap = compression::max_compressed_size(type, cmd.size());
  if (cap == 0) return false;
  std::string buf(1 + bytes::kMaxVarintSize + cap, '\0');
  bytes::put_u8(buf.data(), static_cast<uint8_t>((kVersion << 4) | static_cast<uint8_t>(type)));
  char* body = bytes::put_varint(buf.data() + 1, cmd.size());
  const size_t head = static_cast<size_t>(body - buf.data());
  const size_t n = compression::compress_into(type, cmd.data(), cmd.size(), body);
  // The header counts too: keep the entry plain unless the whole shrinks.
  if (n == 0 || head + n >= cmd.size()) return false;
  buf.resize(head + n);
  *out = std::move(buf);
  return true;
}

Status decode_payload(std::string_view payload, std::string* cmd) {
  bytes::Reader r(payload);
  uint8_t header = 0;
  uint64_t len = 0;
  if (!r.u8(&header) || !r.varint(&len)) return corrupt("truncated header");
  if ((header >> 4) != kVersion) return corrupt("unknown version " + std::to_string(header >> 4));
  const auto type = static_cast<CompressionType>(header & 0x0f);
  if (type != CompressionType::kSnappy && type != CompressionType::kLZ4) {
    return corrupt("unknown compression type " + std::to_string(header & 0x0f));
  }
  // Compressed data never expands by more than the codecs' ratio bound
  // (LZ4 255:1, Snappy less); a larger claim is damage, not a real entry,
  // and must not size an allocation.
  if (len > 255 * static_cast<uint64_t>(r.remaining()) + 16) {
    return corrupt("uncompressed length " + std::to_string(len) + " impossible for " +
                   std::to_string(r.remaining()) + " bytes");
  }
  std::string out(static_cast<size_t>(len), '\0');
  const size_t at = r.position();
  if (!compression::decompress_into(type, payload.data() + at, payload.size() - at, out.data(), out.size())) {
    return corrupt("data does not decode to " + std::to_string(len) + " bytes");
  }
  *cmd = std::move(out);
  return Status::OK();
}

}  // namespace dragonboat::rsm
