#!/usr/bin/env bash
# Runs authgate's fuzz targets, each for a fixed time, at the lowest CPU priority.
#
#   fuzz/fuzz.sh [SECONDS] [TARGET...]      # default: 600 s each, every target
#   JOBS=2 fuzz/fuzz.sh 600                 # two targets at a time
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain RUSTC_BOOTSTRAP=1 lets
# it use the nightly-only sanitizer flags; the targets are built with debug assertions (`-a`),
# so integer overflow panics too. The live corpus grows in fuzz/corpus/TARGET (git-ignored),
# seeded from the committed fuzz/corpus-seeds/TARGET; crashes land in fuzz/artifacts/TARGET;
# logs in fuzz/target/fuzz-logs/TARGET.log. Exits non-zero if any target found a crash.
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_EACH=${1:-600}
shift || true
ALL=(bearer_header cookie_header verify_token next_validator macro_args)
TARGETS=("${@:-${ALL[@]}}")
JOBS=${JOBS:-1}
export RUSTC_BOOTSTRAP=1
FLAGS=(--release --debug-assertions)

nice -n 19 cargo fuzz build "${FLAGS[@]}"
mkdir -p target/fuzz-logs

run_one() {
    local target=$1 log=target/fuzz-logs/$1.log
    mkdir -p "corpus/$target"
    echo "fuzzing $target for ${SECONDS_EACH}s (log: fuzz/$log)"
    local status=0
    nice -n 19 cargo fuzz run "${FLAGS[@]}" "$target" "corpus/$target" "corpus-seeds/$target" -- \
        -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    local done_line
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
    if [ "$status" -eq 0 ]; then
        echo "$target: ok   $done_line"
    else
        echo "$target: FAILED (exit $status), see fuzz/$log and fuzz/artifacts/$target/"
        grep -E 'panicked|ERROR|Test unit written' "$log" | head -5 || true
    fi
    return "$status"
}

failed=0
running=0
for target in "${TARGETS[@]}"; do
    run_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done
exit "$failed"
