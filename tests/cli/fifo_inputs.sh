#!/bin/bash
# A FIFO (or any non-regular file) named like a shard, an episode archive, a tokenizer or a
# codebook is refused at once with exit 1 and "not a regular file" instead of blocking the
# reader forever (each command runs under a timeout: 124 means it hung).
set -uo pipefail
. "$MVOT_SRC/tests/cli/lib.bash"
T=$(t_tmp); trap 'rm -rf "$T"' EXIT
tiny_build "$T/b"
refused() { # what, command...
  local what=$1 err rc; shift
  T_CHECKS=$((T_CHECKS + 1))
  err=$(timeout 20 "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = 1 ] || fail "$what: exit $rc, want 1 ($err)"
  case $err in *"not a regular file (a FIFO)"*) ;; *) fail "$what: message: $err" ;; esac
}
cp -r "$T/b/shards" "$T/s"
rm "$T/s/shard-000000.tar.zst" && mkfifo "$T/s/shard-000000.tar.zst"
echo '{"key": "x", "text": "The answer is A."}' > "$T/pred.jsonl"
refused "verify" "$MVOT_BIN" verify --quiet "$T/s"
refused "eval" "$MVOT_BIN" eval --truth "$T/s" --pred "$T/pred.jsonl"
refused "retokenize" "$MVOT_BIN" retokenize --quiet "$T/s" --codebook "$T/b/codebook.safetensors" --out "$T/r"
mkfifo "$T/tok.fifo" "$T/cb.fifo" "$T/ep.fifo"
P=(--episodes "$T/b/episodes" --tokenizer "$T/b/tokenizer.json" --codebook "$T/b/codebook.safetensors" --image-seq-length 64 --quiet)
refused "pack --tokenizer FIFO" "$MVOT_BIN" pack "${P[@]}" --tokenizer "$T/tok.fifo" --out "$T/p1"
refused "pack --codebook FIFO" "$MVOT_BIN" pack "${P[@]}" --codebook "$T/cb.fifo" --out "$T/p2"
refused "pack --episodes FIFO" "$MVOT_BIN" pack "${P[@]}" --episodes "$T/ep.fifo" --out "$T/p3"
refused "codebook train FIFO" "$MVOT_BIN" codebook train --quiet --episodes "$T/ep.fifo" --out "$T/cb2.safetensors"
refused "bpe info FIFO" "$MVOT_BIN" bpe info --tokenizer "$T/tok.fifo"
finish
