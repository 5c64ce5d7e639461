// kernel_trace: a preloaded library that records every kernel a CUDA program runs, CUDA-graph
// nodes included, with its GPU start and end times (CUPTI's concurrent-kernel activity records,
// which neither serialize the kernels nor break programmatic launches). Where ncu times each
// kernel alone, this shows how they overlap inside a decode step's graph: which kernel's end
// decides the step, and by how much (bench/cuda/kernel_timeline.py reads the file).
//
//   env KTRACE_OUT=trace.csv LD_PRELOAD=build/bench/libkernel_trace.so DSV3_BENCH_PROFILE=1
//       DSV3_BENCH_MODEL=/tmp/dsv3-mid build/bench/cuda_model_bench   (one command line)
//
// Put LD_PRELOAD on the program itself, not on a wrapper such as `timeout` (the wrapper would
// write an empty file over the program's on exit). Output, one row per kernel:
// start_ns,end_ns,stream,graph,node,gx,gy,block,name (the name demangled, commas replaced).
#include <cupti.h>
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Record {
  uint64_t start, end;
  uint32_t stream, graph;
  uint64_t node;
  int32_t gx, gy, block;
  std::string name;
};

// Never destroyed: CUPTI may deliver buffers while static destructors run.
std::vector<Record>* records = new std::vector<Record>;

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *size = size_t{8} << 20;
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(8, *size));
  *max_records = 0;
}

std::string demangled(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string s = status == 0 && d ? d : name;
  std::free(d);
  for (char& c : s)
    if (c == ',') c = ';';
  return s;
}

void CUPTIAPI buffer_completed(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid) {
  CUpti_Activity* r = nullptr;
  while (cuptiActivityGetNextRecord(buffer, valid, &r) == CUPTI_SUCCESS) {
    if (r->kind != CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) continue;
    const auto* k = reinterpret_cast<const CUpti_ActivityKernel10*>(r);
    records->push_back({k->start, k->end, k->streamId, k->graphId, k->graphNodeId, k->gridX, k->gridY, k->blockX,
                        demangled(k->name)});
  }
  std::free(buffer);
}

struct Tracer {
  Tracer() {
    if (cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed) != CUPTI_SUCCESS ||
        cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) != CUPTI_SUCCESS)
      std::fprintf(stderr, "kernel_trace: CUPTI did not start; no trace\n");
  }
  ~Tracer() {
    cuptiActivityFlushAll(1);
    const char* path = std::getenv("KTRACE_OUT");
    FILE* f = std::fopen(path ? path : "ktrace.csv", "w");
    if (!f) {
      std::fprintf(stderr, "kernel_trace: cannot write %s\n", path ? path : "ktrace.csv");
      return;
    }
    std::fprintf(f, "start_ns,end_ns,stream,graph,node,gx,gy,block,name\n");
    for (const auto& r : *records)
      std::fprintf(f, "%llu,%llu,%u,%u,%llu,%d,%d,%d,%s\n", static_cast<unsigned long long>(r.start),
                   static_cast<unsigned long long>(r.end), r.stream, r.graph, static_cast<unsigned long long>(r.node),
                   r.gx, r.gy, r.block, r.name.c_str());
    std::fclose(f);
  }
} tracer;

}  // namespace
