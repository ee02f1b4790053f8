# shellcheck shell=bash
# Shared by the bench/*_bench.sh scripts (sourced, not run): the "pair" interface that
# bench/run-all.sh drives. Each capability script defines three functions,
#   pair_prepare BUILD WORK [VARIANT]   build its helper binaries and input data under WORK
#   pair_ours    BUILD WORK [VARIANT]   exec our command on that input
#   pair_peer    BUILD WORK [VARIANT]   exec the peer's command on the same input
# and calls `bench_pair "$@"` before its own full benchmark, so
#   bench/X_bench.sh --pair prepare|ours|peer BUILD WORK [VARIANT]
# runs one of them and exits. ours/peer exec the measured program itself, so the process
# bench/alternate.py times is that program (plus one bash start on either side). Sizes come
# from bench_size: BENCH_QUICK=1 selects the tiny sizes of `run-all.sh --quick`. Thread counts
# come from MVOT_BENCH_THREADS, which alternate.py sets to the same value for both sides.

# bench_size QUICK FULL: the size to use for this run.
bench_size() { if [ "${BENCH_QUICK:-0}" = 1 ]; then echo "$1"; else echo "$2"; fi; }

# bench_threads: the thread count both sides of a pair get (default 2).
bench_threads() { echo "${MVOT_BENCH_THREADS:-2}"; }

bench_pair() {
    [ "${1:-}" = --pair ] || return 0
    case "${2:-}" in
    prepare | ours | peer) ;;
    *)
        echo "usage: $0 --pair prepare|ours|peer BUILD WORK [VARIANT]" >&2
        exit 2
        ;;
    esac
    local mode=$2
    shift 2
    [ $# -ge 2 ] || { echo "$0 --pair $mode: BUILD and WORK are required" >&2; exit 2; }
    "pair_$mode" "$@"
    exit $?
}

# bench_cc OUTPUT SOURCE.c BUILD LIB...: compiles a bench program against BUILD's static
# libraries (each LIB a path under BUILD, e.g. core/libmvot_core.a, most dependent first).
bench_cc() {
    local out=$1 c=$2 b=$3 root lib
    shift 3
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    local libs=()
    for lib in "$@"; do libs+=("$b/$lib"); done
    # shellcheck disable=SC2046 # pkg-config prints a list of flags
    cc -O2 -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$root" \
        $(pkg-config --cflags openblas) -o "$out" "$c" "${libs[@]}" \
        $(pkg-config --libs openblas jansson libpng libzstd libxxhash libpcre2-8 libutf8proc \
            libarchive zlib) -lm -lpthread
}
