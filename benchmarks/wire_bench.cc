// wire_bench: encode/decode throughput of the transport wire codec
// (transport/wire.h) for message batches of 16 B and 1 KiB entries and for
// heartbeat-only batches, plus the measurement behind the format choice:
// the varint layout against a fixed-width little-endian layout of the same
// messages (encoded bytes per entry, ns per entry).
//
//   wire_bench [--seconds S] [--repeats R] [--sizes 16,1024] [--messages M] [--entries E]
//
// encode  = encode_batch_frame() into a reused buffer (frame header and
//           payload checksum included);
// decode  = decode_frame_header() + verify_payload() + decode_batch() into a
//           reused MessageBatch (no allocation in steady state);
// dec-new = the same into a fresh MessageBatch that is then destroyed.
// MB/s counts frame bytes.
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "transport/wire.h"

using namespace dragonboat;
using namespace dragonboat::transport;
using raft::Entry;
using raft::Message;
using raft::MessageType;

namespace {

// Replicate messages for `messages` groups, `entries` entries each, with
// field values shaped like a running system: small terms, indexes around a
// million, 64-bit random client IDs (the reference's no-op sessions) and
// proposal keys from a large counter.
MessageBatch make_batch(size_t messages, size_t entries, size_t payload) {
  std::mt19937_64 rng(1);
  MessageBatch b;
  b.deployment_id = rng();
  b.source_address = "10.0.0.1:63001";
  b.bin_version = 210;
  uint64_t key = uint64_t{1} << 40;
  for (size_t i = 0; i < messages; ++i) {
    Message m;
    m.type = entries == 0 ? MessageType::kHeartbeat : MessageType::kReplicate;
    m.cluster_id = 100 + i;
    m.from = 1;
    m.to = 2;
    m.term = 7;
    m.log_term = 7;
    m.log_index = 1000000 + i * 1000;
    m.commit = m.log_index - 3;
    for (size_t j = 0; j < entries; ++j) {
      Entry e;
      e.term = 7;
      e.index = m.log_index + 1 + j;
      e.key = ++key;
      e.client_id = rng();
      e.cmd = std::string(payload, static_cast<char>('a' + j % 26));
      m.entries.push_back(std::move(e));
    }
    b.requests.push_back(std::move(m));
  }
  return b;
}

size_t count_entries(const MessageBatch& b) {
  size_t n = 0;
  for (const auto& m : b.requests) n += m.entries.size();
  return n;
}

// Runs `op` repeatedly for about `seconds`; returns operations per second.
double rate(double seconds, const std::function<void()>& op) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(seconds);
  uint64_t ops = 0;
  while (clock::now() < deadline) {
    for (int i = 0; i < 16; ++i) op();
    ops += 16;
  }
  return ops / std::chrono::duration<double>(clock::now() - t0).count();
}

struct Stats {
  double min, med, max;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2], v.back()};
}

// ---- the fixed-width alternative (measurement only) -------------------------
// Same fields, every integer u64 little-endian, lengths and counts u32, no
// varints: an entry is 53 bytes + cmd, a message head 78 bytes.

void put64(char*& p, uint64_t v) {
  for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(v >> (8 * i));
}
void put32(char*& p, uint32_t v) {
  for (int i = 0; i < 4; ++i) *p++ = static_cast<char>(v >> (8 * i));
}
uint64_t get64(const char*& p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  p += 8;
  return v;
}
uint32_t get32(const char*& p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  p += 4;
  return v;
}

