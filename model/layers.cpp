#include "model/layers.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "model/cpu_matmul.hpp"
#include "model/moe_gate.hpp"

namespace dsv3::model {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Stride = Eigen::OuterStride<Eigen::Dynamic>;
using ConstView = Eigen::Map<const RowMat, 0, Stride>;
using View = Eigen::Map<RowMat, 0, Stride>;
}  // namespace

void rms_norm(const float* x, int64_t n, int64_t dim, const std::vector<float>& w, double eps, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xr = x + i * dim;
    float* yr = y + i * dim;
    float ss = 0;
    for (int64_t k = 0; k < dim; ++k) ss += xr[k] * xr[k];
    const float inv = 1.0f / std::sqrt(ss / static_cast<float>(dim) + static_cast<float>(eps));
    for (int64_t k = 0; k < dim; ++k) yr[k] = w[k] * (xr[k] * inv);
  }
}

void mla(const CpuContext& ctx, const AttentionWeights& w, const float* x, const BatchLayout& b, LatentKvCache& cache,
         int64_t layer, AttentionPath path, float* y) {
  const ModelConfig& c = *ctx.config;
  const int64_t n = b.rows, nh = c.num_attention_heads, nope = c.qk_nope_head_dim, rope = c.qk_rope_head_dim,
                qk = nope + rope, vd = c.v_head_dim, r = c.kv_lora_rank, H = c.hidden_size, dim = r + rope;

  // Queries: [n, nh * qk].
  std::vector<float> q(static_cast<size_t>(n * nh * qk));
  if (c.q_lora_rank > 0) {
    std::vector<float> qa(static_cast<size_t>(n * c.q_lora_rank));
    matmul(w.q_a, x, n, qa.data(), ctx.pool);
    rms_norm(qa.data(), n, c.q_lora_rank, w.q_a_norm, c.rms_norm_eps, qa.data());
    matmul(w.q_b, qa.data(), n, q.data(), ctx.pool);
  } else {
    matmul(w.q, x, n, q.data(), ctx.pool);
  }
  // Joint KV compression: latent (normalised) + shared RoPE key, into the cache.
  std::vector<float> kva(static_cast<size_t>(n * dim));
  matmul(w.kv_a, x, n, kva.data(), ctx.pool);
  for (const auto& s : b.seqs) {
    for (int64_t i = 0; i < s.count; ++i) {
      const int64_t row = s.offset + i, pos = s.start + i;
      float* dst = cache.row(layer, s.slot, pos);
      rms_norm(kva.data() + row * dim, 1, r, w.kv_a_norm, c.rms_norm_eps, dst);
      std::copy_n(kva.data() + row * dim + r, rope, dst + r);
      ctx.rope->apply(dst + r, pos);
      for (int64_t h = 0; h < nh; ++h) ctx.rope->apply(q.data() + row * nh * qk + h * qk + nope, pos);
    }
  }

  // Attention per (sequence, head).
  std::vector<float> out(static_cast<size_t>(n * nh * vd));
  const float scale = static_cast<float>(c.softmax_scale());
  const int64_t tasks = static_cast<int64_t>(b.seqs.size()) * nh;
  auto body = [&](int64_t t0, int64_t t1) {
    RowMat wkvb(nope + vd, r);
    for (int64_t t = t0; t < t1; ++t) {
      const auto& s = b.seqs[static_cast<size_t>(t / nh)];
      const int64_t h = t % nh, T = s.start + s.count;
      w.kv_b.rows_to_float(h * (nope + vd), (h + 1) * (nope + vd), wkvb.data());
      const auto wuk = wkvb.topRows(nope);    // [nope, r]
      const auto wuv = wkvb.bottomRows(vd);   // [vd, r]
      ConstView lat(cache.row(layer, s.slot, 0), T, r, Stride(dim));
      ConstView pe(cache.row(layer, s.slot, 0) + r, T, rope, Stride(dim));
      ConstView qn(q.data() + s.offset * nh * qk + h * qk, s.count, nope, Stride(nh * qk));
      ConstView qp(q.data() + s.offset * nh * qk + h * qk + nope, s.count, rope, Stride(nh * qk));
      View o(out.data() + s.offset * nh * vd + h * vd, s.count, vd, Stride(nh * vd));
      RowMat scores(s.count, T);
      RowMat vals;  // naive path: V [T, vd]
      if (path == AttentionPath::Absorbed) {
        RowMat qt = qn * wuk;  // [count, r]: W_UK absorbed into the query
        scores.noalias() = qt * lat.transpose();
      } else {
        RowMat k = lat * wuk.transpose();  // [T, nope]
        vals = lat * wuv.transpose();      // [T, vd]
        scores.noalias() = qn * k.transpose();
      }
      scores.noalias() += qp * pe.transpose();
      for (int64_t i = 0; i < s.count; ++i) {
        const int64_t last = s.start + i;  // causal: positions 0..last
        float* sr = scores.data() + i * T;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j <= last; ++j) mx = std::max(mx, sr[j] * scale);
        float z = 0;
        for (int64_t j = 0; j <= last; ++j) z += (sr[j] = std::exp(sr[j] * scale - mx));
        for (int64_t j = 0; j <= last; ++j) sr[j] /= z;
        for (int64_t j = last + 1; j < T; ++j) sr[j] = 0;
      }
      if (path == AttentionPath::Absorbed) {
        RowMat ol = scores * lat;  // [count, r] weighted latent
        o.noalias() = ol * wuv.transpose();
      } else {
        o.noalias() = scores * vals;
      }
    }
  };
  if (ctx.pool) ctx.pool->parallel_for(tasks, 1, body);
  else body(0, tasks);
  (void)H;
  matmul(w.o, out.data(), n, y, ctx.pool);
}

