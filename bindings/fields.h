// bindings/fields.h — a C++ struct's fields named once, as (Python name,
// member pointer) pairs, for the conversions that need every field: a dict
// of them (to_dict), or a bound immutable value (listeners.cc's bind_info).
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <utility>

namespace dragonboat::bindings {

template <typename T, typename M>
using Field = std::pair<const char*, M T::*>;

// One field of T for to_dict / bind_info.
template <typename T, typename M>
Field<T, M> field(const char* name, M T::*member) {
  return {name, member};
}

// {name: value} of the given fields of `v`.
template <typename T, typename... M>
pybind11::dict to_dict(const T& v, Field<T, M>... fields) {
  pybind11::dict d;
  ((d[fields.first] = pybind11::cast(v.*(fields.second))), ...);
  return d;
}

}  // namespace dragonboat::bindings
