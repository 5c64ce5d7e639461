#!/usr/bin/env bash
# One call on the GPU machine (HF tokenizers + transformers installed there): HF goldens,
# held-out parity of the static dsv3 tokenizer (device_tool) against HF, and encode
# throughput of both on the same corpus. Run from the folder that holds: tokenizer.json,
# tokenizer_config.json, corpus.txt (scripts/tokenizer/corpus.py), corpus.jsonl,
# chats.jsonl, device_tool (build_device_tool.sh), hf_goldens.py, hf_bench.py.
# Usage: bash device_run.sh OUT_DIR
set -uo pipefail
out=${1:?OUT_DIR}
d=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out/g"
export PYTHONUNBUFFERED=1
log() { echo "[$(date +%T)] $*"; }
{
log "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) x $(nproc)"
python3 -c "import tokenizers, transformers, sys; print('python', sys.version.split()[0], 'tokenizers', tokenizers.__version__, 'transformers', transformers.__version__)"
log "goldens"
mkdir -p "$d/tok" && cp "$d/tokenizer.json" "$d/tokenizer_config.json" "$d/tok/"
python3 "$d/hf_goldens.py" "$d/tok" "$d" "$out/g" "$d/corpus.txt" || log "hf_goldens FAILED"
log "held-out + corpus parity"
python3 - "$out/g" "$d" <<'PY'
import json, subprocess, sys
g, d = sys.argv[1], sys.argv[2]
def check(name, texts, want):
    inp = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in texts)
    r = subprocess.run([d + "/device_tool", "encode", d + "/tokenizer.json"], input=inp.encode(), capture_output=True)
    got = [json.loads(l) for l in r.stdout.decode().splitlines()]
    bad = [i for i in range(len(texts)) if i >= len(got) or got[i] != want[i]]
    print(f"PARITY {name}: {len(texts) - len(bad)}/{len(texts)} identical; rc={r.returncode} {r.stderr.decode()[:300]}")
    for i in bad[:5]:
        print("  DIFF", repr(texts[i][:120]), want[i][:12], got[i][:12] if i < len(got) else None)
try:
    h = [json.loads(l) for l in open(g + "/heldout.jsonl", encoding="utf-8")]
    check("heldout", [x["text"] for x in h], [x["ids"] for x in h])
except Exception as e: print("heldout check failed:", e)
try:
    c = [json.loads(l) for l in open(d + "/corpus.jsonl", encoding="utf-8")]
    w = [json.loads(l)["ids"] for l in open(g + "/corpus_hf.jsonl", encoding="utf-8")]
    check("corpus", c, w)
except Exception as e: print("corpus check failed:", e)
PY
log "bench dsv3"
"$d/device_tool" bench "$d/tokenizer.json" "$d/corpus.txt" 2 0 1 4 16 | tee "$out/bench.jsonl"
log "bench HF"
for t in 16 4; do RAYON_NUM_THREADS=$t python3 "$d/hf_bench.py" "$d/tokenizer.json" "$d/corpus.txt" 2 batch | tee -a "$out/bench.jsonl"; done
RAYON_NUM_THREADS=1 timeout 90 python3 "$d/hf_bench.py" "$d/tokenizer.json" "$d/corpus.txt" 1 batch | tee -a "$out/bench.jsonl"
log "done"
} 2>&1 | tee "$out/log.txt"
