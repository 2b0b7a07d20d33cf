// transport/wire_decode.cc — the decoding half of the wire codec (wire.h,
// docs/wire.md): frame headers and payload checksums, message batches and
// snapshot chunks. Decoding reads through a bounds-checked cursor (Reader,
// over common/bytes.h's); every count and length is checked against the bytes
// that remain and against Limits before anything is reserved or copied. Error
// messages are built only on the failure path. Encoding is in wire_encode.cc;
// the flag bits both use are in wire_internal.h.
#include "transport/wire.h"

#include <xxhash.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <utility>

#include "common/bytes.h"
#include "transport/wire_internal.h"

namespace dragonboat::transport {
namespace {

using namespace detail;  // raft types, flag bits, has_snapshot() (wire_internal.h)

// Smallest encodings, used to bound counts by the bytes that remain.
constexpr size_t kMinEntrySize = 8;     // 7 one-byte fields + empty cmd length
constexpr size_t kMinMessageSize = 12;  // type, flags, 9 varints, entry count

constexpr uint8_t kMaxMessageType = static_cast<uint8_t>(raft::MessageType::kNoOp);

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

using bytes::get_u16;
using bytes::get_u32;
using bytes::get_u64;

// A bounds-checked cursor (common/bytes.h's Reader) that names each field it
// reads: on failure it records a Status naming the field, and the caller
// prefixes the position (message / entry number).
class Reader {
 public:
  Reader(const char* data, size_t size) : in_(data, size) {}

  size_t remaining() const { return in_.remaining(); }

  __attribute__((always_inline)) bool u8(uint8_t* v, const char* what) {
    return in_.u8(v) || failed(what);
  }
  bool u64(uint64_t* v, const char* what) { return in_.u64(v) || failed(what); }
  __attribute__((always_inline)) bool varint(uint64_t* v, const char* what) {
    return in_.varint(v) || failed(what);
  }
  bool u32_varint(uint32_t* v, const char* what) {
    uint64_t x = 0;
    if (!varint(&x, what)) return false;
    if (x > UINT32_MAX) {
      return fail(ErrorCode::kCorrupted, format("%s %" PRIu64 " does not fit 32 bits", what, x));
    }
    *v = static_cast<uint32_t>(x);
    return true;
  }
  // A length-prefixed byte string of at most `limit` bytes, copied into `s`
  // (a std::string or a raft::Payload).
  template <typename Bytes>
  bool bytes(Bytes* s, uint64_t limit, const char* what) {
    std::string_view v;
    if (!bytes_view(&v, limit, what)) return false;
    s->assign(v.data(), v.size());
    return true;
  }
  bool bytes_view(std::string_view* s, uint64_t limit, const char* what) {
    uint64_t len = 0;
    if (!varint(&len, what)) return false;
    if (len > remaining()) {
      return fail(ErrorCode::kCorrupted, format("%s length %" PRIu64 " exceeds the %zu bytes left",
                                                what, len, remaining()));
    }
    if (len > limit) {
      return fail(ErrorCode::kPayloadTooBig,
                  format("%s size %" PRIu64 " exceeds limit %" PRIu64, what, len, limit));
    }
    return in_.bytes(static_cast<size_t>(len), s) || failed(what);
  }
  // A count of items each at least `min_size` bytes long, at most `limit`.
  bool count(uint64_t* n, size_t min_size, uint64_t limit, const char* what,
             const char* limit_name) {
    if (!varint(n, what)) return false;
    if (*n > remaining() / min_size) {
      return fail(ErrorCode::kCorrupted,
                  format("%s %" PRIu64 " exceeds what the %zu bytes left can hold", what, *n,
                         remaining()));
    }
    if (*n > limit) {
      return fail(ErrorCode::kPayloadTooBig,
                  format("%s %" PRIu64 " exceeds limit %s = %" PRIu64, what, *n, limit_name,
                         limit));
    }
    return true;
  }
  bool done(const char* what) {
    if (remaining() == 0) return true;
    return fail(ErrorCode::kCorrupted,
                format("%zu trailing bytes after the %s", remaining(), what));
  }

