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
import json, os, sys
o = sys.argv[1]
rows = [json.loads(l) for l in open(os.path.join(o, "step.jsonl")) if l.startswith("{")]
print("| variant | tool | train ms/step | img/s | infer slices/s | peak GiB |\n|---|---|---|---|---|---|")
for r in rows:
    tool = "dlk-step-bench (dlk kernels, bf16)" if r.get("tool") == "dlk" else f"Python {r['mode']}, cudnn.benchmark"
    print(f"| {r['variant']} | {tool} | {r['train_ms_per_step']} | {r['train_img_per_s']} | {r['infer_slices_per_s']} | {r['peak_gib']} |")
PY
for v in $VARIANTS; do last=$v; done
[ -f "$O/trace-$last.json" ] && echo && python3 bench/gpu/trace_summary.py "$O/trace-$last.json"
