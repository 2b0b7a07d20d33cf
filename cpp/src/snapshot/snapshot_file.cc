#include "snapshot/snapshot_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

#include "common/compression.h"
#include "common/enum_util.h"
#include "common/file_io.h"

namespace dragonboat::snapshot {

namespace {

// The shared codec behind a file's compression.
CompressionType codec(Compression c) {
  switch (c) {
    case Compression::kLz4:
      return CompressionType::kLZ4;
    case Compression::kSnappy:
      return CompressionType::kSnappy;
    case Compression::kNone:
      break;
  }
  return CompressionType::kNoCompression;
}

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

Status corrupted(const std::string& path, const std::string& what) {
  return Status(ErrorCode::kCorrupted, "corrupt snapshot file " + path + ": " + what);
}

}  // namespace

// ---- SnapshotWriter ---------------------------------------------------------

Status SnapshotWriter::create(const std::string& path, const WriterOptions& options,
                              std::unique_ptr<SnapshotWriter>* out) {
  if (options.block_size < kMinBlockSize || options.block_size > kMaxBlockSize) {
    return Status(ErrorCode::kInvalidOperation,
                  "snapshot writer: block size " + std::to_string(options.block_size) +
                      " outside [" + std::to_string(kMinBlockSize) + ", " +
                      std::to_string(kMaxBlockSize) + "]");
  }
  if (!one_of(options.compression, {Compression::kNone, Compression::kLz4, Compression::kSnappy})) {
    return Status(ErrorCode::kInvalidOperation,
                  "snapshot writer: unknown compression " +
                      std::to_string(static_cast<uint32_t>(options.compression)));
  }
  int fd = -1;
  Status created = io::create_file(path, &fd);
  if (!created.ok()) return created;
  std::unique_ptr<SnapshotWriter> w(new SnapshotWriter(path, fd, options));

  FileHeader h;
  h.compression = static_cast<uint32_t>(options.compression);
  h.block_size = options.block_size;
  uint8_t bytes[kHeaderSize];
  encode_header(h, bytes);
  Status s = io::write_all(fd, bytes, sizeof bytes, path);
  if (!s.ok()) return s;  // the destructor closes the file
  w->file_offset_ = kHeaderSize;
  *out = std::move(w);
  return Status::OK();
}

SnapshotWriter::SnapshotWriter(std::string path, int fd, const WriterOptions& options)
    : path_(std::move(path)), fd_(fd), options_(options) {
  buffer_.reserve(options_.block_size);
  compressed_.resize(compression::max_compressed_size(codec(options_.compression), options_.block_size));
}

SnapshotWriter::~SnapshotWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status SnapshotWriter::fail(Status s) {
  if (error_.ok()) error_ = s;
  return s;
}

Status SnapshotWriter::write(const void* data, size_t n) {
  if (finished_) {
    return Status(ErrorCode::kInvalidOperation, "snapshot writer " + path_ + ": already finished");
  }
  if (!error_.ok()) return error_;
  const auto* p = static_cast<const uint8_t*>(data);
  const size_t bs = options_.block_size;
  while (n > 0) {
    if (buffer_.empty() && n >= bs) {
      // A whole block straight from the caller's memory: no copy.
      Status s = emit_block(p, bs);
      if (!s.ok()) return fail(s);
      p += bs;
      n -= bs;
      payload_size_ += bs;
      continue;
    }
    size_t take = std::min(n, bs - buffer_.size());
    buffer_.insert(buffer_.end(), p, p + take);
    p += take;
    n -= take;
    payload_size_ += take;
    if (buffer_.size() == bs) {
      Status s = emit_block(buffer_.data(), bs);
      if (!s.ok()) return fail(s);
      buffer_.clear();
    }
  }
  return Status::OK();
}

Status SnapshotWriter::emit_block(const uint8_t* data, size_t n) {
  BlockHeader b;
  b.uncompressed_length = static_cast<uint32_t>(n);
  const uint8_t* stored = data;
  size_t stored_len = n;
  // Kept compressed only when the block shrinks (compress_into returns 0 otherwise).
  const size_t c = compression::compress_into(codec(options_.compression), reinterpret_cast<const char*>(data), n,
                                              reinterpret_cast<char*>(compressed_.data()));
  if (c > 0) {
    stored = compressed_.data();
    stored_len = c;
    b.encoding = static_cast<uint32_t>(options_.compression == Compression::kLz4 ? BlockEncoding::kLz4
                                                                                   : BlockEncoding::kSnappy);
  }
  b.stored_length = static_cast<uint32_t>(stored_len);
  uint8_t hdr[kBlockHeaderSize];
  encode_block_header(b, hdr);
  b.checksum = block_checksum(blocks_, hdr, stored, stored_len);
  put_u64(hdr + kBlockChecksumOffset, b.checksum);

  Status s = io::write_all(fd_, hdr, sizeof hdr, path_);
  if (s.ok()) s = io::write_all(fd_, stored, stored_len, path_);
  if (!s.ok()) return s;
  digest_.add(b.checksum);
  ++blocks_;
  file_offset_ += kBlockHeaderSize + stored_len;
  return Status::OK();
}

Status SnapshotWriter::finish() {
  if (finished_) {
    return Status(ErrorCode::kInvalidOperation, "snapshot writer " + path_ + ": already finished");
  }
  if (!error_.ok()) return error_;
  if (!buffer_.empty()) {
    Status s = emit_block(buffer_.data(), buffer_.size());
    if (!s.ok()) return fail(s);
    buffer_.clear();
  }
  FileTail t;
  t.payload_length = payload_size_;
  t.block_count = blocks_;
  t.blocks_digest = digest_.digest();
  uint8_t bytes[kTailSize];
  encode_tail(t, bytes);
  Status s = io::write_all(fd_, bytes, sizeof bytes, path_);
  if (s.ok()) s = io::fsync_fd(fd_, path_);
  if (s.ok()) s = io::close_fd(&fd_, path_);
  if (!s.ok()) return fail(s);
  file_offset_ += kTailSize;
  finished_ = true;
  info_.file_size = file_offset_;
  info_.payload_size = payload_size_;
  info_.block_count = blocks_;
  info_.data_checksum = t.blocks_digest;
  info_.compression = options_.compression;
  info_.block_size = options_.block_size;
  return Status::OK();
}

// ---- SnapshotReader ---------------------------------------------------------

Status SnapshotReader::open(const std::string& path, std::unique_ptr<SnapshotReader>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return Status(ErrorCode::kNoSnapshot, "snapshot file " + path + " does not exist");
    }
    return io::io_error("open", path, errno);
  }
  // From here on the fd is closed on every early return.
  struct Closer {
    int* fd;
    ~Closer() {
      if (*fd >= 0) ::close(*fd);
    }
  } closer{&fd};

  struct stat st;
  if (::fstat(fd, &st) != 0) return io::io_error("stat", path, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  uint8_t hb[kHeaderSize];
  size_t got = 0;
  Status s = io::pread_full(fd, hb, sizeof hb, 0, &got, path);
  if (!s.ok()) return s;
  if (got < kHeaderSize) {
    return corrupted(path, "truncated header (file has " + std::to_string(got) +
                               " bytes, the header needs " + std::to_string(kHeaderSize) + ")");
  }
  const FileHeader h = decode_header(hb);
  if (h.magic != kHeaderMagic) {
    return corrupted(path, "bad header magic " + hex64(h.magic) + " (not a snapshot file)");
  }
  const uint64_t want = header_checksum(hb);
  const uint64_t have = get_u64(hb + kHeaderChecksumOffset);
  if (want != have) {
    return corrupted(path, "header checksum mismatch (stored " + hex64(have) + ", computed " +
                               hex64(want) + ")");
  }
  if (h.version != kFormatVersion) {
    return corrupted(path, "unsupported format version " + std::to_string(h.version));
  }
  if (h.checksum_type != static_cast<uint32_t>(ChecksumType::kXxh3_64)) {
    return corrupted(path, "unknown checksum type " + std::to_string(h.checksum_type));
  }
  if (!one_of(static_cast<Compression>(h.compression),
              {Compression::kNone, Compression::kLz4, Compression::kSnappy})) {
    return corrupted(path, "unknown compression type " + std::to_string(h.compression));
  }
  if (h.block_size < kMinBlockSize || h.block_size > kMaxBlockSize) {
    return corrupted(path, "block size " + std::to_string(h.block_size) + " out of range");
  }
  for (size_t i = 0; i < kHeaderReservedSize; ++i) {
    if (hb[kHeaderReservedOffset + i] != 0) return corrupted(path, "nonzero reserved header bytes");
  }

  // The tail is checked here but a missing or damaged one is reported by
  // read(), once the blocks before it were verified, so that the message can
  // say where the file ends (which block).
  FileTail t;
  bool tail_valid = false;
  if (size >= kHeaderSize + kTailSize) {
    uint8_t tb[kTailSize];
    s = io::pread_full(fd, tb, sizeof tb, size - kTailSize, &got, path);
    if (!s.ok()) return s;
    if (got == kTailSize) {
      t = decode_tail(tb);
      tail_valid = t.magic == kTailMagic && t.marker == kTailMarker && t.reserved == 0;
    }
  }
  out->reset(new SnapshotReader(path, fd, h, tail_valid ? t : FileTail{}, tail_valid, size));
  fd = -1;  // owned by the reader now
  return Status::OK();
}

