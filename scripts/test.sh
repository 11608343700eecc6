#!/usr/bin/env bash
# Builds Brick if needed and runs the whole suite (lit + GoogleTest) through
# ctest: one summary at the end, non-zero exit on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BRICK_BUILD_DIR:-$root/build}"

"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc)"
