#!/usr/bin/env bash
# Library code never exits, aborts, prints or reads the environment (CONTRIBUTING.md, "Style"): the front end
# in tools/ owns all of that. Also bans the unsafe string functions on the house list.
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
cd "$MVOT_SRC"
T_CHECKS=$((T_CHECKS + 1))
hits=$(grep -nE '\b(exit|_exit|abort|printf|fprintf|puts|fputs|perror|getenv|secure_getenv)[[:space:]]*\(' \
        core/*.c gen/*.c tokenize/*.c codebook/*.c shards/*.c api/*.c 2>/dev/null | grep -v '^\s*//' )
[ -z "$hits" ] || fail "library code calls a forbidden function:
$hits"
T_CHECKS=$((T_CHECKS + 1))
hits=$(grep -nE '\b(sprintf|vsprintf|strcpy|strncpy|strtok|atoi|sscanf|gets)[[:space:]]*\(' \
        $(git ls-files '*.c' '*.h' 2>/dev/null || ls */*.c) | grep -vE '\b(snprintf|vsnprintf)' )
[ -z "$hits" ] || fail "banned string function:
$hits"
finish
