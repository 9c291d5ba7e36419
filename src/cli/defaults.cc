#include "cli/defaults.h"

#include <cstdlib>

namespace wims::cli {

std::string default_state_dir() {
  if (const char* d = std::getenv("WIMS_STATE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/wims";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/state/wims";
  return ".wims-state";
}

}  // namespace wims::cli
