#!/bin/bash
# `mvot gpucheck` where no GPU can be used (no CUDA compiled in, or no device/driver): one
# line on stderr and exit 2, for every way of calling it. On a machine with a usable CUDA
# device this test is skipped (77); the cuda-labelled tests cover that case.
set -u
source "$MVOT_SRC/tests/cli/lib.bash"
T=$(t_tmp); trap 'rm -rf "$T"' EXIT
err=$("$MVOT_BIN" gpucheck "$T/none" 2>&1 >/dev/null); rc=$?
if [ "$rc" != 2 ] || ! grep -q -e "CUDA support was not compiled in" -e "no CUDA device" <<<"$err"; then
  echo "skip: gpucheck did not report a missing GPU (rc $rc: $err)"; exit 77
fi
# The probe above was the shard-dir call; check its shape, then the image mode (each call that
# reaches the driver costs a second or more, so few of them).
T_CHECKS=$((T_CHECKS + 1))
[ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] || fail "shard mode printed not exactly one line: $err"
expect_usage_error "$MVOT_BIN" gpucheck --vqgan "$T/vq.safetensors" --json "$T/a.png"
expect_usage_error "$MVOT_BIN" gpucheck --min-agreement 2 "$T/none"
T_CHECKS=$((T_CHECKS + 1))
"$MVOT_BIN" gpucheck --help | grep -q "usage: mvot gpucheck" || fail "--help"
finish
