// HF tokenizers side of the whole-process JSONL benchmark (bench/bpe_bench.sh --pair, driven
// by bench/run-all.sh): reads stdin as JSONL (one JSON string per line), encodes every text
// without special tokens, writes one JSON array of ids per line to stdout, the same contract
// as `mvot bpe encode --jsonl`, so the two outputs can be compared byte for byte. Texts go to
// encodeBatch in chunks (HF's own parallel batch; threads from RAYON_NUM_THREADS).
// usage: node bpe_hf_jsonl.js TOKENIZER.json < in.jsonl > out.jsonl
'use strict';
const fs = require('fs');
const {Tokenizer} = require('@anush008/tokenizers');
const CHUNK = 64;
(async () => {
  const tok = Tokenizer.fromFile(process.argv[2]);
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.length);
  const texts = lines.map((l) => JSON.parse(l));
  const out = [];
  for (let i = 0; i < texts.length; i += CHUNK) {
    const encs = await tok.encodeBatch(texts.slice(i, i + CHUNK), {addSpecialTokens: false});
    for (const e of encs) out.push(JSON.stringify(Array.from(e.getIds())));
  }
  fs.writeFileSync(1, out.join('\n') + (out.length ? '\n' : ''));
})().catch((e) => {
  console.error('bpe_hf_jsonl: ' + e.message);
  process.exit(1);
});
