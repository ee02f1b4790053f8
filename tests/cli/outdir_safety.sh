#!/bin/bash
# Output folders (docs/cli.md, "Output folders"): a command never deletes or overwrites a file
# it did not create. An output folder that is, contains or lies inside an input is exit 2;
# files no manifest of ours lists stop the run (exit 2) and stay untouched, --force
# included; a second run into a locked folder fails naming the holder; the temp files of a
# killed run are removed by the rerun.
set -uo pipefail
. "$MVOT_SRC/tests/cli/lib.bash"
T=$(t_tmp); trap 'rm -rf "$T"' EXIT
tiny_build "$T/b"
B=$T/b
P=(--episodes "$B/episodes" --tokenizer "$B/tokenizer.json" --codebook "$B/codebook.safetensors"
   --image-seq-length 64 --quiet)
snapshot() { (cd "$1" && find . -type f ! -name .mvot.lock -exec sha1sum {} + | sort); }

# retokenize into its own input (the issue's repro), and into a folder inside it
before=$(snapshot "$B/shards")
expect_usage_error "$MVOT_BIN" retokenize --quiet "$B/shards" --codebook "$B/codebook.safetensors" --out "$B/shards" --force
expect_usage_error "$MVOT_BIN" retokenize --quiet "$B/shards" --codebook "$B/codebook.safetensors" --out "$B/shards/sub"
expect_eq "$(snapshot "$B/shards")" "$before" "retokenize --out SHARDS left SHARDS intact"
expect_eq "$(ls "$B/shards" | grep -c sub)" 0 "no folder made inside the input"
# pack into the gen folder it reads, into a folder holding the tokenizer, and into its parent
expect_usage_error "$MVOT_BIN" pack "${P[@]}" --out "$B/episodes" --force
expect_usage_error "$MVOT_BIN" pack "${P[@]}" --out "$B" --force
expect_usage_error "$MVOT_BIN" pack "${P[@]}" --out "$B/episodes/x"

# a folder with shard-like files and temp-like files but no manifest of ours
mkdir -p "$T/foreign"
echo mine > "$T/foreign/shard-000000.tar.zst"
echo mine > "$T/foreign/.notes.tmp.1.0"
expect_usage_error "$MVOT_BIN" pack "${P[@]}" --out "$T/foreign"
expect_usage_error "$MVOT_BIN" pack "${P[@]}" --out "$T/foreign" --force
expect_eq "$(cat "$T/foreign/shard-000000.tar.zst" "$T/foreign/.notes.tmp.1.0")" "mine
mine" "pack left the foreign files alone"

# another gen folder as --out, --force or not: its manifest is not ours
cp -r "$B/episodes" "$T/gen2"
before=$(snapshot "$T/gen2")
expect_usage_error "$MVOT_BIN" pack "${P[@]}" --out "$T/gen2" --force
expect_eq "$(snapshot "$T/gen2")" "$before" "gen folder untouched by pack --force"

# --force replaces our own earlier pack but only the files its manifest lists
"$MVOT_BIN" pack "${P[@]}" --out "$T/p" --shard-samples 2 || fail "first pack"
"$MVOT_BIN" pack "${P[@]}" --out "$T/p" --shard-samples 3 --force || fail "pack --force over our own pack"
"$MVOT_BIN" verify --quiet "$T/p" || fail "verify after --force"
echo keep > "$T/p/notes.txt"
expect_usage_error "$MVOT_BIN" pack "${P[@]}" --out "$T/p" --shard-samples 2 --force
expect_eq "$(cat "$T/p/notes.txt")" "keep" "user file kept"
expect_eq "$(ls "$T/p" | grep -c '^shard-')" "$(grep -o '"shard-[0-9]*\.tar\.zst"' "$T/p/manifest.json" | wc -l)" "our shards kept after the refused --force"
rm "$T/p/notes.txt"

