#pragma once
// Time of a dispatch or combine from per-GPU port loads.
//
// Each GPU has an NVLink port and an IB NIC, each full duplex; the flows on a port share its
// bandwidth, so a port needs bytes / bandwidth. A GPU's time is its slowest port; the
// all-to-all waits for the slowest GPU. The communication kernels run on `comm_sms` SMs: below
// the count that saturates the links (20 on H800, TR §3.2.2) bandwidth scales down in
// proportion. Bandwidths and efficiencies come from sim/routing/deepep_h800.yaml.
#include <string>
#include <vector>

#include "sim/routing/traffic.hpp"

namespace dsv3::sim::routing {

struct Constant {
  std::string name;
  double value = 0;
  std::string source;
};

struct LinkModel {
  int gpus_per_node = 8;
  double nvlink_GBps = 160, ib_GBps = 50;
  int comm_sms_saturating = 20;
  double normal_nvlink_efficiency = 1, ib_efficiency = 1, normal_fixed_us = 0;
  double ll_nvlink_efficiency = 1, ll_fixed_us = 0;
  double grouped_gemm_tflops = 0;     // stand-in expert GEMM rate (dsv3 simulate routing)
  std::string source;                 // the file it came from
  std::vector<Constant> constants;    // every constant with its source, for printing

  // Loads the yaml file (default: the shipped sim/routing/deepep_h800.yaml).
  static LinkModel load(const std::string& path = "");
};

struct CommTime {
  double seconds = 0;               // the slowest GPU: what the layer waits for
  double mean_gpu_s = 0;            // the average GPU (what one rank's kernel timer shows)
  int slowest_gpu = -1;
  std::string bottleneck;          // "NVLink" or "IB" of the slowest GPU
  std::vector<double> per_gpu_s;
};

// Normal (two-hop) kernels on comm_sms SMs, or the low-latency kernels (no SM scaling).
CommTime comm_time(const PortLoads& loads, const LinkModel& m, int comm_sms, bool low_latency);

}  // namespace dsv3::sim::routing
