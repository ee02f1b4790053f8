#!/bin/bash
# What a user sees: configuration and usage errors are exit 2 with one line, runtime failures
# exit 1; verify counts "1 problem" and names a folder that is not a shard set (exit 2); a
# wrong --tokenizer file says it is not a tokenizer.json; config floats are shortest
# round-trip; cat prints metadata one field a line; codebook train prints a PSNR number;
# pack and "reading frames" progress show the total, the rate and the time left.
set -uo pipefail
. "$MVOT_SRC/tests/cli/lib.bash"
need_python
T=$(t_tmp); trap 'rm -rf "$T"' EXIT
M=$MVOT_BIN
tiny_build "$T/b"
B=$T/b

# --config: unreadable, not JSON, not an object: configuration errors (exit 2), nothing built
echo '[1,2]' > "$T/array.json"; echo '{"gen": ' > "$T/broken.json"
expect_usage_error "$M" build --quiet --config "$T/array.json" --out "$T/c1"
expect_usage_error "$M" build --quiet --config "$T/broken.json" --out "$T/c2"
expect_usage_error "$M" build --quiet --config "$T/missing.json" --out "$T/c3"
expect_eq "$(ls "$T" | grep -c '^c[123]$')" 0 "no output folder for a bad config"
# config floats: shortest round-trip
expect_eq "$(grep -c '0\.10000000000000001' "$B/build-config.json")" 0 "no 17-digit floats"
grep -q '"dev": 0.1,' "$B/build-config.json"; expect_eq "$?" 0 "split dev written as 0.1"

# verify: one problem is "1 problem"; folders that are not shard sets are usage errors
cp -r "$B/shards" "$T/s1"
"$PY" -c '
import json, sys
m = json.load(open(sys.argv[1])); m["totals"]["tokens"] += 1
json.dump(m, open(sys.argv[1], "w"))' "$T/s1/manifest.json"
err=$("$M" verify "$T/s1" 2>&1); rc=$?
expect_eq "$rc" 1 "verify with one problem"
expect_eq "$(printf '%s\n' "$err" | tail -n 1)" "mvot verify: 1 problem" "singular problem count"
expect_usage_error "$M" verify "$B"
expect_usage_error "$M" verify "$B/episodes"
expect_usage_error "$M" verify "$T/nowhere"
case $("$M" verify "$B/episodes" 2>&1) in *"gen episode folder"*) ;; *) fail "verify does not say what the folder is" ;; esac

# a wrong file as --tokenizer says what it is not
err=$("$M" bpe info --tokenizer "$B/build-config.json" 2>&1); rc=$?
expect_eq "$rc" 1 "bpe info on a config file"
case $err in *"not a tokenizer.json"*) ;; *) fail "wrong --tokenizer message: $err" ;; esac
err=$("$M" bpe info --tokenizer "$B/episodes/episodes.tar.zst" 2>&1)
case $err in *"not a tokenizer.json"*) ;; *) fail "binary --tokenizer message: $err" ;; esac

# cat: metadata one field a line, compact values
out=$("$M" cat "$B/shards" 0)
expect_eq "$(printf '%s\n' "$out" | grep -c '^  answer: "[A-D]"$')" 1 "cat prints meta fields one a line"
expect_eq "$(printf '%s\n' "$out" | grep -c '^      [0-9]*,$')" 0 "cat prints no pretty number columns"

# codebook train: the PSNR as a number (or nothing); an archive without frames is exit 1
err=$("$M" codebook train --episodes "$B/episodes/episodes.tar.zst" --out "$T/cb.safetensors" --k 16 --iters 1 2>&1)
case $err in *"see stats"*) fail "codebook train: $err" ;; esac
printf '%s\n' "$err" | grep -q 'PSNR [0-9.]* dB\|PSNR inf' || fail "codebook train prints no PSNR: $err"
"$PY" -c 'import tarfile, sys; tarfile.open(sys.argv[1], "w").close()' "$T/empty.tar"
zstd -q "$T/empty.tar" -o "$T/empty.tar.zst"
"$M" codebook train --quiet --episodes "$T/empty.tar.zst" --out "$T/cb2.safetensors" 2>/dev/null
expect_eq "$?" 1 "codebook train on an empty archive"

# progress: total, rate and time left for pack and for reading frames
"$M" pack --progress --episodes "$B/episodes" --tokenizer "$B/tokenizer.json" \
  --codebook "$B/codebook.safetensors" --image-seq-length 64 --out "$T/p" 2>"$T/prog" >/dev/null ||
  fail "pack --progress"
tr '\r' '\n' < "$T/prog" | grep -q '^pack  *[0-9]* / *[0-9]* .*/s  left [0-9]' ||
  fail "pack progress lacks total, rate or time left: $(tr '\r' '\n' < "$T/prog" | tail -n 3)"
"$M" codebook train --progress --episodes "$B/episodes/episodes.tar.zst" --out "$T/cb3.safetensors" \
  --k 16 --iters 1 2>"$T/prog2" || fail "codebook train --progress"
tr '\r' '\n' < "$T/prog2" | grep -q '^reading frames  *[0-9]* / *[0-9]* .*/s  left [0-9]' ||
  fail "reading frames progress lacks total, rate or time left: $(tr '\r' '\n' < "$T/prog2" | head -n 3)"
finish
