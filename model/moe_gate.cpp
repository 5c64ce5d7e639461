#include "model/moe_gate.hpp"

#include <algorithm>
#include <cmath>
#include <bit>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <limits>
#include <numeric>

#include "model/errors.hpp"
#include "model/moe_group_score.hpp"

namespace dsv3::model {

GateParams GateParams::from_config(const ModelConfig& c) {
  GateParams p;
  p.n_experts = static_cast<int>(c.n_routed_experts);
  p.n_group = static_cast<int>(c.n_group);
  p.topk_group = static_cast<int>(c.topk_group);
  p.top_k = static_cast<int>(c.num_experts_per_tok);
  p.sigmoid = c.scoring_func == "sigmoid";
  p.method = c.topk_method;
  p.norm_topk_prob = c.norm_topk_prob;
  p.routed_scaling_factor = static_cast<float>(c.routed_scaling_factor);
  return p;
}

namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

// Keeps the k best (value, index) pairs seen so far, best first: larger value first, and for
// equal values the lower index first. Candidates must arrive in increasing index order, so a
// new value goes after the equal ones already held. With k small (8) an insertion is a few
// compares, which is what makes routing a million tokens take well under a second.
struct TopK {
  int k = 0, n = 0;
  float val[64];
  int idx[64];
  void reset(int k_) { k = k_, n = 0; }
  void offer(float v, int i) {
    if (n == k && !(v > val[k - 1])) return;
    int pos = n < k ? n++ : k - 1;
    while (pos > 0 && val[pos - 1] < v) {
      val[pos] = val[pos - 1];
      idx[pos] = idx[pos - 1];
      --pos;
    }
    val[pos] = v;
    idx[pos] = i;
  }
};

// Indices of the k largest values of v[0..n), descending, ties to the lower index (the
// general path, for any k).
void top_k_indices(const float* v, int n, int k, int* out, int* scratch) {
  std::iota(scratch, scratch + n, 0);
  std::partial_sort(scratch, scratch + k, scratch + n, [v](int a, int b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  std::copy(scratch, scratch + k, out);
}

void write_weights(const GateParams& p, const float* scores, const int* idx, int32_t* experts, float* weights) {
  double sum = 0;
  for (int i = 0; i < p.top_k; ++i) {
    experts[i] = idx[i];
    weights[i] = scores[idx[i]];
    sum += weights[i];
  }
  const bool normalise = p.norm_topk_prob && p.top_k > 1;
  for (int i = 0; i < p.top_k; ++i) {
    double w = weights[i];
    if (normalise) w /= (sum + 1e-20);
    weights[i] = static_cast<float>(w * p.routed_scaling_factor);
  }
}

bool grouped(const GateParams& p) {
  return (p.method == "noaux_tc" || p.method == "group_limited_greedy") && p.n_group > 1 && p.topk_group < p.n_group;
}

// Per-call scratch and the decisions that do not change from token to token.
struct Scratch {
  std::vector<float> choice, group_score;
  std::vector<int> idx, scratch;
  std::vector<char> keep;
  bool grouped = false, top2_sum = false;
  explicit Scratch(const GateParams& p)
      : choice(p.n_experts), group_score(p.n_group), idx(std::max(p.n_experts, p.n_group)),
        scratch(std::max(p.n_experts, p.n_group)), keep(p.n_group), grouped(dsv3::model::grouped(p)),
        top2_sum(p.method == "noaux_tc") {}
};

// The fast path: k and topk_group at most 64, and the kept groups hold at least top_k experts
// (always true for real configs), so no masked expert can be chosen.
bool fast_path(const GateParams& p) {
  const int per = p.n_experts / p.n_group;
  return p.top_k <= 64 && p.topk_group <= 64 && (!grouped(p) || p.topk_group * per >= p.top_k);
}

void route_one_fast(const GateParams& p, const float* scores, const float* bias, int32_t* experts, float* weights,
                    Scratch& s) {
  const int E = p.n_experts, G = p.n_group, per = E / G;
  float* choice = s.choice.data();
  if (bias) {
    for (int e = 0; e < E; ++e) choice[e] = scores[e] + bias[e];
  } else {
    for (int e = 0; e < E; ++e) choice[e] = scores[e];
  }
  TopK best;
  if (s.grouped) {
    TopK groups;
    groups.reset(p.topk_group);
    float second[64];  // each group's second-largest choice score (top-2 sum path)
    bool have_second = s.top2_sum && per >= 2 && G <= 64;
    for (int g = 0; g < G; ++g) {
      const float* c = choice + g * per;
      float score;
      if (s.top2_sum && per >= 2) {
        // The top two of the group: 8 independent lanes (so the loop vectorises), then merged.
        constexpr int L = 4;
        float a[L], b[L];
        for (int j = 0; j < L; ++j) a[j] = b[j] = kMasked;
        int i = 0;
        for (; i + L <= per; i += L)
          for (int j = 0; j < L; ++j) {
            const float x = c[i + j];
            b[j] = std::max(b[j], std::min(a[j], x));
            a[j] = std::max(a[j], x);
          }
        for (; i < per; ++i) {
          b[0] = std::max(b[0], std::min(a[0], c[i]));
          a[0] = std::max(a[0], c[i]);
        }
        // Merge the lanes: the top two of the union of (a[j] >= b[j]) pairs.
        float A = a[0], B = b[0];
        for (int j = 1; j < L; ++j) {
          B = std::max(std::max(B, b[j]), std::min(A, a[j]));
          A = std::max(A, a[j]);
        }
        score = A + B;
        if (g < 64) second[g] = B;
      } else {
        score = *std::max_element(c, c + per);
      }
      groups.offer(score, g);
    }
    s.keep.assign(s.keep.size(), 0);
    char* keep = s.keep.data();
    for (int i = 0; i < groups.n; ++i) keep[groups.idx[i]] = 1;
    best.reset(p.top_k);
    // The kept groups' top two scores are 2 * topk_group candidates, so when that is at least
    // top_k the k-th best is at least the smallest of their second-best scores: candidates below
    // it cannot be chosen and are skipped before the insertion.
    float floor = kMasked;
    if (have_second && 2 * groups.n >= p.top_k) {
      floor = second[groups.idx[0]];
      for (int i = 1; i < groups.n; ++i) floor = std::min(floor, second[groups.idx[i]]);
    }
    for (int g = 0; g < G; ++g) {
      if (!keep[g]) continue;
      const float* c = choice + g * per;
      int i = 0;
#if defined(__SSE2__)
      // Four at a time: a mask of the scores at or above the floor, then only those offered.
      const __m128 f = _mm_set1_ps(floor);
      for (; i + 4 <= per; i += 4) {
        unsigned m = static_cast<unsigned>(_mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(c + i), f)));
        while (m) {
          const int j = __builtin_ctz(m);
          best.offer(c[i + j], g * per + i + j);
          m &= m - 1;
        }
      }
#endif
      for (; i < per; ++i)
        if (c[i] >= floor) best.offer(c[i], g * per + i);
    }
  } else {
    best.reset(p.top_k);
    for (int e = 0; e < E; ++e) best.offer(choice[e], e);
  }
  write_weights(p, scores, best.idx, experts, weights);
}

// The general path (any sizes), as first written: partial sorts over masked scores.
void route_one_general(const GateParams& p, const float* scores, const float* bias, int32_t* experts, float* weights,
                       Scratch& s) {
  const int E = p.n_experts, G = p.n_group, per = E / G;
  std::vector<float>& choice = s.choice;
  for (int e = 0; e < E; ++e) choice[e] = scores[e] + (bias ? bias[e] : 0.0f);
  if (grouped(p)) {
    for (int g = 0; g < G; ++g)
      s.group_score[g] = moe_group_score(choice.data() + g * per, per, p.method == "noaux_tc", kMasked);
    top_k_indices(s.group_score.data(), G, p.topk_group, s.idx.data(), s.scratch.data());
    std::fill(s.keep.begin(), s.keep.end(), 0);
    for (int i = 0; i < p.topk_group; ++i) s.keep[s.idx[i]] = 1;
    for (int g = 0; g < G; ++g)
      if (!s.keep[g]) std::fill(choice.begin() + g * per, choice.begin() + (g + 1) * per, kMasked);
  }
  top_k_indices(choice.data(), E, p.top_k, s.idx.data(), s.scratch.data());
  write_weights(p, scores, s.idx.data(), experts, weights);
}

void route_one(const GateParams& p, bool fast, const float* scores, const float* bias, int32_t* experts,
               float* weights, Scratch& s) {
  if (fast)
    route_one_fast(p, scores, bias, experts, weights, s);
  else
    route_one_general(p, scores, bias, experts, weights, s);
}

// exp(x) for |x| <= 80, to about 1 ulp: x = n ln2 + r with |r| <= ln2/2, exp(r) by a
// degree-6 Taylor polynomial, 2^n put into the exponent bits. Branch-free, so the sigmoid loop
// below vectorises.
inline float fast_expf(float x) {
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to nearest
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
  float q = 1.0f / 720;
  q = q * r + 1.0f / 120;
  q = q * r + 1.0f / 24;
  q = q * r + 1.0f / 6;
  q = q * r + 0.5f;
  q = q * r + 1.0f;
  q = q * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return q * std::bit_cast<float>(bits);
}

// s = 1 / (1 + exp(-l)). Rows with any |logit| > 80 (or inf, NaN) take std::exp.
void sigmoid(const float* l, float* s, int n) {
  uint32_t out_of_range = 0;
  for (int e = 0; e < n; ++e) out_of_range |= (std::bit_cast<uint32_t>(l[e]) & 0x7fffffffu) > 0x42a00000u;  // 80.0f
  if (out_of_range) {
    for (int e = 0; e < n; ++e) s[e] = 1.0f / (1.0f + std::exp(-l[e]));
    return;
  }
  for (int e = 0; e < n; ++e) s[e] = 1.0f / (1.0f + fast_expf(-l[e]));
}

void check(const GateParams& p) {
  if (p.n_experts <= 0 || p.top_k <= 0 || p.top_k > p.n_experts || p.n_group <= 0 || p.n_experts % p.n_group ||
      p.topk_group <= 0 || p.topk_group > p.n_group)
    throw InputError("router: inconsistent gate parameters (experts, groups, top-k)");
}

}  // namespace

