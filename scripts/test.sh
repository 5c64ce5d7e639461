#!/usr/bin/env bash
# The test command: set up, build, run every test (ctest labels unit, integration, gpu;
# gpu tests skip themselves where no GPU is present). Extra args go to ctest, e.g. -L unit.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
bash "$here/scripts/build.sh"
cd "$build"
ctest --output-on-failure --parallel "${DSV3_JOBS:-2}" --timeout 1500 "$@"
