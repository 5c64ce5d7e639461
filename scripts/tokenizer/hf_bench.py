#!/usr/bin/env python3
"""HF tokenizers encode throughput on the same corpus as bench/tokenizer_bench.cpp.

  RAYON_NUM_THREADS=N python3 hf_bench.py TOKENIZER_JSON CORPUS PASSES MODE

MODE "batch": Tokenizer.encode_batch over the corpus's lines (rayon pool of
RAYON_NUM_THREADS threads); "sequential": Tokenizer.encode line by line (one thread, with
Python's per-call overhead). One untimed warm-up pass, then PASSES timed passes. Prints one
JSON line with the best and median MB/s.
"""
import json
import os
import sys
import time

from tokenizers import Tokenizer

path, corpus, passes, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
tok = Tokenizer.from_file(path)
data = open(corpus, "rb").read()
text = data.decode("utf-8")
docs = [l + "\n" for l in text.split("\n")]
if text.endswith("\n"):
    docs.pop()  # the empty piece after the last newline
else:
    docs[-1] = docs[-1][:-1]
times = []
tokens = 0
for p in range(passes + 1):
    t0 = time.perf_counter()
    if mode == "batch":
        enc = tok.encode_batch(docs, add_special_tokens=False)
        tokens = sum(len(e.ids) for e in enc)
    else:
        tokens = sum(len(tok.encode(d, add_special_tokens=False).ids) for d in docs)
    if p > 0:
        times.append(time.perf_counter() - t0)
times.sort()
mb = len(data) / 1e6
print(json.dumps({"impl": "hf-tokenizers", "mode": mode, "threads": int(os.environ.get("RAYON_NUM_THREADS", "0")),
                  "tokens": tokens, "best_mb_s": round(mb / times[0], 2), "median_mb_s": round(mb / times[len(times) // 2], 2),
                  "passes": passes}), flush=True)
