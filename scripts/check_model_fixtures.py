#!/usr/bin/env python3
"""Checks dsv3's forward pass and greedy generation against fixtures made by
scripts/make_model_fixtures.py (for example the held-out configs the tests never saw).
Python standard library only.

    python3 scripts/check_model_fixtures.py build/bin/dsv3 DIR [DIR...]

For each fixture folder: `dsv3 model forward --all-positions` on every golden sequence
(max |dlogit| against HF's FP32 logits, argmax agreement), `dsv3 generate --temperature 0`
(identical 12-token continuation), and for MTP configs nothing more (the unit tests cover
the MTP module). Prints one line per fixture; exits 1 if any exceeds the tolerance.
"""
import json
import os
import struct
import subprocess
import sys

TOL = 1e-3


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", name
        b, en = e["data_offsets"]
        out[name] = (e["shape"], struct.unpack(f"<{(en - b) // 4}f", data[b:en]))
    return out


def main():
    dsv3, dirs = sys.argv[1], sys.argv[2:]
    bad = 0
    for d in dirs:
        meta = json.load(open(os.path.join(d, "golden.json")))
        gold = read_safetensors(os.path.join(d, "golden.safetensors"))
        worst, agree, total, greedy_ok = 0.0, 0, 0, True
        for k, ids in enumerate(meta["sequences"]):
            arg = ",".join(map(str, ids))
            r = subprocess.run([dsv3, "model", "forward", "--model", d, "--ids", arg, "--all-positions", "--format",
                                "json"], capture_output=True, text=True, check=True)
            got = json.loads(r.stdout)["logits"]
            shape, ref = gold[f"seq{k}.logits"]
            V = shape[1]
            for t, row in enumerate(got):
                refrow = ref[t * V:(t + 1) * V]
                worst = max(worst, max(abs(a - b) for a, b in zip(row, refrow)))
                agree += int(max(range(V), key=row.__getitem__) == max(range(V), key=refrow.__getitem__))
                total += 1
            g = subprocess.run([dsv3, "generate", "--model", d, "--ids", arg, "--max-new-tokens",
                                str(len(meta["greedy"][k])), "--temperature", "0", "--ignore-eos", "--format", "json"],
                               capture_output=True, text=True, check=True)
            greedy_ok = greedy_ok and json.loads(g.stdout)["ids"] == meta["greedy"][k]
        ok = worst <= TOL and greedy_ok
        bad += not ok
        print(f"{os.path.basename(d.rstrip('/')):32s} fp8={meta['fp8']!s:5s} max|dlogit|={worst:.2e} "
              f"argmax {agree}/{total} greedy12 {'identical' if greedy_ok else 'DIFFERENT'} -> {'ok' if ok else 'FAIL'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
