#!/usr/bin/env bash
# Library code never exits, aborts, prints to the terminal or reads the environment
# (CONTRIBUTING.md, "Style"): the front end in tools/ owns all of that. Checked on what the
# compiler produced, the undefined symbols of the stage archives and of libmvot.a (which adds
# api/), so no macro, fortified variant (__printf_chk) or spelling slips past; a pattern
# covers the library and public headers, whose inline code lands in whoever includes them. Also: the house list of unsafe string functions, and corrupt-input
# reports made outside the one corruption path (mvot_error_corrupt, MVOT_CORRUPT_IF).
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
cd "$MVOT_SRC"
stages="core gen tokenize codebook shards"
# stdout/stderr/stdin: any use of the standard streams, e.g. fprintf(stderr, ...) or putc.
forbidden='exit|_exit|_Exit|quick_exit|abort|__assert_fail|printf|vprintf|__printf_chk|__vprintf_chk|puts|putchar|perror|getenv|secure_getenv|system|stdout|stderr|stdin'

# Prints "object: symbol" for every forbidden undefined symbol of the archive $1.
forbidden_symbols() {
  nm -A -u "$1" 2>/dev/null | awk '{print $1, $NF}' | grep -E " ($forbidden)$"
}

# The check itself must be able to fail: an archive that calls getenv and printf is caught.
T_CHECKS=$((T_CHECKS + 1))
tmp=$(t_tmp)
printf '#include <stdio.h>\n#include <stdlib.h>\nint f(void);\nint f(void) { printf("%%s", getenv("X")); return 0; }\n' >"$tmp/bad.c"
if cc -c -O2 -o "$tmp/bad.o" "$tmp/bad.c" && ar rcs "$tmp/libbad.a" "$tmp/bad.o"; then
  hits=$(forbidden_symbols "$tmp/libbad.a" | awk '{print $2}' | sort | tr '\n' ' ')
  case "$hits" in
    *getenv*printf*) ;;
    *) fail "the symbol check misses getenv/printf in a test archive (found: '$hits')" ;;
  esac
else
  fail "cannot build the test archive for the symbol check"
fi
rm -rf "$tmp"

for s in $stages libmvot; do
  T_CHECKS=$((T_CHECKS + 1))
  a="$MVOT_BUILD/$s/libmvot_$s.a"
  [ "$s" = libmvot ] && a="$MVOT_BUILD/libmvot.a"
  if [ ! -f "$a" ]; then
    fail "$a is missing (build the project first)"
    continue
  fi
  hits=$(forbidden_symbols "$a")
  [ -z "$hits" ] || fail "library $s uses a forbidden function or stream:
$hits"
done

T_CHECKS=$((T_CHECKS + 1))
hits=$(grep -nE '\b(exit|_exit|abort|printf|puts|perror|getenv|secure_getenv|system)[[:space:]]*\(|\b(stdout|stderr|stdin)\b' \
        $(for s in $stages include/mvot; do ls "$s"/*.h; done) | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)')
[ -z "$hits" ] || fail "a library header calls a forbidden function:
$hits"

T_CHECKS=$((T_CHECKS + 1))
hits=$(grep -nE '\b(sprintf|vsprintf|strcpy|strncpy|strtok|atoi|sscanf|gets)[[:space:]]*\(' \
        $(git ls-files '*.c' '*.h' 2>/dev/null || ls */*.c) | grep -vE '\b(snprintf|vsnprintf)' )
[ -z "$hits" ] || fail "banned string function:
$hits"

# MVOT_ERR_CORRUPT as an argument (mvot_error_set, MVOT_FAIL_IF, a local fail()) bypasses the
# corruption path.
T_CHECKS=$((T_CHECKS + 1))
hits=$(grep -nE 'MVOT_ERR_CORRUPT[[:space:]]*,' \
        $(for s in $stages api tools tools/eval; do ls "$s"/*.c; done) | grep -v '^core/status\.c:')
[ -z "$hits" ] || fail "corrupt input reported outside mvot_error_corrupt / MVOT_CORRUPT_IF:
$hits"
finish
