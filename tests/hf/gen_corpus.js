// Builds the exactness corpus (one JSON string per line) from tests/hf/corpus/*.txt, the
// official prompt templates filled with deterministic action sequences, locale strings from
// /usr/share/i18n/locales (when present), optional extra JSONL files (e.g. gen's strings) and
// deterministic random mixtures of hard characters. In the .txt files, \uXXXX and \n, \t, \r
// escapes are expanded so the files stay readable while holding control and combining chars.
// usage: node gen_corpus.js CORPUS_DIR OUT.jsonl [EXTRA.jsonl ...]
'use strict';
const fs = require('fs');
const path = require('path');
const [dir, out, ...extra] = process.argv.slice(2);

function unescape(s) {
  return s.replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\r/g, '\r');
}
let seed = 12345;
function rnd(n) { // xorshift32, deterministic
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}
const texts = [];
const files = fs.readdirSync(dir).filter(f => f.endsWith('.txt')).sort();
for (const f of files) {
  if (f === 'prompts.txt') continue;
  const raw = fs.readFileSync(path.join(dir, f), 'utf8');
  const lines = raw.split('\n').map(unescape);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (const l of lines) texts.push(l);
  texts.push(lines.join('\n'));
  for (const sep of ['\n', '\r\n', ' \n ', '\n\n', '\t']) {
    for (let i = 0; i + 3 <= lines.length; i += 2) texts.push(lines.slice(i, i + 3).join(sep));
  }
}
// prompts: templates with {SEQ}, {HIST}, {ANS}
const dirs = ['up', 'down', 'left', 'right'];
const tpl = fs.readFileSync(path.join(dir, 'prompts.txt'), 'utf8').split('\n').filter(Boolean);
for (let k = 0; k < 40; k++) {
  const n = 1 + rnd(9);
  const acts = Array.from({length: n}, () => 'Go ' + dirs[rnd(4)] + '. ');
  const hist = acts.slice(0, rnd(n + 1)).join('') + (rnd(2) ? '<image>' : '') +
    (rnd(2) ? acts[0] : '');
  for (const t of tpl) {
    texts.push(unescape(t).replace('{SEQ}', acts.join('')).replace('{HIST}', hist)
      .replace('{ANS}', 'ABCD'[rnd(4)]));
  }
}
// locales: quoted <Uxxxx> strings of a few scripts
const locdir = '/usr/share/i18n/locales';
const wanted = ['ar_SA', 'hi_IN', 'zh_CN', 'ja_JP', 'ko_KR', 'ru_RU', 'el_GR', 'th_TH', 'he_IL',
  'am_ET', 'ta_IN', 'bn_IN', 'ka_GE', 'hy_AM', 'my_MM', 'km_KH', 'vi_VN', 'tr_TR', 'fa_IR',
  'ur_PK', 'si_LK', 'bo_CN', 'dz_BT', 'lo_LA'];
let nloc = 0;
if (fs.existsSync(locdir)) {
  for (const w of wanted) {
    const p = path.join(locdir, w);
    if (!fs.existsSync(p)) continue;
    const src = fs.readFileSync(p, 'latin1');
    const strs = [];
    for (const m of src.matchAll(/"((?:<U[0-9A-Fa-f]{4,8}>|[^"<])*)"/g)) {
      if (!m[1].includes('<U')) continue;
      const s = m[1].replace(/<U([0-9A-Fa-f]{4,8})>/g,
        (_, h) => String.fromCodePoint(parseInt(h, 16)));
      if (/[^\x00-\x7f]/.test(s)) strs.push(s.replace(/[;%]/g, ' '));
    }
    for (let i = 0; i < strs.length; i += 7) texts.push(strs.slice(i, i + 7).join(' '));
    nloc++;
  }
}
if (!nloc) process.stderr.write('gen_corpus: NOTE: no locale files under ' + locdir + '\n');
for (const e of extra) {
  if (!fs.existsSync(e)) continue;
  for (const l of fs.readFileSync(e, 'utf8').split('\n')) if (l) texts.push(JSON.parse(l));
}
// random mixtures of hard pieces
const pool = [' ', '  ', '   ', '\t', '\n', '\r\n', '\n\n', 'a', 'Z', 'the', ' The', "'s", "'S",
  "'ll", "'", '0', '7', '42', '1234', '.', ',', '!?', '...', '-', '_', '(', ')', '<s>', '</s>',
  '<image>', '<reserved08706>', '<|endoftext|>', '<|begin_of_text|>', 'IMGIMGBAZ', '<sentinel:3>',
  '▁', 'é', 'e\u0301', '\u0301', 'ß', 'İ', 'ﬁ', '中文', '日本', '한국어', 'مرحبا', 'नमस्ते', '😀',
  '👍🏽', '👨‍👩‍👧', '\u00a0', '\u3000', '\u0085', '\u2028', '\u200b', '\ufeff', '\u0000',
  '\u0007', '\u007f', '𝔘', '１２', '½', '٣', 'Ω', 'Å', 'ǅ', 'ꙮ', '\ud7ff', '\ue000', '\uffff',
  'http://x.y/z?a=1', '$x', '@@', '##', '//', '/*', '*/', '=>', '!=', '<=', '<<', '>>'];
for (let k = 0; k < 600; k++) {
  let s = '';
  const n = 1 + rnd(24);
  for (let i = 0; i < n; i++) s += pool[rnd(pool.length)];
  texts.push(s);
}
// one long text: everything so far, to exercise long inputs and the merge cache
texts.push(texts.slice(0, 400).join(' '));
// long runs: whitespace, one huge word, digits, newlines, metaspace look-alikes, repeats
for (const r of [' ', 'a', '1', '\n', ' \n', 'é', 'ab ', '\u2581x', '<s>', '\t ']) {
  texts.push(r.repeat(Math.ceil(12000 / r.length)));
}
texts.push(''); // empty input
fs.writeFileSync(out, texts.map(t => JSON.stringify(t)).join('\n') + '\n');
process.stderr.write(`gen_corpus: ${texts.length} texts (${nloc} locales) -> ${out}\n`);
