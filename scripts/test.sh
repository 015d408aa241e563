#!/usr/bin/env bash
# Sets up, builds (release, and ASan+UBSan) and runs every test: unit, integration and
# fault tests. The last line is "N passed, N failed" (each GoogleTest case and each
# integration test case counts once, in each of the two builds).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --no-build || { echo "0 passed, 1 failed"; exit 1; }

[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
[ -f build-asan/build.ninja ] || meson setup build-asan --buildtype=debugoptimized \
  -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false >/dev/null

status=0
for dir in build build-asan; do
  if ! ninja -C "$dir"; then
    echo "build failed in $dir"
    echo "0 passed, 1 failed"
    exit 1
  fi
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for dir in build build-asan; do
  rm -rf "$dir/test-results"
  mkdir -p "$dir/test-results"
  echo "== tests in $dir"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 || status=1
done

python3 scripts/count_results.py build build-asan
rc=$?
[ $status -eq 0 ] && [ $rc -eq 0 ] || exit 1
