// Process logging: spdlog with a JSON-ish single-line format to stderr. `init_logging` is called
// once by the CLI before any thread starts; afterwards the spdlog default logger is thread-safe.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace wims {

// level: trace|debug|info|warn|error|off. Unknown levels are an InvalidArgument error.
absl::Status init_logging(std::string_view level);

}  // namespace wims