SnapshotReader::SnapshotReader(std::string path, int fd, const FileHeader& header,
                               const FileTail& tail, bool tail_valid, uint64_t file_size)
    : path_(std::move(path)),
      fd_(fd),
      header_(header),
      tail_(tail),
      tail_valid_(tail_valid),
      file_size_(file_size),
      tail_offset_(tail_valid ? file_size - kTailSize : file_size),
      offset_(kHeaderSize) {}

SnapshotReader::~SnapshotReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status SnapshotReader::fail(Status s) {
  if (error_.ok()) error_ = s;
  return s;
}

Status SnapshotReader::corrupt_block(const std::string& what) const {
  return corrupted(path_, "block " + std::to_string(block_no_) + " (offset " +
                              std::to_string(offset_) + "): " + what);
}

Status SnapshotReader::verify_end() {
  if (block_no_ != tail_.block_count) {
    return corrupted(path_, "tail records " + std::to_string(tail_.block_count) +
                                " blocks, the file holds " + std::to_string(block_no_));
  }
  if (payload_seen_ != tail_.payload_length) {
    return corrupted(path_, "tail records a payload of " + std::to_string(tail_.payload_length) +
                                " bytes, the blocks hold " + std::to_string(payload_seen_));
  }
  const uint64_t d = digest_.digest();
  if (d != tail_.blocks_digest) {
    return corrupted(path_, "tail digest of block checksums mismatch (stored " +
                                hex64(tail_.blocks_digest) + ", computed " + hex64(d) + ")");
  }
  end_verified_ = true;
  return Status::OK();
}

