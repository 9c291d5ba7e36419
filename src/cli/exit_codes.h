// Process exit codes of the `wims` executable, shared by every subcommand.
#pragma once

namespace wims::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure =
    1;  // the command ran and failed (bad config, bind error, upstream error)
inline constexpr int kExitUsage = 2;  // bad command line: unknown flag, missing argument, bad value

}  // namespace wims::cli
