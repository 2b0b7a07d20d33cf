#include "logdb/codec.h"

#include "common/bytes.h"

namespace dragonboat::logdb {
namespace {

constexpr uint8_t kValueV1 = 1;

// Keys: big-endian fixed width, so they sort numerically. Values: LEB128
// varints (most entry fields are small or zero) and varint-length-prefixed
// byte strings (common/bytes.h).
using bytes::append_be64;
using bytes::append_u8;
using bytes::append_varint;
using bytes::append_varint_prefixed;
using bytes::get_be64;

// A value reader. LogDB has always accepted a tenth varint byte of 2..127
// (keeping the low 64 bits) where the wire format rejects it: kept, so every
// stored value reads as before.
bytes::Reader value_reader(const char* data, size_t size) {
  return bytes::Reader(data, size, bytes::VarintOverflow::kDropHighBits);
}

Status corrupt(const char* what) { return Status(ErrorCode::kCorrupted, what); }

// A value starts with its format version: a new value holds just that byte,
// and a reader first checks it.
std::string new_value() { return std::string(1, static_cast<char>(kValueV1)); }
bool read_version(bytes::Reader* in, uint8_t want) {
  uint8_t ver = 0;
  return in->u8(&ver) && ver == want;
}

// The fields an entry value and each entry of a batch hold after the term
// (and the index): type, key, client_id, series_id, responded_to, cmd.
void append_entry_fields(std::string* out, const raft::Entry& e) {
  append_u8(out, static_cast<uint8_t>(e.type));
  append_varint(out, e.key);
  append_varint(out, e.client_id);
  append_varint(out, e.series_id);
  append_varint(out, e.responded_to);
  append_varint_prefixed(out, e.cmd);
}
bool read_entry_fields(bytes::Reader* in, raft::Entry* e) {
  std::string_view cmd;
  uint8_t type = 0;
  if (!in->u8(&type) || type > raft::kMaxEntryType || !in->varint(&e->key) || !in->varint(&e->client_id) ||
      !in->varint(&e->series_id) || !in->varint(&e->responded_to) || !in->varint_prefixed(&cmd)) {
    return false;
  }
  e->cmd = cmd;  // one copy, into the entry's own buffer
  e->type = static_cast<raft::EntryType>(type);
  return true;
}

}  // namespace

std::string node_key(KeyKind kind, uint64_t cluster_id, uint64_t node_id) {
  std::string k;
  k.reserve(kIndexKeySize);
  append_u8(&k, static_cast<uint8_t>(kind));
  append_be64(&k, cluster_id);
  append_be64(&k, node_id);
  return k;
}

std::string index_key(KeyKind kind, uint64_t cluster_id, uint64_t node_id, uint64_t index) {
  std::string k = node_key(kind, cluster_id, node_id);
  append_be64(&k, index);
  return k;
}

bool parse_key(const char* data, size_t size, KeyKind* kind, uint64_t* cluster_id,
               uint64_t* node_id, uint64_t* index) {
  if (size != kNodeKeySize && size != kIndexKeySize) return false;
  uint8_t k = static_cast<uint8_t>(data[0]);
  if (k < 1 || k > static_cast<uint8_t>(KeyKind::kRemoved)) return false;
  *kind = static_cast<KeyKind>(k);
  *cluster_id = get_be64(data + 1);
  *node_id = get_be64(data + 9);
  *index = size == kIndexKeySize ? get_be64(data + 17) : 0;
  return true;
}

void encode_entry(const raft::Entry& e, std::string* out) {
  append_u8(out, kValueV1);
  append_varint(out, e.term);
  append_varint(out, e.index);
  append_entry_fields(out, e);
}

Status decode_entry(const char* data, size_t size, raft::Entry* e) {
  bytes::Reader in = value_reader(data, size);
  if (!read_version(&in, kValueV1)) return corrupt("entry: unknown format");
  if (!in.varint(&e->term) || !in.varint(&e->index) || !read_entry_fields(&in, e) || !in.done()) {
    return corrupt("entry: malformed value");
  }
  return Status::OK();
}

constexpr uint8_t kEntryBatchV1 = 2;

void encode_entry_batch(const raft::Entry* first, size_t count, std::string* out) {
  append_u8(out, kEntryBatchV1);
  append_varint(out, count);
  append_varint(out, first->index);
  for (size_t i = 0; i < count; ++i) {
    const raft::Entry& e = first[i];
    append_varint(out, e.term);
    append_entry_fields(out, e);
  }
}

Status decode_entry_batch(const char* data, size_t size, uint64_t key_index, std::vector<raft::Entry>* out) {
  auto bad = [&](const char* what) {
    return Status(ErrorCode::kCorrupted,
                  std::string("entry batch stored under index ") + std::to_string(key_index) + ": " + what);
  };
  bytes::Reader in = value_reader(data, size);
  uint64_t count = 0, index = 0;
  if (!read_version(&in, kEntryBatchV1)) return bad("unknown format");
  // Every entry takes at least 7 bytes: a count beyond that is garbage
  // (checked before reserving memory for it).
  if (!in.varint(&count) || count == 0 || count > size / 7 || !in.varint(&index)) return bad("malformed header");
  if (index + count - 1 != key_index) return bad("its entries do not end at the key's index");
  size_t before = out->size();
  out->reserve(before + count);
  for (uint64_t i = 0; i < count; ++i) {
    raft::Entry e;
    e.index = index + i;
    if (!in.varint(&e.term) || !read_entry_fields(&in, &e)) {
      out->resize(before);
      return bad("malformed entry");
    }
    out->push_back(std::move(e));
  }
  if (!in.done()) {
    out->resize(before);
    return bad("trailing bytes");
  }
  return Status::OK();
}

std::string encode_hard_state(const raft::HardState& st) {
  std::string out = new_value();
  for (uint64_t field : {st.term, st.vote, st.commit}) append_varint(&out, field);
  return out;
}

Status decode_hard_state(const std::string& v, raft::HardState* st) {
  bytes::Reader in = value_reader(v.data(), v.size());
  if (!read_version(&in, kValueV1) || !in.varint(&st->term) || !in.varint(&st->vote) ||
      !in.varint(&st->commit) || !in.done()) {
    return corrupt("hard state: malformed value");
  }
  return Status::OK();
}

std::string encode_snapshot(const raft::Snapshot& ss) {
  std::string out = new_value();
  append_varint(&out, ss.index);
  append_varint(&out, ss.term);
  append_varint_prefixed(&out, raft::encode_membership(ss.membership));
  append_varint_prefixed(&out, ss.filepath);
  append_varint(&out, ss.file_size);
  append_varint_prefixed(&out, ss.data);
  append_u8(&out, ss.witness ? 1 : 0);
  return out;
}

Status decode_snapshot(const std::string& v, raft::Snapshot* ss) {
  bytes::Reader in = value_reader(v.data(), v.size());
  uint8_t witness = 0;
  std::string membership;
  if (!read_version(&in, kValueV1) || !in.varint(&ss->index) || !in.varint(&ss->term) ||
      !in.varint_prefixed(&membership) || !in.varint_prefixed(&ss->filepath) || !in.varint(&ss->file_size) ||
      !in.varint_prefixed(&ss->data) || !in.u8(&witness) || witness > 1 || !in.done() ||
      !raft::decode_membership(membership, &ss->membership)) {
    return corrupt("snapshot record: malformed value");
  }
  ss->witness = witness == 1;
  return Status::OK();
}

std::string encode_bootstrap(const Bootstrap& b) {
  std::string out = new_value();
  append_varint(&out, b.addresses.size());
  for (const auto& [id, addr] : b.addresses) {
    append_varint(&out, id);
    append_varint_prefixed(&out, addr);
  }
  append_u8(&out, b.join ? 1 : 0);
  append_u8(&out, b.state_machine_type);
  return out;
}

Status decode_bootstrap(const std::string& v, Bootstrap* b) {
  bytes::Reader in = value_reader(v.data(), v.size());
  uint8_t join = 0, type = 0;
  uint64_t n = 0;
  if (!read_version(&in, kValueV1) || !in.varint(&n)) return corrupt("bootstrap: malformed");
  b->addresses.clear();
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    std::string addr;
    if (!in.varint(&id) || !in.varint_prefixed(&addr)) return corrupt("bootstrap: malformed member");
    b->addresses[id] = addr;
  }
  if (!in.u8(&join) || join > 1 || !in.u8(&type) || !in.done()) {
    return corrupt("bootstrap: malformed value");
  }
  b->join = join == 1;
  b->state_machine_type = type;
  return Status::OK();
}

}  // namespace dragonboat::logdb
