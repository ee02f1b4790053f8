#!/bin/bash
# `mvot build` runs end to end (gen -> codebook + BPE -> pack -> verify -> preview), and its
# build-config.json reproduces the shards byte for byte with another thread count.
set -euo pipefail
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cat > "$T/cfg.json" <<'J'
{"gen": {"episodes": 2, "image_size": 128, "min_steps": 1, "max_steps": 6, "sizes": {"minibehavior": {"7": 1}}},
 "codebook": {"K": 128, "max_iters": 2}}
J
"$MVOT_BIN" build --config "$T/cfg.json" --out "$T/a" --threads 1 --json > "$T/a.json" 2> "$T/a.err"
grep -q 'verify ok' "$T/a.err"
grep -q '"verify_ok":true' "$T/a.json"
[ -s "$T/a/preview.png" ] && [ -s "$T/a/shards/tokenizer.json" ] && [ -s "$T/a/shards/codebook.safetensors" ]
"$MVOT_BIN" build --quiet --config "$T/a/build-config.json" --out "$T/b" --threads 2
diff -r "$T/a/shards" "$T/b/shards"
ls "$T/a/shards/train/"shard-00000-000000.tar.zst > /dev/null
cmp "$T/a/build-config.json" "$T/b/build-config.json"
grep -q '"build_config"' "$T/a/shards/manifest.json"
# unknown config keys are refused (exit 2)
echo '{"pack": {"nope": 1}}' > "$T/bad.json"
set +e; "$MVOT_BIN" build --quiet --config "$T/bad.json" --out "$T/c"; rc=$?; set -e
[ $rc -eq 2 ] || { echo "bad config exit $rc"; exit 1; }
echo "ok"
