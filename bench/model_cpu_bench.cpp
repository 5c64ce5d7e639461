// CPU backend speed on a DeepSeek-V3-shaped random model (~115M parameters, BF16, released
// tensor names), next to the memory-bandwidth roofline of this machine, and resident memory
// after loading a ~1 GB checkpoint.
//
//   build/bench/model_cpu_bench                                   (all)
//   build/bench/model_cpu_bench --benchmark_filter='Decode|Bandwidth'
//
// The checkpoints are generated on first use under $DSV3_BENCH_DIR (default /tmp/dsv3-bench):
//   v3-115m-bf16/  8 layers (1 dense), hidden 512, 8 heads, q_lora 192, kv_lora 128,
//                  qk 64+32, v 64, 32 routed experts (8 groups, 4 kept, top-8) + 1 shared,
//                  expert inter 256, dense inter 1536, vocab 16384, YaRN
//   v3-115m-fp8/   the same with FP8 e4m3 projections and 128x128 block scales
//   v3-1gb-bf16/   the same shapes with 40 layers (~1.1 GB), for the RSS measurement
// Decode roofline: tokens/s = measured read bandwidth / bytes read per token, where bytes
// per token = stored bytes of every weight a token touches (attention, dense MLP, router,
// shared expert, top-k routed experts, lm_head, one embedding row) + the latent KV cache
// read (FP32 on this backend).
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "model/backend.hpp"
#include "model/cpu_matmul.hpp"
#include "model/dtype.hpp"
#include "model/engine.hpp"
#include "model/model_info.hpp"
#include "model/weights.hpp"

namespace fs = std::filesystem;
using namespace dsv3::model;
using nlohmann::json;

namespace {

struct Shape {
  int64_t layers = 8, dense = 1, H = 512, heads = 8, q_lora = 192, kv_lora = 128, nope = 64, rope = 32, v = 64,
          experts = 32, groups = 8, keep_groups = 4, topk = 8, shared = 1, moe_inter = 256, dense_inter = 1536,
          vocab = 16384;
};

json config_json(const Shape& s, bool fp8) {
  json c = {{"architectures", {"DeepseekV3ForCausalLM"}}, {"model_type", "deepseek_v3"}, {"vocab_size", s.vocab},
            {"hidden_size", s.H}, {"intermediate_size", s.dense_inter}, {"moe_intermediate_size", s.moe_inter},
            {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads}, {"num_key_value_heads", s.heads},
            {"n_shared_experts", s.shared}, {"n_routed_experts", s.experts}, {"num_experts_per_tok", s.topk},
            {"n_group", s.groups}, {"topk_group", s.keep_groups}, {"first_k_dense_replace", s.dense},
            {"routed_scaling_factor", 2.5}, {"scoring_func", "sigmoid"}, {"topk_method", "noaux_tc"},
            {"norm_topk_prob", true}, {"q_lora_rank", s.q_lora}, {"kv_lora_rank", s.kv_lora},
            {"qk_nope_head_dim", s.nope}, {"qk_rope_head_dim", s.rope}, {"v_head_dim", s.v},
            {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"max_position_embeddings", 163840},
            {"rope_scaling", {{"type", "yarn"}, {"factor", 40.0}, {"original_max_position_embeddings", 4096},
                              {"beta_fast", 32.0}, {"beta_slow", 1.0}, {"mscale", 1.0}, {"mscale_all_dim", 1.0}}},
            {"hidden_act", "silu"}, {"tie_word_embeddings", false}, {"num_nextn_predict_layers", 0},
            {"bos_token_id", 0}, {"eos_token_id", 1}};
  if (fp8)
    c["quantization_config"] = {{"activation_scheme", "dynamic"}, {"fmt", "e4m3"}, {"quant_method", "fp8"},
                                {"weight_block_size", {128, 128}}};
  return c;
}

// Nearest float8_e4m3fn code of v (|v| <= 448).
uint8_t to_e4m3(float v) {
  static std::vector<float> pos = [] {
    std::vector<float> p(127);
    for (int i = 0; i < 127; ++i) p[i] = fp8_e4m3_to_f32(static_cast<uint8_t>(i));
    return p;
  }();
  const float a = std::min(std::abs(v), 448.0f);
  auto it = std::lower_bound(pos.begin(), pos.end(), a);
  int i = static_cast<int>(it - pos.begin());
  if (i > 0 && (i == 127 || a - pos[i - 1] <= pos[i] - a)) --i;
  return static_cast<uint8_t>(i | (v < 0 ? 0x80 : 0));
}

class Writer {
 public:
  explicit Writer(const fs::path& file) : file_(file) {}
  void add(const std::string& name, const std::string& dtype, std::vector<int64_t> shape, std::string bytes) {
    header_[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {off_, off_ + static_cast<int64_t>(bytes.size())}}};
    off_ += static_cast<int64_t>(bytes.size());
    chunks_.push_back(std::move(bytes));
  }
  void finish() {
    header_["__metadata__"] = {{"format", "pt"}};
    std::string h = header_.dump();
    while (h.size() % 8) h += ' ';
    std::ofstream f(file_, std::ios::binary);
    uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) f.put(static_cast<char>((n >> (8 * i)) & 0xff));
    f << h;
    for (const auto& c : chunks_) f.write(c.data(), static_cast<std::streamsize>(c.size()));
  }

 private:
  fs::path file_;
  json header_ = json::object();
  int64_t off_ = 0;
  std::vector<std::string> chunks_;
};

