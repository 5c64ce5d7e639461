#include "sim/moe_traffic.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dsv3::sim {
namespace {

// C(n, k) / C(m, k): probability that k draws without replacement from m all miss a set of m - n.
double choose_ratio(double n, double m, int k) {
  if (k <= 0) return 1.0;
  double r = 1.0;
  for (int i = 0; i < k; ++i) {
    if (n - i <= 0) return 0.0;
    r *= (n - i) / (m - i);
  }
  return r;
}

// Probability that a token sends at least one copy to a set of `held` contiguous experts.
double hit_probability(const BalancedRouting& r, double held) {
  double E = r.experts;
  double per_group = E / std::max(1, r.n_group);
  int per_chosen_group = std::max(1, r.topk / std::max(1, r.topk_group));
  if (held <= per_group) {
    // Inside one group: the group must be chosen, then one of its picks must land here.
    double p_group = static_cast<double>(r.topk_group) / std::max(1, r.n_group);
    return p_group * (1.0 - choose_ratio(per_group - held, per_group, per_chosen_group));
  }
  // Several whole groups: hit unless none of them is chosen.
  double groups_held = held / per_group;
  return 1.0 - choose_ratio(r.n_group - groups_held, r.n_group, r.topk_group);
}

}  // namespace

double balanced_rank_hit_probability(const BalancedRouting& r) {
  return hit_probability(r, static_cast<double>(r.experts) / r.ep);
}

double balanced_node_hit_probability(const BalancedRouting& r) {
  int per_node = std::min(r.ep, r.gpus_per_node);
  return hit_probability(r, static_cast<double>(r.experts) / r.ep * per_node);
}

MoeLayerTraffic balanced_moe_traffic(const BalancedRouting& r) {
  MoeLayerTraffic t;
  t.ep = r.ep;
  t.gpus_per_node = std::min(r.ep, r.gpus_per_node);
  t.local_experts = std::max(1, r.experts / r.ep);
  const int ep = r.ep;
  const int gpn = t.gpus_per_node;
  const int nodes = (ep + gpn - 1) / gpn;
  const double T = r.tokens_per_rank;
  const double p_rank = balanced_rank_hit_probability(r);
  const double p_node = balanced_node_hit_probability(r);
  t.expert_rows.assign(static_cast<size_t>(ep), T * r.topk);
  t.ib_tokens.assign(static_cast<size_t>(ep) * ep, 0.0);
  t.nvlink_tokens.assign(static_cast<size_t>(ep) * ep, 0.0);
  for (int s = 0; s < ep; ++s)
    for (int d = 0; d < ep; ++d) {
      if (s == d) continue;
      bool same_node = s / gpn == d / gpn;
      size_t i = static_cast<size_t>(s) * ep + d;
      if (same_node) {
        // Own tokens for d, plus the copies for d that arrived at s over IB from the other nodes.
        t.nvlink_tokens[i] = T * p_rank * nodes;
      } else if (s % gpn == d % gpn) {
        t.ib_tokens[i] = T * p_node;
      }
    }
  t.source = "balanced";
  return t;
}

void validate(const MoeLayerTraffic& t) {
  size_t ep = static_cast<size_t>(t.ep);
  if (t.ep < 1) throw std::invalid_argument("MoeLayerTraffic.ep must be >= 1");
  if (t.expert_rows.size() != ep) throw std::invalid_argument("MoeLayerTraffic.expert_rows must have ep entries");
  if (t.ib_tokens.size() != ep * ep) throw std::invalid_argument("MoeLayerTraffic.ib_tokens must be ep x ep");
  if (t.nvlink_tokens.size() != ep * ep) throw std::invalid_argument("MoeLayerTraffic.nvlink_tokens must be ep x ep");
}

A2ATime all_to_all_time(const MoeLayerTraffic& t, double bytes_per_token, bool combine, const LinkModel& links) {
  validate(t);
  A2ATime a;
  const size_t ep = static_cast<size_t>(t.ep);
  std::vector<double> ib_out(ep, 0), ib_in(ep, 0), nv_out(ep, 0), nv_in(ep, 0);
  for (size_t s = 0; s < ep; ++s)
    for (size_t d = 0; d < ep; ++d) {
      double ib = t.ib_tokens[s * ep + d] * bytes_per_token;
      double nv = t.nvlink_tokens[s * ep + d] * bytes_per_token;
      size_t from = combine ? d : s, to = combine ? s : d;
      ib_out[from] += ib;
      ib_in[to] += ib;
      nv_out[from] += nv;
      nv_in[to] += nv;
      a.total_ib_bytes += ib;
      a.total_nvlink_bytes += nv;
    }
  for (size_t r = 0; r < ep; ++r) {
    a.max_ib_bytes = std::max({a.max_ib_bytes, ib_out[r], ib_in[r]});
    a.max_nvlink_bytes = std::max({a.max_nvlink_bytes, nv_out[r], nv_in[r]});
  }
  a.ib_s = links.ib_bytes_per_s > 0 ? a.max_ib_bytes / links.ib_bytes_per_s : 0;
  a.nvlink_s = links.nvlink_bytes_per_s > 0 ? a.max_nvlink_bytes / links.nvlink_bytes_per_s : 0;
  bool any = a.max_ib_bytes > 0 || a.max_nvlink_bytes > 0;
  a.seconds = std::max(a.ib_s, a.nvlink_s) + (any ? links.latency_s : 0.0);
  return a;
}

}  // namespace dsv3::sim
