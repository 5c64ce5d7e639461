#!/usr/bin/env python3
"""Writes tokenizer.json beside this script: a 320-token byte-level BPE tokenizer for the tiny
fixture models (tests/data/models/tiny-*, vocab_size 320), built from DeepSeek-V3's tokenizer.json:
the same normalizer, pre-tokenizer and decoder; ids 0..2 its first three special tokens; 3..258
the 256 byte symbols; 259..262 the chat-template tokens; then the first of its merges whose two
parts are already in the vocabulary, until 320 ids are used.
Usage: make_tiny_tokenizer.py data/tokenizer/tokenizer.json"""
import json, os, sys

src = json.load(open(sys.argv[1], encoding="utf-8"))
vocab = {}
added = []
for t in src["added_tokens"][:3]:
    vocab[t["content"]] = len(vocab)
    added.append(dict(t, id=vocab[t["content"]]))
# ByteLevel alphabet (GPT-2 bytes_to_unicode), in byte order
bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
cs = bs[:]
n = 0
for b in range(256):
    if b not in bs:
        bs.append(b)
        cs.append(256 + n)
        n += 1
byte_sym = dict(zip(bs, (chr(c) for c in cs)))
for b in range(256):
    vocab[byte_sym[b]] = len(vocab)
for name in ["<｜User｜>", "<｜Assistant｜>", "<｜fim▁hole｜>", "<｜fim▁begin｜>"]:
    t = next(x for x in src["added_tokens"] if x["content"] == name)
    vocab[name] = len(vocab)
    added.append(dict(t, id=vocab[name]))
merges = []
for m in src["model"]["merges"]:
    if len(vocab) >= 320:
        break
    a, b = m.split(" ") if isinstance(m, str) else m
    if a in vocab and b in vocab and a + b not in vocab:
        vocab[a + b] = len(vocab)
        merges.append(f"{a} {b}")
out = {k: src[k] for k in ["version", "truncation", "padding", "normalizer", "pre_tokenizer", "post_processor", "decoder"]}
out["added_tokens"] = added
out["model"] = dict(src["model"], vocab=vocab, merges=merges)
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "tokenizer.json"), "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
print(len(vocab), "ids,", len(merges), "merges")
