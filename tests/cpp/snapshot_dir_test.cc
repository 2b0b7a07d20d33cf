// Tests of the snapshot directory protocol (snapshot/snapshot_dir.h):
// directory names, publishing a built snapshot, listing only complete ones,
// removing leftovers and older snapshots, committing a received snapshot,
// and the flag file. The data file format is tested in snapshot_file_test.cc;
// the helpers and the fixture both use are in snapshot_test_util.h. Every
// test works in a fresh directory under /tmp that is removed afterwards.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"
#include "snapshot_test_util.h"

namespace dragonboat::snapshot {
namespace {

using namespace test;  // snapshot_test_util.h

// ---- directory protocol -------------------------------------------------------

SnapshotMeta ident(uint64_t index, uint64_t term = 3) {
  SnapshotMeta m;
  m.cluster_id = 100;
  m.node_id = 2;
  m.index = index;
  m.term = term;
  return m;
}

Status build_snapshot(const std::string& root, uint64_t index, const Bytes& payload,
                      SnapshotMeta* meta = nullptr) {
  std::unique_ptr<SnapshotBuilder> b;
  WriterOptions opts;
  opts.compression = Compression::kLz4;
  Status s = SnapshotBuilder::begin(root, ident(index), opts, &b);
  if (!s.ok()) return s;
  s = b->write(payload.data(), payload.size());
  if (!s.ok()) return s;
  return b->commit(meta);
}

std::vector<uint64_t> listed_indexes(const std::string& root) {
  std::vector<SnapshotMeta> all;
  Status s = list_snapshots(root, &all);
  EXPECT_TRUE(s.ok()) << s.to_string();
  std::vector<uint64_t> out;
  for (const auto& m : all) out.push_back(m.index);
  return out;
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(SnapshotFileTest, DirectoryNames) {
  EXPECT_EQ(snapshot_dir_name(255), "snapshot-00000000000000FF");
  EXPECT_EQ(snapshot_dir("/r", 1), "/r/snapshot-0000000000000001");
  EXPECT_EQ(snapshot_dir("/r/", 1), "/r/snapshot-0000000000000001");
  EXPECT_EQ(temp_snapshot_dir("/r", 16, TempKind::kGenerating),
            "/r/snapshot-0000000000000010.generating");
  EXPECT_EQ(temp_snapshot_dir("/r", 16, TempKind::kReceiving),
            "/r/snapshot-0000000000000010.receiving");
  EXPECT_EQ(data_file_path("/r/d", 16), "/r/d/snapshot-0000000000000010.gbsnap");
  EXPECT_EQ(meta_file_path("/r/d"), "/r/d/snapshot.meta");
  uint64_t i = 0;
  EXPECT_TRUE(parse_snapshot_dir_name("snapshot-FFFFFFFFFFFFFFFF", &i));
  EXPECT_EQ(i, UINT64_MAX);
  EXPECT_TRUE(parse_snapshot_dir_name(snapshot_dir_name(0x1234ABCD), &i));
  EXPECT_EQ(i, 0x1234ABCDu);
  for (const char* bad : {"snapshot-", "snapshot-00000000000000F", "snapshot-00000000000000FFF",
                          "snapshot-00000000000000FF.generating", "snapshot-00000000000000fg",
                          "snapshot-00000000000000ff", "Snapshot-00000000000000FF", "other"}) {
    EXPECT_FALSE(parse_snapshot_dir_name(bad, &i)) << bad;
  }
}

TEST_F(SnapshotFileTest, BuilderPublishesACompleteSnapshot) {
  const std::string root = path("node/snapshots");  // created on demand
  const Bytes payload = text_bytes(3 << 20);
  std::unique_ptr<SnapshotBuilder> b;
  WriterOptions opts;
  opts.compression = Compression::kLz4;
  ASSERT_TRUE(SnapshotBuilder::begin(root, ident(0x2A, 7), opts, &b).ok());
  EXPECT_EQ(b->temp_dir(), root + "/snapshot-000000000000002A.generating");
  EXPECT_TRUE(fs::is_directory(b->temp_dir()));
  EXPECT_TRUE(listed_indexes(root).empty()) << "not complete before commit";
  ASSERT_TRUE(b->write(payload.data(), payload.size()).ok());
  SnapshotMeta meta;
  Status s = b->commit(&meta);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(b->write("x", 1).code(), ErrorCode::kInvalidOperation);
  b.reset();  // destroying a committed builder removes nothing

  const std::string dir = snapshot_dir(root, 0x2A);
  EXPECT_FALSE(fs::exists(dir + ".generating"));
  EXPECT_EQ(dir_entries(root), std::vector<std::string>{"snapshot-000000000000002A"});
  EXPECT_EQ(dir_entries(dir),
            (std::vector<std::string>{"snapshot-000000000000002A.gbsnap", "snapshot.meta"}));
  EXPECT_EQ(meta.cluster_id, 100u);
  EXPECT_EQ(meta.node_id, 2u);
  EXPECT_EQ(meta.index, 0x2Au);
  EXPECT_EQ(meta.term, 7u);
  EXPECT_EQ(meta.payload_size, payload.size());
  EXPECT_EQ(meta.file_size, fs::file_size(data_file_path(dir, 0x2A)));
  EXPECT_EQ(fs::file_size(meta_file_path(dir)), kMetaFileSize);

  SnapshotMeta on_disk;
  ASSERT_TRUE(read_meta_file(meta_file_path(dir), &on_disk).ok());
  EXPECT_TRUE(on_disk == meta);
  SnapshotMeta latest;
  ASSERT_TRUE(latest_snapshot(root, &latest).ok());
  EXPECT_TRUE(latest == meta);

  DataFileInfo info;
  ASSERT_TRUE(validate_file(data_file_path(dir, 0x2A), &info).ok());
  EXPECT_EQ(info.data_checksum, meta.data_checksum);
  Bytes back;
  ASSERT_TRUE(read_snapshot(data_file_path(dir, 0x2A), 99999, &back).ok());
  EXPECT_TRUE(back == payload);

  // The same index cannot be published twice.
  s = build_snapshot(root, 0x2A, payload);
  EXPECT_EQ(s.code(), ErrorCode::kRejected) << s.to_string();
  EXPECT_EQ(listed_indexes(root), std::vector<uint64_t>{0x2A});
  EXPECT_EQ(dir_entries(root), std::vector<std::string>{"snapshot-000000000000002A"})
      << "the failed builder removed its .generating directory";
}

TEST_F(SnapshotFileTest, AbandonedBuilderRemovesItsDirectory) {
  const std::string root = path("r");
  {
    std::unique_ptr<SnapshotBuilder> b;
    ASSERT_TRUE(SnapshotBuilder::begin(root, ident(5), WriterOptions{}, &b).ok());
    ASSERT_TRUE(b->write("abc", 3).ok());
    EXPECT_TRUE(fs::exists(b->temp_dir()));
  }
  EXPECT_TRUE(dir_entries(root).empty());
  std::unique_ptr<SnapshotBuilder> b;
  ASSERT_TRUE(SnapshotBuilder::begin(root, ident(6), WriterOptions{}, &b).ok());
  ASSERT_TRUE(b->abort().ok());
  EXPECT_TRUE(dir_entries(root).empty());
  EXPECT_EQ(b->commit().code(), ErrorCode::kInvalidOperation);
}

TEST_F(SnapshotFileTest, OnlyCompleteSnapshotsAreListedAndLeftoversRemoved) {
  const std::string root = path("r");
  ASSERT_TRUE(build_snapshot(root, 10, text_bytes(1000)).ok());
  ASSERT_TRUE(build_snapshot(root, 20, text_bytes(2000)).ok());

  // A crash while generating 30: data file written, never committed.
  std::string gen;
  ASSERT_TRUE(create_temp_dir(root, 30, TempKind::kGenerating, &gen).ok());
  ASSERT_TRUE(write_snapshot(data_file_path(gen, 30), text_bytes(500), WriterOptions{}).ok());
  // A crash while receiving 40: half a file.
  std::string recv;
  ASSERT_TRUE(create_temp_dir(root, 40, TempKind::kReceiving, &recv).ok());
  write_file_bytes(data_file_path(recv, 40), Bytes(100, 1));
  // A crash while removing 5.
  fs::create_directories(snapshot_dir(root, 5) + kDeletingSuffix);
  // Final-named directories that are not complete snapshots:
  fs::create_directories(snapshot_dir(root, 25));  // no flag file
  ASSERT_TRUE(build_snapshot(root, 26, text_bytes(10)).ok());
  {
    Bytes m = read_file_bytes(meta_file_path(snapshot_dir(root, 26)));
    m[33] ^= 1;  // flag file fails its checksum
    write_file_bytes(meta_file_path(snapshot_dir(root, 26)), m);
  }
  ASSERT_TRUE(build_snapshot(root, 27, text_bytes(10)).ok());
  fs::resize_file(data_file_path(snapshot_dir(root, 27), 27), 10);  // data file size differs
  ASSERT_TRUE(build_snapshot(root, 28, text_bytes(10)).ok());
  {
    SnapshotMeta m;
    ASSERT_TRUE(read_meta_file(meta_file_path(snapshot_dir(root, 28)), &m).ok());
    m.index = 29;  // flag file of another index
    ASSERT_TRUE(write_meta_file(meta_file_path(snapshot_dir(root, 28)), m).ok());
  }
  write_file_bytes(root + "/unrelated.txt", Bytes(3, 'x'));

  std::vector<SnapshotMeta> all;
  std::vector<std::string> incomplete;
  ASSERT_TRUE(list_snapshots(root, &all, &incomplete).ok());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].index, 10u);
  EXPECT_EQ(all[1].index, 20u);
  EXPECT_EQ(incomplete, (std::vector<std::string>{snapshot_dir_name(25), snapshot_dir_name(26),
                                                  snapshot_dir_name(27), snapshot_dir_name(28)}));
  SnapshotMeta latest;
  ASSERT_TRUE(latest_snapshot(root, &latest).ok());
  EXPECT_EQ(latest.index, 20u);

