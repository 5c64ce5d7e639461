#!/usr/bin/env python3
"""Reads a kernel_trace CSV (bench/cuda/kernel_trace.cpp) and describes the last CUDA graph in it
(one decode step, in DSV3_BENCH_PROFILE mode): its span, each kernel's start, end and duration, and
the time each kernel adds to the span ("newly covered": how far its end reaches past every earlier
kernel's end). Kernels that overlap others (launched early, on side streams) add little; the sum of
"newly covered" is the span. Writes Markdown.

Usage: kernel_timeline.py TRACE.csv [--from US --to US] [--period NAME]
  --from/--to: list the kernels that start in that window of the step (microseconds);
  --period NAME: the spacing of consecutive ends of kernels whose name contains NAME and whose grid
                 is --grid (default any), e.g. one per MoE layer.
"""
import argparse
import collections
import csv
import statistics
import sys


def short(name):
    n = name.replace("(anonymous namespace)::", "").replace("dsv3::model::cuda::", "")
    if n.startswith("void "):
        n = n[5:]
    return n.split("(")[0][:60]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--from", dest="lo", type=float, default=None)
    ap.add_argument("--to", dest="hi", type=float, default=None)
    ap.add_argument("--period", default=None)
    ap.add_argument("--grid", default=None, help="GXxGY of the --period kernel")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.trace)))
    graphs = [r for r in rows if r["graph"] != "0"]
    if not graphs:
        sys.exit(f"{a.trace}: no kernel ran inside a CUDA graph (empty or eager trace)")
    last = max(int(r["graph"]) for r in graphs)
    ks = sorted((r for r in graphs if int(r["graph"]) == last), key=lambda r: int(r["start_ns"]))
    t0 = int(ks[0]["start_ns"])
    span = (max(int(r["end_ns"]) for r in ks) - t0) / 1e3
    print(f"Graph {last}: {len(ks)} kernels, span {span:.1f} us\n")
    reach = t0
    agg = collections.defaultdict(lambda: [0, 0.0, 0.0])
    listed = []
    for r in ks:
        s, e = int(r["start_ns"]), int(r["end_ns"])
        dur = (e - s) / 1e3
        new = max(0, e - max(reach, s)) / 1e3
        reach = max(reach, e)
        key = f"{short(r['name'])} {r['gx']}x{r['gy']}"
        agg[key][0] += 1
        agg[key][1] += dur
        agg[key][2] += new
        if a.lo is not None and a.lo <= (s - t0) / 1e3 < (a.hi if a.hi is not None else 1e18):
            listed.append(f"| {(s - t0) / 1e3:.1f} | {(e - t0) / 1e3:.1f} | {dur:.1f} | {new:.1f} | `{key}` |")
    if listed:
        print("| start us | end us | duration | newly covered | kernel, grid |\n|---|---|---|---|---|")
        print("\n".join(listed) + "\n")
    print("| kernel, grid | launches | sum of durations us | sum newly covered us |\n|---|---|---|---|")
    for k, v in sorted(agg.items(), key=lambda x: -x[1][2]):
        print(f"| `{k}` | {v[0]} | {v[1]:.1f} | {v[2]:.1f} |")
    if a.period:
        ends = [int(r["end_ns"]) for r in ks
                if a.period in r["name"] and (a.grid is None or f"{r['gx']}x{r['gy']}" == a.grid)]
        d = [(y - x) / 1e3 for x, y in zip(ends, ends[1:])]
        if d:
            print(f"\nSpacing of `{a.period}` {a.grid or ''} ends: median {statistics.median(d):.1f} us "
                  f"({', '.join(f'{x:.1f}' for x in d)})")


if __name__ == "__main__":
    main()
