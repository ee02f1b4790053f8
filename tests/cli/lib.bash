# Shared helpers for CLI tests (sourced). Each check prints what differed; finish prints the
# closing count line and sets the exit status.
T_FAILS=0
T_CHECKS=0
fail() { echo "FAIL: $*" >&2; T_FAILS=$((T_FAILS + 1)); }
expect_eq() { T_CHECKS=$((T_CHECKS + 1)); [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }
# Runs a command that must fail with exit 2 and exactly one line on stderr.
expect_usage_error() {
  T_CHECKS=$((T_CHECKS + 1))
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = 2 ] || fail "'$*' exited $rc, want 2 (stderr: $err)"
  [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] || fail "'$*' printed not exactly one line: $err"
}
t_tmp() { mktemp -d "${TMPDIR:-/tmp}/mvot-cli-XXXXXX"; }
finish() {
  echo "$((T_CHECKS - T_FAILS)) passed, $T_FAILS failed"
  [ "$T_FAILS" = 0 ]
  exit $?
}
