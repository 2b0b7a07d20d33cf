// common/compression.h — the block codecs shared by snapshot files
// (snapshot/snapshot_file.cc) and compressed log entries
// (rsm/entry_payload.cc): Snappy and LZ4 over one contiguous buffer.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstddef>

#include "dragonboat/config.h"

namespace dragonboat::compression {

// The most bytes compress_into() may write for n input bytes (0 for
// kNoCompression, which never compresses).
size_t max_compressed_size(CompressionType type, size_t n);

// Compresses in[0, n) into out, whose capacity is at least
// max_compressed_size(type, n). Returns the compressed length, or 0 when the
// type is kNoCompression, the codec fails, or the result is not smaller than
// n: callers then keep the bytes as they are.
size_t compress_into(CompressionType type, const char* in, size_t n, char* out);

// Decompresses in[0, n) into out, which has room for exactly `expected`
// bytes. False unless the data is well-formed for the codec and decodes to
// exactly `expected` bytes; nothing past out[expected) is ever written.
bool decompress_into(CompressionType type, const char* in, size_t n, char* out, size_t expected);

}  // namespace dragonboat::compression
