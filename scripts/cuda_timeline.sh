#!/usr/bin/env bash
# Kernel timelines of one decode step of the "mid" model inside its CUDA graph, at batch 1 and 16
# (bench/cuda/kernel_trace.cpp preloaded into cuda_model_bench's DSV3_BENCH_PROFILE mode, then
# bench/cuda/kernel_timeline.py): which kernels decide the step and by how much.
# Usage: scripts/cuda_timeline.sh BIN_DIR OUT_DIR [MODEL_DIR] [FROM_US TO_US]
#   BIN_DIR: cuda_model_bench and libkernel_trace.so (+ lib/ with the shared libraries the machine
#   may lack, libcupti included); MODEL_DIR (default /tmp/dsv3-mid) an existing mid-model checkpoint
#   (scripts/bench_mid_model.py writes one); FROM_US TO_US: the window listed kernel by kernel
#   (default 290 385, about one MoE layer at batch 1).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$1
out=$2
model=${3:-/tmp/dsv3-mid}
from=${4:-290}
to=${5:-385}
mkdir -p "$out"
[ -d "$bin/lib" ] && export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -f "$model/config.json" ] || { echo "no mid model at $model (scripts/bench_mid_model.py $model --skip-hf)"; exit 2; }
status=0
for b in 1 16; do
  # LD_PRELOAD on the program itself: a wrapper (timeout, env -i ...) would write its own empty trace.
  KTRACE_OUT="$out/trace_b$b.csv" DSV3_BENCH_PROFILE=$b DSV3_BENCH_MODEL="$model" LD_PRELOAD="$bin/libkernel_trace.so" \
    "$bin/cuda_model_bench" > "$out/trace_b$b.log" 2>&1 || { status=1; echo "batch $b failed:"; tail -5 "$out/trace_b$b.log"; }
  python3 "$here/bench/cuda/kernel_timeline.py" "$out/trace_b$b.csv" --from "$from" --to "$to" \
    --period gemv_kernel --grid 8x1 > "$out/timeline_b$b.md" || status=1
done
exit $status
