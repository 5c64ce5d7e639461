#include "sim/routing/link_model.hpp"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "model/data_dir.hpp"
#include "model/errors.hpp"

namespace dsv3::sim::routing {

LinkModel LinkModel::load(const std::string& path_in) {
  const std::string path = path_in.empty() ? model::source_path("sim/routing/deepep_h800.yaml").string() : path_in;
  YAML::Node y;
  try {
    y = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: cannot read ({})", path, e.what()));
  }
  LinkModel m;
  m.source = path;
  auto num = [&](const YAML::Node& n, const std::string& field) {
    if (!n || !n.IsScalar()) throw InputError(fmt::format("{}: {}: missing or not a number", path, field));
    try {
      return n.as<double>();
    } catch (const YAML::Exception&) {
      throw InputError(fmt::format("{}: {}: '{}' is not a number", path, field, n.as<std::string>()));
    }
  };
  const auto hw = y["hardware"];
  m.gpus_per_node = static_cast<int>(num(hw["gpus_per_node"], "hardware.gpus_per_node"));
  m.nvlink_GBps = num(hw["nvlink_GBps"], "hardware.nvlink_GBps");
  m.ib_GBps = num(hw["ib_GBps"], "hardware.ib_GBps");
  m.comm_sms_saturating = static_cast<int>(num(hw["comm_sms_saturating"], "hardware.comm_sms_saturating"));
  m.constants.push_back({"nvlink_GBps", m.nvlink_GBps, "DeepEP README, TR §3.2.2"});
  m.constants.push_back({"ib_GBps", m.ib_GBps, "DeepEP README, TR §3.2.2"});
  m.constants.push_back({"comm_sms_saturating", static_cast<double>(m.comm_sms_saturating), "TR §3.2.2"});
  const auto c = y["constants"];
  auto constant = [&](const std::string& name, double& out) {
    const auto n = c[name];
    if (!n) throw InputError(fmt::format("{}: constants.{}: missing", path, name));
    out = num(n["value"], "constants." + name + ".value");
    const std::string fitted = n["fitted_to"] ? n["fitted_to"].as<std::string>() : "";
    m.constants.push_back({name, out, fmt::format("{}; fitted to: {}", path, fitted.empty() ? "none" : fitted)});
  };
  constant("normal_nvlink_efficiency", m.normal_nvlink_efficiency);
  constant("ib_efficiency", m.ib_efficiency);
  constant("normal_fixed_us", m.normal_fixed_us);
  constant("ll_nvlink_efficiency", m.ll_nvlink_efficiency);
  constant("ll_fixed_us", m.ll_fixed_us);
  m.grouped_gemm_tflops = num(y["grouped_gemm"]["tflops"], "grouped_gemm.tflops");
  m.constants.push_back({"grouped_gemm_tflops", m.grouped_gemm_tflops,
                         "DeepGEMM README @327ec92, grouped contiguous FP8 on H800 (stand-in GEMM cost)"});
  for (double v : {m.grouped_gemm_tflops, m.nvlink_GBps, m.ib_GBps, m.normal_nvlink_efficiency, m.ib_efficiency, m.ll_nvlink_efficiency})
    if (!(v > 0)) throw InputError(fmt::format("{}: bandwidths and efficiencies must be positive", path));
  return m;
}

CommTime comm_time(const PortLoads& loads, const LinkModel& m, int comm_sms, bool low_latency) {
  if (!low_latency && comm_sms <= 0) throw InputError("link model: the communication kernels need at least one SM");
  const double sm_scale = low_latency ? 1.0 : std::min(1.0, static_cast<double>(comm_sms) / m.comm_sms_saturating);
  const double nvl = m.nvlink_GBps * 1e9 * (low_latency ? m.ll_nvlink_efficiency : m.normal_nvlink_efficiency) * sm_scale;
  const double ib = m.ib_GBps * 1e9 * m.ib_efficiency * sm_scale;
  const double fixed = (low_latency ? m.ll_fixed_us : m.normal_fixed_us) * 1e-6;
  CommTime t;
  const size_t n = loads.nvl_out.size();
  t.per_gpu_s.resize(n);
  for (size_t g = 0; g < n; ++g) {
    const double tn = std::max(loads.nvl_out[g], loads.nvl_in[g]) / nvl;
    const double ti = std::max(loads.ib_out[g], loads.ib_in[g]) / ib;
    t.per_gpu_s[g] = std::max(tn, ti) + fixed;
    t.mean_gpu_s += t.per_gpu_s[g] / static_cast<double>(n);
    if (t.slowest_gpu < 0 || t.per_gpu_s[g] > t.seconds) {
      t.seconds = t.per_gpu_s[g];
      t.slowest_gpu = static_cast<int>(g);
      t.bottleneck = ti > tn ? "IB" : "NVLink";
    }
  }
  return t;
}

}  // namespace dsv3::sim::routing
