// String glue. Debian's Abseil (20220623) is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so
// absl::string_view is its own type and absl::StrCat / absl::ParseTime do not take a
// std::string_view. wims APIs use std::string_view; convert at the absl call with `to_absl`.
// Header-only; stateless.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace wims {

inline absl::string_view to_absl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view to_std(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace wims
