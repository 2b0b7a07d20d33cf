// dragonboat/payload.h — the bytes of a log entry's command: immutable and
// shared between the copies of the entry.
//
// One proposed entry is copied several times on its way: into the Update the
// leader saves, into a Replicate message per follower, into the batch the
// apply worker runs. Those copies now share one buffer (a reference count)
// instead of duplicating the bytes: no allocation and no memcpy per copy,
// and the buffer is freed once, by whichever thread drops the last copy.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace dragonboat::raftpb {

class Payload {
 public:
  Payload() = default;
  // Takes the string's buffer (moved, not copied). Implicit, so an Entry's
  // cmd is assigned from a std::string, a string_view or a literal as before.
  Payload(std::string bytes)  // NOLINT(google-explicit-constructor)
      : bytes_(bytes.empty() ? nullptr : std::make_shared<const std::string>(std::move(bytes))) {}
  Payload(std::string_view bytes) : Payload(std::string(bytes)) {}  // NOLINT(google-explicit-constructor)
  Payload(const char* bytes) : Payload(std::string(bytes)) {}       // NOLINT(google-explicit-constructor)

  // Replaces the bytes with a copy of [data, data + n).
  void assign(const char* data, size_t n) { *this = Payload(std::string(data, n)); }

  size_t size() const { return bytes_ ? bytes_->size() : 0; }
  bool empty() const { return size() == 0; }
  const char* data() const { return bytes_ ? bytes_->data() : ""; }
  char operator[](size_t i) const { return view()[i]; }
  std::string_view view() const { return bytes_ ? std::string_view(*bytes_) : std::string_view(); }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
  // The bytes as a std::string (shared; valid while this payload is).
  const std::string& str() const {
    static const std::string kEmpty;
    return bytes_ ? *bytes_ : kEmpty;
  }

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
  std::shared_ptr<const std::string> bytes_;  // null when empty
};

}  // namespace dragonboat::raftpb
