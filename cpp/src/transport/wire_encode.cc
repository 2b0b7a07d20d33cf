// transport/wire_encode.cc — the encoding half of the wire codec (wire.h,
// docs/wire.md): frame headers, message batches and snapshot chunks, plain or
// as complete frames, plus method_name(). Encoding resizes the caller's buffer
// once to an upper bound of the encoded size (every varint counted as 10
// bytes; cheaper than the exact size), writes through a raw pointer (no
// per-field capacity checks, no per-field allocation), then shrinks the buffer
// to what was written; the capacity stays for the next batch. Decoding is in
// wire_decode.cc; the flag bits both use are in wire_internal.h.
#include "transport/wire.h"

#include <xxhash.h>

#include <cstring>

#include "common/bytes.h"
#include "dragonboat/panic.h"
#include "transport/wire_internal.h"

namespace dragonboat::transport {
namespace {

using namespace detail;  // raft types, flag bits, has_snapshot() (wire_internal.h)

using bytes::put_u16;
using bytes::put_u32;
using bytes::put_u64;
using bytes::varint_size;

inline size_t bytes_size(size_t n) { return varint_size(n) + n; }

// Writes through a raw pointer into space the size pass reserved; the
// encodings are common/bytes.h's.
class Writer {
 public:
  explicit Writer(char* p) : p_(p) {}
  void u8(uint8_t v) { *p_++ = static_cast<char>(v); }
  void u64(uint64_t v) {
    put_u64(p_, v);
    p_ += 8;
  }
  void varint(uint64_t v) { p_ = bytes::put_varint(p_, v); }
  void bytes(const char* d, size_t n) {
    varint(n);
    if (n != 0) std::memcpy(p_, d, n);
    p_ += n;
  }
  void bytes(const std::string& s) { bytes(s.data(), s.size()); }
  void bytes(const raft::Payload& s) { bytes(s.data(), s.size()); }
  char* pos() const { return p_; }