  std::vector<std::string> removed;
  ASSERT_TRUE(remove_orphans(root, &removed).ok());
  EXPECT_EQ(removed, (std::vector<std::string>{snapshot_dir_name(5) + ".deleting",
                                               snapshot_dir_name(30) + ".generating",
                                               snapshot_dir_name(40) + ".receiving"}));
  EXPECT_FALSE(fs::exists(gen));
  EXPECT_FALSE(fs::exists(recv));
  EXPECT_TRUE(fs::exists(root + "/unrelated.txt"));
  EXPECT_EQ(listed_indexes(root), (std::vector<uint64_t>{10, 20}));

  // Snapshots below 26 go, complete or not; 26..28 stay.
  std::vector<uint64_t> gone;
  ASSERT_TRUE(remove_snapshots_before(root, 26, &gone).ok());
  EXPECT_EQ(gone, (std::vector<uint64_t>{10, 20, 25}));
  EXPECT_TRUE(listed_indexes(root).empty());
  EXPECT_EQ(latest_snapshot(root, &latest).code(), ErrorCode::kNoSnapshot);
  EXPECT_EQ(dir_entries(root),
            (std::vector<std::string>{snapshot_dir_name(26), snapshot_dir_name(27),
                                      snapshot_dir_name(28), "unrelated.txt"}));
}

TEST_F(SnapshotFileTest, RemoveSnapshotsBeforeKeepsNewerOnes) {
  const std::string root = path("r");
  for (uint64_t i : {3, 7, 9, 12}) ASSERT_TRUE(build_snapshot(root, i, text_bytes(i)).ok());
  std::vector<uint64_t> gone;
  ASSERT_TRUE(remove_snapshots_before(root, 9, &gone).ok());
  EXPECT_EQ(gone, (std::vector<uint64_t>{3, 7}));
  EXPECT_EQ(listed_indexes(root), (std::vector<uint64_t>{9, 12}));
  ASSERT_TRUE(remove_snapshot(root, 12).ok());
  ASSERT_TRUE(remove_snapshot(root, 12).ok()) << "removing an absent snapshot is OK";
  EXPECT_EQ(listed_indexes(root), (std::vector<uint64_t>{9}));
}

TEST_F(SnapshotFileTest, MissingRoot) {
  const std::string root = path("never-created");
  std::vector<SnapshotMeta> all;
  EXPECT_TRUE(list_snapshots(root, &all).ok());
  EXPECT_TRUE(all.empty());
  SnapshotMeta m;
  EXPECT_EQ(latest_snapshot(root, &m).code(), ErrorCode::kNoSnapshot);
  EXPECT_TRUE(remove_orphans(root).ok());
  EXPECT_TRUE(remove_snapshots_before(root, 100).ok());
}

TEST_F(SnapshotFileTest, ReceivedSnapshotIsCommittedAfterValidation) {
  // What the transport does: copy the raw data file in chunks into a
  // .receiving directory, validate it, and publish it.
  const Bytes payload = random_bytes(200000, 11);
  ASSERT_TRUE(write_snapshot(path("source"), payload, WriterOptions{}).ok());
  const Bytes raw = read_file_bytes(path("source"));
  const std::string root = path("r");
  std::string dir;
  ASSERT_TRUE(create_temp_dir(root, 77, TempKind::kReceiving, &dir).ok());
  {
    std::ofstream out(data_file_path(dir, 77), std::ios::binary);
    for (size_t off = 0; off < raw.size(); off += 65536) {
      out.write(reinterpret_cast<const char*>(raw.data() + off),
                static_cast<std::streamsize>(std::min<size_t>(65536, raw.size() - off)));
    }
  }
  DataFileInfo info;
  ASSERT_TRUE(validate_file(data_file_path(dir, 77), &info).ok());
  SnapshotMeta m = ident(77);
  m.file_size = info.file_size;
  m.payload_size = info.payload_size;
  m.data_checksum = info.data_checksum;

  SnapshotMeta wrong = m;
  wrong.file_size += 1;
  EXPECT_EQ(commit_snapshot_dir(root, dir, wrong).code(), ErrorCode::kInvalidOperation);
  ASSERT_TRUE(commit_snapshot_dir(root, dir, m).ok());
  SnapshotMeta latest;
  ASSERT_TRUE(latest_snapshot(root, &latest).ok());
  EXPECT_TRUE(latest == m);
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(SnapshotFileTest, FlagFileVerification) {
  const std::string p = path("snapshot.meta");
  SnapshotMeta m = ident(9, 4);
  m.file_size = 1234;
  m.payload_size = 5678;
  m.data_checksum = 0xDEADBEEFCAFEF00DULL;
  ASSERT_TRUE(write_meta_file(p, m).ok());
  SnapshotMeta back;
  ASSERT_TRUE(read_meta_file(p, &back).ok());
  EXPECT_TRUE(back == m);

  const Bytes good = read_file_bytes(p);
  ASSERT_EQ(good.size(), kMetaFileSize);
  EXPECT_EQ(std::string(good.begin(), good.begin() + 8), "DRAGMETA");
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x04;
    write_file_bytes(p, bad);
    Status s = read_meta_file(p, &back);
    EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << "byte " << i;
    EXPECT_TRUE(contains(s.message(), p));
  }
  for (size_t len : {size_t{0}, size_t{40}, kMetaFileSize - 1}) {
    write_file_bytes(p, Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len)));
    EXPECT_EQ(read_meta_file(p, &back).code(), ErrorCode::kCorrupted) << len;
  }
  Bytes longer = good;
  longer.push_back(0);
  write_file_bytes(p, longer);
  EXPECT_EQ(read_meta_file(p, &back).code(), ErrorCode::kCorrupted);
  EXPECT_EQ(read_meta_file(path("absent.meta"), &back).code(), ErrorCode::kNoSnapshot);
}

}  // namespace
}  // namespace dragonboat::snapshot
