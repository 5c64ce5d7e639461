#!/usr/bin/env python3
"""Tabulates cuda_kernels_bench JSON outputs (Google Benchmark format) as Markdown; the GEMM table
also as CSV (--csv FILE). Only the standard library."""
import argparse
import json
import re
import sys

VARIANTS = {0: "fp8_block", 1: "fp8_tensor", 2: "fp8_tensor_fastacc", 3: "bf16", 4: "fp8_block_cublaslt",
            5: "fp8_block_own"}


def args_of(name):
    return {k: int(v) for k, v in re.findall(r"(\w+):(\d+)", name)}


def table(columns, rows):
    """Prints a Markdown table and a blank line."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--csv")
    ap.add_argument("--merged", help="write all runs into one Google Benchmark JSON file")
    ap.add_argument("--hf", help="hf_bench.json of scripts/bench_mid_model.py (HF baseline, same model)")
    a = ap.parse_args()
    runs = []
    ctx = None
    for f in a.files:
        try:
            d = json.load(open(f))
        except (OSError, ValueError) as e:
            print(f"<!-- {f}: {e} -->")
            continue
        ctx = ctx or d.get("context")
        runs += [b for b in d.get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"]
    if a.merged:
        with open(a.merged, "w") as f:
            json.dump({"context": ctx, "benchmarks": runs}, f, indent=1)
    by = {}
    for b in runs:
        by.setdefault(b["name"].split("/")[0], []).append(b)
    copy_gbps = None
    if "BM_CopyBandwidth" in by:
        copy_gbps = by["BM_CopyBandwidth"][0]["GBps"]
        print(f"Device-to-device copy: {copy_gbps:.0f} GB/s (bytes read + written, 2 GiB buffer)\n")

    gemm = {}
    for b in by.get("BM_Gemm", []):
        if b.get("error_occurred"):
            continue
        p = args_of(b["name"])
        gemm[(p["M"], p["N"], p["K"], p["variant"])] = b
    if gemm:
        shapes = sorted({k[:3] for k in gemm}, key=lambda s: (s[0], [2112, 24576, 32768, 7168, 4096].index(s[1]) if s[1] in [2112, 24576, 32768, 7168, 4096] else 9, s[2]))
        print("FP8 block-scaled: what the model runs (the faster of cuBLASLt and our kernel, timed at the first call);"
              " the two sides forced in their own columns. Rows without per-tensor numbers are decode sizes.\n")
        print("| M | N | K | FP8 block-scaled TFLOPS | FP8 per-tensor | FP8 per-tensor fast-acc | BF16 | block / per-tensor |"
              " block cuBLASLt | block own kernel | own GB/s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        rows = []
        for s in shapes:
            t = [gemm.get(s + (v,), {}).get("TFLOPS") for v in range(6)]
            ratio = f"{t[0] / t[1] * 100:.0f}%" if t[0] and t[1] else "-"
            gbs = gemm.get(s + (5,), {}).get("GBps")
            fmt = lambda x: f"{x:.0f}" if x else "-"
            print(f"| {s[0]} | {s[1]} | {s[2]} | {fmt(t[0])} | {fmt(t[1])} | {fmt(t[2])} | {fmt(t[3])} | {ratio} |"
                  f" {fmt(t[4])} | {fmt(t[5])} | {fmt(gbs)} |")
            rows.append((s, t))
        print()
        if a.csv:
            with open(a.csv, "w") as f:
                f.write("M,N,K,fp8_block_tflops,fp8_tensor_tflops,fp8_tensor_fastacc_tflops,bf16_tflops,"
                        "fp8_block_cublaslt_tflops,fp8_block_own_tflops\n")
                for s, t in rows:
                    f.write(",".join(str(x) for x in s) + "," + ",".join(f"{x:.1f}" if x else "" for x in t) + "\n")

    ok = lambda name: [b for b in by.get(name, []) if not b.get("error_occurred")]
    if "BM_ActQuant" in by:
        table(["act quant M", "K", "us", "GB/s"],
              ([args_of(b["name"])["M"], args_of(b["name"])["K"], f"{b['us']:.1f}", f"{b['GBps']:.0f}"]
               for b in ok("BM_ActQuant")))
    if "BM_MlaDecode" in by:
        def mla_row(b):
            p = args_of(b["name"])
            pct = f"{b['GBps'] / copy_gbps * 100:.0f}%" if copy_gbps else "-"
            return [p["batch"], p["ctx"], p["heads"], f"{b['splits']:.0f}", f"{b['us']:.1f}", f"{b['GBps']:.0f}", pct,
                    f"{b['TFLOPS']:.0f}"]
        table(["MLA decode batch", "context", "heads", "splits", "us", "GB/s", "% of copy", "TFLOPS"],
              map(mla_row, ok("BM_MlaDecode")))
    if "BM_MlaPrefill" in by:
        table(["MLA prefill tokens", "heads", "us", "TFLOPS (causal)"],
              ([args_of(b["name"])["T"], args_of(b["name"])["heads"], f"{b['us']:.1f}", f"{b['TFLOPS']:.0f}"]
               for b in ok("BM_MlaPrefill")))
    if "BM_MoeRouted" in by:
        def moe_row(b):
            p = args_of(b["name"])
            model = "V3 shapes, FP8 (256 experts, top-8, 7168x2048)" if p["v3fp8"] else "mid, BF16 (64 experts, top-6, 2048x1408)"
            return [p["T"], model, f"{b['us']:.1f}", f"{b['TFLOPS']:.1f}"]
        table(["routed experts tokens", "model", "us", "TFLOPS"], map(moe_row, ok("BM_MoeRouted")))
    hf = {}
    if a.hf:
        try:
            hf = json.load(open(a.hf))
        except (OSError, ValueError) as e:
            print(f"<!-- {a.hf}: {e} -->")
    if "BM_Decode" in by or "BM_Prefill" in by:
        print("| mid model | dsv3 CUDA tok/s | HBM roofline tok/s | % of roofline | GB per step | HF transformers tok/s | dsv3 / HF |")
        print("|---|---|---|---|---|---|---|")
        for b in by.get("BM_Decode", []):
            B = args_of(b["name"])["batch"]
            h = hf.get(f"decode_b{B}_tok_s")
            ratio = f"{b['tok_s'] / h:.1f}x" if h else "-"
            hs = f"{h:.1f}" if h else "-"
            print(f"| decode batch {B} (128-token prompt, 64 new) | {b['tok_s']:.0f} | {b['roofline_tok_s']:.0f} | {b['pct_roofline']:.0f}% | {b['GB_per_step']:.2f} | {hs} | {ratio} |")
        for b in by.get("BM_Prefill", []):
            T = args_of(b["name"])["tokens"]
            h = hf.get(f"prefill_{T}_tok_s")
            ratio = f"{b['tok_s'] / h:.1f}x" if h else "-"
            hs = f"{h:.0f}" if h else "-"
            print(f"| prefill {T} tokens | {b['tok_s']:.0f} | - | - | - | {hs} | {ratio} |")
        cb = next((b.get("copy_GBps") for b in by.get("BM_Decode", [])), None)
        if cb:
            print(f"\nRoofline: bytes a decode step must read / measured copy bandwidth {cb:.0f} GB/s.")
        print()
    if ctx:
        print(f"<!-- host {ctx.get('host_name')}, {ctx.get('date')}, library build {ctx.get('library_build_type')} -->")


if __name__ == "__main__":
    sys.exit(main())
