// snapshot_test_util.h — what the snapshot file and directory tests
// (snapshot_file_test.cc, snapshot_dir_test.cc) share: payload generators,
// whole-file read/write, writing and streaming a snapshot file, and the
// SnapshotFileTest fixture (a fresh directory under /tmp, removed after).
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "snapshot/snapshot_file.h"

namespace dragonboat::snapshot::test {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// Incompressible bytes from a seeded xorshift generator.
inline Bytes random_bytes(size_t n, uint64_t seed) {
  Bytes b(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b[i] = static_cast<uint8_t>(x >> 24);
  }
  return b;
}

// Compressible bytes: text-like repetition with a counter mixed in.
inline Bytes text_bytes(size_t n) {
  static const char kWords[] = "raft log entry key=value term index commit apply ";
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = static_cast<uint8_t>(kWords[i % (sizeof kWords - 1)]);
    if (i % 97 == 0) b[i] = static_cast<uint8_t>('0' + (i / 97) % 10);
  }
  return b;
}

inline Bytes read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file_bytes(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Writes `payload` to a new snapshot file in chunks of `chunk` bytes.
inline Status write_snapshot(const std::string& path, const Bytes& payload,
                             const WriterOptions& opts, size_t chunk = 64 << 10,
                             DataFileInfo* info = nullptr) {
  std::unique_ptr<SnapshotWriter> w;
  Status s = SnapshotWriter::create(path, opts, &w);
  if (!s.ok()) return s;
  for (size_t off = 0; off < payload.size(); off += chunk) {
    s = w->write(payload.data() + off, std::min(chunk, payload.size() - off));
    if (!s.ok()) return s;
  }
  s = w->finish();
  if (s.ok() && info != nullptr) *info = w->info();
  return s;
}

// Opens and streams the whole file with reads of `buf_size` bytes; the bytes
// handed out are appended to *out even when an error follows.
inline Status read_snapshot(const std::string& path, size_t buf_size, Bytes* out) {
  out->clear();
  std::unique_ptr<SnapshotReader> r;
  Status s = SnapshotReader::open(path, &r);
  if (!s.ok()) return s;
  Bytes buf(buf_size);
  for (;;) {
    size_t got = 12345;
    s = r->read(buf.data(), buf.size(), &got);
    if (!s.ok()) return s;
    if (got == 0) break;
    if (got > buf.size()) return Status(ErrorCode::kFatal, "got > n");
    out->insert(out->end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(got));
  }
  if (!r->done()) return Status(ErrorCode::kFatal, "end without done()");
  return Status::OK();
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class SnapshotFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/snapshot_file_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

}  // namespace dragonboat::snapshot::test
