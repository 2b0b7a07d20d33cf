#include "logdb/codec.h"

namespace dragonboat::logdb {
namespace {

constexpr uint8_t kValueV1 = 1;

void put_be64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t get_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// LEB128 varints: most entry fields are small or zero.
void put_varint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

class In {
 public:
  In(const char* d, size_t n) : p_(d), end_(d + n) {}
  bool varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      uint8_t b = static_cast<uint8_t>(*p_++);
      r |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool byte(uint8_t* b) {
    if (p_ >= end_) return false;
    *b = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool bytes(std::string* s) {
    uint64_t n = 0;
    if (!varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    s->assign(p_, n);
    p_ += n;
    return true;
  }
  bool done() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

void put_bytes(std::string* out, const std::string& s) {
  put_varint(out, s.size());
  out->append(s);
}

Status corrupt(const char* what) { return Status(ErrorCode::kCorrupted, what); }

}  // namespace

std::string node_key(KeyKind kind, uint64_t cluster_id, uint64_t node_id) {
  std::string k;
  k.reserve(kIndexKeySize);
  k.push_back(static_cast<char>(kind));
  put_be64(&k, cluster_id);
  put_be64(&k, node_id);
  return k;
}

std::string index_key(KeyKind kind, uint64_t cluster_id, uint64_t node_id, uint64_t index) {
  std::string k = node_key(kind, cluster_id, node_id);
  put_be64(&k, index);
  return k;
}

bool parse_key(const char* data, size_t size, KeyKind* kind, uint64_t* cluster_id,
               uint64_t* node_id, uint64_t* index) {
  if (size != kNodeKeySize && size != kIndexKeySize) return false;
  uint8_t k = static_cast<uint8_t>(data[0]);
  if (k < 1 || k > 4) return false;
  *kind = static_cast<KeyKind>(k);
  *cluster_id = get_be64(data + 1);
  *node_id = get_be64(data + 9);
  *index = size == kIndexKeySize ? get_be64(data + 17) : 0;
  return true;
}

void encode_entry(const raft::Entry& e, std::string* out) {
  out->push_back(static_cast<char>(kValueV1));
  put_varint(out, e.term);
  put_varint(out, e.index);
  out->push_back(static_cast<char>(e.type));
  put_varint(out, e.key);
  put_varint(out, e.client_id);
  put_varint(out, e.series_id);
  put_varint(out, e.responded_to);
  put_bytes(out, e.cmd);
}

Status decode_entry(const char* data, size_t size, raft::Entry* e) {
  In in(data, size);
  uint8_t ver = 0, type = 0;
  if (!in.byte(&ver) || ver != kValueV1) return corrupt("entry: unknown format");
  if (!in.varint(&e->term) || !in.varint(&e->index) || !in.byte(&type) || type > 2 ||
      !in.varint(&e->key) || !in.varint(&e->client_id) || !in.varint(&e->series_id) ||
      !in.varint(&e->responded_to) || !in.bytes(&e->cmd) || !in.done()) {
    return corrupt("entry: malformed value");
  }
  e->type = static_cast<raft::EntryType>(type);
  return Status::OK();
}

constexpr uint8_t kEntryBatchV1 = 2;

void encode_entry_batch(const raft::Entry* first, size_t count, std::string* out) {
  out->push_back(static_cast<char>(kEntryBatchV1));
  put_varint(out, count);
  put_varint(out, first->index);
  for (size_t i = 0; i < count; ++i) {
    const raft::Entry& e = first[i];
    put_varint(out, e.term);
    out->push_back(static_cast<char>(e.type));
    put_varint(out, e.key);
    put_varint(out, e.client_id);
    put_varint(out, e.series_id);
    put_varint(out, e.responded_to);
    put_bytes(out, e.cmd);
  }
}

Status decode_entry_batch(const char* data, size_t size, uint64_t key_index, std::vector<raft::Entry>* out) {
  auto bad = [&](const char* what) {
    return Status(ErrorCode::kCorrupted,
                  std::string("entry batch stored under index ") + std::to_string(key_index) + ": " + what);
  };
  In in(data, size);
  uint8_t ver = 0;
  uint64_t count = 0, index = 0;
  if (!in.byte(&ver) || ver != kEntryBatchV1) return bad("unknown format");
  // Every entry takes at least 7 bytes: a count beyond that is garbage
  // (checked before reserving memory for it).
  if (!in.varint(&count) || count == 0 || count > size / 7 || !in.varint(&index)) return bad("malformed header");
  if (index + count - 1 != key_index) return bad("its entries do not end at the key's index");
  size_t before = out->size();
  out->reserve(before + count);
  for (uint64_t i = 0; i < count; ++i) {
    raft::Entry e;
    uint8_t type = 0;
    e.index = index + i;
    if (!in.varint(&e.term) || !in.byte(&type) || type > 2 || !in.varint(&e.key) || !in.varint(&e.client_id) ||
        !in.varint(&e.series_id) || !in.varint(&e.responded_to) || !in.bytes(&e.cmd)) {
      out->resize(before);
      return bad("malformed entry");
    }
    e.type = static_cast<raft::EntryType>(type);
    out->push_back(std::move(e));
  }
  if (!in.done()) {
    out->resize(before);
    return bad("trailing bytes");
  }
  return Status::OK();
}

std::string encode_hard_state(const raft::HardState& st) {
  std::string out;
  out.push_back(static_cast<char>(kValueV1));
  put_varint(&out, st.term);
  put_varint(&out, st.vote);
  put_varint(&out, st.commit);
  return out;
}

Status decode_hard_state(const std::string& v, raft::HardState* st) {
  In in(v.data(), v.size());
  uint8_t ver = 0;
  if (!in.byte(&ver) || ver != kValueV1 || !in.varint(&st->term) || !in.varint(&st->vote) ||
      !in.varint(&st->commit) || !in.done()) {
    return corrupt("hard state: malformed value");
  }
  return Status::OK();
}

std::string encode_snapshot(const raft::Snapshot& ss) {
  std::string out;
  out.push_back(static_cast<char>(kValueV1));
  put_varint(&out, ss.index);
  put_varint(&out, ss.term);
  put_bytes(&out, raft::encode_membership(ss.membership));
  put_bytes(&out, ss.filepath);
  put_varint(&out, ss.file_size);
  put_bytes(&out, ss.data);
  out.push_back(ss.witness ? 1 : 0);
  return out;
}

Status decode_snapshot(const std::string& v, raft::Snapshot* ss) {
  In in(v.data(), v.size());
  uint8_t ver = 0, witness = 0;
  std::string membership;
  if (!in.byte(&ver) || ver != kValueV1 || !in.varint(&ss->index) || !in.varint(&ss->term) ||
      !in.bytes(&membership) || !in.bytes(&ss->filepath) || !in.varint(&ss->file_size) ||
      !in.bytes(&ss->data) || !in.byte(&witness) || witness > 1 || !in.done() ||
      !raft::decode_membership(membership, &ss->membership)) {
    return corrupt("snapshot record: malformed value");
  }
  ss->witness = witness == 1;
  return Status::OK();
}

std::string encode_bootstrap(const Bootstrap& b) {
  std::string out;
  out.push_back(static_cast<char>(kValueV1));
  put_varint(&out, b.addresses.size());
  for (const auto& [id, addr] : b.addresses) {
    put_varint(&out, id);
    put_bytes(&out, addr);
  }
  out.push_back(b.join ? 1 : 0);
  out.push_back(static_cast<char>(b.state_machine_type));
  return out;
}

Status decode_bootstrap(const std::string& v, Bootstrap* b) {
  In in(v.data(), v.size());
  uint8_t ver = 0, join = 0, type = 0;
  uint64_t n = 0;
  if (!in.byte(&ver) || ver != kValueV1 || !in.varint(&n)) return corrupt("bootstrap: malformed");
  b->addresses.clear();
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    std::string addr;
    if (!in.varint(&id) || !in.bytes(&addr)) return corrupt("bootstrap: malformed member");
    b->addresses[id] = addr;
  }
  if (!in.byte(&join) || join > 1 || !in.byte(&type) || !in.done()) {
    return corrupt("bootstrap: malformed value");
  }
  b->join = join == 1;
  b->state_machine_type = type;
  return Status::OK();
}

}  // namespace dragonboat::logdb
