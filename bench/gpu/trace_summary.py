"""Where a training step's time goes, from a LibTorch/PyTorch profiler Chrome trace
(dlk-step-bench VARIANT TRACE [--cpu]): GPU time per kernel, or, for a CPU trace (no GPU kernels
in it), CPU time per operator, self time only (an operator's time less that of the operators it
called), so that nothing counts twice.
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
what = "GPU time"
if not kernels:  # a CPU trace: self time of each operator, nesting taken per thread
    what = "CPU self time"
    spans = sorted((float(e["ts"]), float(e.get("dur", 0)), e.get("tid"), e.get("name", "?"))
                   for e in events if e.get("ph") == "X")
    stacks = {}
    for ts, dur, tid, name in spans:
        stack = stacks.setdefault(tid, [])
        while stack and stack[-1][0] + stack[-1][1] <= ts:
            stack.pop()
        k = kernels.setdefault(name, [0.0, 0])
        k[0] += dur
        k[1] += 1
        if stack:  # the caller's self time loses this span
            kernels[stack[-1][2]][0] -= dur
        stack.append((ts, dur, name))
total = sum(v[0] for v in kernels.values()) or 1.0
print(f"{what} of {steps} training step(s) by {'kernel' if what == 'GPU time' else 'operator'} ({total / 1e3:.1f} ms in all):\n")
print("| share | ms per step | calls per step | name |\n|---|---|---|---|")
for name, (us, n) in sorted(kernels.items(), key=lambda x: -x[1][0])[:25]:
    print(f"| {100 * us / total:.1f}% | {us / steps / 1e3:.2f} | {n // steps} | {name[:100].replace('|', '/')} |")
