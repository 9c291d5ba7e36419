#!/usr/bin/env bash
# Compiles every header under src/ on its own (-fsyntax-only, in parallel), so that each one includes
# what it uses. Uses the compiler and flags build/compile_commands.json records for the cli module
# (which sees every module's include directories); run after configuring build/.
# Usage: scripts/check-headers.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=${WIMS_JOBS:-$(nproc)}
command=$(python3 - "$build/compile_commands.json" <<'PY'
import json, shlex, sys
for entry in json.load(open(sys.argv[1])):
    if "wims_cli.dir" in entry.get("output", entry.get("command", "")):
        args = shlex.split(entry["command"]) if "command" in entry else entry["arguments"]
        keep, skip = [], False
        for a in args:
            if skip:
                skip = False
            elif a in ("-o", "-c", "-MF", "-MT", "-MQ"):
                skip = a != "-c"
            elif a == entry["file"] or a.endswith((".cc", ".cxx")) or a in ("-MD", "-MMD"):
                pass
            else:
                keep.append(a)
        print(shlex.join(keep))
        break
PY
)
[[ -n "$command" ]] || { echo "check-headers: no cli entry in $build/compile_commands.json" >&2; exit 1; }
export command
# Each header is the only include of a translation unit read from stdin (a header compiled as the main
# file would warn about its own #pragma once).
(cd src && find . -name '*.h' | sed 's|^\./||' | sort) | xargs -P "$jobs" -I{} bash -c \
  'echo "#include \"{}\"" | eval "$command" -fsyntax-only -x c++ - ||
   { echo "header does not stand alone: src/{}" >&2; exit 255; }'
echo "check-headers: every header under src/ compiles on its own"
