// Tests of the snapshot data file format (snapshot/snapshot_file.h): round
// trips, corruption of every kind, writer errors and misuse. The snapshot
// directory protocol (snapshot/snapshot_dir.h) is tested in
// snapshot_dir_test.cc; the helpers and the fixture both use are in
// snapshot_test_util.h. Every test works in a fresh directory under /tmp that
// is removed afterwards.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "snapshot/format.h"
#include "snapshot/snapshot_file.h"
#include "snapshot_test_util.h"

namespace dragonboat::snapshot {
namespace {

using namespace test;  // snapshot_test_util.h

// ---- round trips ------------------------------------------------------------

struct RoundTripCase {
  const char* name;
  size_t size;
  uint32_t block_size;
};

const RoundTripCase kRoundTripCases[] = {
    {"empty", 0, kDefaultBlockSize},
    {"one_byte", 1, kDefaultBlockSize},
    {"exactly_one_block", 4096, 4096},
    {"one_block_plus_one", 4097, 4096},
    {"many_blocks", 4096 * 37 + 11, 4096},
    {"tiny_blocks", 1000, 1},
    {"several_mib", (5u << 20) + 123, kDefaultBlockSize},
};

class SnapshotRoundTrip
    : public SnapshotFileTest,
      public ::testing::WithParamInterface<std::tuple<RoundTripCase, Compression, bool>> {};

TEST_P(SnapshotRoundTrip, WritesAndReadsBack) {
  const auto& [c, compression, compressible] = GetParam();
  const Bytes payload = compressible ? text_bytes(c.size) : random_bytes(c.size, c.size);
  WriterOptions opts;
  opts.compression = compression;
  opts.block_size = c.block_size;
  const std::string p = path("data.gbsnap");
  DataFileInfo winfo;
  ASSERT_TRUE(write_snapshot(p, payload, opts, 1000, &winfo).ok());

  const uint64_t blocks = (c.size + c.block_size - 1) / c.block_size;
  EXPECT_EQ(winfo.payload_size, c.size);
  EXPECT_EQ(winfo.block_count, blocks);
  EXPECT_EQ(winfo.file_size, fs::file_size(p));
  if (compression == Compression::kNone || !compressible) {
    // Nothing shrinks: every block stored raw.
    EXPECT_EQ(winfo.file_size, kHeaderSize + kTailSize + blocks * kBlockHeaderSize + c.size);
  } else if (c.size >= 4096) {
    EXPECT_LT(winfo.file_size, c.size / 2) << "lz4 should shrink repetitive text";
  }

  Bytes back;
  Status s = read_snapshot(p, 64 << 10, &back);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_TRUE(back == payload);

  DataFileInfo vinfo;
  s = validate_file(p, &vinfo);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(vinfo.file_size, winfo.file_size);
  EXPECT_EQ(vinfo.payload_size, winfo.payload_size);
  EXPECT_EQ(vinfo.block_count, winfo.block_count);
  EXPECT_EQ(vinfo.data_checksum, winfo.data_checksum);
  EXPECT_EQ(vinfo.compression, compression);
  EXPECT_EQ(vinfo.block_size, c.block_size);
}

INSTANTIATE_TEST_SUITE_P(
    All, SnapshotRoundTrip,
    ::testing::Combine(::testing::ValuesIn(kRoundTripCases),
                       ::testing::Values(Compression::kNone, Compression::kLz4, Compression::kSnappy),
                       ::testing::Bool()),
    [](const auto& info) {
      return std::string(std::get<0>(info.param).name) + "_" +
             compression_name(std::get<1>(info.param)) +
             (std::get<2>(info.param) ? "_text" : "_random");
    });

TEST_F(SnapshotFileTest, StreamingReadsWithOddBufferSizes) {
  const Bytes payload = text_bytes(300000);
  for (Compression comp : {Compression::kNone, Compression::kLz4, Compression::kSnappy}) {
    WriterOptions opts;
    opts.compression = comp;
    opts.block_size = 7000;
    const std::string p = path("odd.gbsnap");
    ASSERT_TRUE(write_snapshot(p, payload, opts, 333).ok());
    for (size_t buf : {size_t{1}, size_t{3}, size_t{7}, size_t{4095}, size_t{6999},
                       size_t{7001}, size_t{65537}, size_t{1} << 20}) {
      Bytes back;
      Status s = read_snapshot(p, buf, &back);
      ASSERT_TRUE(s.ok()) << s.to_string() << " buf=" << buf;
      EXPECT_TRUE(back == payload) << "buf=" << buf << " " << compression_name(comp);
    }
  }
}

TEST_F(SnapshotFileTest, WriteChunkingDoesNotChangeTheFile) {
  // Whole blocks go straight from the caller's memory, partial ones through
  // the buffer: both paths must produce the same bytes.
  const Bytes payload = random_bytes(50000, 7);
  WriterOptions opts;
  opts.compression = Compression::kLz4;
  opts.block_size = 4096;
  ASSERT_TRUE(write_snapshot(path("ref"), payload, opts, 1).ok());
  const Bytes ref = read_file_bytes(path("ref"));
  for (size_t chunk : {size_t{13}, size_t{4096}, size_t{4097}, size_t{3 * 4096 + 5},
                       size_t{50000}}) {
    ASSERT_TRUE(write_snapshot(path("x"), payload, opts, chunk).ok());
    EXPECT_TRUE(read_file_bytes(path("x")) == ref) << "chunk " << chunk;
  }
}

TEST_F(SnapshotFileTest, CompressedBlockThatDoesNotShrinkIsStoredRaw) {
  // Block 0 random (stays raw), block 1 repetitive (compressed).
  Bytes payload = random_bytes(4096, 1);
  Bytes text = text_bytes(4096);
  payload.insert(payload.end(), text.begin(), text.end());
  for (auto [comp, enc] : {std::pair{Compression::kLz4, BlockEncoding::kLz4},
                           std::pair{Compression::kSnappy, BlockEncoding::kSnappy}}) {
    SCOPED_TRACE(compression_name(comp));
    WriterOptions opts;
    opts.compression = comp;
    opts.block_size = 4096;
    const std::string p = path("mixed");
    ASSERT_TRUE(write_snapshot(p, payload, opts).ok());
    const Bytes f = read_file_bytes(p);
    BlockHeader b0 = decode_block_header(f.data() + kHeaderSize);
    EXPECT_EQ(b0.encoding, static_cast<uint32_t>(BlockEncoding::kRaw));
    EXPECT_EQ(b0.stored_length, 4096u);
    EXPECT_EQ(b0.uncompressed_length, 4096u);
    BlockHeader b1 = decode_block_header(f.data() + kHeaderSize + kBlockHeaderSize + 4096);
    EXPECT_EQ(b1.encoding, static_cast<uint32_t>(enc));
    EXPECT_LT(b1.stored_length, 4096u);
    EXPECT_EQ(b1.uncompressed_length, 4096u);
    Bytes back;
    ASSERT_TRUE(read_snapshot(p, 1000, &back).ok());
    EXPECT_TRUE(back == payload);
  }
}

TEST_F(SnapshotFileTest, ABlockOfTheOtherCompressionIsCorrupt) {
  // An LZ4 block in a Snappy file (or the reverse) is refused by name, not
  // handed to the wrong decoder.
  const Bytes payload = text_bytes(4096);
  WriterOptions opts;
  opts.compression = Compression::kSnappy;
  opts.block_size = 4096;
  const std::string p = path("swap");
  ASSERT_TRUE(write_snapshot(p, payload, opts).ok());
  Bytes f = read_file_bytes(p);
  // Rewrite block 0's encoding to LZ4, its checksum with it.
  uint8_t* hdr = f.data() + kHeaderSize;
  BlockHeader b = decode_block_header(hdr);
  ASSERT_EQ(b.encoding, static_cast<uint32_t>(BlockEncoding::kSnappy));
  b.encoding = static_cast<uint32_t>(BlockEncoding::kLz4);
  encode_block_header(b, hdr);
  put_u64(hdr + kBlockChecksumOffset, block_checksum(0, hdr, hdr + kBlockHeaderSize, b.stored_length));
  write_file_bytes(p, f);
  Bytes back;
  Status s = read_snapshot(p, 1000, &back);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << s.to_string();
  EXPECT_NE(s.message().find("lz4 block in a file without lz4 compression"), std::string::npos) << s.to_string();
}

TEST_F(SnapshotFileTest, HeaderLayoutIsAsDocumented) {
  WriterOptions opts;
  opts.compression = Compression::kLz4;
  opts.block_size = 12345;
  const std::string p = path("h");
  ASSERT_TRUE(write_snapshot(p, {}, opts).ok());
  const Bytes f = read_file_bytes(p);
  ASSERT_EQ(f.size(), kHeaderSize + kTailSize);
  EXPECT_EQ(std::string(f.begin(), f.begin() + 8), "DRAGSNAP");
  EXPECT_EQ(get_u32(f.data() + 8), kFormatVersion);
  EXPECT_EQ(get_u32(f.data() + 12), 1u);  // XXH3-64
  EXPECT_EQ(get_u32(f.data() + 16), 1u);  // lz4
  EXPECT_EQ(get_u32(f.data() + 20), 12345u);
  for (size_t i = 24; i < 56; ++i) EXPECT_EQ(f[i], 0) << i;
  EXPECT_EQ(get_u64(f.data() + 56), header_checksum(f.data()));
  const uint8_t* t = f.data() + kHeaderSize;
  EXPECT_EQ(get_u32(t), kTailMarker);
  EXPECT_EQ(get_u64(t + 8), 0u);   // payload length
  EXPECT_EQ(get_u64(t + 16), 0u);  // block count
  EXPECT_EQ(std::string(t + 32, t + 40), "DRAGTAIL");
}

// ---- corruption -------------------------------------------------------------

// Every way of reading the file must fail with kCorrupted, and never hand out
// a byte that differs from the original payload.
void expect_corrupted(const std::string& p, const Bytes& payload, const std::string& what) {
  for (size_t buf : {size_t{1}, size_t{100}, size_t{1} << 20}) {
    Bytes back;
    Status s = read_snapshot(p, buf, &back);
    ASSERT_FALSE(s.ok()) << what << " buf=" << buf << ": read back OK";
    EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << what << ": " << s.to_string();
    EXPECT_TRUE(contains(s.message(), p)) << s.message();
    ASSERT_LE(back.size(), payload.size()) << what;
    EXPECT_TRUE(std::equal(back.begin(), back.end(), payload.begin())) << what;
  }
  Status s = validate_file(p);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << what << ": " << s.to_string();
}

TEST_F(SnapshotFileTest, CorruptHeaderByte) {
  const std::string p = path("h");
  const Bytes payload = text_bytes(1000);
  ASSERT_TRUE(write_snapshot(p, payload, WriterOptions{}).ok());
  const Bytes good = read_file_bytes(p);
  for (size_t i = 0; i < kHeaderSize; ++i) {
    Bytes bad = good;
    bad[i] ^= 0x20;
    write_file_bytes(p, bad);
    std::unique_ptr<SnapshotReader> r;
    Status s = SnapshotReader::open(p, &r);
    EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << "byte " << i << ": " << s.to_string();
    EXPECT_TRUE(contains(s.message(), p));
  }
}

TEST_F(SnapshotFileTest, WrongMagic) {
  const std::string p = path("m");
  ASSERT_TRUE(write_snapshot(p, text_bytes(10), WriterOptions{}).ok());
  Bytes f = read_file_bytes(p);
  std::memcpy(f.data(), "NOTASNAP", 8);
  write_file_bytes(p, f);
  std::unique_ptr<SnapshotReader> r;
  Status s = SnapshotReader::open(p, &r);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted);
  EXPECT_TRUE(contains(s.message(), "magic")) << s.message();

