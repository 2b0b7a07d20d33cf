// make_seeds: writes the seed corpus of wire_fuzz (tests/fuzz/corpus/wire/):
// small valid frames, batches and chunks, each prefixed by the fuzzer's mode
// byte (see wire_fuzz.cc). Built and run by `tests/fuzz/run.sh --seeds`
// (which puts tests/cpp on the include path for message_builder.h).
#include <cstdio>
#include <string>

#include "message_builder.h"
#include "transport/wire.h"

using namespace dragonboat;
using namespace dragonboat::transport;

namespace {

void write(const std::string& dir, const std::string& name, char mode, const std::string& bytes) {
  const std::string path = dir + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::fputc(mode, f);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

MessageBatch sample_batch() {
  MessageBatch b;
  b.deployment_id = 42;
  b.source_address = "10.0.0.1:63001";
  b.bin_version = 210;
  raft::ConfigChange cc;
  cc.node_id = 4;
  cc.address = "d:4";
  b.requests.push_back(test::msg(raft::MessageType::kReplicate, 1, 2, 5)
                           .with_cluster(9)
                           .with_log(300, 5)
                           .with_commit(299)
                           .with_entries({test::entry(301, 5, "set x=1").with_key(77).with_session(1234567890123ULL, 0),
                                          test::entry(302, 5, raft::encode_config_change(cc))
                                              .with_key(77)
                                              .with_session(1234567890123ULL, 0)
                                              .with_type(raft::EntryType::kConfigChange)}));
  raft::Message s = test::msg(raft::MessageType::kInstallSnapshot, 1, 3, 5)
                        .with_cluster(9)
                        .with_snapshot(test::snap(200, 4)
                                           .with_members({{1, "a:1"}, {2, "b:2"}})
                                           .with_file("snapshot-00000000000000C8.gbsnap", 4096)
                                           .with_data("abc"));
  s.snapshot.membership.witnesses = {{5, "e:5"}};
  s.snapshot.membership.removed = {4};
  b.requests.push_back(s);
  b.requests.push_back(test::msg(raft::MessageType::kHeartbeatResp, 2, 1, 0).with_cluster(0).with_reject().with_hint(12));
  return b;
}

SnapshotChunk sample_chunk(bool file_info) {
  SnapshotChunk c;
  c.cluster_id = 9;
  c.node_id = 3;
  c.from = 1;
  c.deployment_id = 42;
  c.bin_version = 210;
  c.chunk_id = 1;
  c.chunk_count = 4;
  c.file_size = 10000;
  c.index = 200;
  c.term = 4;
  c.membership.addresses = {{1, "a:1"}, {3, "c:3"}};
  c.file_path = "snapshot-00000000000000C8.gbsnap";
  c.file_chunk_id = 1;
  c.file_chunk_count = 4;
  c.has_file_info = file_info;
  if (file_info) {
    c.file_info.file_path = "ext.sst";
    c.file_info.file_size = 30;
    c.file_info.file_id = 1;
    c.file_info.metadata = "m";
  }
  c.data = "0123456789abcdef";
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const MessageBatch b = sample_batch();
  std::string s;

  encode_batch(b, &s);
  write(dir, "batch", 1, s);
  write(dir, "batch-tiny-limits", static_cast<char>(0x81), s);
  s.clear();
  encode_batch(MessageBatch{}, &s);
  write(dir, "batch-empty", 1, s);
  MessageBatch all;
  for (int t = 0; t <= static_cast<int>(raft::MessageType::kNoOp); ++t) {
    all.requests.push_back(test::msg(static_cast<raft::MessageType>(t), 0, 1, t).with_cluster(0));
  }
  s.clear();
  encode_batch(all, &s);
  write(dir, "batch-every-type", 1, s);

  s.clear();
  encode_chunk(sample_chunk(true), &s);
  write(dir, "chunk-file-info", 2, s);
  write(dir, "chunk-tiny-limits", static_cast<char>(0x82), s);
  s.clear();
  encode_chunk(sample_chunk(false), &s);
  write(dir, "chunk", 2, s);

  s.clear();
  encode_batch_frame(b, &s);
  encode_frame_header(Method::kPoke, {}, &s);
  encode_chunk_frame(sample_chunk(true), &s);
  write(dir, "frames-batch-poke-chunk", 0, s);
  s.clear();
  encode_frame_header(Method::kPoke, {}, &s);
  write(dir, "frame-poke", 0, s);
  return 0;
}
