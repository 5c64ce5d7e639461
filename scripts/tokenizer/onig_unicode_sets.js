// Which code points HF tokenizers' regex engine (Oniguruma, inside the Rust crate) puts in
// each Unicode class that tokenizer.json patterns use: \p{L} \p{M} \p{N} \p{P} \p{S}
// \p{Nd} \s. The oracle is HF itself: a tokenizer whose pre-tokenizer removes every match
// of the class (Split, behavior Removed) and whose vocabulary holds every byte; what is
// left after decode(encode(chunk)) is the chunk minus the class's members.
//
// Needs the npm package `tokenizers` (HF's official Node binding of the same Rust crate,
// e.g. `npm install tokenizers@0.23.2` in a scratch folder, then NODE_PATH=that/node_modules).
// Usage: node scripts/tokenizer/onig_unicode_sets.js > tests/data/tokenizer/onig_unicode_sets.json
const { Tokenizer } = require('tokenizers');

function byteLevelAlphabet() {
  const cps = [];
  let next = 256;
  for (let b = 0; b < 256; ++b) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    cps.push(String.fromCodePoint(printable ? b : next++));
  }
  return cps;
}

function oracle(klass) {
  const vocab = {};
  byteLevelAlphabet().forEach((c, i) => { vocab[c] = i; });
  const json = {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: klass }, behavior: 'Removed', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }] },
    post_processor: null, decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, vocab, merges: [] },
  };
  return Tokenizer.fromString(JSON.stringify(json));
}

async function members(klass) {
  const tok = oracle(klass);
  const ranges = [];
  const CHUNK = 2048;
  for (let start = 0; start < 0x110000; start += CHUNK) {
    const cps = [];
    for (let c = start; c < Math.min(start + CHUNK, 0x110000); ++c) if (c < 0xD800 || c > 0xDFFF) cps.push(c);
    const text = String.fromCodePoint(...cps);
    const enc = await tok.encode(text, null, { addSpecialTokens: false });
    const left = new Set(Array.from(await tok.decode(Array.from(enc.getIds()), false)).map(ch => ch.codePointAt(0)));
    for (const c of cps) {
      if (left.has(c)) continue;
      const last = ranges[ranges.length - 1];
      if (last && last[1] === c - 1) last[1] = c; else ranges.push([c, c]);
    }
  }
  return ranges;
}

(async () => {
  const out = { source: 'HF tokenizers (npm tokenizers ' + require('tokenizers/package.json').version + '), Split Removed oracle', classes: {} };
  for (const k of ['\\p{L}', '\\p{M}', '\\p{N}', '\\p{P}', '\\p{S}', '\\p{Nd}', '\\s']) out.classes[k] = await members(k);
  process.stdout.write(JSON.stringify(out) + '\n');
})();
