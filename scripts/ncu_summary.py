#!/usr/bin/env python3
"""Where a profiled span's GPU time goes, from Nsight Compute's CSV.

    ncu --clock-control none --profile-from-start off \\
        --metrics gpu__time_duration.sum,dram__bytes_read.sum --csv PROGRAM > span.csv
    python3 scripts/ncu_summary.py span.csv [--top 20]

Prints a markdown table of kernels grouped by name: launches, total and mean duration, and the DRAM
read bandwidth while they ran. ncu runs kernels one at a time with cold caches, so the sum is an
upper bound on the span's real time (no overlap, no warm L2) and small kernels look slower than they
are in a CUDA graph; the ranking is what it is for.
"""
import argparse
import collections
import csv
import re

SCALE = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3, "second": 1e6,
         "byte": 1.0, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "KB": 1e3, "MB": 1e6, "GB": 1e9}


def kernels(path):
    rows = [r for r in csv.reader(open(path)) if len(r) > 5]
    head, data = rows[0], rows[1:]
    col = {name: head.index(name) for name in ("ID", "Kernel Name", "Metric Name", "Metric Unit", "Metric Value")}
    out = collections.OrderedDict()
    for r in data:
        k = out.setdefault(r[col["ID"]], {"name": r[col["Kernel Name"]]})
        value = float(r[col["Metric Value"]].replace(",", ""))
        k[r[col["Metric Name"]]] = value * SCALE.get(r[col["Metric Unit"]], 1.0)
    return list(out.values())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--top", type=int, default=20)
    a = ap.parse_args()
    ks = kernels(a.csv)
    groups = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for k in ks:
        name = re.sub(r"\(.*", "", k["name"]).replace("dsv3::<unnamed>::", "")[:64]
        g = groups[name]
        g[0] += 1
        g[1] += k.get("gpu__time_duration.sum", 0.0)
        g[2] += k.get("dram__bytes_read.sum", 0.0)
    total = sum(g[1] for g in groups.values())
    print(f"{len(ks)} kernels, {total:.0f} us in all (one at a time, cold caches)\n")
    print("| kernel | launches | us | us each | share | DRAM read GB/s |")
    print("|---|---|---|---|---|---|")
    for name, (n, us, b) in sorted(groups.items(), key=lambda x: -x[1][1])[:a.top]:
        bw = b / (us * 1e-6) / 1e9 if us > 0 else 0.0
        print(f"| `{name}` | {n} | {us:.0f} | {us / n:.1f} | {100 * us / total:.1f}% | {bw:.0f} |")


if __name__ == "__main__":
    main()
