#!/usr/bin/env bash
# End-to-end benchmark of the CUDA backend on the "mid" DeepSeek-V3-shaped model, with HF
# transformers' DeepseekV3ForCausalLM on the same checkpoint in the same run.
# Usage: scripts/bench_cuda_model.sh BIN_DIR OUT_DIR [MODEL_DIR]
#   BIN_DIR holds cuda_model_bench (and lib/ with the shared libraries the machine may lack);
#   MODEL_DIR (default /tmp/dsv3-mid) receives the generated checkpoint (about 14 GB).
# Needs a GPU with ~40 GB free, python3 with torch, transformers and safetensors.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$1
out=$2
model=${3:-/tmp/dsv3-mid}
mkdir -p "$out"
[ -d "$bin/lib" ] && export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
status=0
PYTHONUNBUFFERED=1 python3 "$here/scripts/bench_mid_model.py" "$model" ${SKIP_HF:+--skip-hf} > "$out/hf_bench.log" 2>&1 || {
  status=1; echo "mid model / HF failed:"; tail -20 "$out/hf_bench.log"; }
cp "$model/hf_bench.json" "$out/" 2>/dev/null
DSV3_BENCH_MODEL="$model" "$bin/cuda_model_bench" --benchmark_out="$out/model_bench.json" --benchmark_out_format=json \
  --benchmark_counters_tabular=true > "$out/model_bench.log" 2>&1 || { status=1; echo "cuda_model_bench failed:"; tail -20 "$out/model_bench.log"; }
python3 "$here/scripts/cuda_bench_table.py" --hf "$out/hf_bench.json" "$out/model_bench.json" | tee "$out/model_bench.md"
exit $status