  // Other files that are not snapshots at all.
  write_file_bytes(p, Bytes(200, 'x'));
  EXPECT_EQ(SnapshotReader::open(p, &r).code(), ErrorCode::kCorrupted);
  write_file_bytes(p, Bytes());
  s = SnapshotReader::open(p, &r);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted);
  EXPECT_TRUE(contains(s.message(), "truncated")) << s.message();
}

TEST_F(SnapshotFileTest, ValidHeaderWithUnsupportedVersionIsRejected) {
  const std::string p = path("v");
  ASSERT_TRUE(write_snapshot(p, text_bytes(10), WriterOptions{}).ok());
  Bytes f = read_file_bytes(p);
  FileHeader h;
  h.version = 2;
  encode_header(h, f.data());  // correct checksum, unknown version
  write_file_bytes(p, f);
  std::unique_ptr<SnapshotReader> r;
  Status s = SnapshotReader::open(p, &r);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted);
  EXPECT_TRUE(contains(s.message(), "version 2")) << s.message();
}

TEST_F(SnapshotFileTest, CorruptByteInABlockNamesTheBlock) {
  for (Compression comp : {Compression::kNone, Compression::kLz4, Compression::kSnappy}) {
    const std::string p = path("b");
    const Bytes payload = text_bytes(4 * 4096);
    WriterOptions opts;
    opts.compression = comp;
    opts.block_size = 4096;
    ASSERT_TRUE(write_snapshot(p, payload, opts).ok());
    Bytes f = read_file_bytes(p);
    // Find block 2 by walking the block headers.
    size_t off = kHeaderSize;
    for (int i = 0; i < 2; ++i) off += kBlockHeaderSize + decode_block_header(&f[off]).stored_length;
    f[off + kBlockHeaderSize + 10] ^= 0x01;
    write_file_bytes(p, f);

    // Reads of one block each: blocks 0 and 1 come back, block 2 fails.
    std::unique_ptr<SnapshotReader> r;
    ASSERT_TRUE(SnapshotReader::open(p, &r).ok());
    Bytes buf(4096);
    size_t got = 0;
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(r->read(buf.data(), buf.size(), &got).ok());
      ASSERT_EQ(got, 4096u);
      EXPECT_TRUE(std::equal(buf.begin(), buf.end(), payload.begin() + i * 4096));
    }
    Status s = r->read(buf.data(), buf.size(), &got);
    EXPECT_EQ(s.code(), ErrorCode::kCorrupted);
    EXPECT_EQ(got, 0u);
    EXPECT_TRUE(contains(s.message(), "block 2")) << s.message();
    EXPECT_TRUE(contains(s.message(), "checksum")) << s.message();
    EXPECT_TRUE(contains(s.message(), p)) << s.message();
    // Errors are sticky.
    EXPECT_EQ(r->read(buf.data(), buf.size(), &got).code(), ErrorCode::kCorrupted);
    expect_corrupted(p, payload, std::string("block 2 ") + compression_name(comp));
  }
}

