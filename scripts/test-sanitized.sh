#!/usr/bin/env bash
# Builds the runtime, brick-run, brick-artifact-info and the binary parsers
# with AddressSanitizer and UndefinedBehaviorSanitizer into build-sanitize/,
# then runs on them the runtime's and the artifact tests (forged artifacts
# included), the seeded mutation fuzzing of every binary parser (the unit
# tests labelled `sanitized`) and brick-run's argument lit tests. A finding
# stops the process, so it fails its test. Run after scripts/test.sh (or
# scripts/build.sh): the plain build's brickc compiles the artifacts these
# tests run, and its lit configuration runs them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BRICK_BUILD_DIR:-$root/build}"
sanitize="${BRICK_SANITIZE_BUILD_DIR:-$root/build-sanitize}"

if [ ! -x "$build/bin/brickc" ]; then
  echo "test-sanitized: no $build/bin/brickc; run scripts/build.sh first" >&2
  exit 1
fi
if [ ! -f "$sanitize/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$sanitize" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DBRICK_SANITIZE=address,undefined \
    -DBRICK_TEST_BRICKC="$build/bin/brickc"
fi
# Only what the tests below need: not the compiler, MLIR's dialects or brickc.
cmake --build "$sanitize" -j "$(nproc)" --target brick-sanitized

# A build that lost its instrumentation would pass vacuously.
for tool in brick-run brick-artifact-info brick-formats-tests; do
  symbols="$(nm "$sanitize/bin/$tool")"
  for runtime in __asan_init __ubsan_handle_; do
    if ! grep -q "$runtime" <<<"$symbols"; then
      echo "test-sanitized: $tool has no $runtime: not instrumented" >&2
      exit 1
    fi
  done
done

# Every finding is fatal (UBSan is also built with -fno-sanitize-recover);
# LeakSanitizer runs at exit, as ASan's default on Linux. LLVM's
# BumpPtrAllocator poisons its free space when the code including its header
# is instrumented, and the uninstrumented libLLVM/libMLIR then write there
# without unpoisoning: a false use-after-poison in any test that builds MLIR
# (met by the importer tests). Brick poisons nothing by hand, so the
# manual-poisoning interface is turned off and nothing real is lost.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:allow_user_poisoning=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

(cd "$sanitize" && ctest --output-on-failure -j "$(nproc)" -L sanitized)

# brick-run's and brick-artifact-info's lit tests, on the instrumented tools.
lit="$(grep -o '^LLVM_EXTERNAL_LIT:FILEPATH=.*' "$build/CMakeCache.txt" | cut -d= -f2)"
tests="$build/tests/lit"
"$lit" -sv --param brick_device_tools="$sanitize/bin" \
  "$tests/brickc/run-arguments.test" "$tests/brickc/special-files.test" \
  "$tests/brickc/sampling.test" "$tests/brickc/run-modes.test" \
  "$tests/brickc/run-errors.test" \
  "$tests/gpu/no-driver.test" "$tests/gpu/emulated-run.test"