# a folder locked by another run: exit 1, the holder named, nothing written
mkdir -p "$T/locked"
exec 9<>"$T/locked/.mvot.lock"
flock -n 9 || fail "cannot take the test lock"
printf 'pid 4242 host testhost command mvot pack\n' >&9
err=$("$MVOT_BIN" pack "${P[@]}" --out "$T/locked" 2>&1); rc=$?
expect_eq "$rc" 1 "pack into a locked folder exit"
case $err in *"pid 4242 host testhost command mvot pack"*) ;; *) fail "holder not named: $err" ;; esac
expect_eq "$(ls -A "$T/locked")" ".mvot.lock" "nothing written into the locked folder"
exec 9>&-

# the temp files a killed run left (its pid recorded in the lock file) go on the rerun;
# same for gen (inside build) and for pack's unlisted pending shard
for d in "$B/episodes" "$T/p"; do
  printf 'pid 999999 host h command killed\n' > "$d/.mvot.lock"
done
mkdir -p "$T/fresh" # killed while writing its first state file: nothing else to know it by
printf 'pid 999999 host h command killed\n' > "$T/fresh/.mvot.lock"
echo partial > "$T/fresh/..pack-state.json.tmp.999999.0"
"$MVOT_BIN" pack "${P[@]}" --out "$T/fresh" || fail "pack after a kill during the first state write"
echo partial > "$B/episodes/.episodes.tar.zst.tmp.999999.0"
echo partial > "$T/p/.shard-000000.tar.zst.tmp.999999.3"
echo partial > "$T/p/.manifest.json.tmp.999999.7"
"$MVOT_BIN" build --quiet --config "$T/b.cfg.json" --out "$B" || fail "build rerun"
"$MVOT_BIN" pack "${P[@]}" --out "$T/p" --shard-samples 3 || fail "pack rerun"
expect_eq "$(ls -A "$B/episodes" "$T/p" "$T/fresh" | grep -c '\.tmp\.')" 0 "stale temp files removed"
expect_eq "$(cat "$B/episodes/.mvot.lock" "$T/p/.mvot.lock")" "" "lock records cleared after a clean run"
# a real kill of build while its gen step writes the archive, then a rerun: no hidden
# partial archive remains (the kill waits until the temp archive exists)
"$MVOT_BIN" build --quiet --config "$T/b.cfg.json" --episodes 2000 --out "$T/k" --threads 1 & pid=$!
for _ in $(seq 200); do
  ls -A "$T/k/episodes" 2>/dev/null | grep -q '^\.episodes\.tar\.zst\.tmp\.' && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
expect_eq "$(ls -A "$T/k/episodes" | grep -c '^\.episodes\.tar\.zst\.tmp\.')" 1 "the killed gen left its temp archive"
"$MVOT_BIN" build --quiet --config "$T/b.cfg.json" --out "$T/k" || fail "build rerun after kill"
expect_eq "$(ls -A "$T/k/episodes" "$T/k" | grep -c '\.tmp\.')" 0 "no partial archive after the rerun"
# the other commands that write a folder: no overlap with their inputs; export-mvot keeps no
# manifest, so it writes only into a new or empty folder
mkdir -p "$T/exp"; echo mine > "$T/exp/notes.txt"
expect_usage_error "$MVOT_BIN" export-mvot --quiet "$B/episodes" --out "$T/exp"
expect_eq "$(cat "$T/exp/notes.txt")" "mine" "export-mvot left a user's file alone"
expect_usage_error "$MVOT_BIN" export-mvot --quiet "$B/episodes" --out "$B/episodes/official"
expect_usage_error "$MVOT_BIN" inspect --quiet "$B/shards" 0 --out "$B/shards/pictures"
echo '{"key": "x", "text": "The answer is A."}' > "$T/pred.jsonl"
expect_usage_error "$MVOT_BIN" eval --quiet --truth "$B/shards" --pred "$T/pred.jsonl" --out "$B/shards"
# a build into a folder with a user's file refuses it
mkdir -p "$T/user"; echo x > "$T/user/tokenizer.json"
expect_usage_error "$MVOT_BIN" build --quiet --config "$T/b.cfg.json" --out "$T/user"
expect_eq "$(cat "$T/user/tokenizer.json")" "x" "user's tokenizer.json kept"
finish
