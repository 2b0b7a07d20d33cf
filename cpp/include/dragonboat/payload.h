// dragonboat/payload.h — the bytes of a log entry's command: immutable and
// shared between the copies of the entry.
//
// One proposed entry is copied several times on its way: into the Update the
// leader saves, into a Replicate message per follower, into the batch the
// apply worker runs. Those copies now share one buffer (a reference count)
// instead of duplicating the bytes: no allocation and no memcpy per copy,
// and the buffer is freed once, by whichever thread drops the last copy.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace dragonboat::raftpb {

class Payload {
 public:
  Payload() = default;
  // A copy of the bytes, in ONE allocation with its reference count (a
  // proposal's bytes are allocated by the client's thread and freed by
  // another: one block instead of a count block plus a string buffer).
  // Implicit, so an Entry's cmd is assigned from a std::string, a
  // string_view or a literal.
  Payload(std::string_view bytes) : buf_(make(bytes.data(), bytes.size())) {}  // NOLINT(google-explicit-constructor)
  Payload(const std::string& bytes) : Payload(std::string_view(bytes)) {}     // NOLINT(google-explicit-constructor)
  Payload(const char* bytes) : Payload(std::string_view(bytes)) {}            // NOLINT(google-explicit-constructor)

  // Copies share the bytes (the count goes up; no allocation, no memcpy).
  Payload(const Payload& o) noexcept : buf_(o.buf_) {
    if (buf_ != nullptr) buf_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Payload(Payload&& o) noexcept : buf_(std::exchange(o.buf_, nullptr)) {}
  Payload& operator=(const Payload& o) noexcept {
    Payload(o).swap(*this);
    return *this;
  }
  Payload& operator=(Payload&& o) noexcept {
    Payload(std::move(o)).swap(*this);
    return *this;
  }
  ~Payload() { release(); }
  void swap(Payload& o) noexcept { std::swap(buf_, o.buf_); }

  // Replaces the bytes with a copy of [data, data + n).
  void assign(const char* data, size_t n) { *this = Payload(std::string_view(data, n)); }

  size_t size() const { return buf_ != nullptr ? buf_->size : 0; }
  bool empty() const { return size() == 0; }
  const char* data() const { return buf_ != nullptr ? buf_->bytes() : ""; }
  char operator[](size_t i) const { return view()[i]; }
  std::string_view view() const { return std::string_view(data(), size()); }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
  // A copy of the bytes as a std::string.
  std::string str() const { return std::string(view()); }

  friend bool operator==(const Payload& a, const Payload& b) { return a.view() == b.view(); }
  friend bool operator==(const Payload& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(std::string_view a, const Payload& b) { return a == b.view(); }
  friend bool operator==(const Payload& a, const std::string& b) { return a.view() == b; }
  friend bool operator==(const std::string& a, const Payload& b) { return a == b.view(); }
  friend bool operator==(const Payload& a, const char* b) { return a.view() == b; }
  friend bool operator==(const char* a, const Payload& b) { return a == b.view(); }
  template <typename T>
  friend bool operator!=(const Payload& a, const T& b) {
    return !(a == b);
  }

 private:
  // The count and the size, the bytes right after them.
  struct Buffer {
    explicit Buffer(size_t n) : refs(1), size(n) {}
    std::atomic<size_t> refs;
    const size_t size;
    char* bytes() { return reinterpret_cast<char*>(this + 1); }
  };
  static Buffer* make(const char* data, size_t n) {
    if (n == 0) return nullptr;  // empty: no buffer
    auto* b = new (::operator new(sizeof(Buffer) + n)) Buffer(n);
    std::memcpy(b->bytes(), data, n);
    return b;
  }
  void release() noexcept {
    // The last copy frees the block; acq_rel orders every copy's reads
    // before the free.
    if (buf_ != nullptr && buf_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      buf_->~Buffer();
      ::operator delete(buf_);
    }
  }
  Buffer* buf_ = nullptr;  // null when empty
};

}  // namespace dragonboat::raftpb
