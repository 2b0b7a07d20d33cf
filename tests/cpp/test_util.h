// test_util.h — small helpers shared by the C++ tests.
#pragma once

#include <chrono>
#include <thread>

namespace dragonboat::test {

// Re-checks `pred` until it holds; false once `limit` passed. For state that
// no callback announces (counters, leadership); the limit only turns a hang
// into a test failure, it never stands in for synchronisation.
template <typename P>
bool eventually(P pred, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    // A short pause between checks leaves the (2) cores to the engine.
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return true;
}

}  // namespace dragonboat::test
