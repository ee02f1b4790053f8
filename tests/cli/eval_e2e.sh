#!/usr/bin/env bash
# mvot eval from the command line, end to end: gen -> codebook train -> bpe train -> pack ->
# predictions made from the truth (the label ids `mvot cat --json` prints) -> eval.
# Perfect predictions score 100%; wrong letters, unparseable answers and bad lines are
# counted exactly; reports are identical for any --threads.
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "skip: no /usr/bin/python3"; exit 77; }
tmp=$(t_tmp); trap 'rm -rf "$tmp"' EXIT
M=$MVOT_BIN

expect_usage_error "$M" eval
expect_usage_error "$M" eval --truth "$tmp/none"
expect_usage_error "$M" eval --truth a --pred b --cell-tol 2
"$M" eval --help >/dev/null
expect_eq "$?" 0 "eval --help"

"$M" gen --task all --episodes 2 --seed 5 --out "$tmp/g" --image-size 256 --max-steps 4 \
    --quiet --threads 2 || fail "gen"
"$M" codebook train --episodes "$tmp/g/episodes.tar.zst" --out "$tmp/cb.safetensors" \
    --k 1024 --iters 3 --quiet --threads 2 || fail "codebook train"
"$M" bpe train --episodes "$tmp/g/episodes.tar.zst" --out "$tmp/tok.json" --vocab-size 9000 \
    --quiet --threads 2 || fail "bpe train"
"$M" pack --episodes "$tmp/g" --tokenizer "$tmp/tok.json" --codebook "$tmp/cb.safetensors" \
    --out "$tmp/s" --image-seq-length 256 --quiet --threads 2 || fail "pack"
[ -f "$tmp/s/manifest.json" ] || { fail "no shards"; finish; }

n=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["samples"])' \
    "$tmp/s/manifest.json")
for ((i = 0; i < n; i++)); do "$M" cat "$tmp/s" "$i" --json; done >"$tmp/cat.jsonl" ||
    fail "cat"

# perfect: the label ids of every sample
"$PY" - "$tmp/cat.jsonl" "$tmp/perfect.jsonl" <<'PYEOF'
import json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    for line in f:
        s = json.loads(line)
        ids = [t for t, l in zip(s["input_ids"], s["labels"]) if l != -100]
        o.write(json.dumps({"key": s["key"], "output_ids": ids}) + "\n")
PYEOF
"$M" eval --truth "$tmp/s" --pred "$tmp/perfect.jsonl" --out "$tmp/r1" --json --quiet \
    --threads 1 >"$tmp/sum1.json" || fail "eval perfect"
"$M" eval --truth "$tmp/s" --pred "$tmp/perfect.jsonl" --out "$tmp/r2" --quiet \
    --threads 2 || fail "eval perfect, 2 threads"
got=$("$PY" -c '
import json,sys
s=json.load(open(sys.argv[1]))
print(s["accuracy"], s["v_acc"], s["v_red"], s["v_ratio"], s["code_match"],
      s["reconstruction"]["correct"] == s["reconstruction"]["images"] > 0, s["scored"] == s["lines"],
      sum(s["diagnostics"].values()))' "$tmp/sum1.json")
expect_eq "$got" "1.0 1.0 0.0 1.0 1.0 True True 0" "perfect predictions"
[ -f "$tmp/r1/report.json" ] && [ -f "$tmp/r1/report.md" ] || fail "report files missing"
T_CHECKS=$((T_CHECKS + 1))
cmp -s "$tmp/r1/report.md" "$tmp/r2/report.md" || fail "report.md differs between 1 and 2 threads"
T_CHECKS=$((T_CHECKS + 1))
grep -q "| maze |" "$tmp/r1/report.md" || fail "report.md has no maze row"

# answers: wrong letters and unparseable texts, counted exactly; plus bad lines
"$PY" - "$tmp/cat.jsonl" "$tmp/mixed.jsonl" "$tmp/expect.txt" <<'PYEOF'
import json, re, sys
rx = re.compile(r"The answer is (\w)\.")
n = correct = wrong = unparse = 0
first = None
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    for line in f:
        s = json.loads(line)
        m = rx.search(s["meta"]["label_text"])
        if not m:
            continue
        n += 1
        first = first or s["key"]
        k = n % 3
        if k == 0:
            text, correct = "The answer is %s." % m.group(1), correct + 1
        elif k == 1:
            text, wrong = "The answer is %s." % ("A" if m.group(1) != "A" else "B"), wrong + 1
        else:
            text, unparse = "The answer is unclear.", unparse + 1
        o.write(json.dumps({"key": s["key"], "text": text}) + "\n")
    o.write("this is not json\n")
    o.write(json.dumps({"key": "no-such-key", "text": "x"}) + "\n")
    o.write(json.dumps({"key": first, "output_ids": [70000]}) + "\n")
open(sys.argv[3], "w").write("%d %d %d %d" % (n, correct, wrong, unparse))
PYEOF
"$M" eval --truth "$tmp/s" --pred "$tmp/mixed.jsonl" --json >"$tmp/sum2.json" 2>"$tmp/err2" ||
    fail "eval mixed"
got=$("$PY" -c '
import json,sys
s=json.load(open(sys.argv[1])); a=s["answers"]; d=s["diagnostics"]
print(a["n"], a["correct"], a["wrong"], a["unparseable"],
      d["malformed_line"], d["unknown_key"], d["duplicate_key"], d["id_out_of_range"])' \
    "$tmp/sum2.json")
expect_eq "$got" "$(cat "$tmp/expect.txt") 1 1 1 1" "answer counts and diagnostics"
T_CHECKS=$((T_CHECKS + 1))
grep -q "line [0-9]*: not JSON" "$tmp/err2" || fail "no per-line diagnostic on stderr: $(cat "$tmp/err2")"
# --strict: the same lines fail the run; perfect lines still pass
"$M" eval --truth "$tmp/s" --pred "$tmp/mixed.jsonl" --strict --quiet 2>/dev/null
expect_eq "$?" 1 "eval --strict with malformed lines"
"$M" eval --truth "$tmp/s" --pred "$tmp/perfect.jsonl" --strict --quiet
expect_eq "$?" 0 "eval --strict with perfect lines"
# an unreadable truth shard is a runtime failure, not "0 scored"
for f in "$tmp"/s/shard-*.tar.zst; do head -c 100 "$f" >"$f.cut" && mv "$f.cut" "$f"; done
"$M" eval --truth "$tmp/s" --pred "$tmp/perfect.jsonl" --quiet 2>"$tmp/err3"
expect_eq "$?" 1 "eval with unreadable truth shards"
rm -rf "$tmp"
finish
