#!/usr/bin/env bash
# Set up (quietly, when nothing is missing), configure once, build incrementally.
# Usage: scripts/build.sh [extra cmake --build args]. BUILD_DIR overrides build/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
jobs=${DSV3_JOBS:-2}

bash "$here/scripts/setup.sh"
if [ ! -f "$build/Makefile" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release ${DSV3_CMAKE_ARGS:-} >"$build.configure.log" 2>&1 \
    || { cat "$build.configure.log" >&2; exit 1; }
fi
cmake --build "$build" --parallel "$jobs" "$@" | { grep -v -E '^\[ *[0-9]+%\] (Built target|Building|Linking)|^Consolidate compiler generated dependencies' || true; }
exit "${PIPESTATUS[0]}"