void generate(const fs::path& dir, const Shape& s, bool fp8) {
  if (fs::exists(dir / "model.safetensors")) return;
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << config_json(s, fp8).dump(2);
  std::mt19937 rng(1234);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Writer w(dir / "model.safetensors");
  auto bf16 = [&](const std::string& name, std::vector<int64_t> shape, float std, float mean = 0.0f) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    std::string b(static_cast<size_t>(n * 2), '\0');
    auto* p = reinterpret_cast<uint16_t*>(b.data());
    for (int64_t i = 0; i < n; ++i) p[i] = f32_to_bf16(mean + std * nd(rng));
    w.add(name, "BF16", shape, std::move(b));
  };
  auto proj = [&](const std::string& name, int64_t out, int64_t in) {
    const float std = 1.0f / std::sqrt(static_cast<float>(in));
    if (!fp8) return bf16(name, {out, in}, std);
    const int64_t sr = (out + 127) / 128, sc = (in + 127) / 128;
    std::vector<float> v(static_cast<size_t>(out * in));
    for (auto& x : v) x = std * nd(rng);
    std::string q(v.size(), '\0'), scale(static_cast<size_t>(sr * sc * 4), '\0');
    auto* sp = reinterpret_cast<float*>(scale.data());
    for (int64_t br = 0; br < sr; ++br)
      for (int64_t bc = 0; bc < sc; ++bc) {
        float amax = 1e-12f;
        for (int64_t r = br * 128; r < std::min(out, br * 128 + 128); ++r)
          for (int64_t c = bc * 128; c < std::min(in, bc * 128 + 128); ++c) amax = std::max(amax, std::abs(v[r * in + c]));
        const float f = amax / 448.0f;
        sp[br * sc + bc] = f;
        for (int64_t r = br * 128; r < std::min(out, br * 128 + 128); ++r)
          for (int64_t c = bc * 128; c < std::min(in, bc * 128 + 128); ++c)
            q[r * in + c] = static_cast<char>(to_e4m3(v[r * in + c] / f));
      }
    w.add(name, "F8_E4M3", {out, in}, std::move(q));
    w.add(name + "_scale_inv", "F32", {sr, sc}, std::move(scale));
  };
  bf16("model.embed_tokens.weight", {s.vocab, s.H}, 1.0f);
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = fmt::format("model.layers.{}.", l);
    bf16(p + "input_layernorm.weight", {s.H}, 0.05f, 1.0f);
    bf16(p + "post_attention_layernorm.weight", {s.H}, 0.05f, 1.0f);
    proj(p + "self_attn.q_a_proj.weight", s.q_lora, s.H);
    bf16(p + "self_attn.q_a_layernorm.weight", {s.q_lora}, 0.05f, 1.0f);
    proj(p + "self_attn.q_b_proj.weight", s.heads * (s.nope + s.rope), s.q_lora);
    proj(p + "self_attn.kv_a_proj_with_mqa.weight", s.kv_lora + s.rope, s.H);
    bf16(p + "self_attn.kv_a_layernorm.weight", {s.kv_lora}, 0.05f, 1.0f);
    proj(p + "self_attn.kv_b_proj.weight", s.heads * (s.nope + s.v), s.kv_lora);
    proj(p + "self_attn.o_proj.weight", s.H, s.heads * s.v);
    if (l < s.dense) {
      proj(p + "mlp.gate_proj.weight", s.dense_inter, s.H);
      proj(p + "mlp.up_proj.weight", s.dense_inter, s.H);
      proj(p + "mlp.down_proj.weight", s.H, s.dense_inter);
    } else {
      bf16(p + "mlp.gate.weight", {s.experts, s.H}, 1.0f / std::sqrt(static_cast<float>(s.H)));
      std::string bias(static_cast<size_t>(s.experts * 4), '\0');
      for (int64_t e = 0; e < s.experts; ++e) reinterpret_cast<float*>(bias.data())[e] = 0.05f * nd(rng);
      w.add(p + "mlp.gate.e_score_correction_bias", "F32", {s.experts}, std::move(bias));
      for (int64_t e = 0; e < s.experts; ++e) {
        proj(fmt::format("{}mlp.experts.{}.gate_proj.weight", p, e), s.moe_inter, s.H);
        proj(fmt::format("{}mlp.experts.{}.up_proj.weight", p, e), s.moe_inter, s.H);
        proj(fmt::format("{}mlp.experts.{}.down_proj.weight", p, e), s.H, s.moe_inter);
      }
      proj(p + "mlp.shared_experts.gate_proj.weight", s.moe_inter * s.shared, s.H);
      proj(p + "mlp.shared_experts.up_proj.weight", s.moe_inter * s.shared, s.H);
      proj(p + "mlp.shared_experts.down_proj.weight", s.H, s.moe_inter * s.shared);
    }
  }
  bf16("model.norm.weight", {s.H}, 0.05f, 1.0f);
  bf16("lm_head.weight", {s.vocab, s.H}, 1.0f / std::sqrt(static_cast<float>(s.H)));
  w.finish();
}

