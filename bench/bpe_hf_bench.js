// HF tokenizers side of the text tokenizer benchmark (see bench/bpe_bench.sh): the same
// documents as bench/bpe_bench.c (corpus cut after the first newline at or past CHUNK bytes),
// encoded one by one with add_special_tokens=false, timed in-process after loading (best of
// REPS passes after a warm-up pass). Run with RAYON_NUM_THREADS=1 for single-thread figures.
// With BATCH=1 in the environment, each pass is one encodeBatch over all documents (HF's
// own parallel batch, threads from RAYON_NUM_THREADS) instead of one encode per document.
// usage: node bpe_hf_bench.js TOKENIZER.json CORPUS.txt [REPS] [CHUNK]
'use strict';
const fs = require('fs');
const {Tokenizer} = require('@anush008/tokenizers');
const [tokPath, corpusPath, repsArg, chunkArg] = process.argv.slice(2);
const reps = parseInt(repsArg || '5', 10), chunk = parseInt(chunkArg || '16384', 10);
const data = fs.readFileSync(corpusPath);
const docs = [];
for (let b = 0; b < data.length;) {
  let e = Math.min(b + chunk, data.length);
  while (e < data.length && data[e - 1] !== 0x0a) e++;
  docs.push(data.subarray(b, e).toString('utf8'));
  b = e;
}
(async () => {
  const t0 = process.hrtime.bigint();
  const tok = Tokenizer.fromFile(tokPath);
  const load = Number(process.hrtime.bigint() - t0) / 1e9;
  let best = Infinity, ntok = 0, sum = 0n;
  for (let r = 0; r <= reps; r++) {
    ntok = 0;
    const ids = [];
    const t = process.hrtime.bigint();
    if (process.env.BATCH === '1') {
      const encs = await tok.encodeBatch(docs, {addSpecialTokens: false});
      for (const e of encs) {
        const v = e.getIds();
        ntok += v.length;
        if (r === 0) ids.push(v);
      }
    } else {
      for (const d of docs) {
        const e = await tok.encode(d, null, {addSpecialTokens: false});
        const v = e.getIds();
        ntok += v.length;
        if (r === 0) ids.push(v);
      }
    }
    const dt = Number(process.hrtime.bigint() - t) / 1e9;
    if (r && dt < best) best = dt;
    if (r === 0) {
      let s = 0n;
      const M = (1n << 64n) - 1n;
      for (const v of ids) for (const x of v) s = (s * 31n + BigInt(x)) & M;
      sum = s;
    }
  }
  console.log(JSON.stringify({tokenizer: tokPath, corpus_bytes: data.length, documents: docs.length,
    tokens: ntok, ids_checksum: sum.toString(), load_s: load,
    encode_mb_s: data.length / 1e6 / best, batch: process.env.BATCH === '1',
    rayon_threads: process.env.RAYON_NUM_THREADS || 'default'}));
})();