void route_tokens_from_scores(const GateParams& p, const float* scores, const float* bias, int64_t n_tokens,
                              int32_t* experts, float* weights) {
  check(p);
  Scratch s(p);
  const bool fast = fast_path(p);
  for (int64_t t = 0; t < n_tokens; ++t)
    route_one(p, fast, scores + t * p.n_experts, bias, experts + t * p.top_k, weights + t * p.top_k, s);
}

void route_tokens(const GateParams& p, const float* logits, const float* bias, int64_t n_tokens, int32_t* experts,
                  float* weights) {
  check(p);
  Scratch s(p);
  const bool fast = fast_path(p);
  std::vector<float> scores(p.n_experts);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* l = logits + t * p.n_experts;
    if (p.sigmoid) {
      sigmoid(l, scores.data(), p.n_experts);
    } else {
      float m = *std::max_element(l, l + p.n_experts);
      double z = 0;
      for (int e = 0; e < p.n_experts; ++e) z += std::exp(static_cast<double>(l[e] - m));
      for (int e = 0; e < p.n_experts; ++e) scores[e] = static_cast<float>(std::exp(static_cast<double>(l[e] - m)) / z);
    }
    route_one(p, fast, scores.data(), bias, experts + t * p.top_k, weights + t * p.top_k, s);
  }
}

}  // namespace dsv3::model
