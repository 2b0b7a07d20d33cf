// The Raft core must stay pure: no threads, clocks, sockets, files, global
// randomness, RocksDB or asio inside cpp/src/raft/ (time enters as tick(),
// input as step(), randomness through the injected Random).
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <string>
#include <vector>

namespace {

const std::string kRaftDir = std::string(DRAGONBOAT_TESTDATA_DIR) + "/../../../cpp/src/raft";

std::vector<std::string> raft_sources() {
  std::vector<std::string> out;
  if (DIR* d = opendir(kRaftDir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 3 && (n.substr(n.size() - 2) == ".h" || n.substr(n.size() - 3) == ".cc")) out.push_back(n);
    }
    closedir(d);
  }
  return out;
}

TEST(RaftPurity, NoThreadClockIoOrRandomnessHeaders) {
  const std::vector<std::string> banned = {
      "<thread>", "<mutex>", "<shared_mutex>", "<condition_variable>", "<future>", "<atomic>",
      "<chrono>", "<ctime>", "<time.h>", "<random>", "<cstdio>", "<stdio.h>", "<iostream>",
      "<fstream>", "<filesystem>", "<unistd.h>", "<fcntl.h>", "<sys/", "<netinet/", "<arpa/",
      "rocksdb", "asio", "<pthread.h>", "<signal.h>", "<csignal>"};
  std::vector<std::string> files = raft_sources();
  ASSERT_GT(files.size(), 10u) << "raft sources not found under " << kRaftDir;
  for (const auto& f : files) {
    std::ifstream in(kRaftDir + "/" + f);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.rfind("#include", 0) != 0) continue;
      for (const auto& b : banned) {
        EXPECT_EQ(line.find(b), std::string::npos) << f << ":" << n << " includes " << b;
      }
    }
  }
}

TEST(RaftPurity, NoFileGrowsPast800Lines) {
  for (const auto& f : raft_sources()) {
    std::ifstream in(kRaftDir + "/" + f);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) ++n;
    EXPECT_LE(n, 800) << f << " has " << n << " lines; split it by concern";
  }
}

}  // namespace