std::string SnapshotReader::after_blocks() const {
  if (block_no_ == 0) return "after the header (offset " + std::to_string(offset_) + ")";
  return "after block " + std::to_string(block_no_ - 1) + " (offset " + std::to_string(offset_) +
         ")";
}

Status SnapshotReader::load_block() {
  data_pos_ = data_len_ = 0;
  if (offset_ == tail_offset_) {
    // Only reached without blocks (or without a tail): otherwise the end was
    // verified together with the last block.
    if (!tail_valid_) {
      return corrupted(path_, "file ends " + after_blocks() + " without a tail (truncated)");
    }
    return verify_end();
  }
  if (offset_ + kBlockHeaderSize > tail_offset_) {
    if (!tail_valid_) {
      return corrupted(path_, "file ends " + after_blocks() +
                                  " inside the header of block " + std::to_string(block_no_) +
                                  " or the tail (truncated)");
    }
    return corrupt_block("block header runs into the tail at offset " +
                         std::to_string(tail_offset_));
  }
  uint8_t hb[kBlockHeaderSize];
  size_t got = 0;
  Status s = io::pread_full(fd_, hb, sizeof hb, offset_, &got, path_);
  if (!s.ok()) return s;
  if (got < sizeof hb) return corrupt_block("file ends inside the block header (truncated)");
  BlockHeader b = decode_block_header(hb);
  if (b.stored_length == kTailMarker) {
    if (!tail_valid_) {
      return corrupted(path_, "the tail " + after_blocks() +
                                  " is damaged, or the file is truncated or extended");
    }
    return corrupt_block("tail marker found before the end of the file");
  }
  if (b.reserved != 0) return corrupt_block("nonzero reserved field");
  if (b.uncompressed_length == 0 || b.uncompressed_length > header_.block_size) {
    return corrupt_block("uncompressed length " + std::to_string(b.uncompressed_length) +
                         " outside [1, " + std::to_string(header_.block_size) + "]");
  }
  const bool raw = b.encoding == static_cast<uint32_t>(BlockEncoding::kRaw);
  if (raw) {
    if (b.stored_length != b.uncompressed_length) {
      return corrupt_block("raw block with stored length " + std::to_string(b.stored_length) +
                           " != uncompressed length " + std::to_string(b.uncompressed_length));
    }
  } else if (b.encoding == static_cast<uint32_t>(BlockEncoding::kLz4) ||
             b.encoding == static_cast<uint32_t>(BlockEncoding::kSnappy)) {
    // A compressed block must match the file's compression and be smaller
    // than what it decompresses to (the writer keeps it only then).
    const bool lz4 = b.encoding == static_cast<uint32_t>(BlockEncoding::kLz4);
    const char* what = lz4 ? "lz4" : "snappy";
    const Compression want = lz4 ? Compression::kLz4 : Compression::kSnappy;
    if (header_.compression != static_cast<uint32_t>(want)) {
      return corrupt_block(std::string(what) + " block in a file without " + what + " compression");
    }
    if (b.stored_length == 0 || b.stored_length >= b.uncompressed_length) {
      return corrupt_block(std::string(what) + " block with stored length " + std::to_string(b.stored_length) +
                           " not below uncompressed length " +
                           std::to_string(b.uncompressed_length));
    }
  } else {
    return corrupt_block("unknown block encoding " + std::to_string(b.encoding));
  }
  const uint64_t end = offset_ + kBlockHeaderSize + b.stored_length;
  if (end > tail_offset_) {
    if (!tail_valid_) {
      return corrupt_block("file ends inside the block, which needs " +
                           std::to_string(b.stored_length) + " bytes (truncated)");
    }
    return corrupt_block("stored length " + std::to_string(b.stored_length) +
                         " runs into the tail at offset " + std::to_string(tail_offset_));
  }

  // Raw blocks are read straight into the payload buffer.
  std::vector<uint8_t>& dst = raw ? data_ : stored_;
  if (dst.size() < b.stored_length) dst.resize(header_.block_size);
  s = io::pread_full(fd_, dst.data(), b.stored_length, offset_ + kBlockHeaderSize, &got, path_);
  if (!s.ok()) return s;
  if (got < b.stored_length) return corrupt_block("file ends inside the block (truncated)");
  const uint64_t sum = block_checksum(block_no_, hb, dst.data(), b.stored_length);
  if (sum != b.checksum) {
    return corrupt_block("checksum mismatch (stored " + hex64(b.checksum) + ", computed " +
                         hex64(sum) + ")");
  }
  if (!raw) {
    if (data_.size() < b.uncompressed_length) data_.resize(header_.block_size);
    const bool lz4 = b.encoding == static_cast<uint32_t>(BlockEncoding::kLz4);
    if (!compression::decompress_into(lz4 ? CompressionType::kLZ4 : CompressionType::kSnappy,
                                      reinterpret_cast<const char*>(stored_.data()), b.stored_length,
                                      reinterpret_cast<char*>(data_.data()), b.uncompressed_length)) {
      return corrupt_block(std::string(lz4 ? "lz4" : "snappy") + " data does not decode to " +
                           std::to_string(b.uncompressed_length) + " bytes");
    }
  }
  digest_.add(b.checksum);
  payload_seen_ += b.uncompressed_length;
  ++block_no_;
  offset_ = end;
  data_len_ = b.uncompressed_length;
  // The last block's bytes are handed out only once the tail agrees.
  if (tail_valid_ && offset_ == tail_offset_) {
    s = verify_end();
    if (!s.ok()) {
      data_len_ = 0;
      return s;
    }
  }
  return Status::OK();
}