 private:
  char* p_;
};

size_t entry_size(const Entry& e) {
  return varint_size(e.term) + varint_size(e.index) + 1 + varint_size(e.key) +
         varint_size(e.client_id) + varint_size(e.series_id) + varint_size(e.responded_to) +
         bytes_size(e.cmd.size());
}

void write_entry(Writer& w, const Entry& e) {
  w.varint(e.term);
  w.varint(e.index);
  w.u8(static_cast<uint8_t>(e.type));
  w.varint(e.key);
  w.varint(e.client_id);
  w.varint(e.series_id);
  w.varint(e.responded_to);
  w.bytes(e.cmd);
}

size_t snapshot_size(const Snapshot& s) {
  return 1 + varint_size(s.index) + varint_size(s.term) +
         bytes_size(raft::encode_membership(s.membership).size()) + bytes_size(s.filepath.size()) +
         varint_size(s.file_size) + bytes_size(s.data.size());
}

void write_snapshot(Writer& w, const Snapshot& s) {
  w.u8(s.witness ? kSnapWitness : 0);
  w.varint(s.index);
  w.varint(s.term);
  w.bytes(raft::encode_membership(s.membership));
  w.bytes(s.filepath);
  w.varint(s.file_size);
  w.bytes(s.data);
}

size_t message_size(const Message& m) {
  size_t n = 2 + varint_size(m.to) + varint_size(m.from) + varint_size(m.cluster_id) +
             varint_size(m.term) + varint_size(m.log_term) + varint_size(m.log_index) +
             varint_size(m.commit) + varint_size(m.hint) + varint_size(m.hint_high) +
             varint_size(m.entries.size());
  for (const Entry& e : m.entries) n += entry_size(e);
  if (has_snapshot(m.snapshot)) n += snapshot_size(m.snapshot);
  return n;
}

void write_message(Writer& w, const Message& m) {
  const bool snap = has_snapshot(m.snapshot);
  w.u8(static_cast<uint8_t>(m.type));
  w.u8(static_cast<uint8_t>((m.reject ? kMsgReject : 0) | (snap ? kMsgHasSnapshot : 0)));
  w.varint(m.to);
  w.varint(m.from);
  w.varint(m.cluster_id);
  w.varint(m.term);
  w.varint(m.log_term);
  w.varint(m.log_index);
  w.varint(m.commit);
  w.varint(m.hint);
  w.varint(m.hint_high);
  w.varint(m.entries.size());
  for (const Entry& e : m.entries) write_entry(w, e);
  if (snap) write_snapshot(w, m.snapshot);
}

// At least the encoded size: every varint counted as 10 bytes. Cheaper than
// the exact size (it only sums lengths).
size_t batch_size_bound(const MessageBatch& b) {
  size_t n = 1 + 8 + 10 + 10 + b.source_address.size() + 10;
  for (const Message& m : b.requests) {
    n += 2 + 10 * 10;
    for (const Entry& e : m.entries) n += 7 * 10 + 1 + e.cmd.size();
    if (has_snapshot(m.snapshot)) n += snapshot_size(m.snapshot);
  }
  return n;
}

// Writes the batch at dst; returns the end of what it wrote.
char* write_batch(const MessageBatch& b, char* dst) {
  Writer w(dst);
  w.u8(kBatchFormatVersion);
  w.u64(b.deployment_id);
  w.varint(b.bin_version);
  w.bytes(b.source_address);
  w.varint(b.requests.size());
  for (const Message& m : b.requests) write_message(w, m);
  return w.pos();
}

void write_chunk(const SnapshotChunk& c, char* dst, size_t size) {
  Writer w(dst);
  w.u8(kChunkFormatVersion);
  w.u8(static_cast<uint8_t>((c.witness ? kChunkWitness : 0) |
                            (c.has_file_info ? kChunkHasFileInfo : 0)));
  w.u64(c.deployment_id);
  w.varint(c.bin_version);
  w.varint(c.cluster_id);
  w.varint(c.node_id);
  w.varint(c.from);
  w.varint(c.chunk_id);
  w.varint(c.chunk_count);
  w.varint(c.file_size);
  w.varint(c.index);
  w.varint(c.term);
  w.varint(c.message_term);
  w.varint(c.on_disk_index);
  w.varint(c.file_chunk_id);
  w.varint(c.file_chunk_count);
  w.bytes(c.file_path);
  w.bytes(raft::encode_membership(c.membership));
  if (c.has_file_info) {
    w.bytes(c.file_info.file_path);
    w.varint(c.file_info.file_size);
    w.varint(c.file_info.file_id);
    w.bytes(c.file_info.metadata);
  }
  w.u64(XXH3_64bits(c.data.data(), c.data.size()));
  w.bytes(c.data);
  if (w.pos() != dst + size) panic("wire: chunk size pass and write pass disagree");
}

}  // namespace

const char* method_name(Method m) {
  switch (m) {
    case Method::kRaftMessageBatch: return "raft_message_batch";
    case Method::kSnapshotChunk: return "snapshot_chunk";
    case Method::kPoke: return "poke";
  }
  return "unknown";
}

// ---- frames -----------------------------------------------------------------

void write_frame_header(Method method, std::string_view payload, char* dst) {
  dst[0] = static_cast<char>(kFrameMagic0);
  dst[1] = static_cast<char>(kFrameMagic1);
  put_u16(dst + 2, static_cast<uint16_t>(method));
  put_u64(dst + 4, payload.size());
  put_u64(dst + 12, XXH3_64bits(payload.data(), payload.size()));
  put_u32(dst + 20, static_cast<uint32_t>(XXH3_64bits(dst, 20)));
}

void encode_frame_header(Method method, std::string_view payload, std::string* out) {
  char header[kFrameHeaderSize];
  write_frame_header(method, payload, header);
  out->append(header, kFrameHeaderSize);
}

// ---- message batches --------------------------------------------------------

size_t encoded_batch_size(const MessageBatch& b) {
  size_t n = 1 + 8 + varint_size(b.bin_version) + bytes_size(b.source_address.size()) +
             varint_size(b.requests.size());
  for (const Message& m : b.requests) n += message_size(m);
  return n;
}

void encode_batch(const MessageBatch& b, std::string* out) {
  const size_t start = out->size();
  const size_t bound = batch_size_bound(b);
  out->resize(start + bound);
  char* end = write_batch(b, &(*out)[start]);
  const size_t n = static_cast<size_t>(end - out->data()) - start;
  if (n > bound) panic("wire: batch encoding overran its size bound");
  out->resize(start + n);
}

void encode_batch_frame(const MessageBatch& b, std::string* out) {
  const size_t start = out->size();
  const size_t bound = batch_size_bound(b);
  out->resize(start + kFrameHeaderSize + bound);
  char* header = &(*out)[start];
  char* end = write_batch(b, header + kFrameHeaderSize);
  const size_t n = static_cast<size_t>(end - header) - kFrameHeaderSize;
  if (n > bound) panic("wire: batch encoding overran its size bound");
  write_frame_header(Method::kRaftMessageBatch, std::string_view(header + kFrameHeaderSize, n),
                     header);
  out->resize(start + kFrameHeaderSize + n);
}

// ---- snapshot chunks --------------------------------------------------------

size_t encoded_chunk_size(const SnapshotChunk& c) {
  size_t n = 2 + 8 + varint_size(c.bin_version) + varint_size(c.cluster_id) +
             varint_size(c.node_id) + varint_size(c.from) + varint_size(c.chunk_id) +
             varint_size(c.chunk_count) + varint_size(c.file_size) + varint_size(c.index) +
             varint_size(c.term) + varint_size(c.message_term) + varint_size(c.on_disk_index) + varint_size(c.file_chunk_id) +
             varint_size(c.file_chunk_count) + bytes_size(c.file_path.size()) +
             bytes_size(raft::encode_membership(c.membership).size()) + 8 +
             bytes_size(c.data.size());
  if (c.has_file_info) {
    n += bytes_size(c.file_info.file_path.size()) + varint_size(c.file_info.file_size) +
         varint_size(c.file_info.file_id) + bytes_size(c.file_info.metadata.size());
  }
  return n;
}

void encode_chunk(const SnapshotChunk& c, std::string* out) {
  const size_t start = out->size();
  const size_t n = encoded_chunk_size(c);
  out->resize(start + n);
  write_chunk(c, &(*out)[start], n);
}

void encode_chunk_frame(const SnapshotChunk& c, std::string* out) {
  const size_t start = out->size();
  const size_t n = encoded_chunk_size(c);
  out->resize(start + kFrameHeaderSize + n);
  char* header = &(*out)[start];
  write_chunk(c, header + kFrameHeaderSize, n);
  write_frame_header(Method::kSnapshotChunk, std::string_view(header + kFrameHeaderSize, n),
                     header);
}

}  // namespace dragonboat::transport
