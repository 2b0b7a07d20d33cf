// snapshot/snapshot_file.h — writing and reading one snapshot data file in
// the block format of snapshot/format.h (docs/storage.md, "Snapshot files").
//
// Both sides stream: memory use is one or two blocks (1 MiB by default)
// whatever the size of the snapshot. The writer checksums (and optionally
// LZ4-compresses) each block; the reader verifies the header up front and
// every block before handing out any of its bytes, and verifies the tail
// (payload length, block count, digest of all block checksums) before it
// hands out the bytes of the last block.
//
// Errors: I/O failures are kFatal (the message names the operation, the path
// and the system error, e.g. ENOSPC); data that fails verification is
// kCorrupted (naming the path and, for blocks, the block number and file
// offset); a missing file on open is kNoSnapshot; misuse is kInvalidOperation.
//
// Thread-safety: a SnapshotWriter or SnapshotReader is used by one thread at
// a time (no internal locking); distinct objects are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dragonboat/status.h"
#include "snapshot/format.h"

namespace dragonboat::snapshot {

struct WriterOptions {
  Compression compression = Compression::kNone;
  // Most payload bytes per block, in [kMinBlockSize, kMaxBlockSize].
  uint32_t block_size = kDefaultBlockSize;
};

// What a complete data file holds (from the writer once finished, or from a
// reader / validate_file once the whole file was verified).
struct DataFileInfo {
  uint64_t file_size = 0;      // bytes on disk: header + blocks + tail
  uint64_t payload_size = 0;   // bytes of payload (uncompressed)
  uint64_t block_count = 0;
  uint64_t data_checksum = 0;  // the tail's digest of all block checksums
  Compression compression = Compression::kNone;
  uint32_t block_size = 0;
};

class SnapshotWriter {
 public:
  // Creates (or truncates) the file at `path` and writes its header.
  // kInvalidOperation for a bad block size or compression; kFatal when the
  // file cannot be created or the header cannot be written.
  static Status create(const std::string& path, const WriterOptions& options,
                       std::unique_ptr<SnapshotWriter>* out);

  // Closes the file if still open. A writer destroyed before finish() leaves
  // an incomplete file without a tail, which every reader rejects; removing
  // it is the caller's job (the directory protocol removes the whole
  // temporary directory).
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends n payload bytes. Full blocks are written as they fill up. After
  // a failure every later call returns the same error.
  Status write(const void* data, size_t n);

  // Writes the last partial block and the tail, fsyncs and closes the file.
  // Does not fsync the directory (the directory protocol does that).
  // kInvalidOperation if already finished.
  Status finish();

  // True after a successful finish().
  bool finished() const { return finished_; }
  // Payload bytes accepted so far.
  uint64_t payload_size() const { return payload_size_; }
  // After a successful finish(): sizes, block count and data checksum.
  const DataFileInfo& info() const { return info_; }
  const std::string& path() const { return path_; }

 private:
  SnapshotWriter(std::string path, int fd, const WriterOptions& options);
  Status emit_block(const uint8_t* data, size_t n);  // one block of n <= block_size bytes
  Status fail(Status s);

  std::string path_;
  int fd_;
  WriterOptions options_;
  std::vector<uint8_t> buffer_;      // payload bytes of the block being filled
  std::vector<uint8_t> compressed_;  // LZ4 output scratch space
  BlocksDigest digest_;
  uint64_t payload_size_ = 0;
  uint64_t file_offset_ = 0;  // bytes written to the file so far
  uint64_t blocks_ = 0;
  bool finished_ = false;
  Status error_;  // sticky first failure
  DataFileInfo info_;
};

class SnapshotReader {
 public:
  // Opens `path` and verifies the header (magic, version, checksum type,
  // compression type, block size, reserved bytes, header checksum).
  // kNoSnapshot if the file does not exist, kCorrupted for a header that
  // fails verification (including a file too short to hold one), kFatal for
  // other I/O errors. A missing or damaged tail is reported by read() when
  // the stream gets there, naming the block after which the file ends.
  static Status open(const std::string& path, std::unique_ptr<SnapshotReader>* out);

  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // Copies up to n (> 0) payload bytes into buf and stores the count in
  // *got. It fills buf completely unless the payload ends first; *got == 0
  // with OK means the end (the whole file has then been verified). Bytes are
  // handed out only from blocks that passed verification, and the last block
  // only after the tail matched. kCorrupted (naming the file and block) for
  // any verification failure, kFatal for I/O errors; on an error *got is 0
  // (discard buf) and the error is sticky.
  Status read(void* buf, size_t n, size_t* got);
  // Reads exactly n payload bytes: kCorrupted "... payload ends inside
  // <what>" (naming the file) when the payload ends first; errors as read().
  Status read_exact(void* buf, size_t n, const char* what);

  // True once read() reached the verified end of the payload.
  bool done() const { return done_; }

  Compression compression() const { return static_cast<Compression>(header_.compression); }
  uint32_t block_size() const { return header_.block_size; }
  uint64_t file_size() const { return file_size_; }
  // The payload size the tail claims (0 without a tail); trustworthy once
  // done().
  uint64_t claimed_payload_size() const { return tail_.payload_length; }
  // Complete information; meaningful once done().
  DataFileInfo info() const;
  const std::string& path() const { return path_; }

 private:
  SnapshotReader(std::string path, int fd, const FileHeader& header, const FileTail& tail,
                 bool tail_valid, uint64_t file_size);
  std::string after_blocks() const;  // "after block N (offset X)" for messages
  Status load_block();  // reads, verifies and decodes the next block
  Status verify_end();  // all blocks loaded: they must match the tail
  Status corrupt_block(const std::string& what) const;
  Status fail(Status s);

  std::string path_;
  int fd_;
  FileHeader header_;
  FileTail tail_;
  bool tail_valid_;            // the last kTailSize bytes hold a tail (marker, magic)
  uint64_t file_size_;
  uint64_t tail_offset_;       // where the block area ends (file size without a tail)
  uint64_t offset_;            // file offset of the next block header
  uint64_t block_no_ = 0;      // number of the next block to load
  uint64_t payload_seen_ = 0;  // uncompressed bytes of the blocks loaded
  BlocksDigest digest_;
  std::vector<uint8_t> stored_;  // stored bytes of the current block
  std::vector<uint8_t> data_;    // decoded payload of the current block
  size_t data_pos_ = 0;
  size_t data_len_ = 0;
  bool end_verified_ = false;
  bool done_ = false;
  Status error_;
};

// Streams the whole file at `path` through a SnapshotReader, verifying the
// header, every block and the tail. On success fills *info (if given).
// Errors as SnapshotReader::open / read.
Status validate_file(const std::string& path, DataFileInfo* info = nullptr);

}  // namespace dragonboat::snapshot
