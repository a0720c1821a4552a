#!/usr/bin/env bash
# A DLKUNet training step on this machine's CPU: dlk (dlk-step-bench --cpu: fp32, channels-last as
# dlk-train, dlk's depthwise kernels forward and backward; and NCHW), the same with LibTorch's depthwise convs
# (--depthwise torch), and the Python reference (Debian's python3-torch, NCHW and channels-last),
# side by side in one run, and where scripts/check made pip's PyTorch 2.x environment, the same
# reference in PyTorch 2.x eager and torch.compile (channels-last) and dlk built with LibTorch 2.x
# (build-torch2/). Batch 4 of random 1x224x224, 9 classes, 0.5 CE + 0.5 Dice, Adam; the median of
# 3 steps after 1 (which compiles). Then the operator profile of one dlk step.
# usage: bash bench/train/cpu.sh [VARIANT=S]   (after the build; about 5 minutes for S)
set -euo pipefail
cd "$(dirname "$0")/../.."
V=${1:-S}
T=$(mktemp -d /tmp/dlk-bench-train.XXXXXX)
trap 'rm -rf "$T"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; date: $(date -u); commit $(git rev-parse --short HEAD)"
build/dlk-step-bench "$V" --cpu >"$T/dlk.json"
build/dlk-step-bench "$V" --cpu --nchw >"$T/dlk-nchw.json"
build/dlk-step-bench "$V" --cpu --depthwise torch >"$T/torch.json"
/usr/bin/python3 bench/reference/train_bench.py --cpu --variants "$V" --modes fp32 fp32+cl --steps 3 >"$T/python.jsonl"
VENV=${DLK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dlk}/torch-${TORCH_VERSION:-2.11.0}
: >"$T/dlk2.json"
if [ -x build-torch2/dlk-step-bench ]; then build-torch2/dlk-step-bench "$V" --cpu >"$T/dlk2.json"; fi
if [ -x "$VENV/bin/python" ]; then
  "$VENV/bin/python" bench/reference/train_bench.py --cpu --variants "$V" --modes fp32+cl fp32+cl+compile --steps 3 >>"$T/python.jsonl"
fi
/usr/bin/python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
rows = [("dlk-step-bench --cpu (dlk's depthwise kernels, channels-last)", json.load(open(f"{t}/dlk.json"))),
        ("the same, --nchw", json.load(open(f"{t}/dlk-nchw.json"))),
        ("the same (channels-last), --depthwise torch (LibTorch's)", json.load(open(f"{t}/torch.json")))]
if open(f"{t}/dlk2.json").read().strip():
    rows.append(("dlk-step-bench --cpu, LibTorch 2.x build", json.load(open(f"{t}/dlk2.json"))))
rows += [(f"Python reference, torch {r['torch'].split('+')[0]}, {r['mode']}", r) for r in map(json.loads, open(f"{t}/python.jsonl"))]
base = rows[0][1]["train_ms_per_step"]
print(f"\n| DLKUNet-{rows[0][1]['variant']}, batch {rows[0][1]['batch']}, 224x224 | ms per step | img/s | dlk's speed-up |\n|---|---|---|---|")
for name, r in rows:
    print(f"| {name} | {r['train_ms_per_step']:.0f} | {r['train_img_per_s']:.2f} | {r['train_ms_per_step'] / base:.2f}x |")
PY
build/dlk-step-bench "$V" "$T/trace.json" --cpu >/dev/null
echo
/usr/bin/python3 bench/gpu/trace_summary.py "$T/trace.json" 1 | sed -n 1,14p
