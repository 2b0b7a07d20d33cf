// common/recycled_blocks.h — blocks of one size recycled between threads, for
// objects made on one thread and freed on another.
//
// A proposal's RequestState is made by the client's thread and usually freed
// by the apply worker that completes it. glibc's malloc caches freed blocks
// per thread, so a block freed by another thread never returns to the
// allocating thread's cache: every allocation took malloc's slow path (the
// Python client's completion thread spent ~15 % of its time in _int_malloc).
// Blocks kept here are reused by whichever thread allocates next.
//
// Thread-safe. The free lists live for the process (never destroyed: a
// block may be freed by a thread still running at exit).
#pragma once

#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

// Under AddressSanitizer a kept block is poisoned until handed out again, so
// a use after free of a recycled object is still reported.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define DB_POISON_BLOCK(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define DB_UNPOISON_BLOCK(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define DB_POISON_BLOCK(p, n) ((void)(p), (void)(n))
#define DB_UNPOISON_BLOCK(p, n) ((void)(p), (void)(n))
#endif

namespace dragonboat {

// Free blocks of `kBytes`, at most `kKeep` of them (a burst's surplus goes
// back to malloc).
template <size_t kBytes, size_t kKeep = 4096>
class RecycledBlocks {
 public:
  static void* allocate() {
    State& s = state();
    {
      std::lock_guard<std::mutex> g(s.mu);
      if (!s.free.empty()) {
        void* p = s.free.back();
        s.free.pop_back();
        DB_UNPOISON_BLOCK(p, kBytes);
        return p;
      }
    }
    return ::operator new(kBytes);
  }

  static void deallocate(void* p) noexcept {
    State& s = state();
    {
      std::lock_guard<std::mutex> g(s.mu);
      if (s.free.size() < kKeep) {  // never grows: reserved at construction
        DB_POISON_BLOCK(p, kBytes);
        s.free.push_back(p);
        return;
      }
    }
    ::operator delete(p);
  }

  // Free blocks kept now (tests).
  static size_t kept() {
    State& s = state();
    std::lock_guard<std::mutex> g(s.mu);
    return s.free.size();
  }

 private:
  struct State {
    State() { free.reserve(kKeep); }
    std::mutex mu;
    std::vector<void*> free;
  };
  static State& state() {
    static State* s = new State;  // leaked on purpose (see above)
    return *s;
  }
};

// A standard allocator whose single objects come from RecycledBlocks (for
// std::allocate_shared: the object and its control block are one block).
template <typename T>
class RecyclingAllocator {
 public:
  using value_type = T;
  RecyclingAllocator() noexcept = default;
  template <typename U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "blocks come from plain operator new");

  T* allocate(size_t n) {
    if (n == 1) return static_cast<T*>(RecycledBlocks<sizeof(T)>::allocate());
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n == 1) {
      RecycledBlocks<sizeof(T)>::deallocate(p);
    } else {
      ::operator delete(p);
    }
  }

  friend bool operator==(const RecyclingAllocator&, const RecyclingAllocator&) noexcept { return true; }
  friend bool operator!=(const RecyclingAllocator&, const RecyclingAllocator&) noexcept { return false; }
};

}  // namespace dragonboat
