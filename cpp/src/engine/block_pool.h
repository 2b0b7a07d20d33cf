// engine/block_pool.h — recycled blocks for the nodes of std::map and
// std::unordered_map whose inserts and erases happen on different threads.
//
// A request's entries in a PendingRequests table are inserted by the client
// thread that proposes and erased by the apply worker that completes it. With
// glibc's allocator a block freed by another thread does not return to the
// allocating thread's cache, so every insert took the slow path. Blocks kept
// here are reused by whichever thread inserts next.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace dragonboat::engine {

// Free lists of blocks by size. NOT thread-safe: used only under the lock of
// the owner that guards the containers allocating from it. At most `keep`
// free blocks per size are kept (a burst's surplus goes back to malloc);
// `trim(n)` frees all but n of them (an idle table holds almost nothing).
class BlockPool {
 public:
  explicit BlockPool(size_t keep) : keep_(keep) {}
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  ~BlockPool() { release(); }

  void* allocate(size_t bytes) {
    List* l = find(bytes);
    if (l == nullptr || l->free.empty()) return ::operator new(bytes);
    void* p = l->free.back();
    l->free.pop_back();
    return p;
  }

  void deallocate(void* p, size_t bytes) noexcept {
    List* l = find(bytes);
    try {
      if (l == nullptr && lists_.size() < kMaxSizes) {
        lists_.push_back(List{bytes, {}});
        l = &lists_.back();
      }
      if (l != nullptr && l->free.size() < keep_) {
        l->free.push_back(p);
        return;
      }
    } catch (const std::bad_alloc&) {
      // No room to remember it: give it back.
    }
    ::operator delete(p);
  }

  // Frees the kept blocks beyond `n` per size, and the room to remember more
  // than a few of them.
  void trim(size_t n) noexcept {
    for (List& l : lists_) {
      while (l.free.size() > n) {
        ::operator delete(l.free.back());
        l.free.pop_back();
      }
      if (l.free.capacity() > 2 * n + 8) {
        try {
          l.free.shrink_to_fit();
        } catch (const std::bad_alloc&) {
          // keeps the room: harmless
        }
      }
    }
  }
  // Frees every kept block.
  void release() noexcept { trim(0); }

  // Free blocks kept: of `bytes`, or of every size.
  size_t kept(size_t bytes) const {
    for (const List& l : lists_)
      if (l.bytes == bytes) return l.free.size();
    return 0;
  }
  size_t kept() const {
    size_t n = 0;
    for (const List& l : lists_) n += l.free.size();
    return n;
  }

 private:
  static constexpr size_t kMaxSizes = 4;  // a map node, a hash node, a bucket array of one
  struct List {
    size_t bytes;
    std::vector<void*> free;
  };
  List* find(size_t bytes) {
    for (List& l : lists_)
      if (l.bytes == bytes) return &l;
    return nullptr;
  }
  const size_t keep_;
  std::vector<List> lists_;
};

// A standard allocator drawing single objects (container nodes) from a
// BlockPool; arrays (a hash table's buckets) come from operator new.
template <typename T>
class PoolAllocator {
 public:
  using value_type = T;
  explicit PoolAllocator(BlockPool* pool) noexcept : pool_(pool) {}
  template <typename U>
  PoolAllocator(const PoolAllocator<U>& o) noexcept : pool_(o.pool()) {}  // NOLINT: rebinding is implicit

  T* allocate(size_t n) {
    if (n == 1) return static_cast<T*>(pool_->allocate(sizeof(T)));
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n == 1) {
      pool_->deallocate(p, sizeof(T));
    } else {
      ::operator delete(p);
    }
  }
  BlockPool* pool() const noexcept { return pool_; }

  friend bool operator==(const PoolAllocator& a, const PoolAllocator& b) noexcept { return a.pool_ == b.pool_; }
  friend bool operator!=(const PoolAllocator& a, const PoolAllocator& b) noexcept { return a.pool_ != b.pool_; }

 private:
  BlockPool* pool_;
};

}  // namespace dragonboat::engine
