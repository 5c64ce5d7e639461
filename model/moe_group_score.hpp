#pragma once
// The score of one expert group in group-limited routing, shared by the CPU gate (moe_gate.cpp)
// and the GPU router (cuda/moe.cu) so that both pick the same groups: DeepSeek-V3's "noaux_tc"
// takes the sum of the group's two best biased scores (its best alone with one expert per group),
// V2's "group_limited_greedy" its best. `masked` is the routers' "excluded" score (below any real one).
#if defined(__CUDACC__)
#define DSV3_HOST_DEVICE __host__ __device__
#else
#define DSV3_HOST_DEVICE
#endif

namespace dsv3::model {

DSV3_HOST_DEVICE inline float moe_group_score(const float* c, int per, bool top2_sum, float masked) {
  if (!top2_sum) {
    float a = c[0];
    for (int i = 1; i < per; ++i) a = c[i] > a ? c[i] : a;
    return a;
  }
  float a = masked, b = masked;
  for (int i = 0; i < per; ++i) {
    if (c[i] > a) {
      b = a;
      a = c[i];
    } else if (c[i] > b) {
      b = c[i];
    }
  }
  return per >= 2 ? a + b : a;
}

}  // namespace dsv3::model