Status SnapshotReader::read_exact(void* buf, size_t n, const char* what) {
  for (size_t done = 0; done < n;) {
    size_t got = 0;
    Status s = read(static_cast<char*>(buf) + done, n - done, &got);
    if (!s.ok()) return s;
    if (got == 0) return corrupted(path_, std::string("payload ends inside ") + what);
    done += got;
  }
  return Status::OK();
}

Status SnapshotReader::read(void* buf, size_t n, size_t* got) {
  *got = 0;
  if (!error_.ok()) return error_;
  auto* out = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < n) {
    if (data_pos_ == data_len_) {
      if (end_verified_) {
        done_ = true;
        break;
      }
      Status s = load_block();
      if (!s.ok()) return fail(s);
      continue;
    }
    size_t take = std::min(n - done, data_len_ - data_pos_);
    std::memcpy(out + done, data_.data() + data_pos_, take);
    data_pos_ += take;
    done += take;
  }
  *got = done;
  return Status::OK();
}

DataFileInfo SnapshotReader::info() const {
  DataFileInfo i;
  i.file_size = file_size_;
  i.payload_size = payload_seen_;
  i.block_count = block_no_;
  i.data_checksum = digest_.digest();
  i.compression = compression();
  i.block_size = header_.block_size;
  return i;
}

// ---- validate_file ----------------------------------------------------------

Status validate_file(const std::string& path, DataFileInfo* info) {
  std::unique_ptr<SnapshotReader> r;
  Status s = SnapshotReader::open(path, &r);
  if (!s.ok()) return s;
  std::vector<uint8_t> buf(256 << 10);
  for (;;) {
    size_t got = 0;
    s = r->read(buf.data(), buf.size(), &got);
    if (!s.ok()) return s;
    if (got == 0) break;
  }
  if (info != nullptr) *info = r->info();
  return Status::OK();
}

}  // namespace dragonboat::snapshot
