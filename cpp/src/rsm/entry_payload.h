// rsm/entry_payload.h — the command of a kEncodedApplication entry: a
// proposal compressed by the proposing node (Config::entry_compression_type)
// and decompressed by every replica just before it is applied, so the log,
// the wire and the in-memory log limit all see the smaller bytes.
//
// Layout (docs/storage.md, "Log entries"):
//
//   u8 header | varint uncompressed length | compressed bytes
//   header = (version << 4) | CompressionType   (version 0; Snappy or LZ4)
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "dragonboat/config.h"
#include "dragonboat/status.h"

namespace dragonboat::rsm {

// Encodes cmd with `type` into *out. False, leaving *out alone, when the type
// is kNoCompression or the compressed form would not be smaller than cmd:
// the proposal then stays a plain kApplication entry.
bool encode_payload(CompressionType type, std::string_view cmd, std::string* out);

// The command an encoded payload holds, into *cmd. A payload that does not
// decode (unknown version or codec, a length that disagrees, codec errors)
// is kCorrupted: a committed entry is damaged, so the replica stops.
Status decode_payload(std::string_view payload, std::string* cmd);

}  // namespace dragonboat::rsm