TEST_F(SnapshotFileTest, EveryFlippedByteIsDetected) {
  // Exhaustive over a small file: header, three block headers and bodies,
  // and the tail.
  for (Compression comp : {Compression::kNone, Compression::kLz4, Compression::kSnappy}) {
    const std::string p = path("flip");
    Bytes payload = text_bytes(250);
    WriterOptions opts;
    opts.compression = comp;
    opts.block_size = 100;
    ASSERT_TRUE(write_snapshot(p, payload, opts).ok());
    const Bytes good = read_file_bytes(p);
    for (size_t i = 0; i < good.size(); ++i) {
      for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
        Bytes bad = good;
        bad[i] ^= mask;
        write_file_bytes(p, bad);
        Bytes back;
        Status s = read_snapshot(p, 37, &back);
        ASSERT_EQ(s.code(), ErrorCode::kCorrupted)
            << compression_name(comp) << " byte " << i << " mask " << int(mask) << ": "
            << s.to_string();
        ASSERT_TRUE(std::equal(back.begin(), back.end(), payload.begin()));
      }
    }
  }
}

TEST_F(SnapshotFileTest, SwappedBlocksAreDetected) {
  // Two raw blocks of equal size, each with a valid checksum of its own: the
  // block number in the checksum seed catches the swap.
  const std::string p = path("swap");
  Bytes payload = random_bytes(2 * 512, 3);
  WriterOptions opts;
  opts.block_size = 512;
  ASSERT_TRUE(write_snapshot(p, payload, opts).ok());
  Bytes f = read_file_bytes(p);
  const size_t b = kBlockHeaderSize + 512;
  std::swap_ranges(f.begin() + kHeaderSize, f.begin() + kHeaderSize + b, f.begin() + kHeaderSize + b);
  write_file_bytes(p, f);
  Bytes back;
  Status s = read_snapshot(p, 4096, &back);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted);
  EXPECT_TRUE(contains(s.message(), "block 0")) << s.message();
  EXPECT_TRUE(back.empty());
}

