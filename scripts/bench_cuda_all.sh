#!/usr/bin/env bash
# Every CUDA benchmark of issue 10 in one go, on a GPU machine: the GPU tests and kernel
# benchmarks (scripts/bench_cuda.sh: FP8/BF16 GEMMs, activation quantization, MLA decode and
# prefill, routed experts) and the "mid" model end to end with HF transformers in the same run
# (scripts/bench_cuda_model.sh).
# Usage: scripts/bench_cuda_all.sh BIN_DIR OUT_DIR [MODEL_DIR]
#   BIN_DIR: test_model_gpu, cuda_kernels_bench, cuda_model_bench (+ lib/ with the shared
#   libraries the machine may lack); OUT_DIR receives kernels/ and model/; MODEL_DIR (default
#   /tmp/dsv3-mid) the generated checkpoint (about 14 GB).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$1
out=$2
model=${3:-/tmp/dsv3-mid}
status=0
bash "$here/bench_cuda.sh" "$bin" "$out/kernels" || status=1
bash "$here/bench_cuda_model.sh" "$bin" "$out/model" "$model" || status=1
exit $status
