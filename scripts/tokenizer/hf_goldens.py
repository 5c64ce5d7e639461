#!/usr/bin/env python3
"""Golden outputs from HF for the tokenizer tests (run where `tokenizers` and
`transformers` are installed; the GPU machine has both).

  python3 hf_goldens.py TOKENIZER_DIR DATA_DIR OUT_DIR [HELDOUT_SOURCE.txt]

TOKENIZER_DIR holds tokenizer.json and tokenizer_config.json. DATA_DIR holds corpus.jsonl
and chats.jsonl (scripts/tokenizer/make_corpus.py). Writes to OUT_DIR:
  corpus_hf.jsonl   per corpus line: {"ids", "decoded", "decoded_skip"} from tokenizers
  chats_hf.jsonl    per chat: {"text"} from transformers' apply_chat_template (with the
                    template of tokenizer_config.json), {"ids"} its tokens, or {"error"}
  decode_hf.jsonl   random id sequences and HF's decode of them (skip_special false/true)
  heldout.jsonl     texts the tests never saw (random slices of HELDOUT_SOURCE, random code
                    points, special-token mixes; fresh seed each run) with HF's ids
"""
import json
import os
import random
import sys
import time

from tokenizers import Tokenizer

tok_dir, data_dir, out_dir = sys.argv[1:4]
heldout_source = sys.argv[4] if len(sys.argv) > 4 else None
os.makedirs(out_dir, exist_ok=True)
tok = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
import tokenizers
versions = {"tokenizers": tokenizers.__version__}


def read_jsonl(p):
    with open(p, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def dump(p, rows):
    with open(p, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


# --- corpus ------------------------------------------------------------------------------
texts = read_jsonl(os.path.join(data_dir, "corpus.jsonl"))
rows = []
for t in texts:
    ids = tok.encode(t, add_special_tokens=False).ids
    rows.append({"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                 "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
dump(os.path.join(out_dir, "corpus_hf.jsonl"), rows)

# --- decode of random id sequences ------------------------------------------------------------
rng = random.Random(12345)
n_vocab = tok.get_vocab_size(with_added_tokens=True)
byte_ids = [tok.token_to_id(c) for c in
            [chr(b) if (33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255) else None for b in range(256)] if c]
rows = []
for i in range(300):
    pool = byte_ids if i % 3 == 0 else range(n_vocab)
    ids = [rng.choice(pool) for _ in range(rng.randint(1, 24))]
    if i % 5 == 0:
        ids.insert(rng.randint(0, len(ids)), rng.choice([0, 1, 2, 128000, 128803, 128804, 128805, 128814]))
    rows.append({"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                 "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
dump(os.path.join(out_dir, "decode_hf.jsonl"), rows)

# --- chats -------------------------------------------------------------------------------------
chats = read_jsonl(os.path.join(data_dir, "chats.jsonl"))
cfg = json.load(open(os.path.join(tok_dir, "tokenizer_config.json"), encoding="utf-8"))
rows = []


def name(v):
    return v["content"] if isinstance(v, dict) else v


hf = None
try:
    import transformers
    versions["transformers"] = transformers.__version__
    try:
        from transformers import PreTrainedTokenizerFast
        hf = PreTrainedTokenizerFast(tokenizer_file=os.path.join(tok_dir, "tokenizer.json"),
                                     bos_token=name(cfg["bos_token"]), eos_token=name(cfg["eos_token"]),
                                     pad_token=name(cfg["pad_token"]))
        hf.chat_template = cfg["chat_template"]
        versions["chat_tokenizer"] = "PreTrainedTokenizerFast(tokenizer_file) + tokenizer_config chat_template"
    except Exception as e:
        print("PreTrainedTokenizerFast failed:", repr(e))
        from transformers import AutoTokenizer
        hf = AutoTokenizer.from_pretrained(tok_dir)
        versions["chat_tokenizer"] = "AutoTokenizer(folder)"
except Exception as e:
    print("transformers unusable:", repr(e))
for c in chats:
    if hf is None:
        rows.append({"error": "transformers unusable"})
        continue
    try:
        text = hf.apply_chat_template(c["messages"], tokenize=False, add_generation_prompt=c["add_generation_prompt"])
    except Exception as e:  # the template itself fails on this input
        rows.append({"error": f"{type(e).__name__}: {e}"})
        continue
    row = {"text": text, "ids": tok.encode(text, add_special_tokens=False).ids}
    try:
        r = hf.apply_chat_template(c["messages"], tokenize=True, add_generation_prompt=c["add_generation_prompt"])
        row["ids_apply"] = list(r["input_ids"] if not isinstance(r, list) else r)
    except Exception as e:
        row["ids_apply_error"] = f"{type(e).__name__}: {e}"
    rows.append(row)
dump(os.path.join(out_dir, "chats_hf.jsonl"), rows)

# --- held-out texts ----------------------------------------------------------------------------
if heldout_source:
    seed = int.from_bytes(os.urandom(8), "little")
    hr = random.Random(seed)
    src = open(heldout_source, encoding="utf-8", errors="replace").read()
    specials = [t.content for t in tok.get_added_tokens_decoder().values()]
    items = []
    for _ in range(3000):  # random slices of real text
        n = hr.choice([1, 2, 5, 20, 100, 500, 2000])
        s = hr.randrange(0, len(src) - n)
        items.append(src[s:s + n])
    for _ in range(1500):  # random code points anywhere in Unicode (no surrogates)
        cps = []
        for _ in range(hr.randint(1, 40)):
            r = hr.random()
            c = hr.randrange(0x110000) if r < 0.3 else hr.randrange(0x3000) if r < 0.6 else hr.randrange(0x20000)
            if 0xD800 <= c <= 0xDFFF:
                c = 0x20
            cps.append(chr(c))
        items.append("".join(cps))
    for _ in range(500):  # special tokens and whitespace mixed into real text
        parts = []
        for _ in range(hr.randint(1, 10)):
            r = hr.random()
            if r < 0.3:
                parts.append(hr.choice(specials))
            elif r < 0.5:
                parts.append(hr.choice([" ", "  ", "\n", "\r\n", "\t", "\u3000", "\xa0", "\n\n  ", " \r\n"]))
            else:
                n = hr.randint(1, 60)
                s = hr.randrange(0, len(src) - n)
                parts.append(src[s:s + n])
        items.append("".join(parts))
    t0 = time.time()
    rows = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in items]
    dump(os.path.join(out_dir, "heldout.jsonl"), rows)
    versions["heldout_seed"] = seed
    versions["heldout_n"] = len(rows)
json.dump(versions, open(os.path.join(out_dir, "versions.json"), "w"))
print(json.dumps(versions))