TEST_F(SnapshotFileTest, TailMismatchWithholdsTheLastBlock) {
  const std::string p = path("tail");
  const Bytes payload = random_bytes(3 * 1000, 9);
  WriterOptions opts;
  opts.block_size = 1000;
  ASSERT_TRUE(write_snapshot(p, payload, opts).ok());
  Bytes f = read_file_bytes(p);
  uint8_t* t = f.data() + f.size() - kTailSize;
  put_u64(t + 16, 4);  // claims 4 blocks
  write_file_bytes(p, f);
  std::unique_ptr<SnapshotReader> r;
  ASSERT_TRUE(SnapshotReader::open(p, &r).ok());
  Bytes buf(1000);
  size_t got = 0;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(r->read(buf.data(), buf.size(), &got).ok());
    EXPECT_EQ(got, 1000u);
  }
  Status s = r->read(buf.data(), buf.size(), &got);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted);
  EXPECT_EQ(got, 0u);
  EXPECT_TRUE(contains(s.message(), "4 blocks")) << s.message();
}

TEST_F(SnapshotFileTest, TruncatedFileIsDetectedAtEveryLength) {
  for (Compression comp : {Compression::kNone, Compression::kLz4, Compression::kSnappy}) {
    const std::string p = path("trunc");
    const Bytes payload = text_bytes(350);
    WriterOptions opts;
    opts.compression = comp;
    opts.block_size = 100;
    ASSERT_TRUE(write_snapshot(p, payload, opts).ok());
    const Bytes good = read_file_bytes(p);
    for (size_t len = 0; len < good.size(); ++len) {
      write_file_bytes(p, Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len)));
      Bytes back;
      Status s = read_snapshot(p, 64, &back);
      ASSERT_EQ(s.code(), ErrorCode::kCorrupted)
          << compression_name(comp) << " length " << len << ": " << s.to_string();
      ASSERT_TRUE(std::equal(back.begin(), back.end(), payload.begin()));
    }
  }
}

