#!/usr/bin/env bash
# mvot bpe: the --jsonl encode contract, decode, info, train (deterministic for any thread
# count, from text lines and from gen's episode archive), exit codes for bad usage and input.
set -u
: "${MVOT_BIN:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf '%s\n' "Go up. Go left. The answer is A." "Initial maze: <image>" "Go down. 12 (3,4)" \
    "Task: Maze Navigation Simulation" "Carrying objects: None." >"$tmp/train.txt"
for i in 1 2 3 4 5 6; do cat "$tmp/train.txt"; done >"$tmp/train6.txt"
"$MVOT_BIN" bpe train --text "$tmp/train6.txt" --vocab-size 9000 --out "$tmp/a.json" --threads 1 --quiet ||
    fail "train"
"$MVOT_BIN" bpe train --text "$tmp/train6.txt" --vocab-size 9000 --out "$tmp/b.json" --threads 2 --quiet ||
    fail "train (2 threads)"
cmp -s "$tmp/a.json" "$tmp/b.json" || fail "training depends on the thread count"
tok=$tmp/a.json

# the fixed contract: one JSON string per line in, one JSON array per line out
printf '%s\n' '"Go up."' '""' '"Initial maze: <image>"' >"$tmp/in.jsonl"
"$MVOT_BIN" bpe encode --tokenizer "$tok" --jsonl <"$tmp/in.jsonl" >"$tmp/out.jsonl" || fail "encode"
[ "$(wc -l <"$tmp/out.jsonl")" = 3 ] || fail "encode: expected 3 lines"
[ "$(sed -n 2p "$tmp/out.jsonl")" = "[]" ] || fail "encode: empty string must give []"
grep -q '8711\]$' <(sed -n 3p "$tmp/out.jsonl") || fail "encode: <image> must be id 8711"
head -c 2 "$tmp/out.jsonl" | grep -q '^\[0' && fail "encode: no <s> without --special"
"$MVOT_BIN" bpe encode --tokenizer "$tok" --jsonl --special <"$tmp/in.jsonl" >"$tmp/outs.jsonl" ||
    fail "encode --special"
[ "$(sed -n 2p "$tmp/outs.jsonl")" = "[0]" ] || fail "encode --special: expected [0] for the empty text"
# decode inverts encode
"$MVOT_BIN" bpe decode --tokenizer "$tok" --jsonl --skip-special <"$tmp/outs.jsonl" >"$tmp/dec.jsonl" ||
    fail "decode"
diff <(sed -n '1p;2p' "$tmp/in.jsonl") <(sed -n '1p;2p' "$tmp/dec.jsonl") >/dev/null ||
    fail "decode --skip-special does not give the text back"
# info names the layout
"$MVOT_BIN" bpe info --tokenizer "$tok" --json >"$tmp/info.json" || fail "info"
grep -q '"first_id":4' "$tmp/info.json" || fail "info: image codes must start at id 4"
grep -q '"sep":8710' "$tmp/info.json" || fail "info: separator must be 8710"

# bad usage exits 2, bad input exits 1, each with one line on stderr
"$MVOT_BIN" bpe frobnicate 2>/dev/null; [ $? = 2 ] || fail "unknown subcommand must exit 2"
"$MVOT_BIN" bpe encode </dev/null 2>/dev/null; [ $? = 2 ] || fail "missing --tokenizer must exit 2"
echo '{"model": [' >"$tmp/bad.json"
"$MVOT_BIN" bpe info --tokenizer "$tmp/bad.json" 2>"$tmp/err"; [ $? = 1 ] || fail "corrupt tokenizer must exit 1"
[ "$(wc -l <"$tmp/err")" = 1 ] || fail "one error line expected"
grep -q 'bad.json' "$tmp/err" || fail "the error must name the file"
echo '123' | "$MVOT_BIN" bpe encode --tokenizer "$tok" --jsonl >/dev/null 2>&1; [ $? = 1 ] ||
    fail "a non-string line must exit 1"
# decode refuses ids outside the vocabulary instead of dropping them
echo '[1,2,99999]' | "$MVOT_BIN" bpe decode --tokenizer "$tok" >/dev/null 2>"$tmp/err"; [ $? = 1 ] ||
    fail "decode of an out-of-range id must exit 1"
grep -q 'id 99999 is outside the vocabulary' "$tmp/err" || fail "decode must name the bad id"
# a catastrophic regex fails cleanly with one line and exit 1 (and frees what it encoded:
# under LeakSanitizer a leak changes the exit status)
/usr/bin/python3 - "$tok" "$tmp/cat.json" <<'P' || fail "python3"
import json, sys
d = json.load(open(sys.argv[1]))
d["pre_tokenizer"] = {"type": "Split", "pattern": {"Regex": "(a|aa)+$"}, "behavior": "Isolated",
                      "invert": False}
json.dump(d, open(sys.argv[2], "w"))
P
printf 'Go %0128d aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac' 0 | tr 0 a |
    "$MVOT_BIN" bpe encode --tokenizer "$tmp/cat.json" >/dev/null 2>"$tmp/err"; [ $? = 1 ] ||
    fail "a failed regex match must exit 1"
grep -q 'regex match failed' "$tmp/err" || fail "regex failure message: $(cat "$tmp/err")"
"$MVOT_BIN" bpe --help | grep -q 'usage: mvot bpe' || fail "--help"

# training from gen's archive, when gen works in this build
if "$MVOT_BIN" gen --task all --episodes 2 --seed 3 --out "$tmp/gen" --quiet >/dev/null 2>&1; then
    "$MVOT_BIN" bpe train --episodes "$tmp/gen/episodes.tar.zst" --out "$tmp/g.json" --quiet ||
        fail "train --episodes"
    "$MVOT_BIN" bpe corpus --episodes "$tmp/gen/episodes.tar.zst" | grep -q 'Task: ' ||
        fail "corpus --episodes must hold the instructions"
else
    echo "NOTE: mvot gen unavailable; train --episodes not exercised" >&2
fi
echo "bpe cli ok"
