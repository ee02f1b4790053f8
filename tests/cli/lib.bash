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
# A tiny build into $1 (2 episodes per task at 128 px, a 32-code codebook); its config is
# $1.cfg.json. Ends the test when the build fails.
tiny_build() {
  cat > "$1.cfg.json" <<'J'
{"gen": {"episodes": 2, "image_size": 128, "min_steps": 1, "max_steps": 4, "sizes": {"minibehavior": {"7": 1}}},
 "codebook": {"K": 32, "max_iters": 1}}
J
  "$MVOT_BIN" build --quiet --config "$1.cfg.json" --out "$1" || { echo "tiny build failed"; exit 1; }
}
# Sets PY, or skips the test (exit 77) without a system python3.
need_python() {
  PY=/usr/bin/python3
  [ -x "$PY" ] || { echo "skip: no /usr/bin/python3"; exit 77; }
}