fs::path bench_dir() {
  const char* e = std::getenv("DSV3_BENCH_DIR");
  return e ? fs::path(e) : fs::path("/tmp/dsv3-bench");
}

std::shared_ptr<Model> model(const std::string& name) {
  static std::map<std::string, std::shared_ptr<Model>> cache;
  auto& m = cache[name];
  if (!m) {
    Shape s;
    if (name == "v3-1gb-bf16") s.layers = 40;
    generate(bench_dir() / name, s, name.find("fp8") != std::string::npos);
    m = Model::load((bench_dir() / name).string());
  }
  return m;
}

int threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// Read bandwidth: every thread sums its share of a 1 GiB buffer (best of 5 passes).
double measured_bandwidth() {
  static double bw = [] {
    const size_t n = (size_t{1} << 30) / sizeof(float);
    std::vector<float> buf(n, 1.0f);
    ThreadPool pool(threads());
    double best = 0;
    for (int pass = 0; pass < 5; ++pass) {
      std::vector<double> part(64, 0.0);
      auto t0 = std::chrono::steady_clock::now();
      const int64_t chunks = 256;
      pool.parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
          const float* p = buf.data() + c * (n / chunks);
          float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          for (size_t i = 0; i < n / chunks; i += 4) {
            a0 += p[i];
            a1 += p[i + 1];
            a2 += p[i + 2];
            a3 += p[i + 3];
          }
          part[c % 64] += a0 + a1 + a2 + a3;
        }
      });
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      benchmark::DoNotOptimize(part);
      best = std::max(best, static_cast<double>(n * sizeof(float)) / s);
    }
    return best;
  }();
  return bw;
}

// Stored bytes a decoded token reads (see the header comment).
double bytes_per_token(const Model& m, int64_t context) {
  const ModelConfig& c = m.config;
  const ModelWeights& w = m.weights;
  double b = static_cast<double>(w.embed.in * dtype_size(w.embed.dtype)) + static_cast<double>(w.lm_head.bytes());
  for (const auto& L : w.layers) {
    for (const Linear* l : {&L.attn.q_a, &L.attn.q_b, &L.attn.q, &L.attn.kv_a, &L.attn.kv_b, &L.attn.o})
      if (!l->empty()) b += static_cast<double>(l->bytes());
    if (!L.is_moe) {
      b += static_cast<double>(L.dense.gate.bytes() + L.dense.up.bytes() + L.dense.down.bytes());
    } else {
      b += static_cast<double>(L.moe.router.bytes());
      const auto& e = L.moe.experts[0];
      b += static_cast<double>(c.num_experts_per_tok * (e.gate.bytes() + e.up.bytes() + e.down.bytes()));
      b += static_cast<double>(L.moe.shared.gate.bytes() + L.moe.shared.up.bytes() + L.moe.shared.down.bytes());
    }
  }
  b += static_cast<double>(c.num_hidden_layers * context * c.kv_cache_dim() * 4);  // FP32 latent cache read
  return b;
}

