#!/usr/bin/env bash
# The model alone, dlk against the Python reference, measured the same way on the same card:
# bench/reference/train_bench.py (bf16 + channels-last) and dlk-step-bench (bf16;
# NCHW with dlk's kernels), both with cuDNN's algorithm search on: batch 24 of random
# 1x224x224, 0.5 CE + 0.5 Dice, Adam, median of 20 steps; forward of 64 slices. Then a LibTorch
# profiler trace of 3 dlk training steps of the last variant, summed per GPU kernel.
# usage (GPU machine, after the build): VARIANTS="S M L" bash bench/gpu/step.sh [OUTDIR]
set -uo pipefail
O=${1:-${OUT:-/tmp/dlk-step}}
mkdir -p "$O"
VARIANTS=${VARIANTS:-S M L}
for v in $VARIANTS; do
  timeout 200 python3 bench/reference/train_bench.py --variants "$v" --modes bf16+cl --cudnn-benchmark --steps "${STEPS:-20}" | tee -a "$O/step.jsonl"
  timeout 120 build-gpu/dlk-step-bench "$v" "$O/trace-$v.json" | sed 's/^{/{"tool": "dlk", /' | tee -a "$O/step.jsonl"
done
python3 - "$O" <<'PY'
import glob, json, os, sys
o = sys.argv[1]
rows = [json.loads(l) for l in open(os.path.join(o, "step.jsonl")) if l.startswith("{")]
print("| variant | tool | train ms/step | img/s | infer slices/s | peak GiB |\n|---|---|---|---|---|---|")
for r in rows:
    tool = "dlk-step-bench (dlk kernels, bf16)" if r.get("tool") == "dlk" else f"Python {r['mode']}, cudnn.benchmark"
    print(f"| {r['variant']} | {tool} | {r['train_ms_per_step']} | {r['train_img_per_s']} | {r['infer_slices_per_s']} | {r['peak_gib']} |")
for t in sorted(glob.glob(os.path.join(o, "trace-*.json")))[-1:]:
    ev = json.load(open(t)).get("traceEvents", [])
    k = {}
    for e in ev:
        if e.get("cat") in ("kernel", "Kernel", "gpu_memcpy", "gpu_memset"):
            n = e.get("name", "?")
            k.setdefault(n, [0.0, 0])
            k[n][0] += float(e.get("dur", 0)); k[n][1] += 1
    total = sum(v[0] for v in k.values()) or 1
    print(f"\nGPU time of 3 training steps by kernel ({os.path.basename(t)}; {total / 1e3:.1f} ms in all):\n")
    print("| share | ms per step | launches per step | kernel |\n|---|---|---|---|")
    for n, (d, c) in sorted(k.items(), key=lambda x: -x[1][0])[:22]:
        print(f"| {100 * d / total:.1f}% | {d / 3e3:.2f} | {c // 3} | {n[:100].replace('|', '/')} |")
PY
