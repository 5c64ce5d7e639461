#!/usr/bin/env python3
"""BF16-compute references for the HF fixtures (tests/data/models/<name>): HF transformers'
DeepseekV3ForCausalLM run in bfloat16 on a GPU, the dtype a BF16 inference backend computes in.

The fixtures' golden logits (golden.safetensors) come from FP32 compute. On these tiny random
models a BF16 forward can route a token to a different expert (sigmoid scores a few 1e-3 apart),
so a BF16 backend is measured against both: this file's logits and greedy continuations, and the
FP32 golden with the distance HF's own BF16 forward has to it (stored here as rel_vs_fp32).

Writes, per fixture, golden_bf16.safetensors (seq<k>.logits, F32 [len, vocab]) and
golden_bf16.json (sequences, greedy continuations with the top-1 minus top-2 logit margin of each
step, per-sequence relative distance to the FP32 golden, versions). FP8 checkpoints are dequantized by their 128x128 weight_scale_inv first (the
golden's recipe), then cast to BF16.

Usage: python3 scripts/hf_bf16_reference.py OUT_DIR [FIXTURE_DIR ...]
"""
import json
import os
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file

GREEDY_NEW = 12


def dequantized_copy(d):
    """A checkpoint directory with the FP8 weights of d dequantized to F32 (and no quantization)."""
    cfg = json.load(open(os.path.join(d, "config.json")))
    cfg.pop("quantization_config", None)
    tensors = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors") and f.startswith("model"):
            tensors.update(load_file(os.path.join(d, f)))
    out = {}
    for k, v in tensors.items():
        if k.endswith(".weight_scale_inv"):
            continue
        s = tensors.get(k + "_scale_inv") if k.endswith(".weight") else None
        if v.dtype == torch.float8_e4m3fn and s is not None:
            r, c = v.shape
            full = s.float().repeat_interleave(128, 0).repeat_interleave(128, 1)[:r, :c]
            v = v.float() * full
        out[k] = v.contiguous()
    tmp = tempfile.mkdtemp()
    json.dump(cfg, open(os.path.join(tmp, "config.json"), "w"))
    save_file(out, os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
    return tmp


def main():
    import transformers
    from transformers import AutoModelForCausalLM

    out_root = sys.argv[1]
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = sys.argv[2:] or [os.path.join(here, "tests/data/models", n) for n in ("tiny-bf16", "tiny-fp8")]
    for d in dirs:
        name = os.path.basename(os.path.normpath(d))
        meta = json.load(open(os.path.join(d, "golden.json")))
        golden = load_file(os.path.join(d, "golden.safetensors"))
        src = dequantized_copy(d) if meta.get("fp8") else d
        model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.bfloat16, attn_implementation="eager").cuda()
        model.eval()
        res = {"name": name, "compute": "HF DeepseekV3ForCausalLM, bfloat16, eager attention, CUDA",
               "transformers": transformers.__version__, "torch": torch.__version__,
               "device": torch.cuda.get_device_name(0), "sequences": meta["sequences"], "greedy": [], "greedy_margin": [],
               "rel_vs_fp32": [], "greedy_fp32": meta.get("greedy")}
        tensors = {}
        with torch.no_grad():
            for k, ids in enumerate(meta["sequences"]):
                logits = model(torch.tensor([ids], device="cuda")).logits[0].float().cpu()
                tensors[f"seq{k}.logits"] = logits.contiguous()
                ref = golden[f"seq{k}.logits"]
                res["rel_vs_fp32"].append(float((logits - ref).norm() / ref.norm()))
                seq = list(ids)
                margins = []
                for _ in range(GREEDY_NEW):
                    lg = model(torch.tensor([seq], device="cuda")).logits[0, -1].float()
                    top = torch.topk(lg, 2).values
                    margins.append(float(top[0] - top[1]))
                    seq.append(int(torch.argmax(lg).item()))
                res["greedy"].append(seq[len(ids):])
                res["greedy_margin"].append(margins)
        od = os.path.join(out_root, name)
        os.makedirs(od, exist_ok=True)
        save_file(tensors, os.path.join(od, "golden_bf16.safetensors"), metadata={"format": "pt"})
        json.dump(res, open(os.path.join(od, "golden_bf16.json"), "w"), indent=1)
        print(name, "rel_vs_fp32", [round(x, 4) for x in res["rel_vs_fp32"]],
              "greedy == fp32 greedy:", [a == b for a, b in zip(res["greedy"], res["greedy_fp32"] or [])], flush=True)
        del model
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
