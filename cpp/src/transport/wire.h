// transport/wire.h — the transport's wire codec: frames, Raft message batches
// and snapshot chunks, as bytes. docs/wire.md documents the exact byte
// layouts, the limits and why the format is hand-written; keep the two in step.
//
// A connection carries a sequence of frames:
//
//   frame   = frame header (24 bytes) + payload (payload size bytes)
//   payload = encoded MessageBatch   (Method::kRaftMessageBatch)
//           | encoded SnapshotChunk  (Method::kSnapshotChunk)
//           | nothing                (Method::kPoke)
//
// Receiving side, in this order, never allocating before a check passed:
//   1. read kFrameHeaderSize bytes; decode_frame_header() checks magic, header
//      checksum, method and payload size <= Limits::max_frame_payload;
//   2. read header.payload_size bytes; verify_payload() checks the checksum;
//   3. decode_batch() / decode_chunk() the payload (both bound every count and
//      length by the bytes that remain and by Limits before reserving).
// Sending side: encode_batch_frame() / encode_chunk_frame() append a complete
// frame to a caller-owned buffer (reusing its capacity); encode_frame_header()
// frames a payload encoded elsewhere.
//
// Errors are Status values (no exceptions): kCorrupted for damaged or
// malformed bytes, kPayloadTooBig for a size beyond a Limits value,
// kIncompatibleData for an unknown format version or method. Every message
// names the failed check, e.g. "bad magic 0x4745 (want 0xD7B0)".
//
// The codec carries every raft::MessageType, including local ones (kElection
// …); the receiver must drop messages for which raft::is_local_message() holds.
//
// Thread-safety: stateless functions over caller-owned values; safe to call
// from any number of threads on distinct objects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dragonboat/status.h"
#include "raft/types.h"

