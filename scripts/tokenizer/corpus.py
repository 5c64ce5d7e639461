#!/usr/bin/env python3
"""Writes the tokenizer benchmark corpus: every non-.gz file under a benchmarks folder,
sorted by path, concatenated (a newline added after a file that lacks one), cut to 16 MiB
at a line end. bench/tokenizer_bench.cpp builds the same bytes in C++.
Usage: python3 scripts/tokenizer/corpus.py ../shared/data/benchmarks corpus.txt
"""
import os
import sys

src, dst = sys.argv[1], sys.argv[2]
files = []
for root, _, names in os.walk(src):
    files += [os.path.join(root, n) for n in names if not n.endswith(".gz")]
files.sort(key=lambda p: os.path.relpath(p, src).split(os.sep))
data = b""
for f in files:
    data += open(f, "rb").read()
    if data and not data.endswith(b"\n"):
        data += b"\n"
limit = 16 << 20
if len(data) > limit:
    data = data[: data.rfind(b"\n", 0, limit) + 1]
open(dst, "wb").write(data)
print(len(data), "bytes from", len(files), "files")
