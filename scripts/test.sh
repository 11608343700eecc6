#!/usr/bin/env bash
# Builds Brick if needed and runs the whole suite: lit + GoogleTest through
# ctest, then the runtime, brick-run and the binary parsers again under ASan
# and UBSan (scripts/test-sanitized.sh). Non-zero exit on any failure.
# BRICK_SKIP_SANITIZED=1 stops after ctest, for quick local iterations.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BRICK_BUILD_DIR:-$root/build}"

"$root/scripts/build.sh"
(cd "$build" && ctest --output-on-failure -j "$(nproc)")
if [ "${BRICK_SKIP_SANITIZED:-0}" != 1 ]; then
  "$root/scripts/test-sanitized.sh"
fi