namespace dragonboat::transport {

// ---- constants --------------------------------------------------------------

// The two bytes every frame starts with.
inline constexpr uint8_t kFrameMagic0 = 0xD7;
inline constexpr uint8_t kFrameMagic1 = 0xB0;
inline constexpr size_t kFrameHeaderSize = 24;

// The format version byte at the start of a batch / chunk payload.
inline constexpr uint8_t kBatchFormatVersion = 1;
inline constexpr uint8_t kChunkFormatVersion = 1;

// What a frame's payload is.
enum class Method : uint16_t {
  kRaftMessageBatch = 100,  // payload: an encoded MessageBatch
  kSnapshotChunk = 200,     // payload: an encoded SnapshotChunk
  kPoke = 300,              // no payload (payload size must be 0): liveness probe
};

// "raft_message_batch", "snapshot_chunk", "poke", or "unknown".
const char* method_name(Method m);

// Snapshot data bytes a sender should put in one chunk (a recommendation for
// the transport; the receiver accepts up to Limits::max_chunk_data_size).
inline constexpr uint64_t kDefaultChunkDataSize = 2u << 20;

// ---- limits -----------------------------------------------------------------

// Bounds a decoder enforces. A value beyond one is kPayloadTooBig; a count or
// length beyond the bytes that remain is kCorrupted. Both are checked before
// anything is allocated for it. Sender and receiver must agree: a sender
// should check encoded_batch_size() against max_frame_payload.
struct Limits {
  uint64_t max_frame_payload = 64u << 20;       // bytes after the frame header
  uint64_t max_messages_per_batch = 1u << 16;   // raft messages in one batch
  uint64_t max_entries_per_batch = 1u << 20;    // entries over all messages of a batch
  uint64_t max_cmd_size = 64u << 20;            // Entry::cmd bytes
  uint64_t max_membership_size = 1u << 20;      // encoded raft::Membership bytes
  uint64_t max_string_size = 4096;              // addresses and file paths
  uint64_t max_snapshot_data_size = 8u << 20;   // Snapshot::data carried in a message
  uint64_t max_chunk_data_size = 8u << 20;      // SnapshotChunk::data bytes
  uint64_t max_file_metadata_size = 1u << 20;   // SnapshotFileInfo::metadata bytes
};

// ---- values -----------------------------------------------------------------

// The Raft messages one host sends another in one frame.
struct MessageBatch {
  uint64_t deployment_id = 0;  // receivers drop batches of another deployment
  std::string source_address;  // the sender's raft address
  uint32_t bin_version = 0;    // the sender's binary/protocol version (policy is the transport's)
  std::vector<raft::Message> requests;
};

// An external file of an on-disk state machine's snapshot, sent alongside the
// snapshot data file.
struct SnapshotFileInfo {
  std::string file_path;
  uint64_t file_size = 0;
  uint64_t file_id = 0;
  std::string metadata;
};

// One piece of a snapshot streamed to a node. Chunks of one snapshot share
// cluster/node/index/term; chunk_id counts 0 … chunk_count-1 over the whole
// stream, file_chunk_id 0 … file_chunk_count-1 within the current file.
struct SnapshotChunk {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;        // the receiving node
  uint64_t from = 0;           // the sending node
  uint64_t deployment_id = 0;
  uint32_t bin_version = 0;
  uint64_t chunk_id = 0;
  uint64_t chunk_count = 0;
  // Derived: encode ignores it and writes data.size(); decode sets it.
  uint64_t chunk_size = 0;
  uint64_t file_size = 0;      // size of the file this chunk belongs to
  uint64_t index = 0;          // snapshot index
  uint64_t term = 0;           // snapshot term
  uint64_t message_term = 0;   // the sender's current Raft term (the InstallSnapshot message's term)
  uint64_t on_disk_index = 0;  // on-disk state machine: index it has persisted
  raft::Membership membership;
  bool witness = false;
  std::string file_path;       // the snapshot data file's name
  uint64_t file_chunk_id = 0;
  uint64_t file_chunk_count = 0;
  bool has_file_info = false;  // file_info is meaningful (an external file)
  SnapshotFileInfo file_info;
  std::string data;
  // Derived: encode ignores it and writes XXH3-64 of data; decode sets it
  // after verifying it.
  uint64_t data_checksum = 0;
};

// ---- frames -----------------------------------------------------------------

struct FrameHeader {
  Method method = Method::kPoke;
  uint64_t payload_size = 0;
  uint64_t payload_checksum = 0;  // XXH3-64 of the payload
};

// Writes the kFrameHeaderSize-byte header of a frame carrying `payload` to
// `dst` (computes the payload checksum).
void write_frame_header(Method method, std::string_view payload, char* dst);

// Appends the header of a frame carrying `payload` to *out. The caller then
// appends the payload itself.
void encode_frame_header(Method method, std::string_view payload, std::string* out);

// Decodes and checks the first kFrameHeaderSize bytes of `data`. Failures, in
// the order checked:
//   kCorrupted        "truncated frame header: N of 24 bytes"
//   kCorrupted        "bad magic 0x…"
//   kCorrupted        "header checksum mismatch"
//   kIncompatibleData "unknown method N"
//   kCorrupted        "poke frame with N payload bytes"
//   kPayloadTooBig    "payload size N exceeds limit M"
Status decode_frame_header(const char* data, size_t size, const Limits& limits,
                           FrameHeader* header);

// Checks a received payload against its header: kCorrupted "payload size
// mismatch" when size differs from header.payload_size, kCorrupted "payload
// checksum mismatch" when the XXH3-64 differs.
Status verify_payload(const FrameHeader& header, const char* payload, size_t size);

// ---- message batches --------------------------------------------------------

// The exact number of bytes encode_batch() appends (the payload size of the
// frame encode_batch_frame() appends). A sender splits batches whose size
// exceeds the receiver's Limits::max_frame_payload.
size_t encoded_batch_size(const MessageBatch& batch);

// Appends the encoding of `batch` to *out. *out grows at most once, to an
// upper bound of the encoding (every varint counted as 10 bytes), and is then
// shrunk to the bytes written; a buffer reused for the next batch keeps its
// capacity, so the steady state allocates nothing (raft::encode_membership's
// string, for messages carrying a snapshot, is the only other allocation).
void encode_batch(const MessageBatch& batch, std::string* out);

// Appends a complete kRaftMessageBatch frame (header + encoded batch) to *out.
void encode_batch_frame(const MessageBatch& batch, std::string* out);

// Decodes a batch payload into *batch (overwriting it). kIncompatibleData for
// an unknown format version; kCorrupted for malformed bytes, naming the
// message/entry and field; kPayloadTooBig for a count or size beyond `limits`.
// The Message and Entry objects already in *batch are reused (every field is
// overwritten), so decoding into the same batch again allocates only when a
// string outgrows its capacity. On error *batch is partially overwritten.
Status decode_batch(const char* data, size_t size, const Limits& limits, MessageBatch* batch);

// ---- snapshot chunks --------------------------------------------------------

size_t encoded_chunk_size(const SnapshotChunk& chunk);
// Appends the encoding of `chunk` to *out, with XXH3-64 of chunk.data.
void encode_chunk(const SnapshotChunk& chunk, std::string* out);
// Appends a complete kSnapshotChunk frame to *out.
void encode_chunk_frame(const SnapshotChunk& chunk, std::string* out);
// Decodes a chunk payload into *chunk, verifying the data checksum
// (kCorrupted "chunk data checksum mismatch"). Other failures as decode_batch.
Status decode_chunk(const char* data, size_t size, const Limits& limits, SnapshotChunk* chunk);

}  // namespace dragonboat::transport
