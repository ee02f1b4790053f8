#!/usr/bin/env bash
# scripts/fuzz.sh TARGET SECONDS: run one libFuzzer target for SECONDS on a copy of its seed
# corpus and print executions, final coverage and crashes (docs/fuzzing.md).
#
# TARGET is a tests/fuzz/fuzz_<name>.c target, with or without the fuzz_ prefix. The
# instrumented build (clang, -DMVOT_LIBFUZZER=ON: libraries and harness under libFuzzer
# coverage, ASan and UBSan) lives in build-fuzz/ (MVOT_FUZZ_BUILD overrides) and is configured
# on first use; the target is rebuilt if its sources changed. The run works on
# <build>/fuzz-runs/<name>/ (corpus copy, crash artifacts, log), so the committed corpus is
# never written to: a crash input is added there by hand, with its fix.
# Exit status: 0 no crash, 1 a crash, leak, timeout or OOM was found, 2 usage or build error.
set -eu

usage() {
    echo "usage: scripts/fuzz.sh TARGET SECONDS   (TARGET: one of tests/fuzz/fuzz_*.c)" >&2
    exit 2
}
[ $# -eq 2 ] || usage
name=${1#fuzz_}
name=fuzz_${name%.c}
secs=$2
case $secs in '' | *[!0-9]*) usage ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$root/tests/fuzz/$name.c" ] || {
    echo "fuzz.sh: no target tests/fuzz/$name.c" >&2
    exit 2
}
[ -d "$root/tests/fuzz/corpus/$name" ] || {
    echo "fuzz.sh: no seed corpus tests/fuzz/corpus/$name" >&2
    exit 2
}
build=${MVOT_FUZZ_BUILD:-$root/build-fuzz}

if [ ! -f "$build/CMakeCache.txt" ]; then
    command -v clang > /dev/null || {
        echo "fuzz.sh: clang not found (apt-get install clang)" >&2
        exit 2
    }
    CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMVOT_LIBFUZZER=ON \
        -DMVOT_CUDA=OFF > "$build.configure.log" 2>&1 || {
        echo "fuzz.sh: configure failed, see $build.configure.log" >&2
        exit 2
    }
fi
# Re-running the configure step picks up a target added since the last one (cheap).
cmake "$build" > /dev/null 2>&1 || {
    echo "fuzz.sh: configure of $build failed" >&2
    exit 2
}
cmake --build "$build" -j"${MVOT_FUZZ_JOBS:-2}" --target "${name}_libfuzzer" > /dev/null 2>&1 || {
    echo "fuzz.sh: build of ${name}_libfuzzer failed" >&2
    exit 2
}
bin=$build/tests/fuzz/${name}_libfuzzer

run=$build/fuzz-runs/$name
rm -rf "$run"
mkdir -p "$run/corpus" "$run/artifacts"
cp -R "$root/tests/fuzz/corpus/$name/." "$run/corpus/"
log=$run/log

# -timeout: one input taking 10 s is a hang worth a report; -print_final_stats gives the
# execution count. libFuzzer stops at the first crash and leaves the input in artifacts/.
set +e
"$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$run/artifacts/" "$run/corpus" > "$log" 2>&1
rc=$?
set -e

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
crashes=$(find "$run/artifacts" -type f | wc -l)
echo "target:     $name"
echo "seconds:    $secs"
echo "executions: ${execs:-?}"
echo "coverage:   cov: ${cov:-?}"
echo "corpus:     $(find "$run/corpus" -type f | wc -l) inputs ($run/corpus)"
echo "crashes:    $crashes"
if [ "$crashes" -gt 0 ] || [ "$rc" -ne 0 ]; then
    find "$run/artifacts" -type f | sed 's/^/  input: /'
    grep -m 3 -E 'ERROR: |runtime error|SUMMARY' "$log" | sed 's/^/  /' || true
    echo "  log: $log"
    exit 1
fi
exit 0
