#include "dragonboat/panic.h"

#include <cstdio>
#include <cstdlib>

namespace dragonboat {

void panic(const std::string& message) {
  std::fprintf(stderr, "dragonboat: fatal: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace dragonboat