void fixed_encode(const MessageBatch& b, std::string* out) {
  size_t n = 1 + 8 + 4 + 4 + b.source_address.size() + 4;
  for (const auto& m : b.requests) {
    n += 2 + 9 * 8 + 4;
    for (const auto& e : m.entries) n += 6 * 8 + 1 + 4 + e.cmd.size();
  }
  const size_t start = out->size();
  out->resize(start + n);
  char* p = &(*out)[start];
  *p++ = 1;
  put64(p, b.deployment_id);
  put32(p, b.bin_version);
  put32(p, static_cast<uint32_t>(b.source_address.size()));
  std::memcpy(p, b.source_address.data(), b.source_address.size());
  p += b.source_address.size();
  put32(p, static_cast<uint32_t>(b.requests.size()));
  for (const auto& m : b.requests) {
    *p++ = static_cast<char>(m.type);
    *p++ = m.reject ? 1 : 0;
    for (uint64_t v : {m.to, m.from, m.cluster_id, m.term, m.log_term, m.log_index, m.commit,
                       m.hint, m.hint_high}) {
      put64(p, v);
    }
    put32(p, static_cast<uint32_t>(m.entries.size()));
    for (const auto& e : m.entries) {
      put64(p, e.term);
      put64(p, e.index);
      *p++ = static_cast<char>(e.type);
      put64(p, e.key);
      put64(p, e.client_id);
      put64(p, e.series_id);
      put64(p, e.responded_to);
      put32(p, static_cast<uint32_t>(e.cmd.size()));
      std::memcpy(p, e.cmd.data(), e.cmd.size());
      p += e.cmd.size();
    }
  }
}

