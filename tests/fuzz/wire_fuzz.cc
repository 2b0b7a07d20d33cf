// wire_fuzz: libFuzzer target for the transport wire codec (transport/wire.h).
// Built and run by tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,
// undefined); not part of the CMake build.
//
// The first input byte picks what the rest is fed to:
//   mode % 3 == 0  a byte stream of frames: decode_frame_header, then
//                  verify_payload, then decode_batch / decode_chunk by method,
//                  frame after frame while bytes remain;
//   mode % 3 == 1  decode_batch on the rest (no frame checksum in the way);
//   mode % 3 == 2  decode_chunk on the rest.
//   mode & 0x80    use tiny Limits, so the limit paths are reached too.
// Properties beyond "no crash, no UB, no leak": every failure has a message;
// whatever decodes re-encodes to exactly encoded_*_size() bytes and decodes
// again to an equal value.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "transport/wire.h"

using namespace dragonboat;
using namespace dragonboat::transport;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "wire_fuzz: property violated: %s\n", what);
  std::abort();
}

bool entries_eq(const raft::Entry& a, const raft::Entry& b) {
  return a.term == b.term && a.index == b.index && a.type == b.type && a.key == b.key &&
         a.client_id == b.client_id && a.series_id == b.series_id &&
         a.responded_to == b.responded_to && a.cmd == b.cmd;
}

bool messages_eq(const raft::Message& a, const raft::Message& b) {
  if (a.type != b.type || a.to != b.to || a.from != b.from || a.cluster_id != b.cluster_id ||
      a.term != b.term || a.log_term != b.log_term || a.log_index != b.log_index ||
      a.commit != b.commit || a.reject != b.reject || a.hint != b.hint ||
      a.hint_high != b.hint_high || a.entries.size() != b.entries.size()) {
    return false;
  }
  for (size_t i = 0; i < a.entries.size(); ++i) {
    if (!entries_eq(a.entries[i], b.entries[i])) return false;
  }
  const raft::Snapshot &x = a.snapshot, &y = b.snapshot;
  return x.index == y.index && x.term == y.term && x.membership == y.membership &&
         x.filepath == y.filepath && x.file_size == y.file_size && x.data == y.data &&
         x.witness == y.witness;
}

bool batches_eq(const MessageBatch& a, const MessageBatch& b) {
  if (a.deployment_id != b.deployment_id || a.source_address != b.source_address ||
      a.bin_version != b.bin_version || a.requests.size() != b.requests.size()) {
    return false;
  }
  for (size_t i = 0; i < a.requests.size(); ++i) {
    if (!messages_eq(a.requests[i], b.requests[i])) return false;
  }
  return true;
}

bool chunks_eq(const SnapshotChunk& a, const SnapshotChunk& b) {
  return a.cluster_id == b.cluster_id && a.node_id == b.node_id && a.from == b.from &&
         a.deployment_id == b.deployment_id && a.bin_version == b.bin_version &&
         a.chunk_id == b.chunk_id && a.chunk_count == b.chunk_count &&
         a.chunk_size == b.chunk_size && a.file_size == b.file_size && a.index == b.index &&
         a.term == b.term && a.on_disk_index == b.on_disk_index && a.message_term == b.message_term && a.membership == b.membership &&
         a.witness == b.witness && a.file_path == b.file_path &&
         a.file_chunk_id == b.file_chunk_id && a.file_chunk_count == b.file_chunk_count &&
         a.has_file_info == b.has_file_info && a.file_info.file_path == b.file_info.file_path &&
         a.file_info.file_size == b.file_info.file_size &&
         a.file_info.file_id == b.file_info.file_id &&
         a.file_info.metadata == b.file_info.metadata && a.data == b.data &&
         a.data_checksum == b.data_checksum;
}

void check_failure(const Status& s) {
  if (s.ok()) return;
  if (s.message().empty()) fail("a failure without a message");
  if (s.code() != ErrorCode::kCorrupted && s.code() != ErrorCode::kPayloadTooBig &&
      s.code() != ErrorCode::kIncompatibleData) {
    fail("an unexpected error code");
  }
}

void batch(const char* data, size_t size, const Limits& limits) {
  MessageBatch b;
  Status s = decode_batch(data, size, limits, &b);
  check_failure(s);
  if (!s.ok()) return;
  std::string again;
  encode_batch(b, &again);
  if (again.size() != encoded_batch_size(b)) fail("batch size pass != write pass");
  MessageBatch b2;
  if (!decode_batch(again.data(), again.size(), limits, &b2).ok()) fail("re-encoded batch fails");
  if (!batches_eq(b, b2)) fail("batch round trip differs");
  // Decoding again into the used batch must give the same value.
  if (!decode_batch(data, size, limits, &b2).ok() || !batches_eq(b, b2)) {
    fail("decode into a reused batch differs");
  }
}

void chunk(const char* data, size_t size, const Limits& limits) {
  SnapshotChunk c;
  Status s = decode_chunk(data, size, limits, &c);
  check_failure(s);
  if (!s.ok()) return;
  std::string again;
  encode_chunk(c, &again);
  if (again.size() != encoded_chunk_size(c)) fail("chunk size pass != write pass");
  SnapshotChunk c2;
  if (!decode_chunk(again.data(), again.size(), limits, &c2).ok()) fail("re-encoded chunk fails");
  if (!chunks_eq(c, c2)) fail("chunk round trip differs");
}

void frames(const char* data, size_t size, const Limits& limits) {
  while (size > 0) {
    FrameHeader h;
    Status s = decode_frame_header(data, size, limits, &h);
    check_failure(s);
    if (!s.ok()) return;
    if (h.payload_size > limits.max_frame_payload) fail("payload size over the limit accepted");
    data += kFrameHeaderSize;
    size -= kFrameHeaderSize;
    if (h.payload_size > size) return;  // a receiver would wait for more bytes
    const size_t n = static_cast<size_t>(h.payload_size);
    s = verify_payload(h, data, n);
    check_failure(s);
    if (!s.ok()) return;
    switch (h.method) {
      case Method::kRaftMessageBatch: batch(data, n, limits); break;
      case Method::kSnapshotChunk: chunk(data, n, limits); break;
      case Method::kPoke: break;
    }
    data += n;
    size -= n;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = input[0];
  const char* data = reinterpret_cast<const char*>(input + 1);
  --size;
  Limits limits;
  if (mode & 0x80) {
    limits.max_frame_payload = 256;
    limits.max_messages_per_batch = 3;
    limits.max_entries_per_batch = 4;
    limits.max_cmd_size = 8;
    limits.max_membership_size = 64;
    limits.max_string_size = 8;
    limits.max_snapshot_data_size = 8;
    limits.max_chunk_data_size = 16;
    limits.max_file_metadata_size = 4;
  }
  switch ((mode & 0x7f) % 3) {
    case 0: frames(data, size, limits); break;
    case 1: batch(data, size, limits); break;
    case 2: chunk(data, size, limits); break;
  }
  return 0;
}
