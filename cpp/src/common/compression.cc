#include "common/compression.h"

#include <lz4.h>
#include <snappy-c.h>

#include <climits>

namespace dragonboat::compression {

size_t max_compressed_size(CompressionType type, size_t n) {
  switch (type) {
    case CompressionType::kSnappy:
      return snappy_max_compressed_length(n);
    case CompressionType::kLZ4:
      // compress_into caps LZ4's output below n (it gives up otherwise).
      return n;
    case CompressionType::kNoCompression:
      break;
  }
  return 0;
}

size_t compress_into(CompressionType type, const char* in, size_t n, char* out) {
  if (n < 2) return 0;  // nothing shorter than one byte
  switch (type) {
    case CompressionType::kSnappy: {
      size_t c = snappy_max_compressed_length(n);
      if (snappy_compress(in, n, out, &c) != SNAPPY_OK || c >= n) return 0;
      return c;
    }
    case CompressionType::kLZ4: {
      if (n > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return 0;
      // Capacity n - 1: LZ4 returns 0 unless the block shrinks.
      int c = LZ4_compress_default(in, out, static_cast<int>(n), static_cast<int>(n - 1));
      return c > 0 ? static_cast<size_t>(c) : 0;
    }
    case CompressionType::kNoCompression:
      break;
  }
  return 0;
}

bool decompress_into(CompressionType type, const char* in, size_t n, char* out, size_t expected) {
  switch (type) {
    case CompressionType::kSnappy: {
      // Snappy records the decompressed length itself: it must agree before
      // anything is written into out.
      size_t len = 0;
      if (snappy_uncompressed_length(in, n, &len) != SNAPPY_OK || len != expected) return false;
      return snappy_uncompress(in, n, out, &len) == SNAPPY_OK && len == expected;
    }
    case CompressionType::kLZ4: {
      if (n > static_cast<size_t>(INT_MAX) || expected > static_cast<size_t>(INT_MAX)) return false;
      int got = LZ4_decompress_safe(in, out, static_cast<int>(n), static_cast<int>(expected));
      return got >= 0 && static_cast<size_t>(got) == expected;
    }
    case CompressionType::kNoCompression:
      break;
  }
  return false;
}

}  // namespace dragonboat::compression