// Bounds checks of the same kind as the real decoder (per field group).
bool fixed_decode(const char* p, size_t size, MessageBatch* b) {
  const char* end = p + size;
  auto left = [&] { return static_cast<size_t>(end - p); };
  if (left() < 17 || *p++ != 1) return false;
  b->deployment_id = get64(p);
  b->bin_version = get32(p);
  uint32_t n = get32(p);
  if (n > left()) return false;
  b->source_address.assign(p, n);
  p += n;
  if (left() < 4) return false;
  uint32_t count = get32(p);
  if (count > left() / 78) return false;
  b->requests.resize(count);  // reuse objects, as decode_batch does
  for (uint32_t i = 0; i < count; ++i) {
    Message& m = b->requests[i];
    if (left() < 78) return false;
    m.type = static_cast<MessageType>(*p++);
    m.reject = *p++ != 0;
    for (uint64_t* v : {&m.to, &m.from, &m.cluster_id, &m.term, &m.log_term, &m.log_index,
                        &m.commit, &m.hint, &m.hint_high}) {
      *v = get64(p);
    }
    uint32_t ne = get32(p);
    if (ne > left() / 53) return false;
    m.entries.resize(ne);
    for (auto& e : m.entries) {
      if (left() < 53) return false;
      e.term = get64(p);
      e.index = get64(p);
      e.type = static_cast<raft::EntryType>(*p++);
      e.key = get64(p);
      e.client_id = get64(p);
      e.series_id = get64(p);
      e.responded_to = get64(p);
      uint32_t len = get32(p);
      if (len > left()) return false;
      e.cmd.assign(p, len);
      p += len;
    }
  }
  return p == end;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1;
  int repeats = 3;
  std::vector<size_t> sizes{16, 1024};
  size_t messages = 64, entries = 16;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--messages") && i + 1 < argc) {
      messages = std::strtoul(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--entries") && i + 1 < argc) {
      entries = std::strtoul(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--sizes") && i + 1 < argc) {
      sizes.clear();
      for (char* s = std::strtok(argv[++i], ","); s; s = std::strtok(nullptr, ","))
        sizes.push_back(std::strtoul(s, nullptr, 10));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--seconds S] [--repeats R] [--sizes 16,1024] [--messages M] "
                   "[--entries E]\n",
                   argv[0]);
      return 2;
    }
  }

  std::printf("wire codec: %.1f s x %d runs per figure (min / median / max)\n", seconds, repeats);
  std::printf("%-34s %-7s %10s %12s %12s %12s %9s\n", "batch", "op", "batches/s", "messages/s",
              "entries/s", "MB/s(med)", "range");

  struct Shape {
    std::string name;
    MessageBatch batch;
  };
  std::vector<Shape> shapes;
  for (size_t sz : sizes) {
    char name[96];
    std::snprintf(name, sizeof(name), "%zu msgs x %zu entries of %zu B", messages, entries, sz);
    shapes.push_back({name, make_batch(messages, entries, sz)});
  }
  shapes.push_back({"256 heartbeats", make_batch(256, 0, 0)});

  const Limits limits;
  for (const Shape& s : shapes) {
    std::string buf;
    encode_batch_frame(s.batch, &buf);
    const double frame_bytes = static_cast<double>(buf.size());
    const double nmsg = static_cast<double>(s.batch.requests.size());
    const double nent = static_cast<double>(count_entries(s.batch));
    MessageBatch reused;
    auto decode = [&](MessageBatch* out) {
      FrameHeader h;
      Status st = decode_frame_header(buf.data(), buf.size(), limits, &h);
      if (st.ok()) st = verify_payload(h, buf.data() + kFrameHeaderSize, h.payload_size);
      if (st.ok()) st = decode_batch(buf.data() + kFrameHeaderSize, h.payload_size, limits, out);
      if (!st.ok()) {
        std::fprintf(stderr, "decode: %s\n", st.to_string().c_str());
        std::exit(1);
      }
    };
    std::vector<double> figures[3];
    for (int r = 0; r < repeats; ++r) {
      figures[0].push_back(rate(seconds, [&] {
        buf.clear();
        encode_batch_frame(s.batch, &buf);
      }));
      // Into a batch decoded before: strings and vectors reuse their capacity.
      figures[1].push_back(rate(seconds, [&] { decode(&reused); }));
      // Into a fresh batch, destroyed afterwards: every cmd string allocated
      // and freed (what a receiver that hands the batch on pays).
      figures[2].push_back(rate(seconds, [&] {
        MessageBatch fresh;
        decode(&fresh);
      }));
    }
    const char* ops[3] = {"encode", "decode", "dec-new"};
    for (int op = 0; op < 3; ++op) {
      Stats st = stats(figures[op]);
      std::printf("%-34s %-7s %10.0f %12.0f %12.0f %12.1f %4.0f-%-4.0f\n", s.name.c_str(),
                  ops[op], st.med, st.med * nmsg, st.med * nent, st.med * frame_bytes / 1e6,
                  st.min * frame_bytes / 1e6, st.max * frame_bytes / 1e6);
    }
    std::printf("%-34s frame %.0f bytes\n", "", frame_bytes);
  }

  // Format experiment: the same batches in varint vs fixed-width layout,
  // payload only (no frame, no checksum).
  std::printf("\nlayout comparison (payload only, median of %d): bytes/entry, ns/entry\n", repeats);
  std::printf("%-34s %-7s %12s %12s %12s\n", "batch", "layout", "bytes/entry", "encode ns",
              "decode ns");
  for (const Shape& s : shapes) {
    const double nent = std::max<double>(1, static_cast<double>(count_entries(s.batch)));
    if (count_entries(s.batch) == 0) continue;
    for (int layout = 0; layout < 2; ++layout) {
      std::string buf;
      if (layout == 0) encode_batch(s.batch, &buf); else fixed_encode(s.batch, &buf);
      MessageBatch out;
      std::vector<double> enc, dec;
      for (int r = 0; r < repeats; ++r) {
        enc.push_back(rate(seconds / 2, [&] {
          std::string& b = buf;
          b.clear();
          if (layout == 0) encode_batch(s.batch, &b); else fixed_encode(s.batch, &b);
        }));
        dec.push_back(rate(seconds / 2, [&] {
          bool ok = layout == 0 ? decode_batch(buf.data(), buf.size(), limits, &out).ok()
                                : fixed_decode(buf.data(), buf.size(), &out);
          if (!ok) {
            std::fprintf(stderr, "layout %d: decode failed\n", layout);
            std::exit(1);
          }
        }));
      }
      std::printf("%-34s %-7s %12.1f %12.1f %12.1f\n", s.name.c_str(),
                  layout == 0 ? "varint" : "fixed", buf.size() / nent,
                  1e9 / stats(enc).med / nent, 1e9 / stats(dec).med / nent);
    }
  }
  return 0;
}
