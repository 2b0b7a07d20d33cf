// transport/wire.cc — see wire.h and docs/wire.md.
//
// Encoding resizes the caller's buffer once to an upper bound of the encoded
// size (every varint counted as 10 bytes; cheaper than the exact size), writes
// through a raw pointer (no per-field capacity checks, no per-field
// allocation), then shrinks the buffer to what was written; the capacity
// stays for the next batch. Decoding reads through a bounds-checked
// cursor; every count and length is checked against the bytes that remain
// and against Limits before anything is reserved or copied. Error messages are
// built only on the failure path.
#include "transport/wire.h"

#include <xxhash.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "dragonboat/panic.h"

namespace dragonboat::transport {
namespace {

using raft::Entry;
using raft::Message;
using raft::Snapshot;

// Smallest encodings, used to bound counts by the bytes that remain.
constexpr size_t kMinEntrySize = 8;     // 7 one-byte fields + empty cmd length
constexpr size_t kMinMessageSize = 12;  // type, flags, 9 varints, entry count

constexpr uint8_t kMsgReject = 0x01;
constexpr uint8_t kMsgHasSnapshot = 0x02;
constexpr uint8_t kSnapWitness = 0x01;
constexpr uint8_t kChunkWitness = 0x01;
constexpr uint8_t kChunkHasFileInfo = 0x02;

constexpr uint8_t kMaxMessageType = static_cast<uint8_t>(raft::MessageType::kNoOp);
constexpr uint8_t kMaxEntryType = static_cast<uint8_t>(raft::EntryType::kMetadata);

// The wire carries the raft enums' numeric values (docs/wire.md lists them).
// Reordering an enum would silently change the format: these pin each value.
template <typename E>
constexpr int num(E e) {
  return static_cast<int>(e);
}
using MT = raft::MessageType;
static_assert(num(MT::kElection) == 0 && num(MT::kLeaderHeartbeat) == 1 &&
                  num(MT::kCheckQuorum) == 2 && num(MT::kPropose) == 3 &&
                  num(MT::kSnapshotStatus) == 4 && num(MT::kUnreachable) == 5 &&
                  num(MT::kLeaderTransfer) == 6 && num(MT::kReplicate) == 7 &&
                  num(MT::kReplicateResp) == 8 && num(MT::kRequestVote) == 9 &&
                  num(MT::kRequestVoteResp) == 10 && num(MT::kRequestPreVote) == 11 &&
                  num(MT::kRequestPreVoteResp) == 12 && num(MT::kHeartbeat) == 13 &&
                  num(MT::kHeartbeatResp) == 14 && num(MT::kInstallSnapshot) == 15 &&
                  num(MT::kReadIndex) == 16 && num(MT::kReadIndexResp) == 17 &&
                  num(MT::kTimeoutNow) == 18 && num(MT::kRateLimit) == 19 &&
                  num(MT::kQuiesce) == 20 && num(MT::kNoOp) == 21,
              "raft::MessageType values changed: bump kBatchFormatVersion and map them");
static_assert(num(raft::EntryType::kApplication) == 0 && num(raft::EntryType::kConfigChange) == 1 &&
                  num(raft::EntryType::kMetadata) == 2,
              "raft::EntryType values changed: bump kBatchFormatVersion and map them");

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

// ---- encoding ---------------------------------------------------------------

inline size_t varint_size(uint64_t v) {
  int bits = 64 - __builtin_clzll(v | 1);
  return static_cast<size_t>((bits + 6) / 7);
}
inline size_t bytes_size(size_t n) { return varint_size(n) + n; }

inline void put_u16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v);
  p[1] = static_cast<char>(v >> 8);
}
inline void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void put_u64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline uint16_t get_u16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | (static_cast<uint8_t>(p[1]) << 8));
}
inline uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Writes through a raw pointer into space the size pass reserved.
class Writer {
 public:
  explicit Writer(char* p) : p_(p) {}
  void u8(uint8_t v) { *p_++ = static_cast<char>(v); }
  void u64(uint64_t v) {
    put_u64(p_, v);
    p_ += 8;
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void bytes(const char* d, size_t n) {
    varint(n);
    if (n != 0) std::memcpy(p_, d, n);
    p_ += n;
  }
  void bytes(const std::string& s) { bytes(s.data(), s.size()); }
  char* pos() const { return p_; }

 private:
  char* p_;
};

bool membership_empty(const raft::Membership& m) {
  return m.config_change_id == 0 && m.addresses.empty() && m.observers.empty() &&
         m.witnesses.empty() && m.removed.empty();
}

// A message carries a snapshot section when any snapshot field differs from
// its default, so every Snapshot value round-trips exactly.
bool has_snapshot(const Snapshot& s) {
  return s.index != 0 || s.term != 0 || s.file_size != 0 || s.witness || !s.filepath.empty() ||
         !s.data.empty() || !membership_empty(s.membership);
}

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

// ---- decoding ---------------------------------------------------------------

// A bounds-checked cursor. Each read names its field; on failure the reader
// records a Status naming the field, and the caller prefixes the position
// (message / entry number).
class Reader {
 public:
  Reader(const char* data, size_t size) : p_(data), end_(data + size) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  __attribute__((always_inline)) bool u8(uint8_t* v, const char* what) {
    if (p_ == end_) return truncated(what);
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool u64(uint64_t* v, const char* what) {
    if (remaining() < 8) return truncated(what);
    *v = get_u64(p_);
    p_ += 8;
    return true;
  }
  __attribute__((always_inline)) bool varint(uint64_t* v, const char* what) {
    if (__builtin_expect(remaining() >= 10, 1)) {
      // The longest varint fits: no per-byte bounds check.
      uint64_t r = 0;
      for (int i = 0; i < 10; ++i) {
        const uint8_t b = static_cast<uint8_t>(p_[i]);
        r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
          if (i == 9 && b > 1) break;
          p_ += i + 1;
          *v = r;
          return true;
        }
      }
      return overflow(what);
    }
    return varint_slow(v, what);
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
  // A length-prefixed byte string of at most `limit` bytes.
  bool bytes(std::string* s, uint64_t limit, const char* what) {
    const char* data = nullptr;
    size_t n = 0;
    if (!bytes_view(&data, &n, limit, what)) return false;
    s->assign(data, n);
    return true;
  }
  bool bytes_view(const char** data, size_t* n, uint64_t limit, const char* what) {
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
    *data = p_;
    *n = static_cast<size_t>(len);
    p_ += len;
    return true;
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
    if (p_ == end_) return true;
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
  bool truncated(const char* what) {
    return fail(ErrorCode::kCorrupted, format("truncated in %s", what));
  }
  bool overflow(const char* what) {
    return fail(ErrorCode::kCorrupted, format("%s: varint overflows 64 bits", what));
  }
  // Near the end of the input: check every byte.
  bool varint_slow(uint64_t* v, const char* what) {
    uint64_t r = 0;
    for (int i = 0; i < 10; ++i) {
      if (p_ == end_) return truncated(what);
      const uint8_t b = static_cast<uint8_t>(*p_++);
      if (i == 9 && b > 1) return overflow(what);
      r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;  // unreachable: the tenth byte either ends or fails above
  }

  const char* p_;
  const char* end_;
  Status status_;
};

bool read_membership(Reader& r, const Limits& limits, raft::Membership* m) {
  const char* data = nullptr;
  size_t n = 0;
  if (!r.bytes_view(&data, &n, limits.max_membership_size, "membership")) return false;
  if (!raft::decode_membership(std::string(data, n), m)) {
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
  if (type > kMaxEntryType) {
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
