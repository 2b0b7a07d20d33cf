// Data-driven interaction tests: each file under testdata/interaction/ is a
// transcript of commands ("> cmd") followed by the exact output expected.
// To regenerate after an intended behaviour change and review it as a diff:
//   DRAGONBOAT_REWRITE=1 build/dev/tests/cpp/interaction_test && git diff tests/cpp/testdata
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/interaction.h"

namespace dragonboat::sim {
namespace {

struct Block {
  std::vector<std::string> comments;  // '#' and blank lines before the command
  std::string command;
  std::vector<std::string> expected;
  int line = 0;
};

std::vector<Block> parse(const std::string& path) {
  std::ifstream in(path);
  std::vector<Block> blocks;
  Block cur;
  bool in_output = false;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    bool is_cmd = line.rfind("> ", 0) == 0;
    bool is_comment = line.empty() || line[0] == '#';
    if (is_cmd) {
      if (in_output) {
        blocks.push_back(cur);
        cur = Block{};
      }
      cur.command = line.substr(2);
      cur.line = n;
      in_output = true;
    } else if (in_output && !is_comment) {
      cur.expected.push_back(line);
    } else {
      if (in_output) {
        blocks.push_back(cur);
        cur = Block{};
        in_output = false;
      }
      cur.comments.push_back(line);
    }
  }
  if (in_output) blocks.push_back(cur);
  return blocks;
}

std::vector<std::string> transcript_files() {
  std::string dir = std::string(DRAGONBOAT_TESTDATA_DIR) + "/interaction";
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 4 && name.substr(name.size() - 4) == ".txt") files.push_back(name);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Interaction : public ::testing::TestWithParam<std::string> {};

TEST_P(Interaction, Transcript) {
  std::string path = std::string(DRAGONBOAT_TESTDATA_DIR) + "/interaction/" + GetParam();
  std::vector<Block> blocks = parse(path);
  ASSERT_FALSE(blocks.empty()) << path << " has no commands";
  bool rewrite = std::getenv("DRAGONBOAT_REWRITE") != nullptr;
  InteractionCluster cluster;
  std::ostringstream regenerated;
  for (const Block& b : blocks) {
    for (const auto& c : b.comments) regenerated << c << "\n";
    std::vector<std::string> got = cluster.run(b.command);
    regenerated << "> " << b.command << "\n";
    for (const auto& g : got) regenerated << g << "\n";
    if (!rewrite) {
      std::ostringstream want, have;
      for (const auto& l : b.expected) want << l << "\n";
      for (const auto& l : got) have << l << "\n";
      EXPECT_EQ(want.str(), have.str()) << GetParam() << ":" << b.line << ": > " << b.command;
    }
  }
  if (rewrite) {
    std::ofstream out(path);
    out << regenerated.str();
  }
}

INSTANTIATE_TEST_SUITE_P(Transcripts, Interaction, ::testing::ValuesIn(transcript_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param.substr(0, info.param.size() - 4);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace dragonboat::sim
