// Defaults shared by the subcommands: listen addresses of `wims up`, the state directory, and the
// admin token file the local cloud writes there. Stateless.
#pragma once

#include <string>

namespace wims::cli {

inline constexpr char kDefaultMetadataAddr[] = "127.0.0.1:8980";
inline constexpr char kDefaultCloudAddr[] = "127.0.0.1:8981";
inline constexpr char kDefaultAdminAddr[] = "127.0.0.1:8982";
inline constexpr char kAdminTokenFileName[] = "admin-token";

// $WIMS_STATE_DIR, else $XDG_STATE_HOME/wims, else $HOME/.local/state/wims, else ./.wims-state.
std::string default_state_dir();

}  // namespace wims::cli
