"""GPU time per kernel from a LibTorch/PyTorch profiler Chrome trace (dlk-step-bench VARIANT TRACE).
usage: python3 bench/gpu/trace_summary.py TRACE.json [STEPS=3]   -> a Markdown table, most time first"""
import json
import sys

trace, steps = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
events = json.load(open(trace))
events = events.get("traceEvents", []) if isinstance(events, dict) else events
kernels = {}
for e in events:
    if e.get("cat") in ("kernel", "Kernel", "gpu_memcpy", "gpu_memset"):
        k = kernels.setdefault(e.get("name", "?"), [0.0, 0])
        k[0] += float(e.get("dur", 0))
        k[1] += 1
total = sum(v[0] for v in kernels.values()) or 1.0
print(f"GPU time of {steps} training steps by kernel ({total / 1e3:.1f} ms in all):\n")
print("| share | ms per step | launches per step | kernel |\n|---|---|---|---|")
for name, (us, n) in sorted(kernels.items(), key=lambda x: -x[1][0])[:25]:
    print(f"| {100 * us / total:.1f}% | {us / steps / 1e3:.2f} | {n // steps} | {name[:100].replace('|', '/')} |")
