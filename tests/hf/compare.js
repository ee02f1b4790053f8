// Compares our encoder/decoder with HF tokenizers (the Rust library via the Node binding
// @anush008/tokenizers), id for id, on every corpus line, with and without special tokens,
// then decode round trips (skip_special false and true), then invalid UTF-8 handled the way
// a JS/Rust string conversion does it (each maximal invalid subsequence -> U+FFFD).
// usage: node compare.js MVOT_BIN TOKENIZER.json CORPUS.jsonl [STRIDE]
// STRIDE > 1 keeps every STRIDE-th corpus line (the variants exercise components, not volume).
// Exit 0 only if everything is identical.
'use strict';
const fs = require('fs');
const {spawnSync} = require('child_process');
const {Tokenizer} = require('@anush008/tokenizers');
const [mvot, tokPath, corpusPath, strideArg] = process.argv.slice(2);
const stride = Math.max(1, parseInt(strideArg || '1', 10));
const pkg = /tokenizer-([a-z0-9_]+)[\\/]models/.exec(tokPath);
const name = pkg ? pkg[1] + '/tokenizer.json' : require('path').basename(tokPath);
const lines = fs.readFileSync(corpusPath, 'utf8').split('\n').filter(l => l.length)
  .filter((l, i, all) => i % stride === 0 || i === all.length - 1);
const texts = lines.map(l => JSON.parse(l));

function ours(args, input) {
  const r = spawnSync(mvot, ['bpe', ...args, '--tokenizer', tokPath, '--threads', '2'],
    {input, maxBuffer: 1 << 30});
  if (r.status !== 0) {
    process.stderr.write(`${name}: mvot bpe ${args.join(' ')} failed (${r.status}): ` +
      r.stderr.toString());
    process.exit(1);
  }
  return r.stdout;
}
const show = s => JSON.stringify(s.length > 120 ? s.slice(0, 120) + '...' : s);

(async () => {
  const tok = Tokenizer.fromFile(tokPath);
  let bad = 0, total = 0;
  const hfIds = {};
  for (const special of [false, true]) {
    const hf = [];
    for (const t of texts) hf.push((await tok.encode(t, null, {addSpecialTokens: special})).getIds());
    hfIds[special] = hf;
    const out = ours(['encode', '--jsonl', ...(special ? ['--special'] : [])],
      lines.join('\n') + '\n').toString().split('\n');
    for (let i = 0; i < texts.length; i++) {
      total++;
      const a = JSON.stringify(hf[i]), b = out[i];
      if (a !== b) {
        if (bad++ < 8) {
          process.stderr.write(`${name}: MISMATCH special=${special} text ${i} ${show(texts[i])}\n` +
            `  hf:   ${a.slice(0, 300)}\n  ours: ${String(b).slice(0, 300)}\n`);
        }
      }
    }
  }
  // decode round trips of HF's ids
  let dbad = 0, dtotal = 0;
  for (const skip of [false, true]) {
    const ids = hfIds[true];
    const input = ids.map(v => JSON.stringify(v)).join('\n') + '\n';
    const out = ours(['decode', '--jsonl', ...(skip ? ['--skip-special'] : [])], input)
      .toString().split('\n');
    for (let i = 0; i < ids.length; i++) {
      dtotal++;
      const a = await tok.decode(ids[i], skip);
      const b = JSON.parse(out[i]);
      if (a !== b && dbad++ < 8) {
        process.stderr.write(`${name}: DECODE MISMATCH skip=${skip} text ${i}\n  hf:   ${show(a)}\n` +
          `  ours: ${show(b)}\n`);
      }
    }
  }
  // invalid UTF-8: raw bytes on stdin vs HF on the WHATWG-decoded string
  const seqs = ['80', 'bf', 'c0af', 'c1bf', 'c2', 'e0', 'e080', 'e0a0', 'e0a080', 'ed', 'eda080',
    'edbfbf', 'f0', 'f08f', 'f09080', 'f0908080', 'f48f', 'f4908080', 'f5', 'ff', 'fe',
    'c3', 'e282', 'f09f98', 'f09f9880', '41c3', 'c341', 'e2a941', 'f09f41'];
  const parts = [];
  for (const h of seqs) {
    parts.push(Buffer.from('x' + (parts.length % 3 ? ' ' : ''), 'latin1'), Buffer.from(h, 'hex'),
      Buffer.from(parts.length % 2 ? ' ab\n' : 'cd', 'latin1'));
  }
  const raw = Buffer.concat(parts);
  const hfInv = (await tok.encode(raw.toString('utf8'), null, {addSpecialTokens: false})).getIds();
  const ourInv = ours(['encode'], raw).toString().trim();
  const ubad = JSON.stringify(hfInv) !== ourInv ? 1 : 0;
  if (ubad) {
    process.stderr.write(`${name}: INVALID UTF-8 MISMATCH\n  hf:   ${JSON.stringify(hfInv)}\n` +
      `  ours: ${ourInv}\n`);
  }
  const ok = !bad && !dbad && !ubad;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: encode ${total - bad}/${total} identical, ` +
    `decode ${dtotal - dbad}/${dtotal} identical, invalid-utf8 ${ubad ? 'differs' : 'identical'}`);
  process.exit(ok ? 0 : 1);
})();
