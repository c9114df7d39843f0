#!/usr/bin/env bash
# Bounded fuzzing smoke run of every cargo-fuzz target, on a STABLE toolchain.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     default: 30 s each, all targets
#   SANITIZER=none fuzz/run.sh 60         no AddressSanitizer (faster)
#   fuzz/run.sh 0                         replay the seeds and saved corpus once
#
# cargo-fuzz passes -Zsanitizer=..., which stable rustc refuses; it is built
# here with RUSTC_BOOTSTRAP=1 (stable rustc accepting -Z flags; the stable
# toolchain ships the ASan runtime), or with `--sanitizer none`, which needs no
# -Z flag at all. SANITIZER=auto (default) tries address, falls back to none.
# The seeds in fuzz/corpus/<target>/ are only read; what the fuzzer finds
# goes to fuzz/target/corpus/<target>/ and crashes to fuzz/artifacts/<target>/.
# Exit status 1 when any target crashed, leaked past the RSS limit or hung.
set -uo pipefail
cd "$(dirname "$0")"

SECONDS_EACH="${1:-30}"
shift $(( $# > 0 ? 1 : 0 ))
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(frame_parser handshake close_payload inflate)
SANITIZER="${SANITIZER:-auto}"
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: installing it (cargo install cargo-fuzz --locked)" >&2
  cargo install cargo-fuzz --locked >&2 || exit 2
fi

BUILD_LOG="target/build.log"
mkdir -p target
build() { RUSTC_BOOTSTRAP=1 cargo fuzz build -s "$1" >"$BUILD_LOG" 2>&1; }
if [ "$SANITIZER" = auto ]; then
  if build address; then
    SANITIZER=address
  else
    echo "AddressSanitizer build failed (fuzz/$BUILD_LOG); using --sanitizer none" >&2
    SANITIZER=none
    build none || { tail -30 "$BUILD_LOG"; exit 2; }
  fi
else
  build "$SANITIZER" || { tail -30 "$BUILD_LOG"; exit 2; }
fi

printf '\nsanitizer: %s, %s s per target\n' "$SANITIZER" "$SECONDS_EACH"
printf '%-14s %12s %10s %8s  %s\n' target executions exec/s corpus result
failed=0
for t in "${TARGETS[@]}"; do
  bin="target/$TRIPLE/release/$t"
  work="target/corpus/$t"
  mkdir -p "$work" "artifacts/$t"
  log="target/$t.log"
  args=(-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="artifacts/$t/")
  [ -f "dict/$t.dict" ] && args+=(-dict="dict/$t.dict")
  if [ "$SECONDS_EACH" = 0 ]; then args+=(-runs=0); else args+=(-max_total_time="$SECONDS_EACH"); fi
  "$bin" "${args[@]}" "$work" "corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(ls "$work" | wc -l)
  crash=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    result=ok
  else
    failed=1
    result="FAILED (rc $rc) ${crash:-see fuzz/$log}"
  fi
  printf '%-14s %12s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$units" "$result"
  if [ $rc -ne 0 ]; then
    grep -m1 -A2 -E "panicked at|ERROR: (libFuzzer|AddressSanitizer)" "$log" | sed 's/^/    /'
    [ -n "$crash" ] && echo "    reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s $SANITIZER $t $crash"
  fi
done
if [ $failed -eq 0 ]; then echo "no crash"; else echo "CRASHES FOUND"; fi
exit $failed
