#!/usr/bin/env bash
# Runs the CUDA kernel tests and benchmarks on a GPU machine and tabulates the results.
# Usage: scripts/bench_cuda.sh [BIN_DIR] [OUT_DIR]
#   BIN_DIR holds test_model_gpu and cuda_kernels_bench (default: build/tests and build/bench of
#   this checkout), plus lib/ with shared libraries they need that the machine may lack.
#   OUT_DIR receives gpu.txt, gputest.log, bench.log, cuda_bench.json (all runs), cuda_bench.md and
#   gemm_tflops.csv (default out/cuda).
# BENCH_FILTER (a Google Benchmark regex) restricts the benchmarks; SKIP_TESTS=1 skips the tests.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-}
out=${2:-$here/out/cuda}
mkdir -p "$out"
if [ -n "$bin" ]; then
  tests="$bin/test_model_gpu"; bench="$bin/cuda_kernels_bench"
  [ -d "$bin/lib" ] && export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  tests="$here/build/tests/test_model_gpu"; bench="$here/build/bench/cuda_kernels_bench"
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.total --format=csv | tee "$out/gpu.txt"
status=0
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  "$tests" --gtest_color=no 2>&1 | tee "$out/gputest.log" | grep -E '^\[  (FAILED|PASSED|SKIPPED) |Failure|error|Expected|Which is|K-major' || true
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
fi
# One process per group: a failure in one group leaves the others' numbers.
groups=${BENCH_FILTER:-"BM_CopyBandwidth BM_Gemm/.*variant:0 BM_Gemm/.*variant:1 BM_Gemm/.*variant:2 BM_Gemm/.*variant:3 BM_Gemm/.*variant:4 BM_Gemm/.*variant:5 BM_ActQuant BM_MlaDecode BM_MlaPrefill BM_MoeRouted"}
tmp=$(mktemp -d)
i=0
for g in $groups; do
  i=$((i + 1))
  "$bench" --benchmark_filter="$g" --benchmark_out="$tmp/part_$i.json" --benchmark_out_format=json \
    --benchmark_counters_tabular=true >> "$out/bench.log" 2>&1 || { status=1; echo "benchmark group $g failed:"; tail -3 "$out/bench.log"; }
done
python3 "$here/scripts/cuda_bench_table.py" --csv "$out/gemm_tflops.csv" --merged "$out/cuda_bench.json" "$tmp"/part_*.json | tee "$out/cuda_bench.md"
rm -rf "$tmp"
exit $status