void mlp(const CpuContext& ctx, const MlpWeights& w, const float* x, int64_t n, float* y, bool parallel) {
  ThreadPool* pool = parallel ? ctx.pool : nullptr;
  const int64_t I = w.gate.out;
  std::vector<float> g(static_cast<size_t>(n * I)), u(static_cast<size_t>(n * I));
  matmul(w.gate, x, n, g.data(), pool);
  matmul(w.up, x, n, u.data(), pool);
  for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  matmul(w.down, g.data(), n, y, pool);
}

void moe(const CpuContext& ctx, const MoeWeights& w, const float* x, int64_t n, float* y) {
  const ModelConfig& c = *ctx.config;
  const int64_t H = c.hidden_size, E = c.n_routed_experts, K = c.num_experts_per_tok;
  std::vector<float> logits(static_cast<size_t>(n * E));
  matmul(w.router, x, n, logits.data(), ctx.pool);
  std::vector<int32_t> experts(static_cast<size_t>(n * K));
  std::vector<float> weights(static_cast<size_t>(n * K));
  route_tokens(GateParams::from_config(c), logits.data(), w.bias.empty() ? nullptr : w.bias.data(), n, experts.data(),
               weights.data());
  // Tokens per expert.
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(E));
  std::vector<std::vector<float>> ws(static_cast<size_t>(E));
  for (int64_t t = 0; t < n; ++t)
    for (int64_t k = 0; k < K; ++k) {
      rows[experts[t * K + k]].push_back(t);
      ws[experts[t * K + k]].push_back(weights[t * K + k]);
    }
  std::vector<int64_t> active;
  for (int64_t e = 0; e < E; ++e)
    if (!rows[e].empty()) active.push_back(e);
  std::vector<std::vector<float>> outs(static_cast<size_t>(E));
  // Few tokens: experts in parallel, each serial; many tokens: each expert's GEMMs in parallel.
  const bool across = n <= 16;
  auto run = [&](int64_t e, bool parallel) {
    const auto& rs = rows[e];
    const int64_t m = static_cast<int64_t>(rs.size());
    std::vector<float> xe(static_cast<size_t>(m * H));
    for (int64_t i = 0; i < m; ++i) std::copy_n(x + rs[i] * H, H, xe.data() + i * H);
    outs[e].resize(static_cast<size_t>(m * H));
    mlp(ctx, w.experts[e], xe.data(), m, outs[e].data(), parallel);
  };
  if (across && ctx.pool) {
    ctx.pool->parallel_for(static_cast<int64_t>(active.size()), 1, [&](int64_t a0, int64_t a1) {
      for (int64_t a = a0; a < a1; ++a) run(active[a], false);
    });
  } else {
    for (int64_t e : active) run(e, true);
  }
  std::fill(y, y + n * H, 0.0f);
  for (int64_t e : active)
    for (size_t i = 0; i < rows[e].size(); ++i) {
      float* yr = y + rows[e][i] * H;
      const float* o = outs[e].data() + i * H;
      const float wt = ws[e][i];
      for (int64_t k = 0; k < H; ++k) yr[k] += wt * o[k];
    }
  if (!w.shared.gate.empty()) {
    std::vector<float> sh(static_cast<size_t>(n * H));
    mlp(ctx, w.shared, x, n, sh.data());
    for (int64_t i = 0; i < n * H; ++i) y[i] += sh[i];
  }
}

void decoder_layer(const CpuContext& ctx, const LayerWeights& w, float* x, const BatchLayout& b, LatentKvCache& cache,
                   int64_t layer, AttentionPath path) {
  const ModelConfig& c = *ctx.config;
  const int64_t n = b.rows, H = c.hidden_size;
  std::vector<float> xn(static_cast<size_t>(n * H)), delta(static_cast<size_t>(n * H));
  rms_norm(x, n, H, w.attn_norm, c.rms_norm_eps, xn.data());
  mla(ctx, w.attn, xn.data(), b, cache, layer, path, delta.data());
  for (int64_t i = 0; i < n * H; ++i) x[i] += delta[i];
  rms_norm(x, n, H, w.ffn_norm, c.rms_norm_eps, xn.data());
  if (w.is_moe) moe(ctx, w.moe, xn.data(), n, delta.data());
  else mlp(ctx, w.dense, xn.data(), n, delta.data());
  for (int64_t i = 0; i < n * H; ++i) x[i] += delta[i];
}

}  // namespace dsv3::model
