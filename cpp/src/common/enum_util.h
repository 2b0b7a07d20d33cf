// common/enum_util.h — small helpers over enums: membership in a set of
// values, and a value's name from a table indexed by the value.
#pragma once

#include <cstddef>
#include <initializer_list>

namespace dragonboat {

// Whether `v` is one of `set`.
template <typename E>
constexpr bool one_of(E v, std::initializer_list<E> set) {
  for (E x : set)
    if (x == v) return true;
  return false;
}

// names[value - first]; `unknown` outside the table.
template <typename E, size_t N>
constexpr const char* enum_name(E v, const char* const (&names)[N], E first = E{}, const char* unknown = "unknown") {
  auto i = static_cast<size_t>(v) - static_cast<size_t>(first);
  return i < N ? names[i] : unknown;
}

}  // namespace dragonboat
