// dsv3 model info | forward: what a checkpoint holds, and its logits for a list of ids.
//
//   dsv3 model info --model DIR|config.json [--format text|json]
//   dsv3 model forward --model DIR --ids 1,2,3 [--all-positions] [--format json|text]
#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/model_args.hpp"
#include "model/backend.hpp"
#include "model/cpu_matmul.hpp"
#include "model/model_info.hpp"
#include "model/weights.hpp"

namespace dsv3::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace dsv3::model;

struct InfoOptions {
  std::string model, format = "text";
};

bool has_weights(const fs::path& p) {
  if (!fs::is_directory(p)) return false;
  for (const auto& e : fs::directory_iterator(p))
    if (e.path().extension() == ".safetensors") return true;
  return false;
}

std::string grouped(int64_t v) {
  std::string d = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string human(double b) {
  const char* u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (b >= 1024 && i < 4) {
    b /= 1024;
    ++i;
  }
  return fmt::format("{:.2f} {}", b, u[i]);
}

void run_info(const InfoOptions& o) {
  std::shared_ptr<Model> m;
  ModelConfig c;
  if (has_weights(o.model)) {
    m = Model::load(o.model);
    c = m->config;
  } else {
    c = ModelConfig::load(o.model);
  }
  json j;
  j["config"] = c.source;
  j["architecture"] = {
      {"model_type", c.model_type},
      {"layers", c.num_hidden_layers},
      {"dense_layers", c.num_hidden_layers - c.num_moe_layers()},
      {"moe_layers", c.num_moe_layers()},
      {"hidden_size", c.hidden_size},
      {"vocab_size", c.vocab_size},
      {"attention", {{"type", "MLA"}, {"heads", c.num_attention_heads}, {"q_lora_rank", c.q_lora_rank},
                     {"kv_lora_rank", c.kv_lora_rank}, {"qk_nope_head_dim", c.qk_nope_head_dim},
                     {"qk_rope_head_dim", c.qk_rope_head_dim}, {"v_head_dim", c.v_head_dim},
                     {"softmax_scale", c.softmax_scale()}}},
      {"rope", {{"theta", c.rope_theta}, {"scaling", c.rope_scaling.type}, {"factor", c.rope_scaling.factor},
                {"original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings},
                {"max_position_embeddings", c.max_position_embeddings}}},
      {"moe", {{"routed_experts", c.n_routed_experts}, {"shared_experts", c.n_shared_experts},
               {"experts_per_token", c.num_experts_per_tok}, {"n_group", c.n_group}, {"topk_group", c.topk_group},
               {"scoring_func", c.scoring_func}, {"topk_method", c.topk_method},
               {"routed_scaling_factor", c.routed_scaling_factor}, {"expert_intermediate_size", c.moe_intermediate_size},
               {"dense_intermediate_size", c.intermediate_size}}},
      {"mtp_modules", c.num_nextn_predict_layers},
      {"quantization", c.quantization.present ? fmt::format("{} {} blocks {}x{}", c.quantization.quant_method,
                                                             c.quantization.fmt, c.quantization.block_n,
                                                             c.quantization.block_k)
                                              : "none"}};
  json comp = json::array();
  for (const auto& p : params_from_config(c)) comp.push_back({{"component", p.component}, {"params", p.params}});
  j["params"] = {{"total", total_params(c, false)},
                 {"total_with_mtp", total_params(c, true)},
                 {"activated_per_token", activated_params(c)},
                 {"by_component", comp}};
  int64_t weight_bytes = 0;
  if (m) {
    json stored = json::array();
    for (const auto& p : count_parameters(*m))
      stored.push_back({{"component", p.component}, {"dtype", p.dtype}, {"params", p.params}, {"bytes", p.bytes}});
    j["params"]["stored_by_component_and_dtype"] = stored;
    j["params"]["mtp_loaded"] = !m->weights.mtp.empty();
    weight_bytes = m->checkpoint->mapped_bytes();
    j["memory"]["checkpoint_bytes"] = weight_bytes;
  }
  auto kv16 = kv_bytes_per_token(c, 2), kv32 = kv_bytes_per_token(c, 4);
  j["kv_cache_bytes_per_token"] = {
      {"mla_bf16", kv16.mla}, {"mha_equivalent_bf16", kv16.mha},
      {"gqa_equivalent_bf16", kv16.gqa}, {"gqa_kv_heads", kv16.gqa_groups}, {"mla_fp32_cpu_backend", kv32.mla},
      {"note", "MLA caches kv_lora_rank + qk_rope_head_dim values per token per layer; MHA would cache "
               "heads x (qk_head_dim + v_head_dim); GQA the same for 8 KV heads (or all heads if fewer)"}};
  j["memory"]["kv_bf16_per_4096_tokens"] = kv16.mla * 4096;
  j["memory"]["cpu_backend_for_4096_tokens"] = weight_bytes + kv32.mla * 4096;
  if (o.format == "json") {
    fmt::print("{}\n", j.dump(2));
    return;
  }
  const auto& a = j["architecture"];
  fmt::print("model        {} ({})\n", c.source, c.model_type);
  fmt::print("layers       {} ({} dense, {} MoE) + {} MTP; hidden {}; vocab {}\n", c.num_hidden_layers,
             a["dense_layers"].get<int64_t>(), c.num_moe_layers(), c.num_nextn_predict_layers, c.hidden_size,
             c.vocab_size);
  fmt::print("attention    MLA, {} heads, q_lora {}, kv_lora {}, qk {}+{} (nope+rope), v {}, softmax scale {:.7f}\n",
             c.num_attention_heads, c.q_lora_rank, c.kv_lora_rank, c.qk_nope_head_dim, c.qk_rope_head_dim,
             c.v_head_dim, c.softmax_scale());
  fmt::print("rope         theta {}, {} (factor {}, original {}), max positions {}\n", c.rope_theta, c.rope_scaling.type,
             c.rope_scaling.factor, c.rope_scaling.original_max_position_embeddings, c.max_position_embeddings);
  fmt::print("moe          {} routed + {} shared experts, top-{} of {} groups keep {}, {} / {}, scale {}\n",
             c.n_routed_experts, c.n_shared_experts, c.num_experts_per_tok, c.n_group, c.topk_group, c.scoring_func,
             c.topk_method, c.routed_scaling_factor);
  fmt::print("quantization {}\n\n", a["quantization"].get<std::string>());
  fmt::print("{:<28} {:>18}\n", "parameters (config)", "count");
  for (const auto& p : params_from_config(c)) fmt::print("{:<28} {:>18}\n", p.component, grouped(p.params));
  fmt::print("{:<28} {:>18}\n{:<28} {:>18}\n{:<28} {:>18}\n\n", "total (main model)", grouped(total_params(c, false)),
             "total with MTP", grouped(total_params(c, true)), "activated per token", grouped(activated_params(c)));
  if (m) {
    fmt::print("{:<28} {:<8} {:>14} {:>14}\n", "stored (checkpoint)", "dtype", "params", "bytes");
    for (const auto& p : count_parameters(*m))
      fmt::print("{:<28} {:<8} {:>14} {:>14}\n", p.component, p.dtype, grouped(p.params), grouped(p.bytes));
    fmt::print("checkpoint   {} mapped ({} files)\n", human(static_cast<double>(weight_bytes)),
               m->checkpoint->files().size());
  }
  fmt::print("KV per token MLA {} B (BF16) | MHA equivalent {} B ({:.1f}x) | GQA-{} equivalent {} B ({:.1f}x)\n",
             kv16.mla, kv16.mha, static_cast<double>(kv16.mha) / kv16.mla, kv16.gqa_groups, kv16.gqa, static_cast<double>(kv16.gqa) / kv16.mla);
  fmt::print("memory       weights {} + KV {} per 4096 tokens (BF16; the CPU backend keeps FP32: {})\n",
             m ? human(static_cast<double>(weight_bytes)) : std::string("n/a (config only)"), human(static_cast<double>(kv16.mla * 4096)),
             human(static_cast<double>(kv32.mla * 4096)));
}

struct ForwardOptionsCli {
  std::string model, ids, format = "json", backend = "cpu", attention = "absorbed";
  bool all_positions = false;
  int threads = 0;
};

void run_forward(const ForwardOptionsCli& o) {
  auto ids = parse_token_ids(o.ids, "--ids");
  if (ids.empty()) throw InputError("--ids: no token ids");
  auto m = Model::load(o.model, false);
  auto be = make_backend(o.backend, m, {.threads = o.threads});
  be->reset(1, static_cast<int64_t>(ids.size()));
  const auto t0 = std::chrono::steady_clock::now();
  auto out = be->forward({{0, ids}}, {.all_logits = o.all_positions,
                                      .path = o.attention == "naive" ? AttentionPath::Naive : AttentionPath::Absorbed});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int64_t V = m->config.vocab_size;
  const auto& lg = out[0].logits;
  if (o.format == "json") {
    std::string buf = "{\"logits\": [";
    for (int64_t r = 0; r < out[0].rows; ++r) {
      buf += r ? ", [" : "[";
      for (int64_t v = 0; v < V; ++v) {
        if (v) buf += ", ";
        buf += fmt::format("{:.9g}", lg[r * V + v]);
      }
      buf += "]";
    }
    buf += "]}\n";
    fmt::print("{}", buf);
  } else {
    for (int64_t r = 0; r < out[0].rows; ++r) {
      const float* row = lg.data() + r * V;
      int64_t best = std::max_element(row, row + V) - row;
      fmt::print("position {:>5}: argmax {} (logit {:.6f})\n", o.all_positions ? r : static_cast<int64_t>(ids.size()) - 1,
                 best, row[best]);
    }
  }
  fmt::print(stderr, "forward: {} tokens in {:.3f} s ({:.1f} tokens/s, backend {}, {} attention)\n", ids.size(), s,
             ids.size() / s, be->name(), o.attention);
}

const Registrar reg(40, [](CLI::App& root) {
  auto* cmd = root.add_subcommand("model", "DeepSeek-V3 checkpoints: info, forward pass");
  cmd->require_subcommand(1);
  auto io = std::make_shared<InfoOptions>();
  auto* info = cmd->add_subcommand("info", "Architecture, parameters by component and dtype, memory, KV bytes per token");
  info->add_option("--model", io->model, "checkpoint folder (config.json + safetensors) or a config.json")->required();
  info->add_option("--format", io->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  info->callback([io] { run_info(*io); });

  auto fo = std::make_shared<ForwardOptionsCli>();
  auto* fwd = cmd->add_subcommand("forward", "Logits of the last position (or every position) for token ids");
  fwd->add_option("--model", fo->model, "checkpoint folder")->required();
  fwd->add_option("--ids", fo->ids, "token ids, comma separated")->required();
  fwd->add_flag("--all-positions", fo->all_positions, "logits of every position");
  fwd->add_option("--format", fo->format, "json or text")->check(CLI::IsMember({"json", "text"}));
  fwd->add_option("--backend", fo->backend, "cpu or cuda");
  fwd->add_option("--threads", fo->threads, "CPU threads (0: all)");
  fwd->add_option("--attention", fo->attention, "absorbed or naive")->check(CLI::IsMember({"absorbed", "naive"}));
  fwd->callback([fo] { run_forward(*fo); });
});

}  // namespace
}  // namespace dsv3::cli
