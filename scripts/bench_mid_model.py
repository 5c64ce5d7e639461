#!/usr/bin/env python3
"""The "mid" DeepSeek-V3-shaped model for the CUDA backend's end-to-end benchmark: random BF16
weights generated on the GPU with torch (seeded), written in the released checkpoint layout
(config.json + model-*.safetensors + index), and HF transformers' DeepseekV3ForCausalLM timed on
the same checkpoint (the baseline next to dsv3's numbers).

    python3 scripts/bench_mid_model.py OUTDIR [--skip-hf]

Prints one JSON object (HF tok/s: decode at batch 1/16/64 after a 128-token prompt for 64 new
tokens, prefill of 2048 tokens) and writes it to OUTDIR/hf_bench.json."""
import argparse
import json
import os
import time

import torch

torch.set_grad_enabled(False)

MID = {
    "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "vocab_size": 129280,
    "hidden_size": 2048, "intermediate_size": 10944, "moe_intermediate_size": 1408, "num_hidden_layers": 12,
    "num_attention_heads": 16, "num_key_value_heads": 16, "n_shared_experts": 2, "n_routed_experts": 64,
    "num_experts_per_tok": 6, "n_group": 8, "topk_group": 4, "first_k_dense_replace": 1, "moe_layer_freq": 1,
    "routed_scaling_factor": 2.5, "scoring_func": "sigmoid", "topk_method": "noaux_tc", "norm_topk_prob": True,
    "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
    "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "max_position_embeddings": 163840,
    "rope_scaling": {"type": "yarn", "factor": 40.0, "original_max_position_embeddings": 4096, "beta_fast": 32.0,
                     "beta_slow": 1.0, "mscale": 1.0, "mscale_all_dim": 1.0},
    "hidden_act": "silu", "attention_bias": False, "tie_word_embeddings": False, "num_nextn_predict_layers": 0,
    "bos_token_id": 0, "eos_token_id": 1, "torch_dtype": "bfloat16",
}


def make_weights(c, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    H, nh = c["hidden_size"], c["num_attention_heads"]
    qk = c["qk_nope_head_dim"] + c["qk_rope_head_dim"]

    def lin(out, inp):
        return (torch.randn(out, inp, device="cuda", generator=g) / inp ** 0.5).to(torch.bfloat16)

    def norm(n):
        return (1.0 + 0.1 * torch.randn(n, device="cuda", generator=g)).to(torch.bfloat16)

    w = {"model.embed_tokens.weight": torch.randn(c["vocab_size"], H, device="cuda", generator=g).to(torch.bfloat16),
         "model.norm.weight": norm(H), "lm_head.weight": lin(c["vocab_size"], H)}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm(H)
        w[p + "post_attention_layernorm.weight"] = norm(H)
        w[p + "self_attn.q_a_proj.weight"] = lin(c["q_lora_rank"], H)
        w[p + "self_attn.q_a_layernorm.weight"] = norm(c["q_lora_rank"])
        w[p + "self_attn.q_b_proj.weight"] = lin(nh * qk, c["q_lora_rank"])
        w[p + "self_attn.kv_a_proj_with_mqa.weight"] = lin(c["kv_lora_rank"] + c["qk_rope_head_dim"], H)
        w[p + "self_attn.kv_a_layernorm.weight"] = norm(c["kv_lora_rank"])
        w[p + "self_attn.kv_b_proj.weight"] = lin(nh * (c["qk_nope_head_dim"] + c["v_head_dim"]), c["kv_lora_rank"])
        w[p + "self_attn.o_proj.weight"] = lin(H, nh * c["v_head_dim"])
        if i < c["first_k_dense_replace"]:
            I = c["intermediate_size"]
            w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"], w[p + "mlp.down_proj.weight"] = \
                lin(I, H), lin(I, H), lin(H, I)
        else:
            E, I = c["n_routed_experts"], c["moe_intermediate_size"]
            w[p + "mlp.gate.weight"] = lin(E, H)
            w[p + "mlp.gate.e_score_correction_bias"] = 0.01 * torch.randn(E, device="cuda", generator=g)
            for e in range(E):
                q = p + f"mlp.experts.{e}."
                w[q + "gate_proj.weight"], w[q + "up_proj.weight"], w[q + "down_proj.weight"] = \
                    lin(I, H), lin(I, H), lin(H, I)
            Is = I * c["n_shared_experts"]
            w[p + "mlp.shared_experts.gate_proj.weight"] = lin(Is, H)
            w[p + "mlp.shared_experts.up_proj.weight"] = lin(Is, H)
            w[p + "mlp.shared_experts.down_proj.weight"] = lin(H, Is)
    return w


def save(d, c, w, shard_bytes=4 << 30):
    from safetensors.torch import save_file
    os.makedirs(d, exist_ok=True)
    json.dump(c, open(os.path.join(d, "config.json"), "w"), indent=2)
    names = list(w)
    shards, cur, size = [], [], 0
    for n in names:
        b = w[n].numel() * w[n].element_size()
        if cur and size + b > shard_bytes:
            shards.append(cur)
            cur, size = [], 0
        cur.append(n)
        size += b
    shards.append(cur)
    wm = {}
    for k, part in enumerate(shards):
        fn = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file({n: w[n].contiguous().cpu() for n in part}, os.path.join(d, fn), metadata={"format": "pt"})
        for n in part:
            wm[n] = fn
    total = sum(t.numel() * t.element_size() for t in w.values())
    json.dump({"metadata": {"total_size": total}, "weight_map": wm}, open(os.path.join(d, "model.safetensors.index.json"), "w"))
    return sum(t.numel() for t in w.values())


def sync_time(f):
    torch.cuda.synchronize()
    t = time.perf_counter()
    r = f()
    torch.cuda.synchronize()
    return time.perf_counter() - t, r


def hf_bench(d, out):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.bfloat16, device_map="cuda")
    model.eval()
    V = model.config.vocab_size
    g = torch.Generator(device="cuda").manual_seed(1)
    res = {}

    def gen(B, n):
        ids = torch.randint(2, V, (B, 128), device="cuda", generator=g)
        return model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n,
                              do_sample=False, pad_token_id=0)
    gen(1, 4)  # warm-up
    for B in (1, 16, 64):
        t1, _ = sync_time(lambda: gen(B, 1))
        t64, _ = sync_time(lambda: gen(B, 64))
        res[f"decode_b{B}_tok_s"] = B * 63 / (t64 - t1)
        res[f"decode_b{B}_ms_per_step"] = (t64 - t1) / 63 * 1e3
    ids = torch.randint(2, V, (1, 2048), device="cuda", generator=g)
    model(ids)
    # The median of five timed forwards (single ones varied from 52k to 73k tok/s between runs).
    times = sorted(sync_time(lambda: model(ids))[0] for _ in range(5))
    res["prefill_2048_tok_s"] = 2048 / times[2]
    res["prefill_2048_tok_s_all"] = [2048 / t for t in times]
    res["hf"] = {"transformers": __import__("transformers").__version__, "torch": torch.__version__}
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--skip-hf", action="store_true")
    a = ap.parse_args()
    t0 = time.time()
    w = make_weights(MID)
    n = save(a.outdir, MID, w)
    del w
    torch.cuda.empty_cache()
    res = {"params": n, "write_s": time.time() - t0}
    if not a.skip_hf:
        res.update(hf_bench(a.outdir, res))
    print(json.dumps(res))
    json.dump(res, open(os.path.join(a.outdir, "hf_bench.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