TEST_F(SnapshotFileTest, TruncatedFileAtNamedPlaces) {
  const std::string p = path("trunc");
  const Bytes payload = random_bytes(3 * 4096, 5);
  WriterOptions opts;
  opts.block_size = 4096;
  ASSERT_TRUE(write_snapshot(p, payload, opts).ok());
  const Bytes good = read_file_bytes(p);
  const size_t block = kBlockHeaderSize + 4096;
  const struct {
    const char* where;
    size_t length;
    const char* message;  // expected in the error
  } cases[] = {
      {"inside the header", 20, "truncated header (file has 20 bytes"},
      {"right after the header", kHeaderSize, "file ends after the header (offset 64)"},
      {"inside a block header", kHeaderSize + block + 10,
       "file ends after block 0 (offset 4184) inside the header of block 1"},
      {"inside a block", kHeaderSize + block + kBlockHeaderSize + 2000,
       "block 1 (offset 4184): file ends inside the block"},
      {"missing the tail", kHeaderSize + 3 * block,
       "file ends after block 2 (offset 12424) without a tail"},
      {"missing the tail's last byte", good.size() - 1, "the tail after block 2 (offset 12424)"},
  };
  for (const auto& c : cases) {
    write_file_bytes(p, Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(c.length)));
    expect_corrupted(p, payload, c.where);
    Status s = validate_file(p);
    EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << c.where;
    EXPECT_TRUE(contains(s.message(), c.message)) << c.where << ": " << s.message();
    EXPECT_TRUE(contains(s.message(), "truncated")) << c.where << ": " << s.message();
  }
  // Blocks before the cut are still handed out (each verified).
  write_file_bytes(p, Bytes(good.begin(), good.begin() + kHeaderSize + 2 * block + 100));
  Bytes back;
  EXPECT_EQ(read_snapshot(p, 4096, &back).code(), ErrorCode::kCorrupted);
  EXPECT_EQ(back.size(), 2 * 4096u);
}

TEST_F(SnapshotFileTest, ExtraBytesAfterTheTailAreDetected) {
  const std::string p = path("long");
  const Bytes payload = text_bytes(5000);
  ASSERT_TRUE(write_snapshot(p, payload, WriterOptions{}).ok());
  Bytes f = read_file_bytes(p);
  f.push_back(0);
  write_file_bytes(p, f);
  expect_corrupted(p, payload, "one extra byte");
  // A second copy of the tail appended: the first one now sits where a block
  // header is expected.
  f = read_file_bytes(p);
  f.pop_back();
  Bytes tail(f.end() - kTailSize, f.end());
  f.insert(f.end(), tail.begin(), tail.end());
  write_file_bytes(p, f);
  expect_corrupted(p, payload, "tail twice");
  Bytes back;
  Status s = read_snapshot(p, 100, &back);
  EXPECT_TRUE(contains(s.message(), "tail marker")) << s.message();
}

TEST_F(SnapshotFileTest, MissingFileIsNoSnapshot) {
  std::unique_ptr<SnapshotReader> r;
  Status s = SnapshotReader::open(path("absent"), &r);
  EXPECT_EQ(s.code(), ErrorCode::kNoSnapshot);
  EXPECT_TRUE(contains(s.message(), path("absent")));
  EXPECT_EQ(validate_file(path("absent")).code(), ErrorCode::kNoSnapshot);
}