void BM_MemoryBandwidth(benchmark::State& st) {
  for (auto _ : st) st.counters["GBps"] = measured_bandwidth() / 1e9;
  st.counters["threads"] = threads();
}
BENCHMARK(BM_MemoryBandwidth)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Prefill(benchmark::State& st, const std::string& name) {
  auto m = model(name);
  auto be = make_backend("cpu", m, {.threads = threads()});
  const int64_t n = st.range(0);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * 7919 + 13) % m->config.vocab_size);
  for (auto _ : st) {
    be->reset(1, n);
    auto out = be->forward({{0, ids}}, {.path = AttentionPath::Naive});
    benchmark::DoNotOptimize(out);
  }
  st.counters["tokens_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["params_M"] = static_cast<double>(total_params(m->config, false)) / 1e6;
}
BENCHMARK_CAPTURE(BM_Prefill, bf16, std::string("v3-115m-bf16"))->Arg(128)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Prefill, fp8, std::string("v3-115m-fp8"))->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Decode(benchmark::State& st, const std::string& name) {
  auto m = model(name);
  auto be = make_backend("cpu", m, {.threads = threads()});
  const int64_t ctx = st.range(0), steps = 32;
  std::vector<int32_t> ids(static_cast<size_t>(ctx));
  for (int64_t i = 0; i < ctx; ++i) ids[i] = static_cast<int32_t>((i * 7919 + 13) % m->config.vocab_size);
  int64_t tokens = 0;
  for (auto _ : st) {
    st.PauseTiming();
    be->reset(1, ctx + steps + 1);
    auto out = be->forward({{0, ids}}, {.path = AttentionPath::Naive});
    int32_t t = argmax(out[0].logits.data(), m->config.vocab_size);
    st.ResumeTiming();
    for (int64_t s = 0; s < steps; ++s) {
      out = be->forward({{0, {t}}}, {.path = AttentionPath::Absorbed});
      t = argmax(out[0].logits.data(), m->config.vocab_size);
    }
    tokens += steps;
  }
  const double bpt = bytes_per_token(*m, ctx + steps / 2);
  const double bw = measured_bandwidth();
  st.counters["tokens_per_s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  st.counters["MB_per_token"] = bpt / 1e6;
  st.counters["roofline_tokens_per_s"] = bw / bpt;
  st.counters["bandwidth_GBps"] = bw / 1e9;
}
// Fixed iterations (each re-runs the prefill, untimed).
BENCHMARK_CAPTURE(BM_Decode, bf16, std::string("v3-115m-bf16"))->Arg(64)->Arg(1024)->Unit(benchmark::kMillisecond)->Iterations(4)->UseRealTime();
BENCHMARK_CAPTURE(BM_Decode, fp8, std::string("v3-115m-fp8"))->Arg(64)->Unit(benchmark::kMillisecond)->Iterations(4)->UseRealTime();

int64_t rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return -1;
}

// Resident memory after mapping a ~1.1 GB checkpoint, and after a forward pass over enough
// tokens that every expert is used (all weights paged in): close to the file size, since the
// weights are never copied.
void BM_LoadRss1GB(benchmark::State& st) {
  Shape s;
  s.layers = 40;
  generate(bench_dir() / "v3-1gb-bf16", s, false);
  for (auto _ : st) {
    const int64_t before = rss_bytes();
    auto m = Model::load((bench_dir() / "v3-1gb-bf16").string());
    const int64_t loaded = rss_bytes();
    auto be = make_backend("cpu", m, {.threads = threads()});
    be->reset(1, 256);
    std::vector<int32_t> ids(256);
    for (int i = 0; i < 256; ++i) ids[i] = (i * 7919 + 13) % static_cast<int>(m->config.vocab_size);
    auto out = be->forward({{0, ids}}, {.path = AttentionPath::Naive});
    benchmark::DoNotOptimize(out);
    const int64_t touched = rss_bytes();
    st.counters["mapped_MB"] = static_cast<double>(m->checkpoint->mapped_bytes()) / 1e6;
    st.counters["rss_before_MB"] = static_cast<double>(before) / 1e6;
    st.counters["rss_after_load_MB"] = static_cast<double>(loaded) / 1e6;
    st.counters["rss_after_forward_MB"] = static_cast<double>(touched) / 1e6;
    st.counters["kv_cache_MB"] = static_cast<double>(m->config.num_hidden_layers * 256 * m->config.kv_cache_dim() * 4) / 1e6;
  }
}
BENCHMARK(BM_LoadRss1GB)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