  bool fail(ErrorCode code, std::string message) {
    status_ = Status(code, std::move(message));
    return false;
  }
  // The recorded failure, with `context` (e.g. "batch: message 3: ") prefixed.
  Status status(const std::string& context) const {
    return Status(status_.code(), context + status_.message());
  }

 private:
  // Records why the underlying read of `what` failed (cold path).
  __attribute__((noinline)) bool failed(const char* what) {
    if (in_.error() == bytes::ReadError::kOverflow) {
      return fail(ErrorCode::kCorrupted, format("%s: varint overflows 64 bits", what));
    }
    return fail(ErrorCode::kCorrupted, format("truncated in %s", what));
  }

  bytes::Reader in_;
  Status status_;
};

bool read_membership(Reader& r, const Limits& limits, raft::Membership* m) {
  std::string_view data;
  if (!r.bytes_view(&data, limits.max_membership_size, "membership")) return false;
  if (!raft::decode_membership(std::string(data), m)) {
    return r.fail(ErrorCode::kCorrupted, "malformed membership");
  }
  return true;
}

bool read_entry(Reader& r, const Limits& limits, Entry* e) {
  uint8_t type = 0;
  if (!r.varint(&e->term, "entry term") || !r.varint(&e->index, "entry index") ||
      !r.u8(&type, "entry type")) {
    return false;
  }
  if (type > raft::kMaxEntryType) {
    return r.fail(ErrorCode::kCorrupted, format("unknown entry type %u", type));
  }
  e->type = static_cast<raft::EntryType>(type);
  return r.varint(&e->key, "entry key") && r.varint(&e->client_id, "entry client_id") &&
         r.varint(&e->series_id, "entry series_id") &&
         r.varint(&e->responded_to, "entry responded_to") &&
         r.bytes(&e->cmd, limits.max_cmd_size, "entry cmd");
}

bool read_snapshot(Reader& r, const Limits& limits, Snapshot* s) {
  uint8_t flags = 0;
  if (!r.u8(&flags, "snapshot flags")) return false;
  if (flags & ~kSnapWitness) {
    return r.fail(ErrorCode::kCorrupted, format("unknown snapshot flags 0x%02x", flags));
  }
  s->witness = (flags & kSnapWitness) != 0;
  return r.varint(&s->index, "snapshot index") && r.varint(&s->term, "snapshot term") &&
         read_membership(r, limits, &s->membership) &&
         r.bytes(&s->filepath, limits.max_string_size, "snapshot filepath") &&
         r.varint(&s->file_size, "snapshot file_size") &&
         r.bytes(&s->data, limits.max_snapshot_data_size, "snapshot data");
}

// Reads the fixed part of a message: type, flags and the nine varints
// (the caller reads the entry count, entries and snapshot).
bool read_message_head(Reader& r, Message* m, uint8_t* flags) {
  uint8_t type = 0;
  if (!r.u8(&type, "message type")) return false;
  if (type > kMaxMessageType) {
    return r.fail(ErrorCode::kCorrupted, format("unknown message type %u", type));
  }
  m->type = static_cast<raft::MessageType>(type);
  if (!r.u8(flags, "message flags")) return false;
  if (*flags & ~(kMsgReject | kMsgHasSnapshot)) {
    return r.fail(ErrorCode::kCorrupted, format("unknown message flags 0x%02x", *flags));
  }
  m->reject = (*flags & kMsgReject) != 0;
  return r.varint(&m->to, "to") && r.varint(&m->from, "from") &&
         r.varint(&m->cluster_id, "cluster_id") && r.varint(&m->term, "term") &&
         r.varint(&m->log_term, "log_term") && r.varint(&m->log_index, "log_index") &&
         r.varint(&m->commit, "commit") && r.varint(&m->hint, "hint") &&
         r.varint(&m->hint_high, "hint_high");
}

}  // namespace

// ---- frames -----------------------------------------------------------------

Status decode_frame_header(const char* data, size_t size, const Limits& limits,
                           FrameHeader* header) {
  if (size < kFrameHeaderSize) {
    return Status(ErrorCode::kCorrupted,
                  format("truncated frame header: %zu of %zu bytes", size, kFrameHeaderSize));
  }
  const uint8_t m0 = static_cast<uint8_t>(data[0]), m1 = static_cast<uint8_t>(data[1]);
  if (m0 != kFrameMagic0 || m1 != kFrameMagic1) {
    return Status(ErrorCode::kCorrupted, format("bad magic 0x%02X%02X (want 0x%02X%02X)", m0, m1,
                                                kFrameMagic0, kFrameMagic1));
  }
  const uint32_t stored = get_u32(data + 20);
  const uint32_t computed = static_cast<uint32_t>(XXH3_64bits(data, 20));
  if (stored != computed) {
    return Status(ErrorCode::kCorrupted,
                  format("header checksum mismatch (stored 0x%08x, computed 0x%08x)", stored,
                         computed));
  }
  const uint16_t method = get_u16(data + 2);
  if (method != static_cast<uint16_t>(Method::kRaftMessageBatch) &&
      method != static_cast<uint16_t>(Method::kSnapshotChunk) &&
      method != static_cast<uint16_t>(Method::kPoke)) {
    return Status(ErrorCode::kIncompatibleData, format("unknown method %u", method));
  }
  const uint64_t payload_size = get_u64(data + 4);
  if (method == static_cast<uint16_t>(Method::kPoke) && payload_size != 0) {
    return Status(ErrorCode::kCorrupted,
                  format("poke frame with %" PRIu64 " payload bytes", payload_size));
  }
  if (payload_size > limits.max_frame_payload) {
    return Status(ErrorCode::kPayloadTooBig,
                  format("payload size %" PRIu64 " exceeds limit %" PRIu64, payload_size,
                         limits.max_frame_payload));
  }
  header->method = static_cast<Method>(method);
  header->payload_size = payload_size;
  header->payload_checksum = get_u64(data + 12);
  return Status::OK();
}

Status verify_payload(const FrameHeader& header, const char* payload, size_t size) {
  if (size != header.payload_size) {
    return Status(ErrorCode::kCorrupted,
                  format("payload size mismatch: got %zu bytes, header says %" PRIu64, size,
                         header.payload_size));
  }
  const uint64_t computed = XXH3_64bits(payload, size);
  if (computed != header.payload_checksum) {
    return Status(ErrorCode::kCorrupted,
                  format("payload checksum mismatch (stored 0x%016" PRIx64
                         ", computed 0x%016" PRIx64 ")",
                         header.payload_checksum, computed));
  }
  return Status::OK();
}

// ---- message batches --------------------------------------------------------

Status decode_batch(const char* data, size_t size, const Limits& limits, MessageBatch* b) {
  Reader r(data, size);
  uint8_t version = 0;
  if (!r.u8(&version, "format version")) return r.status("batch: ");
  if (version != kBatchFormatVersion) {
    return Status(ErrorCode::kIncompatibleData,
                  format("batch: unknown format version %u (this build reads %u)", version,
                         kBatchFormatVersion));
  }
  uint64_t count = 0;
  if (!r.u64(&b->deployment_id, "deployment_id") ||
      !r.u32_varint(&b->bin_version, "bin_version") ||
      !r.bytes(&b->source_address, limits.max_string_size, "source_address") ||
      !r.count(&count, kMinMessageSize, limits.max_messages_per_batch, "message count",
               "max_messages_per_batch")) {
    return r.status("batch: ");
  }
  // Reuse the Message and Entry objects (and their string capacity) of a
  // batch decoded before: every field is overwritten below.
  b->requests.resize(count);
  uint64_t entries_left = limits.max_entries_per_batch;
  for (uint64_t i = 0; i < count; ++i) {
    Message& m = b->requests[i];
    uint8_t flags = 0;
    uint64_t n = 0;
    bool ok = read_message_head(r, &m, &flags) &&
              r.count(&n, kMinEntrySize, entries_left, "entry count",
                      "max_entries_per_batch (less entries of earlier messages)");
    if (ok) {
      entries_left -= n;
      m.entries.resize(n);
      for (uint64_t j = 0; j < n; ++j) {
        if (!read_entry(r, limits, &m.entries[j])) {
          return r.status(format("batch: message %" PRIu64 ": entry %" PRIu64 ": ", i, j));
        }
      }
      if (flags & kMsgHasSnapshot) {
        ok = read_snapshot(r, limits, &m.snapshot);
      } else if (has_snapshot(m.snapshot)) {
        m.snapshot = Snapshot{};
      }
    }
    if (!ok) return r.status(format("batch: message %" PRIu64 ": ", i));
  }
  if (!r.done("last message")) return r.status("batch: ");
  return Status::OK();
}

// ---- snapshot chunks --------------------------------------------------------

Status decode_chunk(const char* data, size_t size, const Limits& limits, SnapshotChunk* c) {
  Reader r(data, size);
  uint8_t version = 0, flags = 0;
  if (!r.u8(&version, "format version")) return r.status("chunk: ");
  if (version != kChunkFormatVersion) {
    return Status(ErrorCode::kIncompatibleData,
                  format("chunk: unknown format version %u (this build reads %u)", version,
                         kChunkFormatVersion));
  }
  if (!r.u8(&flags, "flags")) return r.status("chunk: ");
  if (flags & ~(kChunkWitness | kChunkHasFileInfo)) {
    return Status(ErrorCode::kCorrupted, format("chunk: unknown flags 0x%02x", flags));
  }
  c->witness = (flags & kChunkWitness) != 0;
  c->has_file_info = (flags & kChunkHasFileInfo) != 0;
  bool ok = r.u64(&c->deployment_id, "deployment_id") &&
            r.u32_varint(&c->bin_version, "bin_version") &&
            r.varint(&c->cluster_id, "cluster_id") && r.varint(&c->node_id, "node_id") &&
            r.varint(&c->from, "from") && r.varint(&c->chunk_id, "chunk_id") &&
            r.varint(&c->chunk_count, "chunk_count") && r.varint(&c->file_size, "file_size") &&
            r.varint(&c->index, "index") && r.varint(&c->term, "term") &&
            r.varint(&c->message_term, "message_term") &&
            r.varint(&c->on_disk_index, "on_disk_index") &&
            r.varint(&c->file_chunk_id, "file_chunk_id") &&
            r.varint(&c->file_chunk_count, "file_chunk_count") &&
            r.bytes(&c->file_path, limits.max_string_size, "file_path") &&
            read_membership(r, limits, &c->membership);
  if (ok && c->has_file_info) {
    ok = r.bytes(&c->file_info.file_path, limits.max_string_size, "file_info file_path") &&
         r.varint(&c->file_info.file_size, "file_info file_size") &&
         r.varint(&c->file_info.file_id, "file_info file_id") &&
         r.bytes(&c->file_info.metadata, limits.max_file_metadata_size, "file_info metadata");
  } else if (ok) {
    c->file_info = SnapshotFileInfo{};
  }
  uint64_t stored = 0;
  ok = ok && r.u64(&stored, "data checksum") &&
       r.bytes(&c->data, limits.max_chunk_data_size, "data") && r.done("data");
  if (!ok) return r.status("chunk: ");
  const uint64_t computed = XXH3_64bits(c->data.data(), c->data.size());
  if (computed != stored) {
    return Status(ErrorCode::kCorrupted,
                  format("chunk: data checksum mismatch (stored 0x%016" PRIx64
                         ", computed 0x%016" PRIx64 ")",
                         stored, computed));
  }
  c->chunk_size = c->data.size();
  c->data_checksum = computed;
  return Status::OK();
}

}  // namespace dragonboat::transport
