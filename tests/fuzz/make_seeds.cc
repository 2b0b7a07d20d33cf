// make_seeds: writes the seed corpus of wire_fuzz (tests/fuzz/corpus/wire/):
// small valid frames, batches and chunks, each prefixed by the fuzzer's mode
// byte (see wire_fuzz.cc). Built and run by `tests/fuzz/run.sh --seeds`.
#include <cstdio>
#include <string>

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
  raft::Message m;
  m.type = raft::MessageType::kReplicate;
  m.to = 2;
  m.from = 1;
  m.cluster_id = 9;
  m.term = 5;
  m.log_term = 5;
  m.log_index = 300;
  m.commit = 299;
  raft::Entry e;
  e.term = 5;
  e.index = 301;
  e.key = 77;
  e.client_id = 1234567890123ULL;
  e.cmd = "set x=1";
  m.entries.push_back(e);
  e.index = 302;
  e.type = raft::EntryType::kConfigChange;
  raft::ConfigChange cc;
  cc.node_id = 4;
  cc.address = "d:4";
  e.cmd = raft::encode_config_change(cc);
  m.entries.push_back(e);
  b.requests.push_back(m);
  raft::Message s;
  s.type = raft::MessageType::kInstallSnapshot;
  s.to = 3;
  s.from = 1;
  s.cluster_id = 9;
  s.term = 5;
  s.snapshot.index = 200;
  s.snapshot.term = 4;
  s.snapshot.membership.addresses = {{1, "a:1"}, {2, "b:2"}};
  s.snapshot.membership.witnesses = {{5, "e:5"}};
  s.snapshot.membership.removed = {4};
  s.snapshot.filepath = "snapshot-00000000000000C8.gbsnap";
  s.snapshot.file_size = 4096;
  s.snapshot.data = "abc";
  b.requests.push_back(s);
  raft::Message r;
  r.type = raft::MessageType::kHeartbeatResp;
  r.to = 1;
  r.from = 2;
  r.reject = true;
  r.hint = 12;
  b.requests.push_back(r);
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
    raft::Message m;
    m.type = static_cast<raft::MessageType>(t);
    m.to = 1;
    m.term = t;
    all.requests.push_back(m);
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