// ---- writer errors and misuse -----------------------------------------------

TEST_F(SnapshotFileTest, NoSpaceIsFatalAndNamesThePath) {
  // /dev/full fails every write with ENOSPC; the header is written at create.
  std::unique_ptr<SnapshotWriter> w;
  Status s = SnapshotWriter::create("/dev/full", WriterOptions{}, &w);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kFatal);
  EXPECT_TRUE(contains(s.message(), "/dev/full")) << s.message();
  EXPECT_TRUE(contains(s.message(), "No space left on device")) << s.message();
  EXPECT_EQ(w, nullptr);
}

TEST_F(SnapshotFileTest, WriteErrorMidStreamIsFatalAndSticky) {
  // RLIMIT_FSIZE makes writes past 100 KiB fail with EFBIG (SIGXFSZ ignored).
  struct rlimit old;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = old;
  lim.rlim_cur = 100 << 10;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);

  const std::string p = path("big");
  std::unique_ptr<SnapshotWriter> w;
  Status s = SnapshotWriter::create(p, WriterOptions{}, &w);
  Status werr, ferr;
  if (s.ok()) {
    const Bytes chunk = random_bytes(64 << 10, 1);
    for (int i = 0; i < 40 && werr.ok(); ++i) werr = w->write(chunk.data(), chunk.size());
    ferr = w->finish();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);

  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(werr.code(), ErrorCode::kFatal);
  EXPECT_TRUE(contains(werr.message(), p)) << werr.message();
  EXPECT_TRUE(contains(werr.message(), "write")) << werr.message();
  EXPECT_EQ(ferr.code(), ErrorCode::kFatal);
  EXPECT_EQ(ferr.message(), werr.message());
  EXPECT_EQ(validate_file(p).code(), ErrorCode::kCorrupted);
}

TEST_F(SnapshotFileTest, CreateInMissingDirectoryIsFatal) {
  std::unique_ptr<SnapshotWriter> w;
  const std::string p = path("no/such/dir/file");
  Status s = SnapshotWriter::create(p, WriterOptions{}, &w);
  EXPECT_EQ(s.code(), ErrorCode::kFatal);
  EXPECT_TRUE(contains(s.message(), p)) << s.message();
}

TEST_F(SnapshotFileTest, Misuse) {
  std::unique_ptr<SnapshotWriter> w;
  WriterOptions opts;
  opts.block_size = 0;
  EXPECT_EQ(SnapshotWriter::create(path("a"), opts, &w).code(), ErrorCode::kInvalidOperation);
  opts.block_size = kMaxBlockSize + 1;
  EXPECT_EQ(SnapshotWriter::create(path("a"), opts, &w).code(), ErrorCode::kInvalidOperation);
  opts.block_size = 4096;
  opts.compression = static_cast<Compression>(7);
  EXPECT_EQ(SnapshotWriter::create(path("a"), opts, &w).code(), ErrorCode::kInvalidOperation);

  ASSERT_TRUE(SnapshotWriter::create(path("a"), WriterOptions{}, &w).ok());
  ASSERT_TRUE(w->write("abc", 3).ok());
  ASSERT_TRUE(w->finish().ok());
  EXPECT_TRUE(w->finished());
  EXPECT_EQ(w->write("d", 1).code(), ErrorCode::kInvalidOperation);
  EXPECT_EQ(w->finish().code(), ErrorCode::kInvalidOperation);
  Bytes back;
  ASSERT_TRUE(read_snapshot(path("a"), 10, &back).ok());
  EXPECT_EQ(std::string(back.begin(), back.end()), "abc");
}

TEST_F(SnapshotFileTest, UnfinishedWriterLeavesAnInvalidFile) {
  {
    std::unique_ptr<SnapshotWriter> w;
    WriterOptions opts;
    opts.block_size = 100;
    ASSERT_TRUE(SnapshotWriter::create(path("u"), opts, &w).ok());
    const Bytes data = text_bytes(1000);
    ASSERT_TRUE(w->write(data.data(), data.size()).ok());
  }  // destroyed without finish()
  EXPECT_EQ(validate_file(path("u")).code(), ErrorCode::kCorrupted);
}

}  // namespace
}  // namespace dragonboat::snapshot
